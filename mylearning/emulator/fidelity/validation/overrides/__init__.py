"""Where the model and the documentation disagree: declared corrections, one table per service.

botocore's models carry most of what AWS validates, but not all: many ranges live
only in an API reference's "Valid Range" line (ECS health-check intervals), and now
and then a model is stricter than the service is. Each service that needs a
correction has a module here, ``<service>.py`` (the boto3 client name without
hyphens), holding ``OVERRIDES``: a tuple of `Override` rows, each citing its page.
They are data, not code; this package finds them and merges them into the
constraints the walker checks.
"""
from __future__ import annotations

import functools
import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import Any

#: A constraint set to this is removed (the model is stricter than the documentation).
DROP = object()


@dataclass(frozen=True)
class Override:
    """A documented constraint for a shape, or for one member of a structure.

    `shape` is the model's shape name (``HealthCheck``); with `member`, the row applies
    to that member of that structure only. `set` holds the constraints as the model
    names them: ``min``, ``max``, ``enum``, ``pattern``, ``required`` (``DROP`` removes one).
    """

    shape: str
    member: str | None
    source: str
    set: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.source.startswith("https://docs.aws.amazon.com/"):
            raise ValueError(f"override {self.shape}.{self.member}: cite the AWS page it comes from")
        unknown = set(self.set) - {"min", "max", "enum", "pattern", "required"}
        if unknown:
            raise ValueError(f"override {self.shape}.{self.member}: unknown constraints {sorted(unknown)}")


@functools.lru_cache(maxsize=None)
def table(service: str) -> dict[tuple[str, str | None], dict[str, Any]]:
    """(shape, member) -> constraints, for one service (boto3 name)."""
    module = service.replace("-", "")
    if module not in {info.name for info in pkgutil.iter_modules(__path__)}:
        return {}
    rows = importlib.import_module(f"{__name__}.{module}").OVERRIDES
    merged: dict[tuple[str, str | None], dict[str, Any]] = {}
    for row in rows:
        merged.setdefault((row.shape, row.member), {}).update(row.set)
    return merged


def all_overrides() -> dict[str, tuple[Override, ...]]:
    """Every service's rows, for the report and the tests."""
    found = {}
    for info in pkgutil.iter_modules(__path__):
        found[info.name] = importlib.import_module(f"{__name__}.{info.name}").OVERRIDES
    return found


def constraints_of(service: str, shape: Any, owner: str | None = None,
                   member: str | None = None) -> dict[str, Any]:
    """The constraints to check for `shape` (as the `owner` structure's `member`, if given)."""
    return _constraints(service, shape.name, owner, member, _model_key(shape))


def _model_key(shape: Any) -> tuple:
    meta = shape.metadata
    enum = getattr(shape, "enum", None) or meta.get("enum")
    return (meta.get("min"), meta.get("max"), tuple(enum) if enum else None, meta.get("pattern"),
            tuple(meta.get("required", ()) or ()))


@functools.lru_cache(maxsize=65536)
def _constraints(service: str, shape_name: str, owner: str | None, member: str | None,
                 model: tuple) -> dict[str, Any]:
    low, high, enum, pattern, required = model
    rules: dict[str, Any] = {"min": low, "max": high, "enum": enum, "pattern": pattern,
                             "required": required}
    overrides = table(service)
    for key in ((shape_name, None), (owner, member) if owner else None):
        if key and key in overrides:
            for name, value in overrides[key].items():
                rules[name] = None if value is DROP else value
    return {k: v for k, v in rules.items() if v is not None}
