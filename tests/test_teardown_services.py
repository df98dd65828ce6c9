"""Teardown of labs 03 and 04: plans first, removes only this learner's resources."""
from __future__ import annotations

import boto3

import graders
from mylearning import prepare, teardown
from mylearning.backend import EMULATOR, EMULATOR_CREDENTIALS, CourseSession


def test_teardown_removes_lab03_and_lab04_resources_of_this_learner_only(session, emulator):
    other = CourseSession(boto3.Session(region_name="us-east-1", **EMULATOR_CREDENTIALS),
                          EMULATOR, emulator.url, session.learner + "x")
    for who in (session, other):
        prepare.up_to(who, "05", quiet=True)
    plan = teardown.lab04(session)
    kinds = {a.kind for a in plan.actions}
    assert not plan.executed and {"ECS service", "load balancer", "target group",
                                  "Cloud Map namespace", "Cloud Map service"} <= kinds
    assert graders.get_lab("04").evaluate(session).total > 0  # nothing deleted yet
    for remove in (teardown.lab04, teardown.lab03):
        done = remove(session, execute=True)
        assert done.actions and all(a.status == "deleted" for a in done.actions), str(done)
    assert graders.get_lab("04").evaluate(session).total == 0
    assert graders.get_lab("03").evaluate(session).total == 0
    assert "Nothing to remove" in str(teardown.lab04(session))
    assert "Nothing to remove" in str(teardown.lab03(session))
    for number in ("03", "04"):
        report = graders.get_lab(number).evaluate(other)
        assert report.total == report.max_total, report.to_text()
