"""ACM fidelity cases: private certificates signed by a private CA, retrieved and exported.

Each certificate is checked as App Mesh's Envoy would use it: its chain verifies to the
CA, it names the requested domains, and its exported key (decrypted with the passphrase)
is the key the certificate certifies. Each refusal sits beside a call AWS accepts.
"""
from __future__ import annotations

from typing import Any, Callable

from mylearning.emulator.fidelity.cases import OK, BehaviourMismatch, Case, Env
from mylearning.emulator.fidelity.cases.acmpca import EC, RSA, active_ca, create_ca

API = "https://docs.aws.amazon.com/acm/latest/APIReference/"
GUIDE = "https://docs.aws.amazon.com/acm/latest/userguide/"
REQUEST, EXPORT, GET = API + "API_RequestCertificate.html", API + "API_ExportCertificate.html", API + "API_GetCertificate.html"
PRIVATE, FAILURES = GUIDE + "private-certificates.title.html", GUIDE + "exceptions.html"
DOMAIN, OTHER = "courses.mylearning.local", "courses-api.mylearning.local"
PASSPHRASE = b"correct horse battery staple"


def _ca(env: Env) -> str:
    if not hasattr(env, "_acm_ca"):
        env._acm_ca = active_ca(env, EC)
    return env._acm_ca


def request(env: Env, ca: str, key: str = "EC_prime256v1", **args: Any) -> str:
    return env.client("acm").request_certificate(DomainName=DOMAIN, SubjectAlternativeNames=[DOMAIN, OTHER],
                                                 CertificateAuthorityArn=ca, KeyAlgorithm=key, **args)["CertificateArn"]


def _describe(env: Env, arn: str) -> dict:
    return env.client("acm").describe_certificate(CertificateArn=arn)["Certificate"]


def _issued(env: Env) -> Any:
    ca = _ca(env)
    detail = _describe(env, request(env, ca))
    wanted = {"Status": "ISSUED", "Type": "PRIVATE", "CertificateAuthorityArn": ca, "DomainName": DOMAIN,
              "SubjectAlternativeNames": [DOMAIN, OTHER], "RenewalEligibility": "INELIGIBLE",
              "KeyAlgorithm": "EC_prime256v1"}
    wrong = {k: detail.get(k) for k, v in wanted.items() if detail.get(k) != v}
    usages = {u["Name"] for u in detail.get("ExtendedKeyUsages", [])}
    if wrong or usages != {"TLS_WEB_SERVER_AUTHENTICATION", "TLS_WEB_CLIENT_AUTHENTICATION"}:
        raise BehaviourMismatch(f"a private certificate from an ACTIVE CA: {wrong}, extended key usages {usages}")


def _verify(certificate_pem: str, chain_pem: str, root_pem: str) -> Any:
    from cryptography import x509
    from cryptography.x509.verification import DNSName, PolicyBuilder, Store, VerificationError

    leaf = x509.load_pem_x509_certificate(certificate_pem.encode())
    chain = x509.load_pem_x509_certificates(chain_pem.encode())
    root = x509.load_pem_x509_certificate(root_pem.encode())
    try:
        for name in (DOMAIN, OTHER):
            PolicyBuilder().store(Store([root])).build_server_verifier(DNSName(name)).verify(leaf, chain[:-1])
    except VerificationError as exc:
        raise BehaviourMismatch(f"the private certificate does not verify to its CA: {exc}") from None
    if chain[-1] != root:
        raise BehaviourMismatch("the certificate chain does not end at the CA certificate")
    return leaf


def _root(env: Env, ca: str) -> str:
    return env.client("acm-pca").get_certificate_authority_certificate(CertificateAuthorityArn=ca)["Certificate"]


def _chain_verifies(env: Env) -> Any:
    ca = _ca(env)
    got = env.client("acm").get_certificate(CertificateArn=request(env, ca))
    _verify(got["Certificate"], got["CertificateChain"], _root(env, ca))


def _export(env: Env) -> Any:
    from cryptography.hazmat.primitives import serialization

    ca = _ca(env)
    arn = request(env, ca)
    got = env.client("acm").export_certificate(CertificateArn=arn, Passphrase=PASSPHRASE)
    leaf = _verify(got["Certificate"], got["CertificateChain"], _root(env, ca))
    if "BEGIN ENCRYPTED PRIVATE KEY" not in got["PrivateKey"]:
        raise BehaviourMismatch("the exported private key is not an encrypted PKCS #8 key")
    key = serialization.load_pem_private_key(got["PrivateKey"].encode(), password=PASSPHRASE)
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(serialization.Encoding.DER, spki) != \
            leaf.public_key().public_bytes(serialization.Encoding.DER, spki):
        raise BehaviourMismatch("the exported private key is not the certificate's key")
    eligibility = _describe(env, arn).get("RenewalEligibility")
    if eligibility != "ELIGIBLE":
        raise BehaviourMismatch(f"an exported private certificate's RenewalEligibility is {eligibility}")


def _fails(reason: str, ca: Callable[[Env], str], key: str = "EC_prime256v1") -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        detail = _describe(env, request(env, ca(env), key))
        got = (detail.get("Status"), detail.get("FailureReason"))
        if got != ("FAILED", reason):
            raise BehaviourMismatch(f"expected FAILED with {reason}, got {got}")
    return call


def _failed_certificate(action: str) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        acm, arn = env.client("acm"), request(env, create_ca(env))  # a CA still PENDING_CERTIFICATE
        if action == "export":
            return acm.export_certificate(CertificateArn=arn, Passphrase=PASSPHRASE)
        return acm.get_certificate(CertificateArn=arn)
    return call


def _export_amazon_issued(env: Env) -> Any:
    acm = env.client("acm")
    arn = acm.request_certificate(DomainName="www.mylearning.example", ValidationMethod="DNS")["CertificateArn"]
    return acm.export_certificate(CertificateArn=arn, Passphrase=PASSPHRASE)


def _export_with(passphrase: bytes) -> Callable[[Env], Any]:
    return lambda env: env.client("acm").export_certificate(CertificateArn=request(env, _ca(env)),
                                                           Passphrase=passphrase)


def _issued_rsa(env: Env) -> Any:
    detail = _describe(env, request(env, active_ca(env, RSA), "RSA_2048"))
    if (detail.get("Status"), detail.get("KeyAlgorithm")) != ("ISSUED", "RSA_2048"):
        raise BehaviourMismatch(f"an RSA_2048 certificate from an RSA CA: {detail.get('Status')}, "
                                f"{detail.get('KeyAlgorithm')}, {detail.get('FailureReason')}")


def _case(id: str, call: Callable[[Env], Any], expect: str = OK, doc: str = REQUEST,
          kind: str = "behaviour") -> Case:
    return Case(f"acm.{id}", "acm", call, expect, doc, kind)


CASES = [
    _case("request.private-issued-by-the-ca", _issued),
    _case("request.private-chain-verifies", _chain_verifies, doc=GET),
    _case("request.private-from-a-pending-ca-fails", _fails("PCA_INVALID_STATE", create_ca), doc=FAILURES),
    _case("request.private-rsa-key-from-an-ec-ca-fails", _fails("PCA_INVALID_ARGS", _ca, "RSA_2048"), doc=PRIVATE),
    _case("request.private-rsa-key-from-an-rsa-ca", _issued_rsa, doc=PRIVATE),
    _case("request.private-beyond-the-ca-certificate-fails",
          _fails("PCA_INVALID_DURATION", lambda env: active_ca(env, EC, {"Value": 1, "Type": "YEARS"})), doc=PRIVATE),
    _case("export.private-with-passphrase", _export, doc=EXPORT),
    _case("export.amazon-issued-not-exportable", _export_amazon_issued, "ValidationException", EXPORT, "validation"),
    _case("export.failed-request", _failed_certificate("export"), "RequestInProgressException", EXPORT, "validation"),
    _case("get.failed-request", _failed_certificate("get"), "RequestInProgressException", GET, "validation"),
    _case("export.passphrase-with-dollar", _export_with(b"pa$$word"), "ValidationException", EXPORT, "validation"),
    _case("export.valid-passphrase-with-punctuation", _export_with(b"pass-word!&*"), OK, EXPORT, "validation"),
]

