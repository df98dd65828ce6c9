"""AWS Secrets Manager: the checks AWS makes that moto 5.2 skips.

Lab 03 creates the database credentials secret with a password from GetRandomPassword,
and teardown deletes it; the apps' secrets may be rotated.

Parts, each small enough to be offered upstream to moto on its own:

* **Secrets** (``secrets``): names, value sizes, SecretString or SecretBinary, what a secret
  scheduled for deletion still allows, GetRandomPassword limits.
* **Rotation** (``rotation``): schedules as days or expression, rotation windows, a rotation
  function required, rotations in progress, staging labels moved from where they are; moto
  fixes for a finished rotation, a test rotation, and GetSecretValue answering with the
  AWSCURRENT version (the emulator never runs a rotation function's code: RotateSecret leaves
  a valueless AWSPENDING version, and the value changes once someone puts the AWSPENDING value
  and moves AWSCURRENT to it, as the function's createSecret and finishSecret steps would).

* **Encryption** (``encryption``): GetSecretValue needs the secret's KMS key to be usable and,
  for a role session and a customer managed key, kms:Decrypt on it.

Shared by them: ``access`` (moto's secrets, AWS's error answers).
moto is imported lazily: importing this package leaves moto untouched.
"""
from __future__ import annotations

from mylearning.emulator.fidelity.secretsmanager import secrets as _secrets  # noqa: F401
from mylearning.emulator.fidelity.secretsmanager import rotation as _rotation  # noqa: F401
from mylearning.emulator.fidelity.secretsmanager import encryption as _encryption  # noqa: F401
