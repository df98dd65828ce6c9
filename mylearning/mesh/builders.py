"""Building a mesh: find before create, tag what is created, change only when asked.

Each ``ensure_*`` returns the API's resource dict, with its ``"tags"`` (ListTagsForResource's
{"key", "value"} list, so `mylearning.lookup.is_course_tagged` reads them). An existing
resource is left as it is unless ``update=True`` (then it gets the requested spec if it
differs): re-running an early cell must not undo a later step, such as a canary's new
weights (`set_weights`). A same-named resource the course did not make raises
`NotCourseResource` and is never changed.
"""
from __future__ import annotations

import copy
from typing import Any, Iterable, Mapping

from mylearning import lookup
from mylearning.facts import appmesh as facts
from mylearning.mesh.specs import (ACCESS_LOG, drop_none, gateway_route_spec, mesh_spec, route_spec, same_spec,
                                   virtual_gateway_spec, virtual_node_spec, virtual_router_spec, virtual_service_spec,
                                   weighted_targets)


class NotCourseResource(RuntimeError):
    """An App Mesh resource of that name exists but was not made by the course for you."""


def mesh_name(session: Any) -> str:
    """The learner's mesh, e.g. ``ml-alice-mesh`` (mesh names are unique in an account)."""
    return session.name("mesh")


def virtual_service_name(session: Any, service: str) -> str:
    """The virtual service of a MyLearning service: the name its callers already use, its
    Cloud Map name (``courses-api.ml-alice.internal``)."""
    from mylearning.cloudmap import namespace_name
    return f"{service}.{namespace_name(session)}"


def _ident(kind: str, mesh: str, name: str, parent: str | None) -> dict:
    _, name_param, parent_param = facts.KINDS[kind]
    ident = {"meshName": mesh}
    if kind != "mesh":
        ident[name_param] = name
    if parent_param:
        ident[parent_param] = parent
    return ident


def _ours_or_raise(session: Any, am: Any, kind: str, found: dict) -> dict:
    tags = lookup.appmesh_tags(am, found["metadata"]["arn"])
    found = dict(found, tags=tags)
    if not lookup.is_course_tagged(found, session):
        raise NotCourseResource(f"{kind} {found['metadata']['arn']} exists but the course did not make it for "
                                f"{session.learner}; it is left alone (choose another name).")
    return found


def _ensure(session: Any, lab: str, kind: str, mesh: str, name: str, spec: dict, *,
            parent: str | None = None, update: bool = False) -> dict:
    am = session.client("appmesh")
    noun = facts.KINDS[kind][0]
    ident = _ident(kind, mesh, name, parent)
    found = lookup.appmesh_describe(am, kind, mesh, name, parent)
    if found is None:
        tags = session.tags(lab, style="key")
        created = getattr(am, f"create_{noun}")(**ident, spec=drop_none(spec), tags=tags)[kind]
        return dict(created, tags=tags)
    found = _ours_or_raise(session, am, kind, found)
    if update and not same_spec(spec, found.get("spec") or {}):
        updated = getattr(am, f"update_{noun}")(**ident, spec=drop_none(spec))[kind]
        found = dict(updated, tags=found["tags"])
    return found


def ensure_mesh(session: Any, lab: str, name: str, egress: str = "DROP_ALL", *, update: bool = False) -> dict:
    """The mesh `name` (use `mesh_name`); its egress filter changes with `set_egress_filter`."""
    return _ensure(session, lab, "mesh", name, name, mesh_spec(egress), update=update)


def set_egress_filter(session: Any, mesh: str, egress: str) -> dict:
    """Change the mesh's egress filter (UpdateMesh), keeping the rest of its spec."""
    wanted = mesh_spec(egress)["egressFilter"]
    am = session.client("appmesh")
    found = lookup.appmesh_describe(am, "mesh", mesh, mesh)
    if found is None:
        raise LookupError(f"There is no mesh {mesh}.")
    found = _ours_or_raise(session, am, "mesh", found)
    spec = dict(found.get("spec") or {}, egressFilter=wanted)
    if same_spec(spec, found.get("spec") or {}):
        return found
    return dict(am.update_mesh(meshName=mesh, spec=drop_none(spec))["mesh"], tags=found["tags"])


def ensure_virtual_node(session: Any, lab: str, mesh: str, name: str, *, port: int | None = 8080,
                        protocol: str = "http", discovery: Any = None,
                        backends: Iterable[str] | Mapping[str, dict | None] = (), health_check: Any = None,
                        access_log: str | None = ACCESS_LOG, tls: dict | None = None,
                        client_policy: dict | None = None, update: bool = False) -> dict:
    """A virtual node: the stand-in for one ECS service's tasks (arguments: `virtual_node_spec`).

    App Mesh itself does not check that the backends exist, so nodes and services may be
    made in either order (API_VirtualServiceBackend.html); the embedded AWS, for now, wants
    the backends' virtual services made first."""
    spec = virtual_node_spec(port=port, protocol=protocol, discovery=discovery, backends=backends,
                             health_check=health_check, access_log=access_log, tls=tls,
                             client_policy=client_policy)
    return _ensure(session, lab, "virtualNode", mesh, name, spec, update=update)


def ensure_virtual_service(session: Any, lab: str, mesh: str, name: str, *, provider_node: str | None = None,
                           provider_router: str | None = None, update: bool = False) -> dict:
    """A virtual service, provided by a virtual node or a virtual router (`virtual_service_name`)."""
    spec = virtual_service_spec(provider_node=provider_node, provider_router=provider_router)
    return _ensure(session, lab, "virtualService", mesh, name, spec, update=update)


def ensure_virtual_router(session: Any, lab: str, mesh: str, name: str, *, port: int = 8080,
                          protocol: str = "http", update: bool = False) -> dict:
    """A virtual router, which spreads a virtual service's traffic over nodes by its routes."""
    return _ensure(session, lab, "virtualRouter", mesh, name, virtual_router_spec(port=port, protocol=protocol),
                   update=update)


def ensure_route(session: Any, lab: str, mesh: str, router: str, name: str, weights: Mapping[str, int], *,
                 protocol: str = "http", prefix: str | None = "/", path: str | None = None, headers: Any = None,
                 method: str | None = None, retry_policy: dict | None = None, timeout: Any = None,
                 priority: int | None = None, port: int | None = None, update: bool = False) -> dict:
    """A route of `router` (arguments: `route_spec`); change its weights with `set_weights`."""
    spec = route_spec(weights, protocol=protocol, prefix=prefix, path=path, headers=headers, method=method,
                      retry_policy=retry_policy, timeout=timeout, priority=priority, port=port)
    return _ensure(session, lab, "route", mesh, name, spec, parent=router, update=update)


def set_weights(session: Any, mesh: str, router: str, route: str, weights: Mapping[str, int]) -> dict:
    """Give the route's targets new weights (UpdateRoute), keeping its match, retries and
    timeouts: the canary's knob (90/10, then 50/50, then 0/100). Proxies pick the change up
    within seconds; nothing is redeployed."""
    targets = weighted_targets(weights)
    am = session.client("appmesh")
    found = lookup.appmesh_describe(am, "route", mesh, route, router)
    if found is None:
        raise LookupError(f"There is no route {route} in virtual router {router} of mesh {mesh}.")
    found = _ours_or_raise(session, am, "route", found)
    spec = copy.deepcopy(found["spec"])
    kind = next((k for k in facts.ROUTE_TYPES.values() if spec.get(k)), None)
    if kind is None:
        raise LookupError(f"Route {route} of {router} has no route type App Mesh documents ({sorted(spec)}).")
    ports = {t["virtualNode"]: t["port"] for t in spec[kind]["action"]["weightedTargets"] if t.get("port")}
    spec[kind]["action"]["weightedTargets"] = [dict(t, port=ports[t["virtualNode"]]) if t["virtualNode"] in ports
                                               else t for t in targets]
    updated = am.update_route(meshName=mesh, virtualRouterName=router, routeName=route,
                              spec=drop_none(spec))["route"]
    return dict(updated, tags=found["tags"])


def ensure_virtual_gateway(session: Any, lab: str, mesh: str, name: str, *, port: int = 8080,
                           protocol: str = "http", tls: dict | None = None, client_policy: dict | None = None,
                           access_log: str | None = ACCESS_LOG, health_check: Any = None,
                           update: bool = False) -> dict:
    """A virtual gateway: where traffic from outside the mesh comes in (arguments: `virtual_gateway_spec`)."""
    spec = virtual_gateway_spec(port=port, protocol=protocol, tls=tls, client_policy=client_policy,
                                access_log=access_log, health_check=health_check)
    return _ensure(session, lab, "virtualGateway", mesh, name, spec, update=update)


def ensure_gateway_route(session: Any, lab: str, mesh: str, gateway: str, name: str, service: str, *,
                         protocol: str = "http", prefix: str | None = "/", path: str | None = None,
                         headers: Any = None, keep_prefix: bool = False, rewrite_prefix: str | None = None,
                         priority: int | None = None, port: int | None = None, target_port: int | None = None,
                         update: bool = False) -> dict:
    """A gateway route of `gateway` to the virtual service `service` (arguments: `gateway_route_spec`)."""
    spec = gateway_route_spec(service, protocol=protocol, prefix=prefix, path=path, headers=headers,
                              keep_prefix=keep_prefix, rewrite_prefix=rewrite_prefix, priority=priority,
                              port=port, target_port=target_port)
    return _ensure(session, lab, "gatewayRoute", mesh, name, spec, parent=gateway, update=update)


def ensure_node_like(session: Any, lab: str, mesh: str, name: str, like: str, *, discovery: Any) -> dict:
    """A virtual node for a new version of the service that node `like` stands for: `like`'s
    listeners (TLS included), health checks, backends and logging, with its own `discovery`, so
    callers reach the two versions apart (a canary's or a beta's node; userguide/virtual_nodes.html).
    Made from `like`'s current spec, and updated to it when it exists."""
    am = session.client("appmesh")
    found = lookup.appmesh_describe(am, "virtualNode", mesh, like)
    if found is None:
        raise LookupError(f"There is no virtual node {like} in mesh {mesh} to copy.")
    spec = copy.deepcopy(found.get("spec") or {})
    spec["serviceDiscovery"] = discovery
    return _ensure(session, lab, "virtualNode", mesh, name, spec, update=True)
