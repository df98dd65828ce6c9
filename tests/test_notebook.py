"""Check cells: `check("N.M")` and `summary(N)` answer with a result or a usage message, never an exception."""
from __future__ import annotations

from mylearning import course
from mylearning.notebook import DEFERRED_VAR, check, summary
from tests.test_steps import FakeSession

LAST = course.numbers()[-1]
FIRST_STEP = next(iter(course.grader(LAST).steps))
MAJOR = str(int(LAST))


def test_unknown_steps_and_labs_give_usage_messages_not_exceptions():
    result = check("99.1", session=FakeSession())
    assert not result.passed and "no lab 99" in result.message.lower()
    result = check(f"{MAJOR}.99", session=FakeSession())
    assert "no step" in result.message and FIRST_STEP in result.message
    assert "step id" in check("banana", session=FakeSession()).message.lower()
    assert not summary("99", session=FakeSession()).passed


def test_the_registry_finds_every_lab_by_number_and_by_step():
    for number in course.numbers():
        assert course.grader(int(number)) is course.grader(number)
        for step_id in course.grader(number).steps:
            assert course.lab_of_step(step_id).number == number


def test_checks_are_deferred_in_grading_kernels(monkeypatch):
    """In a grader's kernel, check cells make no API calls (the grader checks afterwards)."""
    monkeypatch.setenv(DEFERRED_VAR, "1")
    result = check(FIRST_STEP, session=FakeSession())  # FakeSession.client would raise if called
    assert "grader" in result.message and result.step_id == FIRST_STEP
    assert "grader" in summary(LAST, session=FakeSession()).message
    assert not check("99.9", session=FakeSession()).message.startswith("Checked")
