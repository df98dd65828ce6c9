"""Fast tests of the grading pipeline's parts: no kernel, no emulator."""
from __future__ import annotations

import json

import pytest

from mylearning.grading import notebooks
from mylearning.grading.discovery import DiscoveryError, discover
from mylearning.grading.limits import Limits
from mylearning.grading.outputs import OutputGuard, grades_csv, results_json
from mylearning.grading.records import Grade, config_key, find_previous
from mylearning.grading.sandbox import GRADING_LEARNER, kernel_env
from mylearning.steps import StepResult
from tests.grading.helpers import notebook, write


def _grade(name="a.ipynb", points=(1.0, 0.0)) -> Grade:
    steps = [StepResult(f"0.{i + 1}", f"step {i + 1}", p, 1.0, p > 0, "msg", "" if p else "do X")
             for i, p in enumerate(points)]
    return Grade(submission=name, slug=name.removesuffix(".ipynb"), path=name, sha256="abc",
                 lab="00", config="cfg", steps=steps, timings={"total": 1.5})


def test_discovery_names_skips_and_excludes(tmp_path):
    subs = tmp_path / "subs"
    (subs / "sec1").mkdir(parents=True)
    (subs / ".ipynb_checkpoints").mkdir()
    (subs / "out").mkdir()
    for rel in ("alice.ipynb", "sec1/bob.ipynb", ".ipynb_checkpoints/alice-checkpoint.ipynb",
                "out/x.ipynb", "notes.txt"):
        (subs / rel).write_text("{}")
    other = tmp_path / "other"
    other.mkdir()
    (other / "alice.ipynb").write_text("{}")
    (other / "grades.csv.ipynb").write_text("[]")
    found = discover([subs, other / "alice.ipynb", other / "grades.csv.ipynb", subs / "alice.ipynb"],
                     exclude=subs / "out")
    assert [s.name for s in found] == ["alice.ipynb", "sec1/bob.ipynb",
                                       (other / "alice.ipynb").as_posix(), "grades.csv.ipynb"]
    assert [s.slug for s in found][1] == "sec1__bob"
    assert found[3].slug == "_grades.csv"  # never clashes with the gradebook file
    assert found[0].sha256 == found[2].sha256  # same content, same key
    with pytest.raises(DiscoveryError):
        discover([tmp_path / "missing.ipynb"])


def test_notebook_reading(tmp_path):
    v3 = {"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [
        {"cells": [{"cell_type": "code", "input": "x = 1", "outputs": [], "language": "python"}]}]}
    program = notebooks.load(write(tmp_path, "v3.ipynb", v3), 10_000)
    assert program.cells == [(0, "x = 1")] and "Converted" in program.notes[0]
    listed = notebook("a = 1\n", "", "b = 2")
    listed["cells"][0]["source"] = ["a = 1\n", "c = 3"]
    assert [src for _, src in notebooks.load(write(tmp_path, "l.ipynb", listed), 10_000).cells] \
        == ["a = 1\nc = 3", "b = 2"]
    for content, reason in [({"nbformat": "4", "cells": []}, "not a number"),
                            ({"nbformat": 2, "cells": []}, "too old"),
                            ({"cells": []}, "no 'nbformat'")]:
        with pytest.raises(notebooks.NotebookProblem, match=reason):
            notebooks.load(write(tmp_path, "bad.ipynb", content), 10_000)
    with pytest.raises(notebooks.NotebookProblem, match="over the"):
        notebooks.load(write(tmp_path, "big.ipynb", "x" * 2_000_000), 1_000_000)


def test_kernel_environment_has_no_credentials(tmp_path):
    base = {"PATH": "/bin", "AWS_ACCESS_KEY_ID": "AKIA", "AWS_SECRET_ACCESS_KEY": "s",
            "AWS_PROFILE": "prod", "AWS_SESSION_TOKEN": "t", "GITHUB_TOKEN": "g",
            "MYLEARNING_BACKEND": "aws", "MYLEARNING_AWS_OPT_IN": "I-UNDERSTAND-THIS-COSTS-MONEY",
            "HOME": "/root", "LC_ALL": "C"}
    env = kernel_env("http://127.0.0.1:1", tmp_path, "tag", base=base)
    assert {k for k in env if k.startswith("AWS_")} == {
        "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_EC2_METADATA_DISABLED"}
    assert env["AWS_CONFIG_FILE"] == env["AWS_SHARED_CREDENTIALS_FILE"] == "/dev/null"
    assert env["MYLEARNING_BACKEND"] == "emulator" and "MYLEARNING_AWS_OPT_IN" not in env
    assert env["MYLEARNING_LEARNER"] == GRADING_LEARNER and env["HOME"] == str(tmp_path)
    assert "GITHUB_TOKEN" not in env and env["LC_ALL"] == "C" and env["PATH"] == "/bin"


def test_gradebook_and_gradescope_format():
    text = grades_csv([_grade("b.ipynb", (1, 1)), _grade("a.ipynb")], ["0.1", "0.2"]).decode()
    assert text.splitlines() == ["submission,0.1,0.2,total,max_total", "a.ipynb,1,0,1,2",
                                 "b.ipynb,1,1,2,2"]
    data = json.loads(results_json(_grade()))
    assert data["score"] == 1 and data["execution_time"] == 1.5
    assert [t["score"] for t in data["tests"]] == [1, 0]
    assert "Hint: do X" in data["tests"][1]["output"]
    assert all(t["visibility"] == "visible" for t in data["tests"])


def test_records_resume_only_for_same_content_and_config(tmp_path):
    path = tmp_path / "results.json"
    path.write_bytes(results_json(_grade()))
    again = find_previous(path, "abc", "cfg")
    assert again is not None and again.resumed and again.total == 1
    assert find_previous(path, "other", "cfg") is None
    assert find_previous(path, "abc", "other") is None
    assert config_key("00", Limits(), "f") != config_key("00", Limits(cell_timeout=1), "f")


def test_output_guard_restores_what_a_notebook_changed(tmp_path):
    out = tmp_path / "out"
    guard = OutputGuard(out)
    guard.write(out / "a" / "results.json", b"real")
    assert guard.verify() == []
    (out / "a" / "results.json").write_bytes(b"forged!")
    (out / "planted.txt").write_text("x")
    changes = guard.verify()
    assert sorted(changes) == ["added planted.txt", "changed a/results.json"]
    assert (out / "a" / "results.json").read_bytes() == b"real"
    assert not (out / "planted.txt").exists()
    (out / "a" / "results.json").unlink()
    assert guard.verify() == ["deleted a/results.json"]
    assert (out / "a" / "results.json").read_bytes() == b"real"


@pytest.mark.parametrize("argv, message", [
    (["--lab", "77", "--out", "OUT", "SUBS"], "There is no lab 77"),
    (["--lab", "00", "--out", "OUT", "MISSING"], "No such file or folder"),
    (["--lab", "00", "--out", "OUT", "EMPTY"], "No notebooks found"),
    (["--lab", "00", "SUBS"], "--out DIR"),
    (["--lab", "00", "--live", "SUBS"], "takes no SUBMISSION"),
])
def test_usage_errors_exit_2(tmp_path, capsys, argv, message):
    from mylearning.cli import main
    (tmp_path / "SUBS").mkdir()
    (tmp_path / "SUBS" / "a.ipynb").write_text("{}")
    (tmp_path / "EMPTY").mkdir()
    argv = [str(tmp_path / a) if a.isupper() and a not in ("OUT",) else a for a in argv]
    argv = [str(tmp_path / "out") if a == "OUT" else a for a in argv]
    assert main(["grade", "--no-progress", *argv]) == 2
    assert message in capsys.readouterr().err


def test_live_report_reads_the_current_backend(session, capsys):
    from mylearning.answers import record_answer
    from mylearning.cli import main
    record_answer("00", "appmesh_end_of_support", "2026-09-30", session=session)
    assert main(["grade", "--live", "--lab", "00"]) == 0
    out = capsys.readouterr().out
    assert "1/3 steps, 1/3 points" in out and "[PASS] Step 0.2" in out


def test_resume_reuses_same_content_unless_forced(tmp_path):
    from mylearning import course
    from mylearning.grading.batch import Batch, GradingOptions

    path = write(tmp_path, "a.ipynb", notebook("x = 1"))
    subs = discover([path])
    out = tmp_path / "out"

    def batch(force: bool) -> Batch:
        b = Batch(course.grader("00"), "00", subs,
                  GradingOptions(lab="00", out=out, force=force, progress=False))
        b.book.open()
        return b

    earlier = batch(False)
    grade = Grade(submission="old-name.ipynb", slug="old-name", path="x", sha256=subs[0].sha256,
                  lab="00", config=earlier.config, steps=_grade().steps)
    (out / "old-name").mkdir(parents=True)
    (out / "old-name" / "results.json").write_bytes(results_json(grade))
    assert earlier.resume() == subs  # not written by the grader (not in its ledger): untrusted
    assert any("not written by this grader" in w for w in earlier.book.warnings)
    earlier = batch(False)
    earlier.book.guard.write(out / "old-name" / "results.json", results_json(grade))
    assert earlier.resume() == []  # the grader's own record: found by content hash, renamed
    assert earlier.book.grades["a.ipynb"].resumed and earlier.book.grades["a.ipynb"].total == 1
    assert (out / "a" / "results.json").exists()
    assert batch(True).resume() == subs


def test_kernels_prewarm_the_clients_the_labs_master_notebook_uses():
    from mylearning.grading.execution import services_of_lab
    assert services_of_lab("02") == ("autoscaling", "ec2", "ecs", "ssm")
    assert services_of_lab("99") == ()


SWEEP = r"""
import os, subprocess, sys, time
from mylearning.grading.sandbox import TAG_VAR, Reaper
reaper = Reaper()
sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
kernels = subprocess.Popen(sleeper, env={**os.environ, TAG_VAR: reaper.new_tag()})
emulators = subprocess.Popen(sleeper, env={k: v for k, v in os.environ.items() if k != TAG_VAR})
time.sleep(0.3)
blamed = reaper.sweep()
for proc in (kernels, emulators):
    proc.wait(timeout=10)  # killed (and reaped by the reaper): no 60 s sleep
print(blamed == [kernels.pid], "stopped")
"""


def test_a_sweep_kills_every_orphan_but_blames_a_kernel_only_for_its_own(tmp_path):
    """What a replaced emulator leaves (no kernel tag) is killed, not counted as the
    submission's background process. Run apart: a reaper makes its process a subreaper."""
    import os
    import subprocess
    import sys
    env = {k: v for k, v in os.environ.items() if k != "MYLEARNING_GRADING_TAG"}
    out = subprocess.run([sys.executable, "-c", SWEEP], capture_output=True, text=True,
                         timeout=60, env=env, cwd=str(tmp_path)).stdout.split()
    assert out == ["True", "stopped"], out
