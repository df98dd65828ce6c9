"""No kernel, emulator, or process started by a notebook outlives an interrupted run."""
from __future__ import annotations

import signal
import subprocess
import sys
import time
import uuid

import psutil
import pytest

from tests.grading.helpers import IDENTITY, ROOT, SETUP, grading_leftovers, notebook, write


def _start(tmp_path, marker: str) -> subprocess.Popen:
    subs = tmp_path / "subs"
    subs.mkdir()
    sleeper = (f"import subprocess, sys\nsubprocess.Popen([sys.executable, '-c', "
               f"'import time; time.sleep(600)', '{marker}'], start_new_session=True)\n"
               "import time\ntime.sleep(600)")
    for i in range(2):
        write(subs, f"s{i}.ipynb", notebook(SETUP, IDENTITY, f"# {i}\n" + sleeper))
    return subprocess.Popen(
        [sys.executable, "-m", "mylearning", "grade", "--no-progress", "--lab", "00",
         "--out", str(tmp_path / "out"), "--workers", "1", "--cell-timeout", "600",
         "--timeout", "900", str(subs)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(marker: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for proc in psutil.process_iter(["cmdline"]):
            if marker in " ".join(proc.info["cmdline"] or []):
                time.sleep(0.5)
                return
        time.sleep(0.2)
    pytest.fail("the notebooks never started")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_leaves_no_process(tmp_path, signum):
    marker = "mlgradeint" + uuid.uuid4().hex[:8]
    grader = _start(tmp_path, marker)
    try:
        _wait_for(marker)
        grader.send_signal(signum)
        _, err = grader.communicate(timeout=60)
    finally:
        if grader.poll() is None:
            grader.kill()
    assert grader.returncode == 130, err
    assert "Interrupted" in err
    assert grading_leftovers(grader.pid, marker) == []


def test_killed_grader_takes_kernels_and_emulators_with_it(tmp_path):
    """Even SIGKILL: kernels watch their parent, emulators get a parent-death signal."""
    marker = "mlgradekill" + uuid.uuid4().hex[:8]
    grader = _start(tmp_path, marker)
    try:
        _wait_for(marker)
        grader.kill()
        grader.wait(30)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and grading_leftovers(grader.pid):
            time.sleep(0.5)
        assert grading_leftovers(grader.pid) == []
    finally:
        for proc in psutil.process_iter(["cmdline"]):  # the notebook's own orphans (a known limit)
            if marker in " ".join(proc.info["cmdline"] or []):
                with __import__("contextlib").suppress(psutil.Error):
                    proc.kill()
