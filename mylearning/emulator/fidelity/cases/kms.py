"""KMS fidelity cases: a customer managed key used while enabled, disabled and pending deletion
(the key of a secret or SecureString the course's tasks read)."""
from __future__ import annotations

from typing import Any, Callable

from mylearning.emulator.fidelity.cases import OK, Case, Env

STATES = "https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html"


def _with_key(state: str, operation: str) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        kms = env.client("kms")
        key = kms.create_key(Description="app secrets")["KeyMetadata"]["KeyId"]
        if state == "Disabled":
            kms.disable_key(KeyId=key)
        elif state == "PendingDeletion":
            kms.schedule_key_deletion(KeyId=key, PendingWindowInDays=7)
        if operation == "encrypt":
            return kms.encrypt(KeyId=key, Plaintext=b"s3cret")
        return kms.generate_data_key(KeyId=key, KeySpec="AES_256")
    return call


def _case(id: str, call: Callable[[Env], Any], expect: str) -> Case:
    return Case(f"kms.{id}", "kms", call, expect, STATES, "behaviour")


CASES = [
    _case("encrypt.valid-enabled-key", _with_key("Enabled", "encrypt"), OK),
    _case("data-key.valid-enabled-key", _with_key("Enabled", "data-key"), OK),
    _case("encrypt.disabled-key", _with_key("Disabled", "encrypt"), "DisabledException"),
    _case("data-key.disabled-key", _with_key("Disabled", "data-key"), "DisabledException"),
    _case("encrypt.key-pending-deletion", _with_key("PendingDeletion", "encrypt"), "KMSInvalidStateException"),
]
