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


def test_get_secret_value_follows_awscurrent_through_a_rotation(env):
    """GetSecretValue without a version returns AWSCURRENT's value; a rotation changes it only when
    finishSecret moves the label (API_GetSecretValue.html, rotate-secrets_lambda-functions.html)."""
    from mylearning.emulator.fidelity.cases.secretsmanager import rotation_function

    sm = env.client("secretsmanager")
    name = env.name("db")
    sm.create_secret(Name=name, SecretString="v1")
    pending = sm.rotate_secret(SecretId=name, RotationLambdaARN=rotation_function(env))["VersionId"]
    # The function's code never runs here: the value stays the current one until its steps are done.
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "v1"
    sm.put_secret_value(SecretId=name, ClientRequestToken=pending, SecretString="v2", VersionStages=["AWSPENDING"])
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "v1"
    current = next(v["VersionId"] for v in sm.list_secret_version_ids(SecretId=name)["Versions"]
                   if "AWSCURRENT" in v["VersionStages"])
    sm.update_secret_version_stage(SecretId=name, VersionStage="AWSCURRENT", MoveToVersionId=pending,
                                   RemoveFromVersionId=current)
    answer = sm.get_secret_value(SecretId=name)
    assert (answer["SecretString"], answer["VersionId"]) == ("v2", pending)
    assert sm.get_secret_value(SecretId=name, VersionStage="AWSPREVIOUS")["SecretString"] == "v1"
    # A secret without a value still says which label it lacks.
    empty = env.name("empty")
    sm.create_secret(Name=empty)
    with pytest.raises(ClientError) as info:
        sm.get_secret_value(SecretId=empty)
    assert info.value.response["Error"]["Code"] == "ResourceNotFoundException"
