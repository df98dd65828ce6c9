"""App Mesh routes: the cross-field rules of CreateRoute/UpdateRoute that moto 5.2 skips.

Retry policies (what they must name), path matches, gRPC method matches, and how a route
relates to its virtual router's and target nodes' listeners. Enum values, ranges and
lengths a single field carries are the model constraints' business, not this module's.
"""
from __future__ import annotations

from typing import Iterator

from mylearning.emulator.fidelity.core import AwsRequest, rule
from mylearning.emulator.fidelity.appmesh.access import ROUTE_KINDS, SERVICE
from mylearning.emulator.fidelity.appmesh.errors import bad_request
from mylearning.emulator.fidelity.appmesh.listeners import (ROUTE_PROTOCOL, node_listeners,
                                                            router_listeners)

ROUTES = ("CreateRoute", "UpdateRoute")
#: API_HttpRetryPolicy.html, httpRetryEvents: "Specify at least one of the following values"
HTTP_RETRY_EVENTS = ("server-error", "gateway-error", "client-error", "stream-error")


def _kinds(spec: dict) -> Iterator[tuple[str, dict]]:
    for kind in ROUTE_KINDS:
        route = (spec or {}).get(kind)
        if isinstance(route, dict):
            yield kind, route


@rule(SERVICE, *ROUTES)
def retry_policy_is_complete(req: AwsRequest) -> None:
    """A retry policy names at least one retry event, maxRetries and a perRetryTimeout
    with value and unit; HTTP retry events are the four documented ones.

    https://docs.aws.amazon.com/app-mesh/latest/APIReference/API_HttpRetryPolicy.html and
    https://docs.aws.amazon.com/app-mesh/latest/APIReference/API_GrpcRetryPolicy.html
    ("Specify at least one value for at least one of the types of RetryEvents, a value for
    maxRetries, and a value for perRetryTimeout"; httpRetryEvents: server-error,
    gateway-error, client-error, stream-error) and
    https://docs.aws.amazon.com/app-mesh/latest/userguide/routes.html (retry timeout and its
    unit: "A value is required if you select any protocol retry event").
    moto 5.2 answers HTTP 500 to a policy without perRetryTimeout.
    """
    for kind, route in _kinds(req.params.get("spec") or {}):
        policy = route.get("retryPolicy")
        if not isinstance(policy, dict):
            continue
        where = f"spec.{kind}.retryPolicy"
        event_kinds = ["httpRetryEvents", "tcpRetryEvents"]
        if kind == "grpcRoute":
            event_kinds.insert(0, "grpcRetryEvents")
        if not any(policy.get(k) for k in event_kinds):
            raise bad_request(f"{where} must specify at least one value for at least one of "
                              f"{', '.join(event_kinds)}.")
        for event in policy.get("httpRetryEvents") or []:
            if event not in HTTP_RETRY_EVENTS:
                raise bad_request(f"{where}.httpRetryEvents: {event!r} is not a retry event; use "
                                  f"{', '.join(HTTP_RETRY_EVENTS)}.")
        if policy.get("maxRetries") is None:
            raise bad_request(f"{where}.maxRetries must be specified.")
        timeout = policy.get("perRetryTimeout")
        if not isinstance(timeout, dict) or timeout.get("value") is None or not timeout.get("unit"):
            raise bad_request(f"{where}.perRetryTimeout must be specified with a value and a "
                              "unit (ms or s).")


@rule(SERVICE, *ROUTES)
def http_paths_start_with_slash(req: AwsRequest) -> None:
    """An HTTP route's prefix match, and its exact path match, start with '/'.

    https://docs.aws.amazon.com/app-mesh/latest/APIReference/API_HttpRouteMatch.html
    (prefix: "This parameter must always start with /") and
    https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_appmesh.HttpRoutePathMatch.html
    (exactly: "The provided path must start with the '/' character").
    """
    for kind, route in _kinds(req.params.get("spec") or {}):
        if kind not in ("httpRoute", "http2Route"):
            continue
        match = route.get("match") or {}
        prefix = match.get("prefix")
        if isinstance(prefix, str) and not prefix.startswith("/"):
            raise bad_request(f"spec.{kind}.match.prefix must start with '/'; got {prefix!r}.")
        exact = (match.get("path") or {}).get("exact")
        if isinstance(exact, str) and not exact.startswith("/"):
            raise bad_request(f"spec.{kind}.match.path.exact must start with '/'; got {exact!r}.")


@rule(SERVICE, *ROUTES)
def grpc_method_needs_service(req: AwsRequest) -> None:
    """A gRPC route that matches a method name also names the service.

    https://docs.aws.amazon.com/app-mesh/latest/APIReference/API_GrpcRouteMatch.html
    (methodName: "If you specify a name, you must also specify a serviceName").
    """
    match = (((req.params.get("spec") or {}).get("grpcRoute") or {}).get("match") or {})
    if match.get("methodName") and not match.get("serviceName"):
        raise bad_request("spec.grpcRoute.match.methodName requires spec.grpcRoute.match.serviceName.")


def _protocols(listeners: list[dict], port: int | None) -> set:
    return {item["protocol"] for item in listeners if port is None or item["port"] == port}


@rule(SERVICE, *ROUTES)
def route_type_matches_listeners(req: AwsRequest) -> None:
    """A route's type is the protocol of a listener of its virtual router (of the matched
    port's listener when it matches a port), and of its target nodes' listeners.

    https://docs.aws.amazon.com/app-mesh/latest/userguide/routes.html ("The protocol that you
    select must match the listener protocol that you selected for your virtual router and
    the virtual node that you're routing traffic to"). Nodes without listeners are left alone.
    """
    router = router_listeners(req, req.params.get("virtualRouterName"))
    for kind, route in _kinds(req.params.get("spec") or {}):
        protocol = ROUTE_PROTOCOL[kind]
        port = (route.get("match") or {}).get("port")
        if router and protocol not in _protocols(router, port):
            on = f" on port {port}" if port is not None else ""
            raise bad_request(f"Route type {kind} needs a {protocol} listener{on} on virtual router "
                              f"{req.params.get('virtualRouterName')}; its listeners are "
                              f"{_describe(router)}.")
        for target in (route.get("action") or {}).get("weightedTargets") or []:
            node = (target or {}).get("virtualNode")
            listeners = node_listeners(req, node)
            if listeners and protocol not in _protocols(listeners, target.get("port")):
                raise bad_request(f"Route type {kind} can't target virtual node {node}: it has no "
                                  f"{protocol} listener (its listeners are {_describe(listeners)}).")


def _describe(listeners: list[dict]) -> str:
    return ", ".join(f"{item['protocol']}:{item['port']}" for item in listeners) or "none"


@rule(SERVICE, *ROUTES)
def ports_when_several_listeners(req: AwsRequest) -> None:
    """With several listeners a port must be chosen: the route matches a port when its
    virtual router has several listeners, and a weighted target names a port when its
    virtual node has several.

    https://docs.aws.amazon.com/app-mesh/latest/userguide/routes.html ("If the selected
    virtual node has multiple listeners, Target port is required"; "Port match is required
    if this virtual router has multiple listeners").
    """
    router = router_listeners(req, req.params.get("virtualRouterName")) or []
    for kind, route in _kinds(req.params.get("spec") or {}):
        if len(router) > 1 and kind != "tcpRoute" and (route.get("match") or {}).get("port") is None:
            raise bad_request(f"Virtual router {req.params.get('virtualRouterName')} has "
                              f"{len(router)} listeners: spec.{kind}.match.port is required.")
        for target in (route.get("action") or {}).get("weightedTargets") or []:
            node = (target or {}).get("virtualNode")
            listeners = node_listeners(req, node) or []
            if len(listeners) > 1 and (target or {}).get("port") is None:
                raise bad_request(f"Virtual node {node} has {len(listeners)} listeners: its "
                                  f"weighted target in spec.{kind} needs a port.")
