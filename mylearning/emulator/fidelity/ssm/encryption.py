"""AWS Systems Manager Parameter Store: a SecureString under a customer managed key is decrypted
only for a caller that may use the key.

"Any principal that retrieves the decrypted value must have kms:Decrypt permission on that key,
whichever Parameter Store operation they call"; the AWS managed key aws/ssm "grants Decrypt
permission to all IAM principals in the AWS account"
(https://docs.aws.amazon.com/systems-manager/latest/userguide/ps-restrict-decryption.html).
So a role session's GetParameter or GetParameters WithDecryption of such a parameter is refused
when its role may not kms:Decrypt the key, judged with Parameter Store's kms:ViaService
(ssm.REGION.amazonaws.com) and encryption context PARAMETER_ARN
(https://docs.aws.amazon.com/systems-manager/latest/userguide/secure-string-parameter-kms-encryption.html).
The refusal is KMS's AccessDeniedException, which Parameter Store passes on, worded as IAM words
an access denial (troubleshoot_access-denied.html); the exact envelope AWS adds is not documented.
Not modelled: GetParametersByPath and GetParameterHistory (they would need the path walked), and
a disabled or pending-deletion key (it cannot decrypt, key-state.html, but which error Parameter
Store then answers is not documented).
"""
from __future__ import annotations

from typing import Any

from mylearning.emulator.fidelity.core import AwsError, AwsRequest, rule
from mylearning.emulator.fidelity.kms import access as kms
from mylearning.emulator.fidelity.ssm.access import SERVICE, parameter
from mylearning.facts import kms as kms_facts


def _names(req: AwsRequest) -> list[str]:
    names = req.params.get("Names") if req.operation == "GetParameters" else [req.params.get("Name")]
    return [n for n in names or [] if isinstance(n, str) and n]


def _arn(found: Any, region: str, account: str) -> str:
    name = getattr(found, "name", "")
    return f"arn:aws:ssm:{region}:{account}:parameter/{name.lstrip('/')}"


@rule(SERVICE, "GetParameter", "GetParameters")
def secure_string_needs_its_kms_key(req: AwsRequest) -> None:
    """A role session's SecureString read WithDecryption needs kms:Decrypt on its customer
    managed key (module docstring)."""
    if req.params.get("WithDecryption") is not True:
        return
    from moto.core import DEFAULT_ACCOUNT_ID
    for name in _names(req):
        found = parameter(req.region, name)
        if found is None or getattr(found, "parameter_type", "") != "SecureString":
            continue
        key = kms.customer_key(req.region, getattr(found, "keyid", None), kms_facts.SSM_DEFAULT_KEY)
        if key is None:
            continue
        refused = kms.decrypt_refused(req, key, kms_facts.ssm_context(
            req.region, DEFAULT_ACCOUNT_ID, _arn(found, req.region, DEFAULT_ACCOUNT_ID)))
        if refused is not None:
            raise AwsError("AccessDeniedException", refused, 400)
