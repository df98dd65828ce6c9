"""The step registry and check rendering: clear results, never an exception at the learner."""
from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from mylearning.steps import Lab, fail, ok


class FakeSession:
    learner, prefix, region_name = "alice", "ml-alice", "us-east-1"

    def client(self, name):
        raise AssertionError("not used")

    def name(self, *parts):
        return "-".join((self.prefix,) + parts)


def make_lab():
    lab = Lab("99", "Test lab")

    @lab.step("99.1", "passes", points=2)
    def _(ctx):
        return ok("all good", "detail one")

    @lab.step("99.2", "fails", points=1)
    def _(ctx):
        return fail("not there", "create it")

    @lab.step("99.3", "raises a client error")
    def _(ctx):
        raise ClientError({"Error": {"Code": "ClusterNotFoundException", "Message": "gone"}}, "DescribeClusters")

    @lab.step("99.4", "backend down")
    def _(ctx):
        raise EndpointConnectionError(endpoint_url="http://127.0.0.1:1")

    @lab.step("99.5", "bug in check")
    def _(ctx):
        return {}["missing"]

    @lab.step("99.6", "returns the wrong type")
    def _(ctx):
        return True
    return lab


def test_steps_are_validated_when_declared():
    lab = Lab(42, "x")
    assert lab.number == "42"
    with pytest.raises(ValueError, match="must look like '42.N'"):
        lab.step("43.1", "wrong lab")
    with pytest.raises(ValueError):
        lab.step("42.x", "not a number")
    with pytest.raises(ValueError, match="positive"):
        lab.step("42.1", "free", points=0)
    lab.step("42.1", "ok")(lambda ctx: ok("x"))
    with pytest.raises(ValueError, match="twice"):
        lab.step("42.1", "again")
    with pytest.raises(ValueError, match="hint"):
        fail("no hint", "")


def test_evaluation_turns_every_problem_into_a_failed_step_with_a_hint():
    report = make_lab().evaluate(FakeSession())
    results = report.by_id()
    assert results["99.1"].passed and results["99.1"].points == 2
    assert not results["99.2"].passed and results["99.2"].points == 0
    assert "ClusterNotFoundException" in results["99.3"].message
    assert "first cell" in results["99.4"].hint
    assert "KeyError" in results["99.5"].message
    assert "Outcome" in results["99.6"].message
    for r in report.results[1:]:
        assert not r.passed and r.hint
    assert report.total == 2 and report.max_total == 7


def test_rendering_text_and_html():
    report = make_lab().evaluate(FakeSession(), ["99.1", "99.2"])
    passed, failed = report.results
    assert passed.to_text().startswith("[PASS] Step 99.1 passes: 2/2 points")
    assert "- detail one" in passed.to_text()
    assert "Hint: create it" in failed.to_text()
    html = failed._repr_html_()
    assert "Hint:" in html and "create it" in html and "0/1" in html
    summary_html = report._repr_html_()
    assert "1/2 steps" in summary_html and "2/3 points" in summary_html
    assert "1/2 steps, 2/3 points" in report.to_text()


def test_html_escapes_messages():
    lab = Lab("98", "x")
    lab.step("98.1", "<b>title</b>")(lambda ctx: fail("<script>", "<i>"))
    html = lab.evaluate(FakeSession()).results[0]._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_a_lab_refuses_to_evaluate_steps_it_does_not_have():
    with pytest.raises(KeyError):
        make_lab().evaluate(FakeSession(), ["99.9"])
