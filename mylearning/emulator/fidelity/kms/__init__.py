"""AWS KMS: the checks AWS makes that moto 5.2 skips, and KMS as other services use it.

* **Keys** (``keys``): a disabled key or one pending deletion does no cryptography.
* **Access** (``access``): for the services that encrypt with KMS on their caller's behalf
  (Secrets Manager, Parameter Store): which customer managed key a resource is under, whether it
  can decrypt, and whether a role session may decrypt with it.

moto is imported lazily.
"""
from __future__ import annotations

from mylearning.emulator.fidelity.kms import access as _access  # noqa: F401
from mylearning.emulator.fidelity.kms import keys as _keys  # noqa: F401
