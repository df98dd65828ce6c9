"""One grading worker: its own emulator, a kernel always booting ahead, submissions from a queue.

Per submission: read the notebook (a broken file gets a zero with its reason and
no kernel), take the fresh kernel that was booted while the previous submission
ran, run the cells under the limits, kill the kernel and anything it started,
check the output folder, evaluate the lab's checks in this process against the
emulator state, write the outputs, reset the emulator.
"""
from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from typing import Awaitable

from mylearning.grading import evaluation, notebooks
from mylearning.grading.discovery import Submission
from mylearning.grading.emulators import Emulator, EmulatorFailure, EmulatorPool, port_of
from mylearning.grading.execution import Kernel, KernelFactory, run
from mylearning.grading.gradebook import Gradebook
from mylearning.grading.job import GradingError, GradingOptions
from mylearning.grading.sandbox import CodeWatch
from mylearning.grading.watchdog import Watchdog
from mylearning.steps import Lab, StepResult

_EMULATOR_STOPPED = ("The embedded AWS used for grading stopped while this notebook ran, so its "
                     "work could not be checked. A notebook must not stop processes it did not "
                     "start.")


@dataclass(frozen=True)
class Assignment:
    """What every worker of a run shares: the lab, the options, the gradebook, the code watch."""

    lab: Lab
    options: GradingOptions
    book: Gradebook
    code: CodeWatch
    #: Every submission's code cells (or why it cannot run), read before any kernel ran.
    programs: dict[str, "notebooks.Program | str"]
    watchdog: "Watchdog | None" = None


class Lane:
    """A worker's processes: its emulator, and the kernels booted for it.

    A kernel boots ahead of need (the next submission's while the current one
    runs) and is bound to the emulator's URL at boot, so one booted for an
    emulator since replaced is disposed of, never used.
    """

    def __init__(self, emulator: Emulator, kernels: KernelFactory, emulators: EmulatorPool,
                 index: int = 0):
        self.emulator = emulator
        self.kernels = kernels
        self.emulators = emulators
        self.index = index

    def _ports(self) -> tuple[int | None, ...]:
        """The TCP ports this lane's kernel may connect to: its emulator and data plane proxy."""
        return port_of(self.emulator.url), port_of(self.emulator.proxy)

    def boot(self) -> asyncio.Future:
        return asyncio.ensure_future(self._start())

    def _start(self) -> Awaitable[Kernel]:
        return self.kernels.start(self.emulator.url, self.emulator.token, self._ports(),
                                  self.index)

    def _fits(self, kernel: Kernel) -> bool:
        """Booted for this emulator, with its credential and every port it serves on?"""
        wanted = {p for p in self._ports() if p}
        return (kernel.endpoint == self.emulator.url and kernel.token == self.emulator.token
                and wanted <= set(kernel.ports))

    async def take(self, pending: asyncio.Future | None) -> Kernel:
        """The kernel booted ahead, or a new one if it failed or was for a replaced emulator."""
        if pending is None:
            pending = self.boot()
        try:
            kernel = await pending
        except Exception:  # one retry: a kernel can fail to boot under load
            kernel = await self._start()
        if not self._fits(kernel):  # its emulator was replaced, or its proxy came up since
            await self.kernels.dispose(kernel)
            kernel = await self._start()
        return kernel

    async def fresh_emulator(self, pending: asyncio.Future | None) -> asyncio.Future:
        """A new, empty emulator after a failure; a kernel booted for the old one goes too."""
        if pending is not None:
            pending.cancel()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await self.kernels.dispose(await pending)
        try:
            await self.emulators.restart(self.emulator)
        except EmulatorFailure as exc:
            raise GradingError(str(exc)) from None
        return self.boot()

    async def close(self, pending: asyncio.Future | None) -> None:
        """However the worker stops: the kernel it booted ahead is not left running."""
        if pending is not None:
            pending.cancel()
            with contextlib.suppress(BaseException):
                kernel = await asyncio.wait_for(pending, 30)
                await self.kernels.dispose(kernel)


class Worker:
    """Grades submissions from the queue, on its own lane, until the queue is empty."""

    def __init__(self, lane: Lane, work: Assignment, queue: asyncio.Queue[Submission]):
        self.lane = lane
        self.work = work
        self.queue = queue

    async def run(self, ready: asyncio.Event) -> None:
        """Boot a first kernel now, start grading when `ready` is set."""
        pending: asyncio.Future | None = self.lane.boot()
        try:
            await ready.wait()
            while not self.queue.empty():
                sub = self.queue.get_nowait()
                try:
                    pending = await self._grade_one(sub, pending)
                except (asyncio.CancelledError, GradingError):
                    raise
                except Exception as exc:  # the grader's own failure: say so, go on
                    self.work.book.failed(sub, exc)
                    pending = await self.lane.fresh_emulator(pending)
        finally:
            await self.lane.close(pending)

    async def _grade_one(self, sub: Submission,
                         pending: asyncio.Future | None) -> asyncio.Future | None:
        """Grade `sub`; return the kernel booting for the next submission, if any."""
        t0 = time.perf_counter()
        book, limits = self.work.book, self.work.options.limits
        # Read before any submission ran (see `batch.read_all`): no kernel can change it now.
        program = self.work.programs.get(sub.name)
        if not isinstance(program, notebooks.Program):
            self._unreadable(sub, str(program or "The file could not be read."), t0)
            return pending

        kernel = await self.lane.take(pending)
        timings = {"kernel_wait": time.perf_counter() - t0}
        following = self.lane.boot() if not self.queue.empty() else None
        try:
            with book.executing(sub.name):
                report = await run(program, kernel, limits)
        finally:
            leftovers = await self.lane.kernels.dispose(kernel)
        timings["execute"] = report.seconds
        notes: list[str] = []
        if leftovers:
            notes.append(f"The notebook left {len(leftovers)} background process(es) running; "
                         "the grader stopped them.")
        tamper = book.tamper_note()
        if tamper:
            notes.append(tamper)
        reasons = program.notes + report.reasons(limits)
        steps, following = await self._assess(sub, reasons, notes, timings, following)
        timings["total"] = time.perf_counter() - t0
        book.finish(book.grade(sub, steps, reasons, notes, report.to_dict(), timings))
        return following

    def _watched(self, key: int, name: str, budget: float):
        """The watchdog's eye on a stage that talks to the emulator (none in unit use)."""
        dog = self.work.watchdog
        if dog is None:
            return contextlib.nullcontext()
        emulator = self.lane.emulator

        def kill() -> None:  # from the watchdog's thread: fail the stuck call at once
            proc = emulator.proc
            if proc is not None:
                proc.kill()
        return dog.stage(key, name, budget, kill)

    def _raise_if_fired(self, key: int) -> None:
        dog = self.work.watchdog
        if dog is not None and key in dog.fired:
            dog.fired.discard(key)
            raise RuntimeError("the grading emulator stopped answering the checks (the "
                               "watchdog restarted it); run again to grade this submission")

    def _unreadable(self, sub: Submission, reason: str, t0: float) -> None:
        steps = evaluation.zero(self.work.lab, reason)
        book = self.work.book
        book.finish(book.grade(sub, steps, [reason], [], {"unreadable": reason},
                               {"total": time.perf_counter() - t0}))

    async def _assess(self, sub: Submission, reasons: list[str], notes: list[str],
                      timings: dict[str, float], following: asyncio.Future | None,
                      ) -> tuple[list[StepResult], asyncio.Future | None]:
        """The checks on the account the notebook left, then an empty account for the next.

        Appends to `reasons`, `notes` and `timings`; returns the steps and the
        next kernel (booted anew when the emulator had to be replaced).
        """
        emulator = self.lane.emulator
        t1 = time.perf_counter()
        if not await asyncio.to_thread(emulator.healthy):
            reasons.append(_EMULATOR_STOPPED)
            steps = evaluation.zero(self.work.lab, _EMULATOR_STOPPED)
            return steps, await self.lane.fresh_emulator(following)
        session = emulator.session()
        key = id(self.lane)
        with self._watched(key, "checks", 180):
            steps, state = await asyncio.gather(
                asyncio.to_thread(evaluation.evaluate, self.work.lab, session),
                self.work.code.read())
        self._raise_if_fired(key)
        if self.work.code.moved_to(state):
            notes.append("The course code or the Python packages that kernels import changed "
                         "while this notebook ran (by this notebook, or by someone editing them).")
            self.work.book.warnings.append(
                f"The course code or site-packages changed during the run (noticed after "
                f"{sub.name}); kernels after that may have run changed code. Check, then "
                "re-run with --force.")
        foreign = await asyncio.to_thread(evaluation.foreign_learners, session)
        if foreign:
            reasons.append(
                "The notebook stored answers as learner(s) " + ", ".join(foreign)
                + f" but grading reads learner '{session.learner}': do not "
                "change MYLEARNING_LEARNER (or other MYLEARNING_* settings) in the notebook.")
        timings["evaluate"] = time.perf_counter() - t1
        t2 = time.perf_counter()
        try:
            with self._watched(key, "emulator reset", 90):
                await asyncio.to_thread(emulator.reset)
        except Exception:
            following = await self.lane.fresh_emulator(following)
        self.work.watchdog.fired.discard(key) if self.work.watchdog else None
        timings["reset"] = time.perf_counter() - t2
        return steps, following
