"""Where the learner's shared emulator runs: a small per-user JSON state file.

Every notebook (and every kernel restart) of one learner reads the same file,
so all of them talk to one emulator process and see one emulated account.
"""
from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class EmulatorRecord:
    url: str
    pid: int
    instance: str
    started: float


def home() -> Path:
    """The per-user folder for the course's local state (MYLEARNING_HOME overrides)."""
    return Path(os.environ.get("MYLEARNING_HOME") or Path.home() / ".mylearning")


def default_state_file() -> Path:
    return home() / "emulator.json"


def read_record(path: str | os.PathLike) -> EmulatorRecord | None:
    try:
        data = json.loads(Path(path).read_text())
        return EmulatorRecord(url=str(data["url"]), pid=int(data["pid"]),
                              instance=str(data["instance"]), started=float(data["started"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_record(path: str | os.PathLike, record: EmulatorRecord) -> None:
    """Write atomically, so a reader never sees half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".emulator-", suffix=".json")
    with os.fdopen(fd, "w") as fh:
        json.dump(asdict(record), fh)
    os.replace(tmp, path)


def clear_record(path: str | os.PathLike, pid: int) -> None:
    """Remove the file if it still describes process `pid` (a newer one may have replaced it)."""
    record = read_record(path)
    if record is not None and record.pid == pid:
        try:
            Path(path).unlink()
        except OSError:
            pass
