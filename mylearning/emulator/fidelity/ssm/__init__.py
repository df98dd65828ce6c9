"""AWS Systems Manager Parameter Store: the checks AWS makes that moto 5.2 skips, and a moto fix.

The course keeps a learner's answers as String parameters under
``/mylearning/<learner>/lab<NN>/<key>`` (mylearning/answers.py) and reads the
ECS-optimised AMI from a public ``/aws/service/...`` parameter; the apps' settings may be
SecureStrings under a path, read with GetParametersByPath.

Parts, each small enough to be offered upstream to moto on its own:

* **Parameters** (``parameters``): names, hierarchy depth, value size per tier,
  descriptions, AllowedPattern.
* **References** (``references``): a SecureString's KMS key exists; Advanced stays Advanced;
  no policies on a Standard parameter; GetParametersByPath filter keys; moto fix for names
  looked up before they existed.
* **Encryption** (``encryption``): a role session decrypts a SecureString under a customer
  managed key only with kms:Decrypt on it.

Shared by them: ``access`` (the service's names and errors, moto's parameters).
moto is imported lazily: importing this package leaves moto untouched.
"""
from __future__ import annotations

from mylearning.emulator.fidelity.ssm import parameters as _parameters  # noqa: F401
from mylearning.emulator.fidelity.ssm import references as _references  # noqa: F401
from mylearning.emulator.fidelity.ssm import encryption as _encryption  # noqa: F401
