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
import hashlib
import os
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Sequence

from mylearning.grading import flatten, isolation, notebooks, outputs
from mylearning.grading.discovery import DiscoveryError, Submission, discover
from mylearning.grading.emulators import EmulatorFailure
from mylearning.grading.gradebook import Gradebook
from mylearning.grading.job import BatchResult, GradingError, GradingOptions
from mylearning.grading.pool import WorkerPool
from mylearning.grading.preflight import preflight
from mylearning.grading.records import code_fingerprint, config_key
from mylearning.grading.resume import Duplicates, reuse_earlier
from mylearning.grading.sandbox import CodeWatch
from mylearning.grading.watchdog import Watchdog
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
    if options.shard is not None:
        submissions = shard_of(submissions, *options.shard)
    protection = isolation.probe(enabled=options.sandbox)
    if options.require_sandbox and not (protection.sandboxed and protection.pid_namespace):
        raise GradingError("--require-sandbox: the operating-system sandbox cannot be applied "
                           "here (" + "; ".join(protection.gaps or [protection.warning() or ""])
                           + "). Nothing was graded.")
    try:
        outputs.check_output_folder(out, [s.slug for s in submissions])
        out.mkdir(parents=True, exist_ok=True)
    except outputs.OutputProblem as exc:
        raise GradingError(str(exc)) from None
    except OSError as exc:
        raise GradingError(f"Cannot create the output folder {out}: {exc}") from None
    submissions, programs = read_all(submissions, options.max_notebook_bytes)
    batch = Batch(lab, lab_number, submissions, replace(options, out=out), protection, programs)
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
                 options: GradingOptions, protection: isolation.Protection | None = None,
                 programs: dict[str, Any] | None = None):
        from mylearning import course
        import mylearning

        self.lab = lab
        self.lab_number = lab_number
        self.submissions = submissions
        self.options = options
        self.protection = protection or isolation.probe(enabled=options.sandbox)
        self.programs = programs if programs is not None else read_all(
            submissions, options.max_notebook_bytes)[1]
        self.roots = [Path(mylearning.__file__).parent,
                      Path(course.grader_module(lab_number).__file__).parent]
        fingerprint = code_fingerprint(self.roots)
        self.config = config_key(lab_number, options.limits, fingerprint,
                                 sandboxed=self.protection.enabled)
        self.code = CodeWatch(self.roots)
        self.book = Gradebook(options, submissions, lab_number, self.config, list(lab.steps))
        self.book.protection = self.protection.to_dict(options.limits)
        self.book.course = {"version": mylearning.__version__, "code": fingerprint,
                            "lab": lab_number}
        self.book.secrets = flatten.secrets_of(allowed=_kernel_values())
        warning = self.protection.warning()
        if warning:
            self.book.warnings.append(warning)
            print(f"mylearning grade: WARNING: {warning}", file=options.stream or sys.stderr,
                  flush=True)
        if options.shard is not None:
            self.book.shard = options.shard
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
        self.pool = WorkerPool(size, self.options, self.lab_number, self.protection,
                               self.roots)
        self._phase("launched")
        dog = Watchdog(self.last_resort)
        work = Assignment(self.lab, self.options, self.book, self.code, self.programs, dog)
        beat = asyncio.ensure_future(dog.heartbeat())
        dog.start()
        try:
            await self.pool.run(copies.unique.values(), work, self._prepare)
        finally:
            dog.stop()
            beat.cancel()
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


def shard_of(submissions: list[Submission], index: int, count: int) -> list[Submission]:
    """Shard `index` of `count` (1-based): a stable share, by each submission's name.

    By name rather than position, so adding a submission never moves the others
    to another shard, and every machine of a CI matrix computes the same split.
    """
    return [s for s in submissions
            if int(hashlib.sha256(s.name.encode()).hexdigest(), 16) % count == index - 1]


def read_all(submissions: list[Submission], max_bytes: int
             ) -> tuple[list[Submission], dict[str, Any]]:
    """Every submission's code cells (or the reason it cannot run), before any kernel starts.

    So no submission can change or delete another before it is read. The content
    hash is taken of the very bytes that will run (a file changed since discovery
    is graded as read here).
    """
    read: list[Submission] = []
    programs: dict[str, Any] = {}
    for sub in submissions:
        try:
            size = sub.path.stat().st_size
            if size > max_bytes:
                notebooks.load(sub.path, max_bytes)  # raises the learner-facing reason
            data = sub.path.read_bytes()
        except notebooks.NotebookProblem as exc:
            programs[sub.name] = str(exc)
            read.append(sub)
            continue
        except OSError as exc:
            programs[sub.name] = f"The file could not be read ({exc.strerror or exc})."
            read.append(sub)
            continue
        digest = hashlib.sha256(data).hexdigest()
        if digest != sub.sha256:
            sub = replace(sub, sha256=digest, size=len(data))
        try:
            programs[sub.name] = notebooks.parse(data)
        except notebooks.NotebookProblem as exc:
            programs[sub.name] = str(exc)
        read.append(sub)
    return read, programs


def _kernel_values() -> list[str]:
    """What every kernel is told anyway: never worth hiding from feedback."""
    from mylearning.grading.sandbox import GRADING_LEARNER, GRADING_REGION, kernel_env
    return list(kernel_env("http://127.0.0.1:1", Path("/nonexistent"), "tag").values()) + [
        GRADING_LEARNER, GRADING_REGION]
