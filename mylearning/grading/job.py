"""A grading job as the CLI and the tests see it: what is asked, what comes back, what stops it.

Kept apart from the orchestration so every stage can take the options as one
value and raise the one error without importing `batch` (which imports them all).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from mylearning.grading.limits import Limits
from mylearning.grading.records import Grade


class GradingError(RuntimeError):
    """Grading itself cannot run (bad lab number, no submissions, no emulator)."""


@dataclass
class GradingOptions:
    lab: str
    out: Path
    workers: int | None = None
    force: bool = False
    limits: Limits = field(default_factory=Limits)
    max_notebook_bytes: int = 50_000_000
    progress: bool = True
    stream: TextIO | None = None
    #: Confine every kernel with the operating-system sandbox (`isolation`).
    sandbox: bool = True
    #: Refuse to grade (GradingError) where the sandbox cannot be fully applied.
    require_sandbox: bool = False
    #: (I, N): grade only shard I of N (1-based), a stable share of the submissions.
    shard: tuple[int, int] | None = None


@dataclass
class BatchResult:
    grades: list[Grade]
    #: Submissions the grader could not grade (its own failure, not the learner's).
    failures: list[str]
    interrupted: bool
    wall_seconds: float
    summary: str
    warnings: list[str] = field(default_factory=list)
    #: Seconds since the start at which each phase ended (startup costs, for benchmarks).
    phases: dict[str, float] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return 130
        return 1 if self.failures else 0
