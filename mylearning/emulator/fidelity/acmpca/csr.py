"""AWS Private CA: a malformed CSR is refused, not a crash.

moto 5.2 parses the CSR without guarding against bad input, so IssueCertificate
with text that is not a PEM certificate signing request answers HTTP 500, which
botocore retries. AWS answers ``MalformedCSRException`` (400): "The certificate
signing request is invalid" (ACM PCA API reference, API_IssueCertificate.html, Errors).
"""
from __future__ import annotations

import base64
import binascii

from mylearning.emulator.fidelity.acmpca.access import SERVICE
from mylearning.emulator.fidelity.core import AwsError, AwsRequest, rule


def csr_problem(encoded: object) -> str | None:
    """Why `encoded` (the Csr blob, base64 on the wire) is not a usable CSR, or None."""
    if not isinstance(encoded, str):
        return None  # a shape error; botocore catches a missing Csr before sending
    from cryptography import x509

    try:
        pem = base64.b64decode(encoded, validate=False)
    except (binascii.Error, ValueError):
        return "The Csr is not base64-encoded."
    try:
        csr = x509.load_pem_x509_csr(pem)
    except ValueError:
        return "The certificate signing request is invalid: it is not a PEM-encoded PKCS #10 request."
    try:
        if not csr.is_signature_valid:
            return "The certificate signing request is invalid: its signature does not verify."
    except Exception:  # an algorithm cryptography can't check
        return "The certificate signing request is invalid: its signature can't be verified."
    return None


@rule(SERVICE, "IssueCertificate")
def csr_well_formed(req: AwsRequest) -> None:
    """MalformedCSRException for a CSR AWS can't read (API_IssueCertificate.html)."""
    problem = csr_problem(req.params.get("Csr"))
    if problem:
        raise AwsError("MalformedCSRException", problem, 400)
