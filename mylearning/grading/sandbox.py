"""The learner kernel's surroundings: no credentials, a private home, and reaping.

Two promises live here. First, a submission can never reach the instructor's
real AWS by accident or on purpose through the usual channels: the kernel gets
an allow-listed environment without any AWS_* variable, credential files
pointing at /dev/null, the instance-metadata lookup disabled, and a private
HOME, so neither ~/.aws nor a profile is found. Second, no process a notebook
starts outlives the run: every kernel carries a run tag in its environment,
on Linux the grader becomes a child subreaper (orphans re-parent to it, so a
double-forked daemon cannot escape), and kernels are killed by process group.

This is not a security sandbox against a determined attacker running as the
same OS user (it could read files by absolute path); run the grader as a
dedicated user or in a container for that. It does make every honest mistake
and every in-notebook trick harmless to the grade.
"""
from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Iterable

#: The learner id every submission runs and is graded as, so names and
#: grades do not depend on who ran the grader.
GRADING_LEARNER = "student"
GRADING_REGION = "us-east-1"
#: Environment variable carried by every kernel (and so by its children).
TAG_VAR = "MYLEARNING_GRADING_TAG"

_KEEP = {"PATH", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TEMP", "TMP", "VIRTUAL_ENV",
         "CONDA_PREFIX", "CONDA_DEFAULT_ENV", "PYTHONPATH", "SYSTEMROOT", "MPLBACKEND",
         "MPLCONFIGDIR", "PYDEVD_DISABLE_FILE_VALIDATION"}


def kernel_env(endpoint: str, home: Path, tag: str, *, base: dict[str, str] | None = None,
               mpl_dir: Path | None = None) -> dict[str, str]:
    """The complete environment of a learner kernel (nothing else is inherited)."""
    source = os.environ if base is None else base
    env = {k: v for k, v in source.items() if k in _KEEP or k.startswith("LC_")}
    env.update({
        "HOME": str(home),
        "USERPROFILE": str(home),
        "MYLEARNING_BACKEND": "emulator",
        "MYLEARNING_ENDPOINT": endpoint,
        "MYLEARNING_LEARNER": GRADING_LEARNER,
        "MYLEARNING_HOME": str(home / ".mylearning"),
        "MYLEARNING_REGION": GRADING_REGION,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "PYTHONDONTWRITEBYTECODE": "1",
        # check()/summary() cells skip their API calls: the grader evaluates the
        # same checks itself after the run, and their in-kernel output is ignored.
        "MYLEARNING_CHECKS_DEFERRED": "1",
        TAG_VAR: tag,
    })
    if mpl_dir is not None and "MPLCONFIGDIR" not in env:
        env["MPLCONFIGDIR"] = str(mpl_dir)
    return env


def emulator_env(token: str | None = None) -> dict[str, str]:
    """An emulator's environment: allow-listed like a kernel's, plus its own credential.

    Allow-listed rather than filtered: the instructor's shell may hold secrets
    under any name (a CI token, a database URL), and whatever the emulator and
    its data plane hold could in principle be echoed back through the API.
    """
    from mylearning.emulator.auth import TOKEN_VAR

    env = {k: v for k, v in os.environ.items()
           if k in _KEEP or k in ("HOME", "USER", "LOGNAME") or k.startswith(("LC_", "MOTO_"))}
    if token:
        env[TOKEN_VAR] = token
    return env


def enable_subreaper() -> bool:
    """Make orphaned descendants re-parent to this process (Linux); True if it worked."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


def die_with_parent(parent_pid: int) -> None:
    """In a child process: get SIGTERM when the grader dies, even by SIGKILL (Linux)."""
    from mylearning.lifetime import die_with_parent as tied
    tied(parent_pid, signal.SIGTERM)


class Reaper:
    """Finds and kills every process the run's kernels started, and reaps them.

    Processes this grader itself started (emulators, kernels) are registered as
    `protected` while in use; children that existed before the run (a test
    runner's own helpers, say) are never touched. Callers sweep only while no
    kernel is being launched (the kernel module holds a lock for that), so a
    kernel is protected before any sweep can see it.
    """

    def __init__(self) -> None:
        import psutil

        self._psutil = psutil
        self.run_tag = uuid.uuid4().hex[:12]
        self.subreaper = enable_subreaper()
        me = psutil.Process()
        self._preexisting = {p.pid for p in me.children()}
        self.protected: set[int] = set()
        self._serial = 0

    def new_tag(self) -> str:
        self._serial += 1
        return f"{self.run_tag}-{self._serial}"

    def descendants(self, pid: int, skip_levels: int = 0) -> list[int]:
        """Every process below `pid`, but those `skip_levels` or fewer generations down."""
        try:
            top = self._psutil.Process(pid)
        except self._psutil.Error:
            return []
        found: list[int] = []
        level = [top]
        depth = 0
        while level:
            depth += 1
            nxt = []
            for proc in level:
                try:
                    nxt += proc.children()
                except self._psutil.Error:
                    continue
            if depth > skip_levels:
                found += [p.pid for p in nxt]
            level = nxt
        return found

    def kill_group(self, pid: int) -> None:
        """SIGKILL the process group led by `pid` (a kernel is its group's leader)."""
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGKILL)

    def kill(self, pids: Iterable[int]) -> None:
        for pid in pids:
            if pid in self.protected or pid == os.getpid():
                continue
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
            self._reap(pid)

    def _reap(self, pid: int) -> None:
        """Collect the exit status of our own dead children, so no zombie is left."""
        try:
            parent = self._psutil.Process(pid).ppid()
        except self._psutil.Error:
            return
        if parent != os.getpid():
            return
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                return
            if done:
                return
            time.sleep(0.01)

    def tagged(self, tag: str, prefix: bool = False) -> list[int]:
        """Processes whose environment carries `tag` (or any tag of this run)."""
        found = []
        for proc in self._psutil.process_iter(["pid"]):
            if proc.pid == os.getpid():
                continue
            value = self._tag_of(proc)
            if value and (value.startswith(tag) if prefix else value == tag):
                found.append(proc.pid)
        return found

    def _tag_of(self, proc: Any) -> str | None:
        try:
            return proc.environ().get(TAG_VAR)
        except (self._psutil.Error, OSError):
            return None

    def orphans(self) -> list[int]:
        """Our children that we did not start: descendants of dead kernels, re-parented."""
        try:
            children = self._psutil.Process().children()
        except self._psutil.Error:
            return []
        return [p.pid for p in children
                if p.pid not in self._preexisting and p.pid not in self.protected]

    def sweep(self, tag: str | None = None) -> list[int]:
        """Kill orphans, and (without subreaper support) whatever carries `tag`; return the
        ones a kernel started.

        An orphan without a kernel's tag is no notebook's doing: with the subreaper set,
        what an emulator's data plane leaves when that emulator is replaced is re-parented
        here too. It is killed all the same, but not blamed on the submission.
        """
        victims = self.orphans()
        if tag is not None and not self.subreaper:
            victims += self.tagged(tag)
        victims = sorted(set(victims))
        from_kernels = [pid for pid in victims if self._kernel_started(pid)]
        self.kill(victims)
        return from_kernels

    def _kernel_started(self, pid: int) -> bool:
        try:
            value = self._tag_of(self._psutil.Process(pid))
        except self._psutil.Error:
            return False
        return bool(value and value.startswith(self.run_tag))

    def final_sweep(self) -> list[int]:
        """At the end of the run: nothing carrying this run's tag may remain."""
        self.protected.clear()
        victims = sorted(set(self.orphans() + self.tagged(self.run_tag, prefix=True)))
        self.kill(victims)
        return victims


def code_state(roots: Iterable[Path]) -> tuple:
    """What the next kernels would import: the course code and the site-packages folders.

    A notebook runs as the instructor's OS user, so it could write a module or
    a .pth file there and change how later submissions run. The grader compares
    this before and after each submission and says so if it changed.
    """
    import site

    from mylearning.grading.records import code_fingerprint

    folders = []
    for folder in list(site.getsitepackages()) + [site.getusersitepackages()]:
        try:
            folders.append((folder, os.stat(folder).st_mtime_ns))
        except OSError:
            continue
    return code_fingerprint(list(roots)), tuple(folders)


class CodeWatch:
    """Notices when what kernels import changes between one submission and the next.

    The state is read in a thread (it hashes files) but compared and kept on the
    event loop, so workers finishing at the same time never race on it.
    """

    def __init__(self, roots: Iterable[Path]):
        self.roots = list(roots)
        self._state: tuple | None = None

    async def read(self) -> tuple:
        return await asyncio.to_thread(code_state, self.roots)

    async def baseline(self) -> None:
        """Before the first submission runs: the state every later one is compared with."""
        self._state = await self.read()

    def moved_to(self, state: tuple) -> bool:
        """Keep `state` as the latest; True if it differs from the one before."""
        if state == self._state:
            return False
        self._state = state
        return True
