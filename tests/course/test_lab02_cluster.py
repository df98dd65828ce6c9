"""Lab 02's builder and teardown: the network and cluster, removed for this learner only."""
from __future__ import annotations

import boto3

from mylearning import course, prepare, teardown
from mylearning.backend import EMULATOR, EMULATOR_CREDENTIALS, CourseSession


def test_teardown_plans_then_removes_only_the_learners_network_and_cluster(session, emulator):
    prepare.foundation(session)
    other = CourseSession(boto3.Session(region_name="us-east-1", **EMULATOR_CREDENTIALS),
                          EMULATOR, emulator.url, session.learner + "x")
    prepare.foundation(other)
    plan = teardown.plan(session, "02")
    kinds = [a.kind for a in plan.actions]
    assert not plan.executed and "VPC" in kinds and "ECS cluster" in kinds
    assert "Would remove" in str(plan)
    assert course.grader("02").evaluate(session).total > 0  # nothing deleted yet
    done = teardown.plan(session, "02", execute=True)
    assert all(a.status == "deleted" for a in done.actions), str(done)
    assert course.grader("02").evaluate(session).total == 0
    assert "Nothing to remove" in str(teardown.plan(session, "02"))
    # The other learner's resources are untouched.
    report = course.grader("02").evaluate(other)
    assert report.total == report.max_total
