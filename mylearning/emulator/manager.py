"""Start, find, and stop the learner's shared emulator from any process.

This runs in learners' kernels, so it must not import moto: it talks to the
emulator over HTTP and starts it as a separate, detached process.
"""
from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from mylearning.emulator.server import HEALTH_PATH
from mylearning.emulator.state import (EmulatorRecord, clear_record, default_state_file, home,
                                       read_record)

START_TIMEOUT = 90.0


class EmulatorError(RuntimeError):
    """The embedded AWS could not be started or reached."""


@dataclass(frozen=True)
class Running:
    record: EmulatorRecord
    #: True when this call started it and an earlier one had died: the account is new.
    reset: bool = False
    started_now: bool = False


def health(url: str, timeout: float = 2.0) -> dict | None:
    """The emulator's health answer, or None when nothing answers at `url`."""
    try:
        with urllib.request.urlopen(url.rstrip("/") + HEALTH_PATH, timeout=timeout) as resp:
            return json.loads(resp.read().decode())
    except (OSError, ValueError, urllib.error.URLError):
        return None


def alive(record: EmulatorRecord) -> bool:
    answer = health(record.url)
    return bool(answer) and answer.get("instance") == record.instance


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock so two notebooks starting at once share one emulator."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        try:
            import fcntl
        except ImportError:  # Windows: no advisory locks; a rare double start is harmless
            yield
            return
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def spawn(state_file: Path, port: int = 0, timeout: float = START_TIMEOUT) -> EmulatorRecord:
    """Start a detached emulator that records itself in `state_file`; wait until it answers."""
    log_path = state_file.with_suffix(".log")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mylearning", "emulator", "--port", str(port),
             "--state-file", str(state_file)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,  # outlives the kernel that started it
            env={k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise EmulatorError(
                f"The embedded AWS exited while starting (code {proc.returncode}). "
                f"Its log: {log_path}\n{_tail(log_path)}")
        record = read_record(state_file)
        if record is not None and record.pid == proc.pid and alive(record):
            return record
        time.sleep(0.1)
    proc.kill()
    raise EmulatorError(f"The embedded AWS did not answer within {timeout:.0f} s. Log: {log_path}")


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def ensure_running(state_file: Path | None = None) -> Running:
    """Reuse the learner's emulator, or start one. Says whether the account was reset."""
    state_file = Path(state_file or default_state_file())
    record = read_record(state_file)
    if record is not None and alive(record):
        return Running(record)
    with _locked(state_file.with_suffix(".lock")):
        record = read_record(state_file)  # another process may have started one meanwhile
        if record is not None and alive(record):
            return Running(record)
        had_one = record is not None
        if record is not None:
            clear_record(state_file, record.pid)
        return Running(spawn(state_file), reset=had_one, started_now=True)


def status(state_file: Path | None = None) -> tuple[EmulatorRecord | None, bool]:
    """(record, is_alive) for the learner's emulator."""
    record = read_record(state_file or default_state_file())
    return record, bool(record and alive(record))


def stop(state_file: Path | None = None, timeout: float = 10.0) -> EmulatorRecord | None:
    """Stop the learner's emulator; returns what was stopped, or None if none ran."""
    state_file = Path(state_file or default_state_file())
    record = read_record(state_file)
    if record is None:
        return None
    if alive(record):
        with contextlib.suppress(ProcessLookupError):
            os.kill(record.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and health(record.url, timeout=0.5):
            time.sleep(0.1)
        if health(record.url, timeout=0.5):
            with contextlib.suppress(ProcessLookupError):
                os.kill(record.pid, signal.SIGKILL)
    clear_record(state_file, record.pid)
    return record


__all__ = ["EmulatorError", "Running", "ensure_running", "status", "stop", "health", "home"]
