"""AWS Private CA (ACM PCA): the checks AWS makes that moto 5.2 skips, for the mTLS labs.

A lab's private CA goes CreateCertificateAuthority (PENDING_CERTIFICATE),
GetCertificateAuthorityCsr, IssueCertificate with the RootCACertificate/V1 template,
GetCertificate, ImportCertificateAuthorityCertificate (ACTIVE); then it issues the
services' certificates (https://docs.aws.amazon.com/privateca/latest/userguide/PCACertInstall.html).

Parts, each small enough to be offered upstream to moto on its own:

* **CSRs** (``csr``): a malformed CSR is MalformedCSRException, not HTTP 500.
* **Rules** (``rules``): CA states (issue only from an ACTIVE CA, delete only an inactive
  one, update only an ACTIVE or DISABLED one), signing algorithm against key algorithm,
  validity within the CA certificate, malformed CA certificates, unknown certificate ARNs.
* **moto fixes** (``fixes``): real certificates (the CA's key of its KeyAlgorithm, the
  template's extensions, a chain that verifies), Validity and ValidityNotBefore honoured,
  revoked certificates retrievable, UsageMode kept.

Shared by them: ``access`` (moto's CAs, algorithm families, Validity times), ``keys`` (CA
keys and signatures), ``templates`` (a template's subject and extensions, from
``mylearning.facts.pca``) and ``issuing`` (signing a certificate as the CA; ACM uses it too).
moto is imported lazily: importing this package leaves moto untouched.
"""
from __future__ import annotations

# Order matters: rules run in registration order, so a malformed CSR is named before the
# CA's state, and the moto fixes are applied (on the first call needing them) last.
from mylearning.emulator.fidelity.acmpca import csr as _csr  # noqa: F401
from mylearning.emulator.fidelity.acmpca import rules as _rules  # noqa: F401
from mylearning.emulator.fidelity.acmpca import fixes as _fixes  # noqa: F401
from mylearning.emulator.fidelity.acmpca.csr import csr_problem

__all__ = ["csr_problem"]
