"""Lab 04's teardown plan names what the lab built, in an order AWS accepts."""
from __future__ import annotations

from mylearning import course, prepare, teardown


def test_plan_lists_services_before_what_they_hold(session):
    prepare.up_to(session, "04", quiet=True)
    course.builder("04")(session)
    plan = teardown.plan(session, "04")
    kinds = [a.kind for a in plan.actions]
    assert not plan.executed and {"ECS service", "load balancer", "target group",
                                  "Cloud Map namespace", "Cloud Map service"} <= set(kinds)
    # ECS services hold their target groups and Cloud Map services: AWS refuses to delete
    # those while a service uses them, so the services go first.
    assert kinds.index("ECS service") < kinds.index("Cloud Map service") < kinds.index("target group")
    assert kinds.index("load balancer") < kinds.index("target group")
