"""CloudTrail facts: the record builder, identities, data events and read-only calls."""
from __future__ import annotations

import json

from mylearning.facts import cloudtrail as facts


def _identity():
    return facts.iam_user("123456789012", "alice", "AIDAEXAMPLE", "AKIAEXAMPLE")


def test_a_record_has_the_documented_fields_in_order():
    record = facts.record(event_name="CreateCluster", event_source="ecs.amazonaws.com", region="eu-west-1",
                          account="123456789012", identity=_identity(), event_time=1_700_000_000.7,
                          event_id="e1", request_id="r1", parameters={"clusterName": "web"})
    assert list(record) == ["eventVersion", "userIdentity", "eventTime", "eventSource", "eventName",
                            "awsRegion", "sourceIPAddress", "userAgent", "requestParameters",
                            "responseElements", "requestID", "eventID", "readOnly", "eventType",
                            "managementEvent", "recipientAccountId", "eventCategory"]
    assert record["eventTime"] == "2023-11-14T22:13:20Z"
    assert (record["readOnly"], record["managementEvent"], record["eventCategory"]) == (False, True, "Management")
    assert record["responseElements"] is None
    json.dumps(record)


def test_a_failed_call_carries_error_code_and_message():
    record = facts.record(event_name="DeleteService", event_source="ecs.amazonaws.com", region="us-east-1",
                          account="1", identity=_identity(), event_time=0, event_id="e", request_id="r",
                          error_code="ClusterNotFoundException", error_message="Cluster not found.")
    assert (record["errorCode"], record["errorMessage"]) == ("ClusterNotFoundException", "Cluster not found.")
    assert list(record).index("errorCode") == list(record).index("userAgent") + 1


def test_data_events_are_classified_per_source():
    assert facts.is_data_event("s3.amazonaws.com", "PutObject")
    assert not facts.is_data_event("s3.amazonaws.com", "CreateBucket")
    assert facts.is_data_event("dynamodb.amazonaws.com", "GetItem")
    assert facts.is_data_event("sqs.amazonaws.com", "SendMessage")
    assert facts.is_data_event("lambda.amazonaws.com", "Invoke")
    assert not facts.is_data_event("ecs.amazonaws.com", "RunTask")
    record = facts.record(event_name="GetObject", event_source="s3.amazonaws.com", region="us-east-1",
                          account="1", identity=_identity(), event_time=0, event_id="e", request_id="r")
    assert (record["managementEvent"], record["eventCategory"], record["readOnly"]) == (False, "Data", True)


def test_read_only_calls_are_the_reads():
    assert all(facts.is_read_only(n) for n in ("DescribeClusters", "ListTasks", "GetParameters", "HeadBucket",
                                               "LookupEvents", "BatchGetTraces", "ReceiveMessage"))
    assert not any(facts.is_read_only(n) for n in ("CreateCluster", "PutObject", "UpdateService",
                                                   "DeleteBucket", "RunTask", "AssumeRole"))


def test_assumed_role_identity_names_its_issuer_and_lookup_names_the_session():
    identity = facts.assumed_role("123456789012", "arn:aws:iam::123456789012:role/app", "AROAEXAMPLE",
                                  "task-1", "ASIAEXAMPLE", 0)
    assert identity["arn"] == "arn:aws:sts::123456789012:assumed-role/app/task-1"
    assert identity["principalId"] == "AROAEXAMPLE:task-1"
    assert identity["sessionContext"]["sessionIssuer"]["userName"] == "app"
    assert identity["sessionContext"]["attributes"]["creationDate"] == "1970-01-01T00:00:00Z"
    assert facts.username(identity) == "task-1"
    assert facts.username(_identity()) == "alice"


def test_event_sources_use_signing_names_and_secrets_are_hidden():
    assert facts.event_source("elbv2") == "elasticloadbalancing.amazonaws.com"
    assert facts.event_source("cloudwatch") == "monitoring.amazonaws.com"
    assert facts.event_source("ecs") == "ecs.amazonaws.com"
    params = facts.request_parameters({"Name": "db", "SecretString": "hunter2", "Tags": []})
    assert params == {"name": "db", "secretString": facts.HIDDEN, "tags": []}
    assert facts.request_parameters({}) is None
    assert facts.lookup_resources("s3.amazonaws.com", {"Bucket": "b"}) == [
        {"ResourceType": "AWS::S3::Bucket", "ResourceName": "b"}]
