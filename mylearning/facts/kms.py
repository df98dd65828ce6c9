"""AWS KMS as the services that encrypt with it use it: pure facts, no I/O.

Secrets Manager envelope-encrypts every secret value under a KMS key and, to return a value,
calls kms:Decrypt *on behalf of the caller*: the caller's own permissions decide, and the
request KMS authorises carries ``kms:ViaService`` = ``secretsmanager.REGION.amazonaws.com``,
``kms:CallerAccount`` and the encryption context ``SecretARN`` (and ``SecretVersionId``)
(https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html,
"Permissions for the KMS key" and "Secrets Manager encryption context"). The AWS managed key
``aws/secretsmanager`` needs no permission in an identity policy: "All users and roles in the
AWS account automatically have access to use aws/secretsmanager" (API_CreateSecret.html,
KmsKeyId). A customer managed key does: ECS's execution role "must have kms:Decrypt"
for it (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html).

A key that is disabled or pending deletion cannot be used for cryptographic operations
(https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html); Secrets Manager then
cannot decrypt the value and answers ``DecryptionFailure`` ("Secrets Manager can't decrypt the
protected secret text using the provided KMS key",
https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html, Errors).
When the caller may not use the key, Secrets Manager answers ``AccessDeniedException`` with the
message ``Access to KMS is not allowed``, the text AWS's knowledge center lists for this case
(https://repost.aws/knowledge-center/secrets-manager-cross-account-key).
"""
from __future__ import annotations

from typing import Optional

#: The AWS managed key Secrets Manager uses when a secret names none (API_CreateSecret.html).
SECRETS_MANAGER_DEFAULT_KEY = "alias/aws/secretsmanager"
#: The AWS managed key Parameter Store uses for a SecureString without KeyId (API_PutParameter.html).
SSM_DEFAULT_KEY = "alias/aws/ssm"
#: Key states in which a KMS key cannot decrypt (key-state.html).
UNUSABLE_STATES = frozenset({"Disabled", "PendingDeletion", "PendingImport", "Unavailable"})

KMS_ACCESS_DENIED = "Access to KMS is not allowed"
DECRYPTION_FAILURE = "Secrets Manager can't decrypt the protected secret text using the provided KMS key."


def via_service(service: str, region: str) -> str:
    """The ``kms:ViaService`` value of a request a service makes for its caller
    (https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service)."""
    return f"{service}.{region}.amazonaws.com"


def key_arn(region: str, account: str, key_id: str) -> str:
    """A key's ARN from its id (KMS authorises kms:Decrypt on ``arn:aws:kms:REGION:ACCOUNT:key/ID``)."""
    if key_id.startswith("arn:"):
        return key_id
    return f"arn:aws:kms:{region}:{account}:key/{key_id}"


def is_aws_alias(key: str) -> bool:
    """Whether `key` is an AWS managed key's alias (``alias/aws/...``), by name or ARN."""
    return key.startswith("alias/aws/") or ":alias/aws/" in key


def is_aws_managed(key: Optional[str], default_alias: str) -> bool:
    """Whether `key` (as a secret or parameter stores it) is the service's AWS managed key."""
    if not key:
        return True
    return key == default_alias or key.endswith(":" + default_alias)


def secrets_manager_context(region: str, account: str, secret_arn: str, version_id: str = "") -> dict[str, str]:
    """The KMS condition keys of the kms:Decrypt Secrets Manager makes for a GetSecretValue caller."""
    found = {"kms:ViaService": via_service("secretsmanager", region), "kms:CallerAccount": account,
             "kms:EncryptionContext:SecretARN": secret_arn}
    if version_id:
        found["kms:EncryptionContext:SecretVersionId"] = version_id
    return found


def ssm_context(region: str, account: str, parameter_arn: str) -> dict[str, str]:
    """The KMS condition keys of the kms:Decrypt Parameter Store makes for a SecureString read:
    its encryption context is ``PARAMETER_ARN``
    (https://docs.aws.amazon.com/systems-manager/latest/userguide/secure-string-parameter-kms-encryption.html)."""
    return {"kms:ViaService": via_service("ssm", region), "kms:CallerAccount": account,
            "kms:EncryptionContext:PARAMETER_ARN": parameter_arn}
