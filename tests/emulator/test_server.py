"""The `mylearning emulator` command: prints its URL first, serves AWS, refuses bad ports, names what moto lacks."""
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


def test_a_test_emulator_dies_with_the_process_that_started_it_even_on_sigkill():
    """Nothing a test starts may outlive its run: the tied emulator goes with its parent."""
    import psutil

    parent = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; sys.path.insert(0, '.'); from conftest import EmulatorProcess; "
         "e = EmulatorProcess(tied=True); print(e.proc.pid, flush=True); time.sleep(600)"],
        stdout=subprocess.PIPE, text=True, cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    child = int(parent.stdout.readline())
    assert psutil.pid_exists(child)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and psutil.pid_exists(child):
        try:
            if psutil.Process(child).status() == psutil.STATUS_ZOMBIE:
                break
        except psutil.NoSuchProcess:
            break
        time.sleep(0.1)
    assert not psutil.pid_exists(child) or psutil.Process(child).status() == psutil.STATUS_ZOMBIE


def test_hundreds_of_idle_keep_alive_connections_do_not_lock_out_new_ones():
    """waitress stops accepting at its connection limit (100 by default) and closes idle
    connections only after 120 s; the data plane's role clients keep that many open in a
    course run, and the health check then waited in the listen backlog."""
    from mylearning.emulator.server import connection_limit
    assert connection_limit() > 300
    emu = EmulatorProcess("--no-dataplane")
    held = []
    try:
        port = int(emu.url.rsplit(":", 1)[1])
        for _ in range(300):  # each sends one request and then stays open, idle
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            sock.sendall(b"GET /mylearning/health HTTP/1.1\r\nHost: x\r\n\r\n")
            assert sock.recv(12).startswith(b"HTTP/1.1 200")
            held.append(sock)
        started = time.monotonic()
        assert manager.health(emu.url)["pid"] == emu.proc.pid
        assert time.monotonic() - started < 5
    finally:
        for sock in held:
            sock.close()
        emu.stop()
