"""A task whose secret is under a customer managed KMS key starts only when its execution role may
decrypt with that key; the stopped task says why, in ECS's words around Secrets Manager's answer.

https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/resource-initialization-error.html
"""
from __future__ import annotations

import json

import pytest

from mylearning import task_roles
from tests.dataplane.test_secrets_rotation import _printed, _printer
from tests.dataplane.world import World, wait_for


@pytest.fixture
def world(emulator_with_dataplane):
    emulator_with_dataplane.reset()
    return World(emulator_with_dataplane.url)


def test_the_execution_role_needs_kms_decrypt_on_the_secrets_key(world):
    key = world.client("kms").create_key(Description="db secrets")["KeyMetadata"]["Arn"]
    secret = world.sm.create_secret(Name="db-cmk", SecretString=json.dumps({"password": "cmk-pw"}),
                                    KmsKeyId=key)["ARN"]
    world.iam.put_role_policy(RoleName="exec", PolicyName="secrets",
                              PolicyDocument=json.dumps(task_roles.execution_permissions(secret)))
    taskdef = world.register(_printer(world, [{"name": "DB_PASSWORD", "valueFrom": f"{secret}:password::"}]))
    stopped = world.wait_status(world.run(taskdef)["taskArn"], "STOPPED")
    assert stopped["stopCode"] == "TaskFailedToStart"
    assert stopped["stoppedReason"] == (
        "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval "
        "failed: unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch "
        f"secret {secret} from secrets manager: AccessDeniedException: Access to KMS is not allowed")
    world.iam.put_role_policy(RoleName="exec", PolicyName="secrets",
                              PolicyDocument=json.dumps(task_roles.execution_permissions(secret, key)))
    task = world.run(taskdef)
    world.wait_status(task["taskArn"], "RUNNING")
    assert set(wait_for("the task to print", lambda: _printed(world, task["taskArn"]))) == {"pw=cmk-pw"}
