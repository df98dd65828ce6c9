"""Grade a batch of notebooks: the orchestration behind `mylearning grade`.

The stages run in order, each in its own module and each stopping what it
started: the output folder is opened (`gradebook`), earlier grades of the same
content are reused and copies set aside (`resume`), the worker pool starts its
emulators and kernels (`pool`, `worker`), the checks are tried on the empty
accounts (`preflight`), the workers grade, the pool is closed, and the
gradebook is published. Stop requests end a run like Ctrl-C (`shutdown`), and
a synchronous last resort in `grade_batch` cleans up even when a second
Ctrl-C tears the event loop down.
"""
from __future__ import annotations

import asyncio
import os
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Sequence

from mylearning.grading.discovery import DiscoveryError, Submission, discover
from mylearning.grading.emulators import EmulatorFailure
from mylearning.grading.gradebook import Gradebook
from mylearning.grading.job import BatchResult, GradingError, GradingOptions
from mylearning.grading.pool import WorkerPool
from mylearning.grading.preflight import preflight
from mylearning.grading.records import code_fingerprint, config_key
from mylearning.grading.resume import Duplicates, reuse_earlier
from mylearning.grading.sandbox import CodeWatch
from mylearning.grading.shutdown import stop_requests_cancel
from mylearning.grading.worker import Assignment

__all__ = ["BatchResult", "GradingError", "GradingOptions", "grade_batch"]


def grade_batch(paths: Sequence[str | Path], options: GradingOptions) -> BatchResult:
    """Grade every submission under `paths` into `options.out`; see the module docstring."""
    from mylearning import course
    from mylearning.identity import lab_id

    try:
        lab_number = lab_id(options.lab)
        lab = course.grader(lab_number)
    except (KeyError, ValueError) as exc:
        raise GradingError(str(exc).strip("'\"")) from None
    out = Path(options.out)
    try:
        submissions = discover(paths, exclude=out)
    except DiscoveryError as exc:
        raise GradingError(str(exc)) from None
    if not submissions:
        raise GradingError("No notebooks found in " + ", ".join(str(p) for p in paths))
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GradingError(f"Cannot create the output folder {out}: {exc}") from None
    batch = Batch(lab, lab_number, submissions, replace(options, out=out))
    try:
        return asyncio.run(batch.run())
    except KeyboardInterrupt:
        batch.last_resort()
        result = batch.result(interrupted=True)
        return result
    finally:
        batch.last_resort()


class Batch:
    """One run: its stages in order, and the phase times a benchmark reads."""

    def __init__(self, lab: Any, lab_number: str, submissions: list[Submission],
                 options: GradingOptions):
        from mylearning import course
        import mylearning

        self.lab = lab
        self.lab_number = lab_number
        self.submissions = submissions
        self.options = options
        roots = [Path(mylearning.__file__).parent,
                 Path(course.grader_module(lab_number).__file__).parent]
        self.config = config_key(lab_number, options.limits, code_fingerprint(roots))
        self.code = CodeWatch(roots)
        self.book = Gradebook(options, submissions, lab_number, self.config, list(lab.steps))
        self.pool: WorkerPool | None = None
        self.started = time.monotonic()
        self.phases: dict[str, float] = {}

    def _phase(self, name: str) -> None:
        self.phases[name] = round(time.monotonic() - self.started, 3)

    async def run(self) -> BatchResult:
        interrupted = False
        try:
            with stop_requests_cancel(asyncio.current_task()):
                try:
                    self.book.open()
                    todo = self.resume()
                    self.book.start_progress()
                    if todo:
                        await self._grade(todo)
                except asyncio.CancelledError:
                    interrupted = True
        finally:
            await self.close()
        return self.result(interrupted)

    def resume(self) -> list[Submission]:
        """Reuse earlier grades of the same content; return what must still be graded."""
        return reuse_earlier(self.submissions, self.options, self.config, self.book)

    async def _grade(self, todo: list[Submission]) -> None:
        copies = Duplicates(todo)
        size = max(1, min(self.options.workers or os.cpu_count() or 1, len(copies.unique)))
        self.pool = WorkerPool(size, self.options, self.lab_number)
        self._phase("launched")
        work = Assignment(self.lab, self.options, self.book, self.code)
        await self.pool.run(copies.unique.values(), work, self._prepare)
        self._phase("graded")
        copies.fill_in(self.book)

    async def _prepare(self) -> None:
        """While the first kernels boot: emulators up, checks sane, the grading code noted."""
        try:
            await self.pool.emulators.wait_ready()
        except EmulatorFailure as exc:
            raise GradingError(str(exc)) from None
        self._phase("emulators_ready")
        self.book.warnings.extend(await preflight(self.lab, self.pool.emulators))
        await self.code.baseline()
        self._phase("preflight")

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.close()

    def last_resort(self) -> None:
        """Synchronous cleanup that works even without an event loop; idempotent."""
        if self.pool is not None:
            self.pool.kill_now()

    def result(self, interrupted: bool) -> BatchResult:
        wall = time.monotonic() - self.started
        self.phases["end"] = round(wall, 3)
        return self.book.publish(interrupted, wall, dict(self.phases))
