"""The listeners of the mesh resources a request refers to, read from moto's state (and from
the virtual services we keep), for rules that relate a request to them: route types against
router listeners, target ports against node listeners, port matches against gateways."""
from __future__ import annotations

from typing import Any

from mylearning.emulator.fidelity.core import AwsRequest
from mylearning.emulator.fidelity.appmesh.access import _SERVICES, _mesh

#: route (and gateway route) kind -> the listener protocol it serves
ROUTE_PROTOCOL = {"httpRoute": "http", "http2Route": "http2", "grpcRoute": "grpc", "tcpRoute": "tcp"}


def listeners_of(resource: Any) -> list[dict] | None:
    """[{'port': 8080, 'protocol': 'http'}, ...] of a moto node, router or gateway; None if
    moto's object can't be read (a rule then steps aside)."""
    if resource is None:
        return None
    try:
        spec = resource.to_dict().get("spec") or {}
    except Exception:
        return None
    found = []
    for listener in spec.get("listeners") or []:
        mapping = (listener or {}).get("portMapping") or {}
        found.append({"port": mapping.get("port"), "protocol": mapping.get("protocol")})
    return found


def router_listeners(req: AwsRequest, name: str | None) -> list[dict] | None:
    mesh = _mesh(req)
    return listeners_of(mesh.virtual_routers.get(name)) if mesh is not None else None


def node_listeners(req: AwsRequest, name: str | None) -> list[dict] | None:
    mesh = _mesh(req)
    return listeners_of(mesh.virtual_nodes.get(name)) if mesh is not None else None


def gateway_listeners(req: AwsRequest, name: str | None) -> list[dict] | None:
    mesh = _mesh(req)
    return listeners_of(mesh.virtual_gateways.get(name)) if mesh is not None else None


def provider_listeners(req: AwsRequest, service: str | None) -> list[dict] | None:
    """Listeners of the node or router that provides a virtual service; None without one."""
    record = _SERVICES.get((req.region, req.params.get("meshName", "")), {}).get(service or "")
    provider = ((record or {}).get("spec") or {}).get("provider") or {}
    if "virtualNode" in provider:
        return node_listeners(req, (provider["virtualNode"] or {}).get("virtualNodeName"))
    if "virtualRouter" in provider:
        return router_listeners(req, (provider["virtualRouter"] or {}).get("virtualRouterName"))
    return None
