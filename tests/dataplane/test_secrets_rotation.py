"""Rotation reaches tasks started afterwards, never a running one; a valueFrom may pin a version.

"Sensitive data is injected into your container when the container is initially started. If the
secret is subsequently updated or rotated, the container doesn't receive the updated value
automatically. You must either launch a new task or, if your task is part of a service, you can
update the service and use the Force new deployment option"
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html).
"""
from __future__ import annotations

import io
import json
import zipfile

import pytest

from tests.dataplane.world import World, wait_for

BUSYBOX = "public.ecr.aws/docker/library/busybox:1.36"


@pytest.fixture
def world(emulator_with_dataplane):
    emulator_with_dataplane.reset()
    return World(emulator_with_dataplane.url)


def _printer(world: World, secrets: list[dict]) -> dict:
    """A container that prints its secret every 0.2 s, as long as it runs."""
    return world.container("app", BUSYBOX, secrets=False,
                           command=["sh", "-c", 'while true; do echo "pw=$DB_PASSWORD"; sleep 0.2; done']) \
        | {"secrets": secrets}


def _printed(world: World, task_arn: str) -> list[str]:
    """What the task's container printed, from its awslogs stream (PREFIX/CONTAINER/TASK_ID)."""
    stream = f"svc/app/{task_arn.rsplit('/', 1)[1]}"
    try:
        events = world.logs.get_log_events(logGroupName="/ecs/app", logStreamName=stream,
                                           startFromHead=True)["events"]
    except world.logs.exceptions.ResourceNotFoundException:
        return []
    return [e["message"].strip() for e in events if e["message"].startswith("pw=")]


def _service_tasks_printing(world: World, value: str) -> list[str]:
    return [t["taskArn"] for t in world.service_tasks() if f"pw={value}" in _printed(world, t["taskArn"])]


def _rotation_function(world: World) -> str:
    role = world.iam.create_role(RoleName="rotation", AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                                 "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("rotate.py", "def handler(event, context):\n    return None\n")
    return world.client("lambda").create_function(
        FunctionName="rotate-db", Runtime="python3.12", Role=role, Handler="rotate.handler",
        Code={"ZipFile": code.getvalue()})["FunctionArn"]


def _put_new_password(world: World, password: str, how: str) -> None:
    value = json.dumps({"username": "app", "password": password})
    if how == "put_secret_value":
        world.sm.put_secret_value(SecretId=world.secret, SecretString=value)  # the new AWSCURRENT
        return
    # rotate_secret: the emulator never runs the rotation function's code, so the test does its
    # createSecret and finishSecret steps itself (rotate-secrets_lambda-functions.html).
    pending = world.sm.rotate_secret(SecretId=world.secret, RotationLambdaARN=_rotation_function(world))["VersionId"]
    # Until finishSecret, the running value is still AWSCURRENT's.
    assert json.loads(world.sm.get_secret_value(SecretId=world.secret)["SecretString"])["password"] == "s3cret"
    world.sm.put_secret_value(SecretId=world.secret, ClientRequestToken=pending, SecretString=value,
                              VersionStages=["AWSPENDING"])
    current = next(v["VersionId"] for v in world.sm.list_secret_version_ids(SecretId=world.secret)["Versions"]
                   if "AWSCURRENT" in v["VersionStages"])
    world.sm.update_secret_version_stage(SecretId=world.secret, VersionStage="AWSCURRENT",
                                         MoveToVersionId=pending, RemoveFromVersionId=current)


@pytest.mark.parametrize("how", ["put_secret_value", "rotate_secret"])
def test_a_running_task_keeps_its_value_and_a_new_deployment_gets_the_new_one(world, how):
    world.register(_printer(world, [{"name": "DB_PASSWORD", "valueFrom": f"{world.secret}:password::"}]))
    world.ecs.create_service(cluster="c", serviceName="s", taskDefinition="f", desiredCount=1,
                             launchType="FARGATE", networkConfiguration=world.network)
    old = wait_for("the first task to print the password", lambda: _service_tasks_printing(world, "s3cret"))[0]
    _put_new_password(world, "n3w-pa55", how)
    seen = len(_printed(world, old))
    wait_for("the running task to print again", lambda: len(_printed(world, old)) > seen + 2)
    assert set(_printed(world, old)) == {"pw=s3cret"}  # never the new value
    assert world.task(old)["lastStatus"] == "RUNNING"
    world.ecs.update_service(cluster="c", service="s", forceNewDeployment=True)
    new = wait_for("a new task with the new password", lambda: _service_tasks_printing(world, "n3w-pa55"), timeout=30)
    assert new[0] != old and set(_printed(world, new[0])) == {"pw=n3w-pa55"}


def test_value_from_may_pin_a_version_stage_or_a_version_id(world):
    first = next(v["VersionId"] for v in world.sm.list_secret_version_ids(SecretId=world.secret)["Versions"])
    world.sm.put_secret_value(SecretId=world.secret, SecretString=json.dumps({"username": "app", "password": "two"}))
    world.iam.put_role_policy(RoleName="exec", PolicyName="secrets", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
                                                 "Resource": world.secret}]}))
    for family, value_from, expected in (
            ("current", f"{world.secret}:password::", "two"),
            ("previous", f"{world.secret}:password:AWSPREVIOUS:", "s3cret"),
            ("by-id", f"{world.secret}:password::{first}", "s3cret")):
        task = world.run(world.register(_printer(world, [{"name": "DB_PASSWORD", "valueFrom": value_from}]),
                                        family=family))
        printed = wait_for(f"the {family} task to print", lambda: _printed(world, task["taskArn"]))
        assert set(printed) == {f"pw={expected}"}, family
