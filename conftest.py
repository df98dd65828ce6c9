"""Test set-up for the unit tests (tests/) and nbval over the notebooks (solutions/).

MYLEARNING_HOME points at a temporary folder, so tests never touch a learner's
~/.mylearning or their running emulator. One embedded AWS is started per test
process (per xdist worker) before the first test or notebook cell runs, and
MYLEARNING_ENDPOINT points every `connect()`, and every notebook kernel the
tests start, at it. Tests isolate themselves with a fresh learner id.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent

_HOME = tempfile.mkdtemp(prefix="mylearning-test-home-")
os.environ["MYLEARNING_HOME"] = _HOME
os.environ.pop("MYLEARNING_BACKEND", None)
os.environ.pop("MYLEARNING_AWS_OPT_IN", None)
# Real credentials must never be reachable from a test.
for _var in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
    os.environ.pop(_var, None)
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull


class EmulatorProcess:
    """A `mylearning emulator --port 0` child process and its URL.

    With `tied=True` it is the grading entry point instead, which asks the kernel to
    end it when this test process dies, however it dies (a test run killed by a signal
    must not leave an emulator behind).
    """

    def __init__(self, *extra: str, tied: bool = False, env: dict[str, str] | None = None):
        # stderr goes to a file: a pipe nobody reads would block the emulator once full.
        self.log = tempfile.NamedTemporaryFile("w+", prefix="mylearning-emulator-", suffix=".log")
        command = ([sys.executable, "-m", "mylearning.grading.emulator_child", "--parent", str(os.getpid()),
                    "--port", "0", *extra] if tied else
                   [sys.executable, "-m", "mylearning", "emulator", "--port", "0", *extra])
        # `env` adds to this process's environment (MYLEARNING_TIME_SCALE, say) for the emulator only.
        self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self.log, text=True, cwd=ROOT,
                                     env={**os.environ, **env} if env else None)
        self.url = self.proc.stdout.readline().strip()
        if not self.url.startswith("http://127.0.0.1:"):
            self.proc.kill()
            self.log.seek(0)
            raise RuntimeError(f"emulator did not start: {self.url!r} {self.log.read()[-2000:]}")

    def reset(self) -> None:
        import urllib.request
        urllib.request.urlopen(urllib.request.Request(self.url + "/moto-api/reset", method="POST"))

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


_EMULATOR: EmulatorProcess | None = None


def shared_emulator() -> EmulatorProcess:
    global _EMULATOR
    if _EMULATOR is None:
        # Every test shares this account (learners are told apart by name), so Fargate's vCPU
        # quota of a new account (fidelity/ecs/quotas.py) would be shared too: lift it.
        _EMULATOR = EmulatorProcess(tied=True, env={"MYLEARNING_FARGATE_VCPU_QUOTA": "100000"})
        os.environ["MYLEARNING_ENDPOINT"] = _EMULATOR.url
        os.environ.setdefault("MYLEARNING_LEARNER", "nbval")
    return _EMULATOR


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    # Before nbval starts a notebook's kernel, so the kernel inherits the endpoint.
    shared_emulator()


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item, nextitem):
    """After a test file's last test, reset the account: its tasks stop.

    Tests share one emulator per worker and isolate themselves by learner id; since
    the data plane runs every task they place as processes, a file's services are not
    left running for the rest of the run. (`--dist loadfile` keeps a file on one worker,
    and no fixture lives longer than its file except the emulator itself.)
    """
    if _EMULATOR is not None and (nextitem is None or nextitem.path != item.path):
        try:
            _EMULATOR.reset()
        except OSError:
            pass


def pytest_unconfigure(config):
    if _EMULATOR is not None:
        _EMULATOR.stop()


@pytest.fixture(scope="session")
def emulator():
    """The test process's embedded AWS (shared; isolate tests by learner id)."""
    return shared_emulator()


@pytest.fixture
def learner(monkeypatch):
    """A fresh learner id, so a test's resources never meet another test's."""
    name = "t" + uuid.uuid4().hex[:10]
    monkeypatch.setenv("MYLEARNING_LEARNER", name)
    return name


def release_tasks(session) -> None:
    """Scale the learner's ECS services to zero once its test is done: every test shares its
    process's emulator, whose data plane would otherwise run every earlier test's tasks (and
    their proxies) until the end of the run, and a course run's last tests would share the
    machine with hundreds of them."""
    ecs = session.client("ecs")
    cluster = session.name("cluster")
    try:
        arns = [a for page in ecs.get_paginator("list_services").paginate(cluster=cluster)
                for a in page.get("serviceArns", [])]
        for arn in arns:
            ecs.update_service(cluster=cluster, service=arn, desiredCount=0)
    except Exception:  # no cluster, or a test that deleted it: nothing runs
        pass


@pytest.fixture
def session(emulator, learner):
    """A CourseSession on the test emulator for a fresh learner (its services scaled to zero
    afterwards)."""
    from mylearning.backend import connect
    found = connect(quiet=True)
    yield found
    release_tasks(found)


@pytest.fixture(scope="module")
def emulator_with_dataplane():
    """An emulator (and its data plane) of the test module's own: its tasks really run."""
    emu = EmulatorProcess()
    yield emu
    emu.stop()


@pytest.fixture(scope="module")
def env(emulator):
    """boto3 clients on the test emulator, for the fidelity tests (tests/emulator/fidelity)."""
    from mylearning.emulator.fidelity.cases import Env
    return Env(emulator.url)
