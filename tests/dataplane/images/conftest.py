"""Fixtures that start real course containers, as the task agent will, and always reap them.

Each container is a process forked from a forkserver with the catalogue's PRELOAD
imported, listening on its own random 127.77.x.y address; every fixture kills what it
started, even when the test fails.
"""
from __future__ import annotations

import json
import multiprocessing
import os
import random
import signal
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from mylearning.dataplane.images import catalogue, runtime

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never an ambient http_proxy


@pytest.fixture(scope="session")
def forkserver() -> Iterator[Any]:
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(catalogue.PRELOAD)
    yield ctx
    server = getattr(multiprocessing.forkserver, "_forkserver", None)
    stop = getattr(server, "_stop", None)
    if stop is not None:  # stop the forkserver now rather than at interpreter exit
        stop()


def free_address() -> tuple[str, int]:
    """A random loopback address standing for a task's private IP, and a free port on it."""
    while True:
        address = f"127.77.{random.randint(1, 254)}.{random.randint(1, 254)}"
        with socket.socket() as probe:
            try:
                probe.bind((address, 0))
            except OSError:
                continue
            return address, probe.getsockname()[1]


@dataclass
class Running:
    spec: runtime.ContainerSpec
    process: Any
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.spec.address}:{self.port}"

    def logs(self) -> list[dict[str, Any]]:
        """The container's JSON log lines (other lines, like tracebacks, are skipped)."""
        lines = []
        if os.path.exists(self.spec.log_path):
            for line in Path(self.spec.log_path).read_text().splitlines():
                try:
                    lines.append(json.loads(line))
                except ValueError:
                    pass
        return lines

    def log_text(self) -> str:
        return Path(self.spec.log_path).read_text() if os.path.exists(self.spec.log_path) else ""

    def wait_log(self, message: str, timeout: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.logs():
                if line.get("message") == message:
                    return line
            if not self.process.is_alive() and time.monotonic() > deadline - timeout + 0.5:
                break
            time.sleep(0.02)
        raise AssertionError(f"no log line {message!r}; log:\n{self.log_text()}")

    def wait_ready(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.process.is_alive():
                raise AssertionError(f"container exited {self.process.exitcode}; log:\n{self.log_text()}")
            try:
                with socket.create_connection((self.spec.address, self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.01)
        raise AssertionError(f"container never listened; log:\n{self.log_text()}")

    def wait_exit(self, timeout: float = 10.0) -> int:
        self.process.join(timeout)
        assert not self.process.is_alive(), f"container still running; log:\n{self.log_text()}"
        return self.process.exitcode

    def request(self, path: str, method: str = "GET", body: Any = None,
                timeout: float = 10.0) -> tuple[int, dict[str, str], bytes]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"} if data else {})
        try:
            with _OPENER.open(request, timeout=timeout) as answer:
                return answer.status, dict(answer.headers), answer.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def json(self, path: str, method: str = "GET", body: Any = None) -> tuple[int, Any]:
        status, _, raw = self.request(path, method, body)
        return status, json.loads(raw)


DB_SECRETS = {"DB_USER": "courses_app", "DB_PASSWORD": "s3cret-from-secrets-manager"}


@pytest.fixture
def launch(forkserver: Any, tmp_path: Path) -> Iterator[Callable[..., Running]]:
    """Start a container of `image`; wait until it listens unless told not to."""
    started: list[Running] = []

    def start(image: str, env: dict[str, str] | None = None, ready: bool = True,
              address: str | None = None, **spec_fields: Any) -> Running:
        chosen, port = free_address()
        address = address or chosen
        name = f"c{len(started)}"
        resolved = catalogue.resolve(image)
        listens = bool(resolved and resolved.ports)
        environment = {"PORT": str(port)} if listens else {}
        environment.update(env or {})
        spec = runtime.ContainerSpec(
            name=name, image=image, task_arn=f"arn:aws:ecs:us-east-1:123456789012:task/labs/{name}",
            task_id=name, address=address, ports=[port] if listens else [], environment=environment,
            log_path=str(tmp_path / f"{name}.log"), root=str(tmp_path / f"{name}-root"), **spec_fields)
        process = forkserver.Process(target=runtime.main, args=(spec.to_dict(),), daemon=True)
        process.start()
        running = Running(spec, process, int(environment.get("PORT", 0)))
        started.append(running)
        if ready and listens:
            running.wait_ready()
        return running

    yield start
    for running in started:
        if running.process.is_alive():
            os.kill(running.process.pid, signal.SIGKILL)
        running.process.join(5)
