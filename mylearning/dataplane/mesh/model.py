"""The proxy's configuration as immutable values: what a ``Snapshot`` holds.

Built from the App Mesh API's answers (``config.read_snapshot``), or directly in tests. Only what
the decision core interprets is typed; the parts the network integration passes on untouched
(health checks, TLS, logging, match criteria) stay as read, deep-frozen (``freeze``) so a
snapshot can be shared between threads and never changes under a request.

Defaults stated here come from the API reference and user guide:

* a Duration is ``{"unit": "s"|"ms", "value": n}``
  (https://docs.aws.amazon.com/app-mesh/latest/APIReference/API_Duration.html);
* per-request timeout 15 s, "A value of 0 disables the timeout"; idle 300 s
  (https://docs.aws.amazon.com/app-mesh/latest/userguide/routes.html and virtual_nodes.html,
  "Timeouts". API_HttpTimeout.html says the idle default is "none"; the user guide's 300 s is
  Envoy's own stream idle default, which is what a proxy without an idle setting really does);
* connection pools: "If not present the default value for maxPendingRequests is 2147483647"
  (API_VirtualNodeConnectionPool.html), and for a mesh made after July 29, 2020 App Mesh sets
  max_requests, max_pending_requests, max_connections and max_retries to 2147483647
  (https://docs.aws.amazon.com/app-mesh/latest/userguide/envoy-defaults.html, "Default circuit
  breaker"): the embedded account is a new one.
"""
from __future__ import annotations

import dataclasses
import copyreg
import json
from types import MappingProxyType
from typing import Any, Mapping

#: App Mesh's circuit-breaker defaults (envoy-defaults.html): effectively no limit.
UNLIMITED = 2147483647
DEFAULT_PER_REQUEST = 15.0
DEFAULT_IDLE = 300.0


def freeze(value: Any) -> Any:
    """Dicts become read-only mappings and lists tuples, all the way down."""
    if isinstance(value, Mapping):
        return MappingProxyType({k: freeze(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    return value


def _frozen_mapping(items: dict) -> MappingProxyType:
    return MappingProxyType(items)


# A snapshot travels from the data plane's management service to the proxies pickled
# (mesh_management.py); a read-only mapping pickles as the dict it shows, and comes back read-only.
copyreg.pickle(MappingProxyType, lambda mapping: (_frozen_mapping, (dict(mapping),)))


def thaw(value: Any) -> Any:
    """The inverse of ``freeze``: plain dicts and lists (for JSON)."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [thaw(v) for v in value]
    return value


def seconds(duration: Mapping | None) -> float | None:
    """A Duration in seconds; None when absent."""
    if not duration:
        return None
    value = float(duration.get("value") or 0)
    return value / 1000.0 if duration.get("unit") == "ms" else value


def timeout_or_default(duration: Mapping | None, default: float) -> float | None:
    """The timeout a Duration sets: the default when absent, None (disabled) when 0."""
    value = seconds(duration)
    if value is None:
        return default
    return None if value == 0 else value


@dataclasses.dataclass(frozen=True)
class Timeouts:
    """Seconds; None means no timeout."""
    per_request: float | None = DEFAULT_PER_REQUEST
    idle: float | None = DEFAULT_IDLE

    @classmethod
    def from_spec(cls, spec: Mapping | None, *, tcp: bool = False) -> "Timeouts":
        spec = spec or {}
        return cls(per_request=None if tcp else timeout_or_default(spec.get("perRequest"), DEFAULT_PER_REQUEST),
                   idle=timeout_or_default(spec.get("idle"), DEFAULT_IDLE))


@dataclasses.dataclass(frozen=True)
class PoolLimits:
    """A listener's destination-side connection pool (API_VirtualNodeConnectionPool.html):
    http has maxConnections and maxPendingRequests, http2 and grpc maxRequests, tcp
    maxConnections."""
    max_connections: int = UNLIMITED
    max_pending_requests: int = UNLIMITED
    max_requests: int = UNLIMITED

    @classmethod
    def from_spec(cls, spec: Mapping | None) -> "PoolLimits":
        if not spec:
            return cls()
        (kind, values), = spec.items()
        values = values or {}
        if kind in ("http", "tcp"):
            return cls(max_connections=int(values.get("maxConnections") or UNLIMITED),
                       max_pending_requests=int(values.get("maxPendingRequests") or UNLIMITED))
        return cls(max_requests=int(values.get("maxRequests") or UNLIMITED))


@dataclasses.dataclass(frozen=True)
class OutlierSpec:
    """API_OutlierDetection.html: all four members are required."""
    max_server_errors: int
    interval: float
    base_ejection: float
    max_ejection_percent: int

    @classmethod
    def from_spec(cls, spec: Mapping | None) -> "OutlierSpec | None":
        if not spec:
            return None
        return cls(max_server_errors=int(spec["maxServerErrors"]), interval=seconds(spec["interval"]) or 0.0,
                   base_ejection=seconds(spec["baseEjectionDuration"]) or 0.0,
                   max_ejection_percent=int(spec["maxEjectionPercent"]))


@dataclasses.dataclass(frozen=True)
class Listener:
    port: int
    protocol: str  # http | http2 | grpc | tcp
    timeouts: Timeouts = Timeouts()
    pool: PoolLimits = PoolLimits()
    outlier: OutlierSpec | None = None
    health_check: Mapping | None = None
    tls: Mapping | None = None

    @classmethod
    def from_spec(cls, spec: Mapping) -> "Listener":
        mapping = spec["portMapping"]
        protocol = mapping["protocol"]
        timeout = (spec.get("timeout") or {}).get(protocol)
        return cls(port=int(mapping["port"]), protocol=protocol,
                   timeouts=Timeouts.from_spec(timeout, tcp=protocol == "tcp"),
                   pool=PoolLimits.from_spec(spec.get("connectionPool")),
                   outlier=OutlierSpec.from_spec(spec.get("outlierDetection")),
                   health_check=freeze(spec.get("healthCheck")), tls=freeze(spec.get("tls")))


@dataclasses.dataclass(frozen=True)
class ServiceDiscovery:
    """A node's service discovery (API_ServiceDiscovery.html), for the resolver to follow:
    ``dns`` with a hostname, or ``awsCloudMap`` with namespace, service and attributes."""
    kind: str  # dns | awsCloudMap
    hostname: str | None = None
    namespace: str | None = None
    service: str | None = None
    attributes: tuple[tuple[str, str], ...] = ()
    response_type: str | None = None
    ip_preference: str | None = None

    @classmethod
    def from_spec(cls, spec: Mapping | None) -> "ServiceDiscovery | None":
        if not spec:
            return None
        if spec.get("dns"):
            dns = spec["dns"]
            return cls("dns", hostname=dns.get("hostname"), response_type=dns.get("responseType"),
                       ip_preference=dns.get("ipPreference"))
        if spec.get("awsCloudMap"):
            cm = spec["awsCloudMap"]
            return cls("awsCloudMap", namespace=cm.get("namespaceName"), service=cm.get("serviceName"),
                       attributes=tuple((a["key"], a["value"]) for a in cm.get("attributes") or ()),
                       ip_preference=cm.get("ipPreference"))
        return None


@dataclasses.dataclass(frozen=True)
class Backend:
    virtual_service: str
    client_policy: Mapping | None = None


@dataclasses.dataclass(frozen=True)
class VirtualNode:
    name: str
    arn: str = ""
    listeners: tuple[Listener, ...] = ()
    backends: tuple[Backend, ...] = ()
    backend_defaults: Mapping | None = None
    logging: Mapping | None = None
    discovery: ServiceDiscovery | None = None

    @classmethod
    def from_api(cls, data: Mapping) -> "VirtualNode":
        spec = data.get("spec") or {}
        backends = tuple(Backend(b["virtualService"]["virtualServiceName"],
                                 freeze(b["virtualService"].get("clientPolicy")))
                         for b in spec.get("backends") or () if b.get("virtualService"))
        return cls(name=data["virtualNodeName"], arn=data.get("metadata", {}).get("arn", ""),
                   listeners=tuple(Listener.from_spec(li) for li in spec.get("listeners") or ()),
                   backends=backends, backend_defaults=freeze(spec.get("backendDefaults")),
                   logging=freeze(spec.get("logging")),
                   discovery=ServiceDiscovery.from_spec(spec.get("serviceDiscovery")))

    def listener(self, port: int | None = None) -> Listener | None:
        """The listener on ``port``; with no port, the only listener (None if several)."""
        if port is None:
            return self.listeners[0] if len(self.listeners) == 1 else None
        return next((li for li in self.listeners if li.port == port), None)


@dataclasses.dataclass(frozen=True)
class VirtualService:
    name: str
    provider_kind: str | None = None  # virtualNode | virtualRouter | None
    provider: str | None = None

    @classmethod
    def from_api(cls, data: Mapping) -> "VirtualService":
        provider = (data.get("spec") or {}).get("provider") or {}
        if provider.get("virtualNode"):
            return cls(data["virtualServiceName"], "virtualNode", provider["virtualNode"]["virtualNodeName"])
        if provider.get("virtualRouter"):
            return cls(data["virtualServiceName"], "virtualRouter", provider["virtualRouter"]["virtualRouterName"])
        return cls(data["virtualServiceName"])


@dataclasses.dataclass(frozen=True)
class WeightedTarget:
    node: str
    weight: int
    port: int | None = None


ROUTE_KINDS = ("httpRoute", "http2Route", "grpcRoute", "tcpRoute")
#: The listener protocol each route kind serves (routes.html: "The protocol that you select must
#: match the listener protocol that you selected for your virtual router").
KIND_PROTOCOL = {"httpRoute": "http", "http2Route": "http2", "grpcRoute": "grpc", "tcpRoute": "tcp"}


@dataclasses.dataclass(frozen=True)
class Route:
    name: str
    protocol: str  # http | http2 | grpc | tcp
    priority: int | None
    match: Mapping
    targets: tuple[WeightedTarget, ...]
    retry_policy: Mapping | None = None
    timeouts: Timeouts = Timeouts()

    @classmethod
    def from_api(cls, data: Mapping) -> "Route":
        spec = data.get("spec") or {}
        kind = next(k for k in ROUTE_KINDS if spec.get(k))
        body = spec[kind]
        protocol = KIND_PROTOCOL[kind]
        targets = tuple(WeightedTarget(t["virtualNode"], int(t.get("weight", 0)), t.get("port"))
                        for t in (body.get("action") or {}).get("weightedTargets") or ())
        priority = spec.get("priority")
        return cls(name=data["routeName"], protocol=protocol, priority=None if priority is None else int(priority),
                   match=freeze(body.get("match") or {}), targets=targets,
                   retry_policy=freeze(body.get("retryPolicy")),
                   timeouts=Timeouts.from_spec(body.get("timeout"), tcp=protocol == "tcp"))


@dataclasses.dataclass(frozen=True)
class VirtualRouter:
    name: str
    listeners: tuple[tuple[int, str], ...] = ()  # (port, protocol)
    routes: tuple[Route, ...] = ()

    @classmethod
    def from_api(cls, data: Mapping, routes: list[Mapping]) -> "VirtualRouter":
        spec = data.get("spec") or {}
        listeners = tuple((int(li["portMapping"]["port"]), li["portMapping"]["protocol"])
                          for li in spec.get("listeners") or ())
        return cls(data["virtualRouterName"], listeners,
                   tuple(sorted((Route.from_api(r) for r in routes), key=lambda r: r.name)))


GATEWAY_ROUTE_KINDS = {"httpRoute": "http", "http2Route": "http2", "grpcRoute": "grpc"}


@dataclasses.dataclass(frozen=True)
class GatewayRoute:
    name: str
    protocol: str
    priority: int | None
    match: Mapping
    target_service: str
    target_port: int | None = None
    rewrite: Mapping | None = None

    @classmethod
    def from_api(cls, data: Mapping) -> "GatewayRoute":
        spec = data.get("spec") or {}
        kind = next(k for k in GATEWAY_ROUTE_KINDS if spec.get(k))
        body = spec[kind]
        action = body.get("action") or {}
        target = action.get("target") or {}
        priority = spec.get("priority")
        return cls(name=data["gatewayRouteName"], protocol=GATEWAY_ROUTE_KINDS[kind],
                   priority=None if priority is None else int(priority), match=freeze(body.get("match") or {}),
                   target_service=target["virtualService"]["virtualServiceName"], target_port=target.get("port"),
                   rewrite=freeze(action.get("rewrite")))


@dataclasses.dataclass(frozen=True)
class VirtualGateway:
    name: str
    arn: str = ""
    listeners: tuple[Listener, ...] = ()
    backend_defaults: Mapping | None = None
    logging: Mapping | None = None
    routes: tuple[GatewayRoute, ...] = ()

    @classmethod
    def from_api(cls, data: Mapping, routes: list[Mapping]) -> "VirtualGateway":
        spec = data.get("spec") or {}
        return cls(name=data["virtualGatewayName"], arn=data.get("metadata", {}).get("arn", ""),
                   listeners=tuple(Listener.from_spec(li) for li in spec.get("listeners") or ()),
                   backend_defaults=freeze(spec.get("backendDefaults")), logging=freeze(spec.get("logging")),
                   routes=tuple(sorted((GatewayRoute.from_api(r) for r in routes), key=lambda r: r.name)))


@dataclasses.dataclass(frozen=True)
class Snapshot:
    """Everything one proxy needs, as read at one moment.

    ``proxy`` is the proxy's own virtual node or virtual gateway; ``services`` the virtual
    services it may send to (a node's backends, a gateway's route targets) that exist;
    ``routers`` their router providers; ``nodes`` every virtual node a request may reach
    (providers and route targets), with the proxy's own node too. ``version`` changes exactly
    when the content does.
    """
    mesh: str
    egress_filter: str  # DROP_ALL | ALLOW_ALL
    proxy: VirtualNode | VirtualGateway
    services: Mapping[str, VirtualService]
    routers: Mapping[str, VirtualRouter]
    nodes: Mapping[str, VirtualNode]
    version: str = ""

    @property
    def is_gateway(self) -> bool:
        return isinstance(self.proxy, VirtualGateway)


def fingerprint(parts: Any) -> str:
    """A short stable hash of JSON-able content (the snapshot's version)."""
    import hashlib
    text = json.dumps(thaw(parts), sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
