"""Scaling policies that act: an ECS service's desired count follows its alarms.

Target tracking (https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-target-tracking.html):
Application Auto Scaling creates the policy's CloudWatch alarms itself and scales when they
fire. moto creates them with a fixed threshold of 6 and only for CPU and memory; here they
are what AWS creates for the policy's metric -- ``ECSServiceAverageCPUUtilization`` and
``ECSServiceAverageMemoryUtilization`` (``AWS/ECS``, Average, ``ClusterName, ServiceName``),
``ALBRequestCountPerTarget`` (``AWS/ApplicationELB`` ``RequestCountPerTarget``, Sum, the
``TargetGroup`` of the ``ResourceLabel``) or the customized metric -- as an ``AlarmHigh``
(above the target value for 3 of 3 one-minute datapoints) and, unless ``DisableScaleIn``,
an ``AlarmLow`` (below 90 % of it for 15 of 15). When one is in ALARM the new desired count
is proportional to the metric, ``ceil(current x metric / target)``, within the scalable
target's MinCapacity and MaxCapacity, scaling out by at least one task; it scales in only
when that count is lower than the current one ("the policy won't scale-in if it calculates
that removing a minimum unit of capacity would likely bring the metric back above the target
value"), and only when every target tracking policy of the target whose scale-in is enabled
is ready to (its AlarmLow in ALARM), to the largest count they ask for ("It will scale out
the scalable target if any of the target tracking policies are ready for scale out, but will
scale in only if all of the target tracking policies (with the scale-in portion enabled) are
ready to scale in", "scales based on the policy that provides the largest capacity";
https://docs.aws.amazon.com/autoscaling/application/userguide/target-tracking-scaling-policy-overview.html).
A scale-out is not followed by a scale-in until ``ScaleOutCooldown`` passed, a
scale-in not by another until ``ScaleInCooldown`` (both default 300 s for ECS), and during a
scale-out's cooldown "the capacity added by the initiating scale-out activity is calculated as
part of the desired capacity for the next scale-out activity": the next count is worked out from
the capacity before it, and acts only if it is larger than the current one
(target-tracking-scaling-policy-overview.html, "Define cooldown periods"), so a metric that has
not yet seen the new tasks does not compound.

Step scaling (https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-step-scaling-policies.html):
the learner's own alarm names the policy; the step whose bounds (relative to the alarm's
threshold) hold the breach applies its ``ScalingAdjustment`` as ``ChangeInCapacity``,
``ExactCapacity`` or ``PercentChangeInCapacity`` (with ``MinAdjustmentMagnitude``); no new
activity starts within the policy's ``Cooldown``.

Every change is a scaling activity (DescribeScalingActivities, which moto lacks), worded as
AWS words them. Cooldowns are waits: divided by the time scale (`mylearning.facts.clock`).
Scheduled actions run in `scheduled`, through `set_desired_count` and `record_activity` here.
"""
from __future__ import annotations

import json
import math
import time
import uuid
from typing import Any

from mylearning.emulator.fidelity.core import STATE, AwsRequest, handler, moto_backend, moto_fixes, on_reset
from mylearning.facts import clock

SERVICE = "application-autoscaling"
DEFAULT_COOLDOWN = 300.0
METRICS = {"ECSServiceAverageCPUUtilization": ("AWS/ECS", "CPUUtilization", "Average", "Percent"),
           "ECSServiceAverageMemoryUtilization": ("AWS/ECS", "MemoryUtilization", "Average", "Percent"),
           "ALBRequestCountPerTarget": ("AWS/ApplicationELB", "RequestCountPerTarget", "Sum", None)}

_activities: dict[str, list[dict]] = {}
#: (region, resource id) -> {"out": (time, capacity, capacity before the cooldown), "in": time,
#: policy ARN: time}
_last: dict[tuple[str, str], dict[str, Any]] = {}


@on_reset
def _clear() -> None:
    _activities.clear()
    _last.clear()


# ---------------------------------------------------------------- the alarms AWS creates

def _metric(policy: Any) -> tuple[str, str, str, str | None, list[dict]]:
    config = policy.target_tracking_scaling_policy_configuration or {}
    _, cluster, service = policy.resource_id.split("/")
    ecs_dims = [{"Name": "ClusterName", "Value": cluster}, {"Name": "ServiceName", "Value": service}]
    predefined = config.get("PredefinedMetricSpecification") or {}
    kind = predefined.get("PredefinedMetricType")
    if kind in METRICS:
        namespace, name, statistic, unit = METRICS[kind]
        if kind == "ALBRequestCountPerTarget":
            label = predefined.get("ResourceLabel") or ""
            group = label[label.find("targetgroup/"):] if "targetgroup/" in label else label
            return namespace, name, statistic, unit, [{"Name": "TargetGroup", "Value": group}]
        return namespace, name, statistic, unit, ecs_dims
    custom = config.get("CustomizedMetricSpecification") or {}
    return (custom.get("Namespace", "AWS/ECS"), custom.get("MetricName", "CPUUtilization"),
            custom.get("Statistic", "Average"), custom.get("Unit"),
            [{"Name": d["Name"], "Value": d["Value"]} for d in custom.get("Dimensions") or []] or ecs_dims)


def _ecs_alarms(policy: Any) -> list:
    from moto.cloudwatch.models import cloudwatch_backends
    cloudwatch = cloudwatch_backends[policy.account_id][policy.region_name]
    config = policy.target_tracking_scaling_policy_configuration or {}
    target = float(config.get("TargetValue") or 0)
    namespace, name, statistic, unit, dims = _metric(policy)
    action = f"{policy.policy_arn}:createdBy/{uuid.uuid4()}"
    made = []
    shapes = [("AlarmHigh", "GreaterThanThreshold", 3, target)]
    if not config.get("DisableScaleIn"):
        shapes.append(("AlarmLow", "LessThanThreshold", 15, round(target * 0.9, 6)))
    for suffix, operator, periods, threshold in shapes:
        made.append(cloudwatch.put_metric_alarm(
            name=f"TargetTracking-{policy.resource_id}-{suffix}-{uuid.uuid4()}", namespace=namespace,
            metric_name=name, metric_data_queries=[], comparison_operator=operator,
            evaluation_periods=periods, datapoints_to_alarm=periods, period=60, threshold=threshold,
            unit=unit, statistic=statistic, dimensions=dims, alarm_actions=[action],
            description=f"DO NOT EDIT OR DELETE. For TargetTrackingScaling policy {action}."))
    return made


def _fix_alarms() -> None:
    from moto.applicationautoscaling import models
    models.FakeApplicationAutoscalingPolicy._generate_ecs_alarms = _ecs_alarms


moto_fixes(SERVICE, _fix_alarms)


# ---------------------------------------------------------------- acting on an alarm

def _policy(region: str, arn: str) -> Any:
    backend = moto_backend("applicationautoscaling", region)
    base = arn.split(":createdBy/")[0]
    return next((p for p in backend.policies.values() if p.policy_arn == base), None)


def _value(alarm: Any) -> float | None:
    """The newest datapoint the alarm evaluated: Application Auto Scaling "calculates the scaling
    adjustment based on the metric and the target value" each time the alarm invokes it, so an
    alarm that stays in ALARM is acted on with its latest evaluation (the evaluator keeps it),
    not with the data of its last state change that StateReasonData holds."""
    data = getattr(alarm, "_ml_evaluated", None)
    if data is None:
        try:
            data = json.loads(alarm.state_reason_data or "{}")
        except ValueError:
            return None
    points = [p for p in data.get("recentDatapoints") or [] if p is not None]
    return float(points[-1]) if points else None


def _within(region: str, resource: str, key: str, seconds: float) -> bool:
    stamp = _last.get((region, resource), {}).get(key)
    when = stamp[0] if isinstance(stamp, tuple) else stamp
    return when is not None and time.monotonic() - when < clock.wait(seconds)


def target_tracking_capacity(current: int, value: float, target: float, high: bool) -> int:
    """The proportional desired count, ceil(current x value / target): at least one task more
    for a scale-out; for a scale-in never more than `current`, and `current` itself (no
    scale-in) when removing a task would bring the metric back above the target (see the
    module doc)."""
    wanted = math.ceil(current * value / target - 1e-9) if target > 0 else current
    return max(wanted, current + 1) if high else min(wanted, current)


def _scale_in_agreed(region: str, policy: Any, current: int) -> int | None:
    """The count the target's target tracking policies agree to scale in to: the largest any
    of them asks for, or None while one with scale-in enabled is not ready (its AlarmLow is not
    in ALARM, as when its metric has no data). Caller holds ``core.STATE``."""
    from moto.cloudwatch.models import cloudwatch_backends
    backend = moto_backend("applicationautoscaling", region)
    alarms = cloudwatch_backends[policy.account_id][region].alarms
    key = (policy.service_namespace, policy.resource_id, policy.scalable_dimension)
    asked = []
    for other in list(backend.policies.values()):
        if (other.service_namespace, other.resource_id, other.scalable_dimension) != key or \
                other.policy_type != "TargetTrackingScaling":
            continue
        config = other.target_tracking_scaling_policy_configuration or {}
        if config.get("DisableScaleIn"):
            continue
        lows = [a for a in other.alarms if "LessThan" in a.comparison_operator and alarms.get(a.name) is a]
        values = [_value(a) for a in lows if a.state_value == "ALARM"]
        if not lows or len(values) < len(lows) or None in values:
            return None
        asked.append(target_tracking_capacity(current, min(values), float(config.get("TargetValue") or 0),
                                              False))
    return max(asked) if asked else None


def step_capacity(current: int, config: dict, breach: float) -> int | None:
    """The capacity the step holding `breach` (metric minus the alarm's threshold) asks for."""
    for step in config.get("StepAdjustments") or []:
        low = step.get("MetricIntervalLowerBound")
        high = step.get("MetricIntervalUpperBound")
        if (low is None or breach >= float(low)) and (high is None or breach < float(high)):
            adjustment = float(step["ScalingAdjustment"])
            kind = config.get("AdjustmentType", "ChangeInCapacity")
            if kind == "ExactCapacity":
                return int(adjustment)
            if kind == "PercentChangeInCapacity":
                change = current * adjustment / 100
                change = math.floor(change) if change > 0 else math.ceil(change)
                magnitude = int(config.get("MinAdjustmentMagnitude") or 0)
                if adjustment and abs(change) < magnitude:
                    change = magnitude if adjustment > 0 else -magnitude
                return current + int(change)
            return current + int(adjustment)
    return None


def _act(alarm: Any, state: str, region: str) -> None:
    from mylearning.emulator.fidelity.cloudwatch.actions import actions_for
    if state != "ALARM":
        return
    with STATE:
        for arn in actions_for(alarm, state):
            if not _is_policy(arn):
                continue
            policy = _policy(region, arn)
            if policy is None:  # the history says the action failed, and why
                raise LookupError(f"no scaling policy {arn.split(':createdBy/')[0]} in this account")
            if policy.service_namespace == "ecs":
                _scale(region, policy, alarm)


def _scale(region: str, policy: Any, alarm: Any) -> None:
    backend = moto_backend("applicationautoscaling", region)
    target = (backend.targets.get(policy.scalable_dimension) or {}).get(policy.resource_id)
    _, cluster, name = policy.resource_id.split("/")
    ecs = moto_backend("ecs", region)
    service = ecs.services.get(f"{cluster}:{name}")
    value = _value(alarm)
    if target is None or service is None or value is None:
        return
    suspended = target.suspended_state or {}
    current = int(service.desired_count)
    key = (region, policy.resource_id)
    base = None  # the capacity a scale-out cooldown started from, while one runs
    if policy.policy_type == "TargetTrackingScaling":
        config = policy.target_tracking_scaling_policy_configuration or {}
        high = "GreaterThan" in alarm.comparison_operator
        out_cool = float(config.get("ScaleOutCooldown", DEFAULT_COOLDOWN))
        in_cool = float(config.get("ScaleInCooldown", DEFAULT_COOLDOWN))
        goal = float(config.get("TargetValue") or 0)
        wanted = target_tracking_capacity(current, value, goal, high)
        if high:
            last_out = _last.get(key, {}).get("out")
            if _within(region, policy.resource_id, "out", out_cool) and last_out:
                # In the cooldown the capacity the last scale-out added counts as already there:
                # the count is worked out from the capacity before it, and only a larger one acts.
                base = last_out[2]
                wanted = target_tracking_capacity(base, value, goal, True)
                if wanted <= current:
                    return
        elif (_within(region, policy.resource_id, "out", out_cool)
              or _within(region, policy.resource_id, "in", in_cool) or config.get("DisableScaleIn")):
            return
        else:
            agreed = _scale_in_agreed(region, policy, current)
            if agreed is None:
                return
            wanted = agreed
    else:
        config = policy.step_scaling_policy_configuration or {}
        if _within(region, policy.resource_id, policy.policy_arn, float(config.get("Cooldown", DEFAULT_COOLDOWN))):
            return
        wanted = step_capacity(current, config, value - float(alarm.threshold))
        if wanted is None:
            return
        high = wanted > current
    wanted = max(int(target.min_capacity), min(int(target.max_capacity), wanted))
    if wanted == current or (high and suspended.get("DynamicScalingOutSuspended")) or (
            not high and suspended.get("DynamicScalingInSuspended")):
        return
    now = time.monotonic()
    record = _last.setdefault(key, {})
    if high:
        record["out"] = (now, wanted, base if base is not None else current)
    else:
        record["in"] = now
    record[policy.policy_arn] = now
    _record(region, policy, alarm, wanted)
    _settle(ecs, service, wanted)


def _settle(ecs: Any, service: Any, wanted: int) -> None:
    """The new desired count, and one look of the ECS service scheduler at it (which starts or
    stops tasks); the caller holds ``core.STATE``."""
    from mylearning.emulator.fidelity.ecs import scheduler
    service.desired_count = wanted
    scheduler.settle(ecs, service)


def set_desired_count(region: str, resource_id: str, wanted: int) -> bool:
    """Set an ECS service's desired count as a scaling activity does (resource id
    ``service/<cluster>/<service>``); False when the service is gone. Caller holds STATE."""
    parts = resource_id.split("/")
    if len(parts) != 3:
        return False
    ecs = moto_backend("ecs", region)
    service = ecs.services.get(f"{parts[1]}:{parts[2]}")
    if service is None or getattr(service, "status", "ACTIVE") != "ACTIVE":
        return False
    _settle(ecs, service, wanted)
    return True


def current_desired_count(region: str, resource_id: str) -> int | None:
    """The ECS service's desired count (its capacity), or None when it is gone."""
    parts = resource_id.split("/")
    if len(parts) != 3:
        return None
    service = moto_backend("ecs", region).services.get(f"{parts[1]}:{parts[2]}")
    if service is None or getattr(service, "status", "ACTIVE") != "ACTIVE":
        return None
    return int(service.desired_count)


def record_activity(region: str, target: Any, description: str, cause: str, message: str,
                    status: str = "Successful", ended: bool = True) -> None:
    """One scaling activity of `target` (anything with service_namespace, resource_id and
    scalable_dimension), newest first, as DescribeScalingActivities lists them."""
    stamp = time.time()
    activity = {
        "ActivityId": str(uuid.uuid4()), "ServiceNamespace": target.service_namespace,
        "ResourceId": target.resource_id, "ScalableDimension": target.scalable_dimension,
        "Description": description, "Cause": cause, "StartTime": stamp, "StatusCode": status,
        "StatusMessage": message}
    if ended:
        activity["EndTime"] = stamp
    _activities.setdefault(region, []).insert(0, activity)


def _record(region: str, policy: Any, alarm: Any, wanted: int) -> None:
    record_activity(
        region, policy, f"Setting desired count to {wanted}.",
        f"monitor alarm {alarm.name} in state ALARM triggered policy {policy.policy_name}",
        f"Successfully set desired count to {wanted}. Change successfully fulfilled by "
        f"{policy.service_namespace}.")


def _is_policy(arn: str) -> bool:
    return ":autoscaling:" in arn and ":scalingPolicy:" in arn


def _listen() -> None:
    from mylearning.emulator.fidelity.cloudwatch import register_action_handler
    register_action_handler(_is_policy, _act)


_listen()


@handler(SERVICE, "DescribeScalingActivities")
def describe_scaling_activities(req: AwsRequest) -> tuple[int, Any]:
    """https://docs.aws.amazon.com/autoscaling/application/APIReference/API_DescribeScalingActivities.html
    (most recent first; filtered by ResourceId and ScalableDimension when given)."""
    params = req.params
    found = [a for a in _activities.get(req.region, [])
             if a["ServiceNamespace"] == params.get("ServiceNamespace")
             and params.get("ResourceId") in (None, a["ResourceId"])
             and params.get("ScalableDimension") in (None, a["ScalableDimension"])]
    limit = int(params.get("MaxResults") or 50)
    return 200, {"ScalingActivities": found[:limit]}
