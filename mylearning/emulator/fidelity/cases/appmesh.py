"""App Mesh fidelity cases: enums, route weights, references, deletes in use,
virtual services, error codes, uids and timestamps.

Every case builds its own mesh (unique name), so cases are independent.
"""
from __future__ import annotations

import datetime
import time
from typing import Any, Callable

from mylearning.emulator.fidelity.cases import OK, BehaviourMismatch, Case, Env

API = "https://docs.aws.amazon.com/app-mesh/latest/APIReference/"
ACM_CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0f2b8f5e-1111-2222-3333-444455556666"
HTTP = {"portMapping": {"port": 8080, "protocol": "http"}}


def _am(env: Env):
    return env.client("appmesh")


def _mesh(env: Env, **kwargs: Any) -> str:
    name = env.name("mesh")
    _am(env).create_mesh(meshName=name, **kwargs)
    return name


def _node(env: Env, mesh: str, name: str | None = None, **spec: Any) -> str:
    name = name or env.name("vn")
    spec = spec or {"listeners": [HTTP], "serviceDiscovery": {"dns": {"hostname": f"{name}.local"}}}
    _am(env).create_virtual_node(meshName=mesh, virtualNodeName=name, spec=spec)
    return name


def _router(env: Env, mesh: str, listeners: list[dict] | None = None) -> str:
    name = env.name("vr")
    _am(env).create_virtual_router(meshName=mesh, virtualRouterName=name,
                                   spec={"listeners": listeners or [HTTP]})
    return name


def _service(env: Env, mesh: str, provider: dict | None = None) -> str:
    name = f"{env.name('svc')}.local"
    _am(env).create_virtual_service(meshName=mesh, virtualServiceName=name,
                                    spec={"provider": provider} if provider else {})
    return name


def _gateway(env: Env, mesh: str, **listener: Any) -> str:
    name = env.name("vg")
    _am(env).create_virtual_gateway(meshName=mesh, virtualGatewayName=name,
                                    spec={"listeners": [{**HTTP, **listener}]})
    return name


def _http_route(targets: list[tuple[str, int]]) -> dict:
    return {"httpRoute": {"match": {"prefix": "/"}, "action": {
        "weightedTargets": [{"virtualNode": n, "weight": w} for n, w in targets]}}}


def _route_with(weights: list[int], unknown: bool = False) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        mesh = _mesh(env)
        router = _router(env, mesh)
        nodes = [_node(env, mesh) for _ in weights[:2]]
        names = [("ghost-node" if unknown else nodes[i % len(nodes)]) for i in range(len(weights))]
        return _am(env).create_route(meshName=mesh, virtualRouterName=router, routeName="r",
                                     spec=_http_route(list(zip(names, weights))))
    return call


TCP = {"portMapping": {"port": 5432, "protocol": "tcp"}}


def _tcp_route(env: Env) -> Any:
    """A tcp route on a router and to a node that listen on tcp (routes.html: the route type
    matches the listener protocol of the router and of the target node)."""
    mesh = _mesh(env)
    router = _router(env, mesh, [TCP])
    node = _node(env, mesh, listeners=[TCP], serviceDiscovery={"dns": {"hostname": "db.local"}})
    return _am(env).create_route(meshName=mesh, virtualRouterName=router, routeName="tcp", spec={
        "tcpRoute": {"action": {"weightedTargets": [{"virtualNode": node, "weight": 1}]}}})


def _mesh_call(**kwargs: Any) -> Callable[[Env], Any]:
    return lambda env: _mesh(env, **kwargs)


def _node_tls(mode: str, certificate: dict) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        mesh = _mesh(env)
        return _node(env, mesh, listeners=[{**HTTP, "tls": {"mode": mode, "certificate": certificate}}],
                     serviceDiscovery={"dns": {"hostname": "tls.local"}})
    return call


def _gateway_tls(mode: str) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        mesh = _mesh(env)
        return _gateway(env, mesh, tls={"mode": mode, "certificate": {"acm": {"certificateArn": ACM_CERT}}})
    return call


def _cloud_map(attributes: list | None) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        mesh = _mesh(env)
        cloud_map: dict[str, Any] = {"namespaceName": "mylearning.local", "serviceName": "catalog"}
        if attributes is not None:
            cloud_map["attributes"] = attributes
        return _node(env, mesh, listeners=[HTTP], serviceDiscovery={"awsCloudMap": cloud_map})
    return call


def _backend(known: bool) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        mesh = _mesh(env)
        service = _service(env, mesh) if known else "ghost.local"
        return _node(env, mesh, listeners=[HTTP], serviceDiscovery={"dns": {"hostname": "fe.local"}},
                     backends=[{"virtualService": {"virtualServiceName": service}}])
    return call


def _gateway_route(known: bool) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        mesh = _mesh(env)
        gateway = _gateway(env, mesh)
        service = _service(env, mesh) if known else "ghost.local"
        return _am(env).create_gateway_route(
            meshName=mesh, virtualGatewayName=gateway, gatewayRouteName="gr",
            spec={"httpRoute": {"match": {"prefix": "/"},
                                "action": {"target": {"virtualService": {"virtualServiceName": service}}}}})
    return call


def _delete_node_used_by_route(env: Env) -> Any:
    mesh = _mesh(env)
    router = _router(env, mesh)
    node = _node(env, mesh)
    _am(env).create_route(meshName=mesh, virtualRouterName=router, routeName="r",
                          spec=_http_route([(node, 100)]))
    return _am(env).delete_virtual_node(meshName=mesh, virtualNodeName=node)


def _delete_node_providing_service(env: Env) -> Any:
    mesh = _mesh(env)
    node = _node(env, mesh)
    _service(env, mesh, {"virtualNode": {"virtualNodeName": node}})
    return _am(env).delete_virtual_node(meshName=mesh, virtualNodeName=node)


def _delete_unused_node(env: Env) -> Any:
    mesh = _mesh(env)
    node = _node(env, mesh)
    return _am(env).delete_virtual_node(meshName=mesh, virtualNodeName=node)


def _delete_router_with_routes(env: Env) -> Any:
    mesh = _mesh(env)
    router = _router(env, mesh)
    node = _node(env, mesh)
    _am(env).create_route(meshName=mesh, virtualRouterName=router, routeName="r",
                          spec=_http_route([(node, 100)]))
    return _am(env).delete_virtual_router(meshName=mesh, virtualRouterName=router)


def _delete_gateway_with_routes(env: Env) -> Any:
    mesh = _mesh(env)
    gateway = _gateway(env, mesh)
    service = _service(env, mesh)
    _am(env).create_gateway_route(
        meshName=mesh, virtualGatewayName=gateway, gatewayRouteName="gr",
        spec={"httpRoute": {"match": {"prefix": "/"},
                            "action": {"target": {"virtualService": {"virtualServiceName": service}}}}})
    return _am(env).delete_virtual_gateway(meshName=mesh, virtualGatewayName=gateway)


def _delete_mesh_holding(kind: str) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        mesh = _mesh(env)
        if kind == "node":
            _node(env, mesh)
        elif kind == "service":
            _service(env, mesh)
        elif kind == "gateway":
            _gateway(env, mesh)
        return _am(env).delete_mesh(meshName=mesh)
    return call


def _describe_missing_node(env: Env) -> Any:
    return _am(env).describe_virtual_node(meshName=_mesh(env), virtualNodeName="ghost")


def _describe_missing_mesh(env: Env) -> Any:
    return _am(env).describe_mesh(meshName=env.name("ghost-mesh"))


def _duplicate_node(env: Env) -> Any:
    mesh = _mesh(env)
    node = _node(env, mesh)
    return _node(env, mesh, node)


def _duplicate_mesh(env: Env) -> Any:
    mesh = _mesh(env)
    return _am(env).create_mesh(meshName=mesh)


def _service_with(provider: str) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        mesh = _mesh(env)
        if provider == "node":
            spec = {"virtualNode": {"virtualNodeName": _node(env, mesh)}}
        elif provider == "router":
            spec = {"virtualRouter": {"virtualRouterName": _router(env, mesh)}}
        elif provider == "ghost-node":
            spec = {"virtualNode": {"virtualNodeName": "ghost"}}
        elif provider == "ghost-router":
            spec = {"virtualRouter": {"virtualRouterName": "ghost"}}
        else:
            spec = None
        return _service(env, mesh, spec)
    return call


def _describe_missing_service(env: Env) -> Any:
    return _am(env).describe_virtual_service(meshName=_mesh(env), virtualServiceName="ghost.local")


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise BehaviourMismatch(message)


def _metadata_shape(meta: dict, what: str) -> None:
    for key in ("arn", "uid", "version", "createdAt", "lastUpdatedAt", "meshOwner", "resourceOwner"):
        _expect(key in meta, f"{what} metadata lacks {key}")


def _service_lifecycle(env: Env) -> Any:
    am = _am(env)
    mesh = _mesh(env)
    node, router = _node(env, mesh), _router(env, mesh)
    name = f"{env.name('svc')}.local"
    created = am.create_virtual_service(meshName=mesh, virtualServiceName=name, spec={
        "provider": {"virtualNode": {"virtualNodeName": node}}})["virtualService"]
    _metadata_shape(created["metadata"], "CreateVirtualService")
    _expect(created["status"]["status"] == "ACTIVE", "a new virtual service is not ACTIVE")
    _expect(created["metadata"]["arn"].endswith(f":mesh/{mesh}/virtualService/{name}"), "ARN shape")
    described = am.describe_virtual_service(meshName=mesh, virtualServiceName=name)["virtualService"]
    _expect(described["spec"] == created["spec"], "describe does not return the spec")
    listed = am.list_virtual_services(meshName=mesh)["virtualServices"]
    _expect([s["virtualServiceName"] for s in listed] == [name], "list does not show the service")
    updated = am.update_virtual_service(meshName=mesh, virtualServiceName=name, spec={
        "provider": {"virtualRouter": {"virtualRouterName": router}}})["virtualService"]
    _expect(updated["metadata"]["version"] == 2, "update does not raise the version")
    deleted = am.delete_virtual_service(meshName=mesh, virtualServiceName=name)["virtualService"]
    _expect(deleted["status"]["status"] == "DELETED", "delete does not answer status DELETED")
    _expect(am.list_virtual_services(meshName=mesh)["virtualServices"] == [], "deleted service still listed")


def _gateway_lifecycle(env: Env) -> Any:
    am = _am(env)
    mesh = _mesh(env)
    service = _service(env, mesh)
    gateway = _gateway(env, mesh)
    spec = {"httpRoute": {"match": {"prefix": "/"},
                          "action": {"target": {"virtualService": {"virtualServiceName": service}}}}}
    route = am.create_gateway_route(meshName=mesh, virtualGatewayName=gateway,
                                    gatewayRouteName="web", spec=spec)["gatewayRoute"]
    _metadata_shape(route["metadata"], "CreateGatewayRoute")
    _expect(am.describe_virtual_gateway(meshName=mesh, virtualGatewayName=gateway)
            ["virtualGateway"]["spec"]["listeners"][0]["portMapping"]["port"] == 8080, "gateway spec")
    listed = am.list_gateway_routes(meshName=mesh, virtualGatewayName=gateway)["gatewayRoutes"]
    _expect([r["gatewayRouteName"] for r in listed] == ["web"], "gateway route not listed")
    spec["httpRoute"]["match"]["prefix"] = "/api"
    updated = am.update_gateway_route(meshName=mesh, virtualGatewayName=gateway,
                                      gatewayRouteName="web", spec=spec)["gatewayRoute"]
    _expect(updated["metadata"]["version"] == 2, "update does not raise the version")
    am.delete_gateway_route(meshName=mesh, virtualGatewayName=gateway, gatewayRouteName="web")
    am.delete_virtual_gateway(meshName=mesh, virtualGatewayName=gateway)
    _expect(am.list_virtual_gateways(meshName=mesh)["virtualGateways"] == [], "gateway still listed")


def _unique_uids(env: Env) -> Any:
    mesh = _mesh(env)
    uids = {_am(env).describe_mesh(meshName=mesh)["mesh"]["metadata"]["uid"]}
    for _ in range(2):
        node = _node(env, mesh)
        uids.add(_am(env).describe_virtual_node(meshName=mesh, virtualNodeName=node)
                 ["virtualNode"]["metadata"]["uid"])
    _expect(len(uids) == 3, "resources share a uid")


def _created_at_now(env: Env) -> Any:
    first = _am(env).describe_mesh(meshName=_mesh(env))["mesh"]["metadata"]["createdAt"]
    time.sleep(1.1)
    second = _am(env).describe_mesh(meshName=_mesh(env))["mesh"]["metadata"]["createdAt"]
    now = datetime.datetime.now(datetime.timezone.utc)
    for stamp in (first, second):
        _expect(stamp.tzinfo is not None, f"createdAt {stamp} is not an epoch time (no time zone)")
        _expect(abs((now - stamp).total_seconds()) < 120, f"createdAt {stamp} is not the creation time")
    _expect((second - first).total_seconds() >= 1, "createdAt is the same for resources made apart")


def _arn_and_owner(env: Env) -> Any:
    mesh = _am(env).describe_mesh(meshName=_mesh(env))["mesh"]
    _expect(mesh["metadata"]["arn"].endswith(f":mesh/{mesh['meshName']}"), "mesh ARN lacks mesh/")
    _expect(mesh["metadata"]["meshOwner"].isdigit(), "meshOwner is not an account id")


def _case(id: str, call: Callable[[Env], Any], expect: str, page: str, kind: str = "validation") -> Case:
    return Case(f"appmesh.{id}", "appmesh", call, expect, API + page, kind)


BAD, MISSING, IN_USE = "BadRequestException", "NotFoundException", "ResourceInUseException"
ACM = {"acm": {"certificateArn": ACM_CERT}}
FILE = {"file": {"certificateChain": "/certs/chain.pem", "privateKey": "/certs/key.pem"}}

CASES = [
    _case("mesh.egress-filter-unknown", _mesh_call(spec={"egressFilter": {"type": "ALLOW_SOME"}}),
          BAD, "API_EgressFilter.html"),
    _case("mesh.egress-filter-drop-all", _mesh_call(spec={"egressFilter": {"type": "DROP_ALL"}}),
          OK, "API_EgressFilter.html"),
    _case("mesh.no-spec", _mesh_call(), OK, "API_CreateMesh.html"),
    _case("node.tls-mode-unknown", _node_tls("ON", ACM), BAD, "API_ListenerTls.html"),
    _case("node.tls-mode-lowercase", _node_tls("strict", ACM), BAD, "API_ListenerTls.html"),
    _case("node.tls-mode-strict", _node_tls("STRICT", ACM), OK, "API_ListenerTls.html"),
    _case("node.tls-mode-permissive", _node_tls("PERMISSIVE", FILE), OK, "API_ListenerTls.html"),
    _case("node.tls-mode-disabled", _node_tls("DISABLED", FILE), OK, "API_ListenerTls.html"),
    _case("gateway.tls-mode-unknown", _gateway_tls("MUTUAL"), BAD, "API_VirtualGatewayListenerTls.html"),
    _case("gateway.tls-mode-strict", _gateway_tls("STRICT"), OK, "API_VirtualGatewayListenerTls.html"),
    # "App Mesh doesn't validate the existence of those virtual services specified in backends."
    _case("node.backend-unknown-service", _backend(False), OK, "API_VirtualServiceBackend.html"),
    _case("node.backend-known-service", _backend(True), OK, "API_VirtualServiceBackend.html"),
    _case("node.cloud-map-without-attributes", _cloud_map(None), OK,
          "API_AwsCloudMapServiceDiscovery.html"),
    _case("node.cloud-map-with-attributes", _cloud_map([{"key": "ECS_TASK_DEFINITION_FAMILY",
                                                         "value": "catalog"}]), OK,
          "API_AwsCloudMapServiceDiscovery.html"),
    _case("route.target-unknown-node", _route_with([100], unknown=True), MISSING, "API_WeightedTarget.html"),
    _case("route.weight-above-100", _route_with([101]), BAD, "API_WeightedTarget.html"),
    _case("route.weights-total-above-100", _route_with([60, 60]), BAD, "API_WeightedTarget.html"),
    _case("route.weights-all-zero", _route_with([0, 0]), BAD, "API_WeightedTarget.html"),
    _case("route.eleven-targets", _route_with([1] * 11), BAD, "API_HttpRouteAction.html"),
    _case("route.canary-90-10", _route_with([90, 10]), OK, "API_WeightedTarget.html"),
    _case("route.cut-over-100-0", _route_with([100, 0]), OK, "API_WeightedTarget.html"),
    _case("route.weights-total-below-100", _route_with([1, 1]), OK, "API_WeightedTarget.html"),
    _case("route.tcp", _tcp_route, OK, "API_TcpRouteAction.html"),
    _case("gateway-route.target-unknown-service", _gateway_route(False), MISSING,
          "API_GatewayRouteVirtualService.html"),
    _case("gateway-route.target-known-service", _gateway_route(True), OK,
          "API_GatewayRouteVirtualService.html"),
    _case("delete.node-used-by-route", _delete_node_used_by_route, IN_USE, "API_DeleteVirtualNode.html"),
    _case("delete.node-providing-service", _delete_node_providing_service, IN_USE,
          "API_DeleteVirtualNode.html"),
    _case("delete.unused-node", _delete_unused_node, OK, "API_DeleteVirtualNode.html"),
    _case("delete.router-with-routes", _delete_router_with_routes, IN_USE, "API_DeleteVirtualRouter.html"),
    _case("delete.gateway-with-routes", _delete_gateway_with_routes, IN_USE,
          "API_DeleteVirtualGateway.html"),
    _case("delete.mesh-with-node", _delete_mesh_holding("node"), IN_USE, "API_DeleteMesh.html"),
    _case("delete.mesh-with-service", _delete_mesh_holding("service"), IN_USE, "API_DeleteMesh.html"),
    _case("delete.mesh-with-gateway", _delete_mesh_holding("gateway"), IN_USE, "API_DeleteMesh.html"),
    _case("delete.empty-mesh", _delete_mesh_holding("nothing"), OK, "API_DeleteMesh.html"),
    _case("errors.describe-missing-node", _describe_missing_node, MISSING, "API_DescribeVirtualNode.html"),
    _case("errors.describe-missing-mesh", _describe_missing_mesh, MISSING, "API_DescribeMesh.html"),
    _case("errors.duplicate-node", _duplicate_node, "ConflictException", "API_CreateVirtualNode.html"),
    _case("errors.duplicate-mesh", _duplicate_mesh, "ConflictException", "API_CreateMesh.html"),
    _case("service.provider-node", _service_with("node"), OK, "API_CreateVirtualService.html"),
    _case("service.provider-router", _service_with("router"), OK, "API_CreateVirtualService.html"),
    _case("service.no-provider", _service_with("none"), OK, "API_VirtualServiceSpec.html"),
    _case("service.provider-unknown-node", _service_with("ghost-node"), MISSING,
          "API_VirtualNodeServiceProvider.html"),
    _case("service.provider-unknown-router", _service_with("ghost-router"), MISSING,
          "API_VirtualRouterServiceProvider.html"),
    _case("service.describe-missing", _describe_missing_service, MISSING,
          "API_DescribeVirtualService.html"),
    _case("service.lifecycle", _service_lifecycle, OK, "API_VirtualServiceData.html", "behaviour"),
    _case("gateway.lifecycle", _gateway_lifecycle, OK, "API_GatewayRouteData.html", "behaviour"),
    _case("metadata.unique-uids", _unique_uids, OK, "API_ResourceMetadata.html", "behaviour"),
    _case("metadata.created-at", _created_at_now, OK, "API_ResourceMetadata.html", "behaviour"),
    _case("metadata.mesh-arn-and-owner", _arn_and_owner, OK, "API_ResourceMetadata.html", "behaviour"),
]
