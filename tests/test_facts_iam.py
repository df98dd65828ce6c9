"""mylearning.facts.iam: IAM's allow / explicit deny / implicit deny, without I/O."""
from __future__ import annotations

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


def test_not_action_is_not_modelled_and_grants_nothing():
    doc = _docs({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})
    assert iam.decide(doc, "s3:GetObject", "arn:aws:s3:::b/k") == iam.IMPLICIT_DENY


def test_documents_and_single_statements():
    text = '{"Statement": {"Effect": "Allow", "Action": "logs:*", "Resource": "*"}}'
    assert iam.statements(iam.document(text)) == [{"Effect": "Allow", "Action": "logs:*", "Resource": "*"}]
    assert iam.document("%7B%22Statement%22%3A%20%5B%5D%7D") == {"Statement": []}
    assert iam.as_list("a") == ["a"] and iam.as_list(None) == []
