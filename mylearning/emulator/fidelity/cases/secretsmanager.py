"""Secrets Manager fidelity cases: lab 03's credentials secret, random passwords, deletion,
rotation.

Secret names and value sizes, SecretString with SecretBinary, what a secret
scheduled for deletion still allows, the recovery window, GetRandomPassword
as the lab calls it, rotation schedules and functions, and staging labels.
"""
from __future__ import annotations

import io
import json
import string
import zipfile
from typing import Any, Callable

from mylearning.emulator.fidelity.cases import OK, BehaviourMismatch, Case, Env

API = "https://docs.aws.amazon.com/secretsmanager/latest/apireference/"
CREATE, DELETE, PUT = "API_CreateSecret.html", "API_DeleteSecret.html", "API_PutSecretValue.html"
RANDOM = "API_GetRandomPassword.html"
GET = "API_GetSecretValue.html"
INVALID_PARAMETER, INVALID_REQUEST, VALIDATION = ("InvalidParameterException", "InvalidRequestException",
                                                  "ValidationException")
CREDENTIALS = json.dumps({"username": "mylearning_app", "password": "s3cret"})


def _secret_name(env: Env) -> str:
    return f"mylearning-{env.name('t')}-db-credentials"


def _create(name: Callable[[Env], str] = _secret_name, **args: Any) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        value = {} if "SecretBinary" in args or "SecretString" in args else {"SecretString": CREDENTIALS}
        return env.client("secretsmanager").create_secret(Name=name(env), **value, **args)
    return call


def _created(env: Env) -> str:
    name = _secret_name(env)
    env.client("secretsmanager").create_secret(Name=name, SecretString=CREDENTIALS,
                                               Tags=[{"Key": "course", "Value": "mylearning"}])
    return name


def _delete(**args: Any) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        return env.client("secretsmanager").delete_secret(SecretId=_created(env), **args)
    return call


def _after_scheduled_deletion(action: Callable[[Any, str], Any], restore: bool = False,
                              force: bool = False) -> Callable[[Env], Any]:
    """Delete a secret with a recovery window (or for good), maybe restore it, then `action`."""
    def call(env: Env) -> Any:
        sm, name = env.client("secretsmanager"), _created(env)
        if force:
            sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
        else:
            sm.delete_secret(SecretId=name, RecoveryWindowInDays=7)
        if restore:
            sm.restore_secret(SecretId=name)
        return action(sm, name)
    return call


def _put_value(**args: Any) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        return env.client("secretsmanager").put_secret_value(SecretId=_created(env), **args)
    return call


def _random(check: Callable[[str], str | None] | None = None, **args: Any) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        password = env.client("secretsmanager").get_random_password(**args)["RandomPassword"]
        problem = check(password) if check else None
        if problem:
            raise BehaviourMismatch(problem)
    return call


def _lab_password(password: str) -> str | None:
    """Lab 03's call: 32 characters, no punctuation (PasswordLength=32, ExcludePunctuation=True)."""
    if len(password) != 32:
        return f"length {len(password)}, expected 32"
    if any(c in string.punctuation for c in password):
        return f"punctuation in {password!r} despite ExcludePunctuation"
    return None


ROTATE, STAGE = "API_RotateSecret.html", "API_UpdateSecretVersionStage.html"
SCHEDULE = "https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_schedule.html"


def rotation_function(env: Env) -> str:
    """A Lambda rotation function (its code never runs in the emulator; rotation's API does)."""
    if not hasattr(env, "_rotation_function"):
        role = env.client("iam").create_role(RoleName=env.name("rotation"), AssumeRolePolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {
                "Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            archive.writestr("rotate.py", "def handler(event, context):\n    return None\n")
        env._rotation_function = env.client("lambda").create_function(
            FunctionName=env.name("rotate"), Runtime="python3.12", Role=role, Handler="rotate.handler",
            Code={"ZipFile": code.getvalue()})["FunctionArn"]
    return env._rotation_function


def _rotate(rules: dict | None = None, function: bool = True, before: Callable[[Any, str], Any] | None = None,
            **args: Any) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        sm, name = env.client("secretsmanager"), _created(env)
        if before:
            before(sm, name)
        if function:
            args["RotationLambdaARN"] = rotation_function(env)
        if rules:
            args["RotationRules"] = rules
        return sm.rotate_secret(SecretId=name, **args)
    return call


def _rotate_twice(env: Env) -> Any:
    sm, name = env.client("secretsmanager"), _created(env)
    sm.rotate_secret(SecretId=name, RotationLambdaARN=rotation_function(env), RotateImmediately=False,
                     RotationRules={"AutomaticallyAfterDays": 30})
    return sm.rotate_secret(SecretId=name)  # with the function the first call configured


def _pending(sm: Any, name: str) -> Any:
    """createSecret's step of a rotation: a new version labelled AWSPENDING only."""
    return sm.put_secret_value(SecretId=name, SecretString="next", VersionStages=["AWSPENDING"])["VersionId"]


def _finished(sm: Any, name: str) -> Any:
    """finishSecret's step: AWSCURRENT moved to the AWSPENDING version, which keeps its label."""
    current = next(v for v, labels in sm.describe_secret(SecretId=name)["VersionIdsToStages"].items()
                   if "AWSCURRENT" in labels)
    sm.update_secret_version_stage(SecretId=name, VersionStage="AWSCURRENT", MoveToVersionId=_pending(sm, name),
                                   RemoveFromVersionId=current)


def _test_rotation_twice(env: Env) -> Any:
    sm, name, function = env.client("secretsmanager"), _created(env), rotation_function(env)
    for _ in range(2):
        sm.rotate_secret(SecretId=name, RotationLambdaARN=function, RotateImmediately=False,
                         RotationRules={"AutomaticallyAfterDays": 30})


def _stage(label: str, remove_from: bool) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        sm, name = env.client("secretsmanager"), _created(env)
        first = sm.describe_secret(SecretId=name)["VersionIdsToStages"]
        old = next(iter(first))
        sm.update_secret_version_stage(SecretId=name, VersionStage="BLUE", MoveToVersionId=old)
        new = sm.put_secret_value(SecretId=name, SecretString="green", VersionStages=["GREEN"])["VersionId"]
        args = {"RemoveFromVersionId": old} if remove_from else {}
        return sm.update_secret_version_stage(SecretId=name, VersionStage=label, MoveToVersionId=new, **args)
    return call


def _under_key(state: str) -> Callable[[Env], Any]:
    """GetSecretValue of a secret under a customer managed key in `state` (key-state.html)."""
    def call(env: Env) -> Any:
        kms, sm = env.client("kms"), env.client("secretsmanager")
        key = kms.create_key(Description="lab secrets")["KeyMetadata"]["KeyId"]
        name = _secret_name(env)
        sm.create_secret(Name=name, SecretString=CREDENTIALS, KmsKeyId=key)
        if state == "Disabled":
            kms.disable_key(KeyId=key)
        elif state == "PendingDeletion":
            kms.schedule_key_deletion(KeyId=key, PendingWindowInDays=7)
        return sm.get_secret_value(SecretId=name)
    return call


def _case(id: str, call: Callable[[Env], Any], expect: str, page: str = CREATE,
          kind: str = "validation") -> Case:
    return Case(f"secretsmanager.{id}", "secretsmanager", call, expect, API + page, kind)


CASES = [
    _case("create.valid-lab-secret", _create(Description="MyLearning database credentials",
                                             Tags=[{"Key": "course", "Value": "mylearning"}]), OK),
    _case("create.valid-path-and-symbols", _create(lambda env: f"mylearning/{env.name('t')}/db_user+ro=1.x@y"), OK),
    _case("create.name-with-space", _create(lambda env: f"{env.name('t')} db credentials"), VALIDATION),
    _case("create.name-with-colon", _create(lambda env: f"{env.name('t')}:db"), VALIDATION),
    _case("create.name-with-hash", _create(lambda env: f"{env.name('t')}#db"), VALIDATION),
    _case("create.name-513-characters", _create(lambda env: env.name("s") + "a" * 503), VALIDATION),
    _case("create.valid-name-512-characters", _create(lambda env: env.name("s") + "a" * 502), OK),
    _case("create.string-and-binary", _create(SecretString="x", SecretBinary=b"x"), INVALID_PARAMETER),
    _case("create.valid-binary-only", _create(SecretBinary=b"\x00\x01"), OK),
    _case("create.string-65537-characters", _create(SecretString="a" * 65537), VALIDATION),
    _case("create.valid-string-65536-characters", _create(SecretString="a" * 65536), OK),
    _case("create.description-2049-characters", _create(Description="d" * 2049), VALIDATION),
    _case("create.duplicate-name", _after_scheduled_deletion(
        lambda sm, name: sm.create_secret(Name=name, SecretString="x"), restore=True), "ResourceExistsException"),
    _case("create.name-scheduled-for-deletion", _after_scheduled_deletion(
        lambda sm, name: sm.create_secret(Name=name, SecretString="x")), INVALID_REQUEST),
    _case("create.valid-name-after-force-delete", _after_scheduled_deletion(
        lambda sm, name: sm.create_secret(Name=name, SecretString="x"), force=True), OK),
    _case("put-value.string-and-binary", _put_value(SecretString="x", SecretBinary=b"x"), INVALID_PARAMETER, PUT),
    _case("put-value.valid-string", _put_value(SecretString=CREDENTIALS), OK, PUT),
    _case("put-value.scheduled-for-deletion", _after_scheduled_deletion(
        lambda sm, name: sm.put_secret_value(SecretId=name, SecretString="x")), INVALID_REQUEST, PUT),
    _case("put-value.valid-after-restore", _after_scheduled_deletion(
        lambda sm, name: sm.put_secret_value(SecretId=name, SecretString="x"), restore=True), OK, PUT),
    _case("tag.scheduled-for-deletion", _after_scheduled_deletion(
        lambda sm, name: sm.tag_resource(SecretId=name, Tags=[{"Key": "a", "Value": "b"}])),
        INVALID_REQUEST, "API_TagResource.html"),
    _case("get-value.scheduled-for-deletion", _after_scheduled_deletion(
        lambda sm, name: sm.get_secret_value(SecretId=name)), INVALID_REQUEST, "API_GetSecretValue.html"),
    _case("describe.valid-scheduled-for-deletion", _after_scheduled_deletion(
        lambda sm, name: sm.describe_secret(SecretId=name)), OK, "API_DescribeSecret.html"),
    _case("delete.recovery-window-6", _delete(RecoveryWindowInDays=6), INVALID_PARAMETER, DELETE),
    _case("delete.recovery-window-31", _delete(RecoveryWindowInDays=31), INVALID_PARAMETER, DELETE),
    _case("delete.valid-recovery-window-7", _delete(RecoveryWindowInDays=7), OK, DELETE),
    _case("delete.valid-recovery-window-30", _delete(RecoveryWindowInDays=30), OK, DELETE),
    _case("delete.window-with-force", _delete(RecoveryWindowInDays=7, ForceDeleteWithoutRecovery=True),
          INVALID_PARAMETER, DELETE),
    _case("delete.valid-force", _delete(ForceDeleteWithoutRecovery=True), OK, DELETE),
    _case("random.valid-lab-password", _random(_lab_password, PasswordLength=32, ExcludePunctuation=True),
          OK, RANDOM, "behaviour"),
    _case("random.valid-length-4096", _random(lambda p: None if len(p) == 4096 else f"length {len(p)}",
                                              PasswordLength=4096), OK, RANDOM, "behaviour"),
    _case("random.length-4097", _random(PasswordLength=4097), VALIDATION, RANDOM),
    _case("random.exclude-characters-4097", _random(ExcludeCharacters="a" * 4097), VALIDATION, RANDOM),
    # rotation
    _case("rotate.days-and-expression", _rotate({"AutomaticallyAfterDays": 30, "ScheduleExpression": "rate(30 days)"}),
          INVALID_PARAMETER, "API_RotationRulesType.html"),
    _case("rotate.valid-days", _rotate({"AutomaticallyAfterDays": 30}), OK, ROTATE),
    _case("rotate.valid-rate-expression", _rotate({"ScheduleExpression": "rate(10 days)"}), OK, ROTATE),
    _case("rotate.window-longer-than-rate", _rotate({"ScheduleExpression": "rate(4 hours)", "Duration": "6h"}),
          INVALID_PARAMETER, SCHEDULE),
    _case("rotate.valid-window-within-rate", _rotate({"ScheduleExpression": "rate(6 hours)", "Duration": "4h"}),
          OK, SCHEDULE),
    _case("rotate.window-into-next-day", _rotate({"ScheduleExpression": "rate(10 days)", "Duration": "25h"}),
          INVALID_PARAMETER, SCHEDULE),
    _case("rotate.valid-window-whole-day", _rotate({"ScheduleExpression": "rate(10 days)", "Duration": "24h"}),
          OK, SCHEDULE),
    _case("rotate.no-rotation-function", _rotate({"AutomaticallyAfterDays": 30}, function=False),
          INVALID_REQUEST, ROTATE),
    _case("rotate.valid-with-configured-function", _rotate_twice, OK, ROTATE),
    _case("rotate.previous-rotation-in-progress", _rotate(before=_pending), INVALID_REQUEST, ROTATE),
    _case("rotate.valid-after-finished-rotation", _rotate(before=_finished), OK, ROTATE),
    _case("rotate.valid-test-rotation-twice", _test_rotation_twice, OK, ROTATE),
    _case("rotate.scheduled-for-deletion", _after_scheduled_deletion(
        lambda sm, name: sm.rotate_secret(SecretId=name, RotationRules={"AutomaticallyAfterDays": 30})),
        INVALID_REQUEST, ROTATE),
    # encryption (the learner's credentials: the account's administrator, who may use the key)
    _case("get.valid-under-enabled-customer-key", _under_key("Enabled"), OK, GET, "behaviour"),
    _case("get.under-disabled-key", _under_key("Disabled"), "DecryptionFailure", GET, "behaviour"),
    _case("get.under-key-pending-deletion", _under_key("PendingDeletion"), "DecryptionFailure", GET, "behaviour"),
    # staging labels
    _case("stage.label-on-another-version", _stage("BLUE", remove_from=False), INVALID_PARAMETER, STAGE),
    _case("stage.valid-label-moved-with-remove-from", _stage("BLUE", remove_from=True), OK, STAGE),
    _case("stage.valid-new-label", _stage("CANARY", remove_from=False), OK, STAGE),
]
