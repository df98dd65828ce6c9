"""IAM fidelity: trust policies and AWS managed policies."""
from __future__ import annotations

import json

import pytest

from mylearning.emulator.fidelity.cases import OK
from mylearning.emulator.fidelity.cases.iam import CASES, ECS_TASKS, EXECUTION_POLICY
from mylearning.emulator.fidelity.iam import trust_policy_problem


def test_table_has_valid_forms():
    assert sum(c.expect == OK for c in CASES) >= 6


def test_malformed_trust_policy_raises_its_exception_class(env):
    iam = env.client("iam")
    with pytest.raises(iam.exceptions.MalformedPolicyDocumentException) as info:
        iam.create_role(RoleName=env.name("role"), AssumeRolePolicyDocument="{")
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_execution_role_gets_the_aws_managed_policy(env):
    iam, name = env.client("iam"), env.name("exec")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [ECS_TASKS]}))
    iam.attach_role_policy(RoleName=name, PolicyArn=EXECUTION_POLICY)
    attached = iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
    assert attached == [{"PolicyName": "AmazonECSTaskExecutionRolePolicy", "PolicyArn": EXECUTION_POLICY}]
    policy = iam.get_policy(PolicyArn=EXECUTION_POLICY)["Policy"]
    assert policy["Path"] == "/service-role/" and policy["AttachmentCount"] >= 1
    version = iam.get_policy_version(PolicyArn=EXECUTION_POLICY, VersionId=policy["DefaultVersionId"])
    actions = json.dumps(version["PolicyVersion"]["Document"])
    assert "ecr:GetAuthorizationToken" in actions and "logs:PutLogEvents" in actions


@pytest.mark.parametrize("document", [
    {"Version": "2012-10-17", "Statement": [ECS_TASKS]},
    {"Statement": ECS_TASKS},
    {"Version": "2008-10-17", "Id": "trust", "Statement": [{**ECS_TASKS, "Sid": "ecs"}]},
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "NotAction": "iam:*"}]},
])
def test_valid_trust_policies_pass(document):
    assert trust_policy_problem(json.dumps(document)) is None


@pytest.mark.parametrize("document", [
    "", "{", "[]", '"text"', json.dumps({"Statement": []}), json.dumps({"Version": "2020-01-01",
                                                                     "Statement": [ECS_TASKS]}),
    json.dumps({"Statement": [ECS_TASKS], "Extra": 1}), json.dumps({"Statement": ["sts:AssumeRole"]}),
    json.dumps({"Statement": [{**ECS_TASKS, "Actions": "sts:AssumeRole"}]}),
    json.dumps({"Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs.amazonaws.com"}}]}),
])
def test_malformed_trust_policies_are_named(document):
    assert trust_policy_problem(document)
