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
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable

from mylearning.grading import flatten, isolation
from mylearning.grading.isolation import Protection
from mylearning.grading.limits import Limits
from mylearning.grading.notebooks import Program
from mylearning.grading.sandbox import Reaper, kernel_env

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

    def __init__(self, km: Any, kc: Any, workdir: Path, tag: str, pid: int, endpoint: str,
                 cgroups: Any = None, token: str | None = None, ports: tuple[int, ...] = (),
                 namespaced: bool = False):
        self.km, self.kc, self.workdir, self.tag, self.pid = km, kc, workdir, tag, pid
        self.endpoint = endpoint
        self.token = token
        #: TCP ports its sandbox lets it connect to.
        self.ports = ports
        #: In its own PID namespace: `pid` is the waiter, its child the namespace's init,
        #: and the init's one child the kernel itself.
        self.namespaced = namespaced
        #: The submission's cgroups (as root), or None.
        self.cgroups = cgroups
        #: The folder the kernel may write, and the disk it may fill there.
        self.scratch = workdir / "box"


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


#: The kernel spec every grading kernel is started with: our boot module, which
#: confines the process before it becomes an ipykernel (see `kernel_boot`).
KERNEL_NAME = "mylearning-sandbox"


class KernelFactory:
    """Starts confined kernels for one run and disposes of them without leaving a process.

    Kernels talk to the grader over IPC sockets in their own folder (not TCP
    on the shared loopback); the folder and the connection file with the
    message-signing key are inside the kernel's sandbox and nobody else's.
    """

    def __init__(self, reaper: Reaper, run_dir: Path, limits: Limits,
                 services: tuple[str, ...] = (), protection: Protection | None = None,
                 course_paths: list[Path] | None = None):
        #: boto3 clients to create while each kernel boots (see backend.prewarm_clients).
        self.services = services
        self.reaper = reaper
        self.run_dir = run_dir
        self.limits = limits
        self.protection = protection
        self.mpl_dir = run_dir / "matplotlib"
        self.mpl_dir.mkdir(parents=True, exist_ok=True)
        self.spec_dir = run_dir / "kernels"
        spec = self.spec_dir / KERNEL_NAME
        spec.mkdir(parents=True, exist_ok=True)
        (spec / "kernel.json").write_text(json.dumps({
            "argv": [sys.executable, "-m", "mylearning.grading.kernel_boot", "-f",
                     "{connection_file}", "--HistoryManager.enabled=False",
                     "--Application.log_level=50"],
            "display_name": "MyLearning grading (sandboxed)", "language": "python"}))
        self.read_paths = isolation.read_paths(list(course_paths or []) + [self.mpl_dir])
        if protection is not None and protection.root:
            # Dedicated users must traverse the run folder to reach their own box.
            os.chmod(run_dir, 0o711)
        #: Held while a kernel is launched and until its pid is protected, and
        #: while sweeping, so a sweep never mistakes a new kernel for an orphan.
        self.lock = asyncio.Lock()
        self.live: set[Kernel] = set()

    def _policy(self, box: Path, ports: list[int], lane: int, name: str) -> tuple[Any, Any]:
        """The kernel's policy and (as root) its cgroups, or (None, None) without a sandbox."""
        prot = self.protection
        if prot is None or not prot.enabled:
            return None, None
        values = isolation.policy_limits(self.limits)
        cgroups = None
        if prot.cgroup:
            cgroups = isolation.CgroupSet(name, values["memory_bytes"], values["processes"])
        uid = isolation.SANDBOX_UID_BASE + lane if prot.dedicated_user else None
        policy = isolation.Policy(
            scratch=str(box), read_paths=self.read_paths, ports=ports,
            memory_bytes=values["memory_bytes"], processes=values["processes"],
            open_files=values["open_files"], file_bytes=values["file_bytes"],
            cpu_seconds=values["cpu_seconds"], landlock=prot.landlock_abi >= 1,
            pid_namespace=prot.pid_namespace,
            cgroups=[str(d) for d in cgroups.dirs] if cgroups else [], uid=uid,
            drop_capabilities=prot.drop_capabilities)
        return policy, cgroups

    async def start(self, endpoint: str, token: str | None = None,
                    ports: Iterable[int | None] = (), lane: int = 0) -> Kernel:
        """A booted kernel for the emulator at `endpoint` (with its credential and ports)."""
        from jupyter_client.kernelspec import KernelSpecManager
        from jupyter_client.manager import AsyncKernelManager

        from mylearning.emulator import auth

        workdir = Path(tempfile.mkdtemp(prefix="sub-", dir=self.run_dir))
        box = workdir / "box"
        home, cwd, tmp, ipc = box / "home", box / "work", box / "tmp", box / "ipc"
        for folder in (box, home, cwd, tmp, ipc):
            folder.mkdir(mode=0o700)
        tag = self.reaper.new_tag()
        env = kernel_env(endpoint, home, tag, mpl_dir=self.mpl_dir)
        env.update({"TMPDIR": str(tmp), "TEMP": str(tmp), "TMP": str(tmp),
                    "IPYTHONDIR": str(home / ".ipython"),
                    "JUPYTER_CONFIG_DIR": str(home / ".jupyter"),
                    "JUPYTER_DATA_DIR": str(home / ".local" / "share" / "jupyter"),
                    "JUPYTER_RUNTIME_DIR": str(ipc),
                    "MYLEARNING_PREWARM_SERVICES": ",".join(self.services)})
        if token:
            env[auth.TOKEN_VAR] = token
        # The kernel imports the very course package this grader runs (and its boot module).
        env["PYTHONPATH"] = os.pathsep.join(
            [str(Path(__file__).resolve().parents[2])]
            + [str(Path(p).resolve()) for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
        allowed = tuple(sorted({p for p in ports if p}))
        policy, cgroups = self._policy(box, list(allowed), lane,
                                       f"{self.reaper.run_tag}-{workdir.name}")
        if policy is not None:
            policy.write(workdir / "policy.json")
            env[isolation.POLICY_VAR] = str(workdir / "policy.json")
            if policy.uid is not None:
                for folder in (box, home, cwd, tmp, ipc):
                    os.chown(folder, policy.uid, policy.uid)
        km = AsyncKernelManager(kernel_name=KERNEL_NAME, transport="ipc", ip=str(ipc / "k"),
                                connection_file=str(ipc / "kernel.json"),
                                kernel_spec_manager=KernelSpecManager(
                                    kernel_dirs=[str(self.spec_dir)]))
        stderr_path = workdir / "kernel.err"
        async with self.lock:
            with open(stderr_path, "wb") as err:
                await km.start_kernel(env=env, cwd=str(cwd), stdin=subprocess.DEVNULL,
                                      stdout=subprocess.DEVNULL, stderr=err)
            pid = km.provisioner.pid
            self.reaper.protected.add(pid)
        if policy is not None and policy.uid is not None:
            os.chown(ipc / "kernel.json", policy.uid, policy.uid)
        kernel = Kernel(km, None, workdir, tag, pid, endpoint, cgroups, token, allowed,
                        bool(policy and policy.pid_namespace))
        self.live.add(kernel)
        try:
            kc = km.client()
            kc.allow_stdin = False
            kc.start_channels()
            kernel.kc = kc
            ready = asyncio.ensure_future(kc.wait_for_ready(timeout=self.limits.startup_timeout))
            while not ready.done():  # a kernel whose sandbox failed exits at once: say why
                await asyncio.wait({ready}, timeout=0.2)
                if not ready.done() and not await km.is_alive():
                    ready.cancel()
                    raise RuntimeError(f"kernel exited during start-up (status {km.provisioner.process.returncode}): "
                                       + _tail(stderr_path))
            ready.result()
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
        # The kernel's own process (the waiter's child in a namespace) is no leftover.
        # (waiter -> init -> kernel in a PID namespace).
        started = self.reaper.descendants(kernel.pid, skip_levels=2 if kernel.namespaced else 0)
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
            if kernel.cgroups is not None:  # the sandbox's own membership, not a tree walk
                kernel.cgroups.remove()
            leftovers = started + self.reaper.sweep(kernel.tag)
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
            if kernel.cgroups is not None:
                with contextlib.suppress(Exception):
                    kernel.cgroups.remove()
            with contextlib.suppress(Exception):
                kernel.kc.stop_channels()
            with contextlib.suppress(Exception):
                Path(kernel.km.connection_file).unlink()
            self.live.discard(kernel)


def _tail(path: Path, limit: int = 6000) -> str:
    try:
        text = path.read_text(errors="replace").strip()
    except OSError:
        return "(no output)"
    return text[-limit:] or "(no output)"


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
                    self.errors.append(CellError(self.position,
                                                 flatten.name(content.get("ename", "Error")),
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
    return flatten.flat(text, limit)


async def run(program: Program, kernel: Kernel, limits: Limits) -> ExecutionReport:
    """Execute the program's cells in `kernel` and report what happened.

    The kernel is left as it is (possibly dead); the caller disposes of it.
    """
    import nbformat

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

    full = asyncio.Event()
    disk = asyncio.ensure_future(_watch_disk(kernel.scratch, limits.max_disk_bytes, full))
    try:
        await _run_cells(program, kernel, limits, client, cells, report, deadline, full)
    finally:
        disk.cancel()
        await settle(disk)
    report.errors = [e for e in client.errors
                     if not (e.ename == "KeyboardInterrupt" and e.cell in report.interrupted)]
    report.error_count = client.error_count - (len(client.errors) - len(report.errors))
    report.output_bytes = client.output_bytes
    report.seconds = loop.time() - started
    return report


async def _watch_disk(folder: Path, limit: int, full: asyncio.Event) -> None:
    """Set `full` when the kernel's scratch folder holds more than `limit` bytes.

    The scratch folder is the only place a confined kernel can write; the file
    size limit caps one file, and this caps them all together.
    """
    while True:
        used = await asyncio.to_thread(_folder_bytes, folder)
        if used > limit:
            full.set()
            return
        await asyncio.sleep(0.5)


def _folder_bytes(folder: Path) -> int:
    total = 0
    for root, dirs, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_blocks * 512
    return total


async def _run_cells(program: Program, kernel: Kernel, limits: Limits, client: Any,
                     cells: list, report: "ExecutionReport", deadline: float,
                     full: asyncio.Event) -> None:
    from nbclient.exceptions import DeadKernelError

    loop = asyncio.get_running_loop()
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
        disk = asyncio.ensure_future(full.wait())
        try:
            done, _ = await asyncio.wait({task, watch, disk}, timeout=budget,
                                         return_when=asyncio.FIRST_COMPLETED)
        finally:
            watch.cancel()
            disk.cancel()
        if full.is_set() and task not in done:
            await _abandon(task, kernel)
            report.cells_run += 1
            report.stop, report.stop_cell = (
                f"The notebook wrote more than {limits.max_disk_bytes / 2 ** 20:g} MB to disk "
                f"(in cell {number}); execution stopped there. Write less, or delete what "
                "you no longer need.", number)
            break
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
