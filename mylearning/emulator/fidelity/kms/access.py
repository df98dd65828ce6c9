"""A customer managed key as the encrypting services use it on a caller's behalf.

A service that decrypts for its caller (Secrets Manager for GetSecretValue, Parameter Store for
a SecureString read WithDecryption) calls kms:Decrypt with the caller's permissions: the request
KMS authorises is the caller's, with the service's kms:ViaService and the encryption context
(https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service,
https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html,
https://docs.aws.amazon.com/systems-manager/latest/userguide/ps-restrict-decryption.html).
An AWS managed key (aws/secretsmanager, aws/ssm) lets every principal of the account decrypt
through its service, so it is never judged here. A key that is disabled or pending deletion
cannot decrypt (https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html).
Not modelled: key policies (the default key policy of a customer managed key defers to IAM
policies, which is what is judged), grants.
"""
from __future__ import annotations

from typing import Any, Mapping, Optional

from mylearning.emulator import auth
from mylearning.emulator.fidelity.core import AwsRequest, moto_backend
from mylearning.facts import kms as kms_facts


def customer_key(region: str, key_id: Optional[str], default_alias: str) -> Optional[Any]:
    """moto's KMS key for a customer managed `key_id` (id, ARN, alias or alias ARN); None for an
    AWS managed key or a key this account's KMS does not hold (not ours to judge)."""
    if kms_facts.is_aws_managed(key_id, default_alias) or kms_facts.is_aws_alias(key_id or ""):
        return None
    try:
        backend = moto_backend("kms", region)
        return backend.keys.get(backend.any_id_to_key_id(key_id))
    except Exception:
        return None


def unusable(key: Any) -> bool:
    """Whether the key is in a state that cannot decrypt (key-state.html)."""
    return getattr(key, "key_state", "Enabled") in kms_facts.UNUSABLE_STATES


def arn_of(key: Any, region: str) -> str:
    from moto.core import DEFAULT_ACCOUNT_ID
    return getattr(key, "arn", None) or kms_facts.key_arn(
        region, getattr(key, "account_id", DEFAULT_ACCOUNT_ID), key.id)


def decrypt_refused(req: AwsRequest, key: Any, extra_context: Mapping[str, Any]) -> Optional[str]:
    """For a role session's request, IAM's AccessDenied text for kms:Decrypt on `key` with the
    service's condition keys; None when allowed or when the caller is not a role session (the
    learner's credentials stand for the account's administrator)."""
    from mylearning.emulator.fidelity.iam import enforcement
    from mylearning.facts import iam as policy

    session = enforcement.session_of(auth.presented(req.environ))
    if session is None:
        return None
    arn = arn_of(key, req.region)
    outcome = enforcement.authorise(req, session, "kms:Decrypt", arn, dict(extra_context))
    if outcome.allowed:
        return None
    return (f"User: {session.arn} is not authorized to perform: kms:Decrypt on resource: {arn} "
            f"{policy.denial_reason(outcome, 'kms:Decrypt')}")
