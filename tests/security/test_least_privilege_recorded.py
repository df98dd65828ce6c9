"""least_privilege.recorded against the embedded AWS: a trail's log files in its bucket.

Event history (LookupEvents) is not served by the embedded AWS yet, so this reads the trail-file
path only (event_history=False); the layout of the files is CloudTrail's:
https://docs.aws.amazon.com/awscloudtrail/latest/userguide/get-and-view-cloudtrail-log-files.html
"""
from __future__ import annotations

import datetime
import gzip
import json
import uuid

import pytest

from mylearning.security import least_privilege as lp
from tests.security.records import assumed, record

UTC = datetime.timezone.utc


@pytest.fixture(scope="module")
def session(emulator):
    from mylearning.backend import connect
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MYLEARNING_LEARNER", "lp" + uuid.uuid4().hex[:8])
        yield connect(quiet=True)


def _put(s3, bucket, key, records):
    s3.put_object(Bucket=bucket, Key=key, Body=gzip.compress(json.dumps({"Records": records}).encode()))


@pytest.fixture(scope="module")
def world(session):
    s3, trail = session.client("s3"), session.client("cloudtrail")
    account = session.client("sts").get_caller_identity()["Account"]
    region = session.region_name
    role = f"arn:aws:iam::{account}:role/{session.name('worker-task')}"
    other = f"arn:aws:iam::{account}:role/{session.name('other-task')}"
    bucket = session.name("trail-logs")
    s3.create_bucket(Bucket=bucket)
    name = session.name("data-trail")
    trail.create_trail(Name=name, S3BucketName=bucket, S3KeyPrefix="ml")
    trail.put_event_selectors(TrailName=name, EventSelectors=[{
        "ReadWriteType": "All", "IncludeManagementEvents": True,
        "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}]}])

    def rec(who, name_, key, time):
        r = record(assumed(who), "s3.amazonaws.com", name_, {"bucketName": "videos", "key": key}, data=True,
                   time=time)
        r["recipientAccountId"], r["awsRegion"] = account, region
        return r

    first = rec(role, "GetObject", "a", "2026-11-30T10:00:00Z")
    second = rec(role, "PutObject", "b", "2026-12-01T23:59:00Z")
    late = rec(role, "DeleteObject", "c", "2026-12-03T01:00:00Z")
    others = rec(other, "DeleteObject", "d", "2026-11-30T11:00:00Z")
    day = f"ml/AWSLogs/{account}/CloudTrail/{region}"
    _put(s3, bucket, f"{day}/2026/11/30/{account}_CloudTrail_{region}_20261130T1000Z_aaaa.json.gz",
         [first, others])
    # The same event delivered twice (two files): counted once.
    _put(s3, bucket, f"{day}/2026/12/01/{account}_CloudTrail_{region}_20261201T2359Z_bbbb.json.gz",
         [second, first])
    _put(s3, bucket, f"{day}/2026/12/03/{account}_CloudTrail_{region}_20261203T0100Z_cccc.json.gz", [late])
    # Not a log file: ignored.
    s3.put_object(Bucket=bucket, Key=f"{day}/2026/11/30/digest.txt", Body=b"x")
    return session, role, first, second


def test_reads_the_roles_records_from_the_trail_files_once_each(world):
    session, role, first, second = world
    found = lp.recorded(session, role, datetime.datetime(2026, 11, 30, tzinfo=UTC),
                        datetime.datetime(2026, 12, 2, tzinfo=UTC), event_history=False)
    assert [r["eventID"] for r in found] == [first["eventID"], second["eventID"]]


def test_the_window_bounds_the_records(world):
    session, role, first, second = world
    found = lp.recorded(session, role, datetime.datetime(2026, 12, 1, tzinfo=UTC),
                        datetime.datetime(2026, 12, 4, tzinfo=UTC), event_history=False)
    assert [r["eventName"] for r in found] == ["PutObject", "DeleteObject"]


def test_the_records_make_a_proposal(world):
    session, role, *_ = world
    found = lp.recorded(session, role, datetime.datetime(2026, 11, 30, tzinfo=UTC),
                        datetime.datetime(2026, 12, 2, tzinfo=UTC), event_history=False)
    policy = lp.generate(found, role).policy
    assert policy["Statement"] == [{"Sid": "S3", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
                                    "Resource": ["arn:aws:s3:::videos/*"]}]
    # Ready for put_role_policy, as the docstring says.
    iam, name = session.client("iam"), role.rsplit("/", 1)[-1]
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))
    iam.put_role_policy(RoleName=name, PolicyName="from-the-record", PolicyDocument=json.dumps(policy))
    stored = iam.get_role_policy(RoleName=name, PolicyName="from-the-record")["PolicyDocument"]
    assert (json.loads(stored) if isinstance(stored, str) else stored) == policy


def test_a_trail_without_data_events_is_not_read(session):
    s3, trail = session.client("s3"), session.client("cloudtrail")
    account = session.client("sts").get_caller_identity()["Account"]
    bucket = session.name("mgmt-logs")
    s3.create_bucket(Bucket=bucket)
    name = session.name("mgmt-trail")
    trail.create_trail(Name=name, S3BucketName=bucket)
    trail.put_event_selectors(TrailName=name, EventSelectors=[{"ReadWriteType": "All",
                                                                "IncludeManagementEvents": True}])
    role = f"arn:aws:iam::{account}:role/{session.name('mgmt-task')}"
    r = record(assumed(role), "sqs.amazonaws.com", "ListQueues", {}, time="2026-11-30T10:00:00Z")
    _put(s3, bucket, f"AWSLogs/{account}/CloudTrail/{session.region_name}/2026/11/30/x.json.gz", [r])
    found = lp.recorded(session, role, datetime.datetime(2026, 11, 30, tzinfo=UTC),
                        datetime.datetime(2026, 12, 1, tzinfo=UTC), event_history=False)
    assert found == []


def test_event_history_when_the_emulator_serves_it(session):
    """Management events through LookupEvents (paginated); skipped until the emulator has it."""
    from botocore.exceptions import ClientError
    account = session.client("sts").get_caller_identity()["Account"]
    role = f"arn:aws:iam::{account}:role/{session.name('nobody')}"
    try:
        found = lp.recorded(session, role, datetime.datetime(2026, 11, 30, tzinfo=UTC),
                            datetime.datetime(2026, 12, 1, tzinfo=UTC), trail_logs=False)
    except (ClientError, NotImplementedError) as error:
        pytest.skip(f"LookupEvents not served here: {error}")
    assert found == []  # no session of this role ever called anything
