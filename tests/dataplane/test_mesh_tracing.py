"""Traces end to end: Envoy's X-Ray tracer, the services' SDK segments, the X-Ray daemon sidecar,
PutTraceSegments under the task role, read back with X-Ray's API.

A virtual gateway routes ``/api/`` to enrollment, which calls courses-api through its proxy
(test_sidecar's mesh). Every task runs the X-Ray daemon beside Envoy, with
ENABLE_ENVOY_XRAY_TRACING=1 (`mylearning.mesh.sidecar.with_xray`); only the gateway samples at
1.0, the nodes keep App Mesh's 0.05 and follow the gateway's decision in the trace header.
"""
from __future__ import annotations

import datetime
import json

import pytest

from mylearning.mesh import sidecar
from tests.dataplane.test_sidecar import (ENVOY, MESH, NAMESPACE, PROXY, _cloud_map, _mesh, _running, _service,
                                          meshed_role)
from tests.dataplane.world import World, private_ip, wait_for

ENROLLMENT_SERVICE = f"enrollment.{NAMESPACE}"
LOG = {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/app", "awslogs-region": "us-east-1",
                                           "awslogs-stream-prefix": "app"}}


@pytest.fixture
def world(emulator_with_dataplane):
    emulator_with_dataplane.reset()
    return World(emulator_with_dataplane.url)


def _role(world: World, name: str, *, traces: bool) -> str:
    return meshed_role(world, name, **({"traces": sidecar.xray_permission()} if traces else {}))


def _register(world: World, spec: dict, family: str, role: str) -> str:
    sidecar.envoy_of(spec)["image"] = ENVOY
    return world.register(*spec["containerDefinitions"], family=family, memory="1024", taskRoleArn=role,
                          volumes=spec.get("volumes", []),
                          **({"proxyConfiguration": spec["proxyConfiguration"]} if "proxyConfiguration" in spec else {}))


def _node_taskdef(world: World, family: str, image: str, node_arn: str, role: str, env: dict | None = None) -> str:
    app = world.container("app", image, env=env)
    app["logConfiguration"] = {**LOG, "options": {**LOG["options"], "awslogs-stream-prefix": family}}
    spec = sidecar.with_envoy({"family": family, "containerDefinitions": [app], "proxyConfiguration": PROXY},
                              node_arn)
    return _register(world, sidecar.with_xray(spec), family, role)


def _gateway(world: World, role: str) -> str:
    """The gateway's task (Envoy alone on its listener port, and the daemon), routing /api/ to enrollment."""
    mesh = world.client("appmesh")
    mesh.create_virtual_service(meshName=MESH, virtualServiceName=ENROLLMENT_SERVICE, spec={
        "provider": {"virtualNode": {"virtualNodeName": "enrollment"}}})
    arn = mesh.create_virtual_gateway(meshName=MESH, virtualGatewayName="front", spec={
        "listeners": [{"portMapping": {"port": 8080, "protocol": "http"}}]})["virtualGateway"]["metadata"]["arn"]
    mesh.create_gateway_route(meshName=MESH, virtualGatewayName="front", gatewayRouteName="api", spec={
        "httpRoute": {"match": {"prefix": "/api/"}, "action": {
            "target": {"virtualService": {"virtualServiceName": ENROLLMENT_SERVICE}},
            "rewrite": {"prefix": {"defaultPrefix": "DISABLED"}}}}})
    envoy = sidecar.envoy_container(arn, LOG, ports=(8080, 9901), scratch_volume=None)
    spec = sidecar.with_xray({"family": "front", "containerDefinitions": [envoy]}, sampling_rate=1.0)
    taskdef = _register(world, spec, "front", role)
    world.ecs.create_service(cluster="c", serviceName="front", taskDefinition=taskdef, desiredCount=1,
                             launchType="FARGATE", networkConfiguration=world.network)
    return private_ip(_running(world, "front")[0])


def _world(world: World, *, enrollment_traces: bool) -> str:
    courses_node, enrollment_node = _mesh(world)
    registries = _cloud_map(world)
    allowed = _role(world, "traced", traces=True)
    courses = _node_taskdef(world, "courses", "public.ecr.aws/mylearning/courses-api:1.2.0",
                            courses_node["metadata"]["arn"], allowed)
    enrollment = _node_taskdef(world, "enrollment", "public.ecr.aws/mylearning/enrollment:1.1.0",
                               enrollment_node["metadata"]["arn"],
                               allowed if enrollment_traces else _role(world, "untraced", traces=False),
                               env={"COURSES_API_URL": f"http://courses-api.{NAMESPACE}:8080"})
    _service(world, "courses", courses, registries["courses-api"])
    _service(world, "enrollment", enrollment, registries["enrollment"])
    _running(world, "courses")
    _running(world, "enrollment")
    gateway = _gateway(world, allowed)
    wait_for("the gateway routing /api/ to enrollment", lambda: world.post(
        f"http://{gateway}:8080/api/enroll", {"learner": "warm-up", "course": "ecs-101"})[0] == 201,
        timeout=30, every=0.5)
    return gateway


def _traces(world: World) -> dict[str, list[dict]]:
    """Every trace X-Ray holds for the last minutes: trace id -> its segment documents."""
    xray = world.client("xray")
    now = datetime.datetime.now(datetime.timezone.utc)
    summaries = xray.get_trace_summaries(StartTime=now - datetime.timedelta(minutes=5),
                                         EndTime=now + datetime.timedelta(minutes=1))["TraceSummaries"]
    ids = [s["Id"] for s in summaries]
    found: dict[str, list[dict]] = {}
    for start in range(0, len(ids), 5):
        for trace in xray.batch_get_traces(TraceIds=ids[start:start + 5])["Traces"]:
            found[trace["Id"]] = [json.loads(s["Document"]) for s in trace["Segments"]]
    return found


def _by_name(docs: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for doc in docs:
        out.setdefault(doc["name"], []).append(doc)
    return out


def test_each_request_is_one_trace_through_the_gateway_both_proxies_and_both_services(world):
    gateway = _world(world, enrollment_traces=True)
    for n in range(3):
        status, body = world.post(f"http://{gateway}:8080/api/enroll", {"learner": f"l{n}", "course": "ecs-101"})
        assert status == 201, body
    wanted = {"shop/front": 1, "shop/enrollment": 2, "enrollment": 1, "shop/courses-api": 1, "courses-api": 1}

    def complete() -> dict | None:
        traces = {t: docs for t, docs in _traces(world).items()
                  if {k: len(v) for k, v in _by_name(docs).items()} == wanted}
        return traces if len(traces) >= 4 else None  # the warm-up request and the three

    traces = wait_for("4 complete traces in X-Ray", complete, timeout=40, every=1)
    assert len(traces) == 4
    for trace_id, docs in traces.items():
        named = _by_name(docs)
        front = named["shop/front"][0]
        ingress, egress = sorted(named["shop/enrollment"], key=lambda d: d["start_time"])
        app = named["enrollment"][0]
        courses_proxy, courses = named["shop/courses-api"][0], named["courses-api"][0]
        assert all(d["trace_id"] == trace_id for d in docs)
        assert len({d["id"] for d in docs}) == len(docs)  # each segment its own id, even across tasks
        assert "parent_id" not in front  # the gateway started the trace: nobody sent it a header
        assert front["origin"] == ingress["origin"] == courses_proxy["origin"] == "AWS::AppMesh::Proxy"
        assert app["origin"] == courses["origin"] == "AWS::ECS::Container"
        assert ingress["parent_id"] == front["id"]
        assert app["parent_id"] == ingress["id"]
        (call,) = app["subsegments"]
        assert call["namespace"] == "remote" and call["name"] == f"courses-api.{NAMESPACE}"
        assert call["http"]["response"]["status"] == 200
        assert egress["parent_id"] == call["id"]
        assert courses_proxy["parent_id"] == egress["id"]
        assert courses["parent_id"] == courses_proxy["id"]
        assert front["http"]["request"]["method"] == "POST" and front["http"]["response"]["status"] == 201
        assert courses["http"]["request"]["url"].endswith("/api/courses/ecs-101")
        assert not any(d.get("fault") or d.get("error") for d in docs)
    # The service graph X-Ray builds from them starts at the gateway.
    now = datetime.datetime.now(datetime.timezone.utc)
    services = world.client("xray").get_service_graph(StartTime=now - datetime.timedelta(minutes=5),
                                                      EndTime=now + datetime.timedelta(minutes=1))["Services"]
    roots = {s["Name"] for s in services if s.get("Root") and s["Type"] != "client"}
    assert roots >= {"shop/front"}
    by_id = {s["ReferenceId"]: s for s in services}
    enrollment = next(s for s in services if s["Name"] == "enrollment")
    assert {by_id[e["ReferenceId"]]["Name"] for e in enrollment["Edges"]} == {"shop/enrollment"}


def test_a_failed_call_is_a_fault_in_every_segment_that_saw_it(world):
    gateway = _world(world, enrollment_traces=True)
    status, body = world.post(f"http://{gateway}:8080/api/enroll", {"learner": "ada", "course": "no-such-course"})
    assert status == 422, body  # courses-api answered 404: enrollment says the course is unknown

    def traced() -> list | None:
        found = [docs for docs in _traces(world).values()
                 if any(d["name"] == "courses-api" and d["http"]["response"]["status"] == 404 for d in docs)]
        return found if found and len(found[0]) == 6 else None

    (docs,) = wait_for("the trace of the refused enrollment", traced, timeout=40, every=1)
    named = _by_name(docs)
    assert named["courses-api"][0]["error"] is True and "fault" not in named["courses-api"][0]
    assert named["shop/front"][0]["http"]["response"]["status"] == 422 and named["shop/front"][0]["error"] is True
    (call,) = named["enrollment"][0]["subsegments"]
    assert call["error"] is True and call["http"]["response"]["status"] == 404


def test_without_put_trace_segments_in_the_task_role_the_daemon_logs_access_denied(world):
    gateway = _world(world, enrollment_traces=False)
    world.post(f"http://{gateway}:8080/api/enroll", {"learner": "ada", "course": "ecs-101"})
    logs = world.client("logs")

    def denied() -> bool:
        streams = logs.describe_log_streams(logGroupName="/ecs/app", logStreamNamePrefix="xray-daemon")["logStreams"]
        for stream in streams:
            events = logs.get_log_events(logGroupName="/ecs/app", logStreamName=stream["logStreamName"])["events"]
            if any("AccessDenied" in e["message"] and "xray:PutTraceSegments" in e["message"] for e in events):
                return True
        return False

    wait_for("the daemon's AccessDenied log line", denied, timeout=40, every=1)
    # The other tasks' daemons may send: their segments arrive, enrollment's never do.
    wait_for("the courses-api segments", lambda: any(
        d["name"] == "courses-api" for docs in _traces(world).values() for d in docs), timeout=40, every=1)
    names = {d["name"] for docs in _traces(world).values() for d in docs}
    assert "enrollment" not in names and "shop/enrollment" not in names
    assert {"shop/front", "shop/courses-api", "courses-api"} <= names
