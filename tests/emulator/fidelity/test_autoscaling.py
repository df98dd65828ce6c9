"""Auto Scaling fidelity: duplicate names, capacity bounds and deleting busy groups, as query-protocol errors."""
from __future__ import annotations

import pytest

from mylearning.emulator.fidelity.cases.autoscaling import _group_args


def test_duplicate_group_is_already_exists_fault(env):
    asg = env.client("autoscaling")
    args = _group_args(env, env.name("ecs-asg"))
    asg.create_auto_scaling_group(**args)
    with pytest.raises(asg.exceptions.AlreadyExistsFault) as info:
        asg.create_auto_scaling_group(**args)
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "already exists" in info.value.response["Error"]["Message"]


def test_desired_outside_bounds_names_the_bounds(env):
    asg = env.client("autoscaling")
    with pytest.raises(asg.exceptions.ClientError) as info:
        asg.create_auto_scaling_group(**_group_args(env, env.name("ecs-asg"), DesiredCapacity=5))
    assert info.value.response["Error"] == {
        "Type": "Sender", "Code": "ValidationError",
        "Message": "Desired capacity:5 must be between the specified min size:0 and max size:4"}


def test_deleting_a_group_with_instances_needs_force(env):
    asg = env.client("autoscaling")
    name = env.name("ecs-asg")
    asg.create_auto_scaling_group(**_group_args(env, name, DesiredCapacity=1,
                                                NewInstancesProtectedFromScaleIn=False))
    with pytest.raises(asg.exceptions.ResourceInUseFault):
        asg.delete_auto_scaling_group(AutoScalingGroupName=name)
    asg.delete_auto_scaling_group(AutoScalingGroupName=name, ForceDelete=True)
    assert not asg.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"]
