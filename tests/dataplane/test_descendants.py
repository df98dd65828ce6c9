"""A container's processes, found without scanning every process on the machine."""
from __future__ import annotations

import subprocess
import sys
import time

import psutil

from mylearning.dataplane.containers import descendants


def test_descendants_are_the_process_tree_psutil_sees():
    # A shell that starts two sleepers, one of which starts another: three levels.
    script = "sleep 30 & (sleep 30 & sleep 30; wait) & wait"
    top = subprocess.Popen(["sh", "-c", script])
    try:
        deadline = time.monotonic() + 10
        while len(psutil.Process(top.pid).children(recursive=True)) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        expected = {top.pid} | {c.pid for c in psutil.Process(top.pid).children(recursive=True)}
        assert len(expected) >= 5
        assert set(descendants(top.pid)) == expected
    finally:
        for proc in psutil.Process(top.pid).children(recursive=True):
            proc.kill()
        top.kill()
        top.wait()


def test_a_process_that_is_gone_has_only_itself():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    assert descendants(proc.pid) == [proc.pid]
