"""AWS Secrets Manager: a secret value is only as readable as its KMS key.

Secrets Manager decrypts a secret's value with the secret's KMS key before GetSecretValue
returns it, calling kms:Decrypt on behalf of the caller
(https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html). So:

* a role session reading a secret under a **customer managed key** needs kms:Decrypt on that
  key, judged with the condition keys Secrets Manager's request carries (kms:ViaService
  ``secretsmanager.REGION.amazonaws.com``, kms:CallerAccount, kms:EncryptionContext:SecretARN);
  without it the answer is AccessDeniedException "Access to KMS is not allowed"
  (https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_examples.html,
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html:
  "If your secret uses a custom KMS key ... add kms:Decrypt"). The AWS managed key
  aws/secretsmanager needs nothing extra. The learner's own credentials stand for the account's
  administrator and are not judged (see mylearning.emulator.fidelity.iam.enforcement);
* a key that is **disabled or pending deletion** decrypts for nobody: GetSecretValue answers
  DecryptionFailure (API_GetSecretValue.html, Errors; key-state.html).

Not modelled: key policies (a customer managed key's default key policy lets the account's IAM
policies decide, which is what is judged here), grants, versions still encrypted under a key the
secret no longer names, BatchGetSecretValue.
The facts (messages, context keys, default key) are mylearning.facts.kms.
"""
from __future__ import annotations

from typing import Any, Optional

from mylearning.emulator import auth
from mylearning.emulator.fidelity.core import AwsError, AwsRequest, moto_backend, rule
from mylearning.emulator.fidelity.secretsmanager.access import SERVICE, scheduled_for_deletion, secret, stages
from mylearning.facts import kms as kms_facts


def key_of(region: str, key_id: Optional[str], default_alias: str) -> Optional[Any]:
    """moto's KMS key for a customer managed `key_id` (id, ARN, alias or alias ARN), or None for
    the service's AWS managed key or a key this account's KMS does not hold (not ours to judge)."""
    if kms_facts.is_aws_managed(key_id, default_alias) or ":alias/aws/" in (key_id or "") \
            or (key_id or "").startswith("alias/aws/"):
        return None
    try:
        backend = moto_backend("kms", region)
        return backend.keys.get(backend.any_id_to_key_id(key_id))
    except Exception:
        return None


def _version_id(found: Any, params: dict) -> str:
    wanted = params.get("VersionId")
    if isinstance(wanted, str) and wanted:
        return wanted
    stage = params.get("VersionStage") or "AWSCURRENT"
    return next((vid for vid, labels in stages(found).items() if stage in labels), "")


@rule(SERVICE, "GetSecretValue")
def value_needs_its_kms_key(req: AwsRequest) -> None:
    """A disabled or pending-deletion key gives DecryptionFailure; a role session needs
    kms:Decrypt on a customer managed key (module docstring)."""
    found = secret(req.region, req.params.get("SecretId"))
    if found is None or scheduled_for_deletion(found):
        return  # moto answers ResourceNotFound / InvalidRequest itself
    key = key_of(req.region, getattr(found, "kms_key_id", None), kms_facts.SECRETS_MANAGER_DEFAULT_KEY)
    if key is None:
        return
    if getattr(key, "key_state", "Enabled") in kms_facts.UNUSABLE_STATES:
        raise AwsError("DecryptionFailure", kms_facts.DECRYPTION_FAILURE, 400)
    from mylearning.emulator.fidelity.iam import enforcement
    session = enforcement.session_of(auth.presented(req.environ))
    if session is None:
        return
    account = found.arn.split(":")[4]
    arn = kms_facts.key_arn(req.region, getattr(key, "account_id", account), key.id)
    extra = kms_facts.secrets_manager_context(req.region, account, found.arn, _version_id(found, req.params))
    if not enforcement.authorise(req, session, "kms:Decrypt", arn, extra).allowed:
        raise AwsError("AccessDeniedException", kms_facts.KMS_ACCESS_DENIED, 400)
