"""IAM actions the course's least-privilege checks must know by name.

Two facts, each from AWS's own pages, so a check neither flags what cannot be narrowed nor misses
what belongs to ECS rather than the app.
"""
from __future__ import annotations

#: Actions that support no resource-level permissions: a policy can only grant them on "*"
#: (the "Resource types" column is empty for them in the Service Authorization Reference), so a
#: task role granting them on "*" is as narrow as IAM allows.
#: https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsx-ray.html
#: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html
#: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerregistry.html
#: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsessionmanagermessagegatewayservice.html
#: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html
#: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsqs.html
#: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html
#: https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecretsmanager.html
#: https://docs.aws.amazon.com/service-authorization/latest/reference/list_awskeymanagementservice.html
#: https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecuritytokenservice.html
NO_RESOURCE_LEVEL = frozenset(a.lower() for a in (
    "xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules",
    "xray:GetSamplingTargets", "xray:GetSamplingStatisticSummaries",
    "cloudwatch:PutMetricData", "cloudwatch:GetMetricData", "cloudwatch:GetMetricStatistics",
    "cloudwatch:ListMetrics",
    "s3:ListAllMyBuckets", "sqs:ListQueues", "dynamodb:ListTables",
    "secretsmanager:ListSecrets", "secretsmanager:GetRandomPassword",
    "kms:CreateKey", "kms:ListKeys", "kms:ListAliases", "sts:GetCallerIdentity",
    "ecr:GetAuthorizationToken",
    # ECS Exec's channel to the task (the task role needs them, on "*").
    # https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html
    "ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel",
))

#: What the task execution role is for: ECS (not the app) pulls the image from ECR and creates
#: the awslogs stream with it; AmazonECSTaskExecutionRolePolicy grants exactly these.
#: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html
EXECUTION_IMAGE_PULL = ("ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability",
                        "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage")
EXECUTION_LOGS = ("logs:CreateLogStream", "logs:PutLogEvents")
