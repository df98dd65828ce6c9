"""prepare.up_to builds earlier labs' end states, accepted by their graders, idempotently."""
from __future__ import annotations

from mylearning import course
from mylearning import prepare


def test_up_to_builds_each_earlier_lab_to_full_marks(session):
    # The labs before the first one with a builder need nothing built.
    first = next(n for n in course.numbers() if course.builder(n))
    assert prepare.up_to(session, first, quiet=True) == []
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
