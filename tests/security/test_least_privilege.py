"""mylearning.security.least_privilege on records built as CloudTrail writes them (no AWS)."""
from __future__ import annotations

import json
import random

import pytest

from mylearning import task_roles
from mylearning.facts import cloudtrail_records as ct
from mylearning.facts.iam import Request, evaluate
from mylearning.security import least_privilege as lp
from tests.fakes import OfflineSession
from tests.security.records import (ACCOUNT, COURSES, KEY_ARN, QUEUE_ARN, SECRET_ARN, TABLE_ARN, USER,
                                    VIDEOS, WORKER, assumed, others, record, worker_calls)


@pytest.fixture(scope="module")
def mine():
    return worker_calls()


@pytest.fixture(scope="module")
def everyone(mine):
    return mine + others()


@pytest.fixture(scope="module")
def proposal(everyone):
    return lp.generate(everyone, WORKER)


def allowed(policy: dict, action: str, resource: str) -> bool:
    return evaluate(Request(action, resource), [("proposed", policy)]).allowed


def granted_actions(policy: dict) -> set[str]:
    return {a for s in policy["Statement"] for a in s["Action"]}


# ---------------------------------------------------------------- whose records
def test_only_the_roles_own_sessions_count(mine, everyone):
    found = lp.records_for_role(everyone, WORKER)
    assert [r["eventID"] for r in found] == [r["eventID"] for r in mine]
    courses = lp.records_for_role(everyone, COURSES)
    assert {r["eventName"] for r in courses} == {"DeleteObject", "SendMessage"}
    # The user's calls belong to no role.
    assert all(r["userIdentity"]["type"] == "AssumedRole" for r in found + courses)


def test_a_role_is_matched_by_name_whatever_its_path(everyone):
    without_path = COURSES.replace("role/service/", "role/")
    assert len(lp.records_for_role(everyone, without_path)) == 2


def test_a_user_arn_is_not_a_role():
    with pytest.raises(ValueError):
        lp.records_for_role([], USER["arn"])


# ---------------------------------------------------------------- the policy
EXPECTED = {"s3:GetObject", "s3:PutObject", "s3:ListBucket", "sqs:ReceiveMessage", "sqs:DeleteMessage",
            "dynamodb:PutItem", "secretsmanager:GetSecretValue", "kms:Decrypt", "kms:GenerateDataKey",
            "cloudwatch:PutMetricData", "ecs:RunTask"}


def test_grants_exactly_the_recorded_actions(proposal):
    assert granted_actions(proposal.policy) == EXPECTED
    assert proposal.considered == len(worker_calls())


@pytest.mark.parametrize("action,resource", [
    ("s3:GetObject", f"arn:aws:s3:::{VIDEOS}/raw/1.mp4"),
    ("s3:GetObject", f"arn:aws:s3:::{VIDEOS}/raw/gone.mp4"),
    ("s3:PutObject", f"arn:aws:s3:::{VIDEOS}/out/1.mp4"),
    ("s3:ListBucket", f"arn:aws:s3:::{VIDEOS}"),
    ("sqs:ReceiveMessage", QUEUE_ARN),
    ("sqs:DeleteMessage", QUEUE_ARN),
    ("dynamodb:PutItem", TABLE_ARN),
    ("secretsmanager:GetSecretValue", SECRET_ARN),
    ("kms:Decrypt", KEY_ARN),
    ("cloudwatch:PutMetricData", "*"),
])
def test_each_recorded_call_is_allowed_on_its_resource(proposal, action, resource):
    assert allowed(proposal.policy, action, resource)


@pytest.mark.parametrize("action,resource", [
    ("s3:DeleteObject", f"arn:aws:s3:::{VIDEOS}/raw/1.mp4"),     # the other role's call
    ("s3:GetObject", "arn:aws:s3:::someone-elses-bucket/raw/1.mp4"),
    ("s3:ListBucket", "arn:aws:s3:::someone-elses-bucket"),
    ("s3:PutBucketPolicy", f"arn:aws:s3:::{VIDEOS}"),             # the user's call
    ("sqs:SendMessage", QUEUE_ARN),
    ("sqs:ReceiveMessage", QUEUE_ARN.replace("video-jobs", "other")),
    ("dynamodb:DeleteItem", TABLE_ARN),                           # denied, so not granted
    ("dynamodb:GetItem", TABLE_ARN),
    ("secretsmanager:PutSecretValue", SECRET_ARN),
    ("secretsmanager:GetSecretValue", SECRET_ARN.replace("/app-", "/db-")),
    ("kms:Encrypt", KEY_ARN),
    ("cloudwatch:DeleteAlarms", "*"),
    ("iam:CreateRole", f"arn:aws:iam::{ACCOUNT}:role/x"),
])
def test_an_unrecorded_call_is_denied(proposal, action, resource):
    assert not allowed(proposal.policy, action, resource)


def test_event_source_and_name_map_to_the_iam_action(proposal):
    by_action = {g.action: g for g in proposal.grants}
    # monitoring.amazonaws.com is CloudWatch, and PutMetricData has no resource-level permissions.
    assert by_action["cloudwatch:PutMetricData"].resources == ("*",)
    # ListObjectsV2 is authorized as s3:ListBucket, on the bucket.
    assert by_action["s3:ListBucket"].resources == (f"arn:aws:s3:::{VIDEOS}",)
    assert "s3:ListObjectsV2" not in granted_actions(proposal.policy)
    # The queue URL becomes the queue's ARN; the secret's name matches its ARN's random suffix.
    assert by_action["sqs:ReceiveMessage"].resources == (QUEUE_ARN,)
    assert by_action["secretsmanager:GetSecretValue"].resources == (
        SECRET_ARN.rsplit("-", 1)[0] + "-??????",)


def test_object_keys_are_generalised_to_the_bucket_unless_asked(everyone):
    general = {g.action: g.resources for g in lp.generate(everyone, WORKER).grants}
    assert general["s3:GetObject"] == (f"arn:aws:s3:::{VIDEOS}/*",)
    exact = {g.action: g.resources for g in lp.generate(everyone, WORKER, exact_keys=True).grants}
    assert exact["s3:GetObject"] == tuple(f"arn:aws:s3:::{VIDEOS}/raw/{k}" for k in ("1.mp4", "2.mp4", "gone.mp4"))
    policy = lp.generate(everyone, WORKER, exact_keys=True).policy
    assert not allowed(policy, "s3:GetObject", f"arn:aws:s3:::{VIDEOS}/raw/3.mp4")


def test_an_unnamed_resource_stays_a_placeholder_that_allows_nothing(proposal):
    grant = next(g for g in proposal.grants if g.action == "kms:GenerateDataKey")
    assert grant.placeholder and grant.resources == (f"arn:aws:kms:us-east-1:{ACCOUNT}:key/${{KeyId}}",)
    assert not proposal.ready
    assert not allowed(proposal.policy, "kms:GenerateDataKey", KEY_ARN)
    assert any("placeholder" in n for n in proposal.notes())


def test_detail_says_where_access_analyzer_would_give_only_the_service(proposal):
    detail = {g.action: g.detail for g in proposal.grants}
    assert detail["s3:GetObject"] == "service"            # a data event
    assert detail["dynamodb:PutItem"] == "service"        # not on the action-level list
    assert detail["kms:Decrypt"] == "action"
    assert detail["cloudwatch:PutMetricData"] == "action"


def test_statements_group_actions_by_resource(proposal):
    by_sid = {s["Sid"]: s for s in proposal.policy["Statement"]}
    assert by_sid["Sqs"] == {"Sid": "Sqs", "Effect": "Allow",
                             "Action": ["sqs:DeleteMessage", "sqs:ReceiveMessage"], "Resource": [QUEUE_ARN]}
    s3 = [s for s in proposal.policy["Statement"] if s["Sid"].startswith("S3")]
    assert sorted(map(tuple, (s["Action"] for s in s3))) == [("s3:GetObject", "s3:PutObject"), ("s3:ListBucket",)]
    assert len({s["Sid"] for s in proposal.policy["Statement"]}) == len(proposal.policy["Statement"])


# ---------------------------------------------------------------- denied, passed roles
def test_denied_calls_are_reported_not_granted(proposal):
    denied = {(d.action, d.resource, d.error) for d in proposal.denied}
    assert denied == {("dynamodb:DeleteItem", TABLE_ARN, "AccessDeniedException"),
                      ("s3:DeleteBucket", f"arn:aws:s3:::{VIDEOS}", "AccessDenied")}
    assert not {"dynamodb:DeleteItem", "s3:DeleteBucket"} & granted_actions(proposal.policy)
    text = str(proposal)
    assert "dynamodb:DeleteItem" in text and "was it needed?" in text


def test_a_denied_call_that_also_succeeded_is_granted_only_where_it_succeeded():
    w = assumed(WORKER)
    records = [record(w, "sqs.amazonaws.com", "ReceiveMessage", {"queueUrl": "https://sqs.us-east-1.amazonaws.com/"
                      f"{ACCOUNT}/a"}),
               record(w, "sqs.amazonaws.com", "ReceiveMessage", {"queueUrl": "https://sqs.us-east-1.amazonaws.com/"
                      f"{ACCOUNT}/b"}, error="AccessDenied")]
    proposal = lp.generate(records, WORKER)
    assert allowed(proposal.policy, "sqs:ReceiveMessage", f"arn:aws:sqs:us-east-1:{ACCOUNT}:a")
    assert not allowed(proposal.policy, "sqs:ReceiveMessage", f"arn:aws:sqs:us-east-1:{ACCOUNT}:b")
    assert [d.resource for d in proposal.denied] == [f"arn:aws:sqs:us-east-1:{ACCOUNT}:b"]


def test_a_denied_get_object_mentions_the_missing_key_case():
    w = assumed(WORKER)
    text = str(lp.generate([record(w, "s3.amazonaws.com", "GetObject", {"bucketName": VIDEOS, "key": "x"},
                                   error="AccessDenied", data=True)], WORKER))
    assert "missing key without s3:ListBucket" in text


def test_pass_role_is_flagged_for_review_never_granted(proposal):
    assert [(p.event, p.role) for p in proposal.passed_roles] == [
        ("RunTask", f"arn:aws:iam::{ACCOUNT}:role/ml-t-transcode-task")]
    assert not allowed(proposal.policy, "iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/ml-t-transcode-task")
    assert "iam:PassRole" in str(proposal)


def test_records_that_are_not_api_calls_are_ignored():
    event = record(assumed(WORKER), "kms.amazonaws.com", "RotateKey", resources=[{"ARN": KEY_ARN}])
    event["eventType"] = "AwsServiceEvent"
    assert lp.generate([event], WORKER).grants == ()


# ---------------------------------------------------------------- against the course's policy
def test_unused_finds_the_over_grant_in_the_course_policy():
    current = task_roles.app_permissions(OfflineSession(), "video-worker", ACCOUNT)
    w = assumed(WORKER)
    jobs = "https://sqs.us-east-1.amazonaws.com/123456789012/ml-t-video-jobs"
    records = [record(w, "s3.amazonaws.com", "GetObject", {"bucketName": VIDEOS, "key": "raw/1.mp4"}, data=True),
               record(w, "sqs.amazonaws.com", "ReceiveMessage", {"queueUrl": jobs}, data=True),
               record(w, "sqs.amazonaws.com", "DeleteMessage", {"queueUrl": jobs}, data=True)]
    unused = lp.generate(records, WORKER).unused(current)
    never = {r["action"] for r in unused if r["finding"] == "never called"}
    assert never == {"s3:PutObject", "sqs:ChangeMessageVisibility"}


def test_unused_names_wildcards_and_every_resource_grants(proposal):
    broad = [("app", {"Version": "2012-10-17", "Statement": [
        {"Sid": "All", "Effect": "Allow", "Action": "sqs:*", "Resource": QUEUE_ARN},
        {"Sid": "Any", "Effect": "Allow", "Action": ["dynamodb:PutItem", "dynamodb:Scan"], "Resource": "*"}]})]
    rows = {(r["action"], r["finding"].split(";")[0]) for r in proposal.unused(broad)}
    assert rows == {("sqs:*", "wildcard"), ("dynamodb:PutItem", "every resource"), ("dynamodb:Scan", "never called")}
    wildcard = next(r for r in proposal.unused(broad) if r["action"] == "sqs:*")
    assert wildcard["finding"].endswith("sqs:DeleteMessage, sqs:ReceiveMessage")


def test_a_grant_shadowed_by_a_deny_served_no_call(proposal):
    docs = [{"Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": KEY_ARN}]},
            {"Statement": [{"Effect": "Deny", "Action": "kms:*", "Resource": "*"}]}]
    assert [r["finding"] for r in proposal.unused(docs)] == ["never called"]


def test_the_proposal_needs_nothing_the_proposal_does_not_use(proposal):
    assert [r for r in proposal.unused(proposal.policy) if r["finding"] == "never called"] == [
        r for r in proposal.unused(proposal.policy) if r["action"] == "kms:GenerateDataKey"]


# ---------------------------------------------------------------- showing, determinism
def test_output_is_deterministic(everyone):
    shuffled = list(everyone)
    random.Random(7).shuffle(shuffled)
    a, b = lp.generate(everyone, WORKER), lp.generate(shuffled, WORKER)
    assert json.dumps(a.policy) == json.dumps(b.policy)
    assert str(a) == str(b) and a._repr_html_() == b._repr_html_()


def test_the_policy_is_json_for_put_role_policy(proposal):
    assert json.loads(proposal.json()) == proposal.policy
    assert proposal.policy["Version"] == "2012-10-17"


def test_html_escapes_what_the_record_says():
    w = assumed(WORKER)
    event = record(w, "s3.amazonaws.com", "GetObject", {"bucketName": "<i>x", "key": "k"}, data=True)
    page = lp.generate([event], WORKER)._repr_html_()
    assert "<i>" not in page and "arn:aws:s3:::&lt;i&gt;x/*" in page


# ---------------------------------------------------------------- the facts
@pytest.mark.parametrize("source,name,expected", [
    ("monitoring.amazonaws.com", "PutMetricData", ("cloudwatch:PutMetricData",)),
    ("s3.amazonaws.com", "HeadObject", ("s3:GetObject",)),
    ("s3.amazonaws.com", "DeleteObjects", ("s3:DeleteObject",)),
    ("lambda.amazonaws.com", "GetFunction20150331v2", ("lambda:GetFunction",)),
    ("lambda.amazonaws.com", "Invoke", ("lambda:Invoke",)),
    ("streams.dynamodb.amazonaws.com", "GetRecords", ("dynamodb:GetRecords",)),
    ("secretsmanager.amazonaws.com", "GetSecretValue", ("secretsmanager:GetSecretValue",)),
])
def test_event_to_action_facts(source, name, expected):
    assert ct.actions(source, name) == expected


def test_log_file_prefix():
    assert ct.log_prefix("trail/", ACCOUNT, "us-east-1", 2026, 3, 4) == \
        f"trail/AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/2026/03/04/"
    assert ct.log_prefix(None, ACCOUNT, "eu-west-1", 2026, 12, 31).startswith("AWSLogs/")
