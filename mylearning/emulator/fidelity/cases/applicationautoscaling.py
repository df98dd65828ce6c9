"""Application Auto Scaling fidelity cases: capacities, target tracking on ALB requests, schedules."""
from __future__ import annotations

from typing import Any, Callable

from mylearning.emulator.fidelity.cases import OK, BehaviourMismatch, Case, Env
from mylearning.emulator.fidelity.cases.ecs import service

API = "https://docs.aws.amazon.com/autoscaling/application/APIReference/"
DIMENSION = "ecs:service:DesiredCount"
LABEL = ("app/mylearning-alb/50dc6c495c0c9188/"
         "targetgroup/mylearning-web/6d0ecf831eec9f09")


def _target(env: Env, low: int = 1, high: int = 4) -> str:
    """An ECS service registered as a scalable target; returns its resource id."""
    c, name, _ = service(env, desired=1)
    resource = f"service/{c}/{name}"
    env.client("application-autoscaling").register_scalable_target(
        ServiceNamespace="ecs", ResourceId=resource, ScalableDimension=DIMENSION,
        MinCapacity=low, MaxCapacity=high)
    return resource


def _register(low: int, high: int) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        c, name, _ = service(env, desired=1)
        return env.client("application-autoscaling").register_scalable_target(
            ServiceNamespace="ecs", ResourceId=f"service/{c}/{name}", ScalableDimension=DIMENSION,
            MinCapacity=low, MaxCapacity=high)
    return call


def _tags_round_trip(env: Env) -> None:
    """Tags given at registration, added by TagResource and removed by UntagResource."""
    c, name, _ = service(env, desired=1)
    aas = env.client("application-autoscaling")
    arn = aas.register_scalable_target(
        ServiceNamespace="ecs", ResourceId=f"service/{c}/{name}", ScalableDimension=DIMENSION,
        MinCapacity=1, MaxCapacity=2, Tags={"course": "mylearning"})["ScalableTargetARN"]
    aas.tag_resource(ResourceARN=arn, Tags={"team": "web"})
    aas.untag_resource(ResourceARN=arn, TagKeys=["course"])
    tags = aas.list_tags_for_resource(ResourceARN=arn)["Tags"]
    if tags != {"team": "web"}:
        raise BehaviourMismatch(f"tags after register, tag and untag: {tags}")


def _tags_of_unknown_target(env: Env) -> Any:
    return env.client("application-autoscaling").list_tags_for_resource(
        ResourceARN="arn:aws:application-autoscaling:us-east-1:123456789012:scalable-target/0123abcd")


def _raise_floor(low: int) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        return env.client("application-autoscaling").register_scalable_target(
            ServiceNamespace="ecs", ResourceId=_target(env, 1, 4), ScalableDimension=DIMENSION,
            MinCapacity=low)
    return call


def _tracking(metric: str, label: str | None) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        spec: dict[str, Any] = {"PredefinedMetricType": metric}
        if label is not None:
            spec["ResourceLabel"] = label
        return env.client("application-autoscaling").put_scaling_policy(
            PolicyName=env.name("policy"), ServiceNamespace="ecs", ResourceId=_target(env),
            ScalableDimension=DIMENSION, PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration={
                "TargetValue": 100.0, "PredefinedMetricSpecification": spec,
                "ScaleInCooldown": 60, "ScaleOutCooldown": 60})
    return call


def _schedule(expression: str) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        return env.client("application-autoscaling").put_scheduled_action(
            ServiceNamespace="ecs", ScheduledActionName=env.name("night"), ResourceId=_target(env),
            ScalableDimension=DIMENSION, Schedule=expression,
            ScalableTargetAction={"MinCapacity": 0, "MaxCapacity": 1})
    return call


def _schedule_in_zone(expression: str, timezone: str) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        return env.client("application-autoscaling").put_scheduled_action(
            ServiceNamespace="ecs", ScheduledActionName=env.name("evening"), ResourceId=_target(env),
            ScalableDimension=DIMENSION, Schedule=expression, Timezone=timezone,
            ScalableTargetAction={"MinCapacity": 1})
    return call


def _delete_unknown_schedule(env: Env) -> Any:
    return env.client("application-autoscaling").delete_scheduled_action(
        ServiceNamespace="ecs", ScheduledActionName=env.name("never-put"), ResourceId=_target(env),
        ScalableDimension=DIMENSION)


def _policy_without_target(env: Env) -> Any:
    c, name, _ = service(env, desired=1)
    return env.client("application-autoscaling").put_scaling_policy(
        PolicyName=env.name("policy"), ServiceNamespace="ecs", ResourceId=f"service/{c}/{name}",
        ScalableDimension=DIMENSION, PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 70.0,
            "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"}})


def _schedule_without_target(env: Env) -> Any:
    c, name, _ = service(env, desired=1)
    return env.client("application-autoscaling").put_scheduled_action(
        ServiceNamespace="ecs", ScheduledActionName=env.name("night"),
        ResourceId=f"service/{c}/{name}", ScalableDimension=DIMENSION,
        Schedule="cron(0 22 ? * MON-FRI *)", ScalableTargetAction={"MinCapacity": 1})


def _deregister_drops_policies(env: Env) -> None:
    aas = env.client("application-autoscaling")
    resource = _target(env)
    aas.put_scaling_policy(
        PolicyName=env.name("policy"), ServiceNamespace="ecs", ResourceId=resource,
        ScalableDimension=DIMENSION, PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 70.0,
            "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"}})
    aas.put_scheduled_action(ServiceNamespace="ecs", ScheduledActionName=env.name("night"),
                             ResourceId=resource, ScalableDimension=DIMENSION,
                             Schedule="rate(1 day)", ScalableTargetAction={"MinCapacity": 1})
    aas.deregister_scalable_target(ServiceNamespace="ecs", ResourceId=resource,
                                   ScalableDimension=DIMENSION)
    left = (aas.describe_scaling_policies(ServiceNamespace="ecs", ResourceId=resource)["ScalingPolicies"]
            + aas.describe_scheduled_actions(ServiceNamespace="ecs", ResourceId=resource)["ScheduledActions"])
    if left:
        raise BehaviourMismatch(f"{len(left)} policies/actions outlived their deregistered target")


DOC_REGISTER = API + "API_RegisterScalableTarget.html"
DOC_METRIC = API + "API_PredefinedMetricSpecification.html"
DOC_SCHEDULE = API + "API_PutScheduledAction.html"
DOC_CRON = "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cron-expressions.html"

CASES = [
    Case("aas-min-above-max", "application-autoscaling", _register(5, 2), "ValidationException",
         DOC_REGISTER),
    Case("aas-valid-min-equals-max", "application-autoscaling", _register(2, 2), OK, DOC_REGISTER),
    Case("aas-update-min-above-stored-max", "application-autoscaling", _raise_floor(6),
         "ValidationException", DOC_REGISTER),
    Case("aas-valid-update-min-only", "application-autoscaling", _raise_floor(3), OK, DOC_REGISTER),
    Case("aas-alb-requests-without-label", "application-autoscaling",
         _tracking("ALBRequestCountPerTarget", None), "ValidationException", DOC_METRIC),
    Case("aas-alb-requests-malformed-label", "application-autoscaling",
         _tracking("ALBRequestCountPerTarget", "mylearning-web"), "ValidationException", DOC_METRIC),
    Case("aas-label-on-cpu-metric", "application-autoscaling",
         _tracking("ECSServiceAverageCPUUtilization", LABEL), "ValidationException", DOC_METRIC),
    Case("aas-valid-alb-requests-with-label", "application-autoscaling",
         _tracking("ALBRequestCountPerTarget", LABEL), OK, DOC_METRIC),
    Case("aas-valid-cpu-tracking", "application-autoscaling",
         _tracking("ECSServiceAverageCPUUtilization", None), OK, DOC_METRIC),
    Case("aas-schedule-not-an-expression", "application-autoscaling", _schedule("every night"),
         "ValidationException", DOC_SCHEDULE),
    Case("aas-schedule-cron-five-fields", "application-autoscaling", _schedule("cron(0 22 * * ?)"),
         "ValidationException", DOC_SCHEDULE),
    Case("aas-schedule-rate-bad-unit", "application-autoscaling", _schedule("rate(5 weeks)"),
         "ValidationException", DOC_SCHEDULE),
    Case("aas-schedule-rate-zero", "application-autoscaling", _schedule("rate(0 minutes)"),
         "ValidationException", DOC_SCHEDULE),
    Case("aas-schedule-at-bad-date", "application-autoscaling", _schedule("at(2026-02-30T22:00:00)"),
         "ValidationException", DOC_SCHEDULE),
    Case("aas-schedule-at-no-seconds", "application-autoscaling", _schedule("at(2026-12-01T22:00)"),
         "ValidationException", DOC_SCHEDULE),
    Case("aas-valid-schedule-cron", "application-autoscaling", _schedule("cron(0 22 ? * MON-FRI *)"),
         OK, DOC_SCHEDULE),
    Case("aas-valid-schedule-rate", "application-autoscaling", _schedule("rate(1 day)"), OK,
         DOC_SCHEDULE),
    Case("aas-valid-schedule-at", "application-autoscaling", _schedule("at(2026-12-01T22:00:00)"),
         OK, DOC_SCHEDULE),
    Case("aas-schedule-cron-both-day-fields", "application-autoscaling",
         _schedule("cron(0 22 * * MON-FRI *)"), "ValidationException", DOC_CRON),
    Case("aas-schedule-cron-minute-out-of-range", "application-autoscaling",
         _schedule("cron(60 22 ? * MON-FRI *)"), "ValidationException", DOC_CRON),
    Case("aas-valid-schedule-cron-last-weekday", "application-autoscaling",
         _schedule("cron(0 22 LW * ? *)"), OK, DOC_CRON),
    Case("aas-valid-schedule-cron-nth-weekday", "application-autoscaling",
         _schedule("cron(0 8 ? * 2#1 *)"), OK, DOC_CRON),
    Case("aas-valid-schedule-at-one-digit-hour", "application-autoscaling",
         _schedule("at(2026-12-08T9:36:00)"), OK,
         "https://docs.aws.amazon.com/autoscaling/application/userguide/"
         "scheduled-scaling-additional-cli-commands.html"),
    Case("aas-schedule-unknown-timezone", "application-autoscaling",
         _schedule_in_zone("cron(45 17 ? * MON-FRI *)", "America/Gotham"), "ValidationException",
         DOC_SCHEDULE),
    Case("aas-valid-schedule-timezone", "application-autoscaling",
         _schedule_in_zone("cron(45 17 ? * MON-FRI *)", "America/New_York"), OK, DOC_SCHEDULE),
    Case("aas-delete-unknown-scheduled-action", "application-autoscaling", _delete_unknown_schedule,
         "ObjectNotFoundException", API + "API_DeleteScheduledAction.html"),
    Case("aas-policy-without-target", "application-autoscaling", _policy_without_target,
         "ObjectNotFoundException", API + "API_PutScalingPolicy.html"),
    Case("aas-schedule-without-target", "application-autoscaling", _schedule_without_target,
         "ObjectNotFoundException", DOC_SCHEDULE),
    Case("aas-tags-round-trip", "application-autoscaling", _tags_round_trip, OK,
         API + "API_TagResource.html", kind="behaviour"),
    Case("aas-tags-of-unknown-target", "application-autoscaling", _tags_of_unknown_target,
         "ResourceNotFoundException", API + "API_ListTagsForResource.html"),
    Case("aas-deregister-drops-policies-and-actions", "application-autoscaling",
         _deregister_drops_policies, OK, API + "API_DeregisterScalableTarget.html", kind="behaviour"),
]
