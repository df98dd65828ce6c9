"""The enums and maximums App Mesh's API reference states, checked on every request.

botocore validates only minimums on the client side; these come from the same model.
"""
from __future__ import annotations

from typing import Any, Iterator

from mylearning.emulator.fidelity.core import MODELS, AwsRequest, rule
from mylearning.emulator.fidelity.appmesh.access import SERVICE, _body
from mylearning.emulator.fidelity.appmesh.errors import bad_request


def _all_operations() -> list[str]:
    model = MODELS.get(SERVICE)
    return list(model.operation_names) if model else []


def _walk(shape, value: Any, path: str) -> Iterator[str]:
    """Yield a message for each value outside the enum or above the maximum the
    API reference states for its shape (the same values botocore's model carries)."""
    if value is None:
        return
    kind = shape.type_name
    meta = shape.metadata
    if kind == "structure" and isinstance(value, dict):
        for name, member in shape.members.items():
            if name in value and member.serialization.get("location") is None:
                yield from _walk(member, value[name], f"{path}.{name}" if path else name)
    elif kind == "list" and isinstance(value, list):
        if "max" in meta and len(value) > meta["max"]:
            yield f"{path} must have at most {meta['max']} items; it has {len(value)}."
        for i, item in enumerate(value):
            yield from _walk(shape.member, item, f"{path}[{i}]")
    elif kind == "map" and isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(shape.value, item, f"{path}.{key}")
    elif kind == "string" and isinstance(value, str):
        enum = getattr(shape, "enum", None)
        if enum and value not in enum:
            yield f"{path} must be one of {', '.join(enum)}; got {value!r}."
        if "max" in meta and len(value) > meta["max"]:
            yield f"{path} must be at most {meta['max']} characters long."
    elif kind in ("integer", "long") and isinstance(value, int) and not isinstance(value, bool):
        if "max" in meta and value > meta["max"]:
            yield f"{path} must be at most {meta['max']}; got {value}."


@rule(SERVICE, *_all_operations())
def model_constraints(req: AwsRequest) -> None:
    """Enums and maximums from the API reference: egressFilter.type ALLOW_ALL|DROP_ALL
    (API_EgressFilter.html), listener tls.mode STRICT|PERMISSIVE|DISABLED
    (API_ListenerTls.html, API_VirtualGatewayListenerTls.html), weight 0-100 and
    1-10 weightedTargets (API_WeightedTarget.html, API_HttpRouteAction.html),
    ports 1-65535 (API_PortMapping.html)."""
    model = MODELS.get(SERVICE)
    if model is None or req.method == "GET":
        return
    body = _body(req)
    shape = model.operation_model(req.operation).input_shape
    if shape is None:
        return
    for problem in _walk(shape, body, ""):
        raise bad_request(problem)
