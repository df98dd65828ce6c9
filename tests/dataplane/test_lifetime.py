"""No data plane process outlives its emulator, however the emulator ends."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request

import psutil
import pytest

from conftest import EmulatorProcess
from tests.dataplane.world import World, wait_for


def _descendants(pid: int) -> list[psutil.Process]:
    return psutil.Process(pid).children(recursive=True)


@pytest.mark.parametrize("how", ["SIGTERM", "SIGKILL"])
def test_the_data_plane_and_its_containers_die_with_the_emulator(how):
    emu = EmulatorProcess()
    try:
        world = World(emu.url)
        task = world.run(world.register())
        world.wait_status(task["taskArn"], "RUNNING")
        with urllib.request.urlopen(emu.url + "/mylearning/health") as resp:
            plane = json.loads(resp.read())["dataplane"]
        assert plane["alive"] and plane["proxy"].startswith("http://127.0.0.1:")
        family = _descendants(emu.proc.pid)
        assert any(p.pid == plane["pid"] for p in family)
        assert len(family) >= 3  # the data plane, its launcher, the container
        os.kill(emu.proc.pid, getattr(signal, how))
        emu.proc.wait(15)
        gone, alive = psutil.wait_procs(family, timeout=15)
        assert not alive, f"still running after the emulator's {how}: {[p.pid for p in alive]}"
    finally:
        if emu.proc.poll() is None:
            emu.proc.kill()


def test_status_shows_the_data_plane(tmp_path):
    state = tmp_path / "emulator.json"
    env = {k: v for k, v in os.environ.items() if k != "MYLEARNING_ENDPOINT"}
    proc = subprocess.Popen([sys.executable, "-m", "mylearning", "emulator", "--port", "0",
                             "--state-file", str(state)], stdout=subprocess.PIPE, text=True, env=env)
    try:
        proc.stdout.readline()
        out = subprocess.run([sys.executable, "-m", "mylearning", "emulator", "status",
                              "--state-file", str(state)], capture_output=True, text=True, env=env)
        assert out.returncode == 0, out.stderr
        assert "data plane: pid" in out.stdout and "edge proxy http://127.0.0.1:" in out.stdout
    finally:
        proc.terminate()
        proc.wait(15)
