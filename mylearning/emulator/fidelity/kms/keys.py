"""AWS KMS: a key that is not enabled does no cryptography.

"The KMS key state determines whether it can be used in cryptographic operations": a disabled key
refuses them with DisabledException, a key pending deletion with KMSInvalidStateException
(https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html; API_Encrypt.html and
API_GenerateDataKey.html, Errors). moto 5.2 encrypts with either. The message names the key's ARN
("ARN is disabled.", "ARN is pending deletion."), as KMS words it.
Decrypt is checked only when the call names its KeyId (moto's ciphertext does not say which key
made it in a form worth decoding here).
"""
from __future__ import annotations

from mylearning.emulator.fidelity.core import AwsError, AwsRequest, moto_backend, rule

SERVICE = "kms"


@rule(SERVICE, "Encrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "Decrypt", "ReEncrypt")
def key_enabled_for_cryptography(req: AwsRequest) -> None:
    """Cryptographic operations need an enabled key (module docstring)."""
    key_id = req.params.get("DestinationKeyId") if req.operation == "ReEncrypt" else req.params.get("KeyId")
    if not isinstance(key_id, str) or not key_id:
        return
    try:
        backend = moto_backend("kms", req.region)
        key = backend.keys.get(backend.any_id_to_key_id(key_id))
    except Exception:
        return  # moto answers NotFoundException itself
    state = getattr(key, "key_state", "Enabled")
    if state == "Disabled":
        raise AwsError("DisabledException", f"{key.arn} is disabled.", 400)
    if state == "PendingDeletion":
        raise AwsError("KMSInvalidStateException", f"{key.arn} is pending deletion.", 400)
