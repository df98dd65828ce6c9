"""Lab 05's teardown: every scaling policy, scheduled action and scalable target, and nothing else."""
from __future__ import annotations

from mylearning import course, lookup, microservices, prepare, teardown
from mylearning.answers import record_answer
from mylearning.course import lab05_scaling_and_cost as lab05
from mylearning.facts.ecs import DESIRED_COUNT_DIMENSION


def test_teardown_lists_policies_and_actions_then_removes_them_and_keeps_the_services(session):
    number = lab05.ABOUT.number
    prepare.up_to(session, number, quiet=True)
    aas = session.client("application-autoscaling")
    cluster = session.name("cluster")
    for service in microservices.WEB_SERVICES:
        rid = f"service/{cluster}/{microservices.service_name(session, service)}"
        aas.register_scalable_target(ResourceId=rid, MinCapacity=2, MaxCapacity=10, **DESIRED_COUNT_DIMENSION)
        aas.put_scaling_policy(PolicyName=f"{service}-cpu", ResourceId=rid, PolicyType="TargetTrackingScaling",
                               TargetTrackingScalingPolicyConfiguration={
                                   "TargetValue": 70.0, "PredefinedMetricSpecification": {
                                       "PredefinedMetricType": "ECSServiceAverageCPUUtilization"}},
                               **DESIRED_COUNT_DIMENSION)
        aas.put_scheduled_action(ScheduledActionName=f"{service}-evening", ResourceId=rid,
                                 Schedule="cron(45 17 ? * MON-FRI *)",
                                 ScalableTargetAction={"MinCapacity": 4, "MaxCapacity": 10},
                                 **DESIRED_COUNT_DIMENSION)
    record_answer(number, "cost", {"saving_pct": 40}, session=session)
    plan = teardown.plan(session, number)
    kinds = [a.kind for a in plan.actions]
    web = len(microservices.WEB_SERVICES)
    assert kinds.count("scaling policy") == kinds.count("scheduled action") == kinds.count("scalable target") == web
    assert kinds[-1] == "recorded answer" and not plan.executed
    done = teardown.plan(session, number, execute=True)
    assert all(a.status == "deleted" for a in done.actions), str(done)
    assert not aas.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"] or all(
        cluster not in t["ResourceId"] for t in aas.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"])
    for service in microservices.WEB_SERVICES:  # the services are lab 04's: they stay
        assert lookup.ecs_service(session, cluster, microservices.service_name(session, service)) is not None
    assert course.grader(number).evaluate(session).total < course.grader(number).max_total
