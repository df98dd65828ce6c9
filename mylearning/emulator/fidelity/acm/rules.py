"""ACM: what AWS refuses that moto 5.2 lets through, each rule citing its page."""
from __future__ import annotations

import base64
import binascii

from mylearning.emulator.fidelity.acm.private import SERVICE, certificate_bundle
from mylearning.emulator.fidelity.core import AwsError, AwsRequest, rule

#: The statuses of a certificate that has no certificate to give yet.
NOT_ISSUED = frozenset({"PENDING_VALIDATION", "FAILED", "VALIDATION_TIMED_OUT"})


def exportable(bundle: object) -> bool:
    """A private certificate, or one requested with Options Export ENABLED (API_ExportCertificate.html)."""
    options = getattr(bundle, "cert_options", None) or {}
    return getattr(bundle, "type", None) == "PRIVATE" or options.get("Export") == "ENABLED"


@rule(SERVICE, "GetCertificate", "ExportCertificate")
def only_an_issued_certificate_is_retrieved(req: AwsRequest) -> None:
    """A certificate still being validated, or whose request failed, has nothing to retrieve.

    https://docs.aws.amazon.com/acm/latest/APIReference/API_GetCertificate.html and
    API_ExportCertificate.html (Errors: RequestInProgressException, "The certificate request
    is in process and the certificate in your account has not yet been issued"). moto hands
    out the stand-in certificate it made at request time. A certificate that can't be
    exported at all is refused as such first (moto's ValidationException).
    """
    bundle = certificate_bundle(req.region, req.params.get("CertificateArn"))
    if bundle is None:
        return
    if req.operation == "ExportCertificate" and not exportable(bundle):
        return
    bundle.check()
    if bundle.status in NOT_ISSUED:
        why = f" ({bundle.failure_reason})" if getattr(bundle, "failure_reason", None) else ""
        raise AwsError("RequestInProgressException",
                       f"Certificate {bundle.arn} has not been issued: it is {bundle.status}{why}.", 400)


@rule(SERVICE, "ExportCertificate")
def passphrase_characters(req: AwsRequest) -> None:
    """"When creating your passphrase, you can use any ASCII character except #, $, or %."

    https://docs.aws.amazon.com/acm/latest/APIReference/API_ExportCertificate.html (Passphrase;
    Errors: ValidationException). Its length (4 to 128) is the model's, checked before.
    """
    value = req.params.get("Passphrase")
    if not isinstance(value, str):
        return
    try:
        passphrase = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return
    bad = sorted({chr(b) for b in passphrase if b > 127 or chr(b) in "#$%"})
    if bad:
        shown = ", ".join(repr(c) if c.isprintable() else f"byte {ord(c)}" for c in bad)
        raise AwsError("ValidationException",
                       f"The passphrase may use any ASCII character except #, $ and %: it has {shown}.", 400)
