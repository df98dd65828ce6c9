"""Lab 01's checks: the right mapping passes, and each usual mistake fails with a hint naming it."""
from __future__ import annotations

import copy
import json

import pytest

from mylearning import course
from graders import lab01_apprunner_to_ecs as lab01
from mylearning import migrate, prepare
from mylearning.facts.ecs import EXECUTION_POLICY_ARN
from mylearning.answers import record_answer

TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                 "Principal": {"Service": "ecs-tasks.amazonaws.com"}}]}


def _role(session, name, trust=TRUST):
    iam = session.client("iam")
    try:
        iam.delete_role(RoleName=name)
    except iam.exceptions.NoSuchEntityException:
        pass
    return iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]


@pytest.fixture
def built(session):
    """The migrated course API as the solution builds it (roles, task definition, service, target)."""
    execution = _role(session, session.name(lab01.EXECUTION_ROLE))
    task = _role(session, session.name(lab01.TASK_ROLE))
    iam = session.client("iam")
    iam.attach_role_policy(RoleName=session.name(lab01.EXECUTION_ROLE), PolicyArn=EXECUTION_POLICY_ARN)
    iam.put_role_policy(RoleName=session.name(lab01.EXECUTION_ROLE), PolicyName="secrets",
                        PolicyDocument=json.dumps(migrate.secrets_policy(migrate.load_sample())))
    td = migrate.task_definition(migrate.load_sample(), execution_role_arn=execution, task_role_arn=task,
                                 family=session.name(lab01.SERVICE), container_name=lab01.CONTAINER)
    session.client("ecs").register_task_definition(**td)
    return td


def _evaluate(session, *steps):
    return {r.step_id: r for r in course.grader("01").evaluate(session, steps).results}


def _register(session, td):
    session.client("ecs").register_task_definition(**td)


def test_migrate_mapping_passes_the_task_definition_steps(session, built):
    results = _evaluate(session, "1.1", "1.2", "1.3", "1.4", "1.5")
    assert all(r.passed for r in results.values()), [r.to_text() for r in results.values()]


def test_wrong_size_names_units(session, built):
    td = copy.deepcopy(built)
    td["cpu"], td["memory"] = "2048", "4096"
    _register(session, td)
    result = _evaluate(session, "1.2")["1.2"]
    assert not result.passed and "1024" in result.hint and "2048" in result.hint


def test_secret_in_environment_is_caught(session, built):
    td = copy.deepcopy(built)
    container = td["containerDefinitions"][0]
    leaked = container["secrets"].pop(0)
    container["environment"].append({"name": leaked["name"], "value": leaked["valueFrom"]})
    _register(session, td)
    result = _evaluate(session, "1.4")["1.4"]
    assert not result.passed and leaked["name"] in result.message and "valueFrom" in result.hint


def test_secrets_the_execution_role_cannot_read(session, built):
    session.client("iam").delete_role_policy(RoleName=session.name(lab01.EXECUTION_ROLE), PolicyName="secrets")
    result = _evaluate(session, "1.4")["1.4"]
    assert not result.passed and "ResourceInitializationError" in result.message


def test_healthy_threshold_used_as_retries(session, built):
    td = copy.deepcopy(built)
    td["containerDefinitions"][0]["healthCheck"]["retries"] = 1
    _register(session, td)
    result = _evaluate(session, "1.5")["1.5"]
    assert not result.passed and "UnhealthyThreshold" in result.hint


def test_health_check_on_the_wrong_path(session, built):
    td = copy.deepcopy(built)
    td["containerDefinitions"][0]["healthCheck"]["command"] = ["CMD-SHELL", "curl -f http://localhost:8080/ || exit 1"]
    _register(session, td)
    result = _evaluate(session, "1.5")["1.5"]
    assert not result.passed and "/healthz" in result.hint


def test_app_runner_trust_policy_is_rejected(session, built):
    trust = copy.deepcopy(TRUST)
    trust["Statement"][0]["Principal"]["Service"] = "tasks.apprunner.amazonaws.com"
    _role(session, session.name(lab01.TASK_ROLE), trust)
    result = _evaluate(session, "1.1")["1.1"]
    assert not result.passed and "tasks.apprunner.amazonaws.com" in result.message


def test_service_and_scalable_target(session, built):
    from mylearning import lookup
    prepare.foundation(session)
    vpc = lookup.vpc(session, session.name("vpc"))
    private = [s["SubnetId"] for s in lookup.subnets(session, vpc["VpcId"], "private")]
    group = lookup.security_group(session, vpc["VpcId"], session.name("tasks-sg"))
    ecs = session.client("ecs")
    network = {"awsvpcConfiguration": {"subnets": private, "securityGroups": [group["GroupId"]],
                                       "assignPublicIp": "DISABLED"}}
    ecs.create_service(cluster=session.name("cluster"), serviceName=session.name(lab01.SERVICE),
                       taskDefinition=session.name(lab01.SERVICE), desiredCount=1, launchType="FARGATE",
                       networkConfiguration=network)
    result = _evaluate(session, "1.6")["1.6"]
    assert not result.passed and "MinSize" in result.message
    ecs.update_service(cluster=session.name("cluster"), service=session.name(lab01.SERVICE), desiredCount=3)
    assert _evaluate(session, "1.6")["1.6"].passed
    aas = session.client("application-autoscaling")
    target = migrate.scalable_target(migrate.load_sample(migrate.SAMPLE_AUTOSCALING),
                                     session.name("cluster"), session.name(lab01.SERVICE))
    aas.register_scalable_target(**dict(target, MinCapacity=1))
    result = _evaluate(session, "1.7")["1.7"]
    assert not result.passed and "MinSize" in result.hint
    aas.register_scalable_target(**target)
    assert _evaluate(session, "1.7")["1.7"].passed


def test_limitations_answer(session):
    assert not _evaluate(session, "1.8")["1.8"].passed
    record_answer("01", "limitations", {"Sidecars": "C", "Custom networking": "E", "Service mesh": "A",
                                        "Spot capacity": "B", "Advanced deployments": "D"}, session=session)
    result = _evaluate(session, "1.8")["1.8"]
    assert not result.passed and "2 of 5" in result.message
    record_answer("01", "limitations", dict(lab01.LIMITATION_ANSWERS), session=session)
    assert _evaluate(session, "1.8")["1.8"].passed


def test_expected_values_come_from_the_app_runner_description():
    want = lab01.expected()
    assert (want["cpu"], want["memory"], want["port"]) == (1024, 2048, 8080)
    assert (want["min"], want["max"]) == (3, 25)
    assert set(want["secrets"]) == {"DATABASE_URL", "JWT_SIGNING_KEY", "PAYMENTS_API_TOKEN"}
