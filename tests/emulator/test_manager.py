"""The learner's shared emulator: started once, reused, restarted after death, and the learner told."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import boto3
import pytest

from conftest import EmulatorProcess
from mylearning.emulator import manager


def test_shared_emulator_is_started_once_reused_and_restarted_after_death(tmp_path, monkeypatch):
    monkeypatch.setenv("MYLEARNING_HOME", str(tmp_path))
    state = tmp_path / "emulator.json"
    first = manager.ensure_running(state)
    try:
        assert first.started_now and not first.reset
        again = manager.ensure_running(state)
        assert again.record == first.record and not again.started_now
        record, up = manager.status(state)
        assert up and record.pid == first.record.pid
        os.kill(first.record.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while manager.health(first.record.url, timeout=0.2) and time.monotonic() < deadline:
            time.sleep(0.1)
        third = manager.ensure_running(state)
        assert third.reset and third.record.pid != first.record.pid
    finally:
        stopped = manager.stop(state)
    assert stopped is not None
    assert manager.status(state) == (None, False)
    assert manager.stop(state) is None


def test_connect_tells_the_learner_when_their_account_was_reset(tmp_path, monkeypatch, capsys):
    from mylearning import backend
    monkeypatch.setattr(backend, "_current", None)
    monkeypatch.delenv("MYLEARNING_ENDPOINT", raising=False)
    monkeypatch.setenv("MYLEARNING_HOME", str(tmp_path))
    state = tmp_path / "emulator.json"
    try:
        s = backend.connect()
        assert "reset" not in capsys.readouterr().err
        pid = manager.status(state)[0].pid
        os.kill(pid, signal.SIGKILL)
        time.sleep(0.3)
        # Re-running the lab's first cell (connect() again) notices and recovers.
        s2 = backend.connect()
        assert "emulated account is empty again" in capsys.readouterr().err
        assert s2.endpoint != s.endpoint or manager.status(state)[0].pid != pid
    finally:
        manager.stop(state)


def test_cli_status_and_stop(tmp_path):
    env = dict(os.environ, MYLEARNING_HOME=str(tmp_path))
    env.pop("MYLEARNING_ENDPOINT", None)
    run = lambda *a: subprocess.run([sys.executable, "-m", "mylearning", "emulator", *a],
                                    capture_output=True, text=True, env=env, timeout=120)
    assert run("status").returncode == 1
    started = run("start")
    assert started.returncode == 0 and started.stdout.startswith("http://127.0.0.1:")
    status = run("status")
    assert status.returncode == 0 and "running" in status.stdout
    assert "Stopped" in run("stop").stdout
    assert run("status").returncode == 1
