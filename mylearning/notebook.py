"""Check cells: `check("2.3")` and `summary(2)` in a learner's notebook.

Both evaluate the same step definitions the batch grader uses, against the
backend the notebook is connected to, and return objects that render as a
coloured box in JupyterLab and as plain text anywhere else.
"""
from __future__ import annotations

import os
from typing import Any

#: Set by the batch grader in the kernels it runs: the grader evaluates every step
#: itself, in its own process, once the notebook has finished, so a check cell
#: there only says so instead of making API calls whose result nobody reads.
DEFERRED_VAR = "MYLEARNING_CHECKS_DEFERRED"


def check(step_id: str, session: Any = None):
    """Evaluate one step and show what is right, what is wrong, and how to fix it."""
    from mylearning import course
    from mylearning.backend import current

    try:
        lab = course.lab_of_step(step_id)
    except (KeyError, ValueError) as exc:
        return _usage_error(str(exc).strip("'\""))
    if str(step_id) not in lab.steps:
        return _usage_error(f"Lab {lab.number} has no step {step_id!r}; "
                            f"its steps are {', '.join(lab.steps)}.")
    if os.environ.get(DEFERRED_VAR) == "1":
        return _deferred(lab.steps[str(step_id)].title, str(step_id))
    return lab.evaluate(session or current(), [str(step_id)]).results[0]


def summary(lab_number: str | int, session: Any = None):
    """Every step of a lab at once: a progress bar and a table of what is left."""
    from mylearning import course
    from mylearning.backend import current

    try:
        lab = course.grader(lab_number)
    except (KeyError, ValueError) as exc:
        return _usage_error(str(exc).strip("'\""))
    if os.environ.get(DEFERRED_VAR) == "1":
        return _deferred(lab.title, lab.number)
    return lab.evaluate(session or current())


def _deferred(title: str, ident: str):
    from mylearning.steps import StepResult
    return StepResult(step_id=ident, title=title, points=0, max_points=0, passed=False,
                      message="Checked by the grader after the notebook has run.",
                      hint="Nothing to do: this notebook is being graded.")


def _usage_error(message: str):
    from mylearning.steps import StepResult
    return StepResult(step_id="?", title="check", points=0, max_points=0, passed=False,
                      message=message, hint="Use the step id printed above the check cell.")
