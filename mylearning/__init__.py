"""MyLearning ECS & App Mesh labs: the learner's helper library.

Importing this package is cheap (no boto3, no moto); the heavy parts load on
first use, so a notebook's first cell answers at once.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# name -> module that defines it; resolved on first access (PEP 562).
_LAZY = {
    "connect": "mylearning.backend",
    "current": "mylearning.backend",
    "BackendError": "mylearning.backend",
    "CourseSession": "mylearning.backend",
    "check": "mylearning.notebook",
    "summary": "mylearning.notebook",
    "record_answer": "mylearning.answers",
}

if TYPE_CHECKING:  # pragma: no cover
    from mylearning.answers import record_answer
    from mylearning.backend import BackendError, CourseSession, connect, current
    from mylearning.notebook import check, summary


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mylearning' has no attribute {name!r}")
    import importlib
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + list(_LAZY))


__all__ = sorted(_LAZY)
