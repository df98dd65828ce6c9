"""EC2 fidelity: subnets, security groups, routes and launch templates answer in EC2's own error shape."""
from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from mylearning.emulator.fidelity.ec2 import _permissions


def _error(info) -> tuple[str, int, str]:
    response = info.value.response
    return (response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"],
            response["Error"]["Message"])


def test_small_subnet_is_invalid_subnet_range_with_status_400(env):
    ec2 = env.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.61.0.0/16")["Vpc"]["VpcId"]
    with pytest.raises(ClientError) as info:
        ec2.create_subnet(VpcId=vpc, CidrBlock="10.61.0.0/29")
    assert _error(info) == ("InvalidSubnet.Range", 400, "The CIDR '10.61.0.0/29' is invalid.")


def test_tcp_rule_without_ports_is_a_400_not_a_crash(env):
    ec2 = env.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.62.0.0/16")["Vpc"]["VpcId"]
    group = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
    with pytest.raises(ClientError) as info:
        ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
            {"IpProtocol": "tcp", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    code, status, message = _error(info)
    assert (code, status) == ("InvalidParameterValue", 400)
    assert "Must specify both from and to ports with TCP/UDP" in message


def test_security_group_name_sg_prefix_names_the_parameter(env):
    ec2 = env.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.63.0.0/16")["Vpc"]["VpcId"]
    with pytest.raises(ClientError) as info:
        ec2.create_security_group(GroupName="sg-web", Description="web", VpcId=vpc)
    assert _error(info)[2] == ("Value (sg-web) for parameter GroupName is invalid. "
                               "Group names may not be in the format sg-*.")


def _ingress(params: dict):
    from mylearning.emulator.fidelity.core import AwsRequest
    return AwsRequest(service="ec2", operation="AuthorizeSecurityGroupIngress", protocol="ec2",
                      region="us-east-1", method="POST", path="/", params=params)


def test_permissions_read_numbered_and_flat_forms():
    """The EC2 wire's numbered and older flat forms, read back as the model nests and types them."""
    params = {"IpPermissions.2.IpProtocol": "udp", "IpPermissions.1.IpProtocol": "tcp",
              "IpPermissions.1.FromPort": "80", "IpPermissions.1.ToPort": "80"}
    assert _permissions(_ingress(params)) == [{"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80},
                                              {"IpProtocol": "udp"}]
    assert _permissions(_ingress({"IpProtocol": "tcp", "FromPort": "22", "ToPort": "22",
                                  "CidrIp": "x"})) == [
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22}]
