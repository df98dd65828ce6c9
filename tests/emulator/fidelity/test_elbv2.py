"""ELBv2 fidelity: ALB subnets, forward weights, listener ports and rule priorities."""
from __future__ import annotations

import pytest

from mylearning.emulator.fidelity.cases import OK
from mylearning.emulator.fidelity.cases.elbv2 import CASES


def test_table_has_valid_forms():
    assert sum(c.expect == OK for c in CASES) >= 5


def test_one_subnet_error_is_validation_error_with_status_400(env):
    from botocore.exceptions import ClientError

    ec2, elb = env.client("ec2"), env.client("elbv2")
    vpc = ec2.create_vpc(CidrBlock="10.60.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.60.1.0/24")["Subnet"]["SubnetId"]
    with pytest.raises(ClientError) as info:
        elb.create_load_balancer(Name="one-subnet", Subnets=[subnet])
    error = info.value.response
    assert error["Error"]["Code"] == "ValidationError"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "two different Availability Zones" in error["Error"]["Message"]
