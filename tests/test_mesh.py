"""mesh: App Mesh specs and their checks, the builders, the readable view, the Mermaid
drawing and the teardown plan, against the embedded AWS (through boto3 only)."""
from __future__ import annotations

import pytest

from mylearning import identity, lookup, mesh
from mylearning.mesh import MeshSpecError, NotCourseResource

LAB = "06"
V1, V2, ENROLL = "courses-api-v1", "courses-api-v2", "enrollment"
ROUTER, ROUTE, GATEWAY = "courses-api-router", "courses", "ingress"
CERT = ("/keys/courses-api_cert_chain.pem", "/keys/courses-api_key.pem")
CA = "/keys/ca_cert.pem"


def build(session) -> dict:
    """MyLearning's mesh in small: a gateway -> courses-api (a router sending 90/10 to v1 and
    v2) and enrollment (a node provider), enrollment calling courses-api over mutual TLS. v1's
    listener wants mutual TLS, v2's is plain text."""
    name = mesh.mesh_name(session)
    courses = mesh.virtual_service_name(session, "courses-api")
    enrollment = mesh.virtual_service_name(session, "enrollment")
    namespace = courses.split(".", 1)[1]
    made = {"mesh": mesh.ensure_mesh(session, LAB, name)}
    made["v1"] = mesh.ensure_virtual_node(
        session, LAB, name, V1, discovery=mesh.cloud_map(namespace, "courses-api", {"version": "v1"}),
        health_check="/health", tls=mesh.listener_tls(CERT, trust=CA))
    made["v2"] = mesh.ensure_virtual_node(
        session, LAB, name, V2, discovery=mesh.cloud_map(namespace, "courses-api", {"version": "v2"}))
    made["router"] = mesh.ensure_virtual_router(session, LAB, name, ROUTER)
    made["route"] = mesh.ensure_route(session, LAB, name, ROUTER, ROUTE, {V1: 90, V2: 10},
                                      retry_policy=mesh.retry_policy(3, 2), timeout=15)
    made["courses"] = mesh.ensure_virtual_service(session, LAB, name, courses, provider_router=ROUTER)
    made["enrollment"] = mesh.ensure_virtual_node(
        session, LAB, name, ENROLL, discovery=(namespace, "enrollment"), backends=[courses],
        client_policy=mesh.client_policy(CA, certificate=CERT))
    made["enrollment-service"] = mesh.ensure_virtual_service(session, LAB, name, enrollment, provider_node=ENROLL)
    made["gateway"] = mesh.ensure_virtual_gateway(session, LAB, name, GATEWAY, client_policy=mesh.client_policy(CA))
    made["gateway-route"] = mesh.ensure_gateway_route(session, LAB, name, GATEWAY, "courses", courses,
                                                      prefix="/api/courses", keep_prefix=True)
    return made


# ---------------------------------------------------------------- builders

def test_builders_create_once_and_tag_what_they_create(session):
    first = build(session)
    again = build(session)
    for key, resource in first.items():
        assert again[key]["metadata"]["uid"] == resource["metadata"]["uid"], key
        assert again[key]["metadata"]["version"] == resource["metadata"]["version"], f"{key} was changed"
        assert lookup.is_course_tagged(again[key], session, LAB), key
    am = session.client("appmesh")
    name = mesh.mesh_name(session)
    assert name == f"{session.prefix}-mesh"
    assert [r["routeName"] for r in am.list_routes(meshName=name, virtualRouterName=ROUTER)["routes"]] == [ROUTE]
    for resource in first.values():  # the tags as the API keeps them, not as the builder said
        tags = {t["key"]: t["value"] for t in lookup.appmesh_tags(am, resource["metadata"]["arn"])}
        assert tags == {identity.TAG_COURSE: identity.COURSE, identity.TAG_LAB: LAB,
                        identity.TAG_LEARNER: session.learner}
    described = am.describe_virtual_node(meshName=name, virtualNodeName=ENROLL)["virtualNode"]["spec"]
    assert described["backends"] == [{"virtualService": {
        "virtualServiceName": f"courses-api.{session.prefix}.internal"}}]
    assert described["logging"] == {"accessLog": {"file": {"path": "/dev/stdout"}}}


def test_an_existing_resource_changes_only_when_asked(session):
    build(session)
    name = mesh.mesh_name(session)
    kept = mesh.ensure_virtual_node(session, LAB, name, V2, port=9090, discovery="v2.example.internal")
    assert kept["spec"]["listeners"][0]["portMapping"]["port"] == 8080 and kept["metadata"]["version"] == 1
    changed = mesh.ensure_virtual_node(session, LAB, name, V2, port=8080, discovery="v2.example.internal",
                                       update=True)
    assert changed["metadata"]["version"] == 2
    assert changed["spec"]["serviceDiscovery"] == {"dns": {"hostname": "v2.example.internal"}}
    assert lookup.is_course_tagged(changed, session, LAB)
    same = mesh.ensure_virtual_node(session, LAB, name, V2, discovery="v2.example.internal", update=True)
    assert same["metadata"]["version"] == 2, "an update that changes nothing is not sent"


def test_set_weights_moves_traffic_and_keeps_the_rest_of_the_route(session):
    build(session)
    name = mesh.mesh_name(session)
    before = session.client("appmesh").describe_route(
        meshName=name, virtualRouterName=ROUTER, routeName=ROUTE)["route"]
    moved = mesh.set_weights(session, name, ROUTER, ROUTE, {V1: 50, V2: 50})
    assert moved["metadata"]["version"] == before["metadata"]["version"] + 1
    after = session.client("appmesh").describe_route(
        meshName=name, virtualRouterName=ROUTER, routeName=ROUTE)["route"]["spec"]["httpRoute"]
    assert after["action"]["weightedTargets"] == [{"virtualNode": V1, "weight": 50}, {"virtualNode": V2, "weight": 50}]
    assert after["retryPolicy"] == before["spec"]["httpRoute"]["retryPolicy"]
    assert after["match"] == {"prefix": "/"} and after["timeout"] == {"perRequest": {"unit": "s", "value": 15}}
    # weights are relative: 3 to 1 is 75% and 25%
    mesh.set_weights(session, name, ROUTER, ROUTE, {V1: 3, V2: 1})
    assert mesh.describe(session, name).weights(ROUTER) == {V1: 75.0, V2: 25.0}
    with pytest.raises(MeshSpecError, match="add up to 110"):
        mesh.set_weights(session, name, ROUTER, ROUTE, {V1: 60, V2: 50})
    with pytest.raises(LookupError, match="no route canary"):
        mesh.set_weights(session, name, ROUTER, "canary", {V1: 100})


def test_set_egress_filter(session):
    name = mesh.mesh_name(session)
    created = mesh.ensure_mesh(session, LAB, name)
    assert created["spec"]["egressFilter"] == {"type": "DROP_ALL"}
    opened = mesh.set_egress_filter(session, name, "ALLOW_ALL")
    assert session.client("appmesh").describe_mesh(meshName=name)["mesh"]["spec"]["egressFilter"] == \
        {"type": "ALLOW_ALL"}
    assert mesh.set_egress_filter(session, name, "ALLOW_ALL")["metadata"]["version"] == opened["metadata"]["version"]
    assert mesh.describe(session, name).egress == "ALLOW_ALL"
    with pytest.raises(MeshSpecError, match="ALLOW_ALL, DROP_ALL"):
        mesh.set_egress_filter(session, name, "DENY_ALL")


def test_a_same_named_resource_the_course_did_not_make_is_left_alone(session):
    am = session.client("appmesh")
    name = mesh.mesh_name(session)
    before = am.create_mesh(meshName=name)["mesh"]  # no course tags
    with pytest.raises(NotCourseResource, match="did not make it"):
        mesh.ensure_mesh(session, LAB, name)
    with pytest.raises(NotCourseResource):
        mesh.set_egress_filter(session, name, "ALLOW_ALL")
    after = am.describe_mesh(meshName=name)["mesh"]
    assert (after["spec"], after["metadata"]["version"]) == (before["spec"], before["metadata"]["version"])


def test_bad_input_is_refused_before_any_call(session):
    name = mesh.mesh_name(session)
    mesh.ensure_mesh(session, LAB, name)
    mesh.ensure_virtual_node(session, LAB, name, V1, discovery="v1.local")
    mesh.ensure_virtual_router(session, LAB, name, ROUTER)
    with pytest.raises(MeshSpecError, match="API_WeightedTarget.html"):
        mesh.ensure_route(session, LAB, name, ROUTER, ROUTE, {V1: 150})
    with pytest.raises(MeshSpecError, match="udp"):
        mesh.ensure_virtual_router(session, LAB, name, "other-router", protocol="udp")
    am = session.client("appmesh")
    assert am.list_routes(meshName=name, virtualRouterName=ROUTER)["routes"] == []
    assert [r["virtualRouterName"] for r in am.list_virtual_routers(meshName=name)["virtualRouters"]] == [ROUTER]


def test_what_the_checks_let_through_app_mesh_accepts(session):
    """The edges of the documented ranges are allowed, and App Mesh takes them."""
    name = mesh.mesh_name(session)
    mesh.ensure_mesh(session, LAB, name)
    for node in (V1, V2):
        mesh.ensure_virtual_node(session, LAB, name, node, discovery=f"{node}.local",
                                 health_check=mesh.health_check(interval_ms=300000, timeout_ms=60000,
                                                                healthy_threshold=10, unhealthy_threshold=2))
    mesh.ensure_virtual_router(session, LAB, name, ROUTER)
    route = mesh.ensure_route(session, LAB, name, ROUTER, "edges", {V1: 0, V2: 100}, priority=1000,
                              headers={"x-canary": "true"}, timeout=0.25)
    spec = route["spec"]
    assert spec["priority"] == 1000
    assert spec["httpRoute"]["timeout"] == {"perRequest": {"unit": "ms", "value": 250}}
    assert spec["httpRoute"]["match"]["headers"] == [{"name": "x-canary", "match": {"exact": "true"}}]
    mesh.ensure_route(session, LAB, name, ROUTER, "first", {V1: 30, V2: 20}, priority=0, prefix="/api")
    assert mesh.describe(session, name).weights(ROUTER, "first") == {V1: 60.0, V2: 40.0}


# ---------------------------------------------------------------- specs and their checks

def test_specs_are_the_api_json():
    assert mesh.mesh_spec() == {"egressFilter": {"type": "DROP_ALL"}}
    assert mesh.route_spec({"a": 90, "b": 10}, prefix="/api", retry_policy=mesh.retry_policy(
        3, 0.5, http_events=["server-error"], tcp_events=None), priority=5) == {
        "httpRoute": {"action": {"weightedTargets": [{"virtualNode": "a", "weight": 90},
                                                     {"virtualNode": "b", "weight": 10}]},
                      "match": {"prefix": "/api"},
                      "retryPolicy": {"maxRetries": 3, "perRetryTimeout": {"unit": "ms", "value": 500},
                                      "httpRetryEvents": ["server-error"]}},
        "priority": 5}
    assert mesh.route_spec({"a": 1}, protocol="tcp", timeout=60) == {
        "tcpRoute": {"action": {"weightedTargets": [{"virtualNode": "a", "weight": 1}]},
                     "timeout": {"idle": {"unit": "s", "value": 60}}}}
    assert mesh.virtual_node_spec(port=None, backends={"a.local": mesh.client_policy("arn:aws:acm-pca:x")},
                                  access_log=None) == {
        "backends": [{"virtualService": {"virtualServiceName": "a.local", "clientPolicy": {"tls": {
            "validation": {"trust": {"acm": {"certificateAuthorityArns": ["arn:aws:acm-pca:x"]}}}}}}}]}
    assert mesh.listener_tls("arn:aws:acm:us-east-1:1:certificate/c", mode="PERMISSIVE") == {
        "mode": "PERMISSIVE", "certificate": {"acm": {"certificateArn": "arn:aws:acm:us-east-1:1:certificate/c"}}}
    assert mesh.client_policy(CA, certificate={"sds": {"secretName": "spiffe://x"}}, subject_alternative_names=[
        "courses-api.ml-a.internal"], ports=[8080], enforce=True) == {"tls": {
            "validation": {"trust": {"file": {"certificateChain": CA}},
                           "subjectAlternativeNames": {"match": {"exact": ["courses-api.ml-a.internal"]}}},
            "certificate": {"sds": {"secretName": "spiffe://x"}}, "ports": [8080], "enforce": True}}
    assert mesh.virtual_service_spec() == {}
    assert mesh.gateway_route_spec("s.local", prefix="/api/", rewrite_prefix="/v2/") == {"httpRoute": {
        "match": {"prefix": "/api/"},
        "action": {"target": {"virtualService": {"virtualServiceName": "s.local"}},
                   "rewrite": {"prefix": {"value": "/v2/"}}}}}
    assert mesh.health_check(protocol="tcp") == {"protocol": "tcp", "intervalMillis": 5000, "timeoutMillis": 2000,
                                                 "healthyThreshold": 2, "unhealthyThreshold": 2}


@pytest.mark.parametrize("call, message", [
    (lambda: mesh.weighted_targets({"a": 50.0}), "whole number"),
    (lambda: mesh.weighted_targets({"a": True}), "whole number"),
    (lambda: mesh.weighted_targets({"a": "50"}), "whole number"),
    (lambda: mesh.weighted_targets({"a": -1}), "from 0 to 100"),
    (lambda: mesh.weighted_targets({"a": 101}), "from 0 to 100"),
    (lambda: mesh.weighted_targets({"a": 60, "b": 41}), "add up to 101"),
    (lambda: mesh.weighted_targets({}), "1 to 10 weighted targets"),
    (lambda: mesh.weighted_targets({f"n{i}": 1 for i in range(11)}), "1 to 10 weighted targets"),
    (lambda: mesh.virtual_router_spec(protocol="udp"), "'udp' is not one App Mesh knows"),
    (lambda: mesh.virtual_gateway_spec(protocol="tcp"), "API_VirtualGatewayPortMapping"),
    (lambda: mesh.virtual_router_spec(port=0), "from 1 to 65535"),
    (lambda: mesh.mesh_spec("DENY"), "API_EgressFilter"),
    (lambda: mesh.virtual_node_spec(), "needs service discovery"),
    (lambda: mesh.virtual_node_spec(port=None, tls=mesh.listener_tls(CERT)), "give the node a port"),
    (lambda: mesh.virtual_node_spec(discovery="a.local", backends="b.local"), "list of virtual service names"),
    (lambda: mesh.listener_tls(CERT, mode="ON"), "STRICT, PERMISSIVE, DISABLED"),
    (lambda: mesh.listener_tls("not-a-certificate"), "ACM certificate ARN"),
    (lambda: mesh.listener_tls(CERT, trust="arn:aws:acm-pca:x"), "files or SDS"),
    (lambda: mesh.client_policy(CA, certificate="arn:aws:acm:x"), "mutual TLS takes its material from files or SDS"),
    (lambda: mesh.client_policy(["arn:aws:acm-pca:a"] * 4), "1 to 3"),
    (lambda: mesh.retry_policy(http_events=["5xx"]), "'5xx' is not one App Mesh knows"),
    (lambda: mesh.retry_policy(http_events=None, tcp_events=None), "at least one retry event"),
    (lambda: mesh.retry_policy(-1), "0 or more"),
    (lambda: mesh.health_check(interval_ms=1000), "intervalMillis must be from 5000 to 300000"),
    (lambda: mesh.health_check(healthy_threshold=1), "from 2 to 10"),
    (lambda: mesh.route_spec({"a": 1}, prefix="api"), "must always start with /"),
    (lambda: mesh.route_spec({"a": 1}, priority=1001), "from 0 to 1000"),
    (lambda: mesh.route_spec({"a": 1}, headers={f"h{i}": "x" for i in range(11)}), "1 to 10 headers"),
    (lambda: mesh.route_spec({"a": 1}, headers={"x": {"glob": "*"}}), "one match method"),
    (lambda: mesh.route_spec({"a": 1}, protocol="tcp", headers={"x": "y"}), "matches only a port"),
    (lambda: mesh.route_spec({"a": 1}, timeout=-1), "seconds"),
    (lambda: mesh.virtual_service_spec(provider_node="a", provider_router="b"), "not both"),
    (lambda: mesh.gateway_route_spec("s", prefix="/aws-appmesh/x"), "reserved"),
    (lambda: mesh.gateway_route_spec("s", path="/x", keep_prefix=True), "goes with a prefix match"),
])
def test_bad_arguments_are_refused_with_the_rule(call, message):
    with pytest.raises(MeshSpecError, match=message) as refused:
        call()
    assert "https://docs.aws.amazon.com/app-mesh/latest/" in str(refused.value), "every refusal cites its page"


# ---------------------------------------------------------------- reading and drawing

def test_the_view_holds_the_whole_mesh(session):
    build(session)
    name = mesh.mesh_name(session)
    courses = f"courses-api.{session.prefix}.internal"
    view = mesh.describe(session, name)
    assert (view.name, view.egress) == (name, "DROP_ALL")
    assert [n.name for n in view.nodes] == [V1, V2, ENROLL]
    v1, v2, enrollment = view.node(V1), view.node(V2), view.node(ENROLL)
    assert [item.text for item in v1.listeners] == ["http:8080"]
    assert (v1.tls, v1.listeners[0].tls_mode, v1.listeners[0].health) == ("mTLS", "STRICT", "http /health")
    assert v2.tls is None
    assert v1.discovery == f"Cloud Map courses-api.{session.prefix}.internal (version=v1)"
    assert enrollment.backends == (courses,) and enrollment.backend_tls == {courses: "mTLS"}
    assert (view.service(courses).provider_kind, view.service(courses).provider) == ("virtual router", ROUTER)
    route = view.route(ROUTER)
    assert route.weights == {V1: 90.0, V2: 10.0} and route.match == "prefix /"
    assert route.retries == "3 x 2s on server-error, gateway-error, connection-error"
    assert route.timeout == "perRequest 15s"
    gateway = view.gateway(GATEWAY)
    assert gateway.backend_tls == "TLS" and gateway.listeners[0].text == "http:8080"
    (gateway_route,) = gateway.routes
    assert (gateway_route.match, gateway_route.service, gateway_route.rewrite) == \
        ("prefix /api/courses", courses, "path kept")
    text = str(view)
    assert text.startswith(f"Mesh {name}: egress DROP_ALL; 3 virtual nodes, 2 virtual services")
    assert f"{V1} 90%, {V2} 10%" in text and f"{courses} (mTLS)" in text
    page = view._repr_html_()
    assert page.count("<table>") == 5 and f"<td>{V1} 90%, {V2} 10%</td>" in page


def test_the_mermaid_drawing(session):
    build(session)
    view = mesh.describe(session, mesh.mesh_name(session))
    text = mesh.mermaid(view)
    lines = [line.strip() for line in text.splitlines()]
    assert lines[0] == "graph LR"
    courses, enrollment = (f"{s}.{session.prefix}.internal" for s in ("courses-api", "enrollment"))
    # one declaration per resource, by kind and then by name
    assert lines[2:9] == [
        f'gw0[/"virtual gateway {GATEWAY}<br/>http:8080"/]',
        f'vs0(["{courses}"])', f'vs1(["{enrollment}"])',
        f'vr0{{{{"router {ROUTER}"}}}}',
        f'vn0["{V1}<br/>http:8080"]', f'vn1["{V2}<br/>http:8080"]', f'vn2["{ENROLL}<br/>http:8080"]']
    edges = set(lines[9:])
    assert {'gw0 ==>|"prefix /api/courses · TLS"| vs0',   # the gateway's client policy: TLS
            "vs0 --> vr0",                                  # courses-api is the router's
            "vs1 --> vn2",                                  # enrollment is its node's (plain listener)
            'vr0 ==>|"90% · mTLS"| vn0',                    # v1's listener verifies clients
            'vr0 -->|"10%"| vn1',                           # v2's is plain text
            'vn2 ==>|"mTLS"| vs0'} <= edges                 # enrollment presents a certificate
    assert "class vn0,vn1,vn2 node" in edges
    assert view.mermaid() == text


def test_the_diagram_is_markdown_for_jupyterlab(session):
    markdown = pytest.importorskip("IPython.display").Markdown
    mesh.ensure_mesh(session, LAB, mesh.mesh_name(session))
    shown = mesh.describe(session, mesh.mesh_name(session)).diagram()
    assert isinstance(shown, markdown)
    assert shown.data.startswith("```mermaid\ngraph LR\n") and shown.data.endswith("\n```")


# ---------------------------------------------------------------- teardown

def test_the_delete_plan_goes_in_an_order_app_mesh_accepts(session):
    build(session)
    name = mesh.mesh_name(session)
    plan = mesh.delete_mesh_plan(session, name)
    kinds = [a.kind.removeprefix("App Mesh ") for a in plan.actions]
    assert kinds == ["gateway route", "gateway", "route", "service", "service", "router", "node", "node", "node",
                     "mesh"]
    assert plan.actions[0].ident == f"{GATEWAY}/courses" and plan.actions[2].ident == f"{ROUTER}/{ROUTE}"
    assert "Would remove" in str(plan) and all(a.status == "planned" for a in plan.actions)
    assert lookup.appmesh_describe(session.client("appmesh"), "mesh", name, name) is not None, "planning deletes nothing"
    plan.run(execute=True)
    assert [a.status for a in plan.actions] == ["deleted"] * len(plan.actions)
    assert lookup.appmesh_describe(session.client("appmesh"), "mesh", name, name) is None
    assert mesh.delete_mesh_plan(session, name).actions == []


def test_the_delete_plan_takes_only_the_courses_resources(session):
    am = session.client("appmesh")
    name = mesh.mesh_name(session)
    mesh.ensure_mesh(session, LAB, name)
    mesh.ensure_virtual_node(session, LAB, name, V1, discovery="v1.local")
    mesh.ensure_virtual_node(session, "07", name, V2, discovery="v2.local")
    am.create_virtual_node(meshName=name, virtualNodeName="someone-elses", spec={})
    plan = mesh.delete_mesh_plan(session, name)
    assert [a.ident for a in plan.actions] == [V1, V2, name]
    assert [a.ident for a in mesh.delete_mesh_plan(session, name, lab="07").actions] == [V2]
    plan.run(execute=True)
    assert [a.status for a in plan.actions] == ["deleted", "deleted", "failed: ResourceInUseException"]
    assert [n["virtualNodeName"] for n in am.list_virtual_nodes(meshName=name)["virtualNodes"]] == ["someone-elses"]
    # a mesh the course did not make: nothing in it is planned
    other = session.name("other-mesh")
    am.create_mesh(meshName=other)
    am.create_virtual_node(meshName=other, virtualNodeName="n", spec={}, tags=session.tags(LAB, style="key"))
    assert mesh.delete_mesh_plan(session, other).actions == []
    assert mesh.delete_mesh_plan(session, session.name("no-such-mesh")).actions == []
