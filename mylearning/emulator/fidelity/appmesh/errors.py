"""App Mesh's error answers as its API reference names them, and moto's codes mapped to them."""
from __future__ import annotations

from typing import Any

from mylearning.emulator.fidelity.core import AwsError


def bad_request(message: str) -> AwsError:
    return AwsError("BadRequestException", message, 400)


def not_found(message: str) -> AwsError:
    return AwsError("NotFoundException", message, 404)


def conflict(message: str) -> AwsError:
    return AwsError("ConflictException", message, 409)


def in_use(message: str) -> AwsError:
    return AwsError("ResourceInUseException", message, 409)


#: moto's App Mesh error codes -> (AWS code, HTTP status), per the API reference's
#: Errors sections (e.g. API_DescribeVirtualNode.html: NotFoundException 404).
_AWS_CODES = {
    "MeshNotFound": ("NotFoundException", 404),
    "ResourceNotFound": ("NotFoundException", 404),
    "VirtualRouterNotFound": ("NotFoundException", 404),
    "RouteNotFound": ("NotFoundException", 404),
    "VirtualNodeNotFound": ("NotFoundException", 404),
    "VirtualGatewayNotFound": ("NotFoundException", 404),
    "GatewayRouteNotFound": ("NotFoundException", 404),
    "MeshOwnerDoesNotMatch": ("NotFoundException", 404),
    "VirtualRouterNameAlreadyTaken": ("ConflictException", 409),
    "RouteNameAlreadyTaken": ("ConflictException", 409),
    "VirtualNodeNameAlreadyTaken": ("ConflictException", 409),
    "VirtualGatewayNameAlreadyTaken": ("ConflictException", 409),
    "GatewayRouteNameAlreadyTaken": ("ConflictException", 409),
    "MissingRequiredField": ("BadRequestException", 400),
}


def _moto(fn, *args: Any, **kwargs: Any) -> Any:
    """Call moto from a handler; its App Mesh errors become AWS's."""
    from moto.core.exceptions import JsonRESTError
    try:
        return fn(*args, **kwargs)
    except JsonRESTError as exc:
        code, status = _AWS_CODES.get(exc.error_type, (exc.error_type, exc.code))
        raise AwsError(code, exc.message, status) from None
