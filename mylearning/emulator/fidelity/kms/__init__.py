"""AWS KMS as other services use it for their callers: which key a resource is under, whether
that key can decrypt, and whether a role session may decrypt with it (``access``).

The services that encrypt with KMS (Secrets Manager, Parameter Store) call these from their own
rules; KMS's own API is moto's. moto is imported lazily.
"""
from __future__ import annotations

from mylearning.emulator.fidelity.kms import access as _access  # noqa: F401
