"""Every kind of broken or hostile submission gets a grade, a clear reason, and the batch goes on.

One batch run grades all the cases at once (as an instructor's folder would
hold them), through the real command; each test then reads that case's
outputs. Lab 00's three steps are one point each, so the expected score of
each case is simply the number of answer cells that really ran.
"""
from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from tests.grading.helpers import (DATE, IDENTITY, SETUP, SUCCESSOR, csv_rows, grade_cli,
                                   grading_leftovers, notebook, record, results, write)

MARKER = "mlgradetest" + uuid.uuid4().hex[:8]
# A process that would outlive its kernel if nothing reaped it, recognisable by MARKER.
SPAWN_DETACHED = (
    "import subprocess, sys\n"
    f"subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)', '{MARKER}'],"
    " start_new_session=True)\n"
    # A double fork: the grandchild is orphaned at once.
    "import os\n"
    "if os.fork() == 0:\n"
    "    os.setsid()\n"
    "    if os.fork() == 0:\n"
    f"        os.execv(sys.executable, [sys.executable, '-c', 'import time; time.sleep(600)', '{MARKER}'])\n"
    "    os._exit(0)\n")
LIMITS = ["--cell-timeout", "4", "--timeout", "15", "--max-output-mb", "1"]


def cases(out: Path) -> dict[str, object]:
    tamper = (
        "import mylearning, mylearning.course, mylearning.notebook, mylearning.steps as eng\n"
        "from mylearning.steps import ok\n"
        "mylearning.check = lambda *a, **k: print('[PASS] all steps')\n"
        "check = mylearning.check\n"
        "mylearning.summary = lambda *a, **k: print('Lab 00: 3/3 steps, 3/3 points')\n"
        "eng.Step.evaluate = lambda self, ctx: None\n"
        "mylearning.course.grader = lambda n: None\n"
        "import mylearning.answers as answers\n"
        "answers.read_answer = lambda *a, **k: '2026-09-30'\n"
        "print('Lab 00 - Welcome: 3/3 steps, 3/3 points')\n")
    forge = json.dumps({"score": 3, "tests": [], "extra_data": {}})
    return {
        "not_json.ipynb": "this is { not JSON",
        "empty_file.ipynb": b"",
        "binary.ipynb": b"\xff\xfe\x00garbage",
        "json_list.ipynb": "[1, 2, 3]",
        "future_format.ipynb": {"nbformat": 99, "nbformat_minor": 0, "cells": [], "metadata": {}},
        "no_cells.ipynb": notebook(),
        "only_markdown.ipynb": {**notebook(), "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": "# just words"}]},
        "raises.ipynb": notebook(SETUP, IDENTITY, "1 / 0", DATE, SUCCESSOR),
        "infinite_loop.ipynb": notebook(SETUP, IDENTITY, "while True:\n    pass", DATE),
        "stubborn_loop.ipynb": notebook(SETUP, IDENTITY,
                                        "while True:\n    try:\n        while True:\n"
                                        "            pass\n    except KeyboardInterrupt:\n"
                                        "        pass", DATE),
        "kills_kernel.ipynb": notebook(SETUP, IDENTITY, "import os\nos._exit(3)", DATE),
        "sigkills_kernel.ipynb": notebook(SETUP, "import os, signal\n"
                                          "os.kill(os.getpid(), signal.SIGKILL)", DATE),
        "memory_hog.ipynb": notebook(SETUP, IDENTITY, "hog = bytearray(8 * 1024 ** 3)", DATE),
        # One print over the 1 MB cap, then a cell that would run forever: only the cap can
        # stop it before the 4 s cell limit. (A print loop floods the kernel's output buffer
        # into messages so big that, on a loaded machine, reading them outlasts that limit.)
        "huge_output.ipynb": notebook(SETUP, IDENTITY,
                                      "import time\nprint('x' * 1100000)\ntime.sleep(600)", DATE),
        "real_aws.ipynb": notebook(
            SETUP, IDENTITY,
            "import boto3\nboto3.client('sts', region_name='us-east-1').get_caller_identity()",
            "import os\nos.environ['MYLEARNING_BACKEND'] = 'aws'\n"
            "os.environ['MYLEARNING_AWS_OPT_IN'] = 'I-UNDERSTAND-THIS-COSTS-MONEY'\n"
            "mylearning.connect()",
            DATE),
        "tamper.ipynb": notebook(SETUP, IDENTITY, tamper, "check('0.2')\ncheck('0.3')",
                                 "mylearning.summary('00')", kernel="ir"),
        "writes_output.ipynb": notebook(
            SETUP, IDENTITY,
            f"open({str(out / 'grades.csv')!r}, 'w').write('submission,total\\nwrites_output,3\\n')\n"
            f"import os\nos.makedirs({str(out / 'raises')!r}, exist_ok=True)\n"
            f"open({str(out / 'raises' / 'results.json')!r}, 'w').write({forge!r})\n"
            f"open({str(out / 'planted.txt')!r}, 'w').write('hi')\n"
            "import time\ntime.sleep(0.5)"),
        "sets_env.ipynb": notebook("import os\nos.environ['MYLEARNING_LEARNER'] = 'mallory'\n"
                                   "os.environ['AWS_ACCESS_KEY_ID'] = 'AKIAFAKE'",
                                   SETUP, IDENTITY, DATE),
        "background.ipynb": notebook(SETUP, IDENTITY, SPAWN_DETACHED, DATE),
        "full.ipynb": notebook(SETUP, IDENTITY, DATE, SUCCESSOR),
        "full_copy.ipynb": notebook(SETUP, IDENTITY, DATE, SUCCESSOR),  # same bytes as full
        # Every cell within the cell limit, but together over the notebook's.
        "slow.ipynb": notebook(SETUP, IDENTITY, *["import time\ntime.sleep(3.5)"] * 6, DATE),
    }


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    subs = tmp_path_factory.mktemp("submissions")
    out = tmp_path_factory.mktemp("grades")
    for name, content in cases(out).items():
        write(subs, name, content)
    proc, pid = grade_cli("--lab", "00", "--out", str(out), "--workers", "2", *LIMITS,
                          str(subs))
    return out, proc, pid, subs


def _case(out: Path, slug: str) -> tuple[float, str]:
    rec = record(out, slug)
    text = "\n".join(rec["reasons"] + rec["notes"])
    return rec["total"], text


def test_batch_completes_with_exit_zero(batch):
    out, proc, _, subs = batch
    assert proc.returncode == 0, proc.stderr
    rows = csv_rows(out)
    assert set(rows) == {p.name for p in subs.iterdir()}
    header = (out / "grades.csv").read_text().splitlines()[0]
    assert header == "submission,0.1,0.2,0.3,total,max_total"
    assert rows["full.ipynb"]["total"] == "3" and rows["full.ipynb"]["max_total"] == "3"
    assert "Graded 22 submissions" in proc.stderr and "Pass rate per step" in proc.stderr


@pytest.mark.parametrize("slug, reason", [
    ("not_json", "not valid JSON"),
    ("empty_file", "not valid JSON"),
    ("binary", "not UTF-8"),
    ("json_list", "not a Jupyter notebook"),
    ("future_format", "format version 99"),
    ("no_cells", "no cells"),
    ("only_markdown", "no code to run"),
])
def test_unreadable_notebooks_score_zero_with_reason(batch, slug, reason):
    out = batch[0]
    total, text = _case(out, slug)
    assert total == 0
    assert reason in text
    fb = (out / slug / "feedback.md").read_text()
    assert reason in fb and "Score: 0 / 3" in fb


@pytest.mark.parametrize("slug, expected, reason", [
    ("raises", 3, "Cell 3 raised ZeroDivisionError"),
    ("infinite_loop", 2, "was interrupted and the cells after it still ran"),
    ("stubborn_loop", 1, "did not stop when interrupted"),
    ("kills_kernel", 1, "kernel died while running cell 3"),
    ("sigkills_kernel", 0, "kernel died while running cell 2"),
    ("huge_output", 1, "printed more than 1 MB of output"),
    ("memory_hog", 2, "Cell 3 raised MemoryError"),
    ("real_aws", 2, "NoCredentialsError"),
    ("real_aws", 2, "BackendError"),
    ("sets_env", 0, "stored answers as learner(s) mallory"),
    ("full", 3, ""),
    ("slow", 1, "used its whole time limit (15 s)"),
])
def test_bad_behaviour_gets_the_score_of_its_real_state(batch, slug, expected, reason):
    total, text = _case(batch[0], slug)
    assert total == expected, text
    assert reason in text


def test_identical_copies_are_graded_once_with_a_note(batch):
    out = batch[0]
    copy = record(out, "full_copy")
    assert copy["total"] == 3 and copy["sha256"] == record(out, "full")["sha256"]
    assert any("identical to full.ipynb" in n for n in copy["notes"])


def test_tampering_changes_nothing(batch):
    """Redefining check, patching graders and answers, faking output: only the real state counts."""
    out = batch[0]
    rec = record(out, "tamper")
    assert rec["total"] == 1  # only the identity answer was really stored
    assert [s["passed"] for s in rec["steps"]] == [True, False, False]
    assert rec["execution"]["errors"] == []  # the fakes ran without error; they just do not count


def test_writing_into_the_output_folder_is_undone(batch):
    """Denied by the sandbox where it applies; otherwise undone by the output guard."""
    out = batch[0]
    total, text = _case(out, "writes_output")
    assert total == 1
    if record(out, "writes_output")["protection"]["sandboxed"]:
        assert "Cell 3 raised PermissionError" in text
    else:
        assert "TAMPER" in text and "restored" in text
    assert not (out / "planted.txt").exists()
    assert csv_rows(out)["writes_output.ipynb"]["total"] == "1"
    assert results(out, "raises")["score"] == 3  # the real grade, not the forged file's
    assert "extra_data" in results(out, "raises") and results(out, "raises")["tests"]


def test_gradescope_results_format(batch):
    data = results(batch[0], "raises")
    assert set(data) >= {"score", "execution_time", "tests"}
    assert data["score"] == 3 and data["execution_time"] > 0
    assert len(data["tests"]) == 3
    for test in data["tests"]:
        assert set(test) >= {"name", "score", "max_score", "output", "visibility"}
        assert test["visibility"] == "visible" and test["max_score"] == 1


def test_no_process_outlives_the_run(batch):
    out, proc, pid, _ = batch
    assert record(out, "background")["total"] == 2
    assert "background process" in "\n".join(record(out, "background")["notes"])
    assert grading_leftovers(pid, MARKER) == []


def test_rerun_resumes_and_gives_the_same_grades(batch):
    out, first, _, subs = batch
    before = (out / "grades.csv").read_text()
    config = record(out, "full")["config"]
    proc, pid = grade_cli("--lab", "00", "--out", str(out), *LIMITS, str(subs), timeout=300)
    assert proc.returncode == 0, proc.stderr
    if record(out, "full")["config"] == config:
        assert "22 from an earlier run" in proc.stderr
    else:  # another engineer changed the course code meanwhile: a regrade, same grades
        assert "from an earlier run" not in proc.stderr
    assert (out / "grades.csv").read_text() == before
    assert grading_leftovers(pid) == []
