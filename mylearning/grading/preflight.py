"""Before the first notebook runs: the checks must work on an empty account, and score zero.

A check that cannot reach its emulator would zero every submission for the
grader's fault, so the run stops instead; a step that passes on an empty
account would give every submission its points, so the instructor is warned.
Evaluating once per emulator also creates each worker's API clients before
timing matters.
"""
from __future__ import annotations

import asyncio
from typing import Any, Iterable

from mylearning.grading import evaluation
from mylearning.grading.emulators import Emulator
from mylearning.grading.job import GradingError


async def preflight(lab: Any, emulators: Iterable[Emulator]) -> list[str]:
    """The warnings for the instructor; raises GradingError if the checks cannot run."""
    members = list(emulators)

    def evaluate_all():
        return [evaluation.evaluate(lab, e.session()) for e in members]

    for steps in await asyncio.to_thread(evaluate_all):
        unreachable = [s for s in steps if s.message.startswith("The backend did not answer")]
        if unreachable:
            raise GradingError(f"The grading emulator does not answer the checks: "
                               f"{unreachable[0].message}")
        free = [s.step_id for s in steps if s.passed]
        if free:
            return [f"Steps {', '.join(free)} pass on an empty account, so every submission "
                    "gets their points."]
    return []
