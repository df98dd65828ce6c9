"""Processes that must not outlive whoever started them.

The data plane dies with its emulator, and each container with the data plane's
launcher: Linux delivers a parent-death signal (prctl PR_SET_PDEATHSIG) even when the
parent is killed with SIGKILL. The signal is tied to the *thread* that forked the child,
so parents start such children from their main thread. A watch thread that polls the
parent covers other systems and the moment before prctl took effect.
"""
from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading
import time

_PR_SET_PDEATHSIG = 1


def parent_death_signal(sig: int = signal.SIGTERM) -> bool:
    """Ask the kernel to send `sig` to this process when its parent dies (Linux only)."""
    if not sys.platform.startswith("linux"):
        return False
    with contextlib.suppress(OSError, AttributeError):
        return ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    return False


def die_with_parent(parent_pid: int, sig: int = signal.SIGTERM, poll: float = 0.5) -> None:
    """In a child process: receive `sig` when `parent_pid` dies; exit now if it already has."""
    parent_death_signal(sig)
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(poll)
            if os.getppid() != parent_pid:
                os.kill(os.getpid(), sig)
                time.sleep(5)
                os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
