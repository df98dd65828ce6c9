"""ACM private certificates: issued by the private CA the request names, as AWS does.

What AWS documents, and what this does:

* "If you are requesting a private certificate, domain validation is not required"
  (API_RequestCertificate.html): the certificate is ISSUED at once, signed by the CA's own
  key (``acmpca.issuing``, the EndEntityCertificate/V1 template: server and client
  authentication), for a fresh key of the request's KeyAlgorithm (default RSA_2048), with
  the DomainName as its subject's CN and the DomainName and SubjectAlternativeNames as its
  SANs. "Each certificate is valid for 13 months (395 days)"; it chains to the CA.
* The request fails when the CA can't issue it; the certificate's status is then FAILED
  with the failure reason ACM's exception table gives
  (https://docs.aws.amazon.com/acm/latest/userguide/exceptions.html): PCA_INVALID_STATE
  when "The CA must have a status of Active" is not met, PCA_INVALID_DURATION when "The
  end date of the signing CA certificate must exceed the end date of the requested
  certificate" is not, PCA_INVALID_ARGS when "the specified signing algorithm family (RSA
  or ECDSA) must match the algorithm family of the CA's secret key" is not
  (https://docs.aws.amazon.com/acm/latest/userguide/private-certificates.title.html), and
  PCA_RESOURCE_NOT_FOUND when there is no such CA.
* DescribeCertificate shows Type PRIVATE, the CertificateAuthorityArn, the certificate's
  KeyUsages and ExtendedKeyUsages (API_CertificateDetail.html) and its RenewalEligibility:
  a private certificate requested through ACM is "ELIGIBLE if ... then exported or
  associated with another AWS service", INELIGIBLE before
  (https://docs.aws.amazon.com/acm/latest/userguide/managed-renewal.html).
* ExportCertificate gives "the certificate, the certificate chain, and the encrypted private
  key", "in PKCS #8 format" (API_ExportCertificate.html); moto's export already encrypts
  the key with the passphrase, and only a private (or export-enabled) certificate exports.
"""
from __future__ import annotations

import datetime
import json
import threading
from typing import Any

from mylearning.emulator.fidelity.core import moto_backend, moto_fixes
from mylearning.facts.pca import ACM_PRIVATE_CERTIFICATE_DAYS, template

SERVICE = "acm"
#: The RequestCertificate parameters of the request this thread is answering.
_REQUESTING = threading.local()
#: PCA's default "Not Before", the issuance time minus 60 minutes (PCA API_IssueCertificate.html).
NOT_BEFORE_MARGIN = datetime.timedelta(minutes=60)

#: X.509 key usage bits (cryptography's names) -> ACM's KeyUsage names (API_KeyUsage.html).
KEY_USAGE_NAMES = {"digital_signature": "DIGITAL_SIGNATURE", "content_commitment": "NON_REPUDIATION",
                   "key_encipherment": "KEY_ENCIPHERMENT", "data_encipherment": "DATA_ENCIPHERMENT",
                   "key_agreement": "KEY_AGREEMENT", "key_cert_sign": "CERTIFICATE_SIGNING",
                   "crl_sign": "CRL_SIGNING"}
#: Extended key usage OIDs -> ACM's ExtendedKeyUsage names (API_ExtendedKeyUsage.html).
EKU_NAMES = {"1.3.6.1.5.5.7.3.1": "TLS_WEB_SERVER_AUTHENTICATION", "1.3.6.1.5.5.7.3.2": "TLS_WEB_CLIENT_AUTHENTICATION",
             "1.3.6.1.5.5.7.3.3": "CODE_SIGNING", "1.3.6.1.5.5.7.3.4": "EMAIL_PROTECTION",
             "1.3.6.1.5.5.7.3.8": "TIME_STAMPING", "1.3.6.1.5.5.7.3.9": "OCSP_SIGNING",
             "1.3.6.1.5.5.7.3.5": "IPSEC_END_SYSTEM", "1.3.6.1.5.5.7.3.6": "IPSEC_TUNNEL",
             "1.3.6.1.5.5.7.3.7": "IPSEC_USER", "2.5.29.37.0": "ANY"}
#: RequestCertificate's KeyAlgorithm default (API_RequestCertificate.html).
DEFAULT_KEY_ALGORITHM = "RSA_2048"


def _authority(account: str, region: str, arn: str) -> Any:
    from moto.acmpca.models import acmpca_backends

    try:
        return acmpca_backends[account][region].certificate_authorities.get(arn)
    except Exception:
        return None


def failure(authority: Any, key_algorithm: str, not_after: datetime.datetime) -> str | None:
    """The FailureReason of a request the CA can't issue, or None when it can."""
    from mylearning.emulator.fidelity.acmpca.access import key_algorithm as ca_key_algorithm
    from mylearning.emulator.fidelity.acmpca.access import key_family, not_after as ca_not_after

    if authority is None or authority.status == "DELETED":
        return "PCA_RESOURCE_NOT_FOUND"
    if authority.status != "ACTIVE":
        return "PCA_INVALID_STATE"
    if key_family(key_algorithm) != key_family(ca_key_algorithm(authority)):
        return "PCA_INVALID_ARGS"
    end = ca_not_after(authority)
    if end is None or end < not_after:
        return "PCA_INVALID_DURATION"
    return None


def _names(domain_name: str, sans: list[str] | None) -> list[str]:
    """The DomainName first, then the other SANs in the order asked, each once."""
    names: list[str] = []
    for name in [domain_name, *(sans or [])]:
        if name and name not in names:
            names.append(name)
    return names


def _issue(authority: Any, names: list[str], key_algorithm: str, now: datetime.datetime,
           not_after: datetime.datetime) -> tuple[bytes, bytes, bytes]:
    """(certificate, private key, chain) PEMs: a new key, signed by the CA."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import NameOID

    from mylearning.emulator.fidelity.acmpca import issuing, keys

    key = keys.generate(key_algorithm)
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
           .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
           .sign(key, hashes.SHA256()))
    certificate = issuing.issue(authority, csr, template(None), signing_algorithm=issuing.ca_signing_algorithm(authority),
                                not_before=now - NOT_BEFORE_MARGIN, not_after=not_after)
    private_key = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    return certificate, private_key, issuing.chain_pem(authority)


def _fix_private_certificates() -> None:
    from moto.acm.models import AWSCertificateManagerBackend, CertBundle
    from moto.acm.responses import AWSCertificateManagerResponse

    respond = AWSCertificateManagerResponse.request_certificate
    request = AWSCertificateManagerBackend.request_certificate
    describe = CertBundle.describe
    export = AWSCertificateManagerBackend.export_certificate

    def request_certificate_response(self: Any) -> Any:
        try:
            _REQUESTING.params = json.loads(self.body or "{}")
        except (TypeError, ValueError):
            _REQUESTING.params = {}
        try:
            return respond(self)
        finally:
            _REQUESTING.params = None

    def request_certificate(self: Any, domain_name: str, idempotency_token: str, subject_alt_names: list[str],
                            tags: list[dict[str, str]], cert_authority_arn: str | None = None,
                            cert_options: dict[str, Any] | None = None) -> str:
        if cert_authority_arn is None:
            return request(self, domain_name, idempotency_token, subject_alt_names, tags,
                           cert_authority_arn, cert_options)
        if idempotency_token is not None:
            arn = self._get_arn_from_idempotency_token(idempotency_token)
            if arn and self._certificates[arn].tags.equals(tags):
                return arn
        params = getattr(_REQUESTING, "params", None) or {}
        key_algorithm = params.get("KeyAlgorithm") or DEFAULT_KEY_ALGORITHM
        now = datetime.datetime.now(datetime.timezone.utc)
        not_after = now + datetime.timedelta(days=ACM_PRIVATE_CERTIFICATE_DAYS)
        authority = _authority(self.account_id, self.region_name, cert_authority_arn)
        reason = failure(authority, key_algorithm, not_after)
        names = _names(domain_name, subject_alt_names)
        if reason is None:
            certificate, private_key, chain = _issue(authority, names, key_algorithm, now, not_after)
            bundle = CertBundle(self.account_id, certificate, private_key, region=self.region_name,
                                cert_type="PRIVATE", cert_status="ISSUED", cert_authority_arn=cert_authority_arn)
            bundle.chain = chain
        else:  # nothing was signed: moto's stand-in, never shown (see describe)
            bundle = CertBundle.generate_cert(domain_name, account_id=self.account_id, region=self.region_name,
                                              sans=subject_alt_names, cert_authority_arn=cert_authority_arn)
            bundle.status, bundle.sans = "FAILED", names
        bundle.failure_reason = reason
        bundle.key_algorithm = key_algorithm
        if idempotency_token is not None:
            self._set_idempotency_token_arn(idempotency_token, bundle.arn)
        self._certificates[bundle.arn] = bundle
        if cert_options:
            bundle.cert_options.update(cert_options)
        if tags:
            bundle.tags.add(tags)
        return bundle.arn

    def describe_certificate(self: Any) -> dict[str, Any]:
        result = describe(self)
        detail = result["Certificate"]
        if getattr(self, "failure_reason", None):
            for key in ("Serial", "Subject", "Issuer", "NotBefore", "NotAfter", "SignatureAlgorithm", "IssuedAt"):
                detail.pop(key, None)
            detail.update(FailureReason=self.failure_reason, KeyAlgorithm=self.key_algorithm,
                          SubjectAlternativeNames=self.sans)
            detail["KeyUsages"], detail["ExtendedKeyUsages"] = [], []
        else:
            detail["KeyUsages"], detail["ExtendedKeyUsages"] = _usages(self._cert)
            if self.type == "PRIVATE":
                detail["Subject"] = self._cert.subject.rfc4514_string()
        if self.type == "PRIVATE":
            in_use = bool(self.in_use_by) or getattr(self, "exported", False)
            detail["RenewalEligibility"] = "ELIGIBLE" if in_use and self.status == "ISSUED" else "INELIGIBLE"
        return result

    def export_certificate(self: Any, certificate_arn: str, passphrase: str) -> tuple[str, str, str]:
        exported = export(self, certificate_arn, passphrase)
        self._certificates[certificate_arn].exported = True
        return exported

    AWSCertificateManagerResponse.request_certificate = request_certificate_response
    AWSCertificateManagerBackend.request_certificate = request_certificate
    CertBundle.describe = describe_certificate
    AWSCertificateManagerBackend.export_certificate = export_certificate


def _usages(certificate: Any) -> tuple[list[dict], list[dict]]:
    """The certificate's KeyUsages and ExtendedKeyUsages, as DescribeCertificate names them."""
    from cryptography import x509

    key_usages: list[dict] = []
    extended: list[dict] = []
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
        key_usages = [{"Name": name} for bit, name in KEY_USAGE_NAMES.items() if getattr(usage, bit)]
    except x509.ExtensionNotFound:
        pass
    try:
        for oid in certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value:
            extended.append({"Name": EKU_NAMES.get(oid.dotted_string, "CUSTOM"), "OID": oid.dotted_string})
    except x509.ExtensionNotFound:
        pass
    return key_usages, extended


def certificate_bundle(region: str, arn: Any) -> Any:
    """moto's certificate for `arn`, or None."""
    if not isinstance(arn, str):
        return None
    try:
        return moto_backend("acm", region)._certificates.get(arn)
    except Exception:
        return None


moto_fixes(SERVICE, _fix_private_certificates)
