"""mylearning.roles: trust policies, the small policy reader graders use, and ensure_role."""
from __future__ import annotations

from mylearning import roles, taskdefs

SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:ml-x-db-credentials-AbCdEf"


def _docs(*statements):
    return [("inline policy p", roles.policy(*statements))]


def test_trust_policy_for_ecs_tasks_with_confused_deputy_conditions():
    plain = roles.trust_policy()
    assert plain["Statement"][0]["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
    assert "Condition" not in plain["Statement"][0]
    guarded = roles.trust_policy(account="123456789012", region="us-east-1")
    condition = guarded["Statement"][0]["Condition"]
    assert condition["StringEquals"] == {"aws:SourceAccount": "123456789012"}
    assert condition["ArnLike"] == {"aws:SourceArn": "arn:aws:ecs:us-east-1:123456789012:*"}


def test_trusted_services_and_other_principals():
    role = {"AssumeRolePolicyDocument": roles.trust_policy()}
    assert roles.trusted_services(role) == {"ecs-tasks.amazonaws.com"}
    assert roles.other_principals(role) == []
    wide = {"AssumeRolePolicyDocument": {"Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root", "Service": ["ec2.amazonaws.com"]},
         "Action": "sts:AssumeRole"}]}}
    assert roles.trusted_services(wide) == {"ec2.amazonaws.com"}
    assert roles.other_principals(wide) == ["AWS:arn:aws:iam::1:root"]
    text = {"AssumeRolePolicyDocument": '{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}}'}
    assert roles.other_principals(text) == ["*"]


def test_allows_with_wildcards_and_deny():
    docs = _docs(roles.allow("secretsmanager:GetSecretValue", SECRET))
    assert roles.allows(docs, "secretsmanager:GetSecretValue", SECRET)
    assert roles.allows(docs, "SecretsManager:getsecretvalue", SECRET)  # actions ignore case
    assert not roles.allows(docs, "secretsmanager:GetSecretValue", SECRET.replace("ml-x", "ml-y"))
    assert roles.allows(_docs(roles.allow("secretsmanager:*", "arn:aws:secretsmanager:*:*:secret:ml-x-*")),
                        "secretsmanager:GetSecretValue", SECRET)
    denied = _docs(roles.allow("s3:*", "*"), {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "*"})
    assert not roles.allows(denied, "s3:GetObject", "arn:aws:s3:::b/k")
    assert roles.allows(denied, "s3:PutObject", "arn:aws:s3:::b/k")


def test_broad_grants():
    assert roles.broad_grants(_docs(roles.allow("s3:GetObject", "arn:aws:s3:::b/*"))) == []
    assert roles.broad_grants(_docs(roles.allow("*", "*")))
    assert roles.broad_grants(_docs(roles.allow("dynamodb:*", "arn:aws:dynamodb:*:*:table/t")))
    assert roles.broad_grants(_docs(roles.allow("s3:GetObject", "*")))
    assert roles.broad_grants(_docs({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}))


def test_ensure_role_is_idempotent_and_readable(session):
    iam = session.client("iam")
    name = session.name("unit-exec")
    inline = {"read": roles.policy(roles.allow("secretsmanager:GetSecretValue", SECRET))}
    for _ in range(2):
        role = roles.ensure_role(session, "99", name, trust=roles.trust_policy(), description="unit",
                                 managed=[taskdefs.EXECUTION_POLICY_ARN], inline=inline)
    assert roles.trusted_services(role) == {"ecs-tasks.amazonaws.com"}
    assert [p["PolicyArn"] for p in roles.attached_policies(iam, name)] == [taskdefs.EXECUTION_POLICY_ARN]
    docs = roles.documents(iam, name)
    assert [label for label, _ in docs] == ["inline policy read",
                                            "managed policy AmazonECSTaskExecutionRolePolicy"]
    assert roles.allows(docs, "secretsmanager:GetSecretValue", SECRET)
    assert roles.allows(docs, "ecr:BatchGetImage", "arn:aws:ecr:us-east-1:1:repository/x")
    assert roles.broad_grants(roles.documents(iam, name, managed=False)) == []
    # A changed trust policy is brought up to date.
    role = roles.ensure_role(session, "99", name, description="unit",
                             trust=roles.trust_policy(account="123456789012"))
    assert "Condition" in role["AssumeRolePolicyDocument"]["Statement"][0]
