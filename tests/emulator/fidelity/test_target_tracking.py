"""Scaling policies acting on an ECS service through their alarms.

Unit tests of the capacity arithmetic, then a real emulator whose clock runs 60 times faster
(a 60 s alarm period is a 1 s window; cooldowns of 300 s are 5 s), without a data plane, so
the test feeds the CPU metric itself.
"""
from __future__ import annotations

import datetime
import time

import boto3
import pytest

from conftest import EmulatorProcess
from mylearning.emulator.fidelity.applicationautoscaling.scaling import step_capacity, target_tracking_capacity


def test_target_tracking_scales_in_proportion_out_by_at_least_one_in_only_if_it_stays_below():
    assert target_tracking_capacity(2, 90, 50, high=True) == 4      # ceil(2 x 90 / 50)
    assert target_tracking_capacity(1, 51, 50, high=True) == 2      # at least one more
    assert target_tracking_capacity(4, 20, 50, high=False) == 2     # ceil(4 x 20 / 50)
    assert target_tracking_capacity(4, 25, 50, high=False) == 2     # exactly 2, not 3
    # 3 tasks at 44: two would run at 66, above the target of 50, so no scale-in.
    assert target_tracking_capacity(3, 44, 50, high=False) == 3


def test_step_scaling_picks_the_step_that_holds_the_breach():
    config = {"AdjustmentType": "ChangeInCapacity", "StepAdjustments": [
        {"MetricIntervalLowerBound": 0, "MetricIntervalUpperBound": 20, "ScalingAdjustment": 1},
        {"MetricIntervalLowerBound": 20, "ScalingAdjustment": 3}]}
    assert step_capacity(2, config, 5) == 3
    assert step_capacity(2, config, 25) == 5
    assert step_capacity(2, config, -1) is None
    exact = {"AdjustmentType": "ExactCapacity", "StepAdjustments": [{"MetricIntervalLowerBound": 0,
                                                                     "ScalingAdjustment": 6}]}
    assert step_capacity(2, exact, 1) == 6
    percent = {"AdjustmentType": "PercentChangeInCapacity", "MinAdjustmentMagnitude": 2,
               "StepAdjustments": [{"MetricIntervalLowerBound": 0, "ScalingAdjustment": 10}]}
    assert step_capacity(4, percent, 1) == 6  # 10 % of 4 rounds to 0, the magnitude makes it 2


@pytest.fixture(scope="module")
def fast():
    emulator = EmulatorProcess("--no-dataplane", env={"MYLEARNING_TIME_SCALE": "60"})
    yield emulator
    emulator.stop()


def test_a_target_tracking_policy_adds_tasks_when_cpu_stays_above_its_target(fast):
    session = boto3.Session(aws_access_key_id="t", aws_secret_access_key="t", region_name="us-east-1")
    ecs, aas, cw = (session.client(n, endpoint_url=fast.url)
                    for n in ("ecs", "application-autoscaling", "cloudwatch"))
    ecs.create_cluster(clusterName="c")
    ecs.register_task_definition(family="f", containerDefinitions=[
        {"name": "app", "image": "public.ecr.aws/mylearning/courses-api:1.1.0", "memory": 128}])
    ecs.create_service(cluster="c", serviceName="s", taskDefinition="f", desiredCount=1)
    aas.register_scalable_target(ServiceNamespace="ecs", ResourceId="service/c/s",
                                 ScalableDimension="ecs:service:DesiredCount", MinCapacity=1, MaxCapacity=4)
    aas.put_scaling_policy(PolicyName="cpu50", ServiceNamespace="ecs", ResourceId="service/c/s",
                           ScalableDimension="ecs:service:DesiredCount", PolicyType="TargetTrackingScaling",
                           TargetTrackingScalingPolicyConfiguration={
                               "TargetValue": 50.0, "PredefinedMetricSpecification": {
                                   "PredefinedMetricType": "ECSServiceAverageCPUUtilization"}})
    alarms = cw.describe_alarms(AlarmNamePrefix="TargetTracking-service/c/s")["MetricAlarms"]
    high = next(a for a in alarms if "-AlarmHigh-" in a["AlarmName"])
    low = next(a for a in alarms if "-AlarmLow-" in a["AlarmName"])
    assert (high["Threshold"], high["EvaluationPeriods"], high["MetricName"]) == (50.0, 3, "CPUUtilization")
    assert (low["Threshold"], low["EvaluationPeriods"]) == (45.0, 15)
    dims = [{"Name": "ClusterName", "Value": "c"}, {"Name": "ServiceName", "Value": "s"}]

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        cw.put_metric_data(Namespace="AWS/ECS", MetricData=[{
            "MetricName": "CPUUtilization", "Dimensions": dims, "Value": 90.0, "Unit": "Percent",
            "Timestamp": datetime.datetime.now(datetime.timezone.utc)}])
        if ecs.describe_services(cluster="c", services=["s"])["services"][0]["desiredCount"] > 1:
            break
        time.sleep(0.2)
    service = ecs.describe_services(cluster="c", services=["s"])["services"][0]
    assert service["desiredCount"] == 2, "ceil(1 x 90 / 50) tasks"
    activities = aas.describe_scaling_activities(ServiceNamespace="ecs", ResourceId="service/c/s")
    first = activities["ScalingActivities"][0]
    assert first["Description"] == "Setting desired count to 2." and first["StatusCode"] == "Successful"
    assert "triggered policy cpu50" in first["Cause"] and "AlarmHigh" in first["Cause"]


def _low_alarm(cw, policy_name):
    """The AlarmLow that Application Auto Scaling made for the policy (its actions name it)."""
    for alarm in cw.describe_alarms(AlarmNamePrefix="TargetTracking-service/c/two")["MetricAlarms"]:
        if "-AlarmLow-" in alarm["AlarmName"] and any(f":policyName/{policy_name}:" in a
                                                      for a in alarm["AlarmActions"]):
            return alarm
    raise AssertionError(f"no AlarmLow for {policy_name}")


def test_with_two_target_tracking_policies_scale_in_waits_until_both_are_ready(fast):
    """https://docs.aws.amazon.com/autoscaling/application/userguide/target-tracking-scaling-policy-overview.html
    ("will scale in only if all of the target tracking policies (with the scale-in portion
    enabled) are ready to scale in")."""
    session = boto3.Session(aws_access_key_id="t", aws_secret_access_key="t", region_name="us-east-1")
    ecs, aas, cw = (session.client(n, endpoint_url=fast.url)
                    for n in ("ecs", "application-autoscaling", "cloudwatch"))
    ecs.create_cluster(clusterName="c")
    ecs.register_task_definition(family="f2", containerDefinitions=[
        {"name": "app", "image": "public.ecr.aws/mylearning/courses-api:1.1.0", "memory": 128}])
    ecs.create_service(cluster="c", serviceName="two", taskDefinition="f2", desiredCount=3)
    rid = "service/c/two"
    aas.register_scalable_target(ServiceNamespace="ecs", ResourceId=rid,
                                 ScalableDimension="ecs:service:DesiredCount", MinCapacity=1, MaxCapacity=6)
    dims = [{"Name": "ClusterName", "Value": "c"}, {"Name": "ServiceName", "Value": "two"}]
    for name, metric in (("cpu", {"PredefinedMetricSpecification": {
            "PredefinedMetricType": "ECSServiceAverageCPUUtilization"}}),
            ("queue", {"CustomizedMetricSpecification": {
                "Namespace": "Course", "MetricName": "Backlog", "Statistic": "Average", "Dimensions": dims}})):
        aas.put_scaling_policy(PolicyName=name, ServiceNamespace="ecs", ResourceId=rid,
                               ScalableDimension="ecs:service:DesiredCount", PolicyType="TargetTrackingScaling",
                               TargetTrackingScalingPolicyConfiguration={
                                   "TargetValue": 50.0, "ScaleInCooldown": 0, "ScaleOutCooldown": 0, **metric})

    def feed(cpu, backlog):
        now = datetime.datetime.now(datetime.timezone.utc)
        cw.put_metric_data(Namespace="AWS/ECS", MetricData=[{
            "MetricName": "CPUUtilization", "Dimensions": dims, "Value": cpu, "Unit": "Percent", "Timestamp": now}])
        cw.put_metric_data(Namespace="Course", MetricData=[{
            "MetricName": "Backlog", "Dimensions": dims, "Value": backlog, "Timestamp": now}])

    def desired():
        return ecs.describe_services(cluster="c", services=["two"])["services"][0]["desiredCount"]

    # CPU far below its target, the backlog just under it (above the AlarmLow's 45): only the
    # CPU policy is ready to scale in, so nothing is removed however long it stays so.
    ready_since = None
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        feed(5.0, 48.0)
        if _low_alarm(cw, "cpu")["StateValue"] == "ALARM":
            ready_since = ready_since or time.monotonic()
            if time.monotonic() - ready_since > 4:  # four more evaluations of a 1 s window
                break
        time.sleep(0.2)
    assert ready_since is not None, "the CPU policy's AlarmLow never reached ALARM"
    assert _low_alarm(cw, "queue")["StateValue"] != "ALARM"
    assert desired() == 3
    assert not aas.describe_scaling_activities(ServiceNamespace="ecs", ResourceId=rid)["ScalingActivities"]

    # Now the backlog falls too: both are ready, and the larger of their counts wins
    # (CPU asks for ceil(3 x 5 / 50) = 1, the backlog for ceil(3 x 30 / 50) = 2).
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and desired() == 3:
        feed(5.0, 30.0)
        time.sleep(0.2)
    assert desired() == 2
    first = aas.describe_scaling_activities(ServiceNamespace="ecs", ResourceId=rid)["ScalingActivities"][0]
    assert first["Description"] == "Setting desired count to 2." and "AlarmLow" in first["Cause"]


def test_in_the_scale_out_cooldown_the_added_capacity_counts_as_there(fast):
    """https://docs.aws.amazon.com/autoscaling/application/userguide/target-tracking-scaling-policy-overview.html
    ("While the scale-out cooldown period is in effect, the capacity added by the initiating
    scale-out activity is calculated as part of the desired capacity for the next scale-out
    activity"): a metric that does not move yet does not compound, a larger breach still acts."""
    session = boto3.Session(aws_access_key_id="t", aws_secret_access_key="t", region_name="us-east-1")
    ecs, aas, cw = (session.client(n, endpoint_url=fast.url)
                    for n in ("ecs", "application-autoscaling", "cloudwatch"))
    ecs.create_cluster(clusterName="c")
    ecs.register_task_definition(family="f3", containerDefinitions=[
        {"name": "app", "image": "public.ecr.aws/mylearning/courses-api:1.1.0", "memory": 128}])
    ecs.create_service(cluster="c", serviceName="cool", taskDefinition="f3", desiredCount=1)
    rid = "service/c/cool"
    aas.register_scalable_target(ServiceNamespace="ecs", ResourceId=rid,
                                 ScalableDimension="ecs:service:DesiredCount", MinCapacity=1, MaxCapacity=10)
    aas.put_scaling_policy(PolicyName="cpu", ServiceNamespace="ecs", ResourceId=rid,
                           ScalableDimension="ecs:service:DesiredCount", PolicyType="TargetTrackingScaling",
                           TargetTrackingScalingPolicyConfiguration={  # 1800 s: 30 s at this clock
                               "TargetValue": 50.0, "ScaleOutCooldown": 1800, "DisableScaleIn": True,
                               "PredefinedMetricSpecification": {
                                   "PredefinedMetricType": "ECSServiceAverageCPUUtilization"}})
    dims = [{"Name": "ClusterName", "Value": "c"}, {"Name": "ServiceName", "Value": "cool"}]

    def feed(cpu):
        cw.put_metric_data(Namespace="AWS/ECS", MetricData=[{
            "MetricName": "CPUUtilization", "Dimensions": dims, "Value": cpu, "Unit": "Percent",
            "Timestamp": datetime.datetime.now(datetime.timezone.utc)}])

    def desired():
        return ecs.describe_services(cluster="c", services=["cool"])["services"][0]["desiredCount"]

    def activities():
        return aas.describe_scaling_activities(ServiceNamespace="ecs", ResourceId=rid)["ScalingActivities"]

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and desired() == 1:
        feed(90.0)
        time.sleep(0.2)
    assert desired() == 2  # ceil(1 x 90 / 50)
    first = time.monotonic()
    while time.monotonic() - first < 5:  # five more evaluations of the alarm, still in ALARM at 90
        feed(90.0)
        time.sleep(0.2)
    assert desired() == 2, "from the capacity before the cooldown: ceil(1 x 90 / 50) = 2, nothing larger"
    assert len(activities()) == 1
    deadline = time.monotonic() + 30
    # The alarm averages its period, so while it still holds the 90s a step to 3 may come
    # first (ceil(1 x 120 / 50)); compounding would give 5 there, so wait for 4 and no more.
    while time.monotonic() < deadline and desired() < 4:
        feed(180.0)
        time.sleep(0.2)
    assert desired() == 4, "a larger breach acts: ceil(1 x 180 / 50) = 4, not ceil(2 x 180 / 50) = 8"
