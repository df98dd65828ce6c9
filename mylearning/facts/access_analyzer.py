"""What IAM Access Analyzer's policy generation does with a principal's CloudTrail activity: facts
the course's own generator (mylearning.security.least_privilege) follows, and says where it differs.

https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-policy-generation.html

* It writes a policy *template* from the actions and services the principal used in a date range
  of up to 90 days, to be reviewed and customised (add or remove permissions, specify resources,
  add conditions) before it is attached.
* Action-level information only for the services listed below; for the other services used it
  gives service-level information (from last-accessed data) and asks for the actions by hand.
* Data events (for example S3 data events) are not identified at action level.
* ``iam:PassRole`` is not tracked by CloudTrail and is never in a generated policy.
* For actions that support resource-level permissions the template holds a placeholder ARN such
  as ``arn:aws:s3:::${BucketName}`` to be replaced; actions without them get ``"*"``
  (https://docs.aws.amazon.com/access-analyzer/latest/APIReference/API_GetGeneratedPolicy.html).
"""
from __future__ import annotations

#: Days of CloudTrail activity one generation may analyse.
MAX_DAYS = 90

#: IAM prefixes of the services with action-level information, from the page's list "Supported
#: services for action-level information" (IAM Access Analyzer, Amplify, AppIntegrations, AppFlow,
#: Application Cost Profiler, Athena, Batch, Braket, CloudWatch, CloudWatch Logs, CloudWatch
#: Synthetics, CodeGuru Profiler, Cognito Identity, Cognito Sync, Cognito user pools, Cost and
#: Usage Report, DevOps Guru, Device Advisor, Directory Service, EBS, EC2, ECR, ECS, Elastic Load
#: Balancing, EventBridge Schemas, Fleet Hub, Ground Station, GuardDuty, IAM, IVS, KMS, Kinesis
#: Data Firehose, Lambda, MQ, Managed Blockchain, MSK, Nimble Studio, OpsWorks, Outposts, RDS
#: Performance Insights, RDS, RAM, Resource Groups, Resource Groups Tagging API, Savings Plans,
#: Secrets Manager, Security Hub, STS, Server Migration Service, Service Quotas, Signer, SES, S3,
#: Systems Manager, Textract, Translate, Well-Architected Tool, WorkLink), each with its prefix
#: from the Service Authorization Reference. DynamoDB, SQS and X-Ray are not on it.
ACTION_LEVEL_SERVICES = frozenset({
    "access-analyzer", "amplify", "app-integrations", "appflow", "application-cost-profiler",
    "athena", "batch", "braket", "cloudwatch", "logs", "synthetics", "codeguru-profiler",
    "cognito-identity", "cognito-sync", "cognito-idp", "cur", "devops-guru", "iotdeviceadvisor",
    "ds", "ebs", "ec2", "ecr", "ecs", "elasticloadbalancing", "schemas", "iotfleethub",
    "groundstation", "guardduty", "iam", "ivs", "kms", "firehose", "lambda", "mq",
    "managedblockchain", "kafka", "nimble", "opsworks", "outposts", "pi", "rds", "ram",
    "resource-groups", "tag", "savingsplans", "secretsmanager", "securityhub", "sts", "sms",
    "servicequotas", "signer", "ses", "s3", "ssm", "textract", "translate", "wellarchitected",
    "worklink",
})

#: Never in a generated policy: CloudTrail does not record it.
NOT_TRACKED = frozenset({"iam:passrole"})

ACTION_LEVEL, SERVICE_LEVEL = "action", "service"


def level(prefix: str, data_event: bool) -> str:
    """The detail Access Analyzer gives a call: "action" or "service"."""
    if data_event or prefix.lower() not in ACTION_LEVEL_SERVICES:
        return SERVICE_LEVEL
    return ACTION_LEVEL
