"""Application Auto Scaling: checks AWS makes that moto skips.

The service speaks JSON 1.1; its errors are ``ValidationException`` (HTTP 400).
"""
from __future__ import annotations

import functools
import json
import re
import zoneinfo
from typing import Any

from mylearning.emulator.fidelity.applicationautoscaling import schedules
from mylearning.emulator.fidelity.core import (AwsError, AwsRequest, after, handler, moto_backend,
                                              on_reset, rule)

SERVICE = "application-autoscaling"
API = "https://docs.aws.amazon.com/autoscaling/application/APIReference/"


def validation_exception(message: str) -> AwsError:
    return AwsError("ValidationException", message, 400)


@rule(SERVICE, "RegisterScalableTarget")
def min_not_above_max(req: AwsRequest) -> None:
    """MinCapacity may not exceed MaxCapacity.

    https://docs.aws.amazon.com/autoscaling/application/APIReference/API_RegisterScalableTarget.html
    (MinCapacity is the floor to scale in to and MaxCapacity the ceiling to scale out to;
    a floor above the ceiling is rejected).
    """
    low, high = req.params.get("MinCapacity"), req.params.get("MaxCapacity")
    if (low is None) != (high is None):  # updating one bound: compare with the stored other
        stored = _registered(req)
        if stored is not None:
            low = stored.min_capacity if low is None else low
            high = stored.max_capacity if high is None else high
    if isinstance(low, int) and isinstance(high, int) and low > high:
        raise validation_exception(
            f"Minimum capacity ({low}) cannot be greater than maximum capacity ({high}).")


def _registered(req: AwsRequest):
    """moto's scalable target for this request's resource and dimension, if registered."""

    backend = moto_backend("applicationautoscaling", req.region)
    targets = backend.targets.get(req.params.get("ScalableDimension"), {})
    return targets.get(req.params.get("ResourceId"))


_RESOURCE_LABEL = re.compile(r"^app/[^/]+/[^/]+/targetgroup/[^/]+/[^/]+$")


@rule(SERVICE, "PutScalingPolicy")
def alb_request_count_needs_resource_label(req: AwsRequest) -> None:
    """ALBRequestCountPerTarget needs a ResourceLabel naming the load balancer and target group.

    https://docs.aws.amazon.com/autoscaling/application/APIReference/API_PredefinedMetricSpecification.html
    ("You can't specify a resource label unless the metric type is ALBRequestCountPerTarget
    and there is a target group attached" / "app/<load-balancer-name>/<load-balancer-id>/
    targetgroup/<target-group-name>/<target-group-id>").
    """
    config = req.params.get("TargetTrackingScalingPolicyConfiguration") or {}
    spec = config.get("PredefinedMetricSpecification") or {}
    kind, label = spec.get("PredefinedMetricType"), spec.get("ResourceLabel")
    if kind == "ALBRequestCountPerTarget":
        if not label:
            raise validation_exception(
                "ResourceLabel is required when the predefined metric type is "
                "ALBRequestCountPerTarget.")
        if not _RESOURCE_LABEL.match(label):
            raise validation_exception(
                f"Invalid ResourceLabel '{label}': expected "
                "app/<load-balancer-name>/<load-balancer-id>/targetgroup/"
                "<target-group-name>/<target-group-id>.")
    elif label:
        raise validation_exception(
            f"ResourceLabel can only be specified for ALBRequestCountPerTarget, not {kind}.")


def schedule_error(schedule: str) -> str | None:
    """Why a schedule expression is malformed, or None when it is one of AWS's forms
    (at, rate, cron: see `schedules` for the grammar and the pages it follows)."""
    return schedules.error(schedule)


@rule(SERVICE, "PutScheduledAction")
def schedule_is_well_formed(req: AwsRequest) -> None:
    """https://docs.aws.amazon.com/autoscaling/application/APIReference/API_PutScheduledAction.html
    (Schedule: at, rate or cron expressions; ValidationException for any other)."""
    schedule = req.params.get("Schedule")
    if schedule is None:
        return
    problem = schedule_error(schedule)
    if problem:
        raise validation_exception(f"Schedule expression '{schedule}' is not valid: {problem}.")


@functools.cache
def _have_zones() -> bool:
    return bool(zoneinfo.available_timezones())


@rule(SERVICE, "PutScheduledAction")
def timezone_is_an_iana_zone(req: AwsRequest) -> None:
    """Timezone: "Valid values are the canonical names of the IANA time zones supported by
    Joda-Time (such as Etc/GMT+9 or Pacific/Tahiti)" (API_PutScheduledAction.html). When this
    machine has no time zone database at all, every name is let through (and read as UTC)."""
    name = req.params.get("Timezone")
    if not name or not _have_zones():
        return
    try:
        schedules.zone(name)
    except schedules.ScheduleError as err:
        raise validation_exception(f"Timezone '{name}' is not valid: {err}.") from None


@rule(SERVICE, "DeleteScheduledAction")
def deletes_an_existing_action(req: AwsRequest) -> None:
    """Deleting a scheduled action that does not exist is ObjectNotFoundException
    (https://docs.aws.amazon.com/autoscaling/application/APIReference/API_DeleteScheduledAction.html,
    Errors); moto answers 200."""
    backend = moto_backend("applicationautoscaling", req.region)
    key = tuple(req.params.get(k) for k in ("ServiceNamespace", "ResourceId", "ScalableDimension",
                                             "ScheduledActionName"))
    if not any((a.service_namespace, a.resource_id, a.scalable_dimension, a.scheduled_action_name) == key
               for a in backend.scheduled_actions):
        raise AwsError(
            "ObjectNotFoundException",
            f"No scheduled action found for service namespace: {key[0]}, resource ID: {key[1]}, "
            f"scalable dimension: {key[2]}, scheduled action name: {key[3]}", 400)


@rule(SERVICE, "PutScalingPolicy", "PutScheduledAction")
def needs_a_registered_target(req: AwsRequest) -> None:
    """Policies and scheduled actions attach to a registered scalable target.

    https://docs.aws.amazon.com/autoscaling/application/APIReference/API_PutScalingPolicy.html
    and API_PutScheduledAction.html ("ObjectNotFoundException: ... For any operation that
    depends on the existence of a scalable target, this exception is thrown if the scalable
    target with the specified service namespace, resource ID, and scalable dimension does
    not exist").
    """
    if _registered(req) is None:
        raise AwsError(
            "ObjectNotFoundException",
            "No scalable target registered for service namespace: "
            f"{req.params.get('ServiceNamespace')}, resource ID: {req.params.get('ResourceId')}, "
            f"scalable dimension: {req.params.get('ScalableDimension')}", 400)


@rule(SERVICE, "DeregisterScalableTarget")
def deregistering_removes_policies_and_actions(req: AwsRequest) -> None:
    """Deregistering a target also deletes its scaling policies and scheduled actions.

    https://docs.aws.amazon.com/autoscaling/application/APIReference/API_DeregisterScalableTarget.html
    ("Deregistering a scalable target deletes the scaling policies and the scheduled
    actions that are associated with it"). moto kept them; this runs before moto removes
    the target, and only when the target exists (otherwise moto answers the error).
    """
    if _registered(req) is None:
        return

    backend = moto_backend("applicationautoscaling", req.region)
    key = (req.params.get("ServiceNamespace"), req.params.get("ResourceId"),
           req.params.get("ScalableDimension"))

    def same_target(item) -> bool:
        return (item.service_namespace, item.resource_id, item.scalable_dimension) == key

    for policy_key in [k for k, p in backend.policies.items() if same_target(p)]:
        del backend.policies[policy_key]
    backend.scheduled_actions[:] = [a for a in backend.scheduled_actions if not same_target(a)]


# ---------------------------------------------------------------- tags (moto 5.2 lacks them)

#: Scalable target ARN -> its tags. moto drops RegisterScalableTarget's Tags and lacks
#: ListTagsForResource, TagResource and UntagResource (HTTP 501).
_TAGS: dict[str, dict[str, str]] = {}


@on_reset
def _clear_tags() -> None:
    _TAGS.clear()


def _target_by_arn(region: str, arn: Any):
    backend = moto_backend("applicationautoscaling", region)
    for targets in backend.targets.values():
        for target in targets.values():
            if target.arn == arn:
                return target
    raise AwsError("ResourceNotFoundException", f"The specified resource doesn't exist: {arn}.", 400)


@rule(SERVICE, "RegisterScalableTarget")
def note_new_target(req: AwsRequest) -> None:
    req.environ["mylearning.aas.new-target"] = _registered(req) is None


@after(SERVICE, "RegisterScalableTarget")
def tag_new_target(req: AwsRequest, status: int, body: bytes) -> None:
    """Tags: "Use this parameter to tag the scalable target when it is created. To tag an
    existing scalable target, use the TagResource operation" (API_RegisterScalableTarget.html)."""
    tags = req.params.get("Tags")
    if isinstance(tags, dict) and tags and req.environ.get("mylearning.aas.new-target"):
        arn = json.loads(body or b"{}").get("ScalableTargetARN")
        if arn:
            _TAGS[arn] = dict(tags)


@handler(SERVICE, "ListTagsForResource")
def list_tags_for_resource(req: AwsRequest) -> tuple[int, Any]:
    """https://docs.aws.amazon.com/autoscaling/application/APIReference/API_ListTagsForResource.html"""
    target = _target_by_arn(req.region, req.params.get("ResourceARN"))
    return 200, {"Tags": dict(_TAGS.get(target.arn, {}))}


@handler(SERVICE, "TagResource")
def tag_resource(req: AwsRequest) -> tuple[int, Any]:
    """Adds tags, or replaces the value of a key the target has
    (https://docs.aws.amazon.com/autoscaling/application/APIReference/API_TagResource.html)."""
    target = _target_by_arn(req.region, req.params.get("ResourceARN"))
    tags = req.params.get("Tags")
    if not isinstance(tags, dict):
        raise validation_exception("Tags must be a map of tag keys to values.")
    _TAGS.setdefault(target.arn, {}).update(tags)
    return 200, {}


@handler(SERVICE, "UntagResource")
def untag_resource(req: AwsRequest) -> tuple[int, Any]:
    """https://docs.aws.amazon.com/autoscaling/application/APIReference/API_UntagResource.html"""
    target = _target_by_arn(req.region, req.params.get("ResourceARN"))
    for key in req.params.get("TagKeys") or []:
        _TAGS.get(target.arn, {}).pop(key, None)
    return 200, {}
