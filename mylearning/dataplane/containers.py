"""Containers as processes: started from a pre-loaded launcher, stopped like Docker stops them.

There is no Docker here. A container is an OS process forked from a *launcher* that has
already imported the course images (multiprocessing's forkserver with the images
preloaded), so a task is RUNNING within milliseconds of its placement instead of the
second a fresh interpreter takes. The launcher and every container carry a parent-death
signal: when the data plane goes, so do they.

Stopping follows StopTask and stopTimeout
(https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_StopTask.html,
https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html):
SIGTERM, then SIGKILL once stopTimeout (default 30 s, at most 120 s on Fargate) has
passed. A process killed by signal N exits with 128 + N, as a container's exit code
reads (137 for SIGKILL).
"""
from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import signal
import time
from typing import Any

#: https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html
#: (stopTimeout: default 30 seconds, maximum 120 seconds for Fargate)
DEFAULT_STOP_TIMEOUT = 30
MAX_STOP_TIMEOUT = 120

_context: Any = None


def launcher() -> Any:
    """The forkserver context, with the course images preloaded (started on first use)."""
    global _context
    if _context is None:
        from mylearning.dataplane.images import catalogue
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(list(catalogue.PRELOAD))
        _context = ctx
    return _context


def warm() -> None:
    """Start the launcher now (its imports take a moment) rather than at the first task."""
    from multiprocessing import forkserver
    launcher()
    forkserver.ensure_running()


def exit_code(process: Any) -> int | None:
    code = process.exitcode
    if code is None:
        return None
    return 128 - code if code < 0 else code  # -9 (killed by SIGKILL) reads 137


class ContainerProcess:
    """One running container: its process, how it ended, and how to stop it."""

    def __init__(self, name: str, spec: dict, stop_timeout: float | None) -> None:
        self.name = name
        self.spec = spec
        self.stop_timeout = min(float(stop_timeout or DEFAULT_STOP_TIMEOUT), MAX_STOP_TIMEOUT)
        self.process: Any = None
        self.started_at: float | None = None
        self.killed_reason: str | None = None
        self._exited = asyncio.Event()

    async def start(self) -> None:
        from mylearning.dataplane.images import runtime

        ctx = launcher()
        self.process = ctx.Process(target=runtime.main, args=(self.spec,), name=self.name, daemon=False)
        await asyncio.to_thread(self.process.start)
        self.started_at = time.time()
        loop = asyncio.get_running_loop()
        loop.add_reader(self.process.sentinel, self._on_exit)

    def _on_exit(self) -> None:
        with contextlib.suppress(Exception):
            asyncio.get_running_loop().remove_reader(self.process.sentinel)
        self.process.join(0)
        self._exited.set()

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    @property
    def running(self) -> bool:
        return self.process is not None and not self._exited.is_set()

    @property
    def exit_code(self) -> int | None:
        return exit_code(self.process) if self._exited.is_set() else None

    async def wait(self) -> int:
        await self._exited.wait()
        code = self.exit_code
        return 0 if code is None else code

    def kill(self, reason: str | None = None) -> None:
        """SIGKILL now (out of memory, or the stop timeout ran out)."""
        if reason and not self.killed_reason:
            self.killed_reason = reason
        if self.running and self.process.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, signal.SIGKILL)

    async def stop(self, timeout: float | None = None) -> int:
        """SIGTERM, then SIGKILL after the stop timeout; returns the exit code."""
        if not self.running:
            return await self.wait() if self.process is not None else 0
        for _ in range(100):  # asked to stop while the launcher is still starting it
            if self.process.pid is not None:
                break
            await asyncio.sleep(0.05)
        with contextlib.suppress(ProcessLookupError, TypeError):
            os.kill(self.process.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(self._exited.wait(), self.stop_timeout if timeout is None else timeout)
        except asyncio.TimeoutError:
            self.kill()
        return await self.wait()

    def rss(self) -> int:
        """Memory the container's processes use on their own, in bytes (0 when gone).

        A container forked from the launcher shares the launcher's pages until it writes
        to them; counting those (its RSS) would charge every container for the course
        images' code. Its unique memory (private pages, from /proc/PID/smaps_rollup) is
        what a cgroup would charge it for.
        """
        if self.process is None or not self.running or self.process.pid is None:
            return 0
        return sum(private_memory(pid) for pid in descendants(self.process.pid))


def descendants(pid: int) -> list[int]:
    """`pid` and every process below it, from /proc/PID/task/TID/children.

    psutil's children() reads the status of every process on the machine to find them; the
    agent samples each container every second, so with dozens of tasks those scans filled
    the data plane's threads and its AWS calls waited behind them. Where the kernel lacks
    the children files (CONFIG_PROC_CHILDREN), psutil is the fallback.
    """
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        try:
            threads = os.listdir(f"/proc/{current}/task")
        except OSError:
            continue
        for tid in threads:
            try:
                with open(f"/proc/{current}/task/{tid}/children", "rb") as fh:
                    queue += [int(c) for c in fh.read().split()]
            except FileNotFoundError:
                if tid == str(current) and current == pid:
                    return _psutil_descendants(pid)
            except (OSError, ValueError):
                continue
    return found


def _psutil_descendants(pid: int) -> list[int]:
    import psutil
    try:
        return [pid] + [c.pid for c in psutil.Process(pid).children(recursive=True)]
    except psutil.Error:
        return [pid]


def private_memory(pid: int) -> int:
    """Private_Clean + Private_Dirty of a process in bytes; RSS where smaps_rollup is missing."""
    try:
        total = 0
        with open(f"/proc/{pid}/smaps_rollup", "rb") as fh:
            for line in fh:
                if line.startswith((b"Private_Clean:", b"Private_Dirty:")):
                    total += int(line.split()[1]) * 1024
        return total
    except (OSError, ValueError, IndexError):
        import psutil
        with contextlib.suppress(psutil.Error):
            return psutil.Process(pid).memory_info().rss
        return 0
