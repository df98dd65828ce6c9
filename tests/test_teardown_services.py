"""Teardown of labs 03 and 04: plans first, removes only this learner's resources."""
from __future__ import annotations

import boto3

from mylearning import course
from mylearning import prepare, teardown
from mylearning.backend import EMULATOR, EMULATOR_CREDENTIALS, CourseSession


def test_teardown_removes_lab03_and_lab04_resources_of_this_learner_only(session, emulator):
    other = CourseSession(boto3.Session(region_name="us-east-1", **EMULATOR_CREDENTIALS),
                          EMULATOR, emulator.url, session.learner + "x")
    for who in (session, other):
        prepare.up_to(who, "05", quiet=True)
    plan = teardown.plan(session, "04")
    kinds = {a.kind for a in plan.actions}
    assert not plan.executed and {"ECS service", "load balancer", "target group",
                                  "Cloud Map namespace", "Cloud Map service"} <= kinds
    assert course.grader("04").evaluate(session).total > 0  # nothing deleted yet
    for number in ("04", "03"):
        done = teardown.plan(session, number, execute=True)
        assert done.actions and all(a.status == "deleted" for a in done.actions), str(done)
    assert course.grader("04").evaluate(session).total == 0
    assert course.grader("03").evaluate(session).total == 0
    assert "Nothing to remove" in str(teardown.plan(session, "04"))
    assert "Nothing to remove" in str(teardown.plan(session, "03"))
    for number in ("03", "04"):
        report = course.grader(number).evaluate(other)
        assert report.total == report.max_total, report.to_text()
