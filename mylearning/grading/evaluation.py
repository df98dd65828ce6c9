"""The lab's checks, run in the grader's own process against the emulator state.

This is the trust boundary of grading. The checks are the same step
definitions a learner's `check()` cells use, but they run here, on modules the
grader imported before any submission ran, reading the account through the
API. Nothing a notebook did to `check`, `graders` or `mylearning` in its
kernel, and nothing it printed, reaches this code.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from mylearning.grading.flatten import flat
from mylearning.steps import StepResult


def evaluate(lab: Any, session: Any) -> list[StepResult]:
    """Every step of `lab` against the account behind `session`, ready to be stored.

    A check builds its Outcome freely (nothing validates its fields), and a grade
    is written as JSON, so each field is made its declared type here. Messages and
    details may quote what the submission created (a resource's name), so they are
    flattened like any text a submission controls.
    """
    return [replace(r, points=float(r.points), max_points=float(r.max_points),
                    passed=bool(r.passed), message=flat(r.message, 1000), hint=flat(r.hint, 1000),
                    details=[flat(d, 500) for d in list(r.details)[:50]])
            for r in lab.evaluate(session).results]


def zero(lab: Any, reason: str) -> list[StepResult]:
    """Every step failed for one reason (the notebook could not run at all)."""
    return [StepResult(step_id=step.id, title=step.title, points=0.0, max_points=step.points,
                       passed=False, message=reason,
                       hint="Fix the problem above and submit the notebook again.")
            for step in lab.steps.values()]


def foreign_learners(session: Any) -> list[str]:
    """Learner ids other than the grading one that stored answers in the account.

    A notebook that changes MYLEARNING_LEARNER builds under another name, which
    the checks rightly ignore; saying so turns a puzzling zero into a clear reason.
    """
    from mylearning.answers import ROOT
    ssm = session.client("ssm")
    found: set[str] = set()
    try:
        pages = ssm.get_paginator("describe_parameters").paginate(
            ParameterFilters=[{"Key": "Name", "Option": "BeginsWith", "Values": [ROOT + "/"]}])
        for page in pages:
            for param in page.get("Parameters", []):
                parts = param["Name"].split("/")
                if len(parts) > 2 and parts[2] != session.learner:
                    found.add(parts[2])
    except Exception:  # a hint only; never let it break grading
        return []
    return sorted(found)
