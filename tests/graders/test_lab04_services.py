"""Lab 04's checks catch the usual service mistakes and say how to fix them."""
from __future__ import annotations

from mylearning import course
from mylearning import microservices, prepare, record_answer


def _step(session, step_id):
    return course.lab_of_step(step_id).evaluate(session, [step_id]).results[0]


def test_lab04_mistakes_get_named(session):
    prepare.up_to(session, "04", quiet=True)
    course.builder("04")(session)
    ecs = session.client("ecs")
    cluster = session.name("cluster")
    service = microservices.service_name(session, "enrollment")
    ecs.update_service(cluster=cluster, service=service, deploymentConfiguration={
        "deploymentCircuitBreaker": {"enable": False, "rollback": False},
        "minimumHealthyPercent": 100, "maximumPercent": 200})
    result = _step(session, "4.6")
    assert not result.passed and "circuit breaker" in result.message and "rollback" in result.hint

    record_answer("04", "downtime-minutes-9999", 0.876, session=session)  # hours, not minutes
    result = _step(session, "4.9")
    assert not result.passed and "hours" in result.hint
    record_answer("04", "downtime-minutes-9999", 52.596, session=session)  # a 365.25-day year
    assert _step(session, "4.9").passed
