"""Lab 07's end state (`end_state`, not yet a `build` for later labs) gets full marks from its grader, twice; its teardown plan
turns TLS off on lab 06's mesh, puts the health checks back, and removes the CA, the
certificates, the secrets and the policies it added, leaving lab 06's mesh in place."""
from __future__ import annotations

from mylearning import course, lookup, microservices, prepare, privateca, teardown
from mylearning.course import lab07_mutual_tls as lab
from mylearning.facts import envoy as envoy_facts


def test_build_twice_full_marks_then_teardown(session):
    prepare.up_to(session, "07", quiet=True)
    lab.end_state(session)
    report = course.grader("07").evaluate(session)
    assert report.total == report.max_total, report.to_text()
    lab.end_state(session)  # finds everything: nothing is turned on, rotated or measured again
    again = course.grader("07").evaluate(session)
    assert again.total == again.max_total, again.to_text()

    plan = teardown.plan(session, "07")
    kinds = [a.kind for a in plan.actions]
    assert not plan.executed
    assert {"App Mesh gateway TLS", "App Mesh node TLS", "target group health check", "role policy", "secret",
            "ACM certificate", "private CA", "recorded answer"} <= set(kinds)
    # TLS leaves the mesh before the certificates it serves are deleted, the CA last.
    assert kinds.index("App Mesh node TLS") < kinds.index("ACM certificate") < kinds.index("private CA")

    done = teardown.plan(session, "07", execute=True)
    assert all(a.status == "deleted" for a in done.actions), str(done)
    assert privateca.certificate_authorities(session, "07") == [] and privateca.certificates(session, "07") == []
    for service in lab.SERVERS:
        assert lab.node_tls(session, service) == {}
        group = lookup.target_group(session, microservices.target_group_name(session, service))
        assert str(group["HealthCheckPort"]) != str(envoy_facts.ADMIN_PORT)
    assert lab.enrollment_policy(session) == {} and lab.gateway_policy(session) == {}
    assert lookup.mesh_resource(session, "mesh", lab.lab06.mesh_name(session))  # lab 06's mesh stays
    assert "Nothing to remove" in str(teardown.plan(session, "07"))
