"""What a CloudTrail record says about the IAM action it needed: pure facts, no I/O.

Used by the least-privilege helper (mylearning.security.least_privilege) to read the record of a
role's calls. Each fact below cites the page it comes from.

Record fields (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html):
``eventSource`` is the service's host name (``s3.amazonaws.com``), ``eventName`` the API
operation, ``eventType`` ``AwsApiCall`` for a call a principal made, ``errorCode`` set when the
call failed, ``requestParameters`` the request, ``resources`` (when present) the ARNs the call
touched, ``managementEvent`` false for a data event, ``recipientAccountId`` and ``awsRegion``
where it ran.

Who called (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html):
a role's session has ``userIdentity.type`` ``AssumedRole``, its ``arn`` is the session's
``arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`` (no role path), and
``sessionContext.sessionIssuer`` names the role itself (``type`` ``Role``, ``arn`` the role's
IAM ARN with its path, ``userName`` the role's name).
"""
from __future__ import annotations

import re
from typing import Mapping

API_CALL = "AwsApiCall"
ASSUMED_ROLE = "AssumedRole"

#: errorCode values that mean IAM (or the service's authorization) refused the call. Any other
#: error (NoSuchKey, ResourceNotFoundException, ThrottlingException...) came after authorization,
#: so the permission was used. Codes as the services return them:
#: https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html
#: https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html (UnauthorizedOperation;
#: CloudTrail records EC2's as Client.UnauthorizedOperation)
#: https://docs.aws.amazon.com/sns/latest/api/API_Publish.html (AuthorizationError)
DENIED_ERROR_CODES = frozenset({
    "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "Client.UnauthorizedOperation",
    "AuthorizationError",
})

#: S3 answers GetObject/HeadObject of a key that does not exist with 403 AccessDenied, not 404,
#: when the caller lacks s3:ListBucket on the bucket: such a denial may mean a missing object.
#: https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html
S3_MISSING_KEY_DENIED = frozenset({"s3:getobject"})

#: Services whose IAM prefix is not the first label of their event source host. Every other
#: service's prefix is that label (s3.amazonaws.com -> s3, dynamodb.amazonaws.com -> dynamodb).
#: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/logging_cw_api_calls.html (monitoring -> cloudwatch)
#: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/logging-using-cloudtrail.html (streams.dynamodb -> dynamodb)
#: https://docs.aws.amazon.com/resourcegroupstagging/latest/APIReference/logging-using-cloudtrail.html (tagging -> tag)
#: https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html
SOURCE_PREFIX = {
    "monitoring.amazonaws.com": "cloudwatch",
    "streams.dynamodb.amazonaws.com": "dynamodb",
    "tagging.amazonaws.com": "tag",
    "email.amazonaws.com": "ses",
}

#: Operations whose IAM action has another name (the "API operations" table of each service's
#: page in the Service Authorization Reference maps an operation to the actions it needs).
#: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html
#: https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html
EVENT_ACTIONS: Mapping[tuple[str, str], tuple[str, ...]] = {
    ("s3", "ListObjects"): ("s3:ListBucket",),
    ("s3", "ListObjectsV2"): ("s3:ListBucket",),
    ("s3", "HeadBucket"): ("s3:ListBucket",),
    ("s3", "HeadObject"): ("s3:GetObject",),
    ("s3", "ListObjectVersions"): ("s3:ListBucketVersions",),
    ("s3", "ListBuckets"): ("s3:ListAllMyBuckets",),
    ("s3", "DeleteObjects"): ("s3:DeleteObject",),
    ("s3", "CreateMultipartUpload"): ("s3:PutObject",),
    ("s3", "UploadPart"): ("s3:PutObject",),
    ("s3", "CompleteMultipartUpload"): ("s3:PutObject",),
    ("s3", "CopyObject"): ("s3:PutObject",),  # and s3:GetObject on the source object
    ("s3", "UploadPartCopy"): ("s3:PutObject",),
    ("s3", "ListParts"): ("s3:ListMultipartUploadParts",),
    ("s3", "ListMultipartUploads"): ("s3:ListBucketMultipartUploads",),
    ("s3", "GetBucketLifecycle"): ("s3:GetLifecycleConfiguration",),
    ("s3", "PutBucketLifecycle"): ("s3:PutLifecycleConfiguration",),
    ("s3", "GetBucketEncryption"): ("s3:GetEncryptionConfiguration",),
    ("s3", "PutBucketEncryption"): ("s3:PutEncryptionConfiguration",),
}

#: Lambda logs some operations with the API version they came in appended
#: (``GetFunction20150331v2``, ``UpdateFunctionCode20150331v2``); the IAM action has no suffix.
#: https://docs.aws.amazon.com/lambda/latest/dg/logging-using-cloudtrail.html
_VERSION_SUFFIX = re.compile(r"20\d{6}(v\d+)?$")


def iam_prefix(event_source: str) -> str:
    """The IAM service prefix for a record's eventSource."""
    source = event_source.lower()
    if source in SOURCE_PREFIX:
        return SOURCE_PREFIX[source]
    return source.split(".", 1)[0]


def actions(event_source: str, event_name: str) -> tuple[str, ...]:
    """The IAM actions that authorized the call this record describes."""
    prefix = iam_prefix(event_source)
    name = event_name
    if prefix == "lambda":
        name = _VERSION_SUFFIX.sub("", name)
    return EVENT_ACTIONS.get((prefix, name), (f"{prefix}:{name}",))


# ---------------------------------------------------------------- resources

#: S3 actions whose resource is an object (arn:aws:s3:::bucket/key); the others in the course's
#: use name a bucket, and s3:ListAllMyBuckets none.
#: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html
S3_OBJECT_ACTIONS = frozenset(a.lower() for a in (
    "s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:GetObjectVersion", "s3:DeleteObjectVersion",
    "s3:GetObjectAcl", "s3:PutObjectAcl", "s3:GetObjectTagging", "s3:PutObjectTagging",
    "s3:DeleteObjectTagging", "s3:GetObjectAttributes", "s3:RestoreObject", "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
))

#: Resource ARN formats of the Service Authorization Reference ("Resource types" tables), with
#: its ${...} placeholders. IAM Access Analyzer's generated template shows such a placeholder
#: (for example "arn:aws:s3:::${BucketName}") for an action that supports resource-level
#: permissions: https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-policy-generation.html
#: https://docs.aws.amazon.com/access-analyzer/latest/APIReference/API_GetGeneratedPolicy.html
#: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html
#: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html
#: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsqs.html
#: https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecretsmanager.html
#: https://docs.aws.amazon.com/service-authorization/latest/reference/list_awskeymanagementservice.html
#: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatchlogs.html
ARN_FORMATS = {
    "s3-object": "arn:{partition}:s3:::${{BucketName}}/${{ObjectName}}",
    "s3-bucket": "arn:{partition}:s3:::${{BucketName}}",
    "dynamodb": "arn:{partition}:dynamodb:{region}:{account}:table/${{TableName}}",
    "sqs": "arn:{partition}:sqs:{region}:{account}:${{QueueName}}",
    "secretsmanager": "arn:{partition}:secretsmanager:{region}:{account}:secret:${{SecretId}}",
    "kms": "arn:{partition}:kms:{region}:{account}:key/${{KeyId}}",
    "logs": "arn:{partition}:logs:{region}:{account}:log-group:${{LogGroupName}}",
}

#: A secret's ARN ends in "-" and six random characters Secrets Manager adds; a policy that
#: names the secret by name matches it with "name-??????".
#: https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_iam-policies.html
SECRET_SUFFIX_PATTERN = "-??????"


def placeholder(action: str, partition: str, region: str, account: str) -> str | None:
    """Access Analyzer's kind of placeholder ARN for `action`, or None when this module knows no
    resource type for it."""
    prefix = action.split(":", 1)[0].lower()
    key = prefix
    if prefix == "s3":
        key = "s3-object" if action.lower() in S3_OBJECT_ACTIONS else "s3-bucket"
    fmt = ARN_FORMATS.get(key)
    return fmt.format(partition=partition, region=region, account=account) if fmt else None


# ---------------------------------------------------------------- trail log files

#: Where a trail delivers its log files in its bucket, one gzip'd JSON ``{"Records": [...]}``
#: per file: [prefix/]AWSLogs/ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/
#: ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHmmZ_UNIQUE.json.gz
#: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/get-and-view-cloudtrail-log-files.html
#: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-examples.html
def log_prefix(key_prefix: str | None, account: str, region: str, year: int, month: int, day: int) -> str:
    head = f"{key_prefix.strip('/')}/" if key_prefix else ""
    return f"{head}AWSLogs/{account}/CloudTrail/{region}/{year:04d}/{month:02d}/{day:02d}/"


def log_key(key_prefix: str | None, account: str, region: str, when: float, unique: str) -> str:
    """The key of one log file a trail delivers at `when` (seconds since the epoch, UTC): under
    `log_prefix` of that day, named ``ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHmmZ_UNIQUE.json.gz``
    (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-examples.html,
    "CloudTrail log file name format": the digits of the delivery's UTC minute, and a 16-character
    UniqueString that only prevents overwrites)."""
    import datetime
    moment = datetime.datetime.fromtimestamp(when, datetime.timezone.utc)
    head = log_prefix(key_prefix, account, region, moment.year, moment.month, moment.day)
    return f"{head}{account}_CloudTrail_{region}_{moment.strftime('%Y%m%dT%H%MZ')}_{unique}.json.gz"
