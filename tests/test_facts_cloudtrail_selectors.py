"""Which events a trail's selectors select (mylearning.facts.cloudtrail_selectors).

https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_EventSelector.html
https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_DataResource.html
https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_AdvancedFieldSelector.html
"""
from __future__ import annotations

from mylearning.facts import cloudtrail_records as records
from mylearning.facts.cloudtrail_selectors import Event, logs_data_events, selects

CREATE = Event("Management", "ecs.amazonaws.com", "CreateCluster", False)
LIST = Event("Management", "ecs.amazonaws.com", "ListClusters", True)
KMS = Event("Management", "kms.amazonaws.com", "Decrypt", True)


def _get(bucket, key="k", name="GetObject", read_only=True):
    return Event("Data", "s3.amazonaws.com", name, read_only, ("AWS::S3::Object", f"arn:aws:s3:::{bucket}/{key}"))


def test_no_selectors_log_every_management_event_and_no_data_event():
    assert selects([], [], CREATE) and selects([], [], LIST)
    assert not selects([], [], _get("videos"))
    assert not logs_data_events([], [])


def test_read_write_type_and_management_switches():
    reads = [{"ReadWriteType": "ReadOnly"}]
    assert selects(reads, [], LIST) and not selects(reads, [], CREATE)
    writes = [{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}]
    assert selects(writes, [], CREATE) and not selects(writes, [], LIST)
    off = [{"ReadWriteType": "All", "IncludeManagementEvents": False}]
    assert not selects(off, [], CREATE)
    no_kms = [{"ReadWriteType": "All", "ExcludeManagementEventSources": ["kms.amazonaws.com"]}]
    assert selects(no_kms, [], LIST) and not selects(no_kms, [], KMS)


def test_s3_data_resources_all_buckets_one_bucket_one_prefix():
    def sel(*values, rw="All"):
        return [{"ReadWriteType": rw, "DataResources": [{"Type": "AWS::S3::Object", "Values": list(values)}]}]
    assert selects(sel("arn:aws:s3"), [], _get("any")) and selects(sel("arn:aws:s3:::"), [], _get("any"))
    assert selects(sel("arn:aws:s3:::videos/"), [], _get("videos"))
    assert not selects(sel("arn:aws:s3:::videos/"), [], _get("videos2"))
    assert selects(sel("arn:aws:s3:::videos/2026/"), [], _get("videos", "2026/a.mp4"))
    assert not selects(sel("arn:aws:s3:::videos/2026/"), [], _get("videos", "2025/a.mp4"))
    assert not selects(sel("arn:aws:s3", rw="WriteOnly"), [], _get("videos"))
    assert selects(sel("arn:aws:s3", rw="WriteOnly"), [], _get("videos", name="PutObject", read_only=False))
    assert logs_data_events(sel("arn:aws:s3"), [])


def test_lambda_and_dynamodb_resources_match_their_arn_or_every_one():
    fn = Event("Data", "lambda.amazonaws.com", "Invoke", False,
               ("AWS::Lambda::Function", "arn:aws:lambda:us-east-1:123456789012:function:api"))
    one = [{"DataResources": [{"Type": "AWS::Lambda::Function",
                               "Values": ["arn:aws:lambda:us-east-1:123456789012:function:api"]}]}]
    other = [{"DataResources": [{"Type": "AWS::Lambda::Function",
                                 "Values": ["arn:aws:lambda:us-east-1:123456789012:function:ap"]}]}]
    every = [{"DataResources": [{"Type": "AWS::Lambda::Function", "Values": ["arn:aws:lambda"]}]}]
    assert selects(one, [], fn) and not selects(other, [], fn) and selects(every, [], fn)
    s3_only = [{"DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}]}]
    assert not selects(s3_only, [], fn)


def test_advanced_selectors_all_fields_must_hold_any_selector_may():
    data = [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]},
                                {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                                {"Field": "resources.ARN", "StartsWith": ["arn:aws:s3:::videos/"]},
                                {"Field": "readOnly", "Equals": ["true"]}]}]
    assert selects([], data, _get("videos"))
    assert not selects([], data, _get("other"))
    assert not selects([], data, _get("videos", name="PutObject", read_only=False))
    assert not selects([], data, CREATE)
    mgmt = [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]},
                                {"Field": "eventSource", "NotEquals": ["kms.amazonaws.com"]}]}]
    assert selects([], mgmt, CREATE) and not selects([], mgmt, KMS)
    both = data + mgmt
    assert selects([], both, CREATE) and selects([], both, _get("videos"))
    not_logs = [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]},
                                    {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                                    {"Field": "resources.ARN", "NotStartsWith": ["arn:aws:s3:::trail-logs/"]}]}]
    assert selects([], not_logs, _get("videos")) and not selects([], not_logs, _get("trail-logs"))
    assert logs_data_events([], data) and not logs_data_events([], mgmt)


def test_log_file_key():
    when = 1764694215.0  # 2025-12-02T16:50:15Z
    key = records.log_key("ml/", "123456789012", "eu-west-1", when, "Ab3dEf6hIj9kLm0p")
    assert key == ("ml/AWSLogs/123456789012/CloudTrail/eu-west-1/2025/12/02/"
                   "123456789012_CloudTrail_eu-west-1_20251202T1650Z_Ab3dEf6hIj9kLm0p.json.gz")
    assert records.log_key(None, "1", "us-east-1", when, "u").startswith("AWSLogs/1/CloudTrail/us-east-1/")
