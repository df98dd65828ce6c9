"""App Mesh objects that take exactly one of their members: a route type, a match method,
a connection pool, a certificate source, a trust source...

The API reference says so object by object ("Specify one route type", "Specify one match
method", "Only one protocol is used at a time"), and botocore's model marks most of these
objects as unions. moto 5.2 stores whatever it is sent and echoes it back, so a spec with
two members (or none) is accepted, and the echo then fails botocore's parser on the client
(``ResponseParserError: ... must have one and only one member set``) instead of AWS's
BadRequestException.
"""
from __future__ import annotations

from typing import Any, Iterator

from mylearning.emulator.fidelity.core import MODELS, AwsRequest, rule
from mylearning.emulator.fidelity.appmesh.access import API, SERVICE, _body
from mylearning.emulator.fidelity.appmesh.errors import bad_request

#: Objects that are not unions in the model but whose page says "Specify one ... type":
#: API_RouteSpec.html ("Specify one route type"), API_GatewayRouteSpec.html ("Specify one
#: gateway route type"). `priority` sits beside the type and is not one.
ONE_TYPE = {
    "RouteSpec": ("httpRoute", "http2Route", "grpcRoute", "tcpRoute"),
    "GatewayRouteSpec": ("httpRoute", "http2Route", "grpcRoute"),
}

#: Operations whose body carries a spec (the others have nothing to check).
WRITES = ("CreateVirtualNode", "UpdateVirtualNode", "CreateVirtualGateway", "UpdateVirtualGateway",
          "CreateRoute", "UpdateRoute", "CreateGatewayRoute", "UpdateGatewayRoute",
          "CreateVirtualService", "UpdateVirtualService", "CreateVirtualRouter",
          "UpdateVirtualRouter", "CreateMesh", "UpdateMesh")


def _set(value: dict, names) -> list[str]:
    return [name for name in names if value.get(name) is not None]


def problems(shape, value: Any, path: str = "") -> Iterator[str]:
    """A message for each object in `value` that does not set exactly one of its members."""
    if value is None:
        return
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        names = ONE_TYPE.get(shape.name) or (
            tuple(shape.members) if shape.is_tagged_union else ())
        if names:
            chosen = _set(value, names)
            if len(chosen) != 1:
                where = path or "spec"
                got = f"got {', '.join(chosen)}" if chosen else "got none"
                yield (f"{where} must specify exactly one of {', '.join(names)}; {got} "
                       f"({API}/API_{shape.name}.html).")
        for name, member in shape.members.items():
            if name in value and member.serialization.get("location") is None:
                yield from problems(member, value[name], f"{path}.{name}" if path else name)
    elif kind == "list" and isinstance(value, list):
        for i, item in enumerate(value):
            yield from problems(shape.member, item, f"{path}[{i}]")
    elif kind == "map" and isinstance(value, dict):
        for key, item in value.items():
            yield from problems(shape.value, item, f"{path}.{key}")


@rule(SERVICE, *WRITES)
def exactly_one_member(req: AwsRequest) -> None:
    """Objects that take one member take exactly one.

    https://docs.aws.amazon.com/app-mesh/latest/APIReference/API_RouteSpec.html
    ("Specify one route type"),
    https://docs.aws.amazon.com/app-mesh/latest/APIReference/API_GatewayRouteSpec.html
    ("Specify one gateway route type"),
    https://docs.aws.amazon.com/app-mesh/latest/APIReference/API_HeaderMatchMethod.html
    ("Specify one match method"),
    https://docs.aws.amazon.com/app-mesh/latest/APIReference/API_GrpcRouteMetadataMatchMethod.html
    ("Specify one of the match values"),
    https://docs.aws.amazon.com/app-mesh/latest/APIReference/API_VirtualNodeConnectionPool.html
    ("Only one protocol is used at a time"), and the other objects botocore's model marks as
    unions (listener TLS certificate and trust, client certificate, service discovery,
    virtual service provider, access log, logging format, listener timeout).
    """
    model = MODELS.get(SERVICE)
    if model is None:
        return
    shape = model.operation_model(req.operation).input_shape
    if shape is None:
        return
    for problem in problems(shape, _body(req)):
        raise bad_request(problem)
