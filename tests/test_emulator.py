"""The emulator command and the learner's shared background emulator."""
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


def test_command_prints_url_first_and_serves_aws_apis():
    emu = EmulatorProcess()
    try:
        assert emu.url.startswith("http://127.0.0.1:")
        port = int(emu.url.rsplit(":", 1)[1])
        assert port > 0
        s = boto3.Session(aws_access_key_id="anything", aws_secret_access_key="dummy",
                          region_name="eu-west-1")
        ecs = s.client("ecs", endpoint_url=emu.url)
        ecs.create_cluster(clusterName="c1")
        assert [c["clusterName"] for c in ecs.describe_clusters(clusters=["c1"])["clusters"]] == ["c1"]
        assert s.client("sts", endpoint_url=emu.url).get_caller_identity()["Account"]
        assert manager.health(emu.url)["pid"] == emu.proc.pid
        assert manager.health(emu.url)["server_errors"] == 0
        emu.reset()
        assert ecs.list_clusters()["clusterArns"] == []
    finally:
        emu.stop()
    assert emu.proc.returncode is not None


def test_command_on_a_busy_port_fails_clearly():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        proc = subprocess.run([sys.executable, "-m", "mylearning", "emulator", "--port", str(port),
                               "--no-prewarm"], capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "in use" in proc.stderr


def test_bad_port_is_rejected():
    proc = subprocess.run([sys.executable, "-m", "mylearning", "emulator", "--port", "70000"],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2 and "0-65535" in proc.stderr


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


def test_missing_operations_are_named_and_counted_not_anonymous_500s():
    """moto lacks some operations; the learner hears which, and tests can see the count."""
    from botocore.config import Config
    from botocore.exceptions import ClientError

    emu = EmulatorProcess("--no-prewarm")
    try:
        ecs = boto3.Session(aws_access_key_id="x", aws_secret_access_key="x",
                            region_name="us-east-1").client(
            "ecs", endpoint_url=emu.url, config=Config(retries={"max_attempts": 1}))
        ecs.create_cluster(clusterName="c")
        # UpdateClusterSettings is answered (through UpdateCluster), not a 500.
        ecs.update_cluster_settings(cluster="c", settings=[{"name": "containerInsights", "value": "enabled"}])
        settings = ecs.describe_clusters(clusters=["c"], include=["SETTINGS"])["clusters"][0]["settings"]
        assert settings == [{"name": "containerInsights", "value": "enabled"}]
        assert manager.health(emu.url)["server_errors"] == 0
        with pytest.raises(ClientError) as err:
            ecs.get_task_protection(cluster="c")
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501
        assert "does not implement" in err.value.response["Error"]["Message"]
        assert manager.health(emu.url)["server_errors"] == 1
    finally:
        emu.stop()
