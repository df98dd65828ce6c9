"""The step registry and check rendering: clear results, never an exception at the learner."""
from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from mylearning import course
from mylearning.steps import Lab, fail, ok
from mylearning.notebook import check, summary


class FakeSession:
    learner, prefix, region_name = "alice", "ml-alice", "us-east-1"

    def client(self, name):
        raise AssertionError("not used")

    def name(self, *parts):
        return "-".join((self.prefix,) + parts)


def make_lab():
    lab = Lab("07", "Test lab")

    @lab.step("7.1", "passes", points=2)
    def _(ctx):
        return ok("all good", "detail one")

    @lab.step("7.2", "fails", points=1)
    def _(ctx):
        return fail("not there", "create it")

    @lab.step("7.3", "raises a client error")
    def _(ctx):
        raise ClientError({"Error": {"Code": "ClusterNotFoundException", "Message": "gone"}}, "DescribeClusters")

    @lab.step("7.4", "backend down")
    def _(ctx):
        raise EndpointConnectionError(endpoint_url="http://127.0.0.1:1")

    @lab.step("7.5", "bug in check")
    def _(ctx):
        return {}["missing"]

    @lab.step("7.6", "returns the wrong type")
    def _(ctx):
        return True
    return lab


def test_steps_are_validated_when_declared():
    lab = Lab(3, "x")
    assert lab.number == "03"
    with pytest.raises(ValueError, match="must look like '3.N'"):
        lab.step("4.1", "wrong lab")
    with pytest.raises(ValueError):
        lab.step("3.x", "not a number")
    with pytest.raises(ValueError, match="positive"):
        lab.step("3.1", "free", points=0)
    lab.step("3.1", "ok")(lambda ctx: ok("x"))
    with pytest.raises(ValueError, match="twice"):
        lab.step("3.1", "again")
    with pytest.raises(ValueError, match="hint"):
        fail("no hint", "")


def test_evaluation_turns_every_problem_into_a_failed_step_with_a_hint():
    report = make_lab().evaluate(FakeSession())
    results = report.by_id()
    assert results["7.1"].passed and results["7.1"].points == 2
    assert not results["7.2"].passed and results["7.2"].points == 0
    assert "ClusterNotFoundException" in results["7.3"].message
    assert "first cell" in results["7.4"].hint
    assert "KeyError" in results["7.5"].message
    assert "Outcome" in results["7.6"].message
    for r in report.results[1:]:
        assert not r.passed and r.hint
    assert report.total == 2 and report.max_total == 7


def test_rendering_text_and_html():
    report = make_lab().evaluate(FakeSession(), ["7.1", "7.2"])
    passed, failed = report.results
    assert passed.to_text().startswith("[PASS] Step 7.1 passes: 2/2 points")
    assert "- detail one" in passed.to_text()
    assert "Hint: create it" in failed.to_text()
    html = failed._repr_html_()
    assert "Hint:" in html and "create it" in html and "0/1" in html
    summary_html = report._repr_html_()
    assert "1/2 steps" in summary_html and "2/3 points" in summary_html
    assert "1/2 steps, 2/3 points" in report.to_text()


def test_html_escapes_messages():
    lab = Lab("08", "x")
    lab.step("8.1", "<b>title</b>")(lambda ctx: fail("<script>", "<i>"))
    html = lab.evaluate(FakeSession()).results[0]._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_unknown_steps_and_labs_give_usage_messages_not_exceptions():
    result = check("99.1", session=FakeSession())
    assert not result.passed and "no lab 99" in result.message.lower()
    result = check("2.99", session=FakeSession())
    assert "no step" in result.message and "2.1" in result.message
    assert "step id" in check("banana", session=FakeSession()).message.lower()
    assert not summary("99", session=FakeSession()).passed
    with pytest.raises(KeyError):
        make_lab().evaluate(FakeSession(), ["7.9"])


def test_registry_finds_labs_by_number_and_step():
    assert "00" in course.graded_numbers() and "02" in course.graded_numbers()
    assert course.grader(2) is course.grader("02")
    assert course.lab_of_step("2.3").number == "02"
    assert course.lab_of_step("0.1").number == "00"


def test_checks_against_the_emulator_go_red_to_green(session):
    """A real step: failing with a hint before, passing after the learner's action."""
    from mylearning import record_answer
    before = check("0.2", session)
    assert not before.passed and "YYYY-MM-DD" in before.hint
    record_answer("00", "appmesh_end_of_support", "2026-13-01", session=session)
    assert "not the date" in check("0.2", session).message
    record_answer("00", "appmesh_end_of_support", "2026-09-30", session=session)
    assert check("0.2", session).passed


def test_checks_are_deferred_in_grading_kernels(monkeypatch):
    """In a grader's kernel, check cells make no API calls (the grader checks afterwards)."""
    from mylearning import notebook
    monkeypatch.setenv(notebook.DEFERRED_VAR, "1")
    result = check("2.1", session=FakeSession())  # FakeSession.client would raise if called
    assert "grader" in result.message and result.step_id == "2.1"
    assert "grader" in summary("02", session=FakeSession()).message
    assert not check("9.9", session=FakeSession()).message.startswith("Checked")
