"""A teardown plan: the deletions a lab's teardown would make, shown before any is made.

Each lab's teardown (in its `mylearning.course` module) builds a `Plan` of `Action`s;
printing it shows what would go, and `run(execute=True)` carries it out, going on past
a resource that refuses, so one stuck resource never strands the rest.
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
