"""Run a submission's code cells in a fresh kernel, inside explicit limits.

Every limit is enforced here, by the grader, never by the notebook: a time
limit per cell (the kernel is interrupted, and if it ignores that it is
killed), a time limit for the whole notebook, a cap on the output it may
print, and a dead kernel ends the run. A cell that raises does not stop the
notebook: later cells still run, so work done after a mistake still counts.

Kernels are started ahead of need (the next submission's kernel boots while
the current one runs), each with its own empty home and working folder, and
every kernel is killed with its whole process group once its notebook ends.
"""
from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mylearning.grading.limits import Limits
from mylearning.grading.notebooks import Program
from mylearning.grading.sandbox import Reaper, kernel_env

#: Run in a new kernel before the notebook. It loads the code every lab imports
#: (boto3, the course library, the check engine) without binding any name, so
#: the first cells do not pay for it, and it puts the kernel under its memory
#: limit and first in line for the OOM killer (the grader and emulators last).
#: It creates no session and no state: the notebook's namespace is as empty as
#: in a learner's fresh kernel.
_WARM_UP = """\
def _mylearning_grading_setup(limit):
    import importlib
    for name in ('boto3', 'mylearning.backend', 'mylearning.answers',
                 'mylearning.notebook', 'mylearning.steps'):
        importlib.import_module(name)
    try:
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):
        pass
    try:
        with open('/proc/self/oom_score_adj', 'w') as fh:
            fh.write('1000')
    except OSError:
        pass
_mylearning_grading_setup({limit})
del _mylearning_grading_setup
try:
    __import__('mylearning.backend', fromlist=['_']).prewarm_clients({services!r})
except Exception:
    pass
"""
_MAX_ERRORS_KEPT = 20


@dataclass
class CellError:
    cell: int
    ename: str
    evalue: str


@dataclass
class ExecutionReport:
    cells_total: int = 0
    cells_to_run: int = 0
    cells_run: int = 0
    errors: list[CellError] = field(default_factory=list)
    error_count: int = 0
    #: Cells that hit the per-cell limit, were interrupted, and let the rest run.
    interrupted: list[int] = field(default_factory=list)
    #: Why execution ended before the last cell (None: every cell ran).
    stop: str | None = None
    stop_cell: int | None = None
    output_bytes: int = 0
    seconds: float = 0.0

    def reasons(self, limits: Limits) -> list[str]:
        """What happened during execution, in words a learner can act on."""
        out: list[str] = []
        for cell in self.interrupted:
            out.append(f"Cell {cell} ran longer than the {limits.cell_timeout:g} s limit for one "
                       "cell; it was interrupted and the cells after it still ran.")
        for err in self.errors[:5]:
            out.append(f"Cell {err.cell} raised {err.ename}: {err.evalue}"
                       if err.evalue else f"Cell {err.cell} raised {err.ename}.")
        if self.error_count > 5:
            out.append(f"... and {self.error_count - 5} more cells raised errors.")
        if self.stop:
            out.append(self.stop)
        return out

    def to_dict(self) -> dict:
        return asdict(self)


class Kernel:
    """A started, warmed-up kernel reserved for one submission."""

    def __init__(self, km: Any, kc: Any, workdir: Path, tag: str, pid: int, endpoint: str):
        self.km, self.kc, self.workdir, self.tag, self.pid = km, kc, workdir, tag, pid
        self.endpoint = endpoint


def services_of_lab(lab_number: str) -> tuple[str, ...]:
    """The boto3 services a notebook of the lab calls, as the lab declares them (course registry).

    Read from the course's own declaration, never from a submission, so a notebook
    cannot make the grader's kernels do extra work. A lab without a declaration
    gets none: pre-warming only saves time, its kernels create clients on first use.
    """
    from mylearning import course
    try:
        return course.services_up_to(lab_number)
    except KeyError:
        return ()


class KernelFactory:
    """Starts kernels for one run and disposes of them without leaving a process."""

    def __init__(self, reaper: Reaper, run_dir: Path, limits: Limits,
                 services: tuple[str, ...] = ()):
        #: boto3 clients to create while each kernel boots (see backend.prewarm_clients).
        self.services = services
        self.reaper = reaper
        self.run_dir = run_dir
        self.limits = limits
        self.mpl_dir = run_dir / "matplotlib"
        self.mpl_dir.mkdir(parents=True, exist_ok=True)
        #: Held while a kernel is launched and until its pid is protected, and
        #: while sweeping, so a sweep never mistakes a new kernel for an orphan.
        self.lock = asyncio.Lock()
        self.live: set[Kernel] = set()

    async def start(self, endpoint: str) -> Kernel:
        from jupyter_client.manager import AsyncKernelManager

        workdir = Path(tempfile.mkdtemp(prefix="sub-", dir=self.run_dir))
        home = workdir / "home"
        cwd = workdir / "work"
        home.mkdir()
        cwd.mkdir()
        tag = self.reaper.new_tag()
        env = kernel_env(endpoint, home, tag, mpl_dir=self.mpl_dir)
        # Always this Python's own ipykernel, whatever kernel the notebook names.
        km = AsyncKernelManager(kernel_name="python3")
        async with self.lock:
            await km.start_kernel(
                env=env, cwd=str(cwd), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                extra_arguments=["--HistoryManager.enabled=False", "--Application.log_level=50"])
            pid = km.provisioner.pid
            self.reaper.protected.add(pid)
        kernel = Kernel(km, None, workdir, tag, pid, endpoint)
        self.live.add(kernel)
        try:
            kc = km.client()
            kc.allow_stdin = False
            kc.start_channels()
            kernel.kc = kc
            await kc.wait_for_ready(timeout=self.limits.startup_timeout)
            reply = await kc.execute_interactive(
                _WARM_UP.format(limit=int(self.limits.max_memory_bytes),
                                services=tuple(self.services)), silent=True,
                store_history=False, timeout=self.limits.startup_timeout)
            if reply["content"].get("status") != "ok":
                raise RuntimeError(f"kernel set-up failed: {reply['content'].get('evalue')}")
        except BaseException:
            await self.dispose(kernel)
            raise
        return kernel

    async def dispose(self, kernel: Kernel) -> list[int]:
        """Kill the kernel, everything it started, and remove its folder; return leftovers killed.

        Idempotent: a kernel already disposed of is not signalled again (its pid,
        and so its process group id, may belong to a new process by now).
        """
        if kernel not in self.live:
            return []
        self.live.discard(kernel)
        descendants = self.reaper.descendants(kernel.pid)
        self.reaper.kill_group(kernel.pid)
        with contextlib.suppress(Exception):
            if kernel.kc is not None:
                kernel.kc.stop_channels()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(kernel.km.shutdown_kernel(now=True), 10)
        with contextlib.suppress(Exception):
            await kernel.km.cleanup_resources()
        async with self.lock:
            self.reaper.protected.discard(kernel.pid)
            # The kernel itself was reaped by its manager; its pid may be reused already.
            self.reaper.kill(descendants)
            leftovers = descendants + self.reaper.sweep(kernel.tag)
        shutil.rmtree(kernel.workdir, ignore_errors=True)
        return leftovers

    async def dispose_all(self) -> None:
        for kernel in list(self.live):
            await self.dispose(kernel)

    def kill_now(self) -> None:
        """Kill every kernel not yet disposed of, synchronously; idempotent.

        The last resort when the event loop is gone (a second Ctrl-C) and
        `dispose` can no longer be awaited. A kernel still in `live` was never
        disposed of, so its pid is still ours to signal.
        """
        for kernel in list(self.live):
            self.reaper.kill_group(kernel.pid)
            self.reaper.protected.discard(kernel.pid)
            self.reaper.kill([kernel.pid] + self.reaper.descendants(kernel.pid))
            with contextlib.suppress(Exception):
                kernel.kc.stop_channels()
            with contextlib.suppress(Exception):
                Path(kernel.km.connection_file).unlink()
            self.live.discard(kernel)


def _client_class():
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionComplete

    class BudgetClient(NotebookClient):
        """nbclient that keeps no outputs, only their size and the errors raised.

        A notebook printing gigabytes must not fill the grader's memory, and the
        grade never depends on printed output (that could be faked), so outputs
        are counted and dropped; the budget event tells the runner to stop.
        """

        def setup_budget(self, max_bytes: int) -> None:
            self.max_bytes = max_bytes
            self.output_bytes = 0
            self.over_budget = asyncio.Event()
            self.errors: list[CellError] = []
            self.error_count = 0
            self.position = 0

        def process_message(self, msg: dict, cell: Any, cell_index: int) -> None:
            kind = msg.get("msg_type")
            content = msg.get("content") or {}
            if kind == "status":
                if content.get("execution_state") == "idle":
                    raise CellExecutionComplete()
                return None
            self.output_bytes += _size(kind, content)
            if self.output_bytes > self.max_bytes:
                self.over_budget.set()
            if kind == "error":
                self.error_count += 1
                if len(self.errors) < _MAX_ERRORS_KEPT:
                    self.errors.append(CellError(self.position, str(content.get("ename", "Error"))[:100],
                                                 _one_line(content.get("evalue", ""))))
            return None

    return BudgetClient


def _size(kind: str | None, content: dict) -> int:
    if kind == "stream":
        return len(content.get("text") or "")
    if kind in ("display_data", "execute_result", "update_display_data"):
        data = content.get("data") or {}
        return sum(len(v) if isinstance(v, str) else len(str(v)) for v in data.values())
    if kind == "error":
        return sum(len(line) for line in content.get("traceback") or [])
    return 0


def _one_line(text: Any, limit: int = 200) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


async def run(program: Program, kernel: Kernel, limits: Limits) -> ExecutionReport:
    """Execute the program's cells in `kernel` and report what happened.

    The kernel is left as it is (possibly dead); the caller disposes of it.
    """
    import nbformat
    from nbclient.exceptions import DeadKernelError

    loop = asyncio.get_running_loop()
    started = loop.time()
    deadline = started + limits.notebook_timeout
    cells = [nbformat.v4.new_code_cell(source) for _, source in program.cells]
    nb = nbformat.v4.new_notebook(cells=cells)
    client = _client_class()(nb, km=kernel.km, timeout=None, allow_errors=True,
                             iopub_timeout=4, raise_on_iopub_timeout=False,
                             record_timing=False, skip_cells_with_tag="")
    client.kc = kernel.kc
    client.setup_budget(limits.max_output_bytes)
    report = ExecutionReport(cells_total=program.total_cells, cells_to_run=len(cells))

    for index, (position, _) in enumerate(program.cells):
        number = position + 1
        remaining = deadline - loop.time()
        if remaining <= 0:
            report.stop, report.stop_cell = (
                f"The notebook used its whole time limit ({limits.notebook_timeout:g} s) before "
                f"cell {number}; that cell and the ones after it did not run.", number)
            break
        client.position = number
        budget = min(limits.cell_timeout, remaining)
        task = asyncio.ensure_future(client.async_execute_cell(cells[index], index))
        watch = asyncio.ensure_future(client.over_budget.wait())
        try:
            done, _ = await asyncio.wait({task, watch}, timeout=budget,
                                         return_when=asyncio.FIRST_COMPLETED)
        finally:
            watch.cancel()
        if task in done:
            exc = DeadKernelError("cancelled") if task.cancelled() else task.exception()
            report.cells_run += 1
            if exc is None:
                continue
            if isinstance(exc, DeadKernelError):
                report.stop = (f"The kernel died while running cell {number} (the notebook "
                               "exited or crashed Python); the cells after it did not run.")
            else:
                report.stop = (f"Cell {number} could not be run ({type(exc).__name__}: "
                               f"{_one_line(exc)}); the cells after it did not run.")
            report.stop_cell = number
            break
        if client.over_budget.is_set():
            await _abandon(task, kernel)
            report.cells_run += 1
            _stop_for_output(report, limits, number)
            break
        if budget < limits.cell_timeout:  # the notebook's limit, not the cell's
            await _abandon(task, kernel)
            report.cells_run += 1
            report.stop, report.stop_cell = (
                f"The notebook used its whole time limit ({limits.notebook_timeout:g} s) "
                f"during cell {number}; execution stopped there.", number)
            break
        # The cell's own limit: interrupt it, and let the rest run if it stops.
        with contextlib.suppress(Exception):
            await kernel.km.interrupt_kernel()
        grace = min(limits.interrupt_grace, max(0.0, deadline - loop.time()))
        done, _ = await asyncio.wait({task}, timeout=grace)
        report.cells_run += 1
        if client.over_budget.is_set():
            # A flood of output can starve this loop past the cell's limit before the
            # output is counted; the output cap is the real reason, so it wins.
            if task not in done:
                await _abandon(task, kernel)
            _stop_for_output(report, limits, number)
            break
        finished = task in done and not task.cancelled()
        if finished and task.exception() is None:
            report.interrupted.append(number)
            continue
        if finished and isinstance(task.exception(), DeadKernelError):
            report.stop = (f"Cell {number} ran longer than the {limits.cell_timeout:g} s limit "
                           "for one cell, and the kernel died when it was interrupted; "
                           "execution stopped there.")
        else:
            await _abandon(task, kernel)
            report.stop = (f"Cell {number} ran longer than the {limits.cell_timeout:g} s limit "
                           "for one cell and did not stop when interrupted; execution stopped "
                           "there.")
        report.stop_cell = number
        break

    report.errors = [e for e in client.errors
                     if not (e.ename == "KeyboardInterrupt" and e.cell in report.interrupted)]
    report.error_count = client.error_count - (len(client.errors) - len(report.errors))
    report.output_bytes = client.output_bytes
    report.seconds = loop.time() - started
    return report


def _stop_for_output(report: "ExecutionReport", limits: Limits, number: int) -> None:
    report.stop, report.stop_cell = (
        f"The notebook printed more than {limits.max_output_bytes / 1e6:g} MB of output "
        f"(in cell {number}); execution stopped there. Print less (a summary, not every "
        "item).", number)


async def _abandon(task: asyncio.Future, kernel: Kernel) -> None:
    """Stop a cell that will not finish: kill the kernel's process group, end the task."""
    import os
    import signal
    with contextlib.suppress(OSError):
        os.killpg(kernel.pid, signal.SIGKILL)
    task.cancel()
    await settle(task)


async def settle(task: asyncio.Future, timeout: float = 5) -> None:
    """Wait for a cancelled task to finish, without swallowing our own cancellation."""
    try:
        await asyncio.wait_for(task, timeout)
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise
    except Exception:
        pass
