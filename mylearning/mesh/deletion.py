"""Tearing a mesh down in an order App Mesh accepts, for the lab modules' teardown plans."""
from __future__ import annotations

from typing import Any, Mapping

from mylearning import lookup
from mylearning.removals import Action, Plan


def delete_mesh_plan(session: Any, mesh: str, lab: str | None = None) -> Plan:
    """The course's resources of `mesh` (only those of `lab`, if given), in an order App Mesh
    deletes them in: it refuses to delete what another resource still uses
    (ResourceInUseException). Gateway routes before their gateway
    (API_DeleteVirtualGateway.html), routes before their router (API_DeleteVirtualRouter.html),
    virtual services before the routers and nodes that provide them
    (API_DeleteVirtualNode.html), and the mesh last, once empty (API_DeleteMesh.html).
    Backends do not hold a service: App Mesh doesn't validate them (API_VirtualNodeSpec.html).

    Nothing is deleted until the plan is run: ``delete_mesh_plan(...).run(execute=True)``.
    A mesh that is not the course's gives an empty plan: nothing in it is touched."""
    am = session.client("appmesh")
    found = lookup.appmesh_describe(am, "mesh", mesh, mesh)
    if found is None:
        return Plan([])
    mesh_tags = {"tags": lookup.appmesh_tags(am, found["metadata"]["arn"])}
    if not lookup.is_course_tagged(mesh_tags, session):
        return Plan([])
    actions: list[Action] = []

    def add(what: str, ident: str, ref: Mapping[str, Any], delete: Any, **kwargs: str) -> None:
        if lookup.is_course_tagged({"tags": lookup.appmesh_tags(am, ref["arn"])}, session, lab):
            actions.append(Action(f"App Mesh {what}", ident, lambda: delete(meshName=mesh, **kwargs)))

    gateways = lookup.appmesh_list(am, "virtualGateway", mesh)
    for gateway in gateways:
        g = gateway["virtualGatewayName"]
        for ref in lookup.appmesh_list(am, "gatewayRoute", mesh, g):
            add("gateway route", f"{g}/{ref['gatewayRouteName']}", ref, am.delete_gateway_route,
                virtualGatewayName=g, gatewayRouteName=ref["gatewayRouteName"])
    for ref in gateways:
        add("gateway", ref["virtualGatewayName"], ref, am.delete_virtual_gateway,
            virtualGatewayName=ref["virtualGatewayName"])
    routers = lookup.appmesh_list(am, "virtualRouter", mesh)
    for router in routers:
        r = router["virtualRouterName"]
        for ref in lookup.appmesh_list(am, "route", mesh, r):
            add("route", f"{r}/{ref['routeName']}", ref, am.delete_route,
                virtualRouterName=r, routeName=ref["routeName"])
    for ref in lookup.appmesh_list(am, "virtualService", mesh):
        add("service", ref["virtualServiceName"], ref, am.delete_virtual_service,
            virtualServiceName=ref["virtualServiceName"])
    for ref in routers:
        add("router", ref["virtualRouterName"], ref, am.delete_virtual_router,
            virtualRouterName=ref["virtualRouterName"])
    for ref in lookup.appmesh_list(am, "virtualNode", mesh):
        add("node", ref["virtualNodeName"], ref, am.delete_virtual_node,
            virtualNodeName=ref["virtualNodeName"])
    if lookup.is_course_tagged(mesh_tags, session, lab):
        actions.append(Action("App Mesh mesh", mesh, lambda: am.delete_mesh(meshName=mesh)))
    return Plan(actions)
