"""AWS Private CA fidelity cases: IssueCertificate with good and bad CSRs."""
from __future__ import annotations

from typing import Any, Callable

from mylearning.emulator.fidelity.cases import OK, Case, Env

API = "https://docs.aws.amazon.com/privateca/latest/APIReference/"


def _ca(env: Env) -> str:
    if not hasattr(env, "_acmpca_ca"):
        env._acmpca_ca = env.client("acm-pca").create_certificate_authority(
            CertificateAuthorityType="ROOT",
            CertificateAuthorityConfiguration={
                "KeyAlgorithm": "EC_prime256v1", "SigningAlgorithm": "SHA256WITHECDSA",
                "Subject": {"CommonName": "mylearning.local"}})["CertificateAuthorityArn"]
    return env._acmpca_ca


def good_csr(common_name: str = "catalog.mylearning.local") -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    csr = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])).sign(key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM)


def _issue(csr: Callable[[], bytes]) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        return env.client("acm-pca").issue_certificate(
            CertificateAuthorityArn=_ca(env), Csr=csr(), SigningAlgorithm="SHA256WITHECDSA",
            Validity={"Value": 30, "Type": "DAYS"})
    return call


def _truncated() -> bytes:
    pem = good_csr()
    return pem[: len(pem) // 2] + b"\n-----END CERTIFICATE REQUEST-----\n"


def _case(id: str, call: Callable[[Env], Any], expect: str) -> Case:
    return Case(f"acmpca.{id}", "acm-pca", call, expect, API + "API_IssueCertificate.html")


CASES = [
    _case("issue.not-a-csr", _issue(lambda: b"hello, certificate authority"), "MalformedCSRException"),
    _case("issue.truncated-csr", _issue(_truncated), "MalformedCSRException"),
    _case("issue.certificate-instead-of-csr", _issue(lambda: b"-----BEGIN CERTIFICATE-----\nMIIB\n"
                                                             b"-----END CERTIFICATE-----\n"),
          "MalformedCSRException"),
    _case("issue.valid-csr", _issue(good_csr), OK),
]
