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
The facts (messages, context keys, default key) are mylearning.facts.kms; the key lookup and
the decision on the caller's behalf are mylearning.emulator.fidelity.kms.access.
"""
from __future__ import annotations

from typing import Any

from mylearning.emulator.fidelity.core import AwsError, AwsRequest, rule
from mylearning.emulator.fidelity.kms import access as kms
from mylearning.emulator.fidelity.secretsmanager.access import SERVICE, scheduled_for_deletion, secret, stages
from mylearning.facts import kms as kms_facts


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
    key = kms.customer_key(req.region, getattr(found, "kms_key_id", None), kms_facts.SECRETS_MANAGER_DEFAULT_KEY)
    if key is None:
        return
    if kms.unusable(key):
        raise AwsError("DecryptionFailure", kms_facts.DECRYPTION_FAILURE, 400)
    account = found.arn.split(":")[4]
    extra = kms_facts.secrets_manager_context(req.region, account, found.arn, _version_id(found, req.params))
    if kms.decrypt_refused(req, key, extra) is not None:
        raise AwsError("AccessDeniedException", kms_facts.KMS_ACCESS_DENIED, 400)
