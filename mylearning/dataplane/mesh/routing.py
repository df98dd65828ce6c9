"""Where one request goes: a snapshot's routing table, for the egress, ingress and gateway listeners.

Egress (a virtual node's outbound traffic), as App Mesh configures Envoy's egress listener:

* filter chains by destination port: the ports of the backends' providers' listeners (the
  virtual router's listener, or the provider node's). "No matching filter chain found – ... a
  request is sent to a virtual service on an invalid port"
  (https://docs.aws.amazon.com/app-mesh/latest/userguide/troubleshooting-connectivity.html); Envoy
  closes such a connection (response flag NR, "no matching filter chain for a downstream
  connection", listener stat ``no_filter_chain_match``).
* on an HTTP chain, one virtual host per backend, by the virtual service's name (the Host header,
  with or without the port): "Envoy proxy communicates with other virtual services through their
  names" (same page). No virtual host: Envoy's 404 (flag NR, ``http.egress.no_route``).
* egress filter (https://docs.aws.amazon.com/app-mesh/latest/APIReference/API_EgressFilter.html):
  "By default, the type is DROP_ALL, which allows egress only from virtual nodes to other defined
  resources in the service mesh (and any traffic to *.amazonaws.com for Amazon Web Services API
  calls)"; ALLOW_ALL sends what matches no backend "to the destination IP address set by the
  application" through ``cds_egress_<mesh>_mesh-allow-all`` (troubleshooting-connectivity.html).
  "If you specify any backends on a virtual node when using ALLOW_ALL, you must specify all egress
  for that virtual node as backends" (meshes.html) is an App Mesh quirk of port sharing we do not
  reproduce: here ALLOW_ALL passes through whatever no backend takes.
* a backend whose virtual service does not exist, or has no provider: 503 ("If the application
  connects but the request fails with an HTTP 503 response code ... Make sure that the virtual
  service you're connecting to exists ... has a provider", same page), flag NC, ``no_cluster``.
* a virtual router provider: its routes for that listener (the route kind must be the listener's
  protocol, routes.html), by priority 0-1000, 0 first ("Routes are matched based on the specified
  value, where 0 is the highest priority", API_RouteSpec.html); a route without a priority comes
  after every route with one ("routes that don't specify a priority can be thought of as having a
  priority value of 1000 + 1", the App Mesh team's "Routing using HTTP headers and configuring
  route priority" post, aws-app-mesh-examples blogs/http-headers-and-priority). Among equal
  priorities App Mesh gives no order; we take the longer path criterion first ("App Mesh does sort
  the routes according to length", aws-app-mesh-roadmap issue 77), then the route name. The first
  route that matches wins (``matching``); none: 404 NR.
* weighted targets: "Traffic is distributed across targets according to their relative weight"
  (API_WeightedTarget.html); weight 0 receives nothing. The RNG is injectable.
* a virtual node provider: the node's listener on that port, App Mesh's default retry policy
  ("you can't create an App Mesh retry policy for a virtual node provider", envoy-defaults.html)
  and the default 15 s timeout.

Ingress: the node's listener on the port, to ``cds_ingress_<mesh>_<node>_<protocol>_<port>`` with
the listener's timeouts and connection pool.

Gateway (``GatewayTable``): see ``gateway``.
"""
from __future__ import annotations

import dataclasses
import random
from typing import Iterable, Mapping

from mylearning.dataplane.mesh import names
from mylearning.dataplane.mesh.matching import (Request, grpc_match, http_match, make_request, specificity,
                                                split_host)
from mylearning.dataplane.mesh.model import (Listener, OutlierSpec, PoolLimits, Route, ServiceDiscovery, Snapshot,
                                             Timeouts, VirtualNode, WeightedTarget)
from mylearning.dataplane.mesh.retry import DEFAULT_RETRY_POLICY, NO_RETRIES, RetryPolicy
from mylearning.dataplane.mesh.stats import Stats

NO_PRIORITY = 1001
HTTP_PROTOCOLS = ("http", "http2", "grpc")


@dataclasses.dataclass(frozen=True)
class RouteDecision:
    """Send the request to ``target_node``'s endpoints (``discovery``) on ``target_port``."""
    virtual_service: str
    target_node: str
    target_port: int
    protocol: str
    cluster: str
    discovery: ServiceDiscovery | None
    retry_policy: RetryPolicy
    timeouts: Timeouts
    path: str  # to send upstream: normalized (and rewritten at a gateway), with its query string
    host: str  # the Host header to send upstream
    virtual_router: str | None = None
    route: str | None = None
    gateway_route: str | None = None
    outlier: OutlierSpec | None = None
    health_check: Mapping | None = None
    client_policy: Mapping | None = None


@dataclasses.dataclass(frozen=True)
class PassThrough:
    """Send the request as the application addressed it (AWS APIs, or an ALLOW_ALL mesh)."""
    cluster: str
    host: str
    port: int
    reason: str


@dataclasses.dataclass(frozen=True)
class Refusal:
    """What the proxy answers itself. ``status`` None: close the connection without an answer."""
    status: int | None
    flags: str
    reason: str
    body: str = ""
    headers: tuple[tuple[str, str], ...] = ()

    @property
    def reset(self) -> bool:
        return self.status is None


@dataclasses.dataclass(frozen=True)
class IngressDecision:
    listener: Listener
    cluster: str
    timeouts: Timeouts
    pool: PoolLimits


Decision = RouteDecision | PassThrough | Refusal

NO_FILTER_CHAIN = "no matching filter chain"


def _order(priority: int | None, match: Mapping, name: str) -> tuple:
    return (NO_PRIORITY if priority is None else priority, -specificity(match), name)


def pick_weighted(targets: Iterable[WeightedTarget], rng: random.Random) -> WeightedTarget | None:
    """One target, with probability weight / total; None when every weight is 0."""
    targets = [t for t in targets if t.weight > 0]
    total = sum(t.weight for t in targets)
    if not total:
        return None
    point = rng.randrange(total)
    for target in targets:
        if point < target.weight:
            return target
        point -= target.weight
    return targets[-1]  # unreachable


class RouteTable:
    """The routing decisions of one snapshot. Build a new table when the snapshot changes."""

    direction = names.EGRESS

    def __init__(self, snapshot: Snapshot, *, rng: random.Random | None = None, stats: Stats | None = None) -> None:
        self.snapshot = snapshot
        self.rng = rng or random.Random()
        self.stats = stats
        self._routes = {name: sorted(vr.routes, key=lambda r: _order(r.priority, r.match, r.name))
                        for name, vr in snapshot.routers.items()}
        #: port -> {virtual service name -> protocol}, for the services this proxy may call.
        self.chains: dict[int, dict[str, str]] = {}
        for service in snapshot.services.values():
            for port, protocol in self._provider_listeners(service.name):
                self.chains.setdefault(port, {})[service.name] = protocol

    # --- helpers ----------------------------------------------------------------------

    def _provider_listeners(self, service: str) -> list[tuple[int, str]]:
        svc = self.snapshot.services.get(service)
        if svc is None or svc.provider_kind is None:
            return []
        if svc.provider_kind == "virtualRouter":
            router = self.snapshot.routers.get(svc.provider)
            return list(router.listeners) if router else []
        node = self.snapshot.nodes.get(svc.provider)
        return [(li.port, li.protocol) for li in node.listeners] if node else []

    def _count(self, stat: str) -> None:
        if self.stats:
            self.stats.http(self.direction).inc(stat)

    def _no_route(self, reason: str) -> Refusal:
        self._count("no_route")
        return Refusal(404, "NR", reason)

    def _no_cluster(self, reason: str) -> Refusal:
        self._count("no_cluster")
        return Refusal(503, "NC", reason)

    def _no_chain(self, port: int) -> Refusal:
        if self.stats:
            self.stats.listener(names.EGRESS_PORT).inc("no_filter_chain_match")
        return Refusal(None, "NR", f"{NO_FILTER_CHAIN} for port {port}")

    def _client_policy(self, service: str) -> Mapping | None:
        proxy = self.snapshot.proxy
        own = next((b.client_policy for b in getattr(proxy, "backends", ()) if b.virtual_service == service), None)
        return own or ((proxy.backend_defaults or {}).get("clientPolicy"))

    def _unusable_backend(self, host: str) -> bool:
        """A declared backend whose virtual service is missing or has no provider."""
        declared = {b.virtual_service for b in getattr(self.snapshot.proxy, "backends", ())}
        if host not in declared:
            return False
        svc = self.snapshot.services.get(host)
        return svc is None or not self._provider_listeners(host)

    def listener_protocol(self, port: int) -> str | None:
        """What the egress listener speaks on ``port``: "http" (HTTP/1, HTTP/2 or gRPC services),
        "tcp", or None (no filter chain: the connection is closed, or passed through under
        ALLOW_ALL)."""
        protocols = set((self.chains.get(port) or {}).values())
        if protocols & set(HTTP_PROTOCOLS):
            return "http"
        return "tcp" if protocols else None

    # --- egress HTTP ------------------------------------------------------------------

    def route(self, host: str, port: int, method: str = "GET", path: str = "/", headers: Mapping | Iterable | None = None,
              query: str | Mapping | None = None, scheme: str = "http") -> Decision:
        """An outbound HTTP request from the app: ``host`` as in its Host header, ``port`` the
        destination port it connected to; ``path`` may carry the query string."""
        name, host_port = split_host(host)
        request = make_request(method, path, host=name, scheme=scheme, headers=headers, query=query)
        mesh = self.snapshot.mesh
        if name == "amazonaws.com" or name.endswith(".amazonaws.com"):
            return PassThrough(names.aws_cluster(mesh), name, port, "AWS API")
        if self._unusable_backend(name):
            return self._no_cluster(f"virtual service {name} does not exist or has no provider")
        chain = self.chains.get(port)
        protocols = [p for p in (chain or {}).values() if p in HTTP_PROTOCOLS]
        if not protocols:
            if self.snapshot.egress_filter == "ALLOW_ALL":
                return PassThrough(names.allow_all_cluster(mesh), name, port, "ALLOW_ALL")
            return self._no_chain(port)
        service = name if chain and name in chain and chain[name] in HTTP_PROTOCOLS and host_port in (None, port) \
            else None
        if service is None:
            if self.snapshot.egress_filter == "ALLOW_ALL":
                return PassThrough(names.allow_all_cluster(mesh), name, port, "ALLOW_ALL")
            return self._no_route(f"no virtual host for {host!r} on port {port}")
        return self.to_service(service, port, request, host=name)

    def to_service(self, service: str, port: int, request: Request, *, host: str,
                   gateway_route: str | None = None) -> Decision:
        """Route ``request`` to virtual service ``service`` on its provider listener ``port``."""
        svc = self.snapshot.services.get(service)
        if svc is None or svc.provider_kind is None:
            return self._no_cluster(f"virtual service {service} does not exist or has no provider")
        upstream_path = request.path + ("?" + request.raw_query if request.raw_query else "")
        common = dict(virtual_service=service, path=upstream_path, host=host, gateway_route=gateway_route,
                      client_policy=self._client_policy(service))
        if svc.provider_kind == "virtualNode":
            node = self.snapshot.nodes.get(svc.provider)
            listener = node.listener(port) if node else None
            if listener is None:
                return self._no_cluster(f"virtual node {svc.provider} has no listener on port {port}")
            self._count("rq_total")
            return self._decision(node, listener, retry=DEFAULT_RETRY_POLICY, timeouts=Timeouts(), **common)
        router = self.snapshot.routers.get(svc.provider)
        protocol = dict(router.listeners).get(port) if router else None
        if protocol is None:
            return self._no_cluster(f"virtual router {svc.provider} has no listener on port {port}")
        for route in self._routes.get(router.name, ()):
            if route.protocol != protocol:
                continue
            ok = grpc_match(route.match, request, port) if protocol == "grpc" else http_match(route.match, request, port)
            if ok:
                return self._routed(route, router.name, **common)
        return self._no_route(f"no route of {router.name} matches")

    def _routed(self, route: Route, router: str, **common) -> Decision:
        target = pick_weighted(route.targets, self.rng)
        if target is None:
            return self._no_cluster(f"route {route.name} has no target with a weight above 0")
        node = self.snapshot.nodes.get(target.node)
        listener = node.listener(target.port) if node else None
        if listener is None:
            return self._no_cluster(f"target {target.node} has no listener for route {route.name}")
        retry = NO_RETRIES if route.protocol == "tcp" else RetryPolicy.from_spec(route.retry_policy)
        self._count("rq_total")
        return self._decision(node, listener, retry=retry, timeouts=route.timeouts, virtual_router=router,
                              route=route.name, **common)

    def _decision(self, node: VirtualNode, listener: Listener, *, retry: RetryPolicy, timeouts: Timeouts,
                  **fields) -> RouteDecision:
        cluster = names.cluster_name(names.EGRESS, self.snapshot.mesh, node.name, listener.protocol, listener.port)
        return RouteDecision(target_node=node.name, target_port=listener.port, protocol=listener.protocol,
                             cluster=cluster, discovery=node.discovery, retry_policy=retry, timeouts=timeouts,
                             outlier=listener.outlier, health_check=listener.health_check, **fields)

    # --- egress TCP -------------------------------------------------------------------

    def route_tcp(self, host: str, port: int) -> Decision:
        """An outbound TCP connection to ``host``:``port``. A TCP chain is found by port; the
        virtual service by name, or the port's only TCP service when the name is not one."""
        name, _ = split_host(host)
        mesh = self.snapshot.mesh
        if name.endswith(".amazonaws.com"):
            return PassThrough(names.aws_cluster(mesh), name, port, "AWS API")
        tcp = {s for s, p in (self.chains.get(port) or {}).items() if p == "tcp"}
        service = name if name in tcp else (next(iter(tcp)) if len(tcp) == 1 else None)
        if service is None:
            if self.snapshot.egress_filter == "ALLOW_ALL":
                return PassThrough(names.allow_all_cluster(mesh), name, port, "ALLOW_ALL")
            return self._no_chain(port)
        svc = self.snapshot.services[service]
        common = dict(virtual_service=service, path="", host=name, client_policy=self._client_policy(service))
        if svc.provider_kind == "virtualNode":
            node = self.snapshot.nodes.get(svc.provider)
            listener = node.listener(port) if node else None
            if listener is None:
                return self._no_chain(port)
            return self._decision(node, listener, retry=NO_RETRIES, timeouts=Timeouts(per_request=None), **common)
        router = self.snapshot.routers[svc.provider]
        for route in self._routes.get(router.name, ()):
            if route.protocol == "tcp" and route.match.get("port") in (None, port):
                return self._routed(route, router.name, **common)
        return self._no_chain(port)

    # --- ingress ----------------------------------------------------------------------

    def ingress(self, port: int) -> IngressDecision | Refusal:
        """Inbound traffic on the node's listener ``port``, to the local app."""
        proxy = self.snapshot.proxy
        listener = next((li for li in proxy.listeners if li.port == port), None)
        if listener is None:
            if self.stats:
                self.stats.listener(names.INGRESS_PORT).inc("no_filter_chain_match")
            return Refusal(None, "NR", f"{NO_FILTER_CHAIN}: {proxy.name} has no listener on port {port}")
        cluster = names.cluster_name(names.INGRESS, self.snapshot.mesh, proxy.name, listener.protocol, listener.port)
        return IngressDecision(listener, cluster, listener.timeouts, listener.pool)

    # --- what exists --------------------------------------------------------------------

    def egress_clusters(self) -> dict[str, tuple[VirtualNode, Listener]]:
        """Every egress cluster a request of this proxy may use, by name."""
        out: dict[str, tuple[VirtualNode, Listener]] = {}
        targets: set[tuple[str, int | None]] = set()
        for svc in self.snapshot.services.values():
            if svc.provider_kind == "virtualNode":
                node = self.snapshot.nodes.get(svc.provider)
                targets |= {(svc.provider, li.port) for li in (node.listeners if node else ())}
            elif svc.provider_kind == "virtualRouter" and svc.provider in self.snapshot.routers:
                targets |= {(t.node, t.port) for r in self.snapshot.routers[svc.provider].routes for t in r.targets}
        for node_name, port in targets:
            node = self.snapshot.nodes.get(node_name)
            listener = node.listener(port) if node else None
            if listener:
                out[names.cluster_name(names.EGRESS, self.snapshot.mesh, node.name, listener.protocol,
                                       listener.port)] = (node, listener)
        return out
