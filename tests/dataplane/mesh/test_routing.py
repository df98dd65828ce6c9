"""Where an outbound request goes: routes, priorities, weights, the egress filter, and ingress."""
from __future__ import annotations

import random
from collections import Counter

import pytest

from mylearning.dataplane.mesh import (DEFAULT_RETRY_POLICY, IngressDecision, PassThrough, Refusal, RouteDecision,
                                       RouteTable, Stats, pick_weighted)
from mylearning.dataplane.mesh.model import WeightedTarget

from .shapes import listener, node, route, router, service, snapshot

# The App Mesh team's header-routing demo (aws-app-mesh-examples blogs/http-headers-and-priority):
# five routes on one router, and what the demo shows each request reaching.
COLOR_ROUTES = [
    route("color-route-blue", {"prefix": "/", "headers": [
        {"name": "color_header", "match": {"range": {"start": 100, "end": 150}}}]}, [("blue", 1)], priority=1000),
    route("color-route-yellow", {"prefix": "/", "headers": [{"name": "color_header"}]}, [("yellow", 1)]),
    route("color-route-green", {"prefix": "/", "headers": [
        {"name": "color_header", "match": {"regex": "redor.*"}}]}, [("green", 1)], priority=2),
    route("color-route-red", {"prefix": "/", "headers": [
        {"name": "color_header", "match": {"prefix": "redorgreen"}}]}, [("red", 1)], priority=1),
    route("color-route-white", {"prefix": "/", "headers": [{"name": "color_header", "invert": True}]},
          [("white", 1)]),
]
COLORS = [node(c, listeners=[listener(9080)]) for c in ("blue", "yellow", "green", "red", "white")]


def color_table(routes=COLOR_ROUTES, **kwargs) -> RouteTable:
    front = node("front", listeners=[listener(8080)], backends=["color.local"])
    snap = snapshot(front, services=[service("color.local", router="color-router")],
                    routers=[(router("color-router", (9080, "http")), routes)], nodes=COLORS)
    return RouteTable(snap, rng=random.Random(1), **kwargs)


@pytest.mark.parametrize("header, color", [
    ("100", "blue"),                       # demo step 1
    ("150", "yellow"),                     # step 2: fails blue's [100, 150), falls to yellow's present match
    ("149", "blue"),                       # step 3
    ("thisvalueisnotinanyroute", "yellow"),  # step 4
    ("redorgreen", "red"),                 # step 5: red (1) before green (2)
    (None, "white"),                       # no header: only the inverted present match holds
])
def test_priorities_as_the_app_mesh_header_routing_demo(header, color):
    decision = color_table().route("color.local:9080", 9080, "GET", "/",
                                   headers={"color_header": header} if header else {})
    assert isinstance(decision, RouteDecision)
    assert decision.target_node == color
    assert decision.route == f"color-route-{color}"
    assert decision.cluster == f"cds_egress_mesh1_{color}_http_9080"
    assert decision.virtual_router == "color-router" and decision.virtual_service == "color.local"


def test_demo_step_7_lowering_red_priority_lets_green_win():
    routes = [r for r in COLOR_ROUTES if r["routeName"] != "color-route-red"] + [
        route("color-route-red", {"prefix": "/", "headers": [
            {"name": "color_header", "match": {"prefix": "redorgreen"}}]}, [("red", 1)], priority=5)]
    decision = color_table(routes).route("color.local", 9080, headers={"color_header": "redorgreen"})
    assert decision.target_node == "green"


@pytest.mark.parametrize("routes, path, expected", [
    # without priorities, the longer prefix first (App Mesh sorts by length, roadmap issue 77)
    ([route("root", {"prefix": "/"}, [("a", 1)]), route("api", {"prefix": "/api"}, [("b", 1)])], "/api/x", "api"),
    ([route("root", {"prefix": "/"}, [("a", 1)]), route("api", {"prefix": "/api"}, [("b", 1)])], "/web", "root"),
    # a priority beats any length
    ([route("root", {"prefix": "/"}, [("a", 1)], priority=0), route("api", {"prefix": "/api"}, [("b", 1)])],
     "/api/x", "root"),
    # routes with a priority come before routes without one, whatever the number
    ([route("root", {"prefix": "/"}, [("a", 1)], priority=1000), route("api", {"prefix": "/api"}, [("b", 1)])],
     "/api/x", "root"),
    # lower numbers first; 0 is the highest
    ([route("p7", {"prefix": "/"}, [("a", 1)], priority=7), route("p3", {"prefix": "/"}, [("b", 1)], priority=3)],
     "/", "p3"),
    # first match wins: a higher-priority route that does not match is skipped
    ([route("post", {"prefix": "/", "method": "POST"}, [("a", 1)], priority=0),
      route("any", {"prefix": "/"}, [("b", 1)], priority=9)], "/", "any"),
    ([route("exact", {"path": {"exact": "/login"}}, [("a", 1)]),
      route("regex", {"path": {"regex": "/log.*"}}, [("b", 1)])], "/login", "exact"),
])
def test_route_order(routes, path, expected):
    nodes = [node("a", listeners=[listener(80)]), node("b", listeners=[listener(80)])]
    snap = snapshot(node("me", backends=["s.local"]), services=[service("s.local", router="r")],
                    routers=[(router("r", (80, "http")), routes)], nodes=nodes)
    decision = RouteTable(snap).route("s.local", 80, "GET", path)
    assert decision.route == expected


def test_no_matching_route_is_envoys_404():
    stats = Stats()
    snap = snapshot(node("me", backends=["s.local"]), services=[service("s.local", router="r")],
                    routers=[(router("r", (80, "http")), [route("api", {"prefix": "/api"}, [("a", 1)])])],
                    nodes=[node("a", listeners=[listener(80)])])
    decision = RouteTable(snap, stats=stats).route("s.local", 80, "GET", "/web")
    assert decision == Refusal(404, "NR", "no route of r matches")
    assert stats.get("http.egress.no_route") == 1


@pytest.mark.parametrize("weights", [
    [("a", 90), ("b", 10)],
    [("a", 1), ("b", 1), ("c", 2)],
    [("a", 50), ("b", 0), ("c", 50)],        # weight 0 receives nothing
    [("a", 0), ("b", 100)],
    [("a", 3)],
])
def test_weighted_targets_share_10000_picks_within_3_points(weights):
    rng = random.Random(20260930)
    targets = [WeightedTarget(n, w) for n, w in weights]
    counts = Counter(pick_weighted(targets, rng).node for _ in range(10_000))
    total = sum(w for _, w in weights)
    for name, weight in weights:
        share = counts[name] / 10_000
        assert abs(share - weight / total) <= 0.03, (name, share)
        if weight == 0:
            assert counts[name] == 0


def test_all_weights_zero_answers_503_no_cluster():
    snap = snapshot(node("me", backends=["s.local"]), services=[service("s.local", router="r")],
                    routers=[(router("r", (80, "http")), [route("rt", {"prefix": "/"}, [("a", 0)])])],
                    nodes=[node("a", listeners=[listener(80)])])
    decision = RouteTable(snap).route("s.local", 80)
    assert isinstance(decision, Refusal) and (decision.status, decision.flags) == (503, "NC")


def test_canary_weights_through_the_table_are_seeded_and_repeatable():
    def shares(seed):
        snap = snapshot(node("me", backends=["s.local"]), services=[service("s.local", router="r")],
                        routers=[(router("r", (80, "http")), [route("rt", {"prefix": "/"}, [("v1", 80), ("v2", 20)])])],
                        nodes=[node("v1", listeners=[listener(80)]), node("v2", listeners=[listener(80)])])
        table = RouteTable(snap, rng=random.Random(seed))
        return [table.route("s.local", 80).target_node for _ in range(200)]
    assert shares(7) == shares(7)
    assert abs(shares(7).count("v2") / 200 - 0.2) < 0.08


@pytest.mark.parametrize("spec, expected", [
    (None, (15.0, 300.0)),                                                            # the defaults
    ({"perRequest": {"unit": "s", "value": 30}}, (30.0, 300.0)),
    ({"perRequest": {"unit": "ms", "value": 500}, "idle": {"unit": "s", "value": 60}}, (0.5, 60.0)),
    ({"perRequest": {"unit": "s", "value": 0}, "idle": {"unit": "s", "value": 0}}, (None, None)),   # 0 disables
])
def test_route_timeouts(spec, expected):
    snap = snapshot(node("me", backends=["s.local"]), services=[service("s.local", router="r")],
                    routers=[(router("r", (80, "http")), [route("rt", {"prefix": "/"}, [("a", 1)], timeout=spec)])],
                    nodes=[node("a", listeners=[listener(80)])])
    d = RouteTable(snap).route("s.local", 80)
    assert (d.timeouts.per_request, d.timeouts.idle) == expected


def test_route_retry_policy_and_the_default_one():
    retry = {"maxRetries": 3, "perRetryTimeout": {"unit": "ms", "value": 250}, "httpRetryEvents": ["gateway-error"]}
    snap = snapshot(node("me", backends=["s.local", "n.local"]),
                    services=[service("s.local", router="r"), service("n.local", node_provider="a")],
                    routers=[(router("r", (80, "http")), [route("with", {"prefix": "/x"}, [("a", 1)], retry=retry),
                                                           route("without", {"prefix": "/"}, [("a", 1)])])],
                    nodes=[node("a", listeners=[listener(80)])])
    table = RouteTable(snap)
    with_policy = table.route("s.local", 80, path="/x")
    assert (with_policy.retry_policy.max_retries, with_policy.retry_policy.per_try_timeout) == (3, 0.25)
    assert with_policy.retry_policy.statuses == {502, 503, 504}
    assert table.route("s.local", 80, path="/y").retry_policy == DEFAULT_RETRY_POLICY
    by_node = table.route("n.local", 80)
    assert by_node.retry_policy == DEFAULT_RETRY_POLICY and by_node.route is None
    assert by_node.timeouts.per_request == 15.0 and by_node.cluster == "cds_egress_mesh1_a_http_80"


def test_virtual_node_provider_gives_the_nodes_discovery_and_listener_settings():
    outlier = {"maxServerErrors": 5, "interval": {"unit": "s", "value": 10},
               "baseEjectionDuration": {"unit": "s", "value": 30}, "maxEjectionPercent": 50}
    target = node("catalog", listeners=[listener(8080, outlierDetection=outlier)],
                  discovery={"awsCloudMap": {"namespaceName": "mylearning.local", "serviceName": "catalog",
                                             "attributes": [{"key": "ECS_TASK_DEFINITION_FAMILY", "value": "c"}]}})
    snap = snapshot(node("web", backends=["catalog.mylearning.local"]),
                    services=[service("catalog.mylearning.local", node_provider="catalog")], nodes=[target])
    d = RouteTable(snap).route("catalog.mylearning.local", 8080, "GET", "/courses?page=2")
    assert d.discovery.kind == "awsCloudMap"
    assert (d.discovery.namespace, d.discovery.service) == ("mylearning.local", "catalog")
    assert d.discovery.attributes == (("ECS_TASK_DEFINITION_FAMILY", "c"),)
    assert d.outlier.max_server_errors == 5 and d.outlier.base_ejection == 30.0
    assert d.path == "/courses?page=2" and d.host == "catalog.mylearning.local"


def _egress_table(egress="DROP_ALL", stats=None):
    snap = snapshot(node("web", backends=["catalog.local", "ghost.local", "empty.local"]),
                    services=[service("catalog.local", node_provider="catalog"), service("empty.local")],
                    nodes=[node("catalog", listeners=[listener(8080)])], egress=egress)
    return RouteTable(snap, stats=stats)


@pytest.mark.parametrize("egress, host, port, expected", [
    # a declared backend on its provider's port
    ("DROP_ALL", "catalog.local", 8080, ("route", "cds_egress_mesh1_catalog_http_8080")),
    ("DROP_ALL", "catalog.local:8080", 8080, ("route", "cds_egress_mesh1_catalog_http_8080")),
    ("DROP_ALL", "CATALOG.local", 8080, ("route", "cds_egress_mesh1_catalog_http_8080")),
    # DROP_ALL: anything else on a port with an HTTP chain gets Envoy's 404
    ("DROP_ALL", "example.com", 8080, ("refusal", 404, "NR")),
    ("DROP_ALL", "catalog.local:9999", 8080, ("refusal", 404, "NR")),
    # ... and on a port without a chain the connection is closed
    ("DROP_ALL", "example.com", 80, ("refusal", None, "NR")),
    ("DROP_ALL", "catalog.local", 80, ("refusal", None, "NR")),
    # AWS APIs are always allowed
    ("DROP_ALL", "ecs.us-east-1.amazonaws.com", 443, ("pass", "cds_egress_mesh1_amazonaws")),
    # a declared backend whose service is missing, or has no provider: 503
    ("DROP_ALL", "ghost.local", 8080, ("refusal", 503, "NC")),
    ("DROP_ALL", "empty.local", 80, ("refusal", 503, "NC")),
    # ALLOW_ALL passes through what no backend takes
    ("ALLOW_ALL", "example.com", 8080, ("pass", "cds_egress_mesh1_mesh-allow-all")),
    ("ALLOW_ALL", "example.com", 80, ("pass", "cds_egress_mesh1_mesh-allow-all")),
    ("ALLOW_ALL", "catalog.local", 8080, ("route", "cds_egress_mesh1_catalog_http_8080")),
])
def test_egress_filter(egress, host, port, expected):
    decision = _egress_table(egress).route(host, port)
    if expected[0] == "route":
        assert isinstance(decision, RouteDecision) and decision.cluster == expected[1]
    elif expected[0] == "pass":
        assert isinstance(decision, PassThrough) and decision.cluster == expected[1]
        assert decision.port == port
    else:
        assert isinstance(decision, Refusal)
        assert (decision.status, decision.flags) == expected[1:]
        assert decision.reset is (expected[1] is None)


def test_egress_refusals_count_envoys_stats():
    stats = Stats()
    table = _egress_table(stats=stats)
    table.route("example.com", 8080)
    table.route("example.com", 80)
    table.route("ghost.local", 8080)
    table.route("catalog.local", 8080)
    assert stats.get("http.egress.no_route") == 1
    assert stats.get("listener.0.0.0.0_15001.no_filter_chain_match") == 1
    assert stats.get("http.egress.no_cluster") == 1
    assert stats.get("http.egress.rq_total") == 1


def test_listener_protocol_by_port():
    snap = snapshot(node("web", backends=["db.local", "api.local"]),
                    services=[service("db.local", node_provider="db"), service("api.local", node_provider="api")],
                    nodes=[node("db", listeners=[listener(5432, "tcp")]), node("api", listeners=[listener(80, "grpc")])])
    table = RouteTable(snap)
    assert [table.listener_protocol(p) for p in (5432, 80, 81)] == ["tcp", "http", None]


def test_tcp_routes_and_tcp_egress():
    snap = snapshot(node("web", backends=["db.local"]), services=[service("db.local", router="dbr")],
                    routers=[(router("dbr", (5432, "tcp")),
                              [route("split", None, [("db1", 1), ("db2", 0)], kind="tcpRoute")])],
                    nodes=[node("db1", listeners=[listener(5432, "tcp")]), node("db2", listeners=[listener(5432, "tcp")])])
    table = RouteTable(snap)
    d = table.route_tcp("db.local", 5432)
    assert d.cluster == "cds_egress_mesh1_db1_tcp_5432" and d.retry_policy.max_retries == 0
    assert d.timeouts.per_request is None and d.timeouts.idle == 300.0
    assert table.route_tcp("10.0.0.9", 5432).target_node == "db1"     # the port's only TCP service
    closed = table.route_tcp("other.local", 6379)
    assert isinstance(closed, Refusal) and closed.reset


def test_routes_of_another_protocol_or_port_do_not_apply():
    # "If the selected virtual node has multiple listeners, Target port is required" (routes.html)
    routes = [route("h2", {"prefix": "/"}, [("a", 1, 8080)], kind="http2Route", priority=0),
              route("on9090", {"prefix": "/", "port": 9090}, [("a", 1, 9090)], priority=1),
              route("http", {"prefix": "/", "port": 8080}, [("b", 1)], priority=2)]
    snap = snapshot(node("me", backends=["s.local"]), services=[service("s.local", router="r")],
                    routers=[(router("r", (8080, "http"), (9090, "http")), routes)],
                    nodes=[node("a", listeners=[listener(8080), listener(9090)]),
                           node("b", listeners=[listener(8080)])])
    table = RouteTable(snap)
    assert table.route("s.local", 8080).route == "http"
    assert table.route("s.local", 9090).route == "on9090"


def test_weighted_target_port_chooses_the_nodes_listener():
    snap = snapshot(node("me", backends=["s.local"]), services=[service("s.local", router="r")],
                    routers=[(router("r", (80, "http")), [route("rt", {"prefix": "/"}, [("a", 1, 9090)])])],
                    nodes=[node("a", listeners=[listener(8080), listener(9090, "http2")])])
    d = RouteTable(snap).route("s.local", 80)
    assert (d.target_port, d.protocol, d.cluster) == (9090, "http2", "cds_egress_mesh1_a_http2_9090")


def test_backend_client_policy_or_the_defaults():
    tls = {"tls": {"validation": {"trust": {"file": {"certificateChain": "/ca.pem"}}}}}
    other = {"tls": {"enforce": True, "validation": {"trust": {"acm": {"certificateAuthorityArns": ["arn"]}}}}}
    me = node("me", backends=[{"virtualService": {"virtualServiceName": "a.local", "clientPolicy": tls}}, "b.local"],
              backend_defaults={"clientPolicy": other})
    snap = snapshot(me, services=[service("a.local", node_provider="a"), service("b.local", node_provider="b")],
                    nodes=[node("a", listeners=[listener(80)]), node("b", listeners=[listener(80)])])
    table = RouteTable(snap)
    assert table.route("a.local", 80).client_policy["tls"]["validation"]["trust"]["file"]["certificateChain"] == "/ca.pem"
    assert table.route("b.local", 80).client_policy["tls"]["enforce"] is True


@pytest.mark.parametrize("port, expected", [
    (8080, ("cds_ingress_mesh1_web_http_8080", 2.0, 1, 5)),
    (9090, ("cds_ingress_mesh1_web_grpc_9090", 15.0, 2147483647, 2147483647)),
    (7000, None),
])
def test_ingress_listeners(port, expected):
    web = node("web", listeners=[
        listener(8080, timeout={"http": {"perRequest": {"unit": "s", "value": 2}}},
                 connectionPool={"http": {"maxConnections": 1, "maxPendingRequests": 5}}),
        listener(9090, "grpc")])
    decision = RouteTable(snapshot(web)).ingress(port)
    if expected is None:
        assert isinstance(decision, Refusal) and decision.reset
    else:
        assert isinstance(decision, IngressDecision)
        assert (decision.cluster, decision.timeouts.per_request, decision.pool.max_connections,
                decision.pool.max_pending_requests) == expected


def test_egress_clusters_lists_every_target():
    clusters = color_table().egress_clusters()
    assert sorted(clusters) == sorted(f"cds_egress_mesh1_{c}_http_9080" for c in
                                      ("blue", "yellow", "green", "red", "white"))
