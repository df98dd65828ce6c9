"""AWS App Mesh facts: the values and ranges the API reference states for what the course builds.

No I/O. ``mylearning.mesh`` checks a learner's input against these before App Mesh would
refuse it, so the error names the fix; the embedded AWS's App Mesh rules may import them
too. Each fact cites the API reference page it comes from (under `API`).
"""
from __future__ import annotations

API = "https://docs.aws.amazon.com/app-mesh/latest/APIReference"
USER_GUIDE = "https://docs.aws.amazon.com/app-mesh/latest/userguide"

#: Listener protocols of virtual nodes and virtual routers (API_PortMapping.html: "Valid
#: Values: http | tcp | http2 | grpc").
PORT_PROTOCOLS = ("http", "tcp", "http2", "grpc")
#: A virtual gateway's listener protocols: no tcp (API_VirtualGatewayPortMapping.html).
GATEWAY_PROTOCOLS = ("http", "http2", "grpc")
#: API_PortMapping.html, port: "Valid Range: Minimum value of 1. Maximum value of 65535."
PORT_RANGE = (1, 65535)

#: API_EgressFilter.html, type: ALLOW_ALL lets a proxy reach any destination, DROP_ALL only
#: the virtual services of the mesh (and *.amazonaws.com).
EGRESS_FILTERS = ("ALLOW_ALL", "DROP_ALL")

#: The route type that carries each listener protocol (API_RouteSpec.html: "Specify one
#: route type"; a route's type matches its router's listener, userguide/routes.html).
ROUTE_TYPES = {"http": "httpRoute", "http2": "http2Route", "grpc": "grpcRoute", "tcp": "tcpRoute"}
#: Gateway routes have no tcp type (API_GatewayRouteSpec.html).
GATEWAY_ROUTE_TYPES = {"http": "httpRoute", "http2": "http2Route", "grpc": "grpcRoute"}

#: API_WeightedTarget.html, weight: "Type: Integer. Valid Range: Minimum value of 0. Maximum
#: value of 100", and "The total weight for all targets combined must be less than or equal
#: to 100".
WEIGHT_RANGE = (0, 100)
WEIGHT_TOTAL_MAX = 100
#: API_HttpRouteAction.html / API_TcpRouteAction.html, weightedTargets: "Array Members:
#: Minimum number of 1 item. Maximum number of 10 items."
WEIGHTED_TARGETS = (1, 10)
#: API_RouteSpec.html and API_GatewayRouteSpec.html, priority: "Valid Range: Minimum value
#: of 0. Maximum value of 1000" (0 is the highest priority).
PRIORITY_RANGE = (0, 1000)
#: API_HttpRouteMatch.html, headers: "Array Members: Minimum number of 1 item. Maximum number
#: of 10 items"; API_HttpRouteHeader.html, name: length 1 to 50.
HEADERS_MAX = 10
HEADER_NAME_LENGTH = (1, 50)
#: API_HeaderMatchMethod.html: "Specify one match method" of these.
HEADER_MATCH_METHODS = ("exact", "prefix", "suffix", "regex", "range")
#: userguide/gateway-routes.html: "You can't specify either /aws-appmesh* or /aws-app-mesh* for
#: Prefix match. These prefixes are reserved for future App Mesh internal use."
RESERVED_GATEWAY_PREFIXES = ("/aws-appmesh", "/aws-app-mesh")

#: API_HttpRetryPolicy.html, httpRetryEvents: server-error, gateway-error, client-error,
#: stream-error; tcpRetryEvents: connection-error (API_TcpRetryPolicyEvent in the model).
HTTP_RETRY_EVENTS = ("server-error", "gateway-error", "client-error", "stream-error")
TCP_RETRY_EVENTS = ("connection-error",)
#: API_GrpcRetryPolicy.html, grpcRetryEvents.
GRPC_RETRY_EVENTS = ("cancelled", "deadline-exceeded", "internal", "resource-exhausted", "unavailable")
#: API_Duration.html, unit: "Valid Values: s | ms"; value: "Minimum value of 0".
DURATION_UNITS = ("s", "ms")

#: API_HealthCheckPolicy.html: healthyThreshold and unhealthyThreshold 2 to 10,
#: intervalMillis 5000 to 300000, timeoutMillis 2000 to 60000.
HEALTH_THRESHOLD_RANGE = (2, 10)
HEALTH_INTERVAL_MS_RANGE = (5000, 300000)
HEALTH_TIMEOUT_MS_RANGE = (2000, 60000)

#: API_ListenerTls.html, mode: STRICT (TLS only), PERMISSIVE (with or without TLS),
#: DISABLED (without TLS only).
TLS_MODES = ("STRICT", "PERMISSIVE", "DISABLED")
#: Where a listener's certificate comes from (API_ListenerTlsCertificate.html, a union).
LISTENER_CERTIFICATE_SOURCES = ("acm", "file", "sds")
#: Mutual TLS takes its material from the file system or SDS only: the trust a listener
#: validates client certificates with (API_ListenerTlsValidationContextTrust.html) and the
#: certificate a client presents (API_ClientTlsCertificate.html); userguide/mutual-tls.html
#: ("AWS App Mesh supports two possible certificate sources for mutual TLS authentication").
MUTUAL_TLS_SOURCES = ("file", "sds")
#: What a client trusts a server's certificate by (API_TlsValidationContextTrust.html).
CLIENT_TRUST_SOURCES = ("acm", "file", "sds")
#: API_TlsValidationContextAcmTrust.html, certificateAuthorityArns: 1 to 3 items.
ACM_TRUST_ARNS = (1, 3)

#: API_TagRef.html and CreateMesh's tags: "Array Members: Minimum number of 0 items. Maximum
#: number of 50 items"; keys 1 to 128 characters, values 0 to 256.
TAGS_MAX = 50

#: The App Mesh resource kinds the course builds: kind -> (the snake_case noun of its
#: Create/Describe/Update/Delete/List operations, its name parameter, the parameter naming
#: its parent router or gateway, or None). From each operation's page, e.g.
#: API_DescribeRoute.html (meshName, virtualRouterName, routeName).
KINDS = {
    "mesh": ("mesh", "meshName", None),
    "virtualNode": ("virtual_node", "virtualNodeName", None),
    "virtualService": ("virtual_service", "virtualServiceName", None),
    "virtualRouter": ("virtual_router", "virtualRouterName", None),
    "route": ("route", "routeName", "virtualRouterName"),
    "virtualGateway": ("virtual_gateway", "virtualGatewayName", None),
    "gatewayRoute": ("gateway_route", "gatewayRouteName", "virtualGatewayName"),
}
#: The member of each List operation's answer that holds the refs (API_ListRoutes.html:
#: "routes", ...).
LIST_KEYS = {"virtualNode": "virtualNodes", "virtualService": "virtualServices", "virtualRouter": "virtualRouters",
             "route": "routes", "virtualGateway": "virtualGateways", "gatewayRoute": "gatewayRoutes"}
