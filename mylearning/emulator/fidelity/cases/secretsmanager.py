"""Secrets Manager fidelity cases: lab 03's credentials secret, random passwords, deletion.

Secret names and value sizes, SecretString with SecretBinary, what a secret
scheduled for deletion still allows, the recovery window, and GetRandomPassword
as the lab calls it.
"""
from __future__ import annotations

import json
import string
from typing import Any, Callable

from mylearning.emulator.fidelity.cases import OK, BehaviourMismatch, Case, Env

API = "https://docs.aws.amazon.com/secretsmanager/latest/apireference/"
CREATE, DELETE, PUT = "API_CreateSecret.html", "API_DeleteSecret.html", "API_PutSecretValue.html"
RANDOM = "API_GetRandomPassword.html"
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
]
