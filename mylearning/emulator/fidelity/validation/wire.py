"""A request's parameters in the shape of the service model, whatever protocol carried them.

JSON services send the input structure as it is; REST services split it between
the path, the query string, headers and the body; query and EC2 services flatten
it into ``Name.member.1.Key=value`` pairs. Model validation walks the model's
input shape, so each protocol's wire form is read back into that structure here,
by the serialisation rules botocore's serializers follow
(https://smithy.io/2.0/aws/protocols/aws-query-protocol.html,
https://smithy.io/2.0/aws/protocols/aws-ec2-query-protocol.html,
https://smithy.io/2.0/aws/protocols/aws-restjson1-protocol.html).

A value that cannot be read as its shape's type is kept as the text it was, so
the walker reports the type error against the parameter's name.
"""
from __future__ import annotations

import json
import urllib.parse
from typing import Any

#: Marks a member the request did not carry (distinct from an explicit null).
ABSENT = object()


def structured(req: Any, shape: Any) -> dict:
    """The request's input as the model's structure (member name -> value)."""
    if req.protocol in ("query", "ec2"):
        return _query_structure(shape, req.params, "", ec2=req.protocol == "ec2")
    if req.protocol in ("rest-json", "rest-xml"):
        return _rest(req, shape)
    return dict(req.params) if isinstance(req.params, dict) else {}


# ---------------------------------------------------------------- REST
def _rest(req: Any, shape: Any) -> dict:
    try:
        body = json.loads(req.body or b"{}") if req.protocol == "rest-json" else {}
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    query = urllib.parse.parse_qs(req.environ.get("QUERY_STRING", ""), keep_blank_values=True)
    out: dict[str, Any] = {}
    payload = shape.serialization.get("payload")
    for name, member in shape.members.items():
        where = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if where == "uri":
            if wire in req.path_params:
                out[name] = _scalar(member, req.path_params[wire])
        elif where == "querystring":
            if wire in query:
                values = query[wire]
                out[name] = ([_scalar(member.member, v) for v in values]
                             if member.type_name == "list" else _scalar(member, values[-1]))
        elif where == "header":
            key = "HTTP_" + wire.upper().replace("-", "_")
            if key in req.environ:
                out[name] = _scalar(member, req.environ[key])
        elif where == "headers":
            continue
        elif name == payload:
            out[name] = body
        elif wire in body:
            out[name] = body[wire]
    return out


# ---------------------------------------------------------------- query and EC2
def _key(member_name: str, member: Any, ec2: bool) -> str:
    if ec2:
        name = member.serialization.get("queryName") or member.serialization.get("name") or member_name
        return name[:1].upper() + name[1:]
    return member.serialization.get("name", member_name)


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _has(params: dict, prefix: str) -> bool:
    dotted = prefix + "."
    return prefix in params or any(k.startswith(dotted) for k in params)


def _indices(params: dict, prefix: str) -> list[int]:
    dotted = prefix + "."
    found = set()
    for key in params:
        if key.startswith(dotted):
            head = key[len(dotted):].split(".", 1)[0]
            if head.isdigit():
                found.add(int(head))
    return sorted(found)


def _query_structure(shape: Any, params: dict, prefix: str, *, ec2: bool) -> dict:
    out: dict[str, Any] = {}
    for name, member in shape.members.items():
        value = _query_value(member, params, _join(prefix, _key(name, member, ec2)), ec2=ec2)
        if value is not ABSENT:
            out[name] = value
    return out


def _query_value(shape: Any, params: dict, prefix: str, *, ec2: bool) -> Any:
    kind = shape.type_name
    if kind == "structure":
        return _query_structure(shape, params, prefix, ec2=ec2) if _has(params, prefix) else ABSENT
    if kind == "list":
        if not ec2 and not shape.serialization.get("flattened"):
            inner = shape.member.serialization.get("name", "member")
            if params.get(prefix) == "" and not _has(params, _join(prefix, inner)):
                return []  # botocore sends an empty list as "Name="
            prefix = _join(prefix, inner)
        elif params.get(prefix) == "":
            return []
        indices = _indices(params, prefix)
        if not indices:
            return ABSENT
        items = [_query_value(shape.member, params, f"{prefix}.{i}", ec2=ec2) for i in indices]
        return [None if item is ABSENT else item for item in items]
    if kind == "map":
        if not shape.serialization.get("flattened"):
            prefix = _join(prefix, "entry")
        key_name = shape.key.serialization.get("name", "key")
        value_name = shape.value.serialization.get("name", "value")
        indices = _indices(params, prefix)
        if not indices:
            return ABSENT
        found = {}
        for i in indices:
            key = params.get(f"{prefix}.{i}.{key_name}")
            found[key] = _query_value(shape.value, params, f"{prefix}.{i}.{value_name}", ec2=ec2)
        return found
    if prefix not in params:
        return ABSENT
    return _scalar(shape, params[prefix])


def _scalar(shape: Any, text: Any) -> Any:
    """A wire string as its shape's type; left as text when it does not read as one."""
    if not isinstance(text, str):
        return text
    kind = shape.type_name
    if kind in ("integer", "long"):
        try:
            return int(text)
        except ValueError:
            return text
    if kind in ("float", "double"):
        try:
            return float(text)
        except ValueError:
            return text
    if kind == "boolean":
        return {"true": True, "false": False}.get(text.lower(), text)
    return text
