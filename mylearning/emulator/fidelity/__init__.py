"""The fidelity layer: makes the embedded AWS answer like AWS where moto does not.

`wrap(app)` puts the layer in front of moto's WSGI app; `reset()` clears the
state the layer keeps itself. Rules are grouped one module (or package) per AWS
service and registered on import (see `core`).

Service modules are discovered, not listed: every module or package directly in
this package, other than the machinery (`core`, `validation`) and the fidelity table (`cases`),
holds one service's rules and is named after its boto3 client without hyphens
(``applicationautoscaling`` for ``application-autoscaling``). Importing the layer
imports them all; adding a service adds its file and edits none. `services()`
names them as boto3 does.
"""
from __future__ import annotations

import functools
import importlib
import pkgutil

from mylearning.emulator.fidelity import core
from mylearning.emulator.fidelity.core import AwsError, AwsRequest, after, handler, on_reset, rule

#: What sits beside the service modules and is not one.
NOT_SERVICES = frozenset({"core", "cases", "validation"})


def _discover() -> tuple[str, ...]:
    """Import every service module, so its rules register; return their names, sorted."""
    names = tuple(info.name for info in pkgutil.iter_modules(__path__)
                  if info.name not in NOT_SERVICES and not info.name.startswith("_"))
    for name in names:
        importlib.import_module(f"{__name__}.{name}")
    return names


#: The service modules and packages by name (boto3 client names without hyphens).
MODULES: tuple[str, ...] = _discover()

# Model validation runs before every service's own rules (see `validation`).
from mylearning.emulator.fidelity import validation  # noqa: E402,F401


@functools.lru_cache(maxsize=None)
def _boto3_names() -> dict[str, str]:
    """boto3 client name without hyphens -> the name (no two clients collide)."""
    from botocore.loaders import create_loader

    return {name.replace("-", ""): name for name in create_loader().list_available_services("service-2")}


def boto3_name(module: str) -> str:
    """The boto3 client a service module is named after, e.g. acmpca -> acm-pca."""
    try:
        return _boto3_names()[module]
    except KeyError:
        raise LookupError(f"mylearning.emulator.fidelity.{module} is named after no boto3 client: a "
                          "service module's name is its client's name without hyphens") from None


def services() -> tuple[str, ...]:
    """boto3 client names of the services the layer has rules for, sorted."""
    return tuple(sorted(boto3_name(module) for module in MODULES))


def wrap(app: core.Wsgi) -> core.Wsgi:
    return core.FidelityMiddleware(app)


def reset() -> None:
    core.reset()


__all__ = ["wrap", "reset", "services", "AwsError", "AwsRequest", "rule", "handler", "after",
           "on_reset"]
