"""AWS Private CA: moto 5.2.x fixes, applied once on the first call that needs them.

* **Real certificates.** moto gave every CA an RSA 2048 key whatever its KeyAlgorithm,
  signed with SHA-512 whatever the SigningAlgorithm, added extensions only for two
  templates (none at all for EndEntityServerAuthCertificate/V1 or
  EndEntityClientAuthCertificate/V1), and chained an issued certificate to the CA
  certificate alone. Now the CA's key is of its KeyAlgorithm and signs its CSR and what it
  issues with the requested algorithm (``keys``); a certificate carries the CSR's public
  key, the subject and extensions its template defines (``templates``, from
  ``mylearning.facts.pca``), the CA certificate's subject as issuer; its chain is the CA
  certificate and the CA's own chain (``issuing``), so it verifies with any TLS library.
* IssueCertificate ignored ``Validity`` and ``ValidityNotBefore``: every certificate, a
  root CA's own included, was valid for 365 days from the moment of issue. A certificate now
  ends when its Validity says and starts at ValidityNotBefore, or else "the issuance time
  minus 60 minutes"
  (https://docs.aws.amazon.com/privateca/latest/APIReference/API_IssueCertificate.html,
  Validity and ValidityNotBefore; types in API_Validity.html).
* GetCertificate refused a revoked certificate (RequestInProgressException), but "You can
  retrieve the certificate if it is in the ISSUED, EXPIRED, or REVOKED state"
  (API_GetCertificate.html).
* CreateCertificateAuthority dropped ``UsageMode`` and every CA reported
  SHORT_LIVED_CERTIFICATE; "The default value is GENERAL_PURPOSE"
  (API_CreateCertificateAuthority.html, UsageMode).

The patches narrow what moto does and leave everything else to it.
"""
from __future__ import annotations

import base64
import datetime
import json
import threading
from typing import Any

from mylearning.emulator.fidelity.acmpca import issuing
from mylearning.emulator.fidelity.acmpca.access import SERVICE, ca, validity_time
from mylearning.emulator.fidelity.core import AwsRequest, after, moto_fixes
from mylearning.facts import pca

#: The IssueCertificate parameters of the request this thread is answering.
_ISSUING = threading.local()
#: AWS's default "Not Before": "the issuance time minus 60 minutes" (API_IssueCertificate.html).
NOT_BEFORE_MARGIN = datetime.timedelta(minutes=60)
#: moto's own default lifetime, kept for a Validity we can't read.
DEFAULT_LIFETIME = datetime.timedelta(days=365)


def _validity(params: dict) -> tuple[datetime.datetime, datetime.datetime]:
    now = datetime.datetime.now(datetime.timezone.utc)
    start = validity_time(params.get("ValidityNotBefore"), now) or now - NOT_BEFORE_MARGIN
    end = validity_time(params.get("Validity"), now) or now + DEFAULT_LIFETIME
    return start, end


def _fix_issuing() -> None:
    from cryptography import x509
    from moto.acmpca.models import CertificateAuthority
    from moto.acmpca.responses import ACMPCAResponse
    from moto.moto_api._internal import mock_random
    from moto.utilities.utils import get_partition

    respond = ACMPCAResponse.issue_certificate

    def issue_certificate_response(self: Any) -> str:
        try:
            _ISSUING.params = json.loads(self.body or "{}")
        except (TypeError, ValueError):
            _ISSUING.params = {}
        try:
            return respond(self)
        finally:
            _ISSUING.params = None

    def issue_certificate(self: Any, csr_bytes: bytes, template_arn: str | None) -> str:
        params = getattr(_ISSUING, "params", None) or {}
        csr = x509.load_pem_x509_csr(base64.b64decode(csr_bytes))
        template = pca.template(template_arn) or pca.template(None)
        start, end = _validity(params)
        pem = issuing.issue(self, csr, template, signing_algorithm=params.get("SigningAlgorithm"),
                            not_before=start, not_after=end, passthrough=params.get("ApiPassthrough"))
        cert_id = str(mock_random.uuid4()).replace("-", "")
        arn = (f"arn:{get_partition(self.region_name)}:acm-pca:{self.region_name}:{self.account_id}:"
               f"certificate-authority/{self.id}/certificate/{cert_id}")
        self.issued_certificates[arn] = pem
        if not template.self_signed:  # a root's own certificate has no chain
            self.issued_certificates_certificate_chains[arn] = issuing.chain_pem(self)
        return arn

    ACMPCAResponse.issue_certificate = issue_certificate_response
    CertificateAuthority.issue_certificate = issue_certificate
    CertificateAuthority.key = property(issuing.ca_key)
    CertificateAuthority.csr = property(issuing.csr_pem)


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


moto_fixes(SERVICE, _fix_issuing, _fix_revoked_certificates_retrievable)
