"""The course invariant, through the instructor's command: solution full marks, blank lab zero."""
from __future__ import annotations

import pytest

from tests.grading.helpers import ROOT, csv_rows, grade_cli, grading_leftovers, results

LABS = [("00", "00-welcome.ipynb"), ("02", "02-cluster.ipynb")]


@pytest.mark.parametrize("lab, name", LABS)
def test_solution_full_marks_and_blank_lab_zero(tmp_path, lab, name):
    solution, blank = ROOT / "solutions" / name, ROOT / "labs" / name
    if not (solution.exists() and blank.exists()):
        pytest.skip(f"lab {lab} notebooks are not written yet")
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "solution.ipynb").write_bytes(solution.read_bytes())
    (subs / "blank.ipynb").write_bytes(blank.read_bytes())
    out = tmp_path / "out"
    proc, pid = grade_cli("--lab", lab, "--out", str(out), "--workers", "2", str(subs))
    assert proc.returncode == 0, proc.stderr
    rows = csv_rows(out)
    full = rows["solution.ipynb"]
    assert float(full["total"]) == float(full["max_total"]) > 0, full
    assert float(rows["blank.ipynb"]["total"]) == 0, rows["blank.ipynb"]
    # The blank lab runs top to bottom without an exception, and every step says what to do.
    blank_result = results(out, "blank")
    assert blank_result["extra_data"]["mylearning"]["execution"]["errors"] == []
    assert all("Hint:" in t["output"] for t in blank_result["tests"])
    assert results(out, "solution")["score"] == float(full["max_total"])
    assert grading_leftovers(pid) == []
