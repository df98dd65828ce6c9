"""A virtual gateway's routes: matching, order, rewrites, then the target service's own routes."""
from __future__ import annotations

import random

import pytest

from mylearning.dataplane.mesh import GatewayTable, Refusal, RouteDecision, RouteTable, Stats, table_for

from .shapes import gateway, gateway_route, listener, node, route, router, service, snapshot


def table(routes, *, listeners=((8080, "http"),), service_routes=None, stats=None) -> GatewayTable:
    """Gateway routes to svc.local, whose router sends /red... to red and everything else to blue."""
    service_routes = service_routes or [route("red", {"prefix": "/red"}, [("red", 1)]),
                                        route("tell", {"path": {"exact": "/tell"}}, [("tell", 1)]),
                                        route("rest", {"prefix": "/"}, [("blue", 1)])]
    snap = snapshot(gateway(routes=routes, listeners=listeners),
                    services=[service("svc.local", router="r"), service("other.local", node_provider="blue")],
                    routers=[(router("r", (80, "http")), service_routes)],
                    nodes=[node(n, listeners=[listener(80)]) for n in ("red", "blue", "tell")])
    return GatewayTable(snap, rng=random.Random(3), stats=stats)


@pytest.mark.parametrize("match, rewrite, path, upstream", [
    # "the matched prefix is rewritten to /, by default" (virtual_gateways.html: /chapter/1 -> /1)
    ({"prefix": "/chapter"}, None, "/chapter/1", "/1"),
    ({"prefix": "/red"}, None, "/red/tell", "/tell"),       # howto-match-and-rewrite-at-ingress
    ({"prefix": "/red/"}, None, "/red/tell", "/tell"),
    ({"prefix": "/red"}, None, "/red", "/"),
    ({"prefix": "/"}, None, "/a/b", "/a/b"),
    ({"prefix": "/red"}, None, "/red/tell?x=1", "/tell?x=1"),   # the query string is kept
    # defaultPrefix DISABLED keeps the path (the walkthrough's "/red/" route)
    ({"prefix": "/red/"}, {"prefix": {"defaultPrefix": "DISABLED"}}, "/red/tell", "/red/tell"),
    # a custom prefix replaces the matched one ("/maroon/" -> "/red/")
    ({"prefix": "/maroon/"}, {"prefix": {"value": "/red/"}}, "/maroon/tell", "/red/tell"),
    # a path match is not rewritten unless a path rewrite says so ("No default path")
    ({"path": {"exact": "/rewrite/path/blue"}}, None, "/rewrite/path/blue", "/rewrite/path/blue"),
    ({"path": {"exact": "/rewrite/path/blue"}}, {"path": {"exact": "/blue"}}, "/rewrite/path/blue", "/blue"),
    ({"path": {"regex": "/v[0-9]/tell"}}, {"path": {"exact": "/tell"}}, "/v2/tell", "/tell"),
])
def test_path_rewrites(match, rewrite, path, upstream):
    decision = table([gateway_route("g", match, rewrite=rewrite)]).route("gw.example.com", 8080, "GET", path)
    assert isinstance(decision, RouteDecision)
    assert decision.path == upstream and decision.gateway_route == "g"


@pytest.mark.parametrize("rewrite, host", [
    (None, "svc.local"),                                                    # rewritten to the target's name
    ({"hostname": {"defaultTargetHostname": "ENABLED"}}, "svc.local"),
    ({"hostname": {"defaultTargetHostname": "DISABLED"}}, "www.example.com"),
])
def test_hostname_rewrite(rewrite, host):
    decision = table([gateway_route("g", {"prefix": "/"}, rewrite=rewrite)]).route("www.example.com:8080", 8080)
    assert decision.host == host


def test_the_rewritten_request_is_routed_by_the_services_router():
    t = table([gateway_route("to-red", {"prefix": "/red"}, rewrite={"prefix": {"defaultPrefix": "DISABLED"}}),
               gateway_route("strip", {"prefix": "/shop"})])
    assert t.route("x", 8080, "GET", "/red/tell").target_node == "red"
    assert t.route("x", 8080, "GET", "/shop/tell").target_node == "tell"      # /shop/tell -> /tell
    d = t.route("x", 8080, "GET", "/shop/cart")
    assert (d.target_node, d.virtual_router, d.route, d.cluster) == ("blue", "r", "rest", "cds_egress_mesh1_blue_http_80")


@pytest.mark.parametrize("routes, host, path, expected", [
    # "a request is matched to the route with the longest prefix" (gateway-routes.html)
    ([gateway_route("root", {"prefix": "/"}), gateway_route("chapter", {"prefix": "/chapter"})],
     "www.example.com", "/chapter/", "chapter"),
    ([gateway_route("root", {"prefix": "/"}), gateway_route("chapter", {"prefix": "/chapter"})],
     "www.example.com", "/index", "root"),
    # a priority comes first
    ([gateway_route("root", {"prefix": "/"}, priority=0), gateway_route("chapter", {"prefix": "/chapter"})],
     "www.example.com", "/chapter/", "root"),
    ([gateway_route("a", {"prefix": "/"}, priority=9), gateway_route("b", {"prefix": "/"}, priority=2)],
     "h", "/", "b"),
    # hostname matches
    ([gateway_route("exact", {"prefix": "/red", "hostname": {"exact": "www.example.com"}}),
      gateway_route("root", {"prefix": "/"})], "www.example.com", "/red/tell", "exact"),
    ([gateway_route("exact", {"prefix": "/red", "hostname": {"exact": "www.example.com"}}),
      gateway_route("root", {"prefix": "/"})], "api.example.com", "/red/tell", "root"),
    ([gateway_route("suffix", {"prefix": "/", "hostname": {"suffix": ".example.com"}}, priority=0),
      gateway_route("root", {"prefix": "/"})], "api.example.com:8080", "/", "suffix"),
    # headers, method, query parameters
    ([gateway_route("nocache", {"prefix": "/", "headers": [{"name": "cache-control", "match": {"exact": "no-cache"}}]},
                    priority=0), gateway_route("root", {"prefix": "/"})], "h", "/", "root"),
    ([gateway_route("nemo", {"prefix": "/maroon/", "queryParameters": [{"name": "fishes", "match": {"exact": "nemo"}}]}),
      gateway_route("root", {"prefix": "/"})], "h", "/maroon/tell?fishes=nemo", "nemo"),
    ([gateway_route("nemo", {"prefix": "/maroon/", "queryParameters": [{"name": "fishes", "match": {"exact": "nemo"}}]}),
      gateway_route("root", {"prefix": "/"})], "h", "/maroon/tell?fishes=dory", "root"),
    ([gateway_route("post", {"prefix": "/", "method": "POST"}, priority=0), gateway_route("root", {"prefix": "/"})],
     "h", "/", "root"),
])
def test_gateway_route_order_and_matching(routes, host, path, expected):
    assert table(routes).route(host, 8080, "GET", path).gateway_route == expected


def test_no_gateway_route_matches_is_404_and_a_wrong_port_is_closed():
    stats = Stats()
    t = table([gateway_route("api", {"prefix": "/api"})], stats=stats)
    missing = t.route("h", 8080, "GET", "/web")
    assert isinstance(missing, Refusal) and (missing.status, missing.flags) == (404, "NR")
    assert stats.get("http.ingress.no_route") == 1
    assert t.route("h", 9999).reset


def test_gateway_routes_of_another_protocol_do_not_apply_and_target_port_is_used():
    routes = [gateway_route("h2", {"prefix": "/"}, kind="http2Route", priority=0),
              gateway_route("http", {"prefix": "/"}, target="other.local", port=80)]
    d = table(routes).route("h", 8080)
    assert d.gateway_route == "http" and d.virtual_service == "other.local" and d.target_node == "blue"


def test_grpc_gateway_route_matches_service_name_and_rewrites_only_the_host():
    routes = [gateway_route("color", {"serviceName": "color.ColorService"}, kind="grpcRoute")]
    snap = snapshot(gateway(routes=routes, listeners=((9080, "grpc"),)),
                    services=[service("svc.local", node_provider="colors")],
                    nodes=[node("colors", listeners=[listener(80, "grpc")])])
    t = GatewayTable(snap)
    d = t.route("gw", 9080, "POST", "/color.ColorService/GetColor")
    assert (d.path, d.host, d.cluster) == ("/color.ColorService/GetColor", "svc.local", "cds_egress_mesh1_colors_grpc_80")
    assert t.route("gw", 9080, "POST", "/other.Service/Get").status == 404


def test_table_for_picks_the_gateway_or_node_table():
    gw = snapshot(gateway(routes=[gateway_route("g", {"prefix": "/"})]), services=[service("svc.local")])
    assert isinstance(table_for(gw), GatewayTable)
    assert type(table_for(snapshot(node("n")))) is RouteTable
    with pytest.raises(TypeError):
        GatewayTable(snapshot(node("n")))
