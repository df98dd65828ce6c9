"""A watchdog thread: a grader or an emulator that stops making progress is noticed and ended.

Every limit of a submission is enforced by the event loop (cell and notebook
time, output, disk). But the loop itself can stall (a check blocked on an
emulator that no longer answers, a bug), and then no limit fires and the run
hangs forever, the kind of stop a submission might provoke on purpose. So a
plain thread, outside the loop, watches two clocks:

* the loop's heartbeat: if the loop has not run for `loop_timeout` seconds,
  the run is ended (kernels and emulators killed); every finished grade is on
  disk already, so the same command resumes;
* each worker's current stage (checks, reset): one overdue has its emulator
  killed, which fails the stuck call at once; the worker then reports that
  submission as not graded (the grader's failure, graded again on a re-run)
  and carries on with a fresh emulator.
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
import time
from typing import Callable, Iterator


class Watchdog:
    def __init__(self, on_stall: Callable[[], None], loop_timeout: float = 120.0,
                 interval: float = 1.0):
        self.on_stall = on_stall
        self.loop_timeout = loop_timeout
        self.interval = interval
        self.beat = time.monotonic()
        self._stages: dict[int, tuple[str, float, Callable[[], None]]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        #: Stages ended by the watchdog, by key (the worker reads and clears its own).
        self.fired: set[int] = set()

    async def heartbeat(self) -> None:
        """Run on the event loop for the whole run: proves the loop is alive."""
        while True:
            self.beat = time.monotonic()
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._watch, name="grading-watchdog",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    @contextlib.contextmanager
    def stage(self, key: int, name: str, budget: float,
              on_overdue: Callable[[], None]) -> Iterator[None]:
        """While inside: `on_overdue` is called (from the thread) once `budget` s have passed."""
        with self._lock:
            self._stages[key] = (name, time.monotonic() + budget, on_overdue)
        try:
            yield
        finally:
            with self._lock:
                self._stages.pop(key, None)

    def _watch(self) -> None:
        while not self._stop.wait(self.interval):
            now = time.monotonic()
            with self._lock:
                overdue = [(k, v) for k, v in self._stages.items() if v[1] < now]
                for key, _ in overdue:
                    self._stages.pop(key, None)
            for key, (name, _, action) in overdue:
                self.fired.add(key)
                print(f"mylearning grade: watchdog: a worker's {name} made no progress; "
                      "its emulator is restarted and the submission will be graded again "
                      "on a re-run.", file=sys.stderr, flush=True)
                with contextlib.suppress(Exception):
                    action()
            if now - self.beat > self.loop_timeout:
                print(f"mylearning grade: watchdog: the grader made no progress for "
                      f"{self.loop_timeout:g} s; stopping every kernel and emulator. Finished "
                      "grades are kept: run the same command again to resume.",
                      file=sys.stderr, flush=True)
                with contextlib.suppress(Exception):
                    self.on_stall()
                os._exit(3)
