"""Teardown: remove what a lab created, and nothing else.

Each lab's `teardown` (in its `mylearning.course` module) lists only resources that
carry the course tag AND this learner's tag (and, for ECS and Auto Scaling, this
learner's name prefix). The plan is shown first; nothing is deleted unless
`execute=True`. `plan(session, LAB)` is what a lab's last cell calls;
`course_plan(session)` covers every lab, latest first, so dependants go before
what they depend on.
"""
from __future__ import annotations

from typing import Any

from mylearning import answers, course
from mylearning.removals import Action, Plan


def plan(session: Any, lab: str | int, execute: bool = False) -> Plan:
    """What removing lab `lab`'s resources takes (carried out with `execute=True`).

    The lab's own teardown lists its AWS resources; the answers the learner recorded
    for the lab (SSM parameters under the learner's lab path) are added to every plan.
    """
    teardown = getattr(course.module(lab), "teardown", None)
    resources = teardown(session, execute=False) if teardown is not None else Plan([])
    return Plan(resources.actions + _answers(session, lab)).run(execute)


def _answers(session: Any, lab: str | int) -> list[Action]:
    ssm = session.client("ssm")
    return [Action("recorded answer", name, lambda name=name: ssm.delete_parameter(Name=name))
            for name in answers.recorded(session, lab)]


def course_plan(session: Any, execute: bool = False) -> Plan:
    """Every lab's teardown, latest lab first (services before the cluster they run on)."""
    actions: list[Action] = []
    for number in reversed(course.numbers()):
        part = plan(session, number, execute=execute)
        actions += part.actions
    return Plan(actions, executed=execute)
