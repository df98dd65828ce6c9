"""The busybox image's program: the container's command through the shell, output on stdout."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from types import SimpleNamespace

from mylearning.dataplane.images import busybox


def _container(tmp_path, **kw):
    base = dict(name="tools", address="127.45.0.9", env={"STAGE": "dev"}, argv=None, root=str(tmp_path),
                mounts={}, readonly_root=False, proxy=None)
    return SimpleNamespace(**{**base, **kw})


def test_runs_the_command_and_returns_its_exit_code(tmp_path, capsys):
    c = _container(tmp_path, argv=["sh", "-c", "mkdir -p /scratch && echo ready $STAGE; exit 3"])
    assert busybox.main(c) == 3
    assert capsys.readouterr().out == "ready dev\n"
    assert (tmp_path / "scratch").is_dir()


def test_entry_point_and_command_when_no_argv(tmp_path, capsys):
    c = _container(tmp_path, entry_point=["sh", "-c"], command=["echo from-parts; false"])
    assert busybox.main(c) == 1
    assert capsys.readouterr().out == "from-parts\n"
    # The image's CMD is sh: with nothing to read it ends at once, successfully.
    assert busybox.main(_container(tmp_path)) == 0


def test_environment_attribute_and_readonly_root(tmp_path, capsys):
    volume = tmp_path / "vol"
    volume.mkdir()
    c = SimpleNamespace(name="t", address="127.45.0.9", environment={"X": "1"}, command=[
        "sh", "-c", "echo $X > /data/x && touch /nope"], root=str(tmp_path / "root"),
        mounts={"/data": str(volume)}, readonly_root=True)
    assert busybox.main(c) == 1
    assert capsys.readouterr().out == "touch: /nope: Read-only file system\n"
    assert (volume / "x").read_text() == "1\n"


def test_output_streams_before_the_command_ends(tmp_path):
    # In a child process, as the runtime runs it: the first line must reach stdout while it sleeps.
    script = textwrap.dedent(f"""
        from types import SimpleNamespace
        from mylearning.dataplane.images import busybox
        c = SimpleNamespace(name="t", address="127.0.0.1", env={{}}, root={str(tmp_path)!r},
                            argv=["sh", "-c", "echo first; sleep 3; echo second"])
        raise SystemExit(busybox.main(c))
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline() == "first\n"  # long before the 3 s sleep ends
        assert proc.poll() is None
    finally:
        proc.kill()
        proc.wait()
