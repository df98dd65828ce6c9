"""No container outlives the process that started it, even after kill -9 of that process.

The chain is: parent dies -> the forkserver sees its lifeline close and exits -> the
kernel SIGKILLs each container (PR_SET_PDEATHSIG set by runtime.main).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil

from .conftest import free_address

_PARENT = textwrap.dedent("""
    import multiprocessing, sys, time
    from mylearning.dataplane.images import catalogue, runtime

    if __name__ == "__main__":
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(catalogue.PRELOAD)
        address, port, tmp = sys.argv[1], sys.argv[2], sys.argv[3]
        spec = runtime.ContainerSpec(name="orphan", image="public.ecr.aws/mylearning/courses-api:1.1.0",
                                     address=address, log_path=tmp + "/orphan.log", root=tmp + "/root",
                                     environment={"PORT": port, "DB_USER": "u", "DB_PASSWORD": "p"})
        process = ctx.Process(target=runtime.main, args=(spec.to_dict(),))
        process.start()
        print(process.pid, flush=True)
        time.sleep(60)
""")


def test_container_dies_when_its_parent_is_killed(tmp_path: Path) -> None:
    script = tmp_path / "parent.py"
    script.write_text(_PARENT)
    address, port = free_address()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    parent = subprocess.Popen([sys.executable, str(script), address, str(port), str(tmp_path)],
                              stdout=subprocess.PIPE, text=True, env=env)
    child_pid = None
    try:
        child_pid = int(parent.stdout.readline())  # type: ignore[union-attr]
        child = psutil.Process(child_pid)
        deadline = time.monotonic() + 10
        while "listening" not in ((tmp_path / "orphan.log").read_text() if (tmp_path / "orphan.log").exists() else ""):
            assert time.monotonic() < deadline, "container never started"
            time.sleep(0.02)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(5)
        gone, alive = psutil.wait_procs([child], timeout=10)
        assert not alive, "the container outlived its parent"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait(5)
        if child_pid and psutil.pid_exists(child_pid):
            try:
                os.kill(child_pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
