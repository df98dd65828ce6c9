"""Grade a batch of notebooks: the orchestration behind `mylearning grade`.

Each worker owns one emulator and works through a shared queue. Per
submission: read the notebook (a broken file gets a zero with its reason and
no kernel), take the fresh kernel that was booted while the previous
submission ran, run the cells under the limits, kill the kernel and anything
it started, check the output folder, evaluate the lab's checks in this process
against the emulator state, write the outputs, reset the emulator.

Cleanup is layered so no process outlives the run: each worker disposes of its
kernels in `finally`; the batch stops its emulators and sweeps for anything
carrying the run's tag; and a synchronous last resort in `grade_batch` does the
same if the event loop itself is torn down by a second Ctrl-C.
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Sequence, TextIO

from mylearning.grading import evaluation, notebooks
from mylearning.grading.discovery import DiscoveryError, Submission, discover
from mylearning.grading.emulators import Emulator, EmulatorFailure
from mylearning.grading.execution import KernelFactory, run, services_of_lab, settle
from mylearning.grading.limits import Limits
from mylearning.grading.outputs import (FEEDBACK, GRADES_CSV, RESULTS_JSON, OutputGuard,
                                        feedback, grades_csv, results_json)
from mylearning.grading.progress import Progress
from mylearning.grading.records import Grade, code_fingerprint, config_key, find_previous
from mylearning.grading.sandbox import code_state
from mylearning.grading.summary import summarize

SUMMARY_TXT = "summary.txt"


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
    batch = _Batch(lab, lab_number, submissions, replace(options, out=out))
    try:
        return asyncio.run(batch.run())
    except KeyboardInterrupt:
        batch.last_resort()
        result = batch.result(interrupted=True)
        return result
    finally:
        batch.last_resort()


class _Batch:
    def __init__(self, lab: Any, lab_number: str, submissions: list[Submission],
                 options: GradingOptions):
        from mylearning import course
        import mylearning

        self.lab = lab
        self.lab_number = lab_number
        self.submissions = submissions
        self.options = options
        self.limits = options.limits
        self.out = options.out
        self.stream = options.stream or sys.stderr
        self.step_ids = list(lab.steps)
        self.roots = [Path(mylearning.__file__).parent, Path(course.grader_module(lab_number).__file__).parent]
        self.config = config_key(lab_number, self.limits, code_fingerprint(self.roots))
        self.code_state: tuple | None = None
        self.grades: dict[str, Grade] = {}
        self.failures: list[str] = []
        self.warnings: list[str] = []
        self.started = time.monotonic()
        self.guard: OutputGuard | None = None
        self.emulators: list[Emulator] = []
        self.factory: KernelFactory | None = None
        self.reaper: Any = None
        self.run_dir: Path | None = None
        self.running: set[str] = set()
        self.progress: Progress | None = None
        self.phases: dict[str, float] = {}

    def _phase(self, name: str) -> None:
        self.phases[name] = round(time.monotonic() - self.started, 3)

    # ------------------------------------------------------------------ top level

    async def run(self) -> BatchResult:
        loop = asyncio.get_running_loop()
        me = asyncio.current_task()
        stop_signals = [signal.SIGTERM] + ([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])
        for signum in stop_signals:  # a stop request is handled like Ctrl-C: clean up, report
            with contextlib.suppress(RuntimeError, NotImplementedError, ValueError):
                loop.add_signal_handler(signum, me.cancel)
        interrupted = False
        try:
            self.guard = OutputGuard(self.out)
            todo = self._resume()
            self.progress = Progress(len(self.submissions), stream=self.stream,
                                     enabled=self.options.progress)
            for grade in self.grades.values():
                self.progress.advance(grade.submission, f"{grade.total:g}/{grade.max_total:g} "
                                      "(graded earlier, same content)")
            if todo:
                await self._grade_all(todo)
        except asyncio.CancelledError:
            interrupted = True
        finally:
            for signum in stop_signals:
                with contextlib.suppress(RuntimeError, NotImplementedError, ValueError):
                    loop.remove_signal_handler(signum)
            await self._shutdown()
        return self.result(interrupted)

    def result(self, interrupted: bool) -> BatchResult:
        graded = [self.grades[s.name] for s in self.submissions if s.name in self.grades]
        missing = [s.name for s in self.submissions if s.name not in self.grades]
        failures = list(self.failures)
        if interrupted:
            self.warnings.append(f"Interrupted: {len(missing)} submissions were not graded; "
                                 "run the same command again to grade them (graded ones are "
                                 "kept).")
        wall = time.monotonic() - self.started
        text = summarize(graded, self.step_ids, failures=failures, wall_seconds=wall)
        if self.warnings:
            text += "\n" + "\n".join(f"Warning: {w}" for w in self.warnings)
        if self.guard is not None and graded:
            with contextlib.suppress(OSError):
                self.guard.verify()
                self.guard.write(self.out / GRADES_CSV, grades_csv(graded, self.step_ids))
                self.guard.write(self.out / SUMMARY_TXT, (text + "\n").encode())
        self.phases["end"] = round(wall, 3)
        return BatchResult(graded, failures, interrupted, wall, text, list(self.warnings),
                           dict(self.phases))

    def _resume(self) -> list[Submission]:
        """Reuse earlier grades of the same content; return what must still be graded."""
        earlier: dict[str, Grade] = {}
        if not self.options.force:
            for path in sorted(self.out.glob(f"*/{RESULTS_JSON}")):
                grade = _peek(path, self.config)
                if grade is not None:
                    earlier.setdefault(grade.sha256, grade)
        todo: list[Submission] = []
        for sub in self.submissions:
            previous = earlier.get(sub.sha256)
            if previous is None:
                todo.append(sub)
                continue
            grade = replace(previous, submission=sub.name, slug=sub.slug, path=str(sub.path),
                            resumed=True)
            self.grades[sub.name] = grade
            if previous.slug != sub.slug or not (self.out / sub.slug / RESULTS_JSON).exists():
                self._write(grade)
        return todo

    # ------------------------------------------------------------------ grading

    async def _grade_all(self, todo: list[Submission]) -> None:
        from mylearning.grading.sandbox import Reaper

        unique: dict[str, Submission] = {}
        copies: dict[str, list[Submission]] = {}
        for sub in todo:
            if sub.sha256 in unique:
                copies.setdefault(sub.sha256, []).append(sub)
            else:
                unique[sub.sha256] = sub
        workers = max(1, min(self.options.workers or os.cpu_count() or 1, len(unique)))
        self.run_dir = Path(tempfile.mkdtemp(prefix="mylearning-grade-"))
        self.reaper = Reaper()
        self.factory = KernelFactory(self.reaper, self.run_dir, self.limits,
                                     services_of_lab(self.lab_number))
        self.emulators = [Emulator(self.run_dir / f"emulator-{i}.log") for i in range(workers)]
        for emulator in self.emulators:
            emulator.launch()
            self.reaper.protected.add(emulator.pid)
        self._phase("launched")
        queue: asyncio.Queue[Submission] = asyncio.Queue()
        for sub in unique.values():
            queue.put_nowait(sub)
        # Workers boot their first kernel now, while the emulators start.
        ready = asyncio.Event()
        tasks = [asyncio.ensure_future(self._worker(e, queue, ready)) for e in self.emulators]
        try:
            try:
                await asyncio.gather(*(asyncio.to_thread(e.wait_ready) for e in self.emulators))
            except EmulatorFailure as exc:
                raise GradingError(str(exc)) from None
            self._phase("emulators_ready")
            await self._preflight()
            self.code_state = await asyncio.to_thread(code_state, self.roots)
            self._phase("preflight")
            ready.set()
            await asyncio.gather(*tasks)
            self._phase("graded")
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                await settle(task, timeout=30)
        for sha, subs in copies.items():
            original = self.grades.get(unique[sha].name)
            if original is None:
                continue
            note = (f"Byte-for-byte identical to {original.submission} (same content hash); "
                    "graded once.")
            for sub in subs:
                grade = replace(original, submission=sub.name, slug=sub.slug, path=str(sub.path),
                                notes=original.notes + [note])
                self.grades[sub.name] = grade
                self._write(grade)
                self.progress.advance(sub.name, f"{grade.total:g}/{grade.max_total:g} (copy)")
            original.notes.append("Identical copies: " + ", ".join(s.name for s in subs) + ".")
            self._write(original)

    async def _preflight(self) -> None:
        """Evaluate the lab on each empty account: the checks must run, and score zero.

        This also creates each worker's API clients once, before timing matters.
        """
        def evaluate_all():
            return [evaluation.evaluate(self.lab, e.session()) for e in self.emulators]

        for steps in await asyncio.to_thread(evaluate_all):
            unreachable = [s for s in steps if s.message.startswith("The backend did not answer")]
            if unreachable:
                raise GradingError(f"The grading emulator does not answer the checks: "
                                   f"{unreachable[0].message}")
            free = [s.step_id for s in steps if s.passed]
            if free:
                self.warnings.append(f"Steps {', '.join(free)} pass on an empty account, so "
                                     "every submission gets their points.")
                break

    async def _worker(self, emulator: Emulator, queue: asyncio.Queue,
                      ready: asyncio.Event) -> None:
        factory = self.factory
        next_kernel: asyncio.Future | None = asyncio.ensure_future(factory.start(emulator.url))
        try:
            await ready.wait()
            while not queue.empty():
                sub = queue.get_nowait()
                try:
                    next_kernel = await self._grade_one(sub, emulator, next_kernel, queue)
                except asyncio.CancelledError:
                    raise
                except GradingError:
                    raise
                except Exception as exc:  # the grader's own failure: say so, go on
                    self.failures.append(f"{sub.name}: {type(exc).__name__}: {exc}")
                    if self.progress:
                        self.progress.advance(sub.name, f"NOT GRADED ({type(exc).__name__})")
                    next_kernel = await self._recover(emulator, next_kernel)
        finally:
            if next_kernel is not None:
                next_kernel.cancel()
                with contextlib.suppress(BaseException):
                    kernel = await asyncio.wait_for(next_kernel, 30)
                    await factory.dispose(kernel)

    async def _recover(self, emulator: Emulator, next_kernel: asyncio.Future | None):
        """After a grader failure: a healthy, empty emulator and a fresh kernel."""
        if next_kernel is not None:
            next_kernel.cancel()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await self.factory.dispose(await next_kernel)
        await self._restart_emulator(emulator)
        return asyncio.ensure_future(self.factory.start(emulator.url))

    async def _restart_emulator(self, emulator: Emulator) -> None:
        self.reaper.protected.discard(emulator.pid)
        await asyncio.to_thread(emulator.stop)
        emulator.launch()
        self.reaper.protected.add(emulator.pid)
        try:
            await asyncio.to_thread(emulator.wait_ready)
        except EmulatorFailure as exc:
            raise GradingError(str(exc)) from None

    async def _grade_one(self, sub: Submission, emulator: Emulator,
                         next_kernel: asyncio.Future | None,
                         queue: asyncio.Queue) -> asyncio.Future | None:
        t0 = time.perf_counter()
        timings: dict[str, float] = {}
        notes: list[str] = []
        try:
            program = await asyncio.to_thread(notebooks.load, sub.path,
                                              self.options.max_notebook_bytes)
        except notebooks.NotebookProblem as exc:
            reason = str(exc)
            grade = self._grade(sub, evaluation.zero(self.lab, reason), [reason], notes,
                                {"unreadable": reason}, {"total": time.perf_counter() - t0})
            self._finish(grade)
            return next_kernel
        except OSError as exc:
            reason = f"The file could not be read ({exc.strerror or exc})."
            grade = self._grade(sub, evaluation.zero(self.lab, reason), [reason], notes,
                                {"unreadable": reason}, {"total": time.perf_counter() - t0})
            self._finish(grade)
            return next_kernel

        if next_kernel is None:
            next_kernel = asyncio.ensure_future(self.factory.start(emulator.url))
        try:
            kernel = await next_kernel
        except Exception:  # one retry: a kernel can fail to boot under load
            kernel = await self.factory.start(emulator.url)
        if kernel.endpoint != emulator.url:  # booted for an emulator since replaced
            await self.factory.dispose(kernel)
            kernel = await self.factory.start(emulator.url)
        timings["kernel_wait"] = time.perf_counter() - t0
        following = (asyncio.ensure_future(self.factory.start(emulator.url))
                     if not queue.empty() else None)

        self.running.add(sub.name)
        try:
            report = await run(program, kernel, self.limits)
        finally:
            self.running.discard(sub.name)
            leftovers = await self.factory.dispose(kernel)
        timings["execute"] = report.seconds
        if leftovers:
            notes.append(f"The notebook left {len(leftovers)} background process(es) running; "
                         "the grader stopped them.")
        changes = self.guard.verify()
        if changes:
            others = sorted(self.running)
            notes.append("TAMPER: the grader's output folder changed while this notebook ran "
                         f"({'; '.join(changes[:5])}); the grader restored it"
                         + (f" (also running then: {', '.join(others)})" if others else "")
                         + ". Grades come only from the account state.")
        reasons = program.notes + report.reasons(self.limits)

        t1 = time.perf_counter()
        if await asyncio.to_thread(emulator.healthy):
            steps, state = await asyncio.gather(
                asyncio.to_thread(evaluation.evaluate, self.lab, emulator.session()),
                asyncio.to_thread(code_state, self.roots))
            if state != self.code_state:
                self.code_state = state
                notes.append("The course code or the Python packages that kernels import "
                             "changed while this notebook ran (by this notebook, or by someone "
                             "editing them).")
                self.warnings.append(f"The course code or site-packages changed during the "
                                     f"run (noticed after {sub.name}); kernels after that may "
                                     "have run changed code. Check, then re-run with --force.")
            foreign = await asyncio.to_thread(evaluation.foreign_learners, emulator.session())
            if foreign:
                reasons.append(
                    "The notebook stored answers as learner(s) " + ", ".join(foreign)
                    + f" but grading reads learner '{emulator.session().learner}': do not "
                    "change MYLEARNING_LEARNER (or other MYLEARNING_* settings) in the notebook.")
            timings["evaluate"] = time.perf_counter() - t1
            t2 = time.perf_counter()
            try:
                await asyncio.to_thread(emulator.reset)
            except Exception:
                following = await self._replace_emulator(emulator, following)
            timings["reset"] = time.perf_counter() - t2
        else:
            reason = ("The embedded AWS used for grading stopped while this notebook ran, so "
                      "its work could not be checked. A notebook must not stop processes it "
                      "did not start.")
            reasons.append(reason)
            steps = evaluation.zero(self.lab, reason)
            following = await self._replace_emulator(emulator, following)
        timings["total"] = time.perf_counter() - t0
        grade = self._grade(sub, steps, reasons, notes, report.to_dict(), timings)
        self._finish(grade)
        return following

    async def _replace_emulator(self, emulator: Emulator,
                                following: asyncio.Future | None) -> asyncio.Future | None:
        """The emulator is gone or broken: start a new one; kernels booted for it go too."""
        if following is not None:
            following.cancel()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await self.factory.dispose(await following)
        await self._restart_emulator(emulator)
        return asyncio.ensure_future(self.factory.start(emulator.url))

    def _grade(self, sub: Submission, steps, reasons, notes, execution, timings) -> Grade:
        return Grade(submission=sub.name, slug=sub.slug, path=str(sub.path), sha256=sub.sha256,
                     lab=self.lab_number, config=self.config, steps=steps, reasons=reasons,
                     notes=notes, execution=execution,
                     timings={k: round(v, 4) for k, v in timings.items()})

    def _finish(self, grade: Grade) -> None:
        self.grades[grade.submission] = grade
        self._write(grade)
        if self.progress:
            status = f"{grade.total:g}/{grade.max_total:g} in {grade.seconds:.1f}s"
            if grade.reasons:
                status += " (see feedback)"
            self.progress.advance(grade.submission, status)

    def _write(self, grade: Grade) -> None:
        folder = self.out / grade.slug
        self.guard.write(folder / RESULTS_JSON, results_json(grade))
        self.guard.write(folder / FEEDBACK, feedback(grade))

    # ------------------------------------------------------------------ cleanup

    async def _shutdown(self) -> None:
        if self.factory is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.factory.dispose_all(), 30)
        self.last_resort()

    def last_resort(self) -> None:
        """Synchronous cleanup that works even without an event loop; idempotent."""
        if self.factory is not None:
            for kernel in list(self.factory.live):  # never disposed of: still ours to kill
                self.reaper.kill_group(kernel.pid)
                self.reaper.protected.discard(kernel.pid)
                self.reaper.kill([kernel.pid] + self.reaper.descendants(kernel.pid))
                with contextlib.suppress(Exception):
                    kernel.kc.stop_channels()
                with contextlib.suppress(Exception):
                    Path(kernel.km.connection_file).unlink()
                self.factory.live.discard(kernel)
        for emulator in self.emulators:
            if self.reaper is not None and emulator.pid is not None:
                self.reaper.protected.discard(emulator.pid)
            with contextlib.suppress(Exception):
                emulator.stop()
        if self.reaper is not None:
            with contextlib.suppress(Exception):
                self.reaper.final_sweep()
        if self.run_dir is not None:
            shutil.rmtree(self.run_dir, ignore_errors=True)


def _peek(path: Path, config: str) -> Grade | None:
    """An earlier grade stored at `path` under the same grading configuration."""
    import json

    from mylearning.grading.records import RECORD_KEY
    try:
        sha = json.loads(path.read_text())["extra_data"][RECORD_KEY]["sha256"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return find_previous(path, sha, config)
