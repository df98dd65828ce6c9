"""Lab 06's builder gives the end state its grader gives full marks, twice; its teardown plan
removes what the lab made, in an order AWS accepts, and leaves lab 04's services alone."""
from __future__ import annotations

from mylearning import course, lookup, microservices, prepare, teardown
from mylearning.course import lab06_app_mesh as lab


def test_build_twice_full_marks_then_teardown(session):
    prepare.up_to(session, "06", quiet=True)
    lab.build(session)
    report = course.grader("06").evaluate(session)
    assert report.total == report.max_total, report.to_text()
    lab.build(session)  # finds everything: nothing is moved, measured or declared again
    again = course.grader("06").evaluate(session)
    assert again.total == again.max_total, again.to_text()

    plan = teardown.plan(session, "06")
    kinds = [a.kind for a in plan.actions]
    assert not plan.executed
    assert {"listener rule", "ECS service", "target group", "App Mesh gateway route", "App Mesh gateway",
            "App Mesh route", "App Mesh service", "App Mesh router", "App Mesh node", "App Mesh mesh",
            "role policy", "IAM role", "log group", "security group rule", "recorded answer"} <= set(kinds)
    # The ALB rule holds the gateway's target group; the gateway's service is deleted before it.
    assert kinds.index("listener rule") < kinds.index("ECS service") < kinds.index("target group")
    assert kinds.index("App Mesh gateway route") < kinds.index("App Mesh gateway") < kinds.index("App Mesh mesh")
    assert [a for a in plan.actions if a.kind == "ECS service"][0].ident == lab.gateway_name(session)

    done = teardown.plan(session, "06", execute=True)
    assert all(a.status == "deleted" for a in done.actions), str(done)
    assert lookup.mesh_resource(session, "mesh", lab.mesh_name(session)) is None
    assert lookup.ecs_service(session, session.name("cluster"), lab.gateway_name(session)) is None
    vpc = lookup.vpc(session, session.name("vpc"))
    group = lookup.security_group(session, vpc["VpcId"], session.name("tasks-sg"))
    assert lab.admin_ranges(group) == [] and lab.admin_groups(group) == []
    for service in microservices.WEB_SERVICES:  # lab 04's services stay
        assert lookup.ecs_service(session, session.name("cluster"), microservices.service_name(session, service))
    assert "Nothing to remove" in str(teardown.plan(session, "06"))
