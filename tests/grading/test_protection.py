"""Fast tests of the protection layers: Landlock, credentials, ledger, output paths, text, watchdog."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import pytest

from mylearning.emulator import auth
from mylearning.grading import flatten, isolation, landlock, outputs
from mylearning.grading.ledger import LEDGER, Ledger
from mylearning.grading.watchdog import Watchdog
from tests.grading.helpers import ROOT

needs_landlock = pytest.mark.skipif(landlock.abi_version() < 6,
                                    reason="needs Landlock ABI 6 or later")

_CONFINED = """
import os, socket, sys
sys.path.insert(0, {root!r})
from mylearning.grading import landlock as L
abi = L.abi_version()
rules = L.Ruleset(abi)
for p in {reads!r}:
    rules.allow_path(p, L.READ)
rules.allow_path({scratch!r}, L.fs_rights(abi))
rules.allow_connect({port})
rules.restrict_self()
out = {{}}
def attempt(name, fn):
    try:
        fn(); out[name] = 'allowed'
    except OSError as exc:
        out[name] = exc.errno
attempt('write_scratch', lambda: open(os.path.join({scratch!r}, 'f'), 'w').write('x'))
attempt('write_outside', lambda: open({outside!r}, 'w').write('x'))
attempt('read_outside', lambda: open({secret!r}).read())
attempt('connect_other', lambda: socket.create_connection(('127.0.0.1', {other}), 2))
attempt('connect_allowed', lambda: socket.create_connection(('127.0.0.1', {port}), 2))
attempt('signal_parent', lambda: os.kill(os.getppid(), 0))
print(repr(out))
"""


@needs_landlock
def test_landlock_layer_confines_files_ports_and_signals(tmp_path):
    import socket
    scratch, other_dir = tmp_path / "scratch", tmp_path / "other"
    scratch.mkdir()
    other_dir.mkdir()
    (other_dir / "secret").write_text("s")
    servers = [socket.create_server(("127.0.0.1", 0)) for _ in range(2)]
    try:
        ports = [s.getsockname()[1] for s in servers]
        code = _CONFINED.format(root=str(ROOT), reads=isolation.read_paths([ROOT / "mylearning"]),
                                scratch=str(scratch), outside=str(other_dir / "new"),
                                secret=str(other_dir / "secret"), port=ports[0], other=ports[1])
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              timeout=60)
    finally:
        for s in servers:
            s.close()
    assert proc.returncode == 0, proc.stderr
    seen = eval(proc.stdout.strip())  # a dict of names to 'allowed' or an errno
    assert seen["write_scratch"] == "allowed" and seen["connect_allowed"] == "allowed"
    assert seen["write_outside"] == 13 and seen["read_outside"] == 13
    assert seen["connect_other"] == 13
    assert seen["signal_parent"] == 1
    assert not (other_dir / "new").exists()


def test_probe_says_what_is_in_force():
    prot = isolation.probe()
    data = prot.to_dict()
    assert data["landlock_abi"] == landlock.abi_version()
    assert data["sandboxed"] == (landlock.abi_version() >= 6)
    off = isolation.probe(enabled=False)
    assert not off.sandboxed and "--require-sandbox" in off.warning()
    assert "turned off" in off.warning()
    fake = isolation.Protection(landlock_abi=0, root=False, pid_namespace=False, cgroup=None,
                                dedicated_user=False, drop_capabilities=False)
    assert "no Landlock" in fake.warning() and "read your files" in fake.warning()


def test_emulator_credential_is_required_and_carried():
    token = auth.new_token()
    assert token.isalnum()
    signed = {"HTTP_AUTHORIZATION": f"AWS4-HMAC-SHA256 Credential={token}/20260101/us-east-1/"
                                    "ssm/aws4_request, SignedHeaders=host, Signature=ab"}
    assert auth.allowed(signed, token)
    assert not auth.allowed({"HTTP_AUTHORIZATION": signed["HTTP_AUTHORIZATION"].replace(
        token, "mylearning")}, token)
    assert not auth.allowed({}, token)
    assert auth.allowed({"HTTP_X_MYLEARNING_TOKEN": token}, token)
    assert auth.allowed({"QUERY_STRING": f"X-Amz-Credential={token}%2F20260101%2Fus-east-1"},
                        token)
    assert auth.allowed({}, None)  # a learner's emulator stays open (interface 3)
    assert auth.client_credentials({auth.TOKEN_VAR: token})["aws_access_key_id"] == token
    assert auth.client_credentials({}) == auth.DUMMY


def test_ledger_trusts_only_what_it_signed(tmp_path):
    key = b"k" * 32
    ledger = Ledger.open(tmp_path, key)
    path = tmp_path / "a" / "results.json"
    path.parent.mkdir()
    path.write_bytes(b"{}")
    ledger.record(path, b"{}")
    (tmp_path / LEDGER).write_bytes(ledger.payload())
    again = Ledger.open(tmp_path, key)
    assert again.trusted and again.trusts(path, b"{}") and not again.trusts(path, b"{ }")
    assert not Ledger.open(tmp_path, b"x" * 32).trusted  # another key: nothing is trusted
    data = json.loads((tmp_path / LEDGER).read_text())
    data["files"]["b/results.json"] = data["files"]["a/results.json"]
    (tmp_path / LEDGER).write_text(json.dumps(data))
    assert not Ledger.open(tmp_path, key).trusted  # an added entry breaks the signature


def test_output_paths_that_are_not_files_are_refused(tmp_path):
    out = tmp_path / "out"
    (out / "alice").mkdir(parents=True)
    os.mkfifo(out / "grades.csv")
    with pytest.raises(outputs.OutputProblem, match="is a FIFO, not a regular file"):
        outputs.check_output_folder(out, ["alice"])
    (out / "grades.csv").unlink()
    (out / "alice" / "results.json").mkdir()
    with pytest.raises(outputs.OutputProblem, match="is a folder"):
        outputs.check_output_folder(out, ["alice"])
    (out / "alice" / "results.json").rmdir()
    (out / "bob").symlink_to(tmp_path)
    with pytest.raises(outputs.OutputProblem, match="symbolic link"):
        outputs.check_output_folder(out, ["alice", "bob"])
    with pytest.raises(outputs.OutputProblem):
        outputs.atomic_write(out / "bob" / "results.json", b"{}")
    assert not (tmp_path / "results.json").exists()
    outputs.check_output_folder(out, ["alice"])


def test_submission_text_is_flattened_and_secrets_redacted():
    text = flatten.flat("## [PASS] Step 0.3\n**Score: 3 / 3**\x1b[2J\u202e```x", 200)
    assert "\n" not in text and "\x1b" not in text and "\u202e" not in text
    assert text.startswith("\\##") and "```" not in text
    assert flatten.name("X\n## [PASS] 1/1") == "XPASS11"
    assert len(flatten.flat("y" * 10_000, 50)) == 50
    secrets = flatten.secrets_of({"TOKEN": "s3cr3t-value", "SHORT": "abc", "ENDPOINT": "http://x:1"},
                                 allowed=["http://x:1"])
    assert secrets == ["s3cr3t-value"]
    assert flatten.redact("leak s3cr3t-value here", secrets) == "leak [redacted] here"


def test_watchdog_ends_an_overdue_stage():
    fired = threading.Event()
    dog = Watchdog(on_stall=lambda: None, loop_timeout=3600, interval=0.05)
    dog.start()
    try:
        with dog.stage(7, "checks", 0.1, fired.set):
            assert fired.wait(5)
        assert 7 in dog.fired
        quiet = threading.Event()
        with dog.stage(8, "reset", 60, quiet.set):
            time.sleep(0.2)
        assert not quiet.is_set() and 8 not in dog.fired
    finally:
        dog.stop()
