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


def test_target_tracking_scales_in_proportion_and_by_at_least_one():
    assert target_tracking_capacity(2, 90, 50, high=True) == 4      # ceil(2 x 90 / 50)
    assert target_tracking_capacity(1, 51, 50, high=True) == 2      # at least one more
    assert target_tracking_capacity(4, 20, 50, high=False) == 2     # ceil(4 x 20 / 50)
    assert target_tracking_capacity(3, 44, 50, high=False) == 2     # at least one fewer


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
