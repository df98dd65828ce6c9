"""Every lab's invariants: the solution scores full marks, the blank lab scores zero,
both run top to bottom, solutions are idempotent, and kernels never import moto."""
from __future__ import annotations

import uuid

import pytest

from mylearning import course
from mylearning import identity
from tests.nbrun import ROOT, outputs_text, run_notebook

LABS = sorted(p.name for p in (ROOT / "solutions").glob("*.ipynb"))
MOTO_PROBE = "import sys; print('MOTO-IMPORTED' if 'moto' in sys.modules else 'MOTO-ABSENT')"


def _session(learner: str):
    from mylearning.backend import CourseSession, EMULATOR, EMULATOR_CREDENTIALS
    import boto3, os

    return CourseSession(boto3.Session(region_name="us-east-1", **EMULATOR_CREDENTIALS),
                         EMULATOR, os.environ["MYLEARNING_ENDPOINT"], learner)


def _score(lab_number: str, learner: str):
    return course.grader(lab_number).evaluate(_session(learner))


@pytest.fixture
def fresh_learner():
    """A new learner id; its services are scaled to zero after the test (conftest.release_tasks)."""
    from conftest import release_tasks
    learner = _fresh()
    yield learner
    release_tasks(_session(learner))


def _fresh() -> str:
    return "l" + uuid.uuid4().hex[:10]


def test_every_solution_has_a_lab_and_a_grader():
    assert LABS, "no solution notebooks found"
    modules = course.graded_numbers()
    for name in LABS:
        assert (ROOT / "labs" / name).exists(), f"labs/{name} is missing"
        assert name[:2] in modules, f"graders/lab{name[:2]}_*.py is missing"


def _server_errors(emulator) -> int:
    from mylearning.emulator.manager import health
    return health(emulator.url)["server_errors"]


@pytest.mark.parametrize("name", LABS)
def test_solution_scores_full_marks_and_is_idempotent(emulator, name, fresh_learner):
    learner = fresh_learner
    errors_before = _server_errors(emulator)
    nb = run_notebook(ROOT / "solutions" / name, learner, extra_cells=[MOTO_PROBE])
    assert "MOTO-ABSENT" in outputs_text(nb), "the learner's kernel imported moto"
    report = _score(name[:2], learner)
    failed = [r.to_text() for r in report.results if not r.passed]
    assert not failed, "\n".join(failed)
    assert report.total == report.max_total > 0
    # Second run against the same account: every cell must cope with what exists.
    run_notebook(ROOT / "solutions" / name, learner)
    again = _score(name[:2], learner)
    assert again.total == report.max_total, again.to_text()
    # No valid call on the lab's path got an HTTP 500 from the emulator.
    assert _server_errors(emulator) == errors_before


@pytest.mark.parametrize("name", LABS)
def test_blank_lab_runs_and_scores_zero(emulator, name, fresh_learner):
    learner = fresh_learner
    nb = run_notebook(ROOT / "labs" / name, learner, extra_cells=[MOTO_PROBE])
    assert "MOTO-ABSENT" in outputs_text(nb)
    report = _score(name[:2], learner)
    assert report.total == 0, report.to_text()
    for result in report.results:
        assert result.hint, f"step {result.step_id} fails without telling the learner what to do"
    # The check cells in the notebook showed the failures inline.
    assert "[FAIL]" in outputs_text(nb)


def test_lab_ids_match_file_names():
    for name in LABS:
        lab = course.grader(name[:2])
        assert lab.number == identity.lab_id(name[:2])
        assert all(step.startswith(f"{int(lab.number)}.") for step in lab.steps)
