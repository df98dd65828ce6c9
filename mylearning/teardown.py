"""Teardown: remove what a lab created, and nothing else.

Each lab's `teardown` (in its `mylearning.course` module) lists only resources that
carry the course tag AND this learner's tag (and, for ECS and Auto Scaling, this
learner's name prefix). The plan is shown first; nothing is deleted unless
`execute=True`. `plan(session, LAB)` is what a lab's last cell calls;
`course_plan(session)` covers every lab, latest first, so dependants go before
what they depend on.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass
class Action:
    kind: str
    ident: str
    run: Callable[[], Any] = field(repr=False)
    status: str = "planned"


@dataclass
class Plan:
    actions: list[Action]
    executed: bool = False

    def run(self, execute: bool) -> "Plan":
        """Carry the plan out when `execute`; otherwise return it unchanged, to be shown."""
        if not execute:
            return self
        for action in self.actions:
            try:
                action.run()
                action.status = "deleted"
            except Exception as exc:  # keep going: one stuck resource must not strand the rest
                code = getattr(exc, "response", {}).get("Error", {}).get("Code", type(exc).__name__)
                action.status = f"failed: {code}"
        self.executed = True
        return self

    def __str__(self) -> str:
        if not self.actions:
            return "Nothing to remove: no resources of this lab were found for you."
        verb = "Removed" if self.executed else "Would remove (run with execute=True)"
        lines = [f"{verb}:"]
        lines += [f"  {a.kind:22} {a.ident:45} {a.status}" for a in self.actions]
        return "\n".join(lines)

    __repr__ = __str__


def plan(session: Any, lab: str | int, execute: bool = False) -> Plan:
    """What removing lab `lab`'s resources takes (carried out with `execute=True`).

    The lab's own teardown lists its AWS resources; the answers the learner recorded
    for the lab (SSM parameters under the learner's lab path) are added to every plan.
    """
    from mylearning import course
    teardown = getattr(course.module(lab), "teardown", None)
    resources = teardown(session, execute=False) if teardown is not None else Plan([])
    return Plan(resources.actions + _answers(session, lab)).run(execute)


def _answers(session: Any, lab: str | int) -> list[Action]:
    from mylearning import answers
    ssm = session.client("ssm")
    return [Action("recorded answer", name, lambda name=name: ssm.delete_parameter(Name=name))
            for name in answers.recorded(session, lab)]


def course_plan(session: Any, execute: bool = False) -> Plan:
    """Every lab's teardown, latest lab first (services before the cluster they run on)."""
    from mylearning import course
    actions: list[Action] = []
    for number in reversed(course.numbers()):
        part = plan(session, number, execute=execute)
        actions += part.actions
    return Plan(actions, executed=execute)
