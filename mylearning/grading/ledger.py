"""What the grader wrote, and proof of it: the only results a resumed run trusts.

A results.json found in the output folder might not be ours: without the
sandbox a submission (or a process it left behind) could have written one, and
an instructor may have copied files in by hand. So the grader keeps a ledger in
the output folder, the SHA-256 of every results file it wrote, signed with a
key that lives in the grader's own home (`~/.mylearning/grading-ledger.key`,
mode 0600), out of every kernel's reach. Resuming reuses a stored grade only
when its bytes are in a ledger this key signed.

Shards graded on other machines were signed with other keys: `merge` checks
their files against their ledger's digests (a file changed after grading is
refused) but cannot check the signature, and says so.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import threading
from pathlib import Path

LEDGER = ".mylearning-ledger.json"


def key_path() -> Path:
    home = os.environ.get("MYLEARNING_GRADER_HOME") or str(Path.home() / ".mylearning")
    return Path(home) / "grading-ledger.key"


def signing_key() -> bytes:
    """This machine's grader key, created on first use (readable by its owner only)."""
    path = key_path()
    try:
        return bytes.fromhex(path.read_text().strip())
    except (OSError, ValueError):
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, key.hex().encode())
    finally:
        os.close(fd)
    return key


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Ledger:
    """The digests of the files the grader wrote into one output folder."""

    def __init__(self, root: Path, key: bytes | None = None):
        self.root = root
        self.key = key if key is not None else signing_key()
        self.files: dict[str, str] = {}
        #: False when a ledger was there but not signed by this key (or damaged).
        self.trusted = True
        self._lock = threading.Lock()

    @staticmethod
    def _mac(key: bytes, files: dict[str, str]) -> str:
        body = json.dumps(files, sort_keys=True).encode()
        return hmac.new(key, body, hashlib.sha256).hexdigest()

    @classmethod
    def open(cls, root: Path, key: bytes | None = None) -> "Ledger":
        """The folder's ledger if this grader signed it; else an empty one (nothing trusted)."""
        ledger = cls(root, key)
        files, mac = read_entries(root)
        if files is None:
            ledger.trusted = not (root / LEDGER).exists()
            return ledger
        if hmac.compare_digest(mac or "", cls._mac(ledger.key, files)):
            ledger.files = files
        else:
            ledger.trusted = False
        return ledger

    def record(self, path: Path, data: bytes) -> None:
        with self._lock:
            self.files[path.relative_to(self.root).as_posix()] = digest(data)

    def forget(self, path: Path) -> None:
        with self._lock:
            self.files.pop(path.relative_to(self.root).as_posix(), None)

    def trusts(self, path: Path, data: bytes) -> bool:
        """Did this grader write exactly these bytes at `path`?"""
        rel = path.relative_to(self.root).as_posix()
        known = self.files.get(rel)
        return known is not None and hmac.compare_digest(known, digest(data))

    def payload(self) -> bytes:
        with self._lock:
            files = dict(self.files)
        return (json.dumps({"version": 1, "files": files, "mac": self._mac(self.key, files)},
                           indent=1, sort_keys=True) + "\n").encode()


def read_entries(root: Path) -> tuple[dict[str, str] | None, str | None]:
    """The digests a ledger lists and its signature, unchecked (None if unreadable)."""
    try:
        data = json.loads((root / LEDGER).read_text())
        files = data["files"]
        if not isinstance(files, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                  for k, v in files.items()):
            return None, None
        return files, str(data.get("mac", ""))
    except (OSError, ValueError, KeyError, TypeError):
        return None, None
