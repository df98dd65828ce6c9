"""A task's own AWS calls: task-role credentials from the container credentials endpoint, judged
by IAM in the embedded AWS, recorded by CloudTrail for the role session.

https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html
"""
from __future__ import annotations

import json

import pytest

from mylearning.dataplane.task_aws import RELATIVE_URI_VAR
from tests.dataplane.world import World, private_ip, wait_for

COURSES = "public.ecr.aws/mylearning/courses-api:1.2.0"
TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                 "Principal": {"Service": "ecs-tasks.amazonaws.com"}}]}


@pytest.fixture
def world(emulator_with_dataplane):
    emulator_with_dataplane.reset()
    return World(emulator_with_dataplane.url)


def _task_role(world: World, name: str, *statements: dict, trust: dict = TRUST) -> str:
    arn = world.iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    if statements:
        world.iam.put_role_policy(RoleName=name, PolicyName="app", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": list(statements)}))
    return arn


def _content(world: World) -> str:
    s3 = world.client("s3")
    s3.create_bucket(Bucket="course-content")
    s3.put_object(Bucket="course-content", Key="courses/ecs-101.md", Body=b"# ECS 101\nTasks, services, clusters.")
    return "course-content"


def _serving(world: World, task_role: str | None, env: dict | None = None) -> str:
    app = world.container("app", COURSES, env={"COURSE_CONTENT_BUCKET": "course-content", **(env or {})})
    extra = {"taskRoleArn": task_role} if task_role else {}
    task = world.run(world.register(app, family="content", **extra))
    running = world.wait_status(task["taskArn"], "RUNNING", timeout=60)
    ip = private_ip(running)
    wait_for("the app answering", lambda: world.get(f"http://{ip}:8080/health")[0] == 200, timeout=30)
    return ip


def _material(world: World, ip: str) -> tuple[int, dict]:
    status, body = world.get(f"http://{ip}:8080/api/courses/ecs-101/material", timeout=30)
    return status, json.loads(body)


def _app_log(world: World, needle: str) -> list[dict]:
    events = world.logs.filter_log_events(logGroupName="/ecs/app")["events"]
    return [json.loads(e["message"]) for e in events if needle in e["message"]]


def test_the_task_role_reads_its_bucket_and_cloudtrail_names_the_session(world):
    _content(world)
    role = _task_role(world, "content-reader", {"Effect": "Allow", "Action": "s3:GetObject",
                                                 "Resource": "arn:aws:s3:::course-content/courses/*"})
    ip = _serving(world, role)
    status, answer = _material(world, ip)
    assert status == 200, answer
    assert answer["material"].startswith("# ECS 101") and answer["source"] == "s3://course-content/courses/ecs-101.md"
    # Both of the task's role sessions are named after the task, as CloudTrail shows them: ECS
    # read the secrets and made the log streams as the execution role; the app's GetObject is a data event, which Event
    # history does not show (logging-data-events-with-cloudtrail.html).
    task_id = world.ecs.list_tasks(cluster="c")["taskArns"][0].rsplit("/", 1)[-1]
    records = [json.loads(e["CloudTrailEvent"]) for e in world.client("cloudtrail").lookup_events(
        LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": task_id}])["Events"]]
    issuers = {r["userIdentity"]["sessionContext"]["sessionIssuer"]["arn"] for r in records}
    assert issuers == {world.role}
    names = {r["eventName"] for r in records}
    assert {"GetSecretValue", "CreateLogStream"} <= names and "GetObject" not in names


def test_what_the_role_does_not_allow_is_access_denied_in_the_answer_and_the_log(world):
    _content(world)
    role = _task_role(world, "content-wrong", {"Effect": "Allow", "Action": "s3:GetObject",
                                                "Resource": "arn:aws:s3:::other-bucket/*"})
    ip = _serving(world, role)
    status, answer = _material(world, ip)
    assert status == 500 and answer["error"] == "AccessDenied", answer
    assert "assumed-role/content-wrong/" in answer["message"]
    assert "is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::course-content/courses/ecs-101.md" \
        in answer["message"]
    logged = wait_for("the refusal in the app's log", lambda: _app_log(world, "AccessDenied"), timeout=30)
    assert logged[0]["level"] == "ERROR" and logged[0]["error_code"] == "AccessDenied"
    # The learner fixes the policy; the running task's next call works (IAM is read per call).
    world.iam.put_role_policy(RoleName="content-wrong", PolicyName="app", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                                                "Resource": "arn:aws:s3:::course-content/*"}]}))
    assert _material(world, ip)[0] == 200


def test_a_task_without_a_task_role_has_no_credentials(world):
    _content(world)
    ip = _serving(world, None)
    status, answer = _material(world, ip)
    assert status == 500 and answer["error"] == "NoCredentials"
    assert RELATIVE_URI_VAR in answer["message"]


def test_a_role_that_does_not_trust_ecs_tasks_gives_no_credentials(world):
    _content(world)
    untrusting = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                          "Principal": {"Service": "lambda.amazonaws.com"}}]}
    role = _task_role(world, "lambda-only", {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}, trust=untrusting)
    ip = _serving(world, role)
    status, answer = _material(world, ip)
    assert status == 500 and answer["error"] == "NoCredentials"
    assert "ECS was unable to assume the role" in answer["message"]


def test_the_credentials_endpoint_answers_only_known_ids(world):
    _content(world)
    role = _task_role(world, "content-reader2", {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})
    _serving(world, role)
    status, body = world.get("http://169.254.170.2/v2/credentials/not-a-task")
    assert status == 400 and json.loads(body)["code"] == "InvalidIdInRequest"


class _Session:
    """What `least_privilege.recorded` needs of a session: clients on the test emulator."""

    def __init__(self, world: World) -> None:
        self.client = world.client
        self.region_name = "us-east-1"


def test_least_privilege_from_what_the_task_really_called(world):
    """The issue's loop: a broad task role, a trail logging S3 data events, the app's real calls
    recorded, a proposal generated from them and attached; the service keeps working, and what
    it never called is refused (access-analyzer-policy-generation.html)."""
    import datetime

    from mylearning.security import least_privilege
    _content(world)
    s3, trail = world.client("s3"), world.client("cloudtrail")
    s3.create_bucket(Bucket="trail-logs")
    trail.create_trail(Name="course-trail", S3BucketName="trail-logs")
    trail.put_event_selectors(TrailName="course-trail", EventSelectors=[{
        "ReadWriteType": "All", "IncludeManagementEvents": True,
        "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::course-content/"]}]}])
    trail.start_logging(Name="course-trail")
    start = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=5)
    role = _task_role(world, "content-broad", {"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
    ip = _serving(world, role)
    assert _material(world, ip)[0] == 200

    def proposal():
        records = least_privilege.recorded(_Session(world), role, start,
                                           datetime.datetime.now(datetime.timezone.utc))
        found = least_privilege.generate(records, role)
        return found if found.grants else None

    found = wait_for("the app's GetObject delivered to the trail", proposal, timeout=60, every=1.0)
    document = found.policy
    actions = {a for s in document["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert actions == {"s3:GetObject"}, document
    world.iam.put_role_policy(RoleName="content-broad", PolicyName="app", PolicyDocument=json.dumps(document))
    assert _material(world, ip)[0] == 200  # still works on the proposal alone
    # What the app never did is refused now, for the same role session.
    creds = world.client("sts").assume_role(RoleArn=role, RoleSessionName="probe")["Credentials"]
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError
    probe = boto3.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                          aws_session_token=creds["SessionToken"], region_name="us-east-1").client(
        "s3", endpoint_url=world.url, config=Config(s3={"addressing_style": "path"}))
    with pytest.raises(ClientError) as refused:
        probe.put_object(Bucket="course-content", Key="courses/ecs-101.md", Body=b"defaced")
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
