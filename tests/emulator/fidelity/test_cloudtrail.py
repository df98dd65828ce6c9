"""CloudTrail Event history: every management call recorded per principal; LookupEvents reads it."""
from __future__ import annotations

import datetime
import json
import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import EmulatorProcess
from mylearning.facts import cloudtrail as facts

ACCOUNT = "123456789012"
CHANNEL = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:channel/{facts.SERVICE_CHANNEL}"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


@pytest.fixture(scope="module")
def emulator():
    emu = EmulatorProcess("--no-dataplane")
    yield emu
    emu.stop()


@pytest.fixture
def aws(emulator):
    emulator.reset()
    session = boto3.Session(aws_access_key_id="learner", aws_secret_access_key="x", region_name="us-east-1")
    return lambda service, **kw: session.client(service, endpoint_url=emulator.url, **kw)


def _events(aws, key=None, value=None, **kw):
    attrs = {"LookupAttributes": [{"AttributeKey": key, "AttributeValue": value}]} if key else {}
    pages = aws("cloudtrail").get_paginator("lookup_events").paginate(**attrs, **kw)
    return [e for page in pages for e in page["Events"]]


def _records(aws, key="EventSource", value="ecs.amazonaws.com"):
    return [json.loads(e["CloudTrailEvent"]) for e in _events(aws, key, value)]


def test_the_learners_calls_appear_newest_first_with_their_identity(aws):
    ecs = aws("ecs")
    ecs.create_cluster(clusterName="web")
    ecs.describe_clusters(clusters=["web"])
    events = _events(aws, "EventSource", "ecs.amazonaws.com")
    assert [e["EventName"] for e in events] == ["DescribeClusters", "CreateCluster"]
    described, created = events
    assert (described["ReadOnly"], created["ReadOnly"]) == ("true", "false")
    assert created["Username"] == "moto" and created["AccessKeyId"] == "learner"
    assert {"ResourceType": "AWS::ECS::Cluster", "ResourceName": "web"} in created["Resources"]
    record = json.loads(created["CloudTrailEvent"])
    assert record["userIdentity"] == {
        "type": "IAMUser", "principalId": aws("sts").get_caller_identity()["UserId"],
        "arn": f"arn:aws:iam::{ACCOUNT}:user/moto", "accountId": ACCOUNT,
        "accessKeyId": "learner", "userName": "moto"}
    assert record["eventSource"] == "ecs.amazonaws.com" and record["eventName"] == "CreateCluster"
    assert record["requestParameters"] == {"clusterName": "web"}
    assert record["eventID"] == created["EventId"] and record["awsRegion"] == "us-east-1"
    assert record["eventType"] == "AwsApiCall" and record["managementEvent"] is True
    assert record["recipientAccountId"] == ACCOUNT and record["readOnly"] is False
    assert record["eventTime"].endswith("Z") and "errorCode" not in record
    assert "Boto3/" in record["userAgent"] and record["sourceIPAddress"] == "127.0.0.1"
    # The same event keeps its id from one lookup to the next.
    assert _events(aws, "EventId", created["EventId"])[0]["EventName"] == "CreateCluster"


def test_a_failed_call_carries_its_error_code_whoever_refused_it(aws):
    ecs = aws("ecs")
    with pytest.raises(ClientError):
        ecs.delete_service(cluster="missing", service="api")  # moto refuses
    with pytest.raises(ClientError) as refused:
        aws("logs").create_log_group(logGroupName="bad name!")  # the model validation refuses
    (deleted,) = _records(aws)
    assert deleted["eventName"] == "DeleteService"
    assert deleted["errorCode"] == "ClusterNotFoundException" and deleted["errorMessage"]
    (created,) = _records(aws, "EventSource", "logs.amazonaws.com")
    assert created["errorCode"] == refused.value.response["Error"]["Code"] == "InvalidParameterException"
    assert created["errorMessage"] == refused.value.response["Error"]["Message"]


def test_assumed_role_credentials_show_the_session_and_its_role(aws):
    role = aws("iam").create_role(RoleName="app-task", AssumeRolePolicyDocument=TRUST)["Role"]
    aws("iam").put_role_policy(RoleName="app-task", PolicyName="list", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ecs:List*", "Resource": "*"}]}))
    creds = aws("sts").assume_role(RoleArn=role["Arn"], RoleSessionName="task-42")["Credentials"]
    session = boto3.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                            aws_session_token=creds["SessionToken"], region_name="us-east-1")
    session.client("ecs", endpoint_url=aws("ecs").meta.endpoint_url).list_clusters()
    (event,) = _events(aws, "Username", "task-42")
    assert event["EventName"] == "ListClusters" and event["AccessKeyId"] == creds["AccessKeyId"]
    identity = json.loads(event["CloudTrailEvent"])["userIdentity"]
    assert identity["type"] == "AssumedRole"
    assert identity["arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/app-task/task-42"
    assert identity["principalId"] == f"{role['RoleId']}:task-42"
    assert identity["sessionContext"]["sessionIssuer"] == {
        "type": "Role", "principalId": role["RoleId"], "arn": role["Arn"], "accountId": ACCOUNT,
        "userName": "app-task"}
    assert identity["sessionContext"]["attributes"]["mfaAuthenticated"] == "false"
    # A call the role may not make is refused (fidelity/iam/enforcement.py) and recorded so.
    with pytest.raises(ClientError):
        session.client("ecs", endpoint_url=aws("ecs").meta.endpoint_url).create_cluster(clusterName="nope")
    (refused,) = [json.loads(e["CloudTrailEvent"]) for e in _events(aws, "Username", "task-42")
                  if e["EventName"] == "CreateCluster"]
    assert refused["errorCode"] == "AccessDeniedException"
    assert "is not authorized to perform: ecs:CreateCluster" in refused["errorMessage"]
    # The learner's AssumeRole itself is theirs, an STS management event.
    assert [e["Username"] for e in _events(aws, "EventName", "AssumeRole")] == ["moto"]


def test_data_events_stay_out_of_event_history_and_management_ones_do_not(aws):
    s3 = aws("s3")
    s3.create_bucket(Bucket="course-assets")
    s3.put_object(Bucket="course-assets", Key="img/logo.png", Body=b"png")
    s3.get_object(Bucket="course-assets", Key="img/logo.png")
    s3.put_bucket_tagging(Bucket="course-assets", Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    names = [e["EventName"] for e in _events(aws, "EventSource", "s3.amazonaws.com")]
    assert names == ["PutBucketTagging", "CreateBucket"]
    by_bucket = _events(aws, "ResourceName", "course-assets")
    assert {e["EventName"] for e in by_bucket} == {"PutBucketTagging", "CreateBucket"}


def test_the_data_planes_calls_are_not_recorded(aws):
    aws("ecs", config=Config(user_agent_extra=facts.DATAPLANE_USER_AGENT)).create_cluster(clusterName="agent")
    aws("ecs").create_cluster(clusterName="mine")
    records = _records(aws)
    assert [r["requestParameters"]["clusterName"] for r in records] == ["mine"]


def test_each_lookup_attribute_filters(aws):
    ecs, logs = aws("ecs"), aws("logs")
    ecs.create_cluster(clusterName="one")
    ecs.list_clusters()
    logs.create_log_group(logGroupName="/ecs/web")
    created = _events(aws, "EventName", "CreateCluster")
    assert [e["EventName"] for e in created] == ["CreateCluster"]
    assert {e["EventSource"] for e in _events(aws, "EventSource", "logs.amazonaws.com")} == {"logs.amazonaws.com"}
    assert "ListClusters" not in {e["EventName"] for e in _events(aws, "ReadOnly", "false")}
    assert "CreateLogGroup" not in {e["EventName"] for e in _events(aws, "ReadOnly", "true")}
    assert {e["EventName"] for e in _events(aws, "ResourceType", "AWS::Logs::LogGroup")} == {"CreateLogGroup"}
    assert [e["EventName"] for e in _events(aws, "ResourceName", "/ecs/web")] == ["CreateLogGroup"]
    assert {e["AccessKeyId"] for e in _events(aws, "AccessKeyId", "learner")} == {"learner"}
    assert _events(aws, "AccessKeyId", "someone-else") == []
    assert [e["EventName"] for e in _events(aws, "EventId", created[0]["EventId"])] == ["CreateCluster"]
    assert _events(aws, "Username", "nobody") == []


def test_the_time_range_bounds_what_is_returned(aws):
    ecs = aws("ecs")
    ecs.create_cluster(clusterName="early")
    time.sleep(2.1)  # the record's time is to the second: make the two calls seconds apart
    middle = datetime.datetime.fromtimestamp(int(time.time()), datetime.timezone.utc)
    ecs.create_cluster(clusterName="late")
    after = [r["requestParameters"]["clusterName"] for r in
             (json.loads(e["CloudTrailEvent"]) for e in _events(aws, "EventName", "CreateCluster", StartTime=middle))]
    before = [json.loads(e["CloudTrailEvent"])["requestParameters"]["clusterName"]
              for e in _events(aws, "EventName", "CreateCluster", EndTime=middle - datetime.timedelta(seconds=1))]
    assert (after, before) == (["late"], ["early"])
    with pytest.raises(ClientError) as err:
        aws("cloudtrail").lookup_events(StartTime=middle, EndTime=middle - datetime.timedelta(hours=1))
    assert err.value.response["Error"]["Code"] == "InvalidTimeRangeException"


def test_pages_follow_next_tokens_without_repeats(aws):
    ecs = aws("ecs")
    for n in range(7):
        ecs.create_cluster(clusterName=f"c{n}")
    pages = list(aws("cloudtrail").get_paginator("lookup_events").paginate(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "CreateCluster"}],
        PaginationConfig={"PageSize": 3}))
    assert [len(p["Events"]) for p in pages] == [3, 3, 1]
    names = [json.loads(e["CloudTrailEvent"])["requestParameters"]["clusterName"] for p in pages for e in p["Events"]]
    assert names == [f"c{n}" for n in range(6, -1, -1)]
    first = aws("cloudtrail").lookup_events(MaxResults=2)
    assert len(first["Events"]) == 2 and first["NextToken"]


@pytest.mark.parametrize("call, code", [
    ({"LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": "A"},
                           {"AttributeKey": "EventSource", "AttributeValue": "B"}]}, "InvalidLookupAttributesException"),
    ({"LookupAttributes": [{"AttributeKey": "Colour", "AttributeValue": "red"}]}, "InvalidLookupAttributesException"),
    ({"LookupAttributes": [{"AttributeKey": "ReadOnly", "AttributeValue": "maybe"}]}, "InvalidLookupAttributesException"),
    ({"MaxResults": 51}, "InvalidMaxResultsException"),
    ({"NextToken": "not-a-token"}, "InvalidNextTokenException"),
    ({"EventCategory": "data"}, "InvalidEventCategoryException"),
])
def test_bad_input_gets_the_documented_error(aws, call, code):
    client = boto3.client("cloudtrail", endpoint_url=aws("ecs").meta.endpoint_url, region_name="us-east-1",
                          aws_access_key_id="x", aws_secret_access_key="x",
                          config=Config(parameter_validation=False))
    with pytest.raises(ClientError) as err:
        client.lookup_events(**call)
    assert err.value.response["Error"]["Code"] == code


def test_a_next_token_serves_only_the_parameters_it_came_with(aws):
    for n in range(3):
        aws("ecs").create_cluster(clusterName=f"t{n}")
    ct = aws("cloudtrail")
    token = ct.lookup_events(MaxResults=1, LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": "CreateCluster"}])["NextToken"]
    with pytest.raises(ClientError) as err:
        ct.lookup_events(NextToken=token, LookupAttributes=[
            {"AttributeKey": "EventName", "AttributeValue": "DeleteCluster"}])
    assert err.value.response["Error"]["Code"] == "InvalidNextTokenException"


def test_insight_lookups_find_no_insights(aws):
    aws("ecs").create_cluster(clusterName="x")
    assert aws("cloudtrail").lookup_events(EventCategory="insight")["Events"] == []


def test_reset_clears_the_history(aws, emulator):
    aws("ecs").create_cluster(clusterName="before")
    assert _records(aws)
    emulator.reset()
    assert _records(aws) == []


def _task_record(event_name, source, region="us-east-1", **kw):
    identity = facts.assumed_role(ACCOUNT, f"arn:aws:iam::{ACCOUNT}:role/app-task", "AROAEXAMPLEROLEID",
                                  "0123456789abcdef", "ASIAEXAMPLEKEY", time.time())
    return facts.record(event_name=event_name, event_source=source, region=region, account=ACCOUNT,
                        identity=identity, event_time=time.time(), event_id=kw.pop("event_id", "e-" + event_name),
                        request_id="r-1", source_ip="10.0.1.5", user_agent="aws-sdk-python", **kw)


def test_put_audit_events_adds_the_services_records_to_event_history(aws):
    data = aws("cloudtrail-data")
    answer = data.put_audit_events(channelArn=CHANNEL, auditEvents=[
        {"id": "a", "eventData": json.dumps(_task_record("GetParameters", "ssm.amazonaws.com",
                                                          parameters={"names": ["/app/db"]}))},
        {"id": "b", "eventData": json.dumps(_task_record("GetObject", "s3.amazonaws.com"))},
    ])
    assert answer["failed"] == []
    assert answer["successful"] == [{"id": "a", "eventID": "e-GetParameters"}, {"id": "b", "eventID": "e-GetObject"}]
    (event,) = _events(aws, "Username", "0123456789abcdef")
    assert (event["EventName"], event["EventSource"], event["ReadOnly"]) == ("GetParameters", "ssm.amazonaws.com", "true")
    assert event["EventId"] == "e-GetParameters" and event["AccessKeyId"] == "ASIAEXAMPLEKEY"
    record = json.loads(event["CloudTrailEvent"])
    assert record["userIdentity"]["sessionContext"]["sessionIssuer"]["userName"] == "app-task"
    assert _events(aws, "EventName", "GetObject") == []  # a data event: ingested, never in Event history


def test_put_audit_events_refuses_bad_events_one_by_one(aws):
    good = _task_record("DescribeSecret", "secretsmanager.amazonaws.com")
    missing = {k: v for k, v in good.items() if k != "eventSource"}
    other = {**good, "recipientAccountId": "210987654321", "eventID": "e-other"}
    answer = aws("cloudtrail-data").put_audit_events(channelArn=facts.SERVICE_CHANNEL, auditEvents=[
        {"id": "ok", "eventData": json.dumps(good)},
        {"id": "junk", "eventData": "{not json"},
        {"id": "list", "eventData": "[1, 2]"},
        {"id": "missing", "eventData": json.dumps(missing)},
        {"id": "other", "eventData": json.dumps(other)},
    ])
    assert [s["id"] for s in answer["successful"]] == ["ok"]
    assert {f["id"]: f["errorCode"] for f in answer["failed"]} == {
        "junk": "InvalidData", "list": "InvalidData", "missing": "FieldNotFound", "other": "InvalidRecipient"}
    assert [e["EventName"] for e in _events(aws, "EventSource", "secretsmanager.amazonaws.com")] == ["DescribeSecret"]


@pytest.mark.parametrize("channel, code", [
    (f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:channel/someone-elses", "ChannelNotFound"),
    ("arn:aws:s3:::not-a-channel", "InvalidChannelARN"),
])
def test_put_audit_events_knows_only_the_services_channel(aws, channel, code):
    event = {"id": "1", "eventData": json.dumps(_task_record("ListTasks", "ecs.amazonaws.com"))}
    with pytest.raises(ClientError) as err:
        aws("cloudtrail-data").put_audit_events(channelArn=channel, auditEvents=[event])
    assert err.value.response["Error"]["Code"] == code
    assert _events(aws, "EventName", "ListTasks") == []


def test_put_audit_events_refuses_one_id_twice(aws):
    event = {"id": "same", "eventData": json.dumps(_task_record("ListTasks", "ecs.amazonaws.com"))}
    with pytest.raises(ClientError) as err:
        aws("cloudtrail-data").put_audit_events(channelArn=CHANNEL, auditEvents=[event, event])
    assert err.value.response["Error"]["Code"] == "DuplicatedAuditEventId"
