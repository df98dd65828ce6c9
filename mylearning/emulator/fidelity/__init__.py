"""The fidelity layer: makes the embedded AWS answer like AWS where moto does not.

`wrap(app)` puts the layer in front of moto's WSGI app; `reset()` clears the
state the layer keeps itself. Rules are grouped one module per AWS service and
registered on import (see `core`).
"""
from __future__ import annotations

from mylearning.emulator.fidelity import core
from mylearning.emulator.fidelity.core import AwsError, AwsRequest, after, handler, on_reset, rule

# Service modules register their rules when imported.
from mylearning.emulator.fidelity import services as _services  # noqa: F401


def wrap(app: core.Wsgi) -> core.Wsgi:
    return core.FidelityMiddleware(app)


def reset() -> None:
    core.reset()


__all__ = ["wrap", "reset", "AwsError", "AwsRequest", "rule", "handler", "after", "on_reset"]
