"""One embedded AWS per grading worker, reset to an empty account per submission.

Starting an emulator costs seconds (moto's import and warm-up); resetting one
costs a tenth of that. So each worker keeps its own emulator process for the
whole run and resets it between submissions: every notebook still starts from
an empty account, and workers never see each other's resources.
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any, Iterator

from mylearning.grading.sandbox import GRADING_LEARNER, GRADING_REGION, Reaper, emulator_env

START_TIMEOUT = 90.0


class EmulatorFailure(RuntimeError):
    """The grading emulator could not start or stopped answering: grading cannot run."""


class Emulator:
    """A grading emulator process and the grader's session on it."""

    def __init__(self, log_path: Path):
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None
        self.url: str | None = None
        self.instance: str | None = None
        #: This emulator's credential (see `mylearning.emulator.auth`): new at each launch,
        #: given only to the grader's session and the one kernel of this worker at a time.
        self.token: str | None = None
        #: The URL of this emulator's data plane proxy, once its health answer names one.
        self.proxy: str | None = None
        self._session: Any = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def launch(self) -> str:
        """Start the process and return the URL it will serve.

        The port is chosen here, so kernels can boot with the endpoint in their
        environment while the emulator is still starting (both take seconds).
        Call from the main thread: the parent-death signal the child asks for
        fires when the *thread* that started it ends.
        """
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        from mylearning.emulator import auth

        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.instance = None
        self.proxy = None
        self.token = auth.new_token()
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "mylearning.grading.emulator_child",
                 "--parent", str(os.getpid()), "--port", str(port)],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log,
                env=emulator_env(self.token), start_new_session=True)
        return self.url

    def wait_ready(self, timeout: float = START_TIMEOUT) -> str:
        """Wait for the URL line and a health answer (blocking: call from a thread)."""
        from mylearning.emulator import manager

        assert self.proc is not None, "launch() first"
        line = _readline(self.proc, timeout)
        if line != self.url:
            raise EmulatorFailure(f"The grading emulator did not start on {self.url} "
                                  f"(log: {self.log_path}).")
        # Drain anything else it prints, so a full pipe can never block it.
        threading.Thread(target=_drain, args=(self.proc,), daemon=True).start()
        answer = manager.health(line, timeout=10)
        if not answer:
            raise EmulatorFailure(f"The grading emulator at {line} does not answer.")
        self.instance = answer.get("instance")
        self.proxy = proxy_of(answer)
        return line

    def healthy(self) -> bool:
        """Still the same emulator process, answering? (A notebook might have killed it.)"""
        from mylearning.emulator import manager
        if self.proc is None or self.proc.poll() is not None or not self.url:
            return False
        answer = manager.health(self.url, timeout=5)
        return bool(answer) and answer.get("instance") == self.instance

    def reset(self) -> None:
        """Empty the account, then touch the services the labs hit first."""
        from mylearning.emulator import auth

        assert self.url
        request = urllib.request.Request(self.url + "/moto-api/reset", method="POST",
                                         headers=auth.request_headers(self.token))
        with urllib.request.urlopen(request, timeout=30) as resp:
            resp.read()
        session = self.session()
        # moto rebuilds a region's EC2 backend lazily; pay that here, not in a cell.
        with contextlib.suppress(Exception):
            session.client("ec2").describe_availability_zones()

    def session(self) -> Any:
        """The grader's CourseSession on this emulator, as the grading learner.

        Built directly rather than through `connect()`, whose module-level
        cache is keyed by environment variables that differ per worker.
        """
        if self._session is None or self._session.endpoint != self.url:
            self._session = grading_session(self.url, self.token)
        return self._session

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        self._session = None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()  # its state is disposable: a short grace, then SIGKILL
            try:
                proc.wait(1)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for stream in (proc.stdout,):
            with contextlib.suppress(Exception):
                stream.close()


class EmulatorPool:
    """The run's emulators, one per worker, kept out of the reaper's reach while they serve.

    The reaper kills any child of the grader it does not know; an emulator is
    registered as protected for exactly as long as it is meant to run.
    """

    def __init__(self, run_dir: Path, reaper: Reaper, size: int):
        self.reaper = reaper
        self.members = [Emulator(run_dir / f"emulator-{i}.log") for i in range(size)]

    def __iter__(self) -> Iterator[Emulator]:
        return iter(self.members)

    def launch(self) -> None:
        """Start every emulator (from the main thread: see `Emulator.launch`)."""
        for emulator in self.members:
            emulator.launch()
            self.reaper.protected.add(emulator.pid)

    async def wait_ready(self) -> None:
        """Raises EmulatorFailure if any of them does not come up."""
        await asyncio.gather(*(asyncio.to_thread(e.wait_ready) for e in self.members))

    async def restart(self, emulator: Emulator) -> None:
        """Replace a stopped or broken emulator by a new, empty one on a new port."""
        self.reaper.protected.discard(emulator.pid)
        await asyncio.to_thread(emulator.stop)
        emulator.launch()
        self.reaper.protected.add(emulator.pid)
        await asyncio.to_thread(emulator.wait_ready)

    def stop_now(self) -> None:
        """Stop them all, synchronously: works without an event loop, and twice."""
        for emulator in self.members:
            if emulator.pid is not None:
                self.reaper.protected.discard(emulator.pid)
            with contextlib.suppress(Exception):
                emulator.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


_BOTO: Any = None
_CLIENT_LOCK = threading.Lock()


def proxy_of(health: dict) -> str | None:
    """The data plane's edge proxy URL in a health answer (`dataplane.proxy`), if any."""
    plane = health.get("dataplane") if isinstance(health, dict) else None
    proxy = plane.get("proxy") if isinstance(plane, dict) else None
    return proxy if isinstance(proxy, str) and proxy.startswith("http://127.") else None


def port_of(url: str | None) -> int | None:
    """The TCP port of a loopback URL, or None."""
    from urllib.parse import urlsplit
    if not url:
        return None
    try:
        return urlsplit(url).port
    except ValueError:
        return None


def grading_session(url: str, token: str | None = None) -> Any:
    """A CourseSession on `url` as the grading learner, sharing one boto3 Session.

    Built directly rather than through `connect()`, whose module-level cache
    is keyed by environment variables that differ per worker. All workers'
    sessions share one boto3 Session, so each service model is loaded once per
    run, and client creation (not thread-safe in botocore) is serialised.
    """
    global _BOTO
    import boto3

    from mylearning.backend import EMULATOR, EMULATOR_CREDENTIALS, CourseSession

    from mylearning.emulator import auth

    credentials = auth.client_credentials({auth.TOKEN_VAR: token} if token else {})

    class GradingSession(CourseSession):
        def _client_kwargs(self, kwargs: dict) -> dict:
            for key, value in credentials.items():  # this emulator's own credential
                kwargs.setdefault(key, value)
            return super()._client_kwargs(kwargs)

        def client(self, service_name: str, **kwargs: Any) -> Any:
            cached = None if kwargs else self.cached_client(service_name)
            if cached is not None:
                return cached
            with _CLIENT_LOCK:
                return super().client(service_name, **kwargs)

    with _CLIENT_LOCK:
        if _BOTO is None:
            _BOTO = boto3.Session(region_name=GRADING_REGION, **EMULATOR_CREDENTIALS)
    return GradingSession(_BOTO, EMULATOR, url, GRADING_LEARNER)


def _readline(proc: subprocess.Popen, timeout: float) -> str:
    result: list[str] = []

    def read() -> None:
        with contextlib.suppress(Exception):
            result.append(proc.stdout.readline().decode(errors="replace").strip())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline = time.monotonic() + timeout
    while reader.is_alive() and time.monotonic() < deadline and proc.poll() is None:
        reader.join(0.05)
    reader.join(0.5)
    return result[0] if result else ""


def _drain(proc: subprocess.Popen) -> None:
    with contextlib.suppress(Exception):
        while proc.stdout.read(65536):
            pass
