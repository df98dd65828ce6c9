"""IAM enforced on role sessions: credentials from AssumeRole may do only what the role allows.

https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
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


@pytest.fixture
def role(env):
    """A role, and a function giving clients that sign as a session of it."""
    iam = env.client("iam")
    name = env.name("task-role")
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST,
                          Tags=[{"Key": "team", "Value": "catalogue"}])["Role"]["Arn"]
    creds = env.client("sts").assume_role(RoleArn=arn, RoleSessionName="task-1")["Credentials"]
    session = boto3.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                            aws_session_token=creds["SessionToken"], region_name=env.region)
    config = Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"})
    yield name, arn, (lambda service: session.client(service, endpoint_url=env.endpoint, config=config))
    for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]:
        iam.delete_role_policy(RoleName=name, PolicyName=policy)
    iam.delete_role(RoleName=name)


def _code(call) -> str:
    try:
        call()
    except ClientError as error:
        return error.response["Error"]["Code"] + ": " + error.response["Error"].get("Message", "")
    return "OK"


def test_a_role_without_policies_may_do_nothing_but_ask_who_it_is(env, role):
    name, arn, client = role
    bucket = env.name("content")
    env.client("s3").create_bucket(Bucket=bucket)
    env.client("s3").put_object(Bucket=bucket, Key="ecs-101.md", Body=b"# ECS 101")
    assert client("sts").get_caller_identity()["Arn"].endswith(f"assumed-role/{name}/task-1")
    answer = _code(lambda: client("s3").get_object(Bucket=bucket, Key="ecs-101.md"))
    assert answer == (f"AccessDenied: User: arn:aws:sts::123456789012:assumed-role/{name}/task-1 is not "
                      f"authorized to perform: s3:GetObject on resource: arn:aws:s3:::{bucket}/ecs-101.md "
                      "because no identity-based policy allows the s3:GetObject action")
    # The learner's own (administrator) credentials are not judged.
    assert env.client("s3").get_object(Bucket=bucket, Key="ecs-101.md")["Body"].read() == b"# ECS 101"


def test_allow_on_a_prefix_an_explicit_deny_wins_and_head_object_needs_get_object(env, role):
    name, _, client = role
    bucket = env.name("content")
    s3 = env.client("s3")
    s3.create_bucket(Bucket=bucket)
    for key in ("courses/ecs-101.md", "drafts/new.md"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    env.client("iam").put_role_policy(RoleName=name, PolicyName="content", PolicyDocument=_doc(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"},
        {"Effect": "Deny", "Action": "s3:*", "Resource": f"arn:aws:s3:::{bucket}/drafts/*"}))
    assert client("s3").get_object(Bucket=bucket, Key="courses/ecs-101.md")["Body"].read() == b"x"
    assert client("s3").head_object(Bucket=bucket, Key="courses/ecs-101.md")["ContentLength"] == 1
    denied = _code(lambda: client("s3").get_object(Bucket=bucket, Key="drafts/new.md"))
    assert denied.startswith("AccessDenied:") and "with an explicit deny in an identity-based policy" in denied
    # Listing is s3:ListBucket on the bucket itself, which the role was not given.
    assert "s3:ListBucket on resource: arn:aws:s3:::" + bucket in _code(
        lambda: client("s3").list_objects_v2(Bucket=bucket))
    assert "s3:PutObject" in _code(lambda: client("s3").put_object(Bucket=bucket, Key="courses/x", Body=b"y"))


def test_json_services_answer_access_denied_exception_and_tables_are_judged_by_arn(env, role):
    name, _, client = role
    ddb = env.client("dynamodb")
    tables = [env.name("enrollments"), env.name("other")]
    for table in tables:
        ddb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                         KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
    env.client("iam").put_role_policy(RoleName=name, PolicyName="table", PolicyDocument=_doc(
        {"Effect": "Allow", "Action": ["dynamodb:PutItem", "dynamodb:GetItem"],
         "Resource": f"arn:aws:dynamodb:us-east-1:123456789012:table/{tables[0]}"}))
    client("dynamodb").put_item(TableName=tables[0], Item={"id": {"S": "ada"}})
    assert client("dynamodb").get_item(TableName=tables[0], Key={"id": {"S": "ada"}})["Item"]
    other = _code(lambda: client("dynamodb").put_item(TableName=tables[1], Item={"id": {"S": "ada"}}))
    assert other.startswith("AccessDeniedException:") and f"table/{tables[1]}" in other
    # A batch needs the action on every table it names.
    batch = _code(lambda: client("dynamodb").batch_get_item(RequestItems={
        t: {"Keys": [{"id": {"S": "ada"}}]} for t in tables}))
    assert batch.startswith("AccessDeniedException:") and "dynamodb:BatchGetItem" in batch


def test_conditions_on_principal_tags_and_a_permissions_boundary_limit_the_session(env, role):
    name, _, client = role
    iam = env.client("iam")
    queue = env.client("sqs").create_queue(QueueName=env.name("jobs"))["QueueUrl"]
    iam.put_role_policy(RoleName=name, PolicyName="queues", PolicyDocument=_doc(
        {"Effect": "Allow", "Action": ["sqs:SendMessage", "sqs:ReceiveMessage"], "Resource": "*",
         "Condition": {"StringEquals": {"aws:PrincipalTag/team": "catalogue"}}}))
    client("sqs").send_message(QueueUrl=queue, MessageBody="render ecs-101")
    boundary = iam.create_policy(PolicyName=env.name("boundary"), PolicyDocument=_doc(
        {"Effect": "Allow", "Action": "sqs:ReceiveMessage", "Resource": "*"}))["Policy"]["Arn"]
    iam.put_role_permissions_boundary(RoleName=name, PermissionsBoundary=boundary)
    try:
        assert client("sqs").receive_message(QueueUrl=queue)["Messages"]
        sent = _code(lambda: client("sqs").send_message(QueueUrl=queue, MessageBody="again"))
        assert "because no permissions boundary allows the sqs:SendMessage action" in sent
        iam.tag_role(RoleName=name, Tags=[{"Key": "team", "Value": "video"}])
        assert "because no identity-based policy allows the sqs:ReceiveMessage action" in _code(
            lambda: client("sqs").receive_message(QueueUrl=queue))
    finally:
        iam.delete_role_permissions_boundary(RoleName=name)
        iam.delete_policy(PolicyArn=boundary)


def test_secrets_named_by_name_are_judged_by_their_arn(env, role):
    name, _, client = role
    sm = env.client("secretsmanager")
    secret = sm.create_secret(Name=env.name("db"), SecretString="s3cret")
    env.client("iam").put_role_policy(RoleName=name, PolicyName="secret", PolicyDocument=_doc(
        {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": secret["ARN"]}))
    assert client("secretsmanager").get_secret_value(SecretId=secret["Name"])["SecretString"] == "s3cret"
    other = sm.create_secret(Name=env.name("other"), SecretString="x")
    denied = _code(lambda: client("secretsmanager").get_secret_value(SecretId=other["Name"]))
    assert denied.startswith("AccessDeniedException:") and other["ARN"] in denied
