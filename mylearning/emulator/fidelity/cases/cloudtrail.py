"""CloudTrail fidelity cases: the Event history records the caller's calls; LookupEvents' errors."""
from __future__ import annotations

import datetime
import json
from typing import Any

from mylearning.emulator.fidelity.cases import OK, BehaviourMismatch, Case, Env

LOOKUP = "https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html"
HISTORY = "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/view-cloudtrail-events.html"
PUT = "https://docs.aws.amazon.com/awscloudtrail-data/latest/APIReference/API_PutAuditEvents.html"


def _by_name(env: Env, name: str) -> list[dict]:
    return env.client("cloudtrail").lookup_events(LookupAttributes=[
        {"AttributeKey": "ResourceName", "AttributeValue": name}])["Events"]


def _create_cluster_is_recorded(env: Env) -> Any:
    name = env.name("cluster")
    env.client("ecs").create_cluster(clusterName=name)
    events = _by_name(env, name)
    if [e["EventName"] for e in events] != ["CreateCluster"]:
        raise BehaviourMismatch(f"Event history for {name}: {[e['EventName'] for e in events]}, not [CreateCluster]")
    record = json.loads(events[0]["CloudTrailEvent"])
    if record.get("eventSource") != "ecs.amazonaws.com" or record.get("readOnly") is not False:
        raise BehaviourMismatch(f"record {record.get('eventSource')} readOnly={record.get('readOnly')}")


def _object_writes_are_data_events(env: Env) -> Any:
    bucket = env.name("bucket")
    s3 = env.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    names = [e["EventName"] for e in _by_name(env, bucket)]
    if names != ["CreateBucket"]:
        raise BehaviourMismatch(f"Event history for {bucket}: {names}; PutObject is a data event, never shown")


def _no_delivery_claimed_before_one(env: Env) -> Any:
    """moto reports a LatestDeliveryTime at every GetTrailStatus of a logging trail; AWS only once
    it delivered a log file (fidelity/cloudtrail/delivery.py)."""
    bucket, name = env.name("trail-logs"), env.name("trail")
    env.client("s3").create_bucket(Bucket=bucket)
    trail = env.client("cloudtrail")
    trail.create_trail(Name=name, S3BucketName=bucket)
    trail.start_logging(Name=name)
    status = trail.get_trail_status(Name=name)
    trail.delete_trail(Name=name)
    if "LatestDeliveryTime" in status:
        raise BehaviourMismatch(f"a trail that just started logging claims a delivery at {status['LatestDeliveryTime']}")


def _two_attributes(env: Env) -> Any:
    env.client("cloudtrail").lookup_events(LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": "CreateCluster"},
        {"AttributeKey": "ReadOnly", "AttributeValue": "false"}])


def _max_results_over_50(env: Env) -> Any:
    env.client("cloudtrail").lookup_events(MaxResults=51)


def _start_after_end(env: Env) -> Any:
    now = datetime.datetime.now(datetime.timezone.utc)
    env.client("cloudtrail").lookup_events(StartTime=now, EndTime=now - datetime.timedelta(days=1))


def _another_channel(env: Env) -> Any:
    env.client("cloudtrail-data").put_audit_events(
        channelArn="arn:aws:cloudtrail:us-east-1:123456789012:channel/not-ours",
        auditEvents=[{"id": "1", "eventData": "{}"}])


CASES = [
    Case("cloudtrail.history.create-cluster-recorded", "cloudtrail", _create_cluster_is_recorded, OK,
         HISTORY, "behaviour"),
    Case("cloudtrail.history.put-object-is-a-data-event", "cloudtrail", _object_writes_are_data_events, OK,
         "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/logging-data-events-with-cloudtrail.html",
         "behaviour"),
    Case("cloudtrail.trail.no-delivery-claimed-before-one", "cloudtrail", _no_delivery_claimed_before_one, OK,
         "https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_GetTrailStatus.html", "behaviour"),
    Case("cloudtrail.lookup.one-attribute-only", "cloudtrail", _two_attributes,
         "InvalidLookupAttributesException", LOOKUP),
    Case("cloudtrail.lookup.max-results-50", "cloudtrail", _max_results_over_50, "InvalidMaxResultsException", LOOKUP),
    Case("cloudtrail.lookup.start-after-end", "cloudtrail", _start_after_end, "InvalidTimeRangeException", LOOKUP),
    Case("cloudtrail.put-audit-events.unknown-channel", "cloudtrail", _another_channel, "ChannelNotFound", PUT),
]
