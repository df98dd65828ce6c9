"""The worker pool: every process a run starts, and the guarantee that none outlives it.

Cleanup is layered. Each worker disposes of its kernels in `finally`; `close()`
disposes of any kernel left and then does what `kill_now()` does: stop the
emulators and sweep for anything carrying the run's tag. `kill_now()` is
synchronous, so `grade_batch` can still call it when a second Ctrl-C tears the
event loop down. If the grader itself is killed, kernels notice their parent
is gone and emulators get a parent-death signal.
"""
from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
from pathlib import Path
from typing import Awaitable, Callable, Iterable

from mylearning.grading.discovery import Submission
from mylearning.grading.emulators import EmulatorPool
from mylearning.grading.execution import KernelFactory, services_of_lab, settle
from mylearning.grading.isolation import Protection
from mylearning.grading.job import GradingOptions
from mylearning.grading.sandbox import Reaper
from mylearning.grading.worker import Assignment, Lane, Worker


class WorkerPool:
    """One emulator per worker, the kernel factory they share, and their reaper.

    Everything starts in the constructor, which stops what it started if a
    later part fails to start.
    """

    def __init__(self, size: int, options: GradingOptions, lab_number: str,
                 protection: Protection | None = None, course_paths: list[Path] | None = None):
        self.run_dir: Path | None = None
        self.reaper: Reaper | None = None
        self.kernels: KernelFactory | None = None
        self.emulators: EmulatorPool | None = None
        try:
            self.run_dir = Path(tempfile.mkdtemp(prefix="mylearning-grade-"))
            self.reaper = Reaper()
            self.kernels = KernelFactory(self.reaper, self.run_dir, options.limits,
                                         services_of_lab(lab_number), protection, course_paths)
            self.emulators = EmulatorPool(self.run_dir, self.reaper, size)
            self.emulators.launch()
        except BaseException:
            self.kill_now()
            raise

    async def run(self, submissions: Iterable[Submission], work: Assignment,
                  prepare: Callable[[], Awaitable[None]]) -> None:
        """Grade `submissions`, one worker per emulator, after `prepare` has finished.

        Each worker starts booting its first kernel at once, so the kernels boot
        while `prepare` waits for the emulators; a worker's failure, or our
        cancellation, stops the other workers before this returns.
        """
        queue: asyncio.Queue[Submission] = asyncio.Queue()
        for sub in submissions:
            queue.put_nowait(sub)
        ready = asyncio.Event()
        lanes = [Lane(e, self.kernels, self.emulators, i) for i, e in enumerate(self.emulators)]
        tasks = [asyncio.ensure_future(Worker(lane, work, queue).run(ready)) for lane in lanes]
        try:
            await prepare()
            ready.set()
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                await settle(task, timeout=30)

    async def close(self) -> None:
        """The orderly end: dispose of the kernels still alive (30 s at most), then kill_now."""
        if self.kernels is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.kernels.dispose_all(), 30)
        self.kill_now()

    def kill_now(self) -> None:
        """Synchronous cleanup that works even without an event loop; idempotent."""
        if self.kernels is not None:
            self.kernels.kill_now()
        if self.emulators is not None:
            self.emulators.stop_now()
        if self.reaper is not None:
            with contextlib.suppress(Exception):
                self.reaper.final_sweep()
        if self.run_dir is not None:
            shutil.rmtree(self.run_dir, ignore_errors=True)
