"""Reading a mesh back: every resource through the App Mesh API, as tables.

`describe` makes List and Describe calls only, and gives a `MeshView`: nodes (listeners,
TLS mode, discovery, backends and the TLS towards each), services and their providers,
routers with their routes (matches, weights as each target's percent of the traffic,
retries, timeouts), gateways and their gateway routes. It prints as text tables and shows
as HTML tables in a notebook.
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from mylearning import lookup
from mylearning.facts import appmesh as facts


def _tls_label(tls: Mapping[str, Any] | None) -> str | None:
    """A listener's TLS in words: None (plain text), "TLS", "TLS optional" or "mTLS"."""
    mode = (tls or {}).get("mode")
    if mode in (None, "DISABLED"):
        return None
    if mode == "PERMISSIVE":
        return "TLS optional"
    return "mTLS" if (tls or {}).get("validation") else "TLS"


def _policy_label(policy: Mapping[str, Any] | None) -> str | None:
    """A client policy in words: None (plain text), "TLS", or "mTLS" (it sends a certificate)."""
    tls = (policy or {}).get("tls")
    if not tls or tls.get("enforce") is False:
        return None
    return "mTLS" if tls.get("certificate") else "TLS"


def _duration_text(value: Mapping[str, Any] | None) -> str:
    return f"{value.get('value')}{value.get('unit')}" if value else ""


@dataclass(frozen=True)
class ListenerView:
    protocol: str
    port: int
    #: None (plain text), "TLS", "TLS optional" (PERMISSIVE) or "mTLS" (verifies clients)
    tls: str | None = None
    tls_mode: str | None = None
    health: str | None = None

    @classmethod
    def read(cls, listener: Mapping[str, Any]) -> "ListenerView":
        mapping = listener.get("portMapping") or {}
        check = listener.get("healthCheck")
        health = None
        if check:
            health = f"{check.get('protocol')} {check.get('path') or ''}".strip()
        return cls(mapping.get("protocol", "?"), mapping.get("port", 0), _tls_label(listener.get("tls")),
                   (listener.get("tls") or {}).get("mode"), health)

    @property
    def text(self) -> str:
        return f"{self.protocol}:{self.port}"


@dataclass(frozen=True)
class NodeView:
    name: str
    listeners: tuple[ListenerView, ...]
    discovery: str
    backends: tuple[str, ...]
    #: backend virtual service -> "TLS" or "mTLS", for those its client policy encrypts
    backend_tls: Mapping[str, str]
    access_log: str | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def read(cls, node: Mapping[str, Any]) -> "NodeView":
        spec = node.get("spec") or {}
        found = spec.get("serviceDiscovery") or {}
        if found.get("awsCloudMap"):
            cm = found["awsCloudMap"]
            discovery = f"Cloud Map {cm.get('serviceName')}.{cm.get('namespaceName')}"
            if cm.get("attributes"):
                discovery += " (" + ", ".join(f"{a['key']}={a['value']}" for a in cm["attributes"]) + ")"
        elif found.get("dns"):
            discovery = f"DNS {found['dns'].get('hostname')}"
        else:
            discovery = "-"
        default = (spec.get("backendDefaults") or {}).get("clientPolicy")
        backends, tls = [], {}
        for backend in spec.get("backends") or []:
            service = backend.get("virtualService") or {}
            name = service.get("virtualServiceName")
            if not name:
                continue
            backends.append(name)
            label = _policy_label(service.get("clientPolicy") or default)
            if label:
                tls[name] = label
        log = (((spec.get("logging") or {}).get("accessLog") or {}).get("file") or {}).get("path")
        return cls(node["virtualNodeName"], tuple(ListenerView.read(item) for item in spec.get("listeners") or []),
                   discovery, tuple(backends), tls, log, node)

    @property
    def tls(self) -> str | None:
        """The TLS of its (first) listener: what a caller must speak to reach it."""
        return self.listeners[0].tls if self.listeners else None


@dataclass(frozen=True)
class ServiceView:
    name: str
    #: "virtual router", "virtual node", or None when it has no provider yet
    provider_kind: str | None
    provider: str | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def read(cls, service: Mapping[str, Any]) -> "ServiceView":
        provider = (service.get("spec") or {}).get("provider") or {}
        if provider.get("virtualRouter"):
            return cls(service["virtualServiceName"], "virtual router",
                       provider["virtualRouter"].get("virtualRouterName"), service)
        if provider.get("virtualNode"):
            return cls(service["virtualServiceName"], "virtual node",
                       provider["virtualNode"].get("virtualNodeName"), service)
        return cls(service["virtualServiceName"], None, None, service)


@dataclass(frozen=True)
class TargetView:
    node: str
    weight: int
    #: the share of the route's traffic this target gets: weight / total weight
    percent: float
    port: int | None = None


def _match_text(kind: str, match: Mapping[str, Any]) -> str:
    parts = []
    if match.get("prefix") is not None:
        parts.append(f"prefix {match['prefix']}")
    for how, value in (match.get("path") or {}).items():
        parts.append(f"path {how} {value}")
    if match.get("method"):
        parts.append(str(match["method"]))
    for header in match.get("headers") or []:
        negate = "not " if header.get("invert") else ""
        how = " ".join(f"{k} {v}" for k, v in (header.get("match") or {}).items()) or "present"
        parts.append(f"header {header.get('name')} {negate}{how}")
    if match.get("serviceName"):
        parts.append(f"gRPC {match['serviceName']}" + (f"/{match['methodName']}" if match.get("methodName") else ""))
    if match.get("port"):
        parts.append(f"port {match['port']}")
    return ", ".join(parts) or ("any connection" if kind == "tcpRoute" else "any request")


def _route_kind(spec: Mapping[str, Any], kinds: Iterable[str]) -> tuple[str, dict]:
    for kind in kinds:
        if spec.get(kind):
            return kind, spec[kind]
    return "?", {}


@dataclass(frozen=True)
class RouteView:
    router: str
    name: str
    protocol: str
    priority: int | None
    match: str
    targets: tuple[TargetView, ...]
    retries: str
    timeout: str
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def read(cls, route: Mapping[str, Any]) -> "RouteView":
        spec = route.get("spec") or {}
        kind, body = _route_kind(spec, facts.ROUTE_TYPES.values())
        targets = (body.get("action") or {}).get("weightedTargets") or []
        total = sum(t.get("weight", 0) for t in targets)
        views = tuple(TargetView(t["virtualNode"], t.get("weight", 0),
                                 round(100.0 * t.get("weight", 0) / total, 1) if total else 0.0, t.get("port"))
                      for t in targets)
        retry = body.get("retryPolicy") or {}
        retries = ""
        if retry:
            events = [e for key in ("httpRetryEvents", "tcpRetryEvents", "grpcRetryEvents") for e in retry.get(key) or []]
            retries = (f"{retry.get('maxRetries')} x {_duration_text(retry.get('perRetryTimeout'))}"
                       f" on {', '.join(events)}")
        timeout = body.get("timeout") or {}
        timeout_text = ", ".join(f"{k} {_duration_text(v)}" for k, v in timeout.items() if v)
        protocol = {v: k for k, v in facts.ROUTE_TYPES.items()}.get(kind, "?")
        return cls(route["virtualRouterName"], route["routeName"], protocol, spec.get("priority"),
                   _match_text(kind, body.get("match") or {}), views, retries, timeout_text, route)

    @property
    def weights(self) -> dict[str, float]:
        """Target node -> percent of this route's traffic."""
        return {t.node: t.percent for t in self.targets}


@dataclass(frozen=True)
class RouterView:
    name: str
    listeners: tuple[ListenerView, ...]
    routes: tuple[RouteView, ...]
    raw: Mapping[str, Any] = field(repr=False, compare=False)


@dataclass(frozen=True)
class GatewayRouteView:
    gateway: str
    name: str
    protocol: str
    priority: int | None
    match: str
    service: str
    rewrite: str
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def read(cls, route: Mapping[str, Any]) -> "GatewayRouteView":
        spec = route.get("spec") or {}
        kind, body = _route_kind(spec, facts.GATEWAY_ROUTE_TYPES.values())
        action = body.get("action") or {}
        service = ((action.get("target") or {}).get("virtualService") or {}).get("virtualServiceName", "?")
        prefix = (action.get("rewrite") or {}).get("prefix") or {}
        match = body.get("match") or {}
        if prefix.get("value"):
            rewrite = f"prefix -> {prefix['value']}"
        elif prefix.get("defaultPrefix") == "DISABLED":
            rewrite = "path kept"
        elif match.get("prefix") is not None:
            rewrite = "prefix -> /"
        else:
            rewrite = ""
        protocol = {v: k for k, v in facts.GATEWAY_ROUTE_TYPES.items()}.get(kind, "?")
        return cls(route["virtualGatewayName"], route["gatewayRouteName"], protocol, spec.get("priority"),
                   _match_text(kind, match), service, rewrite, route)


@dataclass(frozen=True)
class GatewayView:
    name: str
    listeners: tuple[ListenerView, ...]
    routes: tuple[GatewayRouteView, ...]
    #: "TLS" or "mTLS" when its client policy encrypts what it sends into the mesh
    backend_tls: str | None
    access_log: str | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)


def _table_html(title: str, rows: list[dict]) -> str:
    if not rows:
        return f"<h4>{html.escape(title)}</h4><p>(none)</p>"
    head = "".join(f"<th>{html.escape(str(k))}</th>" for k in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row.values()) + "</tr>"
                   for row in rows)
    return f"<h4>{html.escape(title)}</h4><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


@dataclass(frozen=True)
class MeshView:
    """A whole mesh as the App Mesh API describes it, resource by resource, by name."""

    name: str
    arn: str
    egress: str
    nodes: tuple[NodeView, ...]
    services: tuple[ServiceView, ...]
    routers: tuple[RouterView, ...]
    gateways: tuple[GatewayView, ...]
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    def node(self, name: str) -> NodeView:
        return next(n for n in self.nodes if n.name == name)

    def service(self, name: str) -> ServiceView:
        return next(s for s in self.services if s.name == name)

    def router(self, name: str) -> RouterView:
        return next(r for r in self.routers if r.name == name)

    def gateway(self, name: str) -> GatewayView:
        return next(g for g in self.gateways if g.name == name)

    def route(self, router: str, name: str | None = None) -> RouteView:
        """A route of `router` (its only one when `name` is left out)."""
        routes = self.router(router).routes
        if name is None:
            if len(routes) != 1:
                raise LookupError(f"Virtual router {router} has {len(routes)} routes; name one.")
            return routes[0]
        return next(r for r in routes if r.name == name)

    def weights(self, router: str, route: str | None = None) -> dict[str, float]:
        """Target node -> percent of the route's traffic, e.g. {"courses-api-v1": 90.0, ...}."""
        return self.route(router, route).weights

    def tables(self) -> list[tuple[str, list[dict]]]:
        """The mesh as titled rows: what both the text and the HTML show."""
        def listeners(items: Iterable[ListenerView]) -> str:
            return ", ".join(item.text for item in items) or "-"

        nodes = [{"virtual node": n.name, "listener": listeners(n.listeners),
                  "TLS": ", ".join(f"{item.tls} ({item.tls_mode})" for item in n.listeners if item.tls) or "-",
                  "discovery": n.discovery,
                  "backends": ", ".join(f"{b} ({n.backend_tls[b]})" if b in n.backend_tls else b
                                        for b in n.backends) or "-",
                  "health check": ", ".join(item.health for item in n.listeners if item.health) or "-"}
                 for n in self.nodes]
        services = [{"virtual service": s.name,
                     "provider": f"{s.provider_kind} {s.provider}" if s.provider else "(none)"}
                    for s in self.services]
        routes = [{"virtual router": r.name, "route": route.name, "priority": "" if route.priority is None
                   else route.priority, "match": route.match,
                   "targets": ", ".join(f"{t.node} {t.percent:g}%" for t in route.targets),
                   "retries": route.retries or "-", "timeout": route.timeout or "-"}
                  for r in self.routers for route in (r.routes or ())]
        routes += [{"virtual router": r.name, "route": "(no routes)", "priority": "", "match": "", "targets": "",
                    "retries": "", "timeout": ""} for r in self.routers if not r.routes]
        gateways = [{"virtual gateway": g.name, "listener": listeners(g.listeners),
                     "TLS": ", ".join(f"{item.tls} ({item.tls_mode})" for item in g.listeners if item.tls) or "-",
                     "to the mesh": g.backend_tls or "plain"} for g in self.gateways]
        gateway_routes = [{"virtual gateway": g.name, "gateway route": route.name, "priority": "" if
                           route.priority is None else route.priority, "match": route.match,
                           "virtual service": route.service, "rewrite": route.rewrite or "-"}
                          for g in self.gateways for route in g.routes]
        return [("Virtual nodes", nodes), ("Virtual services", services), ("Routes", routes),
                ("Virtual gateways", gateways), ("Gateway routes", gateway_routes)]

    def headline(self) -> str:
        counts = ", ".join(f"{len(items)} virtual {kind}{'' if len(items) == 1 else 's'}" for kind, items in (
            ("node", self.nodes), ("service", self.services), ("router", self.routers), ("gateway", self.gateways)))
        return f"Mesh {self.name}: egress {self.egress}; {counts}"

    def __str__(self) -> str:
        from mylearning.taskdefs import format_rows
        parts = [self.headline()]
        for title, rows in self.tables():
            parts += ["", f"{title}:", format_rows(rows)]
        return "\n".join(parts)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        return f"<p><b>{html.escape(self.headline())}</b></p>" + "".join(
            _table_html(title, rows) for title, rows in self.tables())

    def mermaid(self) -> str:
        """The mesh as Mermaid text (`mylearning.mesh.mermaid`)."""
        from mylearning.mesh.drawing import mermaid
        return mermaid(self)

    def diagram(self) -> Any:
        """The drawing, for a notebook (`mylearning.mesh.diagram`)."""
        from mylearning.mesh.drawing import diagram
        return diagram(self)


def describe(session: Any, mesh: str) -> MeshView:
    """Read the whole mesh through the App Mesh API (List and Describe calls only)."""
    am = session.client("appmesh")
    found = lookup.appmesh_describe(am, "mesh", mesh, mesh)
    if found is None:
        raise LookupError(f"There is no mesh {mesh}.")

    def described(kind: str, ref: Mapping[str, Any], parent: str | None = None) -> dict:
        name_param = facts.KINDS[kind][1]
        item = lookup.appmesh_describe(am, kind, mesh, ref[name_param], parent)
        return item if item is not None else {}  # deleted since it was listed

    nodes = [described("virtualNode", ref) for ref in lookup.appmesh_list(am, "virtualNode", mesh)]
    services = [described("virtualService", ref) for ref in lookup.appmesh_list(am, "virtualService", mesh)]
    routers = []
    for ref in lookup.appmesh_list(am, "virtualRouter", mesh):
        router = described("virtualRouter", ref)
        if not router:
            continue
        routes = [described("route", r, ref["virtualRouterName"])
                  for r in lookup.appmesh_list(am, "route", mesh, ref["virtualRouterName"])]
        routers.append(RouterView(ref["virtualRouterName"],
                                  tuple(ListenerView.read(item) for item in router["spec"].get("listeners") or []),
                                  tuple(RouteView.read(r) for r in routes if r), router))
    gateways = []
    for ref in lookup.appmesh_list(am, "virtualGateway", mesh):
        gateway = described("virtualGateway", ref)
        if not gateway:
            continue
        name = ref["virtualGatewayName"]
        routes = [described("gatewayRoute", r, name) for r in lookup.appmesh_list(am, "gatewayRoute", mesh, name)]
        spec = gateway.get("spec") or {}
        log = (((spec.get("logging") or {}).get("accessLog") or {}).get("file") or {}).get("path")
        gateways.append(GatewayView(
            name, tuple(ListenerView.read(item) for item in spec.get("listeners") or []),
            tuple(GatewayRouteView.read(r) for r in routes if r),
            _policy_label((spec.get("backendDefaults") or {}).get("clientPolicy")), log, gateway))
    spec = found.get("spec") or {}
    return MeshView(mesh, found["metadata"]["arn"], (spec.get("egressFilter") or {}).get("type", "DROP_ALL"),
                    tuple(NodeView.read(n) for n in nodes if n), tuple(ServiceView.read(s) for s in services if s),
                    tuple(routers), tuple(gateways), found)
