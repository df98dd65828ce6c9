"""Every boto3 operation the course's code calls is one the embedded AWS implements.

The operations come from the code (`course_operations`: the library, the graders and the
solution notebooks, scanned); each is called on the shared test emulator with minimal
parameters (each required member a placeholder of its type, read from the botocore model)
and client-side validation off. AWS answers most of them with a 400 (no such resource, a
placeholder out of shape), which is fine: what must never come back is HTTP 501 (moto lacks
the operation) or another 5xx (the emulator crashed on a request AWS answers).

Why placeholders, not empty parameters: moto 5.2 crashes (HTTP 500) on 20 of these requests that
leave out a required member, where AWS answers a 400. That is a gap of its own, for the
model-driven checks; here it would hide the question asked, whether the operation exists.

The calls go to a region no other test uses, so those that succeed (CreateCluster makes a
"default" cluster, CreateLogGroup a "mylearning-probe" group) touch nothing another test
reads; IAM is global, but its creates with placeholders are refused before they change
anything. (Some succeed where AWS would refuse them, e.g. PutScalingPolicy on a group that
does not exist: a gap for the model-driven checks, not this test's question.)
"""
from __future__ import annotations

import pytest

from tests.emulator.fidelity.course_operations import _client_methods, course_operations

#: A region no other test calls (the tests use us-east-1 and eu-west-1).
REGION = "ap-southeast-2"

OPERATIONS = sorted((service, op) for service, ops in course_operations().items() for op in ops)


def test_the_scan_finds_the_course_operations():
    """The scan sees the calls the labs are built on (a scan that found nothing would pass below)."""
    found = course_operations()
    assert {"CreateService", "RegisterTaskDefinition", "DescribeServices"} <= found["ecs"]
    assert {"CreateVpc", "CreateSubnet"} <= found["ec2"]
    assert "GetParametersByPath" in found["ssm"]        # a paginator
    assert "DescribeLoadBalancers" in found["elbv2"]    # also polled by a waiter
    assert "GetCallerIdentity" in found["sts"]
    from mylearning import course
    assert set(found) <= set(course.all_services())


PLACEHOLDER = "mylearning-probe"


def minimal(shape, depth: int = 0):
    """A value for `shape` with only its required members set, each a placeholder."""
    kind = shape.type_name
    if kind == "structure":
        return {name: minimal(shape.members[name], depth + 1)
                for name in shape.required_members if depth < 5}
    if kind == "list":
        return [minimal(shape.member, depth + 1)] if shape.metadata.get("min", 0) and depth < 5 else []
    if kind == "map":
        return {}
    if kind == "string":
        enum = getattr(shape, "enum", None)
        return enum[0] if enum else PLACEHOLDER
    if kind in ("integer", "long"):
        return max(1, shape.metadata.get("min", 1))
    if kind in ("double", "float"):
        return 1.0
    if kind == "boolean":
        return False
    if kind == "timestamp":
        import datetime
        return datetime.datetime.now(datetime.timezone.utc)
    if kind == "blob":
        return b"x"
    return None


@pytest.fixture(scope="module")
def clients(emulator):
    import boto3
    from botocore.config import Config

    session = boto3.Session(aws_access_key_id="course", aws_secret_access_key="course",
                            region_name=REGION)
    config = Config(parameter_validation=False, retries={"max_attempts": 1}, read_timeout=60,
                    inject_host_prefix=False)  # as mylearning's clients: no "data-127.0.0.1"
    made: dict = {}

    def client(service: str):
        if service not in made:
            made[service] = session.client(service, endpoint_url=emulator.url, config=config)
        return made[service]
    return client


@pytest.mark.parametrize("service, operation", OPERATIONS, ids=[f"{s}.{o}" for s, o in OPERATIONS])
def test_the_embedded_aws_implements_the_operation(clients, service, operation):
    from botocore.exceptions import ClientError
    from botocore.parsers import ResponseParserError

    client = clients(service)
    method = {api: snake for snake, api in _client_methods(service).items()}[operation]
    model = client.meta.service_model.operation_model(operation)
    params = minimal(model.input_shape) if model.input_shape is not None else {}
    try:
        response = getattr(client, method)(**params)
    except ClientError as exc:
        response = exc.response
    except ResponseParserError as exc:  # an error body the client cannot read: a crash
        pytest.fail(f"{service} {operation}: unreadable answer {str(exc)[-300:]}")
    status = response["ResponseMetadata"]["HTTPStatusCode"]
    error = response.get("Error", {})
    assert status != 501, f"{service} {operation}: the embedded AWS lacks it ({error.get('Message')})"
    assert status < 500, f"{service} {operation} with minimal parameters: HTTP {status} {error}"
