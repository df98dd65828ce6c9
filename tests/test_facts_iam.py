"""mylearning.facts.iam: IAM's allow / explicit deny / implicit deny, without I/O.

The table's rows are the rules and examples of
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html,
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html,
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html,
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html and
https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html.
"""
from __future__ import annotations

import pytest

from mylearning.facts import iam

SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"


def _docs(*statements):
    return [("inline policy p", {"Version": "2012-10-17", "Statement": list(statements)})]


def test_decide_tells_the_two_denials_apart():
    allow = {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": SECRET}
    deny = {"Effect": "Deny", "Action": "secretsmanager:*", "Resource": "*"}
    assert iam.decide(_docs(allow), "secretsmanager:GetSecretValue", SECRET) == iam.ALLOW
    assert iam.decide(_docs(), "secretsmanager:GetSecretValue", SECRET) == iam.IMPLICIT_DENY
    assert iam.decide(_docs(allow, deny), "secretsmanager:GetSecretValue", SECRET) == iam.EXPLICIT_DENY


def test_wildcards_and_case():
    doc = _docs({"Effect": "Allow", "Action": ["ssm:Get*"], "Resource": "arn:aws:ssm:*:*:parameter/app/?b"})
    assert iam.allows(doc, "SSM:GetParameters", "arn:aws:ssm:us-east-1:1:parameter/app/db")
    assert not iam.allows(doc, "ssm:GetParameters", "arn:aws:ssm:us-east-1:1:parameter/app/DB2")
    assert not iam.allows(doc, "ssm:GetParameters", "arn:aws:ssm:us-east-1:1:parameter/APP/db")
    # Brackets are not IAM syntax: they match themselves only.
    odd = _docs({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/[ab]"})
    assert iam.allows(odd, "s3:GetObject", "arn:aws:s3:::b/[ab]")
    assert not iam.allows(odd, "s3:GetObject", "arn:aws:s3:::b/a")


def test_not_action_grants_everything_else():
    doc = _docs({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})
    assert iam.decide(doc, "s3:GetObject", "arn:aws:s3:::b/k") == iam.ALLOW
    assert iam.decide(doc, "iam:CreateUser", "*") == iam.IMPLICIT_DENY


def test_documents_and_single_statements():
    text = '{"Statement": {"Effect": "Allow", "Action": "logs:*", "Resource": "*"}}'
    assert iam.statements(iam.document(text)) == [{"Effect": "Allow", "Action": "logs:*", "Resource": "*"}]
    assert iam.document("%7B%22Statement%22%3A%20%5B%5D%7D") == {"Statement": []}
    assert iam.as_list("a") == ["a"] and iam.as_list(None) == []


ROLE = "arn:aws:iam::123456789012:role/courses-api-task"
TABLE_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/courses"


def _allow(action="*", resource="*", condition=None, **extra):
    statement = {"Effect": "Allow", "Action": action, "Resource": resource, **extra}
    if condition is not None:
        statement["Condition"] = condition
    return statement


def _deny(action="*", resource="*", condition=None):
    statement = {"Effect": "Deny", "Action": action, "Resource": resource}
    if condition is not None:
        statement["Condition"] = condition
    return statement


A, E, I = iam.ALLOW, iam.EXPLICIT_DENY, iam.IMPLICIT_DENY

#: (why, statements of the identity policy, action, resource, context, expected decision)
TABLE = [
    # Evaluation logic: implicit deny by default, an Allow allows, an explicit Deny wins.
    ("no policy: implicit deny", [], "s3:GetObject", "arn:aws:s3:::b/k", {}, I),
    ("an Allow allows", [_allow("s3:GetObject", "arn:aws:s3:::b/*")], "s3:GetObject", "arn:aws:s3:::b/k", {}, A),
    ("Deny wins over Allow", [_allow(), _deny("s3:Delete*")], "s3:DeleteObject", "arn:aws:s3:::b/k", {}, E),
    ("Deny of another action leaves Allow", [_allow(), _deny("s3:Delete*")], "s3:GetObject", "arn:aws:s3:::b/k", {}, A),
    # Action: case-insensitive, wildcards; Resource: case-sensitive.
    ("action case-insensitive", [_allow("DynamoDB:getitem", TABLE_ARN)], "dynamodb:GetItem", TABLE_ARN, {}, A),
    ("? matches one character", [_allow("ec2:Describe?pcs")], "ec2:DescribeVpcs", "*", {}, A),
    ("resource case-sensitive", [_allow("dynamodb:GetItem", TABLE_ARN.upper())], "dynamodb:GetItem", TABLE_ARN, {}, I),
    # NotAction / NotResource.
    ("NotAction allows the rest", [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}],
     "xray:PutTraceSegments", "*", {}, A),
    ("NotAction does not allow its own", [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}],
     "iam:PassRole", ROLE, {}, I),
    ("Deny with NotResource denies other resources",
     [_allow(), {"Effect": "Deny", "Action": "dynamodb:*", "NotResource": TABLE_ARN}],
     "dynamodb:GetItem", TABLE_ARN + "-old", {}, E),
    ("Deny with NotResource spares its resource",
     [_allow(), {"Effect": "Deny", "Action": "dynamodb:*", "NotResource": TABLE_ARN}],
     "dynamodb:GetItem", TABLE_ARN, {}, A),
    # String operators.
    ("StringEquals matches", [_allow(condition={"StringEquals": {"aws:PrincipalTag/team": "courses"}})],
     "s3:GetObject", "*", {"aws:PrincipalTag/team": "courses"}, A),
    ("StringEquals is case-sensitive", [_allow(condition={"StringEquals": {"aws:PrincipalTag/team": "courses"}})],
     "s3:GetObject", "*", {"aws:PrincipalTag/team": "Courses"}, I),
    ("condition key names are case-insensitive",
     [_allow(condition={"StringEquals": {"AWS:principaltag/team": "courses"}})],
     "s3:GetObject", "*", {"aws:PrincipalTag/team": "courses"}, A),
    ("StringEqualsIgnoreCase", [_allow(condition={"StringEqualsIgnoreCase": {"aws:PrincipalTag/team": "courses"}})],
     "s3:GetObject", "*", {"aws:PrincipalTag/team": "COURSES"}, A),
    ("absent key: condition false", [_allow(condition={"StringEquals": {"aws:PrincipalTag/team": "courses"}})],
     "s3:GetObject", "*", {}, I),
    ("several values are ORed", [_allow(condition={"StringEquals": {"aws:RequestedRegion": ["eu-west-1", "us-east-1"]}})],
     "s3:GetObject", "*", {"aws:RequestedRegion": "us-east-1"}, A),
    ("StringNotEquals: value matches none", [_deny(condition={"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1", "us-east-1"]}}), _allow()],
     "s3:GetObject", "*", {"aws:RequestedRegion": "ap-south-1"}, E),
    ("StringNotEquals: value matches one", [_deny(condition={"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1", "us-east-1"]}}), _allow()],
     "s3:GetObject", "*", {"aws:RequestedRegion": "us-east-1"}, A),
    ("negated operator, absent key: true", [_deny(condition={"StringNotEquals": {"aws:PrincipalTag/team": "x"}}), _allow()],
     "s3:GetObject", "*", {}, E),
    ("StringLike wildcards", [_allow(condition={"StringLike": {"aws:userid": "AROA*:task-?"}})],
     "s3:GetObject", "*", {"aws:userid": "AROAEXAMPLE:task-7"}, A),
    ("StringLike no partial match without *", [_allow(condition={"StringLike": {"aws:userid": "AROA"}})],
     "s3:GetObject", "*", {"aws:userid": "AROAEXAMPLE:task-7"}, I),
    ("StringNotLike", [_deny(condition={"StringNotLike": {"aws:userid": "AROA*"}}), _allow()],
     "s3:GetObject", "*", {"aws:userid": "AIDAUSER"}, E),
    # ARN operators: component by component.
    ("ArnLike", [_allow("sts:AssumeRole", condition={"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/courses-*"}})],
     "sts:AssumeRole", "*", {"aws:PrincipalArn": ROLE.replace("courses-api-task", "courses-api")}, A),
    ("ArnEquals takes wildcards too", [_allow(condition={"ArnEquals": {"aws:SourceArn": "arn:aws:ecs:us-east-1:123456789012:*"}})],
     "s3:GetObject", "*", {"aws:SourceArn": "arn:aws:ecs:us-east-1:123456789012:cluster/c"}, A),
    ("ArnLike: the account must match as a component",
     [_allow(condition={"ArnLike": {"aws:SourceArn": "arn:aws:ecs:us-east-1:111122223333:*"}})],
     "s3:GetObject", "*", {"aws:SourceArn": "arn:aws:ecs:us-east-1:123456789012:cluster/c"}, I),
    ("ArnNotLike", [_deny(condition={"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/admin"}}), _allow()],
     "s3:GetObject", "*", {"aws:PrincipalArn": ROLE}, E),
    # Bool, IpAddress, Numeric, Date.
    ("Bool SecureTransport false denies", [_allow(), _deny(condition={"Bool": {"aws:SecureTransport": "false"}})],
     "s3:GetObject", "*", {"aws:SecureTransport": "false"}, E),
    ("Bool SecureTransport true passes", [_allow(), _deny(condition={"Bool": {"aws:SecureTransport": "false"}})],
     "s3:GetObject", "*", {"aws:SecureTransport": "true"}, A),
    ("IpAddress in range", [_allow(condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}})],
     "s3:GetObject", "*", {"aws:SourceIp": "203.0.113.7"}, A),
    ("IpAddress out of range", [_allow(condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}})],
     "s3:GetObject", "*", {"aws:SourceIp": "198.51.100.7"}, I),
    ("NotIpAddress denies outside", [_allow(), _deny(condition={"NotIpAddress": {"aws:SourceIp": ["10.0.0.0/16"]}})],
     "s3:GetObject", "*", {"aws:SourceIp": "198.51.100.7"}, E),
    ("NumericLessThan", [_allow(condition={"NumericLessThan": {"s3:max-keys": "10"}})],
     "s3:ListBucket", "*", {"s3:max-keys": "9"}, A),
    ("NumericLessThan at the bound", [_allow(condition={"NumericLessThan": {"s3:max-keys": "10"}})],
     "s3:ListBucket", "*", {"s3:max-keys": "10"}, I),
    ("NumericLessThanEquals at the bound", [_allow(condition={"NumericLessThanEquals": {"s3:max-keys": "10"}})],
     "s3:ListBucket", "*", {"s3:max-keys": "10"}, A),
    ("NumericGreaterThan", [_allow(condition={"NumericGreaterThan": {"aws:MultiFactorAuthAge": "3600"}})],
     "s3:ListBucket", "*", {"aws:MultiFactorAuthAge": "60"}, I),
    ("DateLessThan", [_allow(condition={"DateLessThan": {"aws:CurrentTime": "2027-01-01T00:00:00Z"}})],
     "s3:ListBucket", "*", {"aws:CurrentTime": "2026-12-02T09:00:00Z"}, A),
    # ...IfExists and Null.
    ("IfExists: absent key holds", [_allow(condition={"StringEqualsIfExists": {"ec2:InstanceType": "t3.micro"}})],
     "ec2:RunInstances", "*", {}, A),
    ("IfExists: present key is checked", [_allow(condition={"StringEqualsIfExists": {"ec2:InstanceType": "t3.micro"}})],
     "ec2:RunInstances", "*", {"ec2:InstanceType": "m5.large"}, I),
    ("Null true: key absent", [_deny(condition={"Null": {"aws:PrincipalTag/team": "true"}}), _allow()],
     "s3:GetObject", "*", {}, E),
    ("Null true: key present", [_deny(condition={"Null": {"aws:PrincipalTag/team": "true"}}), _allow()],
     "s3:GetObject", "*", {"aws:PrincipalTag/team": "courses"}, A),
    ("Null false: key present", [_allow(condition={"Null": {"aws:PrincipalTag/team": "false"}})],
     "s3:GetObject", "*", {"aws:PrincipalTag/team": "courses"}, A),
    # Set operators on multivalued keys.
    ("ForAnyValue: one matches", [_allow(condition={"ForAnyValue:StringEquals": {"aws:TagKeys": ["team", "env"]}})],
     "ecs:TagResource", "*", {"aws:TagKeys": ["owner", "env"]}, A),
    ("ForAnyValue: absent key is false", [_allow(condition={"ForAnyValue:StringEquals": {"aws:TagKeys": ["team"]}})],
     "ecs:TagResource", "*", {}, I),
    ("ForAllValues: every value listed", [_allow(condition={"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "env"]}})],
     "ecs:TagResource", "*", {"aws:TagKeys": ["env", "team"]}, A),
    ("ForAllValues: one value not listed", [_allow(condition={"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "env"]}})],
     "ecs:TagResource", "*", {"aws:TagKeys": ["env", "owner"]}, I),
    ("ForAllValues: absent key is true", [_allow(condition={"ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}})],
     "ecs:TagResource", "*", {}, A),
    # Operators and keys are ANDed.
    ("two operators: both must hold", [_allow(condition={"StringEquals": {"aws:PrincipalTag/team": "courses"},
                                                           "Bool": {"aws:SecureTransport": "true"}})],
     "s3:GetObject", "*", {"aws:PrincipalTag/team": "courses", "aws:SecureTransport": "false"}, I),
    ("unknown operator never holds", [_allow(condition={"StringSortOf": {"aws:PrincipalTag/team": "courses"}})],
     "s3:GetObject", "*", {"aws:PrincipalTag/team": "courses"}, I),
    # Policy variables.
    ("variable in Resource", [_allow("s3:GetObject", "arn:aws:s3:::home/${aws:PrincipalTag/team}/*")],
     "s3:GetObject", "arn:aws:s3:::home/courses/a", {"aws:PrincipalTag/team": "courses"}, A),
    ("variable in Resource, other value", [_allow("s3:GetObject", "arn:aws:s3:::home/${aws:PrincipalTag/team}/*")],
     "s3:GetObject", "arn:aws:s3:::home/billing/a", {"aws:PrincipalTag/team": "courses"}, I),
    ("variable absent: no match", [_allow("s3:GetObject", "arn:aws:s3:::home/${aws:PrincipalTag/team}/*")],
     "s3:GetObject", "arn:aws:s3:::home/courses/a", {}, I),
    ("variable default", [_allow("s3:GetObject", "arn:aws:s3:::home/${aws:PrincipalTag/team, 'shared'}/*")],
     "s3:GetObject", "arn:aws:s3:::home/shared/a", {}, A),
    ("${*} is a literal star", [_allow("s3:GetObject", "arn:aws:s3:::b/${*}")],
     "s3:GetObject", "arn:aws:s3:::b/anything", {}, I),
    ("${*} matches the star itself", [_allow("s3:GetObject", "arn:aws:s3:::b/${*}")],
     "s3:GetObject", "arn:aws:s3:::b/*", {}, A),
    ("variable in a condition value",
     [_allow(condition={"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}})],
     "ecs:UpdateService", "*", {"aws:PrincipalTag/team": "courses", "aws:ResourceTag/team": "courses"}, A),
]


@pytest.mark.parametrize("why,items,action,resource,context,expected", TABLE, ids=[row[0] for row in TABLE])
def test_decision_table(why, items, action, resource, context, expected):
    assert iam.decide(_docs(*items), action, resource, context) == expected


#: (why, identity statements, boundary statements or None, action, expected outcome's policy type)
BOUNDARY_TABLE = [
    ("both allow", [_allow("s3:*")], [_allow("s3:GetObject")], "s3:GetObject", A, ""),
    ("identity allows, boundary does not", [_allow("s3:*")], [_allow("s3:GetObject")], "s3:PutObject",
     I, iam.BOUNDARY),
    ("boundary alone grants nothing", [], [_allow("*")], "s3:GetObject", I, iam.IDENTITY),
    ("deny in the boundary wins", [_allow("s3:*")], [_allow("*"), _deny("s3:GetObject")], "s3:GetObject",
     E, iam.BOUNDARY),
    ("empty boundary allows nothing", [_allow("s3:*")], [], "s3:GetObject", I, iam.BOUNDARY),
    ("no boundary limits nothing", [_allow("s3:*")], None, "s3:GetObject", A, ""),
]


@pytest.mark.parametrize("why,identity,boundary,action,decision,policy_type", BOUNDARY_TABLE,
                         ids=[row[0] for row in BOUNDARY_TABLE])
def test_permissions_boundary(why, identity, boundary, action, decision, policy_type):
    outcome = iam.evaluate(iam.Request(action, "arn:aws:s3:::b/k"), _docs(*identity),
                           None if boundary is None else _docs(*boundary))
    assert outcome.decision == decision
    if decision != A:
        assert outcome.policy_type == policy_type


def test_denial_reason_names_the_policy_type():
    denied = iam.evaluate(iam.Request("s3:PutObject", "*"), _docs(_allow("s3:*")), _docs(_allow("s3:Get*")))
    assert iam.denial_reason(denied, "s3:PutObject") == (
        "because no permissions boundary allows the s3:PutObject action")
    explicit = iam.evaluate(iam.Request("s3:PutObject", "*"), _docs(_allow(), _deny("s3:Put*")))
    assert iam.denial_reason(explicit, "s3:PutObject") == "with an explicit deny in an identity-based policy"
