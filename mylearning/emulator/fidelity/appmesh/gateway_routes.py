"""App Mesh gateway routes: the cross-field rules of CreateGatewayRoute/UpdateGatewayRoute
that moto 5.2 skips -- path matches, rewrites and the ports a gateway route must name.

(One route type per spec is `one_of`; the target virtual service existing is in `rules`.)
"""
from __future__ import annotations

from typing import Iterator

from mylearning.emulator.fidelity.core import AwsRequest, rule
from mylearning.emulator.fidelity.appmesh.access import GATEWAY_ROUTE_KINDS, SERVICE
from mylearning.emulator.fidelity.appmesh.errors import bad_request
from mylearning.emulator.fidelity.appmesh.listeners import gateway_listeners, provider_listeners

GATEWAY_ROUTES = ("CreateGatewayRoute", "UpdateGatewayRoute")
#: https://docs.aws.amazon.com/app-mesh/latest/userguide/gateway-routes.html: "You can't
#: specify either /aws-appmesh* or /aws-app-mesh* for Prefix match"
RESERVED_PREFIXES = ("/aws-appmesh", "/aws-app-mesh")


def _kinds(spec: dict) -> Iterator[tuple[str, dict]]:
    for kind in GATEWAY_ROUTE_KINDS:
        route = (spec or {}).get(kind)
        if isinstance(route, dict):
            yield kind, route


def _http_kinds(spec: dict) -> Iterator[tuple[str, dict]]:
    return ((k, r) for k, r in _kinds(spec) if k in ("httpRoute", "http2Route"))


@rule(SERVICE, *GATEWAY_ROUTES)
def gateway_paths_are_valid(req: AwsRequest) -> None:
    """A gateway route's prefix match starts with '/' and isn't reserved; an exact path
    match starts with '/'.

    https://docs.aws.amazon.com/app-mesh/latest/APIReference/API_HttpGatewayRouteMatch.html
    (prefix: "This parameter must always start with /"),
    https://docs.aws.amazon.com/app-mesh/latest/userguide/gateway-routes.html ("You can't
    specify either /aws-appmesh* or /aws-app-mesh* for Prefix match. These prefixes are
    reserved for future App Mesh internal use") and
    https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_appmesh.HttpGatewayRoutePathMatch.html
    (exactly: "The provided path must start with the '/' character").
    """
    for kind, route in _http_kinds(req.params.get("spec") or {}):
        match = route.get("match") or {}
        prefix = match.get("prefix")
        if isinstance(prefix, str):
            if not prefix.startswith("/"):
                raise bad_request(f"spec.{kind}.match.prefix must start with '/'; got {prefix!r}.")
            if prefix.startswith(RESERVED_PREFIXES):
                raise bad_request(f"spec.{kind}.match.prefix {prefix!r} is reserved: prefixes "
                                  "/aws-appmesh* and /aws-app-mesh* are kept for App Mesh.")
        exact = (match.get("path") or {}).get("exact")
        if isinstance(exact, str) and not exact.startswith("/"):
            raise bad_request(f"spec.{kind}.match.path.exact must start with '/'; got {exact!r}.")


@rule(SERVICE, *GATEWAY_ROUTES)
def rewrite_fits_the_match(req: AwsRequest) -> None:
    """A prefix rewrite goes with a prefix match, a path rewrite with a path match; rewriting
    the prefix to a value needs a match prefix that ends with '/'.

    https://docs.aws.amazon.com/app-mesh/latest/userguide/gateway-routes.html (Rewrite: "If
    Prefix is the selected match type: ... Prefix rewrite"; "If Exact Path / Regex Path is the
    selected match type: ... Path rewrite") and
    https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_appmesh.HttpGatewayRoutePathMatch.html
    (startsWith: the prefix "must start with the '/' character. When rewriteTo is provided, it
    must also end with the '/' character").
    """
    for kind, route in _http_kinds(req.params.get("spec") or {}):
        match = route.get("match") or {}
        rewrite = (route.get("action") or {}).get("rewrite") or {}
        prefix_rewrite, path_rewrite = rewrite.get("prefix"), rewrite.get("path")
        if prefix_rewrite is not None and match.get("prefix") is None:
            raise bad_request(f"spec.{kind}.action.rewrite.prefix needs a prefix match "
                              f"(spec.{kind}.match.prefix).")
        if path_rewrite is not None and match.get("path") is None:
            raise bad_request(f"spec.{kind}.action.rewrite.path needs a path match "
                              f"(spec.{kind}.match.path).")
        prefix = match.get("prefix")
        if (isinstance(prefix_rewrite, dict) and prefix_rewrite.get("value")
                and isinstance(prefix, str) and not prefix.endswith("/")):
            raise bad_request(f"spec.{kind}.match.prefix {prefix!r} must end with '/' when the "
                              "prefix is rewritten to a value.")


@rule(SERVICE, *GATEWAY_ROUTES)
def ports_when_several_listeners(req: AwsRequest) -> None:
    """A gateway route matches a port when its virtual gateway has several listeners, and its
    target names a port when the target service's provider has several listeners.

    https://docs.aws.amazon.com/app-mesh/latest/userguide/gateway-routes.html ("Port match is
    required if this virtual gateway has multiple listeners"; "Virtual service provider port
    is required when the provider (router or node) of the selected virtual service has
    multiple listeners").
    """
    gateway = req.params.get("virtualGatewayName")
    listeners = gateway_listeners(req, gateway) or []
    for kind, route in _kinds(req.params.get("spec") or {}):
        if len(listeners) > 1 and (route.get("match") or {}).get("port") is None:
            raise bad_request(f"Virtual gateway {gateway} has {len(listeners)} listeners: "
                              f"spec.{kind}.match.port is required.")
        target = (route.get("action") or {}).get("target") or {}
        service = (target.get("virtualService") or {}).get("virtualServiceName")
        provider = provider_listeners(req, service) or []
        if len(provider) > 1 and target.get("port") is None:
            raise bad_request(f"The provider of virtual service {service} has {len(provider)} "
                              f"listeners: spec.{kind}.action.target.port is required.")
