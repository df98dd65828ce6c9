"""App Mesh API shapes (as Describe* answers them) and snapshots built from them, for the tables.

The shapes are the API reference's (API_VirtualNodeData.html, API_RouteData.html, ...), so a test
reads like the spec a learner writes.
"""
from __future__ import annotations

from mylearning.dataplane.mesh.model import (Snapshot, VirtualGateway, VirtualNode, VirtualRouter, VirtualService,
                                             freeze)

MESH = "mesh1"


def listener(port: int = 8080, protocol: str = "http", **extra) -> dict:
    return {"portMapping": {"port": port, "protocol": protocol}, **extra}


def node(name: str, *, listeners=(), backends=(), discovery=None, backend_defaults=None) -> dict:
    spec: dict = {"listeners": [listener() if li is None else li for li in listeners]}
    if backends:
        spec["backends"] = [{"virtualService": {"virtualServiceName": b}} if isinstance(b, str) else b
                            for b in backends]
    spec["serviceDiscovery"] = discovery or {"dns": {"hostname": f"{name}.local"}}
    if backend_defaults:
        spec["backendDefaults"] = backend_defaults
    return {"virtualNodeName": name, "meshName": MESH, "spec": spec,
            "metadata": {"arn": f"arn:aws:appmesh:us-east-1:123456789012:mesh/{MESH}/virtualNode/{name}"}}


def service(name: str, *, node_provider: str | None = None, router: str | None = None) -> dict:
    provider = ({"virtualNode": {"virtualNodeName": node_provider}} if node_provider else
                {"virtualRouter": {"virtualRouterName": router}} if router else None)
    return {"virtualServiceName": name, "spec": {"provider": provider} if provider else {}}


def router(name: str, *listeners: tuple[int, str]) -> dict:
    return {"virtualRouterName": name,
            "spec": {"listeners": [{"portMapping": {"port": p, "protocol": proto}} for p, proto in listeners]}}


def route(name: str, match: dict | None = None, targets=(("n1", 1),), *, kind: str = "httpRoute",
          priority: int | None = None, retry: dict | None = None, timeout: dict | None = None) -> dict:
    body: dict = {"action": {"weightedTargets": [
        {"virtualNode": t[0], "weight": t[1], **({"port": t[2]} if len(t) > 2 else {})} for t in targets]}}
    if match is not None or kind != "tcpRoute":
        body["match"] = {"prefix": "/"} if match is None else match
    if retry:
        body["retryPolicy"] = retry
    if timeout:
        body["timeout"] = timeout
    spec: dict = {kind: body}
    if priority is not None:
        spec["priority"] = priority
    return {"routeName": name, "spec": spec}


def gateway_route(name: str, match: dict, target: str = "svc.local", *, kind: str = "httpRoute",
                  priority: int | None = None, rewrite: dict | None = None, port: int | None = None) -> dict:
    action: dict = {"target": {"virtualService": {"virtualServiceName": target}, **({"port": port} if port else {})}}
    if rewrite:
        action["rewrite"] = rewrite
    spec: dict = {kind: {"match": match, "action": action}}
    if priority is not None:
        spec["priority"] = priority
    return {"gatewayRouteName": name, "spec": spec}


def snapshot(proxy: dict, *, services=(), routers=(), nodes=(), egress: str = "DROP_ALL") -> Snapshot:
    """``routers`` are (router shape, [route shapes]) pairs; ``proxy`` a node, or a gateway
    shape with ``"routes"``."""
    if "virtualGatewayName" in proxy:
        p = VirtualGateway.from_api(proxy, proxy.get("routes", []))
        all_nodes = {}
    else:
        p = VirtualNode.from_api(proxy)
        all_nodes = {p.name: p}
    all_nodes.update({n["virtualNodeName"]: VirtualNode.from_api(n) for n in nodes})
    return Snapshot(mesh=MESH, egress_filter=egress, proxy=p,
                    services=freeze({s["virtualServiceName"]: VirtualService.from_api(s) for s in services}),
                    routers=freeze({r["virtualRouterName"]: VirtualRouter.from_api(r, rs) for r, rs in routers}),
                    nodes=freeze(all_nodes), version="test")


def gateway(name: str = "gw", routes=(), listeners=((8080, "http"),)) -> dict:
    return {"virtualGatewayName": name, "routes": list(routes),
            "spec": {"listeners": [{"portMapping": {"port": p, "protocol": proto}} for p, proto in listeners]}}
