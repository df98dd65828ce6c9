"""The JSON the App Mesh API takes for each resource, from a few arguments, checked first.

Labs show a resource's full JSON first, then build it with `mylearning.mesh`; these functions
return exactly that JSON (``print(json.dumps(mesh.route_spec({"v1": 90, "v2": 10}), indent=2))``),
and the builders send it. Every check here is a rule the App Mesh API reference states, cited
in its message; none is stricter than App Mesh, so what App Mesh accepts, these accept.
"""
from __future__ import annotations

import copy
from typing import Any, Iterable, Mapping, Sequence

from mylearning.facts import appmesh as facts
from mylearning.facts.appmesh import API, USER_GUIDE

#: Where the Envoy proxy writes its access log unless told otherwise (the App Mesh examples'
#: choice: the container's standard output, so awslogs ships it to CloudWatch Logs).
ACCESS_LOG = "/dev/stdout"


class MeshSpecError(ValueError):
    """An argument App Mesh would refuse; the message says why and cites the page."""


def _page(name: str) -> str:
    return f"{API}/API_{name}.html"


def _whole(value: Any, low: int, high: int | None, what: str, page: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise MeshSpecError(f"{what} must be a whole number, got {value!r} ({_page(page)}).")
    if value < low or (high is not None and value > high):
        limit = f"from {low} to {high}" if high is not None else f"{low} or more"
        raise MeshSpecError(f"{what} must be {limit}, got {value} ({_page(page)}).")
    return value


def _choice(value: Any, choices: Sequence[str], what: str, page: str) -> str:
    if value not in choices:
        raise MeshSpecError(f"{what} {value!r} is not one App Mesh knows; use one of "
                            f"{', '.join(choices)} ({_page(page)}).")
    return value


def _port(port: Any, what: str = "port") -> int:
    return _whole(port, *facts.PORT_RANGE, what, "PortMapping")


def _priority(priority: Any, page: str) -> int:
    return _whole(priority, *facts.PRIORITY_RANGE, "priority", page)


def drop_none(value: Any) -> Any:
    """The value without None members, as boto3 wants a request (it refuses None)."""
    if isinstance(value, dict):
        return {k: drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_none(v) for v in value]
    return value


def _pruned(value: Any) -> Any:
    """The value without empty members: what tells two specs apart, whichever of them
    spells an absent list or object as [] or {}."""
    if isinstance(value, dict):
        kept = {k: _pruned(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v not in (None, [], {})}
    if isinstance(value, list):
        return [_pruned(v) for v in value]
    return value


def same_spec(wanted: Mapping[str, Any], described: Mapping[str, Any]) -> bool:
    """Whether a described spec is the one wanted (empty members aside)."""
    return _pruned(dict(wanted)) == _pruned(dict(described))


# ---------------------------------------------------------------- small specs

def cloud_map(namespace: str, service: str, attributes: Mapping[str, str] | None = None) -> dict:
    """Service discovery through AWS Cloud Map (API_AwsCloudMapServiceDiscovery.html):
    the proxy sends to the instances ECS registered in ``service`` of ``namespace``,
    optionally only those with these attributes (ECS_TASK_DEFINITION_FAMILY, say, to tell
    two versions of one service apart)."""
    spec: dict[str, Any] = {"namespaceName": namespace, "serviceName": service}
    if attributes:
        spec["attributes"] = [{"key": k, "value": v} for k, v in attributes.items()]
    return {"awsCloudMap": spec}


def dns(hostname: str, response_type: str | None = None) -> dict:
    """Service discovery by a DNS name (API_DnsServiceDiscovery.html)."""
    spec: dict[str, Any] = {"hostname": hostname}
    if response_type is not None:
        spec["responseType"] = _choice(response_type, ("LOADBALANCER", "ENDPOINTS"), "responseType",
                                       "DnsServiceDiscovery")
    return {"dns": spec}


def _discovery(value: Any) -> dict | None:
    if value is None or (isinstance(value, dict) and set(value) <= {"awsCloudMap", "dns"} and len(value) == 1):
        return value
    if isinstance(value, str):
        return dns(value)
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return cloud_map(*value)
    raise MeshSpecError(f"discovery {value!r}: give a DNS hostname, a (namespace, service) pair for "
                        f"Cloud Map, or mesh.cloud_map(...) / mesh.dns(...) ({_page('ServiceDiscovery')}).")


def duration(value: Any, what: str = "timeout") -> dict:
    """A Duration (API_Duration.html) from seconds: whole seconds as ``s``, anything finer as
    ``ms``. A Duration dict is checked and passed through."""
    if isinstance(value, dict):
        _choice(value.get("unit"), facts.DURATION_UNITS, f"{what} unit", "Duration")
        _whole(value.get("value"), 0, None, f"{what} value", "Duration")
        return dict(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise MeshSpecError(f"{what} is a number of seconds (0 or more), got {value!r} ({_page('Duration')}).")
    if float(value).is_integer():
        return {"unit": "s", "value": int(value)}
    millis = value * 1000
    if not float(round(millis, 6)).is_integer():
        raise MeshSpecError(f"{what} {value!r} s is finer than a millisecond ({_page('Duration')}).")
    return {"unit": "ms", "value": int(round(millis))}


def health_check(path: str = "/health", *, protocol: str = "http", interval_ms: int = 5000,
                 timeout_ms: int = 2000, healthy_threshold: int = 2, unhealthy_threshold: int = 2,
                 port: int | None = None, gateway: bool = False) -> dict:
    """A listener's health check (API_HealthCheckPolicy.html; a gateway's is
    API_VirtualGatewayHealthCheckPolicy.html, without tcp). The path is sent only for
    http and http2: "For any other protocol, this value is ignored"."""
    page = "VirtualGatewayHealthCheckPolicy" if gateway else "HealthCheckPolicy"
    _choice(protocol, facts.GATEWAY_PROTOCOLS if gateway else facts.PORT_PROTOCOLS, "health check protocol", page)
    spec: dict[str, Any] = {
        "protocol": protocol,
        "intervalMillis": _whole(interval_ms, *facts.HEALTH_INTERVAL_MS_RANGE, "intervalMillis", page),
        "timeoutMillis": _whole(timeout_ms, *facts.HEALTH_TIMEOUT_MS_RANGE, "timeoutMillis", page),
        "healthyThreshold": _whole(healthy_threshold, *facts.HEALTH_THRESHOLD_RANGE, "healthyThreshold", page),
        "unhealthyThreshold": _whole(unhealthy_threshold, *facts.HEALTH_THRESHOLD_RANGE, "unhealthyThreshold", page),
    }
    if protocol in ("http", "http2"):
        spec["path"] = path
    if port is not None:
        spec["port"] = _port(port, "health check port")
    return spec


def _certificate(value: Any, sources: Sequence[str], what: str, page: str) -> dict:
    """A certificate: an ACM certificate ARN, a (certificate chain, private key) pair of
    file paths, or the API's own object ({"sds": {"secretName": ...}})."""
    if isinstance(value, str) and value.startswith("arn:"):
        value = {"acm": {"certificateArn": value}}
    elif isinstance(value, (tuple, list)) and len(value) == 2 and all(isinstance(v, str) for v in value):
        value = {"file": {"certificateChain": value[0], "privateKey": value[1]}}
    if not isinstance(value, dict) or len(value) != 1:
        raise MeshSpecError(f"{what} {value!r}: give an ACM certificate ARN, a (certificate chain, private "
                            f"key) pair of file paths, or one of {', '.join(sources)} ({_page(page)}).")
    (source,) = value
    if source not in sources:
        note = " (mutual TLS takes its material from files or SDS only)" if "acm" not in sources else ""
        raise MeshSpecError(f"{what} from {source!r}: App Mesh takes one from {', '.join(sources)}{note} "
                            f"({_page(page)}, {USER_GUIDE}/mutual-tls.html).")
    return copy.deepcopy(value)


def _trust(value: Any, sources: Sequence[str], what: str, page: str) -> dict:
    """What a peer's certificate is verified against: ACM Private CA ARNs (one, or a list of
    one to three), the file path of a CA certificate chain, or the API's own object."""
    if isinstance(value, str) and value.startswith("arn:"):
        value = [value]
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) and v.startswith("arn:") for v in value):
        low, high = facts.ACM_TRUST_ARNS
        if not low <= len(value) <= high:
            raise MeshSpecError(f"{what}: {len(value)} certificate authority ARNs; ACM trust takes "
                                f"{low} to {high} ({_page('TlsValidationContextAcmTrust')}).")
        value = {"acm": {"certificateAuthorityArns": list(value)}}
    elif isinstance(value, str):
        value = {"file": {"certificateChain": value}}
    if not isinstance(value, dict) or len(value) != 1:
        raise MeshSpecError(f"{what} {value!r}: give a CA certificate chain file path, ACM Private CA ARNs, "
                            f"or one of {', '.join(sources)} ({_page(page)}).")
    (source,) = value
    if source not in sources:
        note = " (mutual TLS takes its material from files or SDS only)" if "acm" not in sources else ""
        raise MeshSpecError(f"{what} from {source!r}: App Mesh takes it from {', '.join(sources)}{note} "
                            f"({_page(page)}, {USER_GUIDE}/mutual-tls.html).")
    return copy.deepcopy(value)


def _validation(trust: dict, subject_alternative_names: Iterable[str] | None) -> dict:
    spec: dict[str, Any] = {"trust": trust}
    if subject_alternative_names:
        spec["subjectAlternativeNames"] = {"match": {"exact": list(subject_alternative_names)}}
    return spec


def listener_tls(certificate: Any, *, mode: str = "STRICT", trust: Any = None,
                 subject_alternative_names: Iterable[str] | None = None) -> dict:
    """A listener's TLS (API_ListenerTls.html): its own certificate and the mode, STRICT
    (TLS only), PERMISSIVE (with or without) or DISABLED. With ``trust`` the listener also
    asks clients for a certificate and verifies it: mutual TLS, trust from files or SDS only
    (API_ListenerTlsValidationContextTrust.html); ``subject_alternative_names`` then limits
    which clients it accepts. The same shape serves a virtual gateway's listener."""
    spec: dict[str, Any] = {
        "mode": _choice(mode, facts.TLS_MODES, "TLS mode", "ListenerTls"),
        "certificate": _certificate(certificate, facts.LISTENER_CERTIFICATE_SOURCES, "listener certificate",
                                    "ListenerTlsCertificate"),
    }
    if trust is not None:
        spec["validation"] = _validation(
            _trust(trust, facts.MUTUAL_TLS_SOURCES, "listener validation trust", "ListenerTlsValidationContextTrust"),
            subject_alternative_names)
    elif subject_alternative_names:
        raise MeshSpecError("subject_alternative_names of a listener name the clients it accepts, so they need a "
                            f"trust to verify client certificates with ({_page('ListenerTlsValidationContext')}).")
    return spec


def client_policy(trust: Any, *, certificate: Any = None, subject_alternative_names: Iterable[str] | None = None,
                  ports: Iterable[int] | None = None, enforce: bool | None = None) -> dict:
    """A client policy (API_ClientPolicy.html): how this proxy talks TLS to its backends.
    ``trust`` verifies the server's certificate (ACM Private CA ARNs, a CA chain file, or
    SDS); ``certificate`` is the client's own, sent when the server asks for one, which makes
    the connection mutual TLS (files or SDS only, API_ClientTlsCertificate.html).
    ``subject_alternative_names`` are the server names accepted (by default, the backend's
    service discovery name must match, userguide/tls.html); ``ports`` limits the policy to
    those ports; ``enforce`` defaults to true on App Mesh (API_ClientPolicyTls.html)."""
    tls: dict[str, Any] = {"validation": _validation(
        _trust(trust, facts.CLIENT_TRUST_SOURCES, "client policy trust", "TlsValidationContextTrust"),
        subject_alternative_names)}
    if certificate is not None:
        tls["certificate"] = _certificate(certificate, facts.MUTUAL_TLS_SOURCES, "client certificate",
                                          "ClientTlsCertificate")
    if ports is not None:
        tls["ports"] = [_port(p, "client policy port") for p in ports]
    if enforce is not None:
        if not isinstance(enforce, bool):
            raise MeshSpecError(f"enforce is true or false, got {enforce!r} ({_page('ClientPolicyTls')}).")
        tls["enforce"] = enforce
    return {"tls": tls}


def retry_policy(max_retries: int = 2, per_retry_timeout: Any = 2, *,
                 http_events: Iterable[str] | None = ("server-error", "gateway-error"),
                 tcp_events: Iterable[str] | None = ("connection-error",),
                 grpc_events: Iterable[str] | None = None) -> dict:
    """A route's retry policy (API_HttpRetryPolicy.html, API_GrpcRetryPolicy.html): up to
    ``max_retries`` more tries, each bounded by ``per_retry_timeout`` seconds, on the events
    named. App Mesh wants "at least one value for at least one of the types of RetryEvents,
    a value for maxRetries, and a value for perRetryTimeout"."""
    policy: dict[str, Any] = {
        "maxRetries": _whole(max_retries, 0, None, "maxRetries", "HttpRetryPolicy"),
        "perRetryTimeout": duration(per_retry_timeout, "perRetryTimeout"),
    }
    for key, events, known, page in (("httpRetryEvents", http_events, facts.HTTP_RETRY_EVENTS, "HttpRetryPolicy"),
                                     ("tcpRetryEvents", tcp_events, facts.TCP_RETRY_EVENTS, "HttpRetryPolicy"),
                                     ("grpcRetryEvents", grpc_events, facts.GRPC_RETRY_EVENTS, "GrpcRetryPolicy")):
        if events:
            policy[key] = [_choice(e, known, key[:-1], page) for e in events]
    if not any(key in policy for key in ("httpRetryEvents", "tcpRetryEvents", "grpcRetryEvents")):
        raise MeshSpecError("A retry policy names at least one retry event (http_events, tcp_events or "
                            f"grpc_events) ({_page('HttpRetryPolicy')}).")
    return policy


def weighted_targets(weights: Mapping[str, int]) -> list[dict]:
    """``{node: weight}`` as a route's weightedTargets. Weights are relative: App Mesh sends
    each target weight / total of the traffic. API_WeightedTarget.html: a whole number from 0
    to 100, "The total weight for all targets combined must be less than or equal to 100";
    one to ten targets (API_HttpRouteAction.html)."""
    if not isinstance(weights, Mapping):
        raise MeshSpecError(f"weights are {{virtual node: weight}}, got {weights!r} ({_page('WeightedTarget')}).")
    low, high = facts.WEIGHTED_TARGETS
    if not low <= len(weights) <= high:
        raise MeshSpecError(f"A route has {low} to {high} weighted targets, got {len(weights)} "
                            f"({_page('HttpRouteAction')}).")
    targets = [{"virtualNode": node, "weight": _whole(weight, *facts.WEIGHT_RANGE, f"weight of {node}",
                                                       "WeightedTarget")}
               for node, weight in weights.items()]
    total = sum(t["weight"] for t in targets)
    if total > facts.WEIGHT_TOTAL_MAX:
        raise MeshSpecError(f"The weights add up to {total}; App Mesh wants a total of at most "
                            f"{facts.WEIGHT_TOTAL_MAX} ({_page('WeightedTarget')}).")
    return targets


def _headers(headers: Any, page: str) -> list[dict]:
    """``{name: value}`` (an exact match) or ``{name: {"prefix": ...}}``, or the API's list."""
    if isinstance(headers, Mapping):
        headers = [{"name": name, "match": value if isinstance(value, Mapping) else {"exact": value}}
                   for name, value in headers.items()]
    if not isinstance(headers, list) or not 1 <= len(headers) <= facts.HEADERS_MAX:
        raise MeshSpecError(f"A route matches 1 to {facts.HEADERS_MAX} headers, got {headers!r} ({_page(page)}).")
    for header in headers:
        name = header.get("name") if isinstance(header, Mapping) else None
        if not isinstance(name, str) or not facts.HEADER_NAME_LENGTH[0] <= len(name) <= facts.HEADER_NAME_LENGTH[1]:
            raise MeshSpecError(f"A header name is 1 to 50 characters, got {name!r} ({_page('HttpRouteHeader')}).")
        match = header.get("match")
        if match is not None and (not isinstance(match, Mapping) or len(match) != 1
                                  or next(iter(match)) not in facts.HEADER_MATCH_METHODS):
            raise MeshSpecError(f"Header {name}: specify one match method of {', '.join(facts.HEADER_MATCH_METHODS)}, "
                                f"got {match!r} ({_page('HeaderMatchMethod')}).")
    return [dict(h) for h in headers]


def _path_match(prefix: str | None, path: str | None, page: str) -> dict:
    if path is not None:
        if not path.startswith("/"):
            raise MeshSpecError(f"An exact path starts with '/', got {path!r} ({_page(page)}).")
        return {"path": {"exact": path}}
    if prefix is not None:
        if not prefix.startswith("/"):
            raise MeshSpecError(f"A prefix match \"must always start with /\", got {prefix!r} ({_page(page)}).")
        return {"prefix": prefix}
    return {}


def _listener(port: int, protocol: str, *, gateway: bool = False) -> dict:
    protocols, page = ((facts.GATEWAY_PROTOCOLS, "VirtualGatewayPortMapping") if gateway
                       else (facts.PORT_PROTOCOLS, "PortMapping"))
    return {"portMapping": {"port": _port(port), "protocol": _choice(protocol, protocols, "protocol", page)}}


def _access_log(path: str | None) -> dict | None:
    return {"accessLog": {"file": {"path": path}}} if path else None


def _health(value: Any, protocol: str, gateway: bool) -> dict | None:
    if value is None or value is False:
        return None
    if value is True:
        return health_check(protocol=protocol, gateway=gateway)
    if isinstance(value, str):
        return health_check(value, protocol=protocol, gateway=gateway)
    if isinstance(value, Mapping):
        return dict(value)
    raise MeshSpecError(f"health_check is a path, True, or mesh.health_check(...), got {value!r} "
                        f"({_page('HealthCheckPolicy')}).")


# ---------------------------------------------------------------- resource specs

def mesh_spec(egress: str = "DROP_ALL") -> dict:
    """A mesh's spec (API_MeshSpec.html). DROP_ALL lets a proxy reach only the mesh's virtual
    services (and AWS APIs); ALLOW_ALL lets it reach anything (API_EgressFilter.html)."""
    return {"egressFilter": {"type": _choice(egress, facts.EGRESS_FILTERS, "egress filter", "EgressFilter")}}


def virtual_node_spec(*, port: int | None = 8080, protocol: str = "http", discovery: Any = None,
                      backends: Iterable[str] | Mapping[str, dict | None] = (), health_check: Any = None,
                      access_log: str | None = ACCESS_LOG, tls: dict | None = None,
                      client_policy: dict | None = None) -> dict:
    """A virtual node's spec (API_VirtualNodeSpec.html): one listener (``port=None`` for a
    node that only calls out), how its tasks are found (``discovery``: a DNS hostname, a
    (namespace, service) pair for Cloud Map, or `cloud_map`/`dns`), the virtual services it
    may call (``backends``: names, or {name: client policy} for a policy per backend), its
    health check (a path, True for /health, or `health_check`), its access log, its listener's
    TLS (`listener_tls`) and the client policy for every backend (`client_policy`)."""
    spec: dict[str, Any] = {}
    if port is not None:
        listener = _listener(port, protocol)
        check = _health(health_check, protocol, gateway=False)
        if check is not None:
            listener["healthCheck"] = check
        if tls is not None:
            listener["tls"] = dict(tls)
        spec["listeners"] = [listener]
    elif tls is not None or health_check not in (None, False):
        raise MeshSpecError("TLS and health checks belong to a listener: give the node a port "
                            f"({_page('Listener')}).")
    found = _discovery(discovery)
    if found is not None:
        spec["serviceDiscovery"] = found
    elif port is not None:
        raise MeshSpecError("A node with a listener needs service discovery (a DNS hostname or a Cloud Map "
                            "service): \"If you specify a listener, then you must specify service discovery "
                            f"information\" ({_page('VirtualNodeSpec')}).")
    if isinstance(backends, str):
        raise MeshSpecError(f"backends is a list of virtual service names, got the string {backends!r} "
                            f"({_page('VirtualServiceBackend')}).")
    policies = dict(backends) if isinstance(backends, Mapping) else {name: None for name in backends}
    if policies:
        spec["backends"] = [{"virtualService": {"virtualServiceName": name,
                                                **({"clientPolicy": dict(policy)} if policy else {})}}
                            for name, policy in policies.items()]
    if client_policy is not None:
        spec["backendDefaults"] = {"clientPolicy": dict(client_policy)}
    logging = _access_log(access_log)
    if logging:
        spec["logging"] = logging
    return spec


def virtual_service_spec(*, provider_node: str | None = None, provider_router: str | None = None) -> dict:
    """A virtual service's spec: its provider, a virtual node or a virtual router, or none
    yet (API_VirtualServiceProvider.html: one of them)."""
    if provider_node and provider_router:
        raise MeshSpecError("A virtual service has one provider: a virtual node or a virtual router, not both "
                            f"({_page('VirtualServiceProvider')}).")
    if provider_node:
        return {"provider": {"virtualNode": {"virtualNodeName": provider_node}}}
    if provider_router:
        return {"provider": {"virtualRouter": {"virtualRouterName": provider_router}}}
    return {}


def virtual_router_spec(*, port: int = 8080, protocol: str = "http") -> dict:
    """A virtual router's spec: the listener its routes take traffic on (API_VirtualRouterSpec.html)."""
    return {"listeners": [_listener(port, protocol)]}


def route_spec(weights: Mapping[str, int], *, protocol: str = "http", prefix: str | None = "/",
               path: str | None = None, headers: Any = None, method: str | None = None,
               retry_policy: dict | None = None, timeout: Any = None, priority: int | None = None,
               port: int | None = None, grpc_service: str | None = None) -> dict:
    """A route's spec (API_RouteSpec.html): what it matches and the weighted targets it sends
    to. ``protocol`` picks the route type, which must be the router's listener protocol
    (userguide/routes.html). HTTP routes match a ``prefix`` (or an exact ``path``), ``headers``
    ({name: value} for exact matches) and a ``method``; ``timeout`` is the per-request timeout
    in seconds (idle, for tcp); ``priority`` 0 is tried first."""
    kind = facts.ROUTE_TYPES.get(protocol)
    if kind is None:
        _choice(protocol, tuple(facts.ROUTE_TYPES), "route protocol", "RouteSpec")
    route: dict[str, Any] = {"action": {"weightedTargets": weighted_targets(weights)}}
    if protocol == "tcp":
        if headers or path or method or retry_policy or grpc_service:
            raise MeshSpecError("A tcp route matches only a port: no path, headers, method, retries or gRPC "
                                f"service ({_page('TcpRoute')}).")
        if port is not None:
            route["match"] = {"port": _port(port)}
        if timeout is not None:
            route["timeout"] = {"idle": duration(timeout)}
    else:
        if protocol == "grpc":
            match: dict[str, Any] = {"serviceName": grpc_service} if grpc_service else {}
        else:
            match = _path_match(prefix, path, "HttpRouteMatch")
            if headers is not None:
                match["headers"] = _headers(headers, "HttpRouteMatch")
            if method is not None:
                match["method"] = _choice(method, ("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS",
                                                   "TRACE", "PATCH"), "method", "HttpRouteMatch")
        if port is not None:
            match["port"] = _port(port)
        route["match"] = match
        if retry_policy is not None:
            route["retryPolicy"] = dict(retry_policy)
        if timeout is not None:
            route["timeout"] = {"perRequest": duration(timeout)}
    spec: dict[str, Any] = {kind: route}
    if priority is not None:
        spec["priority"] = _priority(priority, "RouteSpec")
    return spec


def virtual_gateway_spec(*, port: int = 8080, protocol: str = "http", tls: dict | None = None,
                         client_policy: dict | None = None, access_log: str | None = ACCESS_LOG,
                         health_check: Any = None) -> dict:
    """A virtual gateway's spec (API_VirtualGatewaySpec.html): the listener traffic from
    outside the mesh arrives on (http, http2 or grpc), its TLS (`listener_tls`), the client
    policy towards the services it routes to, and its access log."""
    listener = _listener(port, protocol, gateway=True)
    check = _health(health_check, protocol, gateway=True)
    if check is not None:
        listener["healthCheck"] = check
    if tls is not None:
        listener["tls"] = dict(tls)
    spec: dict[str, Any] = {"listeners": [listener]}
    if client_policy is not None:
        spec["backendDefaults"] = {"clientPolicy": dict(client_policy)}
    logging = _access_log(access_log)
    if logging:
        spec["logging"] = logging
    return spec


def gateway_route_spec(service: str, *, protocol: str = "http", prefix: str | None = "/", path: str | None = None,
                       headers: Any = None, keep_prefix: bool = False, rewrite_prefix: str | None = None,
                       priority: int | None = None, port: int | None = None, target_port: int | None = None,
                       grpc_service: str | None = None) -> dict:
    """A gateway route's spec (API_GatewayRouteSpec.html): requests the gateway matches go to
    a virtual service. By default App Mesh rewrites the matched prefix to ``/``; keep the
    path as it came with ``keep_prefix=True``, or rewrite the prefix to ``rewrite_prefix``
    (userguide/gateway-routes.html)."""
    kind = facts.GATEWAY_ROUTE_TYPES.get(protocol)
    if kind is None:
        _choice(protocol, tuple(facts.GATEWAY_ROUTE_TYPES), "gateway route protocol", "GatewayRouteSpec")
    target: dict[str, Any] = {"virtualService": {"virtualServiceName": service}}
    if target_port is not None:
        target["port"] = _port(target_port, "target port")
    action: dict[str, Any] = {"target": target}
    if protocol == "grpc":
        match: dict[str, Any] = {"serviceName": grpc_service} if grpc_service else {}
    else:
        match = _path_match(prefix, path, "HttpGatewayRouteMatch")
        if match.get("prefix", "").startswith(facts.RESERVED_GATEWAY_PREFIXES):
            raise MeshSpecError(f"Prefix {match['prefix']!r} is reserved: App Mesh keeps /aws-appmesh* and "
                                f"/aws-app-mesh* ({USER_GUIDE}/gateway-routes.html).")
        if headers is not None:
            match["headers"] = _headers(headers, "HttpGatewayRouteMatch")
        if keep_prefix and rewrite_prefix is not None:
            raise MeshSpecError("Either keep the prefix or rewrite it, not both "
                                f"({_page('HttpGatewayRoutePrefixRewrite')}).")
        if (keep_prefix or rewrite_prefix is not None) and "prefix" not in match:
            raise MeshSpecError(f"A prefix rewrite goes with a prefix match ({USER_GUIDE}/gateway-routes.html).")
        if keep_prefix:
            action["rewrite"] = {"prefix": {"defaultPrefix": "DISABLED"}}
        elif rewrite_prefix is not None:
            action["rewrite"] = {"prefix": {"value": rewrite_prefix}}
    if port is not None:
        match["port"] = _port(port)
    spec: dict[str, Any] = {kind: {"match": match, "action": action}}
    if priority is not None:
        spec["priority"] = _priority(priority, "GatewayRouteSpec")
    return spec
