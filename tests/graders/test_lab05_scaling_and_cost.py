"""Lab 05's checks against an account prepared up to lab 04: right answers pass, usual mistakes
fail with a hint that names them; the notebook states the same facts the grader computes from."""
from __future__ import annotations

import json
import os
import uuid

import pytest

from mylearning import course, steps
from graders import lab05_scaling_and_cost as lab05
from mylearning import capacity, cost, migrate, prepare
from mylearning.answers import record_answer
from tests.nbrun import ROOT

DIMENSION = "ecs:service:DesiredCount"


@pytest.fixture(scope="module")
def account(emulator):
    """One learner with labs 02-04 built (module scope: preparing takes a few seconds)."""
    import boto3
    from mylearning.backend import EMULATOR, EMULATOR_CREDENTIALS, CourseSession

    session = CourseSession(boto3.Session(region_name="us-east-1", **EMULATOR_CREDENTIALS),
                            EMULATOR, os.environ["MYLEARNING_ENDPOINT"], "t" + uuid.uuid4().hex[:10])
    prepare.up_to(session, "05", quiet=True)
    return session


def _result(session, step):
    return course.grader("05").evaluate(session, [step]).results[0]


def _resource(session, service):
    return f"service/{session.name('cluster')}/{session.name(service)}"


def _label(session, service):
    ecs, elbv2 = session.client("ecs"), session.client("elbv2")
    found = ecs.describe_services(cluster=session.name("cluster"), services=[session.name(service)])["services"][0]
    tg = found["loadBalancers"][0]["targetGroupArn"]
    lb = elbv2.describe_target_groups(TargetGroupArns=[tg])["TargetGroups"][0]["LoadBalancerArns"][0]
    return lab05.resource_label(lb, tg)


def test_notebook_states_the_graders_facts():
    notebook = json.loads((ROOT / "solutions" / "05-scaling-and-cost.ipynb").read_text())
    facts = next("".join(c["source"]) for c in notebook["cells"]
                 if c["cell_type"] == "code" and "PEAK_USERS =" in "".join(c["source"]))
    stated: dict = {}
    exec(facts, stated)  # a cell of plain assignments
    for name in ("PEAK_USERS", "EVENING_USERS", "TARGET_UTILIZATION", "REQUESTS_IN_FLIGHT_PER_USER",
                 "LOAD_TEST"):
        assert stated[name] == getattr(lab05, name), name
    scaling = migrate.load_sample(migrate.SAMPLE_AUTOSCALING)["AutoScalingConfiguration"]
    era = scaling["MaxConcurrency"] / stated["REQUESTS_IN_FLIGHT_PER_USER"] * scaling["MaxSize"]
    assert era == lab05.ERA_USERS


def test_resource_label_and_request_target():
    lb = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188"
    tg = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/courses/6d0ecf831eec9f09"
    assert lab05.resource_label(lb, tg) == "app/web/50dc6c495c0c9188/targetgroup/courses/6d0ecf831eec9f09"
    # 0.5 vCPU x 500 users/vCPU = 250 users; x 0.7 x 6 requests a minute = 1050.
    assert lab05.request_target("courses-api", 512) == 1050.0


def test_nothing_done_fails_every_step_with_a_hint(account):
    report = course.grader("05").evaluate(account)
    assert report.total == 0
    assert all(r.hint for r in report.results)


def test_capacity_plan(account):
    record_answer("05", "capacity", {"courses-api": {"peak_tasks": 200, "evening_tasks": 120},
                                     "enrollment": {"peak_tasks": 125}}, session=account)
    result = _result(account, "5.1")
    assert not result.passed and "100% CPU" in result.hint
    plan = lab05.expected_plan(steps.Context(account, "05"))
    assert plan["courses-api"]["peak_tasks"] == 286  # ceil(50,000 / (250 x 0.7))
    record_answer("05", "capacity", {n: {"peak_tasks": p["peak_tasks"], "evening_tasks": p["evening_tasks"]}
                                     for n, p in plan.items()}, session=account)
    assert _result(account, "5.1").passed


def test_scalable_targets(account):
    aas = account.client("application-autoscaling")
    for service, high in (("courses-api", 286), ("enrollment", 179)):
        aas.register_scalable_target(ServiceNamespace="ecs", ResourceId=_resource(account, service),
                                     ScalableDimension=DIMENSION, MinCapacity=1, MaxCapacity=high)
    result = _result(account, "5.2")
    assert not result.passed and "one task per zone" in result.hint
    aas.register_scalable_target(ServiceNamespace="ecs", ResourceId=_resource(account, "courses-api"),
                                 ScalableDimension=DIMENSION, MinCapacity=2, MaxCapacity=25)
    result = _result(account, "5.2")
    assert not result.passed and "enrollment" not in result.message  # courses-api is checked first
    for service, high in (("courses-api", 25), ("enrollment", 179)):
        aas.register_scalable_target(ServiceNamespace="ecs", ResourceId=_resource(account, service),
                                     ScalableDimension=DIMENSION, MinCapacity=2, MaxCapacity=high)
    result = _result(account, "5.2")
    assert not result.passed and "peak" in result.message
    for service, high in (("courses-api", 286), ("enrollment", 179)):
        aas.register_scalable_target(ServiceNamespace="ecs", ResourceId=_resource(account, service),
                                     ScalableDimension=DIMENSION, MinCapacity=2, MaxCapacity=high)
    assert _result(account, "5.2").passed


def _tracking(account, service, metric, value, label=None, scale_in=300):
    spec = {"PredefinedMetricType": metric}
    if label:
        spec["ResourceLabel"] = label
    account.client("application-autoscaling").put_scaling_policy(
        PolicyName=f"{service}-{metric}", ServiceNamespace="ecs", ResourceId=_resource(account, service),
        ScalableDimension=DIMENSION, PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={"TargetValue": value, "PredefinedMetricSpecification": spec,
                                                  "ScaleOutCooldown": 60, "ScaleInCooldown": scale_in})


def test_cpu_tracking(account):
    test_scalable_targets(account)
    for service in lab05.SCALED:
        _tracking(account, service, "ECSServiceAverageCPUUtilization", 0.7)
    result = _result(account, "5.3")
    assert not result.passed and "percent" in result.hint
    for service in lab05.SCALED:
        _tracking(account, service, "ECSServiceAverageCPUUtilization", 70.0, scale_in=30)
    result = _result(account, "5.3")
    assert not result.passed and "flaps" in result.message
    for service in lab05.SCALED:
        _tracking(account, service, "ECSServiceAverageCPUUtilization", 70.0)
    assert _result(account, "5.3").passed


def test_request_tracking_needs_the_services_own_target_group(account):
    test_scalable_targets(account)
    other = _label(account, "enrollment")
    _tracking(account, "courses-api", "ALBRequestCountPerTarget", 1050.0, other)
    _tracking(account, "enrollment", "ALBRequestCountPerTarget", 140.0, other)
    result = _result(account, "5.4")
    assert not result.passed and "its own target group" in result.message
    _tracking(account, "courses-api", "ALBRequestCountPerTarget", 17.5, _label(account, "courses-api"))
    result = _result(account, "5.4")
    assert not result.passed and "a minute, not a second" in result.hint
    _tracking(account, "courses-api", "ALBRequestCountPerTarget", 1050.0, _label(account, "courses-api"))
    assert _result(account, "5.4").passed


def test_alb_request_count_without_label_is_refused_like_aws(account):
    from botocore.exceptions import ClientError
    test_scalable_targets(account)
    with pytest.raises(ClientError) as raised:
        _tracking(account, "courses-api", "ALBRequestCountPerTarget", 1050.0)
    assert raised.value.response["Error"]["Code"] == "ValidationException"


def _schedule(account, name, schedule, low, high=286):
    account.client("application-autoscaling").put_scheduled_action(
        ServiceNamespace="ecs", ScheduledActionName=name, ResourceId=_resource(account, "courses-api"),
        ScalableDimension=DIMENSION, Schedule=schedule, Timezone="America/New_York",
        ScalableTargetAction={"MinCapacity": low, "MaxCapacity": high})


def test_scheduled_scaling(account):
    test_scalable_targets(account)
    aas = account.client("application-autoscaling")
    for action in aas.describe_scheduled_actions(ServiceNamespace="ecs", ResourceId=_resource(
            account, "courses-api"))["ScheduledActions"]:
        aas.delete_scheduled_action(ServiceNamespace="ecs", ScheduledActionName=action["ScheduledActionName"],
                                    ResourceId=action["ResourceId"], ScalableDimension=DIMENSION)
    _schedule(account, "evening-peak-start", "cron(45 17 ? * * *)", 172)
    result = _result(account, "5.5")
    assert not result.passed and "MON-FRI" in result.hint
    _schedule(account, "evening-peak-start", "cron(45 17 ? * MON-FRI *)", 172)
    result = _result(account, "5.5")
    assert not result.passed and "never lowered" in result.message
    _schedule(account, "evening-peak-end", "cron(30 22 ? * MON-FRI *)", 2)
    assert _result(account, "5.5").passed


def _cost_answer(account, **changes):
    ecs = account.client("ecs")
    courses = ecs.describe_services(cluster=account.name("cluster"),
                                    services=[account.name("courses-api")])["services"][0]
    td = ecs.describe_task_definition(taskDefinition=courses["taskDefinition"])["taskDefinition"]
    size = cost.TaskSize(int(td["cpu"]), int(td["memory"]))
    arch = td["runtimePlatform"]["cpuArchitecture"]
    count = capacity.tasks_for_users(5000, 500 * size.vcpu, target_utilization=0.7)
    spot = capacity.spot_share(courses["capacityProviderStrategy"], count)
    era = cost.Scenario.app_runner("era", 25, cost.TaskSize(1024, 2048))
    plain = cost.Scenario.fargate("plain", 25, cost.TaskSize(1024, 2048))
    mix = cost.Scenario.fargate("mix", count, size, arch, spot_share=spot)
    comparison = cost.compare(era, mix)
    answer = {"app_runner": era.monthly_cost, "plain_fargate": plain.monthly_cost, "optimized": mix.monthly_cost,
              "saving_pct": comparison.saving_pct, "holds": comparison.holds(45), "spot_discount": 0.7,
              "config": {"count": count, "cpu": size.cpu, "memory": size.memory, "arch": arch, "spot_share": spot}}
    answer.update(changes)
    record_answer("05", "cost", answer, session=account)
    return answer


def test_cost_comparison(account):
    answer = _cost_answer(account)
    # 25 App Runner instances of 1 vCPU / 2 GB: 25 x 730 x (0.064 + 2 x 0.007) = 1,423.50 a month.
    assert answer["app_runner"] == pytest.approx(1423.5)
    assert answer["config"]["count"] == 29 and answer["holds"] is True
    assert _result(account, "5.6").passed
    _cost_answer(account, holds=False)
    result = _result(account, "5.6")
    assert not result.passed and "holds" in result.hint
    _cost_answer(account, config=dict(answer["config"], spot_share=0.0))
    result = _result(account, "5.6")
    assert not result.passed and "capacity.spot_share" in result.hint
    _cost_answer(account, optimized=round(answer["optimized"] * 1.1, 2))
    assert not _result(account, "5.6").passed
