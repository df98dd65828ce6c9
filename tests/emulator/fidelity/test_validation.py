"""Model-driven validation: each protocol's request read back into the model, checked, and
refused in the service's own words; valid requests untouched; the overrides tables well-formed."""
from __future__ import annotations

import uuid

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from mylearning.emulator.fidelity import validation
from mylearning.emulator.fidelity.validation import overrides
from mylearning.emulator.fidelity.validation.errors import ANSWERS


@pytest.fixture(scope="module")
def raw(emulator):
    """Clients that send whatever they are given, as the AWS CLI with validation off would."""
    session = boto3.Session(aws_access_key_id="v", aws_secret_access_key="v", region_name="us-east-1")
    config = Config(parameter_validation=False, retries={"max_attempts": 1})
    return lambda service: session.client(service, endpoint_url=emulator.url, config=config)


def _refusal(call) -> ClientError:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value


@pytest.mark.parametrize("service, call, code, where", [
    # JSON protocol: an enum, in the service's code (ECS services: InvalidParameterException).
    ("ecs", lambda c: c.create_service(cluster="default", serviceName="s", launchType="BOGUS"),
     "InvalidParameterException", "launchType"),
    # ECS task definitions are refused with ClientException; the range lives in an override.
    ("ecs", lambda c: c.register_task_definition(family="f", containerDefinitions=[
        {"name": "app", "image": "busybox", "healthCheck": {"command": ["CMD", "true"], "interval": 1}}]),
     "ClientException", "containerDefinitions.1.member.healthCheck.interval"),
    # Query protocol, a list flattened as Name.member.N, then a range.
    ("elbv2", lambda c: c.create_target_group(Name="tg", Protocol="HTTP", Port=80, VpcId="vpc-1",
                                              HealthCheckIntervalSeconds=1),
     "ValidationError", "HealthCheckIntervalSeconds"),
    # Query protocol, a string length.
    ("iam", lambda c: c.create_role(RoleName="r" * 65, AssumeRolePolicyDocument="{}"),
     "ValidationError", "RoleName"),
    # EC2 protocol: an enum.
    ("ec2", lambda c: c.create_vpc(CidrBlock="10.1.0.0/16", InstanceTenancy="shared"),
     "InvalidParameterValue", "InstanceTenancy"),
    # REST-JSON: a member read from the body, past the model's maximum.
    ("appmesh", lambda c: c.create_mesh(meshName="m" * 256),
     "BadRequestException", "meshName"),
    # A missing required member, in the JSON form.
    ("ssm", lambda c: c.get_parameter(), "ValidationException", "Name"),
])
def test_requests_that_break_the_model_are_refused_naming_the_parameter(raw, service, call, code, where):
    error = _refusal(lambda: call(raw(service)))
    assert error.response["Error"]["Code"] == code
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert f"'{where}'" in error.response["Error"]["Message"]
    assert "failed to satisfy constraint" in error.response["Error"]["Message"]


def test_ec2_names_a_missing_parameter_its_own_way(raw):
    error = _refusal(lambda: raw("ec2").create_subnet(CidrBlock="10.0.0.0/24"))
    assert error.response["Error"]["Code"] == "MissingParameter"
    assert error.response["Error"]["Message"] == "The request must contain the parameter VpcId"


def test_several_problems_are_listed_together(raw):
    error = _refusal(lambda: raw("elbv2").create_target_group(
        Name="tg", Protocol="NOPE", HealthCheckIntervalSeconds=1))
    assert error.response["Error"]["Message"].startswith("2 validation errors detected")


def test_valid_requests_pass_through_untouched(raw):
    ecs = raw("ecs")
    name = "valid-health"
    answer = ecs.register_task_definition(family=name, containerDefinitions=[
        {"name": "app", "image": "busybox", "memory": 128,
         "healthCheck": {"command": ["CMD-SHELL", "true"], "interval": 5, "timeout": 2,
                         "retries": 10, "startPeriod": 300}}])
    assert answer["taskDefinition"]["family"] == name
    trust = ('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", '
             '"Principal": {"Service": "ecs-tasks.amazonaws.com"}}]}')
    assert raw("iam").create_role(RoleName="r" * 64, AssumeRolePolicyDocument=trust)["Role"]
    nobody = f"fuzz-{uuid.uuid4().hex}"
    assert raw("ec2").describe_vpcs(Filters=[{"Name": "tag:owner", "Values": [nobody]}])["Vpcs"] == []


def test_problems_reads_the_structure_boto3_takes():
    found = validation.problems("ecs", "CreateService", {"serviceName": "s", "launchType": "X",
                                                         "tags": [{"key": "k" * 129}]})
    paths = {p.path for p in found}
    assert paths == {"launchType", "tags.1.member.key"}
    assert validation.problems("ecs", "CreateService", {"serviceName": "s"}) == []
    assert [p.path for p in validation.problems("ecs", "CreateService", {})] == ["serviceName"]


def test_every_service_the_layer_covers_answers_in_its_own_code():
    from mylearning.emulator import fidelity
    assert set(fidelity.services()) <= set(ANSWERS)
    assert all(a.source.startswith("https://docs.aws.amazon.com/") for a in ANSWERS.values())


def test_override_rows_cite_their_page_and_name_real_shapes():
    import botocore.session
    session = botocore.session.get_session()
    for module, rows in overrides.all_overrides().items():
        from mylearning.emulator.fidelity import boto3_name
        model = session.get_service_model(boto3_name(module))
        for row in rows:
            shape = model.shape_for(row.shape)
            assert row.member is None or row.member in shape.members, (module, row)
    with pytest.raises(ValueError, match="cite"):
        overrides.Override("HealthCheck", "interval", "somewhere", {"min": 1})
    with pytest.raises(ValueError, match="unknown"):
        overrides.Override("HealthCheck", "interval", "https://docs.aws.amazon.com/x", {"low": 1})


def test_an_override_can_drop_a_model_constraint(monkeypatch):
    shape = boto3.Session().client("ecs", region_name="us-east-1").meta.service_model.shape_for(
        "CreateServiceRequest")
    member = shape.members["tags"]
    before = overrides.constraints_of("ecs", member, "CreateServiceRequest", "tags")
    assert before["max"] == 50
    monkeypatch.setattr(overrides, "table", lambda service: {
        ("CreateServiceRequest", "tags"): {"max": overrides.DROP}})
    overrides._constraints.cache_clear()
    try:
        assert "max" not in overrides.constraints_of("ecs", member, "CreateServiceRequest", "tags")
    finally:
        monkeypatch.undo()
        overrides._constraints.cache_clear()


def test_the_health_answer_counts_checks_refusals_and_moto_failures(raw, emulator):
    from mylearning.emulator.manager import health

    before = health(emulator.url)
    _refusal(lambda: raw("ecs").create_service(cluster="default", serviceName="s", launchType="NO"))
    after = health(emulator.url)
    assert after["validation"]["checked"] > before["validation"]["checked"]
    assert after["validation"]["rejected"] == before["validation"]["rejected"] + 1
    assert after["validation"]["mean_ms"] > 0
    assert after["server_errors"] == before["server_errors"]
    assert isinstance(after["moto_failures"], int)


def test_a_request_moto_fails_on_is_refused_naming_the_parameter_not_a_500(raw, emulator):
    """moto's IAM reads the service name of CreateServiceLinkedRole by splitting on dots and
    fails on a name without them; AWS refuses such a name."""
    from mylearning.emulator.manager import health

    before = health(emulator.url)
    error = _refusal(lambda: raw("iam").create_service_linked_role(AWSServiceName="nodots"))
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error.response["Error"]["Code"] == "ValidationError"
    assert "AWSServiceName" in error.response["Error"]["Message"]
    after = health(emulator.url)
    assert after["moto_failures"] == before["moto_failures"] + 1
    assert after["server_errors"] == before["server_errors"]
