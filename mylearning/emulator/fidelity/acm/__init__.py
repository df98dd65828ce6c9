"""AWS Certificate Manager: private certificates from a private CA, for App Mesh's TLS labs.

App Mesh listeners take an ACM certificate issued by AWS Private CA, and its Envoy exports
it (https://docs.aws.amazon.com/app-mesh/latest/userguide/tls.html). moto 5.2 "issues" a
private certificate that is self-signed by a throwaway key, names Amazon as its issuer and
chains to Amazon's public root, whatever the CA; it never fails, whatever the CA's state.

Parts, each small enough to be offered upstream to moto on its own:

* **Private certificates** (``private``): RequestCertificate with a CertificateAuthorityArn
  has that CA sign a key of the requested KeyAlgorithm, with the DomainName and the
  SubjectAlternativeNames as SANs, valid 395 days; the request fails (status FAILED with
  AWS's failure reason) when the CA can't issue. DescribeCertificate tells its key usages and
  renewal eligibility; GetCertificate and ExportCertificate give its real chain, and Export
  the private key encrypted with the passphrase (PKCS #8).
* **Rules** (``rules``): a certificate that is not issued can't be retrieved or exported;
  the passphrase's characters.

moto is imported lazily: importing this package leaves moto untouched.
"""
from __future__ import annotations

from mylearning.emulator.fidelity.acm import rules as _rules  # noqa: F401
from mylearning.emulator.fidelity.acm import private as _private  # noqa: F401
