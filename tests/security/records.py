"""CloudTrail records as CloudTrail writes them, for the least-privilege tests.

Shapes from the record contents and userIdentity pages:
https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html
https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html
"""
from __future__ import annotations

import itertools

ACCOUNT, REGION = "123456789012", "us-east-1"
PREFIX = "ml-t"  # tests.fakes.OfflineSession's prefix
WORKER = f"arn:aws:iam::{ACCOUNT}:role/{PREFIX}-video-worker-task"
# A role with a path: its sessions' ARNs carry none.
COURSES = f"arn:aws:iam::{ACCOUNT}:role/service/{PREFIX}-courses-api-task"
VIDEOS, JOBS = f"{PREFIX}-videos", f"{PREFIX}-video-jobs"
QUEUE_URL = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{JOBS}"
QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{JOBS}"
TABLE_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{PREFIX}-enrollments"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SECRET_ARN = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{PREFIX}/app-AbCdEf"

_ids = itertools.count(1)


def assumed(role_arn: str, session: str = "1f2e3d4c") -> dict:
    name = role_arn.rsplit("/", 1)[-1]
    return {"type": "AssumedRole", "principalId": f"AROAEXAMPLEID:{session}",
            "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{name}/{session}",
            "accountId": ACCOUNT, "accessKeyId": "ASIAEXAMPLEKEY",
            "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLEID",
                                                 "arn": role_arn, "accountId": ACCOUNT, "userName": name},
                               "attributes": {"creationDate": "2026-11-30T09:00:00Z", "mfaAuthenticated": "false"}}}


USER = {"type": "IAMUser", "principalId": "AIDAEXAMPLEID", "arn": f"arn:aws:iam::{ACCOUNT}:user/alice",
        "accountId": ACCOUNT, "accessKeyId": "AKIAEXAMPLEKEY", "userName": "alice"}


def record(identity: dict, source: str, name: str, params: dict | None = None, *, error: str | None = None,
           resources: list | None = None, data: bool = False, time: str | None = None) -> dict:
    n = next(_ids)
    doc = {"eventVersion": "1.09", "userIdentity": identity, "eventTime": time or f"2026-11-30T10:{n % 60:02d}:00Z",
           "eventSource": source, "eventName": name, "awsRegion": REGION, "sourceIPAddress": "10.0.1.23",
           "userAgent": "Boto3/1.35.0", "requestParameters": params, "responseElements": None,
           "requestID": f"req-{n}", "eventID": f"00000000-0000-4000-8000-{n:012d}", "readOnly": False,
           "eventType": "AwsApiCall", "managementEvent": not data, "recipientAccountId": ACCOUNT,
           "eventCategory": "Data" if data else "Management"}
    if error:
        doc["errorCode"], doc["errorMessage"] = error, f"{name} failed"
    if resources is not None:
        doc["resources"] = resources
    return doc


def s3_object(bucket: str, key: str) -> list:
    return [{"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{key}"},
            {"accountId": ACCOUNT, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"}]


def worker_calls() -> list[dict]:
    """What the video worker did: S3, SQS, DynamoDB, Secrets Manager, KMS, CloudWatch."""
    w = assumed(WORKER)
    return [
        record(w, "s3.amazonaws.com", "GetObject", {"bucketName": VIDEOS, "key": "raw/1.mp4"},
               resources=s3_object(VIDEOS, "raw/1.mp4"), data=True),
        record(w, "s3.amazonaws.com", "GetObject", {"bucketName": VIDEOS, "key": "raw/2.mp4"},
               resources=s3_object(VIDEOS, "raw/2.mp4"), data=True),
        # A failure after authorization: the permission was used.
        record(w, "s3.amazonaws.com", "GetObject", {"bucketName": VIDEOS, "key": "raw/gone.mp4"},
               error="NoSuchKey", data=True),
        record(w, "s3.amazonaws.com", "PutObject", {"bucketName": VIDEOS, "key": "out/1.mp4"}, data=True),
        record(w, "s3.amazonaws.com", "ListObjectsV2", {"bucketName": VIDEOS, "prefix": "raw/"},
               resources=[{"type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{VIDEOS}"}], data=True),
        record(w, "sqs.amazonaws.com", "ReceiveMessage", {"queueUrl": QUEUE_URL, "maxNumberOfMessages": 1},
               data=True),
        record(w, "sqs.amazonaws.com", "DeleteMessage", {"queueUrl": QUEUE_URL, "receiptHandle": "AQE..."},
               data=True),
        record(w, "dynamodb.amazonaws.com", "PutItem", {"tableName": f"{PREFIX}-enrollments"},
               resources=[{"accountId": ACCOUNT, "type": "AWS::DynamoDB::Table", "ARN": TABLE_ARN}], data=True),
        record(w, "dynamodb.amazonaws.com", "DeleteItem", {"tableName": f"{PREFIX}-enrollments"},
               error="AccessDeniedException", data=True),
        record(w, "secretsmanager.amazonaws.com", "GetSecretValue", {"secretId": f"{PREFIX}/app"}),
        record(w, "kms.amazonaws.com", "Decrypt", {"encryptionAlgorithm": "SYMMETRIC_DEFAULT"},
               resources=[{"accountId": ACCOUNT, "type": "AWS::KMS::Key", "ARN": KEY_ARN}]),
        # By alias, and no resources in the record: the key is not known.
        record(w, "kms.amazonaws.com", "GenerateDataKey", {"keyId": "alias/ml-t-app", "keySpec": "AES_256"}),
        record(w, "monitoring.amazonaws.com", "PutMetricData", {"namespace": "MyLearning/VideoWorker"}),
        record(w, "ecs.amazonaws.com", "RunTask", {"cluster": "ml-t", "taskDefinition": "ml-t-transcode:3",
               "overrides": {"taskRoleArn": f"arn:aws:iam::{ACCOUNT}:role/{PREFIX}-transcode-task"}},
               resources=[{"ARN": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/ml-t-transcode:3"}]),
        record(w, "s3.amazonaws.com", "DeleteBucket", {"bucketName": VIDEOS}, error="AccessDenied"),
    ]


def others() -> list[dict]:
    """Calls by another role and by an IAM user: never the worker's."""
    c = assumed(COURSES, "abc")
    return [
        record(c, "s3.amazonaws.com", "DeleteObject", {"bucketName": VIDEOS, "key": "raw/1.mp4"}, data=True),
        record(c, "sqs.amazonaws.com", "SendMessage", {"queueUrl": QUEUE_URL}, data=True),
        record(USER, "iam.amazonaws.com", "CreateRole", {"roleName": "x"}),
        record(USER, "s3.amazonaws.com", "PutBucketPolicy", {"bucketName": VIDEOS}),
    ]
