"""task_roles: each task role allows what its app calls and nothing more."""
from __future__ import annotations

import pytest

from mylearning import microservices, task_roles
from tests.fakes import OfflineSession


def test_app_permissions_are_scoped():
    from mylearning import roles
    for service in microservices.SERVICES:
        document = task_roles.app_permissions(OfflineSession(), service, "123456789012")
        assert not roles.broad_grants([("p", document)])
    with pytest.raises(KeyError):
        task_roles.app_permissions(OfflineSession(), "nope", "1")


SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:mylearning/db-AbCdEf"
KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def test_execution_permissions_for_one_secret_is_unchanged():
    assert task_roles.execution_permissions(SECRET) == {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": [SECRET], "Sid": "ReadAppSecret"}]}


def test_execution_permissions_allow_exactly_these_secrets_and_keys_through_secrets_manager():
    from mylearning.facts import iam, kms
    other_secret = SECRET.replace("db-AbCdEf", "api-GhIjKl")
    document = task_roles.execution_permissions([SECRET, other_secret], [KEY])
    docs = [("exec", document)]
    via = {"kms:ViaService": kms.via_service("secretsmanager", "us-east-1")}
    assert iam.decide(docs, "secretsmanager:GetSecretValue", other_secret) == iam.ALLOW
    assert iam.decide(docs, "secretsmanager:GetSecretValue", SECRET.replace("db", "other")) == iam.IMPLICIT_DENY
    assert iam.decide(docs, "kms:Decrypt", KEY, via) == iam.ALLOW
    assert iam.decide(docs, "kms:Decrypt", KEY.replace("1234abcd", "99999999"), via) == iam.IMPLICIT_DENY
    # The key may decrypt only through Secrets Manager: directly, or through SSM, it may not.
    assert iam.decide(docs, "kms:Decrypt", KEY) == iam.IMPLICIT_DENY
    assert iam.decide(docs, "kms:Decrypt", KEY, {"kms:ViaService": "ssm.us-east-1.amazonaws.com"}) == iam.IMPLICIT_DENY
    assert iam.decide(docs, "kms:Encrypt", KEY, via) == iam.IMPLICIT_DENY
    from mylearning import roles
    assert not roles.broad_grants(docs)
