"""Application Auto Scaling: checks AWS makes that moto skips.

The service speaks JSON 1.1; its errors are ``ValidationException`` (HTTP 400).
"""
from __future__ import annotations

import datetime
import json
import re
from typing import Any

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


_AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")
_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((.+)\)$")
#: One cron field: numbers, names (JAN, MON), and the wildcards * ? - , / L W #.
_CRON_FIELD = re.compile(r"^[0-9A-Za-z*?,/#\-]+$")


def schedule_error(schedule: str) -> str | None:
    """Why a schedule expression is malformed, or None when it is one of AWS's forms.

    https://docs.aws.amazon.com/autoscaling/application/APIReference/API_PutScheduledAction.html
    ("At expressions - at(yyyy-mm-ddThh:mm:ss)", "Rate expressions - rate(value unit)" with
    unit minute | minutes | hour | hours | day | days, "Cron expressions - cron(fields)" with
    six fields: minutes, hours, day of month, month, day of week, year).
    """
    at = _AT.match(schedule)
    if at:
        try:
            datetime.datetime.strptime(at.group(1), "%Y-%m-%dT%H:%M:%S")
        except ValueError:
            return f"the date in '{schedule}' does not exist"
        return None
    rate = _RATE.match(schedule)
    if rate:
        value = int(rate.group(1))
        if value < 1:
            return "a rate must be a positive number"
        return None
    cron = _CRON.match(schedule)
    if cron:
        fields = cron.group(1).split()
        if len(fields) != 6:
            return f"a cron expression has 6 fields, '{schedule}' has {len(fields)}"
        if not all(_CRON_FIELD.match(f) for f in fields):
            return f"'{schedule}' has a field with characters cron does not allow"
        return None
    return "use at(yyyy-mm-ddThh:mm:ss), rate(value unit) or cron(fields)"


@rule(SERVICE, "PutScheduledAction")
def schedule_is_well_formed(req: AwsRequest) -> None:
    schedule = req.params.get("Schedule")
    if schedule is None:
        return
    problem = schedule_error(schedule.strip())
    if problem:
        raise validation_exception(f"Schedule expression '{schedule}' is not valid: {problem}.")


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
