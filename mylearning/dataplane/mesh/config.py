"""The proxy's configuration, read through the App Mesh API (boto3) and nothing else.

Envoy in App Mesh names its resource with ``APPMESH_RESOURCE_ARN``
(``arn:aws:appmesh:REGION:ACCOUNT:mesh/MESH/virtualNode/NODE`` or ``.../virtualGateway/GW``), or,
in older task definitions, ``APPMESH_VIRTUAL_NODE_NAME`` (``mesh/MESH/virtualNode/NODE``)
(https://docs.aws.amazon.com/app-mesh/latest/userguide/envoy-config.html, "Required variables").
``parse_resource`` reads both.

``ConfigPoller.poll_once`` is what the sidecar calls every second or less: it lists the kinds of
resource the proxy depends on (one ``List*`` call each, paged) and describes only those whose
listed ``version``/``lastUpdatedAt`` changed since the previous poll (every ``*Ref`` carries them,
e.g. https://docs.aws.amazon.com/app-mesh/latest/APIReference/API_VirtualNodeRef.html), then
builds a new immutable ``Snapshot`` whose ``version`` is a hash of its content. The mesh itself is
described each time (one call: its egress filter). A missing mesh or proxy resource raises
``MeshResourceNotFound``, as Envoy would fail to be given any configuration; a backend that names a
virtual service which does not exist is simply absent from ``Snapshot.services`` (the routing table
answers its requests as App Mesh documents, see ``routing``).

How this differs from App Mesh's Envoy management service: that service pushes configuration over
xDS; we pull it through the public API, so a change reaches a proxy within one poll interval
(DESIGN.md asks for under 1 s).
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable, Mapping

from mylearning.dataplane.mesh.model import (Snapshot, VirtualGateway, VirtualNode, VirtualRouter,
                                             VirtualService, fingerprint, freeze)


class MeshConfigError(Exception):
    """The proxy's configuration cannot be read."""


class MeshResourceNotFound(MeshConfigError):
    """The mesh, or the proxy's own virtual node or gateway, does not exist."""


@dataclasses.dataclass(frozen=True)
class ProxyResource:
    mesh: str
    kind: str  # virtualNode | virtualGateway
    name: str
    region: str | None = None
    account: str | None = None

    @property
    def is_gateway(self) -> bool:
        return self.kind == "virtualGateway"


def parse_resource(text: str) -> ProxyResource:
    """``arn:aws:appmesh:us-east-1:123456789012:mesh/M/virtualNode/N`` or ``mesh/M/virtualNode/N``."""
    region = account = None
    path = text.strip()
    if path.startswith("arn:"):
        parts = path.split(":", 5)
        if len(parts) != 6 or parts[2] != "appmesh":
            raise ValueError(f"not an App Mesh ARN: {text!r}")
        region, account, path = parts[3] or None, parts[4] or None, parts[5]
    pieces = path.split("/")
    if len(pieces) != 4 or pieces[0] != "mesh" or pieces[2] not in ("virtualNode", "virtualGateway") \
            or not pieces[1] or not pieces[3]:
        raise ValueError(f"expected mesh/MESH/virtualNode/NAME or mesh/MESH/virtualGateway/NAME: {text!r}")
    return ProxyResource(mesh=pieces[1], kind=pieces[2], name=pieces[3], region=region, account=account)


@dataclasses.dataclass(frozen=True)
class PollResult:
    snapshot: Snapshot
    changed: bool
    #: API calls this poll made (lists and describes), so a caller can see what it cost.
    calls: int


def _stamp(ref: Mapping) -> tuple:
    return (ref.get("version"), str(ref.get("lastUpdatedAt")), str(ref.get("createdAt")))


class ConfigPoller:
    """Keeps the described resources between polls and describes only what changed.

    Not thread-safe: one poller per proxy, called from one thread (``asyncio.to_thread`` is fine).
    """

    def __init__(self, client: Any, resource: str | ProxyResource) -> None:
        self.client = client
        self.resource = parse_resource(resource) if isinstance(resource, str) else resource
        self._cache: dict[tuple, tuple[tuple, Mapping]] = {}
        self._calls = 0
        self.snapshot: Snapshot | None = None

    # --- API access -------------------------------------------------------------------

    def _call(self, operation: str, **params: Any) -> Mapping:
        self._calls += 1
        try:
            return getattr(self.client, operation)(**params)
        except Exception as error:
            code = getattr(error, "response", {}).get("Error", {}).get("Code")
            if code == "NotFoundException":
                raise MeshResourceNotFound(str(error)) from error
            raise

    def _list(self, operation: str, key: str, **params: Any) -> list[Mapping]:
        items: list[Mapping] = []
        token = None
        while True:
            answer = self._call(operation, **params, **({"nextToken": token} if token else {}))
            items += answer.get(key) or []
            token = answer.get("nextToken")
            if not token:
                return items

    def _described(self, kind: str, key: tuple, ref: Mapping, describe: Callable[[], Mapping]) -> Mapping | None:
        """The cached description of a listed resource, described again only if it changed."""
        stamp = _stamp(ref)
        cached = self._cache.get((kind, *key))
        if cached and cached[0] == stamp:
            return cached[1]
        try:
            data = describe()
        except MeshResourceNotFound:  # deleted between the list and the describe
            self._cache.pop((kind, *key), None)
            return None
        self._cache[(kind, *key)] = (stamp, data)
        return data

    # --- one poll -----------------------------------------------------------------------

    def poll_once(self) -> PollResult:
        self._calls = 0
        mesh_name = self.resource.mesh
        mesh = self._call("describe_mesh", meshName=mesh_name)["mesh"]
        egress = ((mesh.get("spec") or {}).get("egressFilter") or {}).get("type") or "DROP_ALL"
        m = {"meshName": mesh_name}

        node_refs = {r["virtualNodeName"]: r for r in self._list("list_virtual_nodes", "virtualNodes", **m)}

        def node(name: str) -> Mapping | None:
            ref = node_refs.get(name)
            if ref is None:
                return None
            return self._described("node", (name,), ref, lambda: self._call(
                "describe_virtual_node", **m, virtualNodeName=name)["virtualNode"])

        if self.resource.is_gateway:
            gw_refs = {r["virtualGatewayName"]: r for r in self._list("list_virtual_gateways", "virtualGateways", **m)}
            ref = gw_refs.get(self.resource.name)
            gw = ref and self._described("gateway", (self.resource.name,), ref, lambda: self._call(
                "describe_virtual_gateway", **m, virtualGatewayName=self.resource.name)["virtualGateway"])
            if not gw:
                raise MeshResourceNotFound(f"VirtualGateway {self.resource.name} is not present under mesh {mesh_name}")
            route_data = []
            for r in self._list("list_gateway_routes", "gatewayRoutes", **m, virtualGatewayName=self.resource.name):
                name = r["gatewayRouteName"]
                data = self._described("gatewayRoute", (name,), r, lambda name=name: self._call(
                    "describe_gateway_route", **m, virtualGatewayName=self.resource.name,
                    gatewayRouteName=name)["gatewayRoute"])
                if data:
                    route_data.append(data)
            proxy: VirtualNode | VirtualGateway = VirtualGateway.from_api(gw, route_data)
            wanted = sorted({r.target_service for r in proxy.routes})
        else:
            own = node(self.resource.name)
            if not own:
                raise MeshResourceNotFound(f"VirtualNode {self.resource.name} is not present under mesh {mesh_name}")
            proxy = VirtualNode.from_api(own)
            wanted = sorted({b.virtual_service for b in proxy.backends})

        services: dict[str, VirtualService] = {}
        if wanted:
            svc_refs = {r["virtualServiceName"]: r for r in self._list("list_virtual_services", "virtualServices", **m)}
            for name in wanted:
                if name in svc_refs:
                    data = self._described("service", (name,), svc_refs[name], lambda name=name: self._call(
                        "describe_virtual_service", **m, virtualServiceName=name)["virtualService"])
                    if data:
                        services[name] = VirtualService.from_api(data)

        routers: dict[str, VirtualRouter] = {}
        router_names = sorted({s.provider for s in services.values() if s.provider_kind == "virtualRouter"})
        if router_names:
            vr_refs = {r["virtualRouterName"]: r for r in self._list("list_virtual_routers", "virtualRouters", **m)}
            for name in router_names:
                if name not in vr_refs:
                    continue
                data = self._described("router", (name,), vr_refs[name], lambda name=name: self._call(
                    "describe_virtual_router", **m, virtualRouterName=name)["virtualRouter"])
                if not data:
                    continue
                route_data = []
                for r in self._list("list_routes", "routes", **m, virtualRouterName=name):
                    rname = r["routeName"]
                    rd = self._described("route", (name, rname), r, lambda name=name, rname=rname: self._call(
                        "describe_route", **m, virtualRouterName=name, routeName=rname)["route"])
                    if rd:
                        route_data.append(rd)
                routers[name] = VirtualRouter.from_api(data, route_data)

        node_names = {s.provider for s in services.values() if s.provider_kind == "virtualNode"}
        node_names |= {t.node for vr in routers.values() for rt in vr.routes for t in rt.targets}
        nodes: dict[str, VirtualNode] = {}
        if isinstance(proxy, VirtualNode):
            nodes[proxy.name] = proxy
        for name in sorted(node_names - set(nodes)):
            data = node(name)
            if data:
                nodes[name] = VirtualNode.from_api(data)

        self._forget(node_refs, services, routers)
        version = fingerprint([mesh_name, egress, self._content_key(proxy, services, routers, nodes)])
        snapshot = Snapshot(mesh=mesh_name, egress_filter=egress, proxy=proxy, services=freeze(services),
                            routers=freeze(routers), nodes=freeze(nodes), version=version)
        changed = self.snapshot is None or self.snapshot.version != version
        if changed:
            self.snapshot = snapshot
        return PollResult(self.snapshot, changed, self._calls)

    def _content_key(self, proxy: Any, services: dict, routers: dict, nodes: dict) -> Any:
        return [repr(proxy), sorted(repr(v) for v in services.values()),
                sorted(repr(v) for v in routers.values()), sorted(repr(v) for v in nodes.values())]

    def _forget(self, node_refs: Mapping, services: Mapping, routers: Mapping) -> None:
        """Drop cached descriptions of resources no longer listed or referenced (bounded cache)."""
        keep_nodes = set(node_refs)
        for key in list(self._cache):
            kind = key[0]
            if kind == "node" and key[1] not in keep_nodes:
                del self._cache[key]
            elif kind == "service" and key[1] not in services:
                del self._cache[key]
            elif kind in ("router", "route") and key[1] not in routers:
                del self._cache[key]


def read_snapshot(client: Any, resource: str | ProxyResource) -> Snapshot:
    """One full read of the proxy's configuration (``ConfigPoller(...).poll_once().snapshot``)."""
    return ConfigPoller(client, resource).poll_once().snapshot
