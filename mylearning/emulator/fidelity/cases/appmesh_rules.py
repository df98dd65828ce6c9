"""App Mesh fidelity cases for the cross-field rules: one member where one is allowed, route
retry policies and matches, routes against listeners, gateway route paths, rewrites and
ports, listener settings against their port mapping, TLS blocks.

Each rejected request has an accepted neighbour that differs in the one thing the rule checks.
"""
from __future__ import annotations

from typing import Any, Callable

from mylearning.emulator.fidelity.cases import OK, Case, Env
from mylearning.emulator.fidelity.cases.appmesh import (API, HTTP, _am, _gateway, _mesh, _node,
                                                        _router, _service)

GUIDE = "https://docs.aws.amazon.com/app-mesh/latest/userguide/"
CDK = "https://docs.aws.amazon.com/cdk/api/v2/docs/"
BAD = "BadRequestException"
HTTP_9090 = {"portMapping": {"port": 9090, "protocol": "http"}}
GRPC = {"portMapping": {"port": 50051, "protocol": "grpc"}}
TCP = {"portMapping": {"port": 5432, "protocol": "tcp"}}
RETRY_TIMEOUT = {"unit": "ms", "value": 2000}


def _unvalidated(call: Callable[[Env], Any]) -> Callable[[Env], Any]:
    """Run `call` with an App Mesh client that skips botocore's own parameter checks.

    botocore refuses, before sending, a union with two members or a missing required member;
    other SDKs (JavaScript v3, Go, Terraform's provider) send them, and App Mesh answers
    BadRequestException. moto 5.2 instead stores them (and its echo then breaks the client)
    or answers HTTP 500. These cases send what such an SDK sends.
    """
    def run(env: Env) -> Any:
        from botocore.config import Config

        saved = env._clients.get("appmesh")
        env._clients["appmesh"] = env._session.client(
            "appmesh", endpoint_url=env.endpoint,
            config=Config(retries={"max_attempts": 1}, read_timeout=60, parameter_validation=False))
        try:
            return call(env)
        finally:
            if saved is None:
                env._clients.pop("appmesh", None)
            else:
                env._clients["appmesh"] = saved
    return run


def _node_with(env: Env, mesh: str, listeners: list[dict]) -> str:
    name = env.name("vn")
    return _node(env, mesh, name, listeners=listeners,
                 serviceDiscovery={"dns": {"hostname": f"{name}.local"}})


# ---------------------------------------------------------------- routes

def _route(make: Callable[[str], dict], router: list[dict] | None = None,
           node: list[dict] | None = None) -> Callable[[Env], Any]:
    """CreateRoute with the spec `make(node_name)`, on a router and to a node with the given
    listeners (HTTP by default)."""
    def call(env: Env) -> Any:
        mesh = _mesh(env)
        name = _router(env, mesh, router or [HTTP])
        target = _node_with(env, mesh, node or [HTTP])
        return _am(env).create_route(meshName=mesh, virtualRouterName=name, routeName="r",
                                     spec=make(target))
    return call


def _targets(node: str, port: int | None = None) -> dict:
    target: dict[str, Any] = {"virtualNode": node, "weight": 100}
    if port is not None:
        target["port"] = port
    return {"weightedTargets": [target]}


def _http(match: dict | None = None, port: int | None = None, **extra: Any) -> Callable[[str], dict]:
    return lambda node: {"httpRoute": {"match": match or {"prefix": "/"},
                                       "action": _targets(node, port), **extra}}


def _retry(**policy: Any) -> Callable[[Env], Any]:
    return _route(_http(retryPolicy={"maxRetries": 2, **policy}))


def _grpc(match: dict, **extra: Any) -> Callable[[str], dict]:
    return lambda node: {"grpcRoute": {"match": match, "action": _targets(node), **extra}}


def _two_types(node: str) -> dict:
    return {"httpRoute": {"match": {"prefix": "/"}, "action": _targets(node)},
            "http2Route": {"match": {"prefix": "/"}, "action": _targets(node)}}


def _tcp(node: str) -> dict:
    return {"tcpRoute": {"action": _targets(node)}}


def _header(match: dict) -> Callable[[Env], Any]:
    return _route(_http({"prefix": "/", "headers": [{"name": "x-canary", "match": match}]}))


# ---------------------------------------------------------------- gateway routes

def _gateway_route(route: dict, listeners: list[dict] | None = None,
                   provider: list[dict] | None = None,
                   target_port: int | None = None) -> Callable[[Env], Any]:
    """CreateGatewayRoute (httpRoute) with `route`'s match and rewrite to a virtual service;
    the gateway has `listeners`, the service a node provider with `provider` listeners."""
    def call(env: Env) -> Any:
        am = _am(env)
        mesh = _mesh(env)
        name = env.name("vg")
        am.create_virtual_gateway(meshName=mesh, virtualGatewayName=name,
                                  spec={"listeners": listeners or [HTTP]})
        node = _node_with(env, mesh, provider) if provider else None
        service = _service(env, mesh, {"virtualNode": {"virtualNodeName": node}} if node else None)
        target: dict[str, Any] = {"virtualService": {"virtualServiceName": service}}
        if target_port is not None:
            target["port"] = target_port
        action: dict[str, Any] = {"target": target}
        if "rewrite" in route:
            action["rewrite"] = route["rewrite"]
        return am.create_gateway_route(meshName=mesh, virtualGatewayName=name, gatewayRouteName="gr",
                                       spec={"httpRoute": {"match": route["match"], "action": action}})
    return call


def _gateway_two_types(env: Env) -> Any:
    mesh = _mesh(env)
    gateway = _gateway(env, mesh)
    service = _service(env, mesh)
    route = {"match": {"prefix": "/"},
             "action": {"target": {"virtualService": {"virtualServiceName": service}}}}
    return _am(env).create_gateway_route(meshName=mesh, virtualGatewayName=gateway,
                                         gatewayRouteName="gr",
                                         spec={"httpRoute": route, "http2Route": route})


# ---------------------------------------------------------------- listeners

def _listener(listener: dict, gateway: bool = False, **spec: Any) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        mesh = _mesh(env)
        if gateway:
            return _am(env).create_virtual_gateway(meshName=mesh, virtualGatewayName=env.name("vg"),
                                                   spec={"listeners": [listener]})
        return _node(env, mesh, listeners=[listener],
                     serviceDiscovery={"dns": {"hostname": "catalog.local"}}, **spec)
    return call


HEALTH = {"protocol": "http", "path": "/health", "healthyThreshold": 2, "unhealthyThreshold": 3,
          "intervalMillis": 10000, "timeoutMillis": 5000}
FILE_CERT = {"file": {"certificateChain": "/certs/chain.pem", "privateKey": "/certs/key.pem"}}
ACM_CERT = {"acm": {"certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/0f2b8f5e"}}
TRUST = {"file": {"certificateChain": "/certs/ca.pem"}}


def _case(id: str, call: Callable[[Env], Any], expect: str, page: str) -> Case:
    return Case(f"appmesh.{id}", "appmesh", call, expect, page if page.startswith("https:") else API + page)


CASES = [
    # one member where one is allowed
    _case("route.no-route-type", _route(lambda node: {}), BAD, "API_RouteSpec.html"),
    _case("route.two-route-types", _route(_two_types), BAD, "API_RouteSpec.html"),
    _case("route.one-route-type", _route(_http()), OK, "API_RouteSpec.html"),
    _case("gateway-route.two-route-types", _gateway_two_types, BAD, "API_GatewayRouteSpec.html"),
    _case("route.header-two-match-methods", _unvalidated(_header({"exact": "on", "prefix": "o"})), BAD,
          "API_HeaderMatchMethod.html"),
    _case("route.header-no-match-method", _unvalidated(_header({})), BAD, "API_HeaderMatchMethod.html"),
    _case("route.header-exact", _header({"exact": "on"}), OK, "API_HeaderMatchMethod.html"),
    _case("route.header-range", _header({"range": {"start": 1, "end": 100}}), OK,
          "API_MatchRange.html"),
    _case("node.connection-pool-two-protocols",
          _unvalidated(_listener({**HTTP, "connectionPool": {"http": {"maxConnections": 10},
                                                "http2": {"maxRequests": 10}}})), BAD,
          "API_VirtualNodeConnectionPool.html"),
    _case("node.tls-two-certificate-sources",
          _unvalidated(_listener({**HTTP, "tls": {"mode": "STRICT",
                                                  "certificate": {**FILE_CERT, **ACM_CERT}}})),
          BAD, "API_ListenerTlsCertificate.html"),
    # retry policies
    _case("route.retry-without-events", _retry(perRetryTimeout=RETRY_TIMEOUT), BAD,
          "API_HttpRetryPolicy.html"),
    _case("route.retry-unknown-http-event",
          _retry(perRetryTimeout=RETRY_TIMEOUT, httpRetryEvents=["server-error", "timeout"]), BAD,
          "API_HttpRetryPolicy.html"),
    _case("route.retry-without-per-retry-timeout",
          _unvalidated(_retry(httpRetryEvents=["gateway-error"])), BAD,
          "API_HttpRetryPolicy.html"),
    _case("route.retry-timeout-without-unit",
          _retry(perRetryTimeout={"value": 2}, httpRetryEvents=["gateway-error"]), BAD,
          GUIDE + "routes.html"),
    _case("route.retry-http-events",
          _retry(perRetryTimeout=RETRY_TIMEOUT, httpRetryEvents=["stream-error", "gateway-error"]),
          OK, "API_HttpRetryPolicy.html"),
    _case("route.retry-tcp-event-only",
          _retry(perRetryTimeout={"unit": "s", "value": 1}, tcpRetryEvents=["connection-error"]),
          OK, "API_HttpRetryPolicy.html"),
    _case("route.grpc-retry-grpc-events-only",
          _route(_grpc({"serviceName": "catalog.Catalog"}, retryPolicy={
              "maxRetries": 3, "perRetryTimeout": RETRY_TIMEOUT,
              "grpcRetryEvents": ["unavailable", "cancelled"]}), [GRPC], [GRPC]),
          OK, "API_GrpcRetryPolicy.html"),
    _case("route.grpc-retry-without-events",
          _route(_grpc({"serviceName": "catalog.Catalog"}, retryPolicy={
              "maxRetries": 3, "perRetryTimeout": RETRY_TIMEOUT}), [GRPC], [GRPC]),
          BAD, "API_GrpcRetryPolicy.html"),
    # matches
    _case("route.prefix-without-slash", _route(_http({"prefix": "api"})), BAD,
          "API_HttpRouteMatch.html"),
    _case("route.prefix-api", _route(_http({"prefix": "/api"})), OK, "API_HttpRouteMatch.html"),
    _case("route.exact-path-without-slash", _route(_http({"path": {"exact": "health"}})), BAD,
          CDK + "aws-cdk-lib.aws_appmesh.HttpRoutePathMatch.html"),
    _case("route.exact-path", _route(_http({"path": {"exact": "/health"}})), OK,
          CDK + "aws-cdk-lib.aws_appmesh.HttpRoutePathMatch.html"),
    _case("route.grpc-method-without-service", _route(_grpc({"methodName": "Get"}), [GRPC], [GRPC]),
          BAD, "API_GrpcRouteMatch.html"),
    _case("route.grpc-method-with-service",
          _route(_grpc({"serviceName": "catalog.Catalog", "methodName": "Get"}), [GRPC], [GRPC]),
          OK, "API_GrpcRouteMatch.html"),
    # routes against listeners
    _case("route.type-not-router-protocol", _route(_tcp, [HTTP], [TCP]), BAD, GUIDE + "routes.html"),
    _case("route.type-not-target-protocol", _route(_http(), [HTTP], [TCP]), BAD, GUIDE + "routes.html"),
    _case("route.http2-on-http2-listeners",
          _route(lambda node: {"http2Route": {"match": {"prefix": "/"}, "action": _targets(node)}},
                 [{"portMapping": {"port": 8080, "protocol": "http2"}}],
                 [{"portMapping": {"port": 8080, "protocol": "http2"}}]),
          OK, GUIDE + "routes.html"),
    _case("route.target-with-listeners-no-port", _route(_http(), node=[HTTP, HTTP_9090]), BAD,
          GUIDE + "routes.html"),
    _case("route.target-with-listeners-and-port", _route(_http(port=9090), node=[HTTP, HTTP_9090]),
          OK, GUIDE + "routes.html"),
    _case("route.router-with-listeners-no-port-match", _route(_http(), router=[HTTP, HTTP_9090]),
          BAD, GUIDE + "routes.html"),
    _case("route.router-with-listeners-port-match",
          _route(_http({"prefix": "/", "port": 9090}), router=[HTTP, HTTP_9090]), OK,
          GUIDE + "routes.html"),
    # gateway routes
    _case("gateway-route.prefix-without-slash", _gateway_route({"match": {"prefix": "web"}}), BAD,
          "API_HttpGatewayRouteMatch.html"),
    _case("gateway-route.reserved-prefix", _gateway_route({"match": {"prefix": "/aws-appmesh/x"}}),
          BAD, GUIDE + "gateway-routes.html"),
    _case("gateway-route.prefix-api", _gateway_route({"match": {"prefix": "/api/"}}), OK,
          "API_HttpGatewayRouteMatch.html"),
    _case("gateway-route.exact-path-without-slash",
          _gateway_route({"match": {"path": {"exact": "health"}}}), BAD,
          CDK + "aws-cdk-lib.aws_appmesh.HttpGatewayRoutePathMatch.html"),
    _case("gateway-route.prefix-rewrite-with-path-match",
          _gateway_route({"match": {"path": {"exact": "/old"}},
                          "rewrite": {"prefix": {"value": "/new/"}}}), BAD,
          GUIDE + "gateway-routes.html"),
    _case("gateway-route.path-rewrite-with-prefix-match",
          _gateway_route({"match": {"prefix": "/old/"}, "rewrite": {"path": {"exact": "/new"}}}),
          BAD, GUIDE + "gateway-routes.html"),
    _case("gateway-route.path-rewrite",
          _gateway_route({"match": {"path": {"exact": "/old"}}, "rewrite": {"path": {"exact": "/new"}}}),
          OK, GUIDE + "gateway-routes.html"),
    _case("gateway-route.prefix-rewrite-match-without-trailing-slash",
          _gateway_route({"match": {"prefix": "/api"}, "rewrite": {"prefix": {"value": "/v2/"}}}),
          BAD, CDK + "aws-cdk-lib.aws_appmesh.HttpGatewayRoutePathMatch.html"),
    _case("gateway-route.prefix-rewrite",
          _gateway_route({"match": {"prefix": "/api/"}, "rewrite": {"prefix": {"value": "/v2/"}}}),
          OK, CDK + "aws-cdk-lib.aws_appmesh.HttpGatewayRoutePathMatch.html"),
    _case("gateway-route.prefix-rewrite-disabled",
          _gateway_route({"match": {"prefix": "/api"},
                          "rewrite": {"prefix": {"defaultPrefix": "DISABLED"}}}),
          OK, "API_HttpGatewayRoutePrefixRewrite.html"),
    _case("gateway-route.gateway-listeners-no-port-match",
          _gateway_route({"match": {"prefix": "/"}}, listeners=[HTTP, HTTP_9090]), BAD,
          GUIDE + "gateway-routes.html"),
    _case("gateway-route.gateway-listeners-port-match",
          _gateway_route({"match": {"prefix": "/", "port": 9090}}, listeners=[HTTP, HTTP_9090]), OK,
          GUIDE + "gateway-routes.html"),
    _case("gateway-route.provider-listeners-no-target-port",
          _gateway_route({"match": {"prefix": "/"}}, provider=[HTTP, HTTP_9090]), BAD,
          GUIDE + "gateway-routes.html"),
    _case("gateway-route.provider-listeners-target-port",
          _gateway_route({"match": {"prefix": "/"}}, provider=[HTTP, HTTP_9090], target_port=8080),
          OK, GUIDE + "gateway-routes.html"),
    # listeners
    _case("node.connection-pool-protocol-mismatch",
          _listener({**HTTP, "connectionPool": {"tcp": {"maxConnections": 10}}}), BAD,
          GUIDE + "virtual_nodes.html"),
    _case("node.connection-pool-http",
          _listener({**HTTP, "connectionPool": {"http": {"maxConnections": 10,
                                                         "maxPendingRequests": 50}}}),
          OK, "API_VirtualNodeConnectionPool.html"),
    _case("gateway.connection-pool-protocol-mismatch",
          _listener({**HTTP, "connectionPool": {"grpc": {"maxRequests": 10}}}, gateway=True), BAD,
          "API_VirtualGatewayConnectionPool.html"),
    _case("gateway.connection-pool-http",
          _listener({**HTTP, "connectionPool": {"http": {"maxConnections": 10}}}, gateway=True), OK,
          "API_VirtualGatewayConnectionPool.html"),
    _case("node.health-check-other-port", _listener({**HTTP, "healthCheck": {**HEALTH, "port": 9090}}),
          BAD, "API_HealthCheckPolicy.html"),
    _case("node.health-check-listener-port",
          _listener({**HTTP, "healthCheck": {**HEALTH, "port": 8080}}), OK, "API_HealthCheckPolicy.html"),
    _case("gateway.health-check-other-port",
          _listener({**HTTP, "healthCheck": {**HEALTH, "port": 9090}}, gateway=True), BAD,
          "API_VirtualGatewayHealthCheckPolicy.html"),
    # TLS blocks (moto checks the required members; the layer answers AWS's error code)
    _case("node.tls-without-certificate", _unvalidated(_listener({**HTTP, "tls": {"mode": "STRICT"}})), BAD,
          "API_ListenerTls.html"),
    _case("node.mutual-tls-validation-without-trust",
          _unvalidated(_listener({**HTTP, "tls": {"mode": "STRICT", "certificate": FILE_CERT,
                                                  "validation": {}}})),
          BAD, "API_ListenerTlsValidationContext.html"),
    _case("node.mutual-tls",
          _listener({**HTTP, "tls": {"mode": "STRICT", "certificate": FILE_CERT,
                                     "validation": {"trust": TRUST}}}),
          OK, GUIDE + "mutual-tls.html"),
    _case("node.backend-defaults-tls-without-validation",
          _unvalidated(_listener(HTTP, backendDefaults={"clientPolicy": {"tls": {"enforce": True}}})), BAD,
          "API_ClientPolicyTls.html"),
    _case("node.backend-defaults-tls",
          _listener(HTTP, backendDefaults={"clientPolicy": {"tls": {
              "enforce": True, "ports": [8080], "validation": {"trust": TRUST}}}}),
          OK, "API_ClientPolicyTls.html"),
]
