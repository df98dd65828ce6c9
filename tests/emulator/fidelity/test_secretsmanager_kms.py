"""A secret under a customer managed KMS key is readable by a role session only with kms:Decrypt on
that key; a disabled or pending-deletion key decrypts for nobody.

https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html
"""
from __future__ import annotations

import json

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


def _doc(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _answer(call) -> str:
    try:
        return call()["SecretString"]
    except ClientError as error:
        return error.response["Error"]["Code"] + ": " + error.response["Error"].get("Message", "")


@pytest.fixture
def world(env):
    """A customer managed key, a secret under it, one under aws/secretsmanager, and a role session."""
    iam, kms, sm = env.client("iam"), env.client("kms"), env.client("secretsmanager")
    key = kms.create_key(Description="app secrets")["KeyMetadata"]
    alias = f"alias/{env.name('app-secrets')}"
    kms.create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
    custom = sm.create_secret(Name=env.name("db"), SecretString="under-cmk", KmsKeyId=alias)["ARN"]
    default = sm.create_secret(Name=env.name("plain"), SecretString="under-default")["ARN"]
    name = env.name("exec")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)
    creds = env.client("sts").assume_role(RoleArn=f"arn:aws:iam::123456789012:role/{name}",
                                          RoleSessionName="task-1")["Credentials"]
    session = boto3.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                            aws_session_token=creds["SessionToken"], region_name=env.region)
    def role_client(service: str):
        return session.client(service, endpoint_url=env.endpoint, config=Config(retries={"max_attempts": 1}))
    role_sm = role_client("secretsmanager")

    def allow(*statements: dict) -> None:
        iam.put_role_policy(RoleName=name, PolicyName="secrets", PolicyDocument=_doc(*statements))

    yield {"key": key, "custom": custom, "default": default, "sm": role_sm, "allow": allow, "kms": kms,
           "admin": sm, "role_client": role_client}
    for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]:
        iam.delete_role_policy(RoleName=name, PolicyName=policy)
    iam.delete_role(RoleName=name)


def test_a_customer_managed_key_needs_kms_decrypt_the_default_key_does_not(world):
    world["allow"]({"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*"})
    sm = world["sm"]
    assert _answer(lambda: sm.get_secret_value(SecretId=world["default"])) == "under-default"
    assert _answer(lambda: sm.get_secret_value(SecretId=world["custom"])) == \
        "AccessDeniedException: Access to KMS is not allowed"
    # The learner's own (administrator) credentials are not judged.
    assert world["admin"].get_secret_value(SecretId=world["custom"])["SecretString"] == "under-cmk"


def test_kms_decrypt_on_the_key_arn_lets_the_role_read(world):
    world["allow"]({"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": world["custom"]},
                   {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": world["key"]["Arn"]})
    assert _answer(lambda: world["sm"].get_secret_value(SecretId=world["custom"])) == "under-cmk"


def test_kms_decrypt_on_another_key_is_not_enough(world):
    other = world["kms"].create_key(Description="other")["KeyMetadata"]["Arn"]
    world["allow"]({"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": world["custom"]},
                   {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": other})
    assert _answer(lambda: world["sm"].get_secret_value(SecretId=world["custom"])).startswith(
        "AccessDeniedException: Access to KMS")


def test_secret_access_is_judged_before_the_key(world):
    world["allow"]({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": world["key"]["Arn"]})
    answer = _answer(lambda: world["sm"].get_secret_value(SecretId=world["custom"]))
    assert answer.startswith("AccessDeniedException: User: ") and "secretsmanager:GetSecretValue" in answer


def test_via_service_and_encryption_context_conditions_hold_for_secrets_manager(world, env):
    """kms:ViaService and kms:EncryptionContext:SecretARN are what AWS's examples condition on."""
    decrypt = {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": world["key"]["Arn"],
               "Condition": {"StringEquals": {"kms:ViaService": f"secretsmanager.{env.region}.amazonaws.com"},
                             "StringLike": {"kms:EncryptionContext:SecretARN": world["custom"]}}}
    read = {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": world["custom"]}
    world["allow"](read, decrypt)
    assert _answer(lambda: world["sm"].get_secret_value(SecretId=world["custom"])) == "under-cmk"
    # Another service's ViaService does not match: the condition is really evaluated.
    decrypt["Condition"]["StringEquals"]["kms:ViaService"] = f"ssm.{env.region}.amazonaws.com"
    world["allow"](read, decrypt)
    assert _answer(lambda: world["sm"].get_secret_value(SecretId=world["custom"])) == \
        "AccessDeniedException: Access to KMS is not allowed"


def test_an_explicit_deny_on_the_key_wins(world):
    world["allow"]({"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue", "kms:Decrypt"], "Resource": "*"},
                   {"Effect": "Deny", "Action": "kms:*", "Resource": world["key"]["Arn"]})
    assert _answer(lambda: world["sm"].get_secret_value(SecretId=world["custom"])) == \
        "AccessDeniedException: Access to KMS is not allowed"
    assert _answer(lambda: world["sm"].get_secret_value(SecretId=world["default"])) == "under-default"


def test_a_partial_arn_is_judged_on_the_secrets_full_arn(world):
    """IAM authorises on the secret's own ARN, whatever form the caller names it by."""
    world["allow"]({"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": world["default"]})
    partial = world["default"].rsplit("-", 1)[0]
    assert _answer(lambda: world["sm"].get_secret_value(SecretId=partial)) == "under-default"


@pytest.mark.parametrize("make_unusable", ["disable_key", "schedule_key_deletion"])
def test_a_disabled_or_deleted_key_decrypts_for_nobody(world, make_unusable):
    kms, key = world["kms"], world["key"]["KeyId"]
    if make_unusable == "disable_key":
        kms.disable_key(KeyId=key)
    else:
        kms.schedule_key_deletion(KeyId=key, PendingWindowInDays=7)
    assert _answer(lambda: world["admin"].get_secret_value(SecretId=world["custom"])) == (
        "DecryptionFailure: Secrets Manager can't decrypt the protected secret text using the provided KMS key.")
    assert world["admin"].get_secret_value(SecretId=world["default"])["SecretString"] == "under-default"
    if make_unusable == "disable_key":
        kms.enable_key(KeyId=key)
    else:
        kms.cancel_key_deletion(KeyId=key)
        kms.enable_key(KeyId=key)
    assert world["admin"].get_secret_value(SecretId=world["custom"])["SecretString"] == "under-cmk"


def test_a_secure_string_under_a_customer_managed_key_needs_kms_decrypt(world, env):
    """https://docs.aws.amazon.com/systems-manager/latest/userguide/ps-restrict-decryption.html"""
    ssm = env.client("ssm")
    custom, default = f"/{env.name('app')}/token", f"/{env.name('app')}/plain"
    ssm.put_parameter(Name=custom, Value="tok-cmk", Type="SecureString", KeyId=world["key"]["Arn"])
    ssm.put_parameter(Name=default, Value="tok-default", Type="SecureString")
    read = {"Effect": "Allow", "Action": ["ssm:GetParameter", "ssm:GetParameters"], "Resource": "*"}
    world["allow"](read)
    role_ssm = world["role_client"]("ssm")
    got = role_ssm.get_parameters(Names=[default], WithDecryption=True)["Parameters"]
    assert [p["Value"] for p in got] == ["tok-default"]
    # Without decryption the value is not decrypted, so no key permission is needed.
    assert role_ssm.get_parameter(Name=custom)["Parameter"]["Value"] != "tok-cmk"
    try:
        role_ssm.get_parameters(Names=[default, custom], WithDecryption=True)
        answer = "OK"
    except ClientError as error:
        answer = error.response["Error"]["Code"] + ": " + error.response["Error"]["Message"]
    assert answer.startswith("AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/")
    assert answer.endswith(f"is not authorized to perform: kms:Decrypt on resource: {world['key']['Arn']} "
                           "because no identity-based policy allows the kms:Decrypt action")
    world["allow"](read, {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": world["key"]["Arn"],
                          "Condition": {"StringEquals": {"kms:ViaService": f"ssm.{env.region}.amazonaws.com"}}})
    assert role_ssm.get_parameter(Name=custom, WithDecryption=True)["Parameter"]["Value"] == "tok-cmk"
    assert ssm.get_parameter(Name=custom, WithDecryption=True)["Parameter"]["Value"] == "tok-cmk"
