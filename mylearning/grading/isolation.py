"""The operating-system sandbox of a learner kernel: what it may do, and what is in force.

A submission is hostile until graded. Before any of its code runs, the process
that becomes its kernel confines itself (`apply`, called by `kernel_boot`):

1. as root, it joins the submission's own cgroup (memory and process caps for
   everything it will start, and a way to kill all of it at once);
2. it moves into a new PID namespace and becomes its init: when it dies, the
   Linux kernel kills every process in the namespace, so nothing a submission
   starts can outlive it, however it forks, re-parents or changes its session;
3. as root, it becomes a dedicated unprivileged user, or, where that user could
   not even run Python (the interpreter under a 0700 home), drops every
   capability while keeping uid 0;
4. resource limits: address space, open files, file size, CPU time, processes;
5. no-new-privileges and Landlock: read only what Python, the course package
   and its dependencies need; write only its own scratch folder; TCP connect
   only to its own emulator and data-plane proxy ports, bind none; no signal
   or abstract Unix socket outside the sandbox (and Landlock denies ptrace, so
   /proc/PID/mem and environ of other processes, outside its domain).

`probe()` finds out, once per run, which of these this machine allows, and
`Protection` says so in the summary and in every results.json. The grader side
(`Policy`, `CgroupSet`) builds the policy and removes the cgroups afterwards.
"""
from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mylearning.grading import landlock

#: Environment variable naming the policy file a kernel applies at boot.
POLICY_VAR = "MYLEARNING_SANDBOX_POLICY"
#: First uid of the dedicated users (one per worker lane) when the grader runs as root.
SANDBOX_UID_BASE = 61_000

#: System folders a Python process reads (those that exist); /proc and /sys are not among them.
_SYSTEM_READ = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc/ssl",
                "/etc/ca-certificates", "/etc/pki", "/etc/localtime", "/etc/timezone",
                "/usr/share/zoneinfo", "/etc/hosts", "/etc/nsswitch.conf", "/etc/passwd",
                "/etc/group", "/etc/resolv.conf", "/etc/host.conf", "/etc/gai.conf",
                "/etc/mime.types", "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d",
                "/etc/matplotlibrc", "/etc/fonts", "/proc/cpuinfo", "/proc/meminfo",
                "/proc/stat", "/sys/devices/system/cpu")
_DEVICES = ("/dev/null", "/dev/zero", "/dev/urandom", "/dev/random", "/dev/full")


@dataclass
class Policy:
    """Everything one kernel's confinement needs, written by the grader, read at boot."""

    scratch: str
    read_paths: list[str]
    ports: list[int]
    memory_bytes: int
    processes: int = 256
    open_files: int = 1024
    file_bytes: int = 512 * 2 ** 20
    cpu_seconds: int = 1200
    landlock: bool = True
    pid_namespace: bool = True
    cgroups: list[str] = field(default_factory=list)
    uid: int | None = None
    drop_capabilities: bool = False

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self)))

    @classmethod
    def read(cls, path: str | Path) -> "Policy":
        return cls(**json.loads(Path(path).read_text()))


@dataclass
class Protection:
    """Which isolation this machine allows the grader to apply, said plainly."""

    landlock_abi: int
    root: bool
    pid_namespace: bool
    cgroup: str | None
    dedicated_user: bool
    drop_capabilities: bool
    enabled: bool = True
    #: Why a layer could not be used, for the instructor.
    gaps: list[str] = field(default_factory=list)

    @property
    def sandboxed(self) -> bool:
        """The filesystem, network, signal and ptrace confinement is in force."""
        return self.enabled and self.landlock_abi >= 6

    def rules(self) -> list[str]:
        if not self.enabled:
            return []
        out = []
        if self.landlock_abi >= 1:
            out.append(f"Landlock ABI {self.landlock_abi}: read only Python, the course package "
                       "and its dependencies; write only the kernel's scratch folder")
        if self.landlock_abi >= 4:
            out.append("TCP connect only to the worker's own emulator and data-plane proxy; "
                       "no TCP bind")
        if self.landlock_abi >= 6:
            out.append("no signals or abstract Unix sockets outside the sandbox; no ptrace "
                       "(nor /proc memory or environment) of processes outside it")
        if self.pid_namespace:
            out.append("own PID namespace: every process of the submission dies with it")
        if self.cgroup:
            out.append(f"cgroup ({self.cgroup}) per submission: memory and process caps for "
                       "the whole submission")
        if self.dedicated_user:
            out.append("a dedicated unprivileged user per worker")
        elif self.drop_capabilities:
            out.append("uid 0 without any capability (a dedicated user cannot run this Python)")
        out.append("rlimits: address space, open files, file size, CPU time; no-new-privileges")
        return out

    def to_dict(self, limits: Any | None = None) -> dict:
        data = asdict(self)
        data["sandboxed"] = self.sandboxed
        data["rules"] = self.rules()
        if limits is not None:
            data["limits"] = limit_values(limits)
        return data

    def warning(self) -> str | None:
        """The loud warning for a run without the sandbox, saying what is not protected."""
        if self.sandboxed:
            return None
        why = ("it was turned off (--no-sandbox)" if not self.enabled else
               f"this kernel offers Landlock ABI {self.landlock_abi}, and the sandbox needs 6"
               if self.landlock_abi else "this system has no Landlock")
        return ("NO OPERATING-SYSTEM SANDBOX: " + why + ". Submissions run as "
                f"{'root' if self.root else 'your user'} and can read your files and this "
                "grader's environment, rewrite the course code, the virtualenv and other "
                "submissions, reach other workers' emulators and signal or trace the "
                "grader. Grades of a hostile cohort cannot be trusted. Use "
                "--require-sandbox to refuse to grade instead.")


def limit_values(limits: Any) -> dict:
    policy = policy_limits(limits)
    return {"memory_bytes": policy["memory_bytes"], "processes": policy["processes"],
            "open_files": policy["open_files"], "file_bytes": policy["file_bytes"],
            "disk_bytes": int(limits.max_disk_bytes), "cpu_seconds": policy["cpu_seconds"],
            "cell_timeout": limits.cell_timeout, "notebook_timeout": limits.notebook_timeout,
            "output_bytes": limits.max_output_bytes}


def policy_limits(limits: Any) -> dict:
    return {"memory_bytes": int(limits.max_memory_bytes), "processes": int(limits.max_processes),
            "open_files": 1024, "file_bytes": int(min(limits.max_disk_bytes, 2 ** 40)),
            "cpu_seconds": int(limits.notebook_timeout * 2 + 60)}


# ---------------------------------------------------------------- grader side

def probe(enabled: bool = True) -> Protection:
    """What this machine allows; asks a short-lived child to try the PID namespace."""
    abi = landlock.abi_version()
    root = hasattr(os, "geteuid") and os.geteuid() == 0
    gaps: list[str] = []
    pidns = _can_unshare_pid() if enabled and sys.platform.startswith("linux") else False
    if enabled and not pidns:
        gaps.append("no PID namespace (unprivileged user namespaces are off): leftover "
                    "processes are found by the grader's sweep instead")
    cgroup = None
    dedicated = drop = False
    if enabled and root:
        cgroup = CgroupSet.kind()
        if cgroup is None:
            gaps.append("no writable memory and pids cgroup: memory is capped per process only")
        unreachable = _unreachable_by_others(Path(sys.executable).resolve())
        if unreachable is None:
            dedicated = True
        else:
            drop = True
            gaps.append(f"no dedicated user: {unreachable} is not reachable by other users, so "
                        "kernels keep uid 0 with every capability dropped")
    elif enabled:
        gaps.append("not root: no dedicated user and no cgroup; memory and processes are "
                    "capped per process (rlimits)")
    if enabled and abi < 6:
        gaps.append(f"Landlock ABI {abi}: " + ("none" if not abi else "older than 6 (no signal "
                                               "scoping)"))
    return Protection(landlock_abi=abi, root=root, pid_namespace=pidns, cgroup=cgroup,
                      dedicated_user=dedicated, drop_capabilities=drop, enabled=enabled,
                      gaps=gaps)


def _can_unshare_pid() -> bool:
    flags = 0x20000000 if os.geteuid() == 0 else 0x20000000 | 0x10000000
    code = ("import ctypes,sys;l=ctypes.CDLL(None,use_errno=True);"
            f"sys.exit(0 if l.unshare({flags})==0 else 1)")
    try:
        return subprocess.run([sys.executable, "-S", "-c", code], timeout=10,
                              stdin=subprocess.DEVNULL, capture_output=True).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def _unreachable_by_others(path: Path) -> Path | None:
    """The first folder on `path`'s way that other users cannot enter, or None."""
    for folder in list(reversed(path.parents)):
        try:
            if not os.stat(folder).st_mode & 0o001:
                return folder
        except OSError:
            return folder
    return None


def read_paths(extra: list[Path]) -> list[str]:
    """What a kernel reads: system folders, this Python, its site-packages, the course code.

    Only the course's own package folders (`extra`), never the checkout around them:
    an instructor may keep submissions or grades next to the code.
    """
    import site
    import sysconfig

    found: list[str] = list(_SYSTEM_READ)
    for p in {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}:
        found.append(p)
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        with contextlib.suppress(KeyError):
            found.append(sysconfig.get_paths()[key])
    with contextlib.suppress(Exception):
        found += site.getsitepackages()
    found.append(str(Path(sys.executable).resolve().parent.parent))
    found += [str(p) for p in extra]
    # Editable installs point outside site-packages through their finder; the course
    # package itself is in `extra`, and other editable packages are listed in their .pth.
    unique: list[str] = []
    for p in found:
        if p and p not in unique:
            unique.append(p)
    return unique


class CgroupSet:
    """One submission's cgroups (memory and pids; cgroup v1 or v2), created by the grader.

    Created before the kernel starts with the caps written, joined by the kernel
    at boot, and emptied (everything in it killed) and removed on dispose.
    """

    V1_ROOT = Path("/sys/fs/cgroup")

    def __init__(self, name: str, memory_bytes: int, processes: int, kind: str | None = None):
        self.dirs: list[Path] = []
        kind = kind or self.kind()
        if kind == "v2":
            base = self._v2_base()
            leaf = base / name
            leaf.mkdir(parents=True, exist_ok=True)
            self._write(leaf / "memory.max", str(memory_bytes))
            self._write(leaf / "memory.swap.max", "0", required=False)
            self._write(leaf / "pids.max", str(processes))
            self.dirs.append(leaf)
        elif kind == "v1":
            for controller, settings in (
                    ("memory", {"memory.limit_in_bytes": str(memory_bytes)}),
                    ("pids", {"pids.max": str(processes)})):
                leaf = self._v1_base(controller) / name
                leaf.mkdir(parents=True, exist_ok=True)
                for key, value in settings.items():
                    self._write(leaf / key, value)
                self.dirs.append(leaf)

    @staticmethod
    def _write(path: Path, value: str, required: bool = True) -> None:
        try:
            path.write_text(value)
        except OSError:
            if required:
                raise

    @classmethod
    def _own(cls, controller: str) -> str:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, names, path = line.split(":", 2)
            if controller in names.split(",") or (controller == "" and names == ""):
                return path.lstrip("/")
        return ""

    @classmethod
    def _v1_base(cls, controller: str) -> Path:
        return cls.V1_ROOT / controller / cls._own(controller) / "mylearning-grading"

    @classmethod
    def _v2_base(cls) -> Path:
        return cls.V1_ROOT / cls._own("") / "mylearning-grading"

    _kind: tuple[str | None] | None = None

    @classmethod
    def kind(cls) -> str | None:
        """'v1' or 'v2' if this process may create memory and pids cgroups, else None."""
        if cls._kind is None:
            cls._kind = (cls._find_kind(),)
        return cls._kind[0]

    @classmethod
    def _find_kind(cls) -> str | None:
        if not (hasattr(os, "geteuid") and os.geteuid() == 0):
            return None
        probe_name = f"probe-{os.getpid()}"
        candidates = []
        if (cls.V1_ROOT / "memory").is_dir() and (cls.V1_ROOT / "pids").is_dir():
            candidates.append("v1")
        if (cls.V1_ROOT / "cgroup.controllers").exists():
            candidates.append("v2")
        for kind in candidates:
            made: list[Path] = []
            try:
                made = cls(probe_name, 2 ** 30, 64, kind).dirs
            except OSError:
                pass
            for d in made:
                with contextlib.suppress(OSError):
                    d.rmdir()
            if len(made) == (1 if kind == "v2" else 2):
                return kind
        return None

    def procs(self) -> set[int]:
        found: set[int] = set()
        for d in self.dirs:
            with contextlib.suppress(OSError, ValueError):
                found |= {int(x) for x in (d / "cgroup.procs").read_text().split()}
        return found

    def kill_all(self, timeout: float = 5.0) -> int:
        """SIGKILL everything inside, until it is empty; return how many were killed."""
        killed: set[int] = set()
        kill_file = next((d / "cgroup.kill" for d in self.dirs if (d / "cgroup.kill").exists()),
                         None)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pids = self.procs()
            if not pids:
                break
            if kill_file is not None:
                with contextlib.suppress(OSError):
                    kill_file.write_text("1")
            for pid in pids:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            killed |= pids
            time.sleep(0.01)
        return len(killed)

    def remove(self) -> None:
        self.kill_all()
        for d in self.dirs:
            for _ in range(50):
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)

    def memory_peak(self) -> int | None:
        for d in self.dirs:
            for name in ("memory.max_usage_in_bytes", "memory.peak"):
                with contextlib.suppress(OSError, ValueError):
                    return int((d / name).read_text())
        return None


# ---------------------------------------------------------------- kernel side

def apply(policy: Policy) -> None:
    """Confine this process as `policy` says (see the module docstring); for good.

    Called by `kernel_boot` before any submission code. With a PID namespace this
    forks: the calling process stays outside as a waiting parent, and the child,
    PID 1 of the new namespace, returns from here to become the kernel.
    """
    for folder in policy.cgroups:
        (Path(folder) / "cgroup.procs").write_text(str(os.getpid()))
    if policy.pid_namespace:
        _enter_pid_namespace(policy.uid is None and os.geteuid() != 0)
    if policy.uid is not None:
        _become(policy.uid)
    elif policy.drop_capabilities:
        _drop_capabilities()
    _rlimits(policy)
    landlock.no_new_privileges()
    if policy.landlock:
        abi = landlock.abi_version()
        rules = landlock.Ruleset(abi)
        for path in policy.read_paths:
            rules.allow_path(path, landlock.READ)
        rules.allow_path(policy.scratch, landlock.fs_rights(abi))
        for device in _DEVICES:
            rules.allow_path(device, landlock.FS_READ_FILE | landlock.FS_WRITE_FILE)
        for port in policy.ports:
            rules.allow_connect(port)
        rules.restrict_self()


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _enter_pid_namespace(user_namespace: bool) -> None:
    """Fork into a new PID namespace; only the child (its PID 1) returns."""
    uid, gid = os.getuid(), os.getgid()
    flags = 0x20000000 | (0x10000000 if user_namespace else 0)  # CLONE_NEWPID | CLONE_NEWUSER
    _check(_libc().unshare(flags), "unshare")
    if user_namespace:  # map ourselves to ourselves, so files keep their owner
        Path("/proc/self/setgroups").write_text("deny")
        Path("/proc/self/uid_map").write_text(f"{uid} {uid} 1")
        Path("/proc/self/gid_map").write_text(f"{gid} {gid} 1")
    child = os.fork()
    if child != 0:
        _wait_for(child)  # never returns
    # PID 1 of the namespace: an init that reaps orphans and ends with the kernel. The
    # kernel itself must not be PID 1, which ignores its own fatal signals (a notebook
    # killing its own kernel must die as it would in a learner's JupyterLab).
    _libc().prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG: die with the waiter
    kernel = os.fork()
    if kernel == 0:
        return
    _init(kernel)


def _init(kernel: int) -> None:
    """PID 1 inside the namespace: reap every orphan, exit with the kernel's status.

    Its exit ends the namespace, and the Linux kernel then kills whatever is left.
    """
    for signum in (signal.SIGINT, signal.SIGQUIT, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2,
                   signal.SIGTERM, signal.SIGPIPE):
        signal.signal(signum, signal.SIG_IGN)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in range(0, 3):
        os.dup2(devnull, fd)
    os.closerange(3, 65536)
    while True:
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            os._exit(1)
        except InterruptedError:
            continue
        if pid == kernel:
            os._exit(os.waitstatus_to_exitcode(status) & 0xFF)


def _wait_for(child: int) -> None:
    """The waiter: outside the sandbox, runs no submission code, ends with the kernel.

    It dies with the grader (parent-death signal) and so takes the namespace
    with it; it ignores the interrupts the grader sends the process group (the
    kernel, in the same group, gets them) and exits with the kernel's status.
    """
    _libc().prctl(1, signal.SIGKILL, 0, 0, 0)
    for signum in (signal.SIGINT, signal.SIGQUIT, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(signum, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: os.kill(child, signal.SIGKILL))
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in range(0, 3):
        os.dup2(devnull, fd)
    os.closerange(3, 65536)
    while True:
        try:
            _, status = os.waitpid(child, 0)
            break
        except ChildProcessError:
            os._exit(1)
        except InterruptedError:
            continue
    os._exit(os.waitstatus_to_exitcode(status) & 0xFF)


def _become(uid: int) -> None:
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)


def _drop_capabilities() -> None:
    """uid 0 without capabilities: securebits locked, bounding and ambient sets emptied."""
    libc = _libc()
    # SECBIT_NOROOT | NO_SETUID_FIXUP | KEEP_CAPS_LOCKED | NOROOT_LOCKED | FIXUP_LOCKED
    libc.prctl(28, 0x1 | 0x2 | 0x4 | 0x8 | 0x20, 0, 0, 0)  # PR_SET_SECUREBITS
    for cap in range(64):
        libc.prctl(24, cap, 0, 0, 0)  # PR_CAPBSET_DROP (fails past the last cap: fine)
    libc.prctl(47, 4, 0, 0, 0)  # PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                    ("inheritable", ctypes.c_uint32)]

    header = Header(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
    data = (Data * 2)()
    _check(libc.capset(ctypes.byref(header), data), "capset")


def _rlimits(policy: Policy) -> None:
    import resource

    def cap(kind: int, value: int) -> None:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(kind, (value, value))

    cap(resource.RLIMIT_AS, policy.memory_bytes)
    cap(resource.RLIMIT_NOFILE, policy.open_files)
    cap(resource.RLIMIT_FSIZE, policy.file_bytes)
    cap(resource.RLIMIT_CPU, policy.cpu_seconds)
    cap(resource.RLIMIT_CORE, 0)
    if os.geteuid() != 0 and not policy.cgroups:
        # Counted per user: what the user runs already, plus the submission's share.
        try:
            import psutil
            mine = sum(1 for p in psutil.process_iter(["uids"])
                       if p.info["uids"] and p.info["uids"].real == os.getuid())
        except Exception:
            mine = 0
        cap(resource.RLIMIT_NPROC, mine + policy.processes)
    with contextlib.suppress(OSError):
        Path("/proc/self/oom_score_adj").write_text("1000")
