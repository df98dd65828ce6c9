"""Grading where courses run it: a Gradescope bundle, and shards joined by `grade merge`."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from mylearning.grading.batch import shard_of
from mylearning.grading.discovery import discover
from tests.grading.helpers import (DATE, IDENTITY, ROOT, SETUP, SUCCESSOR, csv_rows, grade_cli,
                                   grading_leftovers, notebook, record, write)


def test_gradescope_bundle_grades_like_mylearning_grade(tmp_path):
    """run_autograder in a simulated /autograder tree gives the grade `mylearning grade` gives."""
    bundle = tmp_path / "autograder.zip"
    proc = subprocess.run([sys.executable, "-m", "mylearning", "gradescope", "--lab", "00",
                           "--out", str(bundle)], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    root = tmp_path / "autograder"
    with zipfile.ZipFile(bundle) as zf:
        names = set(zf.namelist())
        assert {"setup.sh", "run_autograder", "course/pyproject.toml",
                "course/mylearning/__init__.py", "course/graders/__init__.py"} <= names
        assert not any(n.startswith(("course/solutions", "course/labs")) for n in names)
        zf.extractall(root / "source")
    manifest = json.loads((root / "source" / "manifest.json").read_text())
    (root / "source" / "run_autograder").chmod(0o755)
    (root / "submission").mkdir(parents=True)
    write(root / "submission", "lab00.ipynb", notebook(SETUP, IDENTITY, "1 / 0", DATE))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(AUTOGRADER_ROOT=str(root), MYLEARNING_PYTHON=sys.executable)
    run = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env,
                         cwd=root, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    data = json.loads((root / "results" / "results.json").read_text())
    assert data["score"] == 2 and len(data["tests"]) == 3
    assert [t["status"] for t in data["tests"]] == ["passed", "passed", "failed"]
    rec = data["extra_data"]["mylearning"]
    assert rec["course"]["code"] == manifest["code"]  # graded by the bundled course version
    assert rec["protection"]["sandboxed"] == (rec["protection"]["landlock_abi"] >= 6)
    # The same notebook through `mylearning grade`: the same grade and configuration.
    out = tmp_path / "out"
    proc, pid = grade_cli("--lab", "00", "--out", str(out), str(root / "submission"))
    assert proc.returncode == 0, proc.stderr
    assert record(out, "lab00")["config"] == rec["config"]
    assert record(out, "lab00")["total"] == data["score"]
    assert grading_leftovers(pid) == []


def test_no_notebook_submitted_scores_zero_with_a_reason(tmp_path):
    from mylearning.grading.gradescope import run_autograder
    (tmp_path / "submission").mkdir()
    data = run_autograder("00", tmp_path)
    assert data["score"] == 0 and "No notebook" in data["output"]
    assert json.loads((tmp_path / "results" / "results.json").read_text())["score"] == 0


def test_shards_are_stable_and_cover_the_cohort(tmp_path):
    for i in range(12):
        write(tmp_path, f"s{i:02d}.ipynb", notebook(f"x = {i}"))
    subs = discover([tmp_path])
    shards = [shard_of(subs, i, 3) for i in (1, 2, 3)]
    names = [s.name for shard in shards for s in shard]
    assert sorted(names) == sorted(s.name for s in subs)  # each exactly once
    write(tmp_path, "zz_new.ipynb", notebook("y = 1"))
    again = [shard_of(discover([tmp_path]), i, 3) for i in (1, 2, 3)]
    for before, after in zip(shards, again):  # a new submission moves nobody
        assert {s.name for s in before} <= {s.name for s in after}


def test_shards_merge_into_one_gradebook_and_mixed_versions_are_refused(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    answers = [(SETUP, IDENTITY, DATE, SUCCESSOR), (SETUP, IDENTITY), (SETUP, DATE),
               (SETUP, IDENTITY, DATE)]
    for i, cells in enumerate(answers):
        write(subs, f"learner{i}.ipynb", notebook(f"# {i}", *cells))
    outs = []
    for i in (1, 2):
        out = tmp_path / f"shard{i}"
        proc, pid = grade_cli("--lab", "00", "--out", str(out), "--workers", "1",
                              "--shard", f"{i}/2", str(subs))
        assert proc.returncode == 0, proc.stderr
        assert f"Shard {i} of 2" in proc.stderr
        assert grading_leftovers(pid) == []
        outs.append(out)
    assert sum(len(csv_rows(o)) for o in outs) == 4
    merged = tmp_path / "merged"
    proc = subprocess.run([sys.executable, "-m", "mylearning", "grade", "merge", "--out",
                           str(merged), *map(str, outs)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    rows = csv_rows(merged)
    assert {k: rows[k]["total"] for k in rows} == {
        "learner0.ipynb": "3", "learner1.ipynb": "1", "learner2.ipynb": "1",
        "learner3.ipynb": "2"}
    assert "Merged from 2 shard folder(s)" in (merged / "summary.txt").read_text()
    assert record(merged, "learner0")["total"] == 3
    # A shard graded by another course version is refused, naming both versions.
    victim = next(outs[1].glob("*/results.json"))
    data = json.loads(victim.read_text())
    data["extra_data"]["mylearning"]["course"]["code"] = "0" * 16
    victim.write_text(json.dumps(data))
    from mylearning.grading.ledger import Ledger
    ledger = Ledger.open(outs[1])
    ledger.record(victim, victim.read_bytes())
    (outs[1] / ".mylearning-ledger.json").write_bytes(ledger.payload())
    proc = subprocess.run([sys.executable, "-m", "mylearning", "grade", "merge", "--out",
                           str(tmp_path / "mixed"), *map(str, outs)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "different course versions" in proc.stderr
    # A results file changed after grading (not in its ledger) is refused too.
    victim.write_text(victim.read_text().replace('"score": ', '"score": 1'))
    proc = subprocess.run([sys.executable, "-m", "mylearning", "grade", "merge", "--out",
                           str(tmp_path / "edited"), *map(str, outs)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "not the file the grader wrote" in proc.stderr
