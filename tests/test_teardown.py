"""The course's teardown: every lab's plan is shown first, then removes this learner's resources only."""
from __future__ import annotations

import boto3

from mylearning import course, prepare, teardown
from mylearning.backend import EMULATOR, EMULATOR_CREDENTIALS, CourseSession


def test_course_plan_removes_every_built_lab_latest_first_and_only_for_this_learner(session, emulator):
    other = CourseSession(boto3.Session(region_name="us-east-1", **EMULATOR_CREDENTIALS),
                          EMULATOR, emulator.url, session.learner + "x")
    built = [n for n in course.numbers() if course.builder(n)]
    for who in (session, other):
        prepare.up_to(who, "99", quiet=True)
    for number in built:
        part = teardown.plan(session, number)
        assert part.actions and not part.executed, f"lab {number}'s teardown finds nothing to remove"
        assert course.grader(number).evaluate(session).total > 0  # a plan deletes nothing
    whole = teardown.course_plan(session)
    assert "Would remove" in str(whole) and not whole.executed
    done = teardown.course_plan(session, execute=True)
    assert done.executed and done.actions
    assert all(a.status == "deleted" for a in done.actions), str(done)
    for number in built:
        assert course.grader(number).evaluate(session).total == 0, number
        assert "Nothing to remove" in str(teardown.plan(session, number))
        report = course.grader(number).evaluate(other)
        assert report.total == report.max_total, report.to_text()


def test_a_lab_without_a_teardown_plans_nothing(session):
    bare = [n for n in course.numbers() if getattr(course.module(n), "teardown", None) is None]
    for number in bare:
        assert teardown.plan(session, number).actions == []
