"""prepare.up_to builds earlier labs' end states, accepted by their graders, idempotently."""
from __future__ import annotations

from mylearning import course
from mylearning import prepare


def test_up_to_builds_each_earlier_lab_to_full_marks(session):
    assert prepare.up_to(session, "02", quiet=True) == []
    done = prepare.up_to(session, "99", quiet=True)
    assert done == [n for n in course.numbers() if course.builder(n) and n < "99"]
    for number in done:
        report = course.grader(number).evaluate(session)
        assert report.total == report.max_total, report.to_text()
    # Running it again on the same account changes nothing and still passes.
    prepare.up_to(session, "99", quiet=True)
    vpcs = session.client("ec2").describe_vpcs(
        Filters=[{"Name": "tag:learner", "Values": [session.learner]}])["Vpcs"]
    assert len(vpcs) == 1
    for number in done:
        report = course.grader(number).evaluate(session)
        assert report.total == report.max_total


def test_teardown_plans_then_removes_only_the_learners_lab02_resources(session, emulator):
    from mylearning import teardown
    from mylearning.backend import CourseSession, EMULATOR, EMULATOR_CREDENTIALS
    import boto3

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
