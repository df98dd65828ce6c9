"""What each of MyLearning's tasks may call: the task roles' and the execution role's policies.

Least privilege, written down once: the task role allows exactly what the app's
own code calls (its bucket, its table, its queue), and the execution role adds to
AWS's managed policy only the secrets the tasks read at start-up and the keys they are under.
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html
"""
from __future__ import annotations

from typing import Any, Iterable

from mylearning import roles
from mylearning.facts import kms
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


def execution_permissions(secret_arn: str | Iterable[str],
                          kms_key_arns: str | Iterable[str] = ()) -> dict[str, Any]:
    """The execution role's addition to the AWS managed policy: read exactly these secrets, and
    decrypt with exactly these customer managed KMS keys, only through Secrets Manager.

    A secret under aws/secretsmanager needs no key permission; one under a customer managed key
    needs kms:Decrypt on that key for ECS to inject it
    (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html).
    The kms:ViaService condition (``secretsmanager.REGION.amazonaws.com``, the key's Region) keeps
    the role from using the key for anything but Secrets Manager's decryption on its behalf
    (https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html,
    https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service).
    """
    secrets = [secret_arn] if isinstance(secret_arn, str) else list(secret_arn)
    keys = [kms_key_arns] if isinstance(kms_key_arns, str) else list(kms_key_arns)
    statements = [roles.allow("secretsmanager:GetSecretValue", secrets, "ReadAppSecret")]
    if keys:
        regions = sorted({key.split(":")[3] for key in keys if key.count(":") >= 5})
        decrypt = roles.allow("kms:Decrypt", keys, "DecryptAppSecretKey")
        if regions:
            services = [kms.via_service("secretsmanager", region) for region in regions]
            decrypt["Condition"] = {"StringEquals": {"kms:ViaService": services[0] if len(services) == 1
                                                     else services}}
        statements.append(decrypt)
    return roles.policy(*statements)
