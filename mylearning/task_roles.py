"""What each of MyLearning's tasks may call: the task roles' and the execution role's policies.

Least privilege, written down once: the task role allows exactly what the app's
own code calls (its bucket, its table, its queue), and the execution role adds to
AWS's managed policy only the one secret the tasks read at start-up.
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html
"""
from __future__ import annotations

from typing import Any

from mylearning import roles
from mylearning.microservices import SERVICES


def app_permissions(session: Any, service: str, account: str | None = None) -> dict[str, Any]:
    """What each app's own code calls, and nothing more (the task role's policy)."""
    if account is None:
        from mylearning.lookup import account_id
        account = account_id(session)
    region, prefix = session.region_name, session.prefix
    if service == "courses-api":
        return roles.policy(roles.allow("s3:GetObject",
                                        f"arn:aws:s3:::{prefix}-course-content/*", "ReadCourseMaterial"))
    if service == "enrollment":
        return roles.policy(roles.allow(
            ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"],
            f"arn:aws:dynamodb:{region}:{account}:table/{prefix}-enrollments", "Enrollments"))
    if service == "video-worker":
        return roles.policy(
            roles.allow(["s3:GetObject", "s3:PutObject"], f"arn:aws:s3:::{prefix}-videos/*", "Videos"),
            roles.allow(["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"],
                        f"arn:aws:sqs:{region}:{account}:{prefix}-video-jobs", "VideoJobs"))
    raise KeyError(f"Unknown service {service!r}; MyLearning's services are {', '.join(SERVICES)}")


def execution_permissions(secret_arn: str) -> dict[str, Any]:
    """The execution role's one addition to the AWS managed policy: read this secret only."""
    return roles.policy(roles.allow("secretsmanager:GetSecretValue", secret_arn, "ReadAppSecret"))
