"""Lab 05's checks against an account prepared up to lab 04: right answers pass, usual mistakes
fail with a hint that names them; the notebook states the same facts the grader computes from."""
from __future__ import annotations

import datetime
import json
import os
import time
import uuid

import pytest

from mylearning import course, steps
from graders import lab05_scaling_and_cost as lab05
from mylearning.course import lab05_scaling_and_cost as course_lab05
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


def _tracking(account, service, metric, value, label=None, scale_in=300, scale_out=60):
    spec = {"PredefinedMetricType": metric}
    if label:
        spec["ResourceLabel"] = label
    account.client("application-autoscaling").put_scaling_policy(
        PolicyName=f"{service}-{metric}", ServiceNamespace="ecs", ResourceId=_resource(account, service),
        ScalableDimension=DIMENSION, PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={"TargetValue": value, "PredefinedMetricSpecification": spec,
                                                  "ScaleOutCooldown": scale_out, "ScaleInCooldown": scale_in})


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


# ---------------------------------------------------------------- steps 5.7 - 5.9
def _alarm(account, service, metric, high):
    """The AlarmHigh (or AlarmLow) Application Auto Scaling made for the service's policy on `metric`."""
    policies = account.client("application-autoscaling").describe_scaling_policies(
        ServiceNamespace="ecs", ResourceId=_resource(account, service))["ScalingPolicies"]
    policy = next(p for p in policies if p["PolicyName"] == f"{service}-{metric}")
    return next(a["AlarmName"] for a in policy["Alarms"] if ("-AlarmHigh-" in a["AlarmName"]) == high)


def _breach(account, alarm, value):
    """What the alarm does when its metric breaches, without the minutes of traffic it takes:
    SetAlarmState (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_SetAlarmState.html)
    invokes the alarm's actions, and the history records the change."""
    account.client("cloudwatch").set_alarm_state(
        AlarmName=alarm, StateValue="ALARM", StateReason="test: the metric breached",
        StateReasonData=json.dumps({"version": "1.0", "recentDatapoints": [value]}))


def _desired_becomes(account, service, wanted, timeout=30):
    ecs = account.client("ecs")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = ecs.describe_services(cluster=account.name("cluster"), services=[account.name(service)])
        if found["services"][0]["desiredCount"] == wanted:
            return True
        time.sleep(0.3)
    return False


def test_scale_out_and_back_in_are_read_from_activities_and_alarm_history(account):
    test_scalable_targets(account)
    label = _label(account, "enrollment")
    _tracking(account, "enrollment", "ECSServiceAverageCPUUtilization", 70.0, scale_in=0, scale_out=0)
    _tracking(account, "enrollment", "ALBRequestCountPerTarget", 140.0, label, scale_in=0, scale_out=0)
    result = _result(account, "5.7")
    assert not result.passed and "never scaled out" in result.message and "surge_rate" in result.hint
    assert "Do step 5.7 first" in _result(account, "5.9").hint

    # A scale-out on CPU is not the surge of requests the step is about.
    _breach(account, _alarm(account, "enrollment", "ECSServiceAverageCPUUtilization", True), 90.0)
    assert _desired_becomes(account, "enrollment", 3)  # ceil(2 x 90 / 70)
    result = _result(account, "5.7")
    assert not result.passed and "not on its requests per target" in result.message

    _breach(account, _alarm(account, "enrollment", "ALBRequestCountPerTarget", True), 300.0)
    assert _desired_becomes(account, "enrollment", 7)  # ceil(3 x 300 / 140)
    result = _result(account, "5.7")
    assert result.passed and "scaled out to 7 tasks" in result.message
    result = _result(account, "5.9")
    assert not result.passed and "has not scaled in since" in result.message and "trickle" in result.hint

    # Both policies ready to scale in (the CPU one may be already, from the tasks' real CPU).
    _breach(account, _alarm(account, "enrollment", "ECSServiceAverageCPUUtilization", False), 5.0)
    _breach(account, _alarm(account, "enrollment", "ALBRequestCountPerTarget", False), 10.0)
    assert _desired_becomes(account, "enrollment", 2)  # the minimum: both ask for ceil(7 x ... ) = 1
    result = _result(account, "5.9")
    assert result.passed and "scaled back in to 2 tasks" in result.message


def _window_answer(account, start, end, **changes):
    """Step 5.8's answer for a window, computed from the load balancer's metrics as the notebook does."""
    from mylearning import loadbalancer, lookup, microservices

    alb = lookup.load_balancer(account, microservices.load_balancer_name(account))["LoadBalancerArn"]
    tg = lookup.target_group(account, microservices.target_group_name(account, "courses-api"))["TargetGroupArn"]
    until = end + datetime.timedelta(seconds=course_lab05.METRICS_SLACK_SECONDS)
    seconds = (end - start).total_seconds()
    rps = loadbalancer.served_between(account, alb, start, until, "RequestCountPerTarget", tg) / seconds
    p99 = loadbalancer.latency_between(account, alb, start, until, "p99", tg)
    requests = loadbalancer.served_between(account, alb, start, until, "RequestCount", tg)
    failed = requests - loadbalancer.served_between(account, alb, start, until, "HTTPCode_Target_2XX_Count", tg)
    users = rps * 60 / 6
    answer = {"service": "courses-api", "start": start.isoformat(), "end": end.isoformat(),
              "requests_per_second_per_task": rps, "users_per_task": users, "plan_users_per_task": 250.0,
              "p99_ms": None if p99 is None else p99 * 1000, "requests": requests, "failed": failed}
    answer["holds"] = bool(users >= 250 and p99 is not None and p99 * 1000 <= 200 and failed <= 0.001 * requests)
    answer.update(changes)
    record_answer("05", "throughput", answer, session=account)
    return answer


def test_throughput_is_checked_against_the_albs_metrics_of_its_window(account):
    from mylearning import loadbalancer, lookup, microservices, traffic

    now = datetime.datetime.now(datetime.timezone.utc)
    result = _result(account, "5.8")
    assert not result.passed and "No 'throughput' answer" in result.message
    _window_answer(account, now - datetime.timedelta(hours=2), now - datetime.timedelta(hours=2) + datetime.timedelta(seconds=20))
    result = _result(account, "5.8")
    assert not result.passed and "not a load test" in result.message

    alb = lookup.load_balancer(account, microservices.load_balancer_name(account))
    tg = lookup.target_group(account, microservices.target_group_name(account, "courses-api"))
    start = datetime.datetime.now(datetime.timezone.utc)
    # The window's first minute may hold earlier requests (lab 04's, made by prepare): wait for
    # those plus all of this load, so every read below sees the same figures.
    before = loadbalancer.served_between(account, alb["LoadBalancerArn"], start, start, "RequestCount",
                                         tg["TargetGroupArn"])
    sent = traffic.send(account, f"http://{alb['DNSName']}/api/courses", rate=30, duration=12, live=False)
    end = start + datetime.timedelta(seconds=sent.duration)
    loadbalancer.wait_served_between(account, alb["LoadBalancerArn"], start, end + datetime.timedelta(seconds=10),
                                     before + sent.count, target_group_arn=tg["TargetGroupArn"], timeout=60)
    right = _window_answer(account, start, end)
    result = _result(account, "5.8")
    assert result.passed, result.to_text()
    assert ("holds" in result.message) == right["holds"]

    _window_answer(account, start, end, requests_per_second_per_task=right["requests_per_second_per_task"] * 2)
    result = _result(account, "5.8")
    assert not result.passed and "whole service" in result.hint
    _window_answer(account, start, end, users_per_task=right["requests_per_second_per_task"] * 60)
    assert "requests per learner per minute" in _result(account, "5.8").hint
    _window_answer(account, start, end, plan_users_per_task=500)
    assert "step 5.1" in _result(account, "5.8").message
    _window_answer(account, start, end, p99_ms=(right["p99_ms"] or 0) * 3 + 50)
    assert "TargetResponseTime p99" in _result(account, "5.8").message
    _window_answer(account, start, end, failed=right["failed"] + 20)
    assert "not answered 2XX" in _result(account, "5.8").message
    _window_answer(account, start, end, holds=not right["holds"])
    result = _result(account, "5.8")
    assert not result.passed and "'holds' says" in result.message
    _window_answer(account, start, start + datetime.timedelta(seconds=5))
    assert "10 s to an hour" in _result(account, "5.8").message
