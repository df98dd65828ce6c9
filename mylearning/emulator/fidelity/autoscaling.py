"""Amazon EC2 Auto Scaling: group checks AWS makes that moto 5.2 skips.

Lab 02 backs an ECS capacity provider with an Auto Scaling group built from a
launch template (MinSize 0, MaxSize 4, DesiredCapacity 0). Auto Scaling speaks
the query protocol, so ``req.params`` is the flat form (``MinSize``,
``LaunchTemplate.LaunchTemplateName``, ``Tags.member.1.Key``) with every value
a string. AWS answers ``ValidationError`` for bad input, and the error codes
each operation's page lists (AlreadyExists, ResourceInUse), all HTTP 400.

What moto already gets right and the table pins: a LaunchTemplate naming both
an id and a name, a group without launch template or configuration, a group
with neither subnets nor zones, and DeleteAutoScalingGroup of a missing group.
"""
from __future__ import annotations

from mylearning.emulator.fidelity.core import AwsError, AwsRequest, moto_backend, rule

SERVICE = "autoscaling"
API = "https://docs.aws.amazon.com/autoscaling/ec2/APIReference/"
MAX_NAME = 255  # AutoScalingGroupName: "Maximum length of 255"


def validation(message: str) -> AwsError:
    return AwsError("ValidationError", message, 400)


def _group(region: str, name: str):
    try:
        return moto_backend("autoscaling", region).autoscaling_groups.get(name)
    except Exception:
        return None


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _sizes_ok(minimum: int | None, maximum: int | None, desired: int | None) -> None:
    if minimum is not None and maximum is not None and minimum > maximum:
        raise validation(f"Max bound, {maximum}, must be greater than or equal to min bound, {minimum}")
    if desired is not None and minimum is not None and maximum is not None \
            and not minimum <= desired <= maximum:
        raise validation(f"Desired capacity:{desired} must be between the specified min size:{minimum} "
                         f"and max size:{maximum}")


@rule(SERVICE, "CreateAutoScalingGroup")
def group_name_unique(req: AwsRequest) -> None:
    """A group name is unique in the Region; a second CreateAutoScalingGroup is refused.

    https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_CreateAutoScalingGroup.html
    (AutoScalingGroupName: "This name must be unique per Region per account"; Errors:
    AlreadyExists, "You already have an Auto Scaling group or launch configuration with this
    name", HTTP 400). moto 5.2 silently replaces the existing group.
    """
    name = req.params.get("AutoScalingGroupName")
    if name and _group(req.region, name) is not None:
        raise AwsError("AlreadyExists", f"AutoScalingGroup by this name already exists - "
                                        f"A group with the name {name} already exists", 400)


@rule(SERVICE, "CreateAutoScalingGroup")
def group_name_well_formed(req: AwsRequest) -> None:
    """A group name has at most 255 characters and no colon.

    https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_CreateAutoScalingGroup.html
    (AutoScalingGroupName: "You cannot use a colon (:) in the name"; "Length Constraints:
    Minimum length of 1. Maximum length of 255").
    """
    name = req.params.get("AutoScalingGroupName")
    if not name:
        return
    if len(name) > MAX_NAME:
        raise validation("1 validation error detected: Value at 'autoScalingGroupName' failed to "
                         f"satisfy constraint: Member must have length less than or equal to {MAX_NAME}")
    if ":" in name:
        raise validation(f"AutoScalingGroup name {name} is invalid: the name cannot contain a colon (:).")


@rule(SERVICE, "CreateAutoScalingGroup", "UpdateAutoScalingGroup")
def sizes_consistent(req: AwsRequest) -> None:
    """MinSize <= MaxSize, and DesiredCapacity, when given, lies between them.

    https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_CreateAutoScalingGroup.html
    (DesiredCapacity: "This number must be greater than or equal to the minimum size of the
    group and less than or equal to the maximum size of the group"). On
    UpdateAutoScalingGroup the sizes not given keep the group's current values, and a new
    MinSize or MaxSize alone moves the desired capacity with it, as
    API_UpdateAutoScalingGroup.html describes, so only a DesiredCapacity in the request is
    held to the bounds.
    """
    minimum, maximum = _int(req.params.get("MinSize")), _int(req.params.get("MaxSize"))
    desired = _int(req.params.get("DesiredCapacity"))
    if req.operation == "UpdateAutoScalingGroup":
        group = _group(req.region, req.params.get("AutoScalingGroupName", ""))
        if group is None:
            return  # moto answers the unknown group itself
        minimum = group.min_size if minimum is None else minimum
        maximum = group.max_size if maximum is None else maximum
    _sizes_ok(minimum, maximum, desired)


@rule(SERVICE, "SetDesiredCapacity")
def desired_capacity_within_group_bounds(req: AwsRequest) -> None:
    """SetDesiredCapacity names an existing group and stays within its MinSize..MaxSize.

    https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_SetDesiredCapacity.html, with
    the bound the API states for a desired capacity (API_UpdateAutoScalingGroup.html,
    DesiredCapacity: "This number must be greater than or equal to the minimum size of the
    group and less than or equal to the maximum size of the group"). moto 5.2 accepts any
    value, and answers an unknown group with HTTP 500.
    """
    name = req.params.get("AutoScalingGroupName", "")
    desired = _int(req.params.get("DesiredCapacity"))
    group = _group(req.region, name)
    if group is None:
        raise validation(f"AutoScalingGroup name not found - AutoScalingGroup '{name}' not found")
    if desired is None:
        return
    if desired > group.max_size:
        raise validation(f"New SetDesiredCapacity value {desired} is above max value {group.max_size} "
                         f"for the AutoScalingGroup.")
    if desired < group.min_size:
        raise validation(f"New SetDesiredCapacity value {desired} is below min value {group.min_size} "
                         f"for the AutoScalingGroup.")


@rule(SERVICE, "DeleteAutoScalingGroup")
def delete_with_instances_needs_force(req: AwsRequest) -> None:
    """A group that still has instances is deleted only with ForceDelete.

    https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_DeleteAutoScalingGroup.html
    ("If the group has instances or scaling activities in progress, you must specify the
    option to force the deletion in order for it to succeed"; Errors: ResourceInUse, HTTP 400).
    """
    if req.params.get("ForceDelete", "false").lower() == "true":
        return
    group = _group(req.region, req.params.get("AutoScalingGroupName", ""))
    if group is not None and getattr(group, "instance_states", None):
        raise AwsError("ResourceInUse", "You cannot delete an AutoScalingGroup while there are "
                                        "instances or pending Spot instance request(s) still in "
                                        "the group.", 400)


@rule(SERVICE, "DescribeLoadBalancers", "DescribeLoadBalancerTargetGroups")
def load_balancers_of_an_existing_group(req: AwsRequest) -> None:
    """The load balancers "for the specified Auto Scaling group": the group must exist
    (https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_DescribeLoadBalancers.html).
    moto 5.2 answers an unknown group with HTTP 500 (KeyError); AWS with the ValidationError
    it gives every operation on a group that does not exist.
    """
    name = req.params.get("AutoScalingGroupName", "")
    if _group(req.region, name) is None:
        raise validation(f"AutoScalingGroup name not found - AutoScalingGroup '{name}' not found")
