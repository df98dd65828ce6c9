"""AWS CloudTrail facts: what a record holds, which calls are data events, which read only.

One builder, `record`, writes a CloudTrail record the way "CloudTrail record contents"
lays it out (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html),
with the ``userIdentity`` element of "CloudTrail userIdentity element"
(https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html).
The emulator builds its Event history with it, and the data plane (standing for AWS's
services) builds the records it hands over on `SERVICE_CHANNEL` with it, so both agree.

No I/O here: the emulator and the data plane both import it.
"""
from __future__ import annotations

import datetime
import re
from typing import Any, Iterable, Mapping

#: The record format version CloudTrail writes today (record contents: eventVersion).
EVENT_VERSION = "1.11"
#: Event history keeps 90 days of management events per Region
#: (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/view-cloudtrail-events.html).
EVENT_HISTORY_DAYS = 90
#: LookupEvents' page size: 1 through 50, default 50
#: (https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html).
MAX_RESULTS = 50
#: The attributes LookupEvents filters on; a request names at most one (API_LookupEvents.html).
LOOKUP_ATTRIBUTES = ("EventId", "EventName", "ReadOnly", "Username", "ResourceType",
                     "ResourceName", "EventSource", "AccessKeyId")
#: The CloudTrail Lake channel on which the course's data plane, standing for AWS's own
#: services, hands the emulator the records those services write (PutAuditEvents).
SERVICE_CHANNEL = "mylearning-aws-services"
#: What the data plane puts in its User-Agent: its calls stand for AWS's internals (the
#: Fargate agent, Envoy's management), which a customer's Event history does not show.
DATAPLANE_USER_AGENT = "mylearning-dataplane"

#: Where the signing name is not the event source's first label (elbv2 signs as
#: elasticloadbalancing, CloudWatch as monitoring); the rest is ``<signing>.amazonaws.com``.
_SOURCES = {"elbv2": "elasticloadbalancing", "cloudwatch": "monitoring",
            "application-autoscaling": "application-autoscaling", "acm-pca": "acm-pca"}


def event_source(service: str) -> str:
    """The eventSource of a boto3 client's calls, e.g. ecs -> ``ecs.amazonaws.com``."""
    return f"{_SOURCES.get(service, service)}.amazonaws.com"


#: Data events per event source: the resource operations CloudTrail logs only when a trail
#: or event data store selects them, and which Event history never shows
#: (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/logging-data-events-with-cloudtrail.html;
#: "Event history ... supports only management events",
#: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/logging-management-events-with-cloudtrail.html).
DATA_EVENTS: dict[str, frozenset[str]] = {
    # S3 object-level API activity.
    "s3.amazonaws.com": frozenset({
        "GetObject", "PutObject", "DeleteObject", "DeleteObjects", "HeadObject", "CopyObject",
        "GetObjectAcl", "PutObjectAcl", "GetObjectTagging", "PutObjectTagging",
        "DeleteObjectTagging", "GetObjectAttributes", "RestoreObject", "SelectObjectContent",
        "CreateMultipartUpload", "UploadPart", "UploadPartCopy", "CompleteMultipartUpload",
        "AbortMultipartUpload", "ListParts", "GetObjectRetention", "PutObjectRetention",
        "GetObjectLegalHold", "PutObjectLegalHold", "GetObjectTorrent"}),
    # DynamoDB item-level API activity.
    "dynamodb.amazonaws.com": frozenset({
        "GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem",
        "BatchWriteItem", "TransactGetItems", "TransactWriteItems", "ExecuteStatement",
        "BatchExecuteStatement", "ExecuteTransaction"}),
    # Lambda function execution.
    "lambda.amazonaws.com": frozenset({"Invoke", "InvokeWithResponseStream", "InvokeAsync"}),
    # SQS message activity.
    "sqs.amazonaws.com": frozenset({
        "SendMessage", "SendMessageBatch", "ReceiveMessage", "DeleteMessage", "DeleteMessageBatch",
        "ChangeMessageVisibility", "ChangeMessageVisibilityBatch"}),
    # SNS publishing.
    "sns.amazonaws.com": frozenset({"Publish", "PublishBatch"}),
    # CloudTrail Lake ingestion.
    "cloudtrail-data.amazonaws.com": frozenset({"PutAuditEvents"}),
}

#: Operations whose names begin so change nothing: readOnly is true for them (record
#: contents, readOnly: "Identifies whether this operation is a read-only operation").
_READ_PREFIXES = ("Get", "List", "Describe", "Head", "Lookup", "BatchGet", "Search", "Select",
                  "Scan", "Query", "Filter", "Discover", "Preview", "Check", "Test", "Validate",
                  "Simulate", "Estimate", "Decode", "Download")
#: Reads whose names do not start like one.
_READ_NAMES = frozenset({"ReceiveMessage"})


def is_data_event(source: str, event_name: str) -> bool:
    return event_name in DATA_EVENTS.get(source, ())


def is_read_only(event_name: str) -> bool:
    return event_name.startswith(_READ_PREFIXES) or event_name in _READ_NAMES


def iso(when: float | datetime.datetime) -> str:
    """A record's time: UTC, to the second, with a Z (``2026-12-02T16:50:15Z``)."""
    if isinstance(when, datetime.datetime):
        when = when.timestamp()
    return datetime.datetime.fromtimestamp(int(when), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> float:
    """Seconds since the epoch of a record's eventTime (ISO 8601, Z or an offset)."""
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


# ------------------------------------------------------------------ identities

def iam_user(account: str, user_name: str, principal_id: str, access_key_id: str) -> dict:
    """``userIdentity`` of a call signed with an IAM user's long-term keys (type IAMUser)."""
    return {"type": "IAMUser", "principalId": principal_id,
            "arn": f"arn:aws:iam::{account}:user/{user_name}", "accountId": account,
            "accessKeyId": access_key_id, "userName": user_name}


def assumed_role(account: str, role_arn: str, role_id: str, session_name: str,
                 access_key_id: str, issued: float | datetime.datetime) -> dict:
    """``userIdentity`` of a call signed with credentials from STS AssumeRole: the session,
    with the role that issued it as ``sessionContext.sessionIssuer``."""
    role_name = role_arn.rsplit("/", 1)[-1]
    when = iso(issued)
    return {"type": "AssumedRole", "principalId": f"{role_id}:{session_name}",
            "arn": f"arn:aws:sts::{account}:assumed-role/{role_name}/{session_name}",
            "accountId": account, "accessKeyId": access_key_id,
            "sessionContext": {
                "sessionIssuer": {"type": "Role", "principalId": role_id, "arn": role_arn,
                                  "accountId": account, "userName": role_name},
                "webIdFederationData": {},
                "attributes": {"creationDate": when, "mfaAuthenticated": "false"}}}


def aws_service(service_principal: str) -> dict:
    """``userIdentity`` of a call an AWS service makes itself (type AWSService)."""
    return {"type": "AWSService", "invokedBy": service_principal}


def username(identity: Mapping[str, Any]) -> str | None:
    """LookupEvents' Username for a record's identity: the IAM user's name, or an assumed
    role's session name (the last part of its ARN), as Event history shows them."""
    if identity.get("userName"):
        return identity["userName"]
    if identity.get("type") == "AssumedRole":
        return str(identity.get("arn", "")).rsplit("/", 1)[-1] or None
    if identity.get("type") == "AWSService":
        return identity.get("invokedBy")
    return None


# ------------------------------------------------------------------ resources

#: Request members that name a resource, per event source: member -> resource type, as
#: Event history's Resource type filter names them (AWS::<Service>::<Type>,
#: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/view-cloudtrail-events-console.html#filtering-cloudtrail-events).
RESOURCE_MEMBERS: dict[str, dict[str, str]] = {
    "ecs.amazonaws.com": {"cluster": "AWS::ECS::Cluster", "clusterName": "AWS::ECS::Cluster",
                          "service": "AWS::ECS::Service", "serviceName": "AWS::ECS::Service",
                          "taskDefinition": "AWS::ECS::TaskDefinition",
                          "family": "AWS::ECS::TaskDefinition"},
    "s3.amazonaws.com": {"Bucket": "AWS::S3::Bucket"},
    "iam.amazonaws.com": {"RoleName": "AWS::IAM::Role", "UserName": "AWS::IAM::User",
                          "PolicyArn": "AWS::IAM::Policy", "PolicyName": "AWS::IAM::Policy"},
    "logs.amazonaws.com": {"logGroupName": "AWS::Logs::LogGroup"},
    "ssm.amazonaws.com": {"Name": "AWS::SSM::Parameter"},
    "secretsmanager.amazonaws.com": {"SecretId": "AWS::SecretsManager::Secret",
                                     "Name": "AWS::SecretsManager::Secret"},
    "elasticloadbalancing.amazonaws.com": {
        "LoadBalancerArn": "AWS::ElasticLoadBalancingV2::LoadBalancer",
        "TargetGroupArn": "AWS::ElasticLoadBalancingV2::TargetGroup",
        "ListenerArn": "AWS::ElasticLoadBalancingV2::Listener"},
    "ec2.amazonaws.com": {"VpcId": "AWS::EC2::VPC", "SubnetId": "AWS::EC2::Subnet",
                          "GroupId": "AWS::EC2::SecurityGroup"},
    "appmesh.amazonaws.com": {"meshName": "AWS::AppMesh::Mesh",
                              "virtualNodeName": "AWS::AppMesh::VirtualNode",
                              "virtualServiceName": "AWS::AppMesh::VirtualService",
                              "virtualRouterName": "AWS::AppMesh::VirtualRouter",
                              "routeName": "AWS::AppMesh::Route"},
    "monitoring.amazonaws.com": {"AlarmName": "AWS::CloudWatch::Alarm"},
    "cloudtrail.amazonaws.com": {"Name": "AWS::CloudTrail::Trail"},
}


def lookup_resources(source: str, params: Mapping[str, Any]) -> list[dict]:
    """[{ResourceType, ResourceName}] the request names, for LookupEvents' Resources."""
    members = RESOURCE_MEMBERS.get(source)
    if not members:
        return []
    found = []
    for member, kind in members.items():
        value = params.get(member)
        if isinstance(value, str) and value:
            found.append({"ResourceType": kind, "ResourceName": value})
    return found


# ------------------------------------------------------------------ data events' resources

def data_resource(source: str, params: Mapping[str, Any], partition: str, region: str,
                  account: str) -> tuple[str, str] | None:
    """(type, ARN) of the resource a data event acts on, as data event selectors name it
    (API_DataResource.html): an S3 object, a DynamoDB table, a Lambda function; None when
    the request does not say."""
    if source == "s3.amazonaws.com":
        bucket, key = params.get("Bucket"), params.get("Key")
        if isinstance(bucket, str) and isinstance(key, str) and bucket and key:
            return "AWS::S3::Object", f"arn:{partition}:s3:::{bucket}/{key}"
        return None
    if source == "dynamodb.amazonaws.com":
        table = params.get("TableName")
        if isinstance(table, str) and table:
            arn = table if table.startswith("arn:") else f"arn:{partition}:dynamodb:{region}:{account}:table/{table}"
            return "AWS::DynamoDB::Table", arn
        return None
    if source == "lambda.amazonaws.com":
        name = params.get("FunctionName")
        if isinstance(name, str) and name:
            arn = name if name.startswith("arn:") else f"arn:{partition}:lambda:{region}:{account}:function:{name}"
            return "AWS::Lambda::Function", arn
    return None


def record_resources(resource: tuple[str, str] | None, account: str) -> list[dict] | None:
    """A data event record's ``resources``: the object and its bucket for S3 (as the S3 data
    event example of cloudtrail-log-file-examples.html lists them), else the one resource."""
    if resource is None:
        return None
    kind, arn = resource
    if kind == "AWS::S3::Object":
        bucket = arn.split(":::", 1)[1].split("/", 1)[0]
        return [{"type": kind, "ARN": arn},
                {"accountId": account, "type": "AWS::S3::Bucket", "ARN": arn.split(":::", 1)[0] + ":::" + bucket}]
    return [{"accountId": account, "type": kind, "ARN": arn}]


# ------------------------------------------------------------------ the record

#: Request members CloudTrail never writes in clear (record contents, requestParameters:
#: sensitive values are replaced with HIDDEN_DUE_TO_SECURITY_REASONS).
HIDDEN = "HIDDEN_DUE_TO_SECURITY_REASONS"
_SECRET = re.compile(r"(?i)secret(string|binary)|password|privatekey|^value$")


#: Members CloudTrail names otherwise than lower camel case, per event source: S3's records
#: carry ``bucketName`` and ``key`` (cloudtrail-log-file-examples.html, S3 data event example:
#: https://docs.aws.amazon.com/AmazonS3/latest/userguide/cloudtrail-logging-understanding-s3-entries.html).
_RENAMED = {"s3.amazonaws.com": {"Bucket": "bucketName"}}


def request_parameters(params: Mapping[str, Any] | None, hide: Iterable[str] = (),
                       source: str = "") -> dict | None:
    """requestParameters: the request's members, named in lower camel case as CloudTrail
    writes them (S3's bucket as bucketName), with secrets hidden; None for a call without
    parameters."""
    if not params:
        return None
    hidden = set(hide)
    renamed = _RENAMED.get(source, {})
    out: dict[str, Any] = {}
    for key, value in params.items():
        name = renamed.get(key) or key[:1].lower() + key[1:]
        out[name] = HIDDEN if (key in hidden or _SECRET.search(key)) else value
    return out


def record(*, event_name: str, event_source: str, region: str, account: str, identity: dict,
           event_time: float | datetime.datetime, event_id: str, request_id: str,
           source_ip: str = "", user_agent: str = "", parameters: dict | None = None,
           response: dict | None = None, error_code: str | None = None,
           error_message: str | None = None, resources: list[dict] | None = None,
           read_only: bool | None = None, management: bool | None = None) -> dict:
    """One CloudTrail record of an API call (eventType AwsApiCall), field for field as
    "CloudTrail record contents" documents it; errorCode and errorMessage only when the
    call failed; resources (ARN, accountId, type) only where known."""
    management = (not is_data_event(event_source, event_name)) if management is None else management
    out: dict[str, Any] = {
        "eventVersion": EVENT_VERSION,
        "userIdentity": identity,
        "eventTime": iso(event_time),
        "eventSource": event_source,
        "eventName": event_name,
        "awsRegion": region,
        "sourceIPAddress": source_ip,
        "userAgent": user_agent,
    }
    if error_code:
        out["errorCode"] = error_code
        out["errorMessage"] = error_message or ""
    out.update({
        "requestParameters": parameters,
        "responseElements": response,
        "requestID": request_id,
        "eventID": event_id,
        "readOnly": is_read_only(event_name) if read_only is None else read_only,
    })
    if resources:
        out["resources"] = resources
    out.update({
        "eventType": "AwsApiCall",
        "managementEvent": management,
        "recipientAccountId": account,
        "eventCategory": "Management" if management else "Data",
    })
    return out
