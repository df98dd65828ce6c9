"""mylearning.dataplane.shell_tools: busybox find over a container's root and mounts, on real files."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from mylearning.dataplane import shell
from tests.dataplane.conftest import TASK_ADDRESS

#: Lab 03's video-worker health check, exactly as its task definition has it.
LAB03_HEALTH_CHECK = ["CMD-SHELL", "test -n \"$(find /scratch/heartbeat -mmin -1)\" || exit 1"]


def sh(script, run_async, **kw):
    kw.setdefault("env", {})
    kw.setdefault("address", TASK_ADDRESS)
    return run_async(shell.run(["CMD-SHELL", script], **kw))


def age(path: Path, seconds: float) -> None:
    stamp = time.time() - seconds
    os.utime(path, (stamp, stamp), follow_symlinks=False)


@pytest.fixture
def tree(tmp_path: Path) -> dict:
    """root: /etc/app.conf, /var/log/a.log, /var/log/.hidden.log; volume at /data/vol:
    /data/vol/old.mp4 (2 h old), /data/vol/new.mp4, /data/vol/sub/deep.txt."""
    root, volume = tmp_path / "root", tmp_path / "volume"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "app.conf").write_text("x")
    (root / "var" / "log").mkdir(parents=True)
    (root / "var" / "log" / "a.log").write_text("log")
    (root / "var" / "log" / ".hidden.log").write_text("")
    (volume / "sub").mkdir(parents=True)
    (volume / "old.mp4").write_bytes(b"\0" * 2048)
    (volume / "new.mp4").write_bytes(b"\0" * 10)
    (volume / "sub" / "deep.txt").write_text("d")
    age(volume / "old.mp4", 2 * 3600)
    return dict(root=root, mounts={"/data/vol": volume}, readonly_root=True)


def test_find_lists_container_paths_over_root_and_mounts(run_async, tree):
    r = sh("find /", run_async, **tree)
    assert r == shell.ShellResult(0, "".join(f"{p}\n" for p in [
        "/", "/data", "/data/vol", "/data/vol/new.mp4", "/data/vol/old.mp4", "/data/vol/sub",
        "/data/vol/sub/deep.txt", "/etc", "/etc/app.conf", "/var", "/var/log", "/var/log/.hidden.log",
        "/var/log/a.log"]))
    assert str(tree["root"]) not in r.output and "volume" not in r.output
    # A path is printed as given: relative to the working directory, a trailing slash kept once.
    assert sh("cd /var; find log", run_async, **tree).output == "log\nlog/.hidden.log\nlog/a.log\n"
    assert sh("cd /var/log; find", run_async, **tree).output == ".\n./.hidden.log\n./a.log\n"
    assert sh("find /data/vol/sub/", run_async, **tree).output == "/data/vol/sub/\n/data/vol/sub/deep.txt\n"
    assert sh("find /etc/app.conf /data/vol/sub", run_async, **tree).output == (
        "/etc/app.conf\n/data/vol/sub\n/data/vol/sub/deep.txt\n")


def test_find_name_type_and_depth(run_async, tree):
    def out(args: str) -> list[str]:
        r = sh(f"find {args}", run_async, **tree)
        assert r.exit_code == 0, r
        return r.output.splitlines()

    assert out("/ -name '*.log'") == ["/var/log/.hidden.log", "/var/log/a.log"]  # * matches a dot
    assert out("/ -iname 'A.LOG'") == ["/var/log/a.log"]
    assert out("/var -type d") == ["/var", "/var/log"]
    assert out("/data -type f -name '*.mp4'") == ["/data/vol/new.mp4", "/data/vol/old.mp4"]
    assert out("/ -maxdepth 1") == ["/", "/data", "/etc", "/var"]
    assert out("/ -maxdepth 0") == ["/"]
    assert out("/data -mindepth 2 -maxdepth 2") == ["/data/vol/new.mp4", "/data/vol/old.mp4", "/data/vol/sub"]
    assert out("/data/vol ! -type d") == ["/data/vol/new.mp4", "/data/vol/old.mp4", "/data/vol/sub/deep.txt"]
    assert out("/ -name '*.txt' -o -name '*.conf'") == ["/data/vol/sub/deep.txt", "/etc/app.conf"]
    assert out("/ -name '*.conf' -print -o -name '*.txt'") == ["/etc/app.conf"]  # an explicit -print only
    assert out("/data/vol -type f '(' -name 'n*' -o -name 'd*' ')'") == [
        "/data/vol/new.mp4", "/data/vol/sub/deep.txt"]
    assert out("/data/vol -type f -size +1k") == ["/data/vol/old.mp4"]
    assert out("/data/vol -type f -size 10c") == ["/data/vol/new.mp4"]


def test_find_mmin_and_newer(run_async, tree):
    volume = tree["mounts"]["/data/vol"]
    age(volume / "sub" / "deep.txt", 150)  # 2.5 minutes
    for args, expected in {
        "-mmin -1": ["/data/vol/new.mp4"],  # younger than one minute (the directories too, below)
        "-mmin 2": ["/data/vol/sub/deep.txt"],  # 2 <= age in minutes < 3
        "-mmin +2": ["/data/vol/old.mp4"],  # at least 3 minutes
        "-mmin +120": [],  # 2 h exactly is not more than 120 whole minutes
        "-mmin +119": ["/data/vol/old.mp4"],
        "-mtime -1": ["/data/vol/new.mp4", "/data/vol/old.mp4", "/data/vol/sub/deep.txt"],
        "-newer /data/vol/old.mp4": ["/data/vol/new.mp4", "/data/vol/sub/deep.txt"],
        "-newer /data/vol/new.mp4": [],
    }.items():
        r = sh(f"find /data/vol -type f {args}", run_async, **tree)
        assert r.exit_code == 0 and r.output.splitlines() == expected, (args, r)


def test_find_errors_read_like_busybox(run_async, tree):
    r = sh("find /nope /etc; echo status=$?", run_async, **tree)
    assert r.output == "find: /nope: No such file or directory\n/etc\n/etc/app.conf\nstatus=1\n"
    assert sh("find ''", run_async, **tree) == shell.ShellResult(1, "find: : No such file or directory\n")
    for args, message in {
        "/ -name": "find: -name requires an argument\n",
        "/ -type x": "find: invalid argument 'x' to '-type'\n",
        "/ -mmin soon": "find: invalid number 'soon'\n",
        "/ -maxdepth -1": "find: invalid number '-1'\n",
        "/ -newer /missing": "find: can't stat '/missing': No such file or directory\n",
        "/ '(' -name x": "find: unpaired '('\n",
    }.items():
        assert sh(f"find {args}", run_async, **tree) == shell.ShellResult(1, message), args
    r = sh("find / -exec echo {} ';'", run_async, **tree)
    assert r.exit_code == 1 and r.output.startswith("find: unrecognized: -exec\nBusyBox v1.36.1")


def test_find_never_leaves_the_container(run_async, tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    outside = tmp_path / "host"
    (outside / "secrets").mkdir(parents=True)
    (outside / "secrets" / "key").write_text("k")
    os.symlink(outside, root / "escape")
    # The link is listed (as busybox lists it without -L) but never followed.
    assert sh("find /", run_async, root=root).output == "/\n/escape\n"
    assert sh("find / -type l", run_async, root=root).output == "/escape\n"
    r = sh("find /escape/secrets", run_async, root=root)
    assert r == shell.ShellResult(1, "find: /escape/secrets: No such file or directory\n")
    assert sh("find /../..", run_async, root=root).output == "/../..\n/../../escape\n"  # '..' stops at /
    # No root at all: an empty tree, in which mount points still exist.
    volume = tmp_path / "volume"
    volume.mkdir()
    (volume / "f").write_text("")
    assert sh("find /", run_async).output == "/\n"
    assert sh("find / -type f", run_async, mounts={"/a/b": volume}).output == "/a/b/f\n"


# ---------------------------------------------------------------- lab 03's health check

def test_the_lab03_heartbeat_health_check(run_async, tmp_path):
    root, scratch = tmp_path / "root", tmp_path / "scratch"
    root.mkdir(), scratch.mkdir()
    container = dict(env={}, address=TASK_ADDRESS, root=root, mounts={"/scratch": scratch},
                     readonly_root=True, timeout=5)
    missing = run_async(shell.run(LAB03_HEALTH_CHECK, **container))
    assert missing == shell.ShellResult(1, "find: /scratch/heartbeat: No such file or directory\n")

    heartbeat = scratch / "heartbeat"
    heartbeat.touch()
    assert run_async(shell.run(LAB03_HEALTH_CHECK, **container)) == shell.ShellResult(0, "")
    age(heartbeat, 55)
    assert run_async(shell.run(LAB03_HEALTH_CHECK, **container)).exit_code == 0
    age(heartbeat, 61)
    assert run_async(shell.run(LAB03_HEALTH_CHECK, **container)) == shell.ShellResult(1, "")
    age(heartbeat, 3600)
    assert run_async(shell.run(LAB03_HEALTH_CHECK, **container)).exit_code == 1
    heartbeat.touch()  # the worker beats again
    assert run_async(shell.run(LAB03_HEALTH_CHECK, **container)).exit_code == 0
    # Without the scratch mount the check cannot see the worker's volume.
    assert run_async(shell.run(LAB03_HEALTH_CHECK, env={}, address=TASK_ADDRESS, root=root)).exit_code == 1
