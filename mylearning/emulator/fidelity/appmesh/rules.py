"""App Mesh requests AWS rejects and moto accepts, answered with AWS's error codes.

Names taken, references to resources that do not exist, route weights, and
deletes of resources still in use (one rule each).
"""
from __future__ import annotations

from typing import Iterator

from mylearning.emulator.fidelity.core import AwsRequest, rule
from mylearning.emulator.fidelity.appmesh.access import (GATEWAY_ROUTE_KINDS, ROUTE_KINDS, SERVICE,
                                                         _SERVICES, _account, _body, _mesh,
                                                         _replace_body)
from mylearning.emulator.fidelity.appmesh.errors import bad_request, conflict, in_use, not_found

# ---------------------------------------------------------------- names taken

@rule(SERVICE, "CreateMesh")
def mesh_name_free(req: AwsRequest) -> None:
    """A mesh name is unique in the account; moto 5.2 silently replaces the existing
    mesh and everything in it. AWS answers ConflictException (API_CreateMesh.html, Errors)."""
    if _mesh(req) is not None:
        raise conflict(f"Mesh with name {req.params.get('meshName')} already exists for account "
                       f"{_account()}.")


# ---------------------------------------------------------------- references

def _service_names(req: AwsRequest) -> set[str]:
    return set(_SERVICES.get((req.region, req.params.get("meshName", "")), {}))


def _weighted_targets(spec: dict) -> Iterator[tuple[str, list]]:
    for kind in ROUTE_KINDS:
        targets = (((spec or {}).get(kind) or {}).get("action") or {}).get("weightedTargets")
        if isinstance(targets, list):
            yield kind, targets


@rule(SERVICE, "CreateRoute", "UpdateRoute")
def route_weights(req: AwsRequest) -> None:
    """The total weight of a route's targets is at most 100 and some target must
    carry traffic (API_WeightedTarget.html: "The total weight for all targets
    combined must be less than or equal to 100")."""
    for kind, targets in _weighted_targets(req.params.get("spec") or {}):
        weights = [t.get("weight") for t in targets if isinstance(t, dict)]
        numbers = [w for w in weights if isinstance(w, int)]
        if sum(numbers) > 100:
            raise bad_request(f"The weights of {kind}.action.weightedTargets add up to "
                              f"{sum(numbers)}; the total must be at most 100.")
        if numbers and len(numbers) == len(weights) and not any(numbers):
            raise bad_request(f"Every target in {kind}.action.weightedTargets has weight 0; "
                              "at least one target needs a weight above 0.")


@rule(SERVICE, "CreateRoute", "UpdateRoute")
def route_targets_exist(req: AwsRequest) -> None:
    """A route's weighted targets name virtual nodes of the same mesh
    (API_WeightedTarget.html: "The virtual node to associate with the weighted target")."""
    mesh = _mesh(req)
    if mesh is None:
        return
    for _, targets in _weighted_targets(req.params.get("spec") or {}):
        for target in targets:
            name = (target or {}).get("virtualNode")
            if name and name not in mesh.virtual_nodes:
                raise not_found(f"VirtualNode with name {name} is not present under mesh "
                                f"{mesh.mesh_name} for account {_account()}.")


@rule(SERVICE, "CreateGatewayRoute", "UpdateGatewayRoute")
def gateway_route_targets_exist(req: AwsRequest) -> None:
    """A gateway route's target is a virtual service of the mesh
    (API_GatewayRouteVirtualService.html)."""
    if _mesh(req) is None:
        return
    spec = req.params.get("spec") or {}
    known = _service_names(req)
    for kind in GATEWAY_ROUTE_KINDS:
        target = (((spec.get(kind) or {}).get("action") or {}).get("target") or {})
        name = (target.get("virtualService") or {}).get("virtualServiceName")
        if name and name not in known:
            raise not_found(f"VirtualService with name {name} is not present under mesh "
                            f"{req.params.get('meshName')} for account {_account()}.")


# A virtual node's backends may name virtual services that do not exist (yet): "App Mesh
# doesn't validate the existence of those virtual services specified in backends. This is
# to prevent a cyclic dependency between virtual nodes and virtual services creation"
# (API_VirtualServiceBackend.html). The proxy answers such a backend's requests with 503
# (mylearning.dataplane.mesh.routing).


@rule(SERVICE, "CreateVirtualNode", "UpdateVirtualNode")
def cloud_map_attributes_optional(req: AwsRequest) -> None:
    """Not a check: ``awsCloudMap.attributes`` is optional
    (API_AwsCloudMapServiceDiscovery.html, attributes "Required: No"), but moto 5.2
    rejects its absence. We hand moto an empty list, which it leaves out of answers."""
    body = _body(req)
    cloud_map = ((body.get("spec") or {}).get("serviceDiscovery") or {}).get("awsCloudMap")
    if isinstance(cloud_map, dict) and cloud_map.get("attributes") is None:
        cloud_map["attributes"] = []
        _replace_body(req, body)


# ---------------------------------------------------------------- deletes of resources in use

def _providers(req: AwsRequest) -> Iterator[tuple[str, dict]]:
    for name, record in list(_SERVICES.get((req.region, req.params.get("meshName", "")), {}).items()):
        yield name, (record["spec"].get("provider") or {})


@rule(SERVICE, "DeleteVirtualNode")
def node_not_in_use(req: AwsRequest) -> None:
    """A virtual node can't be deleted while a virtual service names it as provider
    (API_DeleteVirtualNode.html) or a route sends traffic to it."""
    mesh = _mesh(req)
    node = req.params.get("virtualNodeName")
    if mesh is None or node not in mesh.virtual_nodes:
        return
    for service, provider in _providers(req):
        if (provider.get("virtualNode") or {}).get("virtualNodeName") == node:
            raise in_use(f"VirtualNode {node} is the provider of VirtualService {service}; "
                         "update or delete the virtual service first.")
    for router in mesh.virtual_routers.values():
        for route in router.routes.values():
            spec = route.spec.to_dict() if hasattr(route.spec, "to_dict") else {}
            for _, targets in _weighted_targets(spec):
                if any((t or {}).get("virtualNode") == node for t in targets):
                    raise in_use(f"VirtualNode {node} is a target of route {route.route_name} "
                                 f"of VirtualRouter {router.virtual_router_name}; update or "
                                 "delete the route first.")


@rule(SERVICE, "DeleteVirtualRouter")
def router_not_in_use(req: AwsRequest) -> None:
    """A virtual router can't be deleted while it has routes or a virtual service names
    it as provider (API_DeleteVirtualRouter.html)."""
    mesh = _mesh(req)
    name = req.params.get("virtualRouterName")
    if mesh is None or name not in mesh.virtual_routers:
        return
    if mesh.virtual_routers[name].routes:
        raise in_use(f"VirtualRouter {name} still has routes; delete them first.")
    for service, provider in _providers(req):
        if (provider.get("virtualRouter") or {}).get("virtualRouterName") == name:
            raise in_use(f"VirtualRouter {name} is the provider of VirtualService {service}; "
                         "update or delete the virtual service first.")


@rule(SERVICE, "DeleteVirtualGateway")
def gateway_not_in_use(req: AwsRequest) -> None:
    """A virtual gateway can't be deleted while it has gateway routes
    (API_DeleteVirtualGateway.html)."""
    mesh = _mesh(req)
    name = req.params.get("virtualGatewayName")
    if mesh is not None and name in mesh.virtual_gateways and mesh.virtual_gateways[name].gateway_routes:
        raise in_use(f"VirtualGateway {name} still has gateway routes; delete them first.")


@rule(SERVICE, "DeleteMesh")
def mesh_empty(req: AwsRequest) -> None:
    """A mesh can't be deleted while it holds resources: "You must delete all
    resources (virtual services, routes, virtual routers, and virtual nodes) in the
    service mesh before you can delete the mesh itself" (API_DeleteMesh.html)."""
    mesh = _mesh(req)
    if mesh is None:
        return
    kinds = [("virtual services", _service_names(req)), ("virtual nodes", mesh.virtual_nodes),
             ("virtual routers", mesh.virtual_routers), ("virtual gateways", mesh.virtual_gateways)]
    held = [f"{len(items)} {kind}" for kind, items in kinds if items]
    if held:
        raise in_use(f"Mesh {mesh.mesh_name} still has {', '.join(held)}; delete them first.")


# ---------------------------------------------------------------- cross-field rules
# Registered by importing them here (after the rules above, so references are checked
# first): one member where one is allowed, then routes, gateway routes and listeners.
from mylearning.emulator.fidelity.appmesh import one_of as _one_of  # noqa: E402,F401
from mylearning.emulator.fidelity.appmesh import route_rules as _route_rules  # noqa: E402,F401
from mylearning.emulator.fidelity.appmesh import gateway_routes as _gateway_routes  # noqa: E402,F401
from mylearning.emulator.fidelity.appmesh import listener_rules as _listener_rules  # noqa: E402,F401
