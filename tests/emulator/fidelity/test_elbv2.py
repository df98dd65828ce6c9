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


def test_rule_tables_cite_aws_and_pair_errors_with_valid_forms():
    from mylearning.emulator.fidelity.cases.elbv2_rules import CASES as RULE_CASES

    assert sum(c.expect == OK for c in RULE_CASES) >= 10
    assert {"ValidationError", "InvalidLoadBalancerAction", "OperationNotPermitted"} <= {
        c.expect for c in RULE_CASES}
    assert all(c.doc.startswith("https://docs.aws.amazon.com/elasticloadbalancing/") for c in RULE_CASES)


def test_list_parameters_are_read_back_from_the_query_form():
    from mylearning.emulator.fidelity.core import AwsRequest
    from mylearning.emulator.fidelity.elbv2.access import listed

    params = {"Conditions.member.2.Field": "host-header",
              "Conditions.member.2.Values.member.1": "api.example.com",
              "Conditions.member.1.Field": "path-pattern",
              "Conditions.member.1.PathPatternConfig.Values.member.2": "/v2/*",
              "Conditions.member.1.PathPatternConfig.Values.member.1": "/api/*",
              "Actions.member.1.Type": "forward", "Priority": "10"}
    req = AwsRequest(service="elbv2", operation="CreateRule", protocol="query", region="us-east-1",
                     method="POST", path="/", params=params)
    assert listed(req, "Conditions") == [
        {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/api/*", "/v2/*"]}},
        {"Field": "host-header", "Values": ["api.example.com"]}]
    assert listed(req, "Actions") == [{"Type": "forward"}]
    assert listed(req, "Tags") == []


def test_sixth_condition_value_and_default_rule_priority_answer_like_aws(env):
    from mylearning.emulator.fidelity.cases.elbv2_rules import _listener, _path

    elb = env.client("elbv2")
    listener, blue, _ = _listener(env)
    with pytest.raises(elb.exceptions.ClientError) as info:
        elb.create_rule(ListenerArn=listener, Priority=5,
                        Conditions=[_path("/a", "/b", "/c", "/d", "/e", "/f")],
                        Actions=[{"Type": "forward", "TargetGroupArn": blue}])
    assert info.value.response["Error"] == {
        "Type": "Sender", "Code": "ValidationError",
        "Message": "A rule can only have '5' condition values"}
    default = elb.describe_rules(ListenerArn=listener)["Rules"][0]["RuleArn"]
    with pytest.raises(elb.exceptions.OperationNotPermittedException):
        elb.set_rule_priorities(RulePriorities=[{"RuleArn": default, "Priority": 7}])
