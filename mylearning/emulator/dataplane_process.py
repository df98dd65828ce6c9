"""Starting and stopping an emulator's data plane, from the emulator's side.

The data plane (`python -m mylearning.dataplane`) is a separate process and a client of
this emulator through the AWS API; the emulator never imports it. It is started from the
emulator's main thread, so its parent-death signal fires only when the emulator itself
goes (see `mylearning.lifetime`), and it announces itself with one JSON line on its
stdout once its task agent is attached and its edge proxy listens.
"""
from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from typing import Any

READY_TIMEOUT = 60.0


class DataPlaneProcess:
    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.started = time.time()
        self.ready_info: dict[str, Any] = {}
        self.error: str | None = None
        self._ready = threading.Event()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mylearning.dataplane", "--endpoint", endpoint,
             "--parent", str(os.getpid())],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=None,
            env=dict(os.environ))
        threading.Thread(target=self._read_ready, name="dataplane-ready", daemon=True).start()

    def _read_ready(self) -> None:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        try:
            self.ready_info = json.loads(line)
        except ValueError:
            code = self.proc.poll()
            self.error = (f"the data plane exited while starting (code {code})" if code is not None
                          else f"the data plane said {line[:200]!r} instead of its ready line")
        self._ready.set()

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> bool:
        """True once the data plane is ready; on failure `error` says why."""
        if not self._ready.wait(timeout):
            self.error = f"the data plane did not start within {timeout:.0f} s"
            return False
        return self.error is None

    @property
    def proxy(self) -> str | None:
        return self.ready_info.get("proxy")

    def describe(self) -> dict[str, Any]:
        alive = self.proc.poll() is None
        return {"pid": self.proc.pid, "alive": alive, "proxy": self.proxy if alive else None,
                "ready": self._ready.is_set() and self.error is None, "error": self.error,
                "started": self.started, **{k: v for k, v in self.ready_info.items()
                                            if k not in ("proxy",)}}

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (the data plane stops its containers), then SIGKILL after `timeout`."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
