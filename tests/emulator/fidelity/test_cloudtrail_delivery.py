"""Trails deliver log files to their bucket: the records their selectors select, as CloudTrail does.

https://docs.aws.amazon.com/awscloudtrail/latest/userguide/how-cloudtrail-works.html
https://docs.aws.amazon.com/awscloudtrail/latest/userguide/get-and-view-cloudtrail-log-files.html
https://docs.aws.amazon.com/awscloudtrail/latest/userguide/logging-data-events-with-cloudtrail.html
"""
from __future__ import annotations

import datetime
import gzip
import json
import re
import time

import boto3
import pytest

from conftest import EmulatorProcess
from mylearning.security import least_privilege as lp

ACCOUNT = "123456789012"
REGION = "us-east-1"
LOGS = "trail-logs"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}]})
S3_ALL = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})


@pytest.fixture(scope="module")
def emulator():
    # At time scale 300 a trail delivers every second (delivery.interval()).
    emu = EmulatorProcess("--no-dataplane", env={"MYLEARNING_TIME_SCALE": "300"})
    yield emu
    emu.stop()


def _clients(url, **keys):
    session = boto3.Session(**(keys or {"aws_access_key_id": "learner", "aws_secret_access_key": "x"}),
                            region_name=REGION)
    return lambda service: session.client(service, endpoint_url=url)


def _files(aws, prefix):
    s3 = aws("s3")
    found = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=LOGS, Prefix=prefix):
        for item in page.get("Contents") or []:
            body = s3.get_object(Bucket=LOGS, Key=item["Key"])["Body"].read()
            found[item["Key"]] = json.loads(gzip.decompress(body))["Records"]
    return found


def _records(aws, prefix):
    return [r for records in _files(aws, prefix).values() for r in records]


def _wait_for(aws, prefix, predicate, what):
    deadline = time.time() + 30
    while time.time() < deadline:
        records = _records(aws, prefix)
        if predicate(records):
            return records
        time.sleep(0.2)
    raise AssertionError(f"no delivery of {what} under {prefix!r}: {[r['eventName'] for r in _records(aws, prefix)]}")


def _role_session(aws, url, name):
    iam = aws("iam")
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)["Role"]
    iam.put_role_policy(RoleName=name, PolicyName="s3", PolicyDocument=S3_ALL)
    creds = aws("sts").assume_role(RoleArn=role["Arn"], RoleSessionName="app-1")["Credentials"]
    return role["Arn"], _clients(url, aws_access_key_id=creds["AccessKeyId"],
                                 aws_secret_access_key=creds["SecretAccessKey"],
                                 aws_session_token=creds["SessionToken"])


@pytest.fixture(scope="module")
def world(emulator):
    emulator.reset()
    aws = _clients(emulator.url)
    s3, trail = aws("s3"), aws("cloudtrail")
    for bucket in (LOGS, "videos", "other"):
        s3.create_bucket(Bucket=bucket)
    start = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=1)
    trail.create_trail(Name="data-trail", S3BucketName=LOGS, S3KeyPrefix="ml/audit")
    trail.put_event_selectors(TrailName="data-trail", EventSelectors=[{
        "ReadWriteType": "All", "IncludeManagementEvents": False,
        "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::videos/"]}]}])
    trail.create_trail(Name="writes-trail", S3BucketName=LOGS, S3KeyPrefix="writes")
    trail.put_event_selectors(TrailName="writes-trail", EventSelectors=[{
        "ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}])
    trail.create_trail(Name="advanced-trail", S3BucketName=LOGS, S3KeyPrefix="adv")
    trail.put_event_selectors(TrailName="advanced-trail", AdvancedEventSelectors=[{
        "Name": "objects of other", "FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Data"]},
            {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
            {"Field": "resources.ARN", "StartsWith": ["arn:aws:s3:::other/"]}]}])
    trail.create_trail(Name="idle-trail", S3BucketName=LOGS, S3KeyPrefix="idle")
    for name in ("data-trail", "writes-trail", "advanced-trail"):
        trail.start_logging(Name=name)
    role_arn, app = _role_session(aws, emulator.url, "video-reader")
    app("s3").put_object(Bucket="videos", Key="intro.mp4", Body=b"frames")
    assert app("s3").get_object(Bucket="videos", Key="intro.mp4")["Body"].read() == b"frames"
    app("s3").put_object(Bucket="other", Key="notes.txt", Body=b"text")
    app("s3").get_object(Bucket="other", Key="notes.txt")
    aws("ecs").create_cluster(clusterName="web")
    aws("ecs").list_clusters()
    _wait_for(aws, "ml/audit/", lambda rs: any(r["eventName"] == "GetObject" for r in rs), "GetObject")
    _wait_for(aws, "writes/", lambda rs: any(r["eventName"] == "CreateCluster" for r in rs), "CreateCluster")
    _wait_for(aws, "adv/", lambda rs: any(r["eventName"] == "GetObject" for r in rs), "GetObject")
    return aws, role_arn, app, start


def test_a_data_trail_gets_the_object_calls_on_its_bucket_only(world):
    aws, role_arn, *_ = world
    records = _records(aws, "ml/audit/")
    assert sorted((r["eventName"], r["requestParameters"]["bucketName"]) for r in records) == [
        ("GetObject", "videos"), ("PutObject", "videos")]
    (got,) = [r for r in records if r["eventName"] == "GetObject"]
    assert got["eventSource"] == "s3.amazonaws.com" and got["eventCategory"] == "Data"
    assert got["managementEvent"] is False and got["readOnly"] is True
    assert got["requestParameters"]["key"] == "intro.mp4"
    assert got["resources"] == [
        {"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::videos/intro.mp4"},
        {"accountId": ACCOUNT, "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::videos"}]
    identity = got["userIdentity"]
    assert identity["type"] == "AssumedRole"
    assert identity["sessionContext"]["sessionIssuer"]["arn"] == role_arn
    (put,) = [r for r in records if r["eventName"] == "PutObject"]
    assert put["readOnly"] is False and put["recipientAccountId"] == ACCOUNT


def test_advanced_selectors_pick_by_resource_arn(world):
    aws, *_ = world
    records = _records(aws, "adv/")
    assert sorted((r["eventName"], r["requestParameters"]["bucketName"]) for r in records) == [
        ("GetObject", "other"), ("PutObject", "other")]
    assert all(r["eventCategory"] == "Data" for r in records)


def test_management_events_follow_read_write_type(world):
    aws, *_ = world
    records = _records(aws, "writes/")
    names = {r["eventName"] for r in records}
    assert "CreateCluster" in names and "ListClusters" not in names
    assert not {"GetObject", "PutObject"} & names  # no data resources selected
    assert all(r["managementEvent"] is True and r["eventCategory"] == "Management" and r["readOnly"] is False
               for r in records)


def test_files_land_under_the_documented_key_with_the_prefix(world):
    aws, *_ = world
    keys = list(_files(aws, "ml/audit/"))
    assert keys
    pattern = re.compile(rf"ml/audit/AWSLogs/{ACCOUNT}/CloudTrail/{REGION}/(\d{{4}})/(\d\d)/(\d\d)/"
                         rf"{ACCOUNT}_CloudTrail_{REGION}_(\d{{8}})T\d{{4}}Z_[A-Za-z0-9]{{16}}\.json\.gz")
    for key in keys:
        found = pattern.fullmatch(key)
        assert found, key
        assert "".join(found.groups()[:3]) == found.group(4)  # the folder is the file's day


def test_event_history_still_shows_management_events_only(world):
    aws, *_ = world
    pages = aws("cloudtrail").get_paginator("lookup_events").paginate(
        LookupAttributes=[{"AttributeKey": "EventSource", "AttributeValue": "s3.amazonaws.com"}])
    names = {e["EventName"] for page in pages for e in page["Events"]}
    assert "CreateBucket" in names
    assert not {"GetObject", "PutObject"} & names


def test_trail_status_shows_the_latest_delivery(world):
    aws, *_ = world
    trail = aws("cloudtrail")
    delivered = trail.get_trail_status(Name="data-trail")
    assert delivered["IsLogging"] is True
    assert isinstance(delivered["LatestDeliveryTime"], datetime.datetime)
    idle = trail.get_trail_status(Name="idle-trail")
    assert idle["IsLogging"] is False and "LatestDeliveryTime" not in idle


def test_least_privilege_proposes_the_object_reads_from_the_delivered_files(world):
    aws, role_arn, _, start = world

    class Session:  # what recorded() needs of a boto3 Session, against this emulator
        region_name = REGION

        @staticmethod
        def client(name):
            return aws(name)

    end = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=1)
    found = lp.recorded(Session(), role_arn, start, end)
    assert {"GetObject", "PutObject"} <= {r["eventName"] for r in found}
    grants = {g.action: g.resources for g in lp.generate(found, role_arn).grants}
    assert "arn:aws:s3:::videos/*" in grants["s3:GetObject"]


def test_data_events_the_data_plane_hands_over_are_delivered_too(world):
    """Records of AWS's services (fidelity/cloudtrail/ingest.py) reach the trails that select them."""
    aws, role_arn, *_ = world
    from mylearning.facts import cloudtrail as facts
    identity = facts.assumed_role(ACCOUNT, role_arn, "AROAEXAMPLE", "task-9", "ASIAEXAMPLE", time.time())
    record = facts.record(
        event_name="GetObject", event_source="s3.amazonaws.com", region=REGION, account=ACCOUNT,
        identity=identity, event_time=time.time(), event_id="e0000000-0000-4000-8000-000000000001",
        request_id="r1", parameters={"bucketName": "videos", "key": "handed-over.mp4"},
        resources=facts.record_resources(("AWS::S3::Object", "arn:aws:s3:::videos/handed-over.mp4"), ACCOUNT))
    channel = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:channel/{facts.SERVICE_CHANNEL}"
    answer = aws("cloudtrail-data").put_audit_events(channelArn=channel, auditEvents=[
        {"id": "1", "eventData": json.dumps(record)}])
    assert answer["failed"] == []
    records = _wait_for(aws, "ml/audit/", lambda rs: any(r["eventID"] == record["eventID"] for r in rs), "it")
    (got,) = [r for r in records if r["eventID"] == record["eventID"]]
    assert got["requestParameters"]["key"] == "handed-over.mp4" and got["managementEvent"] is False


def test_a_trail_whose_bucket_is_gone_says_so(world):
    aws, *_ = world
    s3, trail = aws("s3"), aws("cloudtrail")
    s3.create_bucket(Bucket="short-lived")
    trail.create_trail(Name="lost-trail", S3BucketName="short-lived")
    trail.start_logging(Name="lost-trail")
    s3.delete_bucket(Bucket="short-lived")
    aws("ecs").list_clusters()
    deadline = time.time() + 30
    while time.time() < deadline and "LatestDeliveryError" not in trail.get_trail_status(Name="lost-trail"):
        time.sleep(0.2)
    status = trail.get_trail_status(Name="lost-trail")
    assert status["LatestDeliveryError"] == "NoSuchBucket" and "LatestDeliveryTime" not in status
    trail.stop_logging(Name="lost-trail")


def test_stop_logging_stops_delivery(world):
    aws, _, app, _ = world
    aws("cloudtrail").stop_logging(Name="data-trail")
    app("s3").get_object(Bucket="videos", Key="intro.mp4", Range="bytes=0-1")
    app("s3").put_object(Bucket="videos", Key="after-stop.mp4", Body=b"x")
    aws("ecs").create_cluster(clusterName="witness")
    # The writes trail, still logging, got a later call: a delivery ran after the object calls.
    _wait_for(aws, "writes/", lambda rs: any(r["requestParameters"] == {"clusterName": "witness"} for r in rs
                                             if r["eventName"] == "CreateCluster"), "the witness")
    keys = [r["requestParameters"]["key"] for r in _records(aws, "ml/audit/")]
    assert "after-stop.mp4" not in keys and keys.count("intro.mp4") == 2
    assert aws("cloudtrail").get_trail_status(Name="data-trail")["IsLogging"] is False


def test_reset_clears_pending_records(emulator, world):
    aws, _, app, _ = world
    aws("cloudtrail").start_logging(Name="data-trail")
    app("s3").put_object(Bucket="videos", Key="before-reset.mp4", Body=b"x")  # pending: reset drops it
    emulator.reset()
    s3, trail = aws("s3"), aws("cloudtrail")
    s3.create_bucket(Bucket=LOGS)
    s3.create_bucket(Bucket="videos")
    trail.create_trail(Name="data-trail", S3BucketName=LOGS, S3KeyPrefix="ml/audit")
    trail.put_event_selectors(TrailName="data-trail", EventSelectors=[{
        "ReadWriteType": "All", "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}]}])
    trail.start_logging(Name="data-trail")
    s3.put_object(Bucket="videos", Key="after-reset.mp4", Body=b"x")
    records = _wait_for(aws, "ml/audit/", lambda rs: any(r["eventName"] == "PutObject" for r in rs), "PutObject")
    keys = {r["requestParameters"].get("key") for r in records if r["eventName"] == "PutObject"}
    assert keys == {"after-reset.mp4"}
