"""Secrets Manager fidelity: names, values and secrets scheduled for deletion."""
from __future__ import annotations

import pytest
from botocore.exceptions import ClientError


def test_name_scheduled_for_deletion_is_invalid_request_exception(env):
    sm = env.client("secretsmanager")
    name = env.name("db-credentials")
    sm.create_secret(Name=name, SecretString="{}")
    sm.delete_secret(SecretId=name, RecoveryWindowInDays=7)
    with pytest.raises(sm.exceptions.InvalidRequestException) as info:
        sm.create_secret(Name=name, SecretString="{}")
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    sm.restore_secret(SecretId=name)
    sm.put_secret_value(SecretId=name, SecretString='{"password": "new"}')


def test_bad_name_is_validation_exception_with_aws_wording(env):
    sm = env.client("secretsmanager")
    with pytest.raises(ClientError) as info:
        sm.create_secret(Name="db credentials", SecretString="x")
    assert info.value.response["Error"]["Code"] == "ValidationException"
    assert info.value.response["Error"]["Message"].startswith("Invalid name.")


def test_lab_password_call_still_works(env):
    password = env.client("secretsmanager").get_random_password(
        PasswordLength=32, ExcludePunctuation=True)["RandomPassword"]
    assert len(password) == 32 and password.isalnum()
