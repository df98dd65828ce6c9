"""The output stage: every grade's files as soon as it is known, the gradebook at the end.

A grade is written the moment it exists, so an interrupted run keeps everything
it graded and a re-run resumes from there; grades.csv and summary.txt are
written once, at the end, from whatever was graded. All writes go through the
output guard, which also tells which submission ran while the folder changed.
"""
from __future__ import annotations

import contextlib
import json
import sys
from dataclasses import replace
from typing import Iterator

from mylearning.grading.discovery import Submission
from mylearning.grading.flatten import redact
from mylearning.grading.ledger import Ledger
from mylearning.grading.job import BatchResult, GradingOptions
from mylearning.grading.outputs import (FEEDBACK, GRADES_CSV, RESULTS_JSON, SUMMARY_TXT,
                                        OutputGuard, feedback, grades_csv, results_json)
from mylearning.grading.progress import Progress
from mylearning.grading.records import Grade
from mylearning.grading.summary import summarize
from mylearning.steps import StepResult


class Gradebook:
    """The grades of one run's submissions, and the output folder they are written to."""

    def __init__(self, options: GradingOptions, submissions: list[Submission], lab_number: str,
                 config: str, step_ids: list[str]):
        self.options = options
        self.submissions = submissions
        self.lab_number = lab_number
        self.config = config
        self.step_ids = step_ids
        self.grades: dict[str, Grade] = {}
        self.failures: list[str] = []
        self.warnings: list[str] = []
        self.guard: OutputGuard | None = None
        self.progress: Progress | None = None
        self._running: set[str] = set()
        self.ledger: Ledger | None = None
        #: What every grade of this run records about its isolation and course version.
        self.protection: dict = {}
        self.course: dict[str, str] = {}
        #: Values of the grader's environment that no feedback may contain.
        self.secrets: list[str] = []
        #: (I, N) when this run grades one shard of a cohort.
        self.shard: tuple[int, int] | None = None

    def open(self) -> None:
        """Remember the output folder as it is, before any notebook can touch it."""
        self.ledger = Ledger.open(self.options.out)
        if not self.ledger.trusted:
            self.warnings.append(
                "The output folder's ledger was not written by this grader (or was changed), "
                "so no earlier grade in it is trusted: everything is graded again.")
        self.guard = OutputGuard(self.options.out, self.ledger)

    def start_progress(self) -> None:
        """Count the grades already known (resumed) as done, then show the rest as they come."""
        self.progress = Progress(len(self.submissions), stream=self.options.stream or sys.stderr,
                                 enabled=self.options.progress)
        for grade in self.grades.values():
            self.progress.advance(grade.submission, f"{grade.total:g}/{grade.max_total:g} "
                                  "(graded earlier, same content)")

    def advance(self, label: str, detail: str) -> None:
        if self.progress:
            self.progress.advance(label, detail)

    def grade(self, sub: Submission, steps: list[StepResult], reasons: list[str],
              notes: list[str], execution: dict, timings: dict[str, float]) -> Grade:
        """A grade as stored: with its protection, and nothing of the grader's environment."""
        hide = self.secrets

        def clean(text: str) -> str:
            return redact(text, hide)

        steps = [replace(s, message=clean(s.message), hint=clean(s.hint),
                         details=[clean(d) for d in s.details]) for s in steps]
        execution = json.loads(clean(json.dumps(execution)))
        return Grade(submission=sub.name, slug=sub.slug, path=str(sub.path), sha256=sub.sha256,
                     lab=self.lab_number, config=self.config, steps=steps,
                     reasons=[clean(r) for r in reasons], notes=[clean(n) for n in notes],
                     execution=execution, timings={k: round(v, 4) for k, v in timings.items()},
                     protection=dict(self.protection), course=dict(self.course))

    def add(self, grade: Grade) -> None:
        self.grades[grade.submission] = grade

    def write(self, grade: Grade) -> None:
        folder = self.options.out / grade.slug
        self.guard.write(folder / RESULTS_JSON, results_json(grade))
        self.guard.write(folder / FEEDBACK, feedback(grade))

    def finish(self, grade: Grade) -> None:
        """A submission graded in this run: keep it, write it, show it."""
        self.add(grade)
        self.write(grade)
        if self.progress:
            status = f"{grade.total:g}/{grade.max_total:g} in {grade.seconds:.1f}s"
            if grade.reasons:
                status += " (see feedback)"
            self.progress.advance(grade.submission, status)

    def failed(self, sub: Submission, exc: Exception) -> None:
        """The grader's own failure on `sub`: reported, and the submission left ungraded."""
        self.failures.append(f"{sub.name}: {type(exc).__name__}: {exc}")
        self.advance(sub.name, f"NOT GRADED ({type(exc).__name__})")

    @contextlib.contextmanager
    def executing(self, name: str) -> Iterator[None]:
        """Mark `name` as running, so a change to the folder can name every suspect."""
        self._running.add(name)
        try:
            yield
        finally:
            self._running.discard(name)

    def tamper_note(self) -> str | None:
        """Undo any change to the output folder; the instructor's note about it, if any."""
        changes = self.guard.verify()
        if not changes:
            return None
        others = sorted(self._running)
        return ("TAMPER: the grader's output folder changed while this notebook ran "
                f"({'; '.join(changes[:5])}); the grader restored it"
                + (f" (also running then: {', '.join(others)})" if others else "")
                + ". Grades come only from the account state.")

    def publish(self, interrupted: bool, wall: float, phases: dict[str, float]) -> BatchResult:
        """Write grades.csv and summary.txt from whatever was graded; the run's result."""
        graded = [self.grades[s.name] for s in self.submissions if s.name in self.grades]
        missing = [s.name for s in self.submissions if s.name not in self.grades]
        failures = list(self.failures)
        if interrupted:
            self.warnings.append(f"Interrupted: {len(missing)} submissions were not graded; "
                                 "run the same command again to grade them (graded ones are "
                                 "kept).")
        text = summarize(graded, self.step_ids, failures=failures, wall_seconds=wall)
        text += "\n" + protection_lines(self.protection)
        if self.shard is not None:
            text += f"\nShard {self.shard[0]} of {self.shard[1]} (join shards with " \
                    "`mylearning grade merge DIR...`)."
        if self.warnings:
            text += "\n" + "\n".join(f"Warning: {w}" for w in self.warnings)
        if self.guard is not None and graded:
            with contextlib.suppress(OSError):
                self.guard.verify()
                self.guard.write(self.options.out / GRADES_CSV, grades_csv(graded, self.step_ids))
                self.guard.write(self.options.out / SUMMARY_TXT, (text + "\n").encode())
        return BatchResult(graded, failures, interrupted, wall, text, list(self.warnings), phases)


def protection_lines(protection: dict) -> str:
    """The isolation a run applied, as the summary states it."""
    if not protection:
        return "Isolation: unknown."
    if not protection.get("sandboxed"):
        head = "Isolation: NO operating-system sandbox."
    else:
        head = f"Isolation: sandboxed (Landlock ABI {protection.get('landlock_abi')})."
    lines = [head] + [f"  - {rule}" for rule in protection.get("rules", [])]
    limits = protection.get("limits") or {}
    if limits:
        lines.append(f"  - limits: memory {limits['memory_bytes'] / 2 ** 20:g} MiB, "
                     f"{limits['processes']} "
            f"processes, {limits['open_files']} open files, files up to "
            f"{limits['file_bytes'] / 2 ** 20:g} MiB, disk {limits['disk_bytes'] / 2 ** 20:g} MiB, "
            f"CPU {limits['cpu_seconds']} s")
    lines += [f"  - not in force: {gap}" for gap in protection.get("gaps", [])]
    return "\n".join(lines)
