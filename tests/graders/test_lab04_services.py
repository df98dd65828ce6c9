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

    # 4.12: the tasks' group must admit its own members, and no address range.
    from mylearning import lookup
    from mylearning.course.lab04_services import service_to_service_rule
    ec2 = session.client("ec2")
    vpc = lookup.vpc(session, session.name("vpc"))
    tasks_sg = lookup.security_group(session, vpc["VpcId"], session.name("tasks-sg"))["GroupId"]
    assert _step(session, "4.12").passed
    ec2.revoke_security_group_ingress(GroupId=tasks_sg, IpPermissions=[service_to_service_rule(tasks_sg)])
    result = _step(session, "4.12")
    assert not result.passed and "only from the load balancer" in result.message
    assert "UserIdGroupPairs" in result.hint
    ec2.authorize_security_group_ingress(GroupId=tasks_sg, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    result = _step(session, "4.12")
    assert not result.passed and "0.0.0.0/0" in result.message


def test_lab04_a_rollout_is_judged_by_what_flowed_while_it_ran(session, monkeypatch):
    import graders.lab04_services as checks
    prepare.up_to(session, "04", quiet=True)
    course.builder("04")(session)
    result = _step(session, "4.8")
    assert result.passed and "under load" in result.message  # the builder rolled out under load
    seen = []

    def measured(requests, failed):
        def rollout_traffic(session, alb_arn, group_arn, deployment):
            seen.append(deployment["rolloutState"])
            return requests, failed
        return rollout_traffic
    monkeypatch.setattr(checks, "rollout_traffic", measured(0.0, 0.0))
    result = _step(session, "4.8")
    assert not result.passed and "nothing measured" in result.message and "before update_service" in result.hint
    monkeypatch.setattr(checks, "rollout_traffic", measured(300.0, 4.0))
    result = _step(session, "4.8")
    assert not result.passed and "4 of the 300 requests" in result.message
    assert seen == ["COMPLETED", "COMPLETED"]  # the completed rollout's window was asked for
