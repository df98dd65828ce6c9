"""How each service answers a request that breaks its model: error code and HTTP status.

Services differ: the JSON services built on AWS's common framework say
`ValidationException`, ECS and CloudWatch Logs `InvalidParameterException`, the query
services `ValidationError`, EC2 `InvalidParameterValue` (and `MissingParameter` for an
absent one), App Mesh `BadRequestException`. One row per service, each from the
service's own error list; boto3 raises the same exception class as on AWS.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Answer:
    code: str
    status: int = 400
    #: The code for a missing required parameter, where the service has its own.
    missing: str | None = None
    source: str = ""
    #: Operations that answer with another code than the service's usual one.
    operations: tuple[tuple[str, str], ...] = ()

    def code_for(self, operation: str) -> str:
        return dict(self.operations).get(operation, self.code)


ANSWERS: dict[str, Answer] = {
    # Task definitions are refused with ClientException ("Container.image should not be
    # null or empty"); the other operations with InvalidParameterException ("Cluster must
    # match ^[a-zA-Z0-9\-_]{1,255}$").
    "ecs": Answer("InvalidParameterException", source=(
        "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html#API_CreateService_Errors"),
        operations=(("RegisterTaskDefinition", "ClientException"),)),
    "appmesh": Answer("BadRequestException", source=(
        "https://docs.aws.amazon.com/app-mesh/latest/APIReference/API_CreateRoute.html#API_CreateRoute_Errors")),
    "elbv2": Answer("ValidationError", source=(
        "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/CommonErrors.html")),
    "ec2": Answer("InvalidParameterValue", missing="MissingParameter", source=(
        "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html")),
    "autoscaling": Answer("ValidationError", source=(
        "https://docs.aws.amazon.com/autoscaling/ec2/APIReference/CommonErrors.html")),
    # PutMetricData refuses a datum with InvalidParameterValue (API_PutMetricData.html, Errors).
    "cloudwatch": Answer("ValidationError", missing="MissingParameter", source=(
        "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CommonErrors.html"),
        operations=(("PutMetricData", "InvalidParameterValue"),)),
    "iam": Answer("ValidationError", source="https://docs.aws.amazon.com/IAM/latest/APIReference/CommonErrors.html"),
    "sts": Answer("ValidationError", source="https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html"),
    "logs": Answer("InvalidParameterException", source=(
        "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html#API_CreateLogGroup_Errors")),
    "ssm": Answer("ValidationException", source="https://docs.aws.amazon.com/systems-manager/latest/APIReference/CommonErrors.html"),
    "secretsmanager": Answer("ValidationException", source=(
        "https://docs.aws.amazon.com/secretsmanager/latest/apireference/CommonErrors.html")),
    "servicediscovery": Answer("InvalidInput", source=(
        "https://docs.aws.amazon.com/cloud-map/latest/api/API_CreateService.html#API_CreateService_Errors")),
    "application-autoscaling": Answer("ValidationException", source=(
        "https://docs.aws.amazon.com/autoscaling/application/APIReference/CommonErrors.html")),
    "acm": Answer("ValidationException", source=(
        "https://docs.aws.amazon.com/acm/latest/APIReference/CommonErrors.html")),
    "acm-pca": Answer("ValidationException", source=(
        "https://docs.aws.amazon.com/privateca/latest/APIReference/CommonErrors.html")),
    # LookupEvents' own codes for its parameters are answered by fidelity/cloudtrail/lookup.py.
    "cloudtrail": Answer("ValidationException", source=(
        "https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/CommonErrors.html")),
    "kms": Answer("ValidationException", source=(
        "https://docs.aws.amazon.com/kms/latest/APIReference/CommonErrors.html")),
    "xray": Answer("InvalidRequestException", source=(
        "https://docs.aws.amazon.com/xray/latest/api/API_PutTraceSegments.html#API_PutTraceSegments_Errors")),
}

#: For a service without a row: the common framework's code in its protocol.
DEFAULT_JSON = Answer("ValidationException")
DEFAULT_QUERY = Answer("ValidationError")


def answer_for(service: str, protocol: str) -> Answer:
    if service in ANSWERS:
        return ANSWERS[service]
    return DEFAULT_QUERY if protocol in ("query", "ec2") else DEFAULT_JSON
