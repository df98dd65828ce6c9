"""Check a value against its model shape: what AWS validates before an operation runs.

botocore's client checks only some of this (required members, types, minimums),
and a learner's raw HTTP call, the AWS CLI with validation off, or a data-plane
client skips even that. AWS checks the whole model server-side, so this does:
required members, enums, string/list/map lengths, numeric ranges and patterns,
with the documented corrections of `overrides`. Messages use AWS's wording:
"Value 'x' at 'name' failed to satisfy constraint: Member must ..."
(https://docs.aws.amazon.com/AmazonECS/latest/APIReference/CommonErrors.html,
ValidationError: "The input fails to satisfy the constraints specified by an AWS service").
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any, Iterator

from mylearning.emulator.fidelity.validation.overrides import constraints_of


@dataclass(frozen=True)
class Problem:
    """One constraint a parameter breaks: where, what it was, and the rule."""

    path: str
    value: Any
    rule: str
    missing: bool = False

    def message(self) -> str:
        shown = "null" if self.missing else f"'{_short(self.value)}'"
        return f"Value {shown} at '{self.path}' failed to satisfy constraint: Member must {self.rule}"


def _short(value: Any, limit: int = 60) -> str:
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "..."


@functools.lru_cache(maxsize=4096)
def _pattern(text: str) -> re.Pattern | None:
    """A model pattern as a Python regex; None when Python cannot read it.

    Model patterns are Java/ECMA expressions: a few (surrogate ranges, \\p{..} classes)
    have no Python form, and those are left to the service's own rules rather than
    refusing valid input. Smithy patterns are not anchored, so they are searched.
    """
    try:
        return re.compile(text)
    except re.error:
        return None


_KINDS = {"string": str, "list": list, "map": dict, "structure": dict, "boolean": bool}


def check(service: str, shape: Any, value: Any, path: str = "", owner: str | None = None,
          member: str | None = None) -> Iterator[Problem]:
    """Every problem of `value` against `shape` (a botocore Shape), depth first.

    `owner` and `member` name the structure and member the value sits in, so that an
    override stated for one member (HealthCheck.interval) applies there only.
    """
    kind = shape.type_name
    rules = constraints_of(service, shape, owner, member)
    expected = _KINDS.get(kind)
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            yield Problem(path or "input", value, f"be of type {kind}")
            return
    elif kind in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            yield Problem(path or "input", value, f"be of type {kind}")
            return
    elif expected is not None and not isinstance(value, expected):
        yield Problem(path or "input", value, f"be of type {kind}")
        return
    if kind == "structure":
        yield from _structure(service, shape, value, path)
    elif kind == "list":
        yield from _length(rules, len(value), path, value, "length")
        for i, item in enumerate(value, 1):
            if item is not None:
                yield from check(service, shape.member, item, f"{path}.{i}.member" if path else f"{i}.member")
    elif kind == "map":
        yield from _length(rules, len(value), path, value, "length")
        for key, item in value.items():
            if item is not None:
                yield from check(service, shape.value, item, f"{path}.{key}")
    elif kind == "string":
        enum = rules.get("enum")
        if enum and value not in enum:
            yield Problem(path, value, f"satisfy enum value set: [{', '.join(enum)}]")
            return
        yield from _length(rules, len(value), path, value, "length")
        pattern = rules.get("pattern")
        if pattern and value and (compiled := _pattern(pattern)) is not None and not compiled.search(value):
            yield Problem(path, value, f"satisfy regular expression pattern: {pattern}")
    elif kind in ("integer", "long", "float", "double"):
        yield from _length(rules, value, path, value, "value")


def _structure(service: str, shape: Any, value: dict, path: str) -> Iterator[Problem]:
    for name in constraints_of(service, shape).get("required", ()):
        if value.get(name) is None:
            yield Problem(f"{path}.{name}" if path else name, None, "not be null", missing=True)
    for name, member in shape.members.items():
        item = value.get(name)
        if item is not None:
            yield from check(service, member, item, f"{path}.{name}" if path else name, shape.name, name)


def _length(rules: dict, size: float, path: str, value: Any, what: str) -> Iterator[Problem]:
    low, high = rules.get("min"), rules.get("max")
    if low is not None and size < low:
        yield Problem(path, value, f"have {what} greater than or equal to {_num(low)}")
    elif high is not None and size > high:
        yield Problem(path, value, f"have {what} less than or equal to {_num(high)}")


def _num(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)
