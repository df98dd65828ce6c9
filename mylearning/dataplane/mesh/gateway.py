"""A virtual gateway's routing: gateway routes, their rewrites, then the target service's routes.

As the App Mesh user guide describes it
(https://docs.aws.amazon.com/app-mesh/latest/userguide/gateway-routes.html,
https://docs.aws.amazon.com/app-mesh/latest/userguide/virtual_gateways.html):

* the request arrives on one of the gateway's listeners; gateway routes of that listener's protocol
  (http, http2, grpc) apply, with ``match.port`` required when the gateway has several listeners;
* matching (API_HttpGatewayRouteMatch.html): ``hostname`` exact or suffix, ``prefix`` or ``path``
  (exact / regex), ``headers``, ``method``, ``queryParameters``; for gRPC (API_GrpcGatewayRouteMatch.html)
  hostname, serviceName and metadata;
* order: ``priority`` 0-1000, lower first, routes without one after (as for routes, see
  ``routing``); then "a request is matched to the route with the longest prefix ... if two gateway
  routes existed, with one having a prefix of /chapter and one having a prefix of /, then a request
  for www.example.com/chapter/ would be matched to the gateway route with the /chapter prefix";
* rewrites: "A virtual gateway with a HTTP or HTTP2 listener rewrites the incoming request's
  hostname to the Gateway Route target Virtual Service's name, and the matched prefix from the
  Gateway Route is rewritten to /, by default. For example, if you have configured the Gateway route
  match prefix to /chapter, and, if the incoming request is /chapter/1, the request would be
  rewritten to /1" (virtual_gateways.html). ``rewrite.hostname.defaultTargetHostname`` DISABLED keeps
  the Host; ``rewrite.prefix.defaultPrefix`` DISABLED keeps the path; ``rewrite.prefix.value``
  replaces the matched prefix with that value (the walkthrough's "/maroon/tell" with prefix
  "/maroon/" and value "/red/" becomes "/red/tell", aws-app-mesh-examples
  walkthroughs/howto-match-and-rewrite-at-ingress); with a path match, ``rewrite.path.exact``
  replaces the path, and there is "No default path" rewrite. The query string is kept.
* then the target virtual service routes the rewritten request as it would from any node (its
  router's routes, or its node), on ``target.port`` or the provider's only listener.

No gateway route matches: Envoy's 404 (NR). A gateway has no backends and no egress filter.
"""
from __future__ import annotations

import dataclasses
from typing import Iterable, Mapping

from mylearning.dataplane.mesh import names
from mylearning.dataplane.mesh.matching import grpc_match, hostname_match, http_match, make_request, split_host
from mylearning.dataplane.mesh.model import GatewayRoute, VirtualGateway
from mylearning.dataplane.mesh.routing import Decision, Refusal, RouteTable, _order


def rewrite_path(route: GatewayRoute, path: str) -> str:
    """The path the gateway sends on (without the query string)."""
    rewrite = route.rewrite or {}
    match = route.match
    if match.get("prefix") is not None:
        prefix_rw = rewrite.get("prefix") or {}
        prefix = match["prefix"]
        rest = path[len(prefix):]
        if prefix_rw.get("value"):
            return prefix_rw["value"] + rest
        if prefix_rw.get("defaultPrefix") == "DISABLED":
            return path
        return "/" + (rest[1:] if rest.startswith("/") else rest)
    exact = (rewrite.get("path") or {}).get("exact")
    return exact if exact else path


def rewrite_host(route: GatewayRoute, host: str) -> str:
    hostname = (route.rewrite or {}).get("hostname") or {}
    return host if hostname.get("defaultTargetHostname") == "DISABLED" else route.target_service


class GatewayTable(RouteTable):
    """The routing decisions of a virtual gateway's snapshot."""

    direction = names.INGRESS

    def __init__(self, snapshot, **kwargs) -> None:
        if not isinstance(snapshot.proxy, VirtualGateway):
            raise TypeError("GatewayTable needs a virtual gateway's snapshot")
        super().__init__(snapshot, **kwargs)
        self.gateway_routes = sorted(snapshot.proxy.routes, key=lambda r: _order(r.priority, r.match, r.name))

    def route(self, host: str, port: int, method: str = "GET", path: str = "/", headers: Mapping | Iterable | None = None,
              query: str | Mapping | None = None, scheme: str = "http") -> Decision:
        gateway: VirtualGateway = self.snapshot.proxy
        listener = next((li for li in gateway.listeners if li.port == port), None)
        if listener is None:
            if self.stats:
                self.stats.listener(port).inc("no_filter_chain_match")
            return Refusal(None, "NR", f"{gateway.name} has no listener on port {port}")
        name, _ = split_host(host)
        request = make_request(method, path, host=name, scheme=scheme, headers=headers, query=query)
        for route in self.gateway_routes:
            if route.protocol != listener.protocol or not hostname_match(route.match.get("hostname"), name):
                continue
            ok = (grpc_match(route.match, request, port) if route.protocol == "grpc"
                  else http_match(route.match, request, port))
            if not ok:
                continue
            new_host = rewrite_host(route, name)
            if route.protocol != "grpc":
                request = dataclasses.replace(request, path=rewrite_path(route, request.path))
            target_port = route.target_port or self._only_port(route.target_service)
            if target_port is None:
                return self._no_cluster(f"virtual service {route.target_service} has no single provider listener")
            return self.to_service(route.target_service, target_port, request, host=new_host,
                                   gateway_route=route.name)
        return self._no_route(f"no gateway route of {gateway.name} matches")

    def _only_port(self, service: str) -> int | None:
        ports = self._provider_listeners(service)
        return ports[0][0] if len(ports) == 1 else None

    def ingress(self, port: int):  # a gateway has no local app
        raise TypeError("a virtual gateway has no ingress cluster; use route()")
