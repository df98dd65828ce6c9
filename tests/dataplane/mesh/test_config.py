"""The proxy's configuration read from a real embedded AWS, through boto3 only."""
from __future__ import annotations

import random
import uuid

import boto3
import pytest

from conftest import EmulatorProcess
from mylearning.dataplane.mesh import (ConfigPoller, GatewayTable, MeshResourceNotFound, RouteTable, parse_resource,
                                       read_snapshot)

HTTP = {"portMapping": {"port": 8080, "protocol": "http"}}
ACCOUNT = "123456789012"


@pytest.fixture(scope="module")
def appmesh():
    emu = EmulatorProcess("--no-dataplane")
    try:
        yield boto3.client("appmesh", endpoint_url=emu.url, region_name="us-east-1",
                           aws_access_key_id="testing", aws_secret_access_key="testing")
    finally:
        emu.stop()


def arn(mesh: str, kind: str, name: str) -> str:
    return f"arn:aws:appmesh:us-east-1:{ACCOUNT}:mesh/{mesh}/{kind}/{name}"


@pytest.fixture
def mesh(appmesh) -> str:
    """MyLearning's mesh: web calls catalog.local (a router: 90/10 canary, /admin to v2 with a retry
    policy) and reviews.local (a node provider), and declares a backend that does not exist."""
    name = "m" + uuid.uuid4().hex[:8]
    am = appmesh
    am.create_mesh(meshName=name)
    outlier = {"maxServerErrors": 5, "interval": {"unit": "s", "value": 10},
               "baseEjectionDuration": {"unit": "s", "value": 30}, "maxEjectionPercent": 50}
    for node in ("catalog-v1", "catalog-v2"):
        am.create_virtual_node(meshName=name, virtualNodeName=node, spec={
            "listeners": [{**HTTP, "outlierDetection": outlier,
                           "connectionPool": {"http": {"maxConnections": 10, "maxPendingRequests": 4}}}],
            "serviceDiscovery": {"awsCloudMap": {"namespaceName": "mylearning.local", "serviceName": node}}})
    am.create_virtual_node(meshName=name, virtualNodeName="reviews", spec={
        "listeners": [{"portMapping": {"port": 9090, "protocol": "http"}}],
        "serviceDiscovery": {"dns": {"hostname": "reviews.mylearning.local"}}})
    am.create_virtual_router(meshName=name, virtualRouterName="catalog-router", spec={"listeners": [HTTP]})
    am.create_route(meshName=name, virtualRouterName="catalog-router", routeName="canary", spec={
        "httpRoute": {"match": {"prefix": "/"}, "action": {"weightedTargets": [
            {"virtualNode": "catalog-v1", "weight": 90}, {"virtualNode": "catalog-v2", "weight": 10}]}}})
    am.create_route(meshName=name, virtualRouterName="catalog-router", routeName="admin", spec={
        "priority": 1, "httpRoute": {"match": {"prefix": "/admin"},
                                     "action": {"weightedTargets": [{"virtualNode": "catalog-v2", "weight": 1}]},
                                     "retryPolicy": {"maxRetries": 3, "perRetryTimeout": {"unit": "s", "value": 2},
                                                     "httpRetryEvents": ["server-error"]},
                                     "timeout": {"perRequest": {"unit": "s", "value": 20}}}})
    am.create_virtual_service(meshName=name, virtualServiceName="catalog.local",
                              spec={"provider": {"virtualRouter": {"virtualRouterName": "catalog-router"}}})
    am.create_virtual_service(meshName=name, virtualServiceName="reviews.local",
                              spec={"provider": {"virtualNode": {"virtualNodeName": "reviews"}}})
    am.create_virtual_node(meshName=name, virtualNodeName="web", spec={
        "listeners": [{"portMapping": {"port": 80, "protocol": "http"},
                       "timeout": {"http": {"perRequest": {"unit": "s", "value": 5}}}}],
        "backends": [{"virtualService": {"virtualServiceName": s}} for s in ("catalog.local", "reviews.local")],
        "serviceDiscovery": {"dns": {"hostname": "web.mylearning.local"}},
        "logging": {"accessLog": {"file": {"path": "/dev/stdout"}}}})
    return name


@pytest.mark.parametrize("form", ["arn", "name"])
def test_snapshot_of_a_virtual_node(appmesh, mesh, form):
    resource = arn(mesh, "virtualNode", "web") if form == "arn" else f"mesh/{mesh}/virtualNode/web"
    snap = read_snapshot(appmesh, resource)
    assert snap.mesh == mesh and snap.egress_filter == "DROP_ALL" and not snap.is_gateway
    web = snap.proxy
    assert web.name == "web" and web.arn == arn(mesh, "virtualNode", "web")
    assert [b.virtual_service for b in web.backends] == ["catalog.local", "reviews.local"]
    assert web.listeners[0].timeouts.per_request == 5.0
    assert web.logging["accessLog"]["file"]["path"] == "/dev/stdout"
    assert sorted(snap.services) == ["catalog.local", "reviews.local"]
    assert sorted(snap.nodes) == ["catalog-v1", "catalog-v2", "reviews", "web"]
    router = snap.routers["catalog-router"]
    assert [r.name for r in router.routes] == ["admin", "canary"]
    v1 = snap.nodes["catalog-v1"]
    assert (v1.discovery.kind, v1.discovery.namespace, v1.discovery.service) == \
        ("awsCloudMap", "mylearning.local", "catalog-v1")
    assert v1.listeners[0].pool.max_connections == 10 and v1.listeners[0].outlier.max_server_errors == 5
    assert len(snap.version) == 16


def test_the_snapshot_routes_requests(appmesh, mesh):
    table = RouteTable(read_snapshot(appmesh, arn(mesh, "virtualNode", "web")), rng=random.Random(0))
    admin = table.route("catalog.local", 8080, "GET", "/admin/users")
    assert (admin.route, admin.target_node, admin.cluster) == ("admin", "catalog-v2",
                                                               f"cds_egress_{mesh}_catalog-v2_http_8080")
    assert admin.retry_policy.max_retries == 3 and admin.timeouts.per_request == 20.0
    picks = [table.route("catalog.local", 8080, "GET", "/courses").target_node for _ in range(1000)]
    assert 0.87 <= picks.count("catalog-v1") / 1000 <= 0.93
    reviews = table.route("reviews.local", 9090)
    assert reviews.discovery.hostname == "reviews.mylearning.local"
    assert table.route("example.com", 8080).status == 404
    assert table.ingress(80).cluster == f"cds_ingress_{mesh}_web_http_80"


@pytest.mark.parametrize("resource", [
    "mesh/{mesh}-ghost/virtualNode/web",
    "mesh/{mesh}/virtualNode/ghost",
    "mesh/{mesh}/virtualGateway/ghost",
])
def test_a_missing_mesh_or_resource_is_a_clean_error(appmesh, mesh, resource):
    with pytest.raises(MeshResourceNotFound):
        read_snapshot(appmesh, resource.format(mesh=mesh))


@pytest.mark.parametrize("text", [
    "", "web", "mesh/m/virtualRouter/r", "mesh//virtualNode/n", "arn:aws:ecs:us-east-1:1:mesh/m/virtualNode/n",
    "mesh/m/virtualNode/n/extra"])
def test_malformed_resource_names_are_refused(text):
    with pytest.raises(ValueError):
        parse_resource(text)


def test_parse_resource_reads_both_forms():
    a = parse_resource("arn:aws:appmesh:eu-west-1:111122223333:mesh/shop/virtualGateway/ingress")
    assert (a.mesh, a.kind, a.name, a.region, a.account, a.is_gateway) == \
        ("shop", "virtualGateway", "ingress", "eu-west-1", "111122223333", True)
    b = parse_resource("mesh/shop/virtualNode/web")
    assert (b.mesh, b.kind, b.name, b.region) == ("shop", "virtualNode", "web", None)


def test_polling_describes_only_what_changed(appmesh, mesh):
    poller = ConfigPoller(appmesh, arn(mesh, "virtualNode", "web"))
    first = poller.poll_once()
    assert first.changed
    # describe_mesh and four lists (nodes, services, routers, the router's routes): nothing described
    quiet = poller.poll_once()
    assert (quiet.changed, quiet.calls, quiet.snapshot.version) == (False, 5, first.snapshot.version)
    assert quiet.snapshot is first.snapshot

    appmesh.update_route(meshName=mesh, virtualRouterName="catalog-router", routeName="canary", spec={
        "httpRoute": {"match": {"prefix": "/"}, "action": {"weightedTargets": [
            {"virtualNode": "catalog-v1", "weight": 50}, {"virtualNode": "catalog-v2", "weight": 50}]}}})
    moved = poller.poll_once()
    assert moved.changed and moved.calls == 6           # plus one describe_route
    canary = next(r for r in moved.snapshot.routers["catalog-router"].routes if r.name == "canary")
    assert [t.weight for t in canary.targets] == [50, 50]

    appmesh.update_mesh(meshName=mesh, spec={"egressFilter": {"type": "ALLOW_ALL"}})
    opened = poller.poll_once()
    assert opened.changed and opened.snapshot.egress_filter == "ALLOW_ALL" and opened.calls == 5

    # a node no request of web can reach changes nothing
    appmesh.create_virtual_node(meshName=mesh, virtualNodeName="unrelated", spec={})
    assert not poller.poll_once().changed


def test_polling_sees_deletions_and_new_backends(appmesh, mesh):
    poller = ConfigPoller(appmesh, f"mesh/{mesh}/virtualNode/web")
    poller.poll_once()
    appmesh.delete_route(meshName=mesh, virtualRouterName="catalog-router", routeName="admin")
    snap = poller.poll_once().snapshot
    assert [r.name for r in snap.routers["catalog-router"].routes] == ["canary"]
    appmesh.create_virtual_node(meshName=mesh, virtualNodeName="search", spec={
        "listeners": [HTTP], "serviceDiscovery": {"dns": {"hostname": "search.local"}}})
    appmesh.create_virtual_service(meshName=mesh, virtualServiceName="search.local",
                                   spec={"provider": {"virtualNode": {"virtualNodeName": "search"}}})
    appmesh.update_virtual_node(meshName=mesh, virtualNodeName="web", spec={
        "listeners": [{"portMapping": {"port": 80, "protocol": "http"}}],
        "backends": [{"virtualService": {"virtualServiceName": "search.local"}}],
        "serviceDiscovery": {"dns": {"hostname": "web.mylearning.local"}}})
    result = poller.poll_once()
    assert result.changed and sorted(result.snapshot.services) == ["search.local"]
    assert sorted(result.snapshot.nodes) == ["search", "web"] and result.snapshot.routers == {}
    assert RouteTable(result.snapshot).route("catalog.local", 8080).status == 404


def test_snapshot_of_a_virtual_gateway(appmesh, mesh):
    appmesh.create_virtual_gateway(meshName=mesh, virtualGatewayName="ingress", spec={
        "listeners": [{"portMapping": {"port": 8088, "protocol": "http"}}]})
    appmesh.create_gateway_route(meshName=mesh, virtualGatewayName="ingress", gatewayRouteName="catalog", spec={
        "httpRoute": {"match": {"prefix": "/catalog"},
                      "action": {"target": {"virtualService": {"virtualServiceName": "catalog.local"}}}}})
    appmesh.create_gateway_route(meshName=mesh, virtualGatewayName="ingress", gatewayRouteName="reviews", spec={
        "priority": 5, "httpRoute": {"match": {"prefix": "/reviews"},
                                     "action": {"target": {"virtualService": {"virtualServiceName": "reviews.local"}},
                                                "rewrite": {"prefix": {"defaultPrefix": "DISABLED"}}}}})
    poller = ConfigPoller(appmesh, arn(mesh, "virtualGateway", "ingress"))
    snap = poller.poll_once().snapshot
    assert snap.is_gateway and [r.name for r in snap.proxy.routes] == ["catalog", "reviews"]
    assert sorted(snap.services) == ["catalog.local", "reviews.local"]
    table = GatewayTable(snap, rng=random.Random(2))
    d = table.route("shop.example.com", 8088, "GET", "/catalog/admin/x")
    assert (d.gateway_route, d.host, d.path, d.route, d.target_node) == \
        ("catalog", "catalog.local", "/admin/x", "admin", "catalog-v2")
    r = table.route("shop.example.com", 8088, "GET", "/reviews/1")
    assert (r.path, r.target_node, r.cluster) == ("/reviews/1", "reviews", f"cds_egress_{mesh}_reviews_http_9090")
    quiet = poller.poll_once()
    assert not quiet.changed


def test_snapshots_are_immutable(appmesh, mesh):
    snap = read_snapshot(appmesh, f"mesh/{mesh}/virtualNode/web")
    with pytest.raises(TypeError):
        snap.services["other.local"] = snap.services["catalog.local"]
    with pytest.raises(TypeError):
        snap.proxy.logging["accessLog"] = {}
    with pytest.raises(AttributeError):
        snap.egress_filter = "ALLOW_ALL"
    route = snap.routers["catalog-router"].routes[0]
    with pytest.raises(TypeError):
        route.match["prefix"] = "/"
