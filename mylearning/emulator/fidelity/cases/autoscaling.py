"""EC2 Auto Scaling fidelity cases: lab 02's group behind the ECS capacity provider.

Group names, MinSize/MaxSize/DesiredCapacity on create, update and
SetDesiredCapacity, and deleting a group that still has instances.
"""
from __future__ import annotations

from typing import Any, Callable

from mylearning.emulator.fidelity.cases import OK, BehaviourMismatch, Case, Env

API = "https://docs.aws.amazon.com/autoscaling/ec2/APIReference/"
CREATE, UPDATE = "API_CreateAutoScalingGroup.html", "API_UpdateAutoScalingGroup.html"
SET, DELETE = "API_SetDesiredCapacity.html", "API_DeleteAutoScalingGroup.html"
INVALID = "ValidationError"
LOAD_BALANCERS = "API_DescribeLoadBalancers.html"


def _setup(env: Env) -> dict[str, str]:
    """A private subnet and a launch template, made once per Env, as lab 02 has them."""
    if not hasattr(env, "_autoscaling_setup"):
        ec2 = env.client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.70.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.70.10.0/24",
                                   AvailabilityZone=f"{env.region}a")["Subnet"]["SubnetId"]
        template = env.name("ecs-lt")
        ec2.create_launch_template(LaunchTemplateName=template, LaunchTemplateData={
            "ImageId": "ami-12c6146b", "InstanceType": "t3.medium"})
        env._autoscaling_setup = {"subnet": subnet, "template": template}
    return env._autoscaling_setup


def _group_args(env: Env, name: str, **overrides: Any) -> dict[str, Any]:
    setup = _setup(env)
    args: dict[str, Any] = {
        "AutoScalingGroupName": name,
        "LaunchTemplate": {"LaunchTemplateName": setup["template"], "Version": "$Latest"},
        "MinSize": 0, "MaxSize": 4, "DesiredCapacity": 0, "VPCZoneIdentifier": setup["subnet"],
        "NewInstancesProtectedFromScaleIn": True,
        "Tags": [{"Key": "course", "Value": "mylearning", "PropagateAtLaunch": True},
                 {"Key": "AmazonECSManaged", "Value": "", "PropagateAtLaunch": True}]}
    args.update(overrides)
    return {k: v for k, v in args.items() if v is not None}


def _create(name: Callable[[Env], str] = lambda env: env.name("ecs-asg"), **overrides: Any) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        return env.client("autoscaling").create_auto_scaling_group(**_group_args(env, name(env), **overrides))
    return call


def _group(env: Env, **overrides: Any) -> str:
    name = env.name("ecs-asg")
    env.client("autoscaling").create_auto_scaling_group(**_group_args(env, name, **overrides))
    return name


def _create_twice(env: Env) -> Any:
    name = _group(env)
    return env.client("autoscaling").create_auto_scaling_group(**_group_args(env, name))


def _update(expect_desired: int | None = None, **changes: Any) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        asg, name = env.client("autoscaling"), _group(env)
        asg.update_auto_scaling_group(AutoScalingGroupName=name, **changes)
        if expect_desired is not None:
            group = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"][0]
            if group["DesiredCapacity"] != expect_desired:
                raise BehaviourMismatch(f"DesiredCapacity {group['DesiredCapacity']}, "
                                        f"expected {expect_desired}")
    return call


def _set_desired(desired: int, exists: bool = True) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        name = _group(env, MinSize=1, DesiredCapacity=1) if exists else env.name("missing-asg")
        return env.client("autoscaling").set_desired_capacity(AutoScalingGroupName=name,
                                                              DesiredCapacity=desired)
    return call


def _delete(instances: int, force: bool | None) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        name = _group(env, MinSize=0, DesiredCapacity=instances, NewInstancesProtectedFromScaleIn=False)
        args = {} if force is None else {"ForceDelete": force}
        return env.client("autoscaling").delete_auto_scaling_group(AutoScalingGroupName=name, **args)
    return call


def _case(id: str, call: Callable[[Env], Any], expect: str, page: str = CREATE,
          kind: str = "validation") -> Case:
    return Case(f"autoscaling.{id}", "autoscaling", call, expect, API + page, kind)


CASES = [
    _case("create.valid-lab-group", _create(), OK),
    _case("create.duplicate-name", _create_twice, "AlreadyExists"),
    _case("create.desired-above-max", _create(DesiredCapacity=5), INVALID),
    _case("create.desired-below-min", _create(MinSize=2, DesiredCapacity=1), INVALID),
    _case("create.min-above-max", _create(MinSize=5, MaxSize=4, DesiredCapacity=None), INVALID),
    _case("create.valid-desired-equals-max", _create(MinSize=1, MaxSize=2, DesiredCapacity=2), OK),
    _case("create.valid-without-desired", _create(MinSize=1, MaxSize=2, DesiredCapacity=None), OK),
    _case("create.name-with-colon", _create(lambda env: env.name("ecs:asg")), INVALID),
    _case("create.name-256-characters", _create(lambda env: env.name("asg") + "a" * 244), INVALID),
    _case("create.valid-name-255-characters", _create(lambda env: env.name("asg") + "a" * 243), OK),
    _case("create.template-id-and-name", _create(LaunchTemplate={
        "LaunchTemplateId": "lt-0123456789abcdef0", "LaunchTemplateName": "ecs-lt", "Version": "$Latest"}),
        INVALID),
    _case("create.no-launch-template", _create(LaunchTemplate=None), INVALID),
    _case("create.no-subnets-or-zones", _create(VPCZoneIdentifier=None), INVALID),
    _case("update.desired-above-max", _update(DesiredCapacity=5), INVALID, UPDATE),
    _case("update.max-below-min", _update(MinSize=3, MaxSize=2), INVALID, UPDATE),
    _case("update.valid-desired-within-bounds", _update(DesiredCapacity=2), OK, UPDATE),
    _case("update.valid-min-raised-alone", _update(expect_desired=2, MinSize=2), OK, UPDATE, "behaviour"),
    _case("set-desired.above-max", _set_desired(9), INVALID, SET),
    _case("set-desired.below-min", _set_desired(0), INVALID, SET),
    _case("set-desired.missing-group", _set_desired(1, exists=False), INVALID, SET),
    _case("set-desired.valid-within-bounds", _set_desired(3), OK, SET),
    _case("delete.with-instances-without-force", _delete(1, force=None), "ResourceInUse", DELETE),
    _case("delete.with-instances-force-false", _delete(1, force=False), "ResourceInUse", DELETE),
    _case("delete.valid-with-instances-force", _delete(1, force=True), OK, DELETE),
    _case("delete.valid-empty-group", _delete(0, force=None), OK, DELETE),
    _case("delete.missing-group", lambda env: env.client("autoscaling").delete_auto_scaling_group(
        AutoScalingGroupName=env.name("missing-asg")), INVALID, DELETE),
    _case("load-balancers.valid-group", lambda env: env.client("autoscaling").describe_load_balancers(
        AutoScalingGroupName=_group(env)), OK, LOAD_BALANCERS),
    _case("load-balancers.missing-group", lambda env: env.client("autoscaling").describe_load_balancers(
        AutoScalingGroupName=env.name("missing-asg")), INVALID, LOAD_BALANCERS),
]
