"""The labs' step checks: one module per lab, `labNN_topic.py`, each with a `LAB`.

Check cells and batch grading both come through `get_lab`, so what a learner
sees in a notebook is what the instructor's gradebook gets.
"""
from __future__ import annotations

import importlib
import pkgutil
import re

from graders.engine import Context, Lab, LabReport, Outcome, StepResult, fail, ok

_MODULE = re.compile(r"^lab(\d\d)_\w+$")


def lab_modules() -> dict[str, str]:
    """Lab number -> module name, found by file name (labNN_topic.py)."""
    found: dict[str, str] = {}
    for info in pkgutil.iter_modules(__path__):
        match = _MODULE.match(info.name)
        if match:
            found[match.group(1)] = f"{__name__}.{info.name}"
    return dict(sorted(found.items()))


def get_lab(number: str | int) -> Lab:
    from mylearning.identity import lab_id
    key = lab_id(number)
    modules = lab_modules()
    if key not in modules:
        raise KeyError(f"There is no lab {key}. Labs with checks: {', '.join(modules)}")
    return importlib.import_module(modules[key]).LAB


def lab_of_step(step_id: str) -> Lab:
    """The lab a step id like "2.3" belongs to."""
    major = str(step_id).partition(".")[0]
    if not major.isdigit():
        raise KeyError(f"A step id looks like '2.3' (lab 2, step 3); got {step_id!r}")
    return get_lab(major)


__all__ = ["Context", "Lab", "LabReport", "Outcome", "StepResult", "fail", "ok",
           "get_lab", "lab_of_step", "lab_modules"]
