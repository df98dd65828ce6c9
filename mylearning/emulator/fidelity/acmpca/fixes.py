"""AWS Private CA: moto 5.2.x fixes, applied once on the first call that needs them.

* IssueCertificate ignored ``Validity`` and ``ValidityNotBefore``: every certificate, a
  root CA's own included, was valid for 365 days from the moment of issue. A certificate now
  ends when its Validity says and starts at ValidityNotBefore, or else "the issuance time
  minus 60 minutes"
  (https://docs.aws.amazon.com/privateca/latest/APIReference/API_IssueCertificate.html,
  Validity and ValidityNotBefore; types in API_Validity.html). It is signed with the hash
  its SigningAlgorithm names (moto used SHA-512 for all); moto's CA key stays RSA.
* GetCertificate refused a revoked certificate (RequestInProgressException), but "You can
  retrieve the certificate if it is in the ISSUED, EXPIRED, or REVOKED state"
  (API_GetCertificate.html).
* CreateCertificateAuthority dropped ``UsageMode`` and every CA reported
  SHORT_LIVED_CERTIFICATE; "The default value is GENERAL_PURPOSE"
  (API_CreateCertificateAuthority.html, UsageMode).

The patches narrow what moto does and leave everything else to it.
"""
from __future__ import annotations

import datetime
import json
import threading
from typing import Any

from mylearning.emulator.fidelity.acmpca.access import SERVICE, ca, validity_time
from mylearning.emulator.fidelity.core import AwsRequest, after, moto_fixes

#: The IssueCertificate parameters of the request this thread is answering.
_ISSUING = threading.local()
#: AWS's default "Not Before": "the issuance time minus 60 minutes" (API_IssueCertificate.html).
NOT_BEFORE_MARGIN = datetime.timedelta(minutes=60)
#: moto's own default lifetime, kept for a Validity we can't read.
DEFAULT_LIFETIME = datetime.timedelta(days=365)


def _hash(signing_algorithm: Any):
    from cryptography.hazmat.primitives import hashes

    for prefix, algorithm in (("SHA256", hashes.SHA256), ("SHA384", hashes.SHA384),
                              ("SHA512", hashes.SHA512)):
        if isinstance(signing_algorithm, str) and signing_algorithm.startswith(prefix):
            return algorithm()
    return hashes.SHA512()


def _fix_validity() -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from moto.acmpca.models import CertificateAuthority
    from moto.acmpca.responses import ACMPCAResponse

    issue = ACMPCAResponse.issue_certificate

    def issue_certificate(self: Any) -> str:
        try:
            _ISSUING.params = json.loads(self.body or "{}")
        except (TypeError, ValueError):
            _ISSUING.params = {}
        try:
            return issue(self)
        finally:
            _ISSUING.params = None

    def generate_cert(self: Any, subject: Any, public_key: Any, extensions: list) -> bytes:
        params = getattr(_ISSUING, "params", None) or {}
        now = datetime.datetime.now(datetime.timezone.utc)
        start = validity_time(params.get("ValidityNotBefore"), now) or now - NOT_BEFORE_MARGIN
        end = validity_time(params.get("Validity"), now) or now + DEFAULT_LIFETIME
        builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(self.issuer)
                   .public_key(public_key).serial_number(x509.random_serial_number())
                   .not_valid_before(start).not_valid_after(end))
        for extension, critical in extensions:
            builder = builder.add_extension(extension, critical)
        certificate = builder.sign(self.key, _hash(params.get("SigningAlgorithm")))
        return certificate.public_bytes(serialization.Encoding.PEM)

    ACMPCAResponse.issue_certificate = issue_certificate
    CertificateAuthority.generate_cert = generate_cert


def _fix_revoked_certificates_retrievable() -> None:
    from moto.acmpca.models import ACMPCABackend

    def get_certificate(self: Any, certificate_authority_arn: str,
                        certificate_arn: str) -> tuple[bytes, bytes]:
        authority = self.describe_certificate_authority(certificate_authority_arn)
        return authority.get_certificate(certificate_arn)

    ACMPCABackend.get_certificate = get_certificate


@after(SERVICE, "CreateCertificateAuthority")
def keep_usage_mode(req: AwsRequest, status: int, body: bytes) -> None:
    """Not a check: the CA reports the UsageMode it was created with (default GENERAL_PURPOSE)."""
    try:
        arn = json.loads(body).get("CertificateAuthorityArn")
    except (TypeError, ValueError, AttributeError):
        return
    authority = ca(req.region, arn)
    if authority is not None:
        mode = req.params.get("UsageMode")
        authority.usage_mode = mode if isinstance(mode, str) else "GENERAL_PURPOSE"


moto_fixes(SERVICE, _fix_validity, _fix_revoked_certificates_retrievable,
           operations=("IssueCertificate", "GetCertificate"))
