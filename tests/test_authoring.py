"""Single-source authoring: labs/ is generated from solutions/ and kept in step."""
from __future__ import annotations

import json
import shutil

import pytest

from mylearning import authoring
from mylearning.authoring import AuthoringError, make_lab, strip_code, strip_markdown
from tests.nbrun import ROOT


def test_solution_block_becomes_a_placeholder_that_still_runs():
    src = "a = 1\n### BEGIN SOLUTION\nb = a + 1\n### END SOLUTION\nprint(a)"
    out = strip_code(src)
    assert out == "a = 1\n# YOUR CODE HERE\nprint(a)"
    exec(compile(out, "x", "exec"), {})


def test_indented_block_gets_pass_so_python_still_parses():
    src = "if True:\n    ### BEGIN SOLUTION\n    x = 1\n    ### END SOLUTION\ny = 2"
    out = strip_code(src)
    assert out == "if True:\n    # YOUR CODE HERE\n    pass\ny = 2"
    compile(out, "x", "exec")


def test_explicit_placeholder_lines_replace_the_block():
    src = "### BEGIN SOLUTION\n#> value = None  # YOUR CODE HERE\nvalue = 42\n### END SOLUTION"
    assert strip_code(src) == "value = None  # YOUR CODE HERE"


@pytest.mark.parametrize("src, message", [
    ("### BEGIN SOLUTION\nx", "never closed"),
    ("### END SOLUTION", "without"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "nested"),
])
def test_malformed_markers_name_the_problem(src, message):
    with pytest.raises(AuthoringError, match=message):
        strip_code(src, "nb, cell 3")


def test_markdown_solutions_and_solution_only_cells_are_dropped():
    assert strip_markdown("A\n<!-- BEGIN SOLUTION -->\nsecret\n<!-- END SOLUTION -->\nB") == "A\nB"
    with pytest.raises(AuthoringError):
        strip_markdown("<!-- BEGIN SOLUTION -->")
    nb = {"cells": [
        {"cell_type": "code", "source": "x = 1", "metadata": {"tags": ["solution-only"]},
         "outputs": [], "execution_count": None},
        {"cell_type": "code", "source": ["y = 2\n", "### BEGIN SOLUTION\n", "z\n", "### END SOLUTION"],
         "metadata": {}, "outputs": [{"output_type": "stream", "text": "secret"}], "execution_count": 3},
    ], "metadata": {}, "nbformat": 4, "nbformat_minor": 4}
    lab = make_lab(nb)
    assert len(lab["cells"]) == 1
    assert lab["cells"][0]["source"] == "y = 2\n# YOUR CODE HERE"
    assert lab["cells"][0]["outputs"] == [] and lab["cells"][0]["execution_count"] is None
    assert nb["cells"][1]["outputs"], "the input notebook must not be modified"


def test_labs_folder_is_up_to_date_with_solutions():
    problems = authoring.outdated(ROOT / "solutions", ROOT / "labs")
    assert not problems, f"run `mylearning build-labs`: {problems}"


def test_regenerating_into_a_temporary_folder_gives_identical_files(tmp_path):
    written = authoring.build_labs(ROOT / "solutions", tmp_path)
    assert written
    for path in written:
        assert path.read_text() == (ROOT / "labs" / path.name).read_text()
    (tmp_path / "99-stale.ipynb").write_text("{}")
    authoring.build_labs(ROOT / "solutions", tmp_path)
    assert not (tmp_path / "99-stale.ipynb").exists()


def test_stored_notebooks_have_no_outputs_and_labs_no_solutions():
    for folder in ("solutions", "labs"):
        for path in (ROOT / folder).glob("*.ipynb"):
            nb = json.loads(path.read_text())
            for cell in nb["cells"]:
                assert not cell.get("outputs"), f"{path.name} has stored outputs"
                assert cell.get("execution_count") is None
    for path in (ROOT / "labs").glob("*.ipynb"):
        text = path.read_text()
        assert "BEGIN SOLUTION" not in text and "#> " not in text


def test_build_labs_check_flag_reports_drift(tmp_path):
    from mylearning.cli import main
    shutil.copytree(ROOT / "solutions", tmp_path / "solutions")
    assert main(["build-labs", "--root", str(tmp_path), "--check"]) == 1
    assert main(["build-labs", "--root", str(tmp_path)]) == 0
    assert main(["build-labs", "--root", str(tmp_path), "--check"]) == 0


def test_notebook_names_follow_the_numbering_rule(tmp_path):
    (tmp_path / "lab2.ipynb").write_text("{}")
    with pytest.raises(AuthoringError, match="NN-topic"):
        authoring.solution_files(tmp_path)
