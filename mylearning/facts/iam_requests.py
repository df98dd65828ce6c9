"""Which IAM action and which resource ARNs one API call is, as IAM authorises it: pure, no I/O.

An API call is authorised as an action (``service-prefix:Action``) on the resources it names
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html,
.../reference_policies_elements_resource.html). Most operations are authorised as the action of
their own name under the service's prefix; the exceptions and the ARN formats below come from the
Service Authorization Reference pages of each service:

* Amazon S3: the operations authorised as another action (HeadObject as s3:GetObject,
  ListObjectsV2 as s3:ListBucket, ...) are `facts.cloudtrail_records.EVENT_ACTIONS`. Objects are ``arn:aws:s3:::bucket/key``, buckets
  ``arn:aws:s3:::bucket``, without region or account.
* DynamoDB tables ``arn:aws:dynamodb:region:account:table/name``; a batch call needs the action
  on every table it names (list_amazondynamodb.html).
* SQS queues ``arn:aws:sqs:region:account:name``, named by the queue URL's last part
  (list_amazonsqs.html).
* Secrets Manager secrets ``arn:aws:secretsmanager:region:account:secret:name-XXXXXX``: a call
  may name the secret by name, so the caller (who can look it up) passes `secret_arn`
  (list_awssecretsmanager.html).
* SSM parameters ``arn:aws:ssm:region:account:parameter/name`` (the name without its leading
  ``/``; list_awssystemsmanager.html).
* Services whose IAM prefix is not the botocore name: ``elbv2`` -> ``elasticloadbalancing``,
  ``cloudwatch`` -> ``cloudwatch``, ``logs`` -> ``logs``, ``stepfunctions`` -> ``states``
  (https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html).

`resources` answers None where this module does not know the resource: the caller should then
judge the action alone (no resource pattern can refuse it), so an unknown operation is never
refused for a resource it could not name. That is looser than IAM, never stricter.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping, Optional
from urllib.parse import urlsplit

from mylearning.facts.cloudtrail_records import EVENT_ACTIONS

#: botocore service name -> IAM service prefix, where they differ.
PREFIXES = {"elbv2": "elasticloadbalancing", "elb": "elasticloadbalancing", "stepfunctions": "states",
            "application-autoscaling": "application-autoscaling", "acm-pca": "acm-pca",
            "cloudwatch": "cloudwatch", "servicediscovery": "servicediscovery"}

#: Operations every principal may call, whatever its policies:
#: https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html ("No
#: permissions are required to perform this operation").
UNAUTHORISED_OPERATIONS = frozenset({("sts", "GetCallerIdentity")})


def action(service: str, operation: str) -> str:
    """The IAM action `operation` of botocore service `service` is authorised as."""
    prefix = PREFIXES.get(service, service)
    # A CloudTrail record's eventName is the operation's name: one table serves both.
    return EVENT_ACTIONS.get((prefix, operation), (f"{prefix}:{operation}",))[0]


def _s3(params: Mapping[str, Any], region: str, account: str, operation: str) -> Optional[list[str]]:
    bucket = params.get("Bucket")
    if operation == "ListBuckets":
        return ["*"]
    if not isinstance(bucket, str) or not bucket:
        return None
    if operation == "DeleteObjects":
        objects = (params.get("Delete") or {}).get("Objects") or []
        keys = [o.get("Key") for o in objects if isinstance(o, Mapping) and isinstance(o.get("Key"), str)]
        return [f"arn:aws:s3:::{bucket}/{k}" for k in keys] or None
    key = params.get("Key")
    if isinstance(key, str) and key:
        return [f"arn:aws:s3:::{bucket}/{key}"]
    return [f"arn:aws:s3:::{bucket}"]


def _dynamodb(params: Mapping[str, Any], region: str, account: str, operation: str) -> Optional[list[str]]:
    names: list[str] = []
    if isinstance(params.get("TableName"), str):
        names.append(params["TableName"])
    if isinstance(params.get("RequestItems"), Mapping):  # BatchGetItem, BatchWriteItem
        names += [n for n in params["RequestItems"] if isinstance(n, str)]
    if not names:
        return ["*"] if operation in ("ListTables", "DescribeLimits", "DescribeEndpoints") else None
    return [n if n.startswith("arn:") else f"arn:aws:dynamodb:{region}:{account}:table/{n}" for n in names]


def queue_arn(url: str, region: str, account: str) -> str:
    """The ARN of the queue at `url` (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)."""
    parts = [p for p in urlsplit(url).path.split("/") if p]
    owner, name = (parts[-2], parts[-1]) if len(parts) >= 2 else (account, parts[-1] if parts else "")
    return f"arn:aws:sqs:{region}:{owner}:{name}"


def _sqs(params: Mapping[str, Any], region: str, account: str, operation: str) -> Optional[list[str]]:
    if isinstance(params.get("QueueUrl"), str):
        return [queue_arn(params["QueueUrl"], region, account)]
    if isinstance(params.get("QueueName"), str):
        return [f"arn:aws:sqs:{region}:{account}:{params['QueueName']}"]
    return ["*"] if operation == "ListQueues" else None


def _ssm(params: Mapping[str, Any], region: str, account: str, operation: str) -> Optional[list[str]]:
    names = params.get("Names") if isinstance(params.get("Names"), list) else [params.get("Name")]
    if operation == "GetParametersByPath":
        names = [params.get("Path")]
    names = [n for n in names if isinstance(n, str) and n]
    if not names:
        return None
    return [n if n.startswith("arn:") else f"arn:aws:ssm:{region}:{account}:parameter/{n.lstrip('/')}"
            for n in names]


_RESOURCES: dict[str, Callable[[Mapping[str, Any], str, str, str], Optional[list[str]]]] = {
    "s3": _s3, "dynamodb": _dynamodb, "sqs": _sqs, "ssm": _ssm,
}


def resources(service: str, operation: str, params: Mapping[str, Any], region: str, account: str,
              *, secret_arn: Optional[str] = None) -> Optional[list[str]]:
    """The resource ARNs the call is authorised on, every one of which must be allowed;
    None when unknown (judge the action alone). `secret_arn`: the full ARN of the secret a
    Secrets Manager call names, when the caller could look it up."""
    if service == "secretsmanager":
        secret = secret_arn or params.get("SecretId")
        return [secret] if isinstance(secret, str) and secret.startswith("arn:") else None
    found = _RESOURCES.get(service)
    return found(params, region, account, operation) if found is not None else None
