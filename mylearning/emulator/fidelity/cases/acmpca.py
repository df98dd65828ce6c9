"""AWS Private CA fidelity cases: a private CA for mTLS, from PENDING_CERTIFICATE to ACTIVE.

CSRs, CA states, signing algorithms against key algorithms, validity limits, CA
certificate imports and certificate retrieval, each refusal beside a call AWS accepts.
"""
from __future__ import annotations

import datetime
from typing import Any, Callable

from mylearning.emulator.fidelity.cases import OK, BehaviourMismatch, Case, Env

API = "https://docs.aws.amazon.com/privateca/latest/APIReference/"
GUIDE = "https://docs.aws.amazon.com/privateca/latest/userguide/"
ISSUE, CREATE = API + "API_IssueCertificate.html", API + "API_CreateCertificateAuthority.html"
ROOT_TEMPLATE = "arn:aws:acm-pca:::template/RootCACertificate/V1"
INVALID_STATE, INVALID_ARGS = "InvalidStateException", "InvalidArgsException"
EC = ("EC_prime256v1", "SHA256WITHECDSA")
RSA = ("RSA_2048", "SHA256WITHRSA")


def create_ca(env: Env, algorithms: tuple[str, str] = EC, kind: str = "ROOT") -> str:
    key, signing = algorithms
    return env.client("acm-pca").create_certificate_authority(
        CertificateAuthorityType=kind,
        CertificateAuthorityConfiguration={"KeyAlgorithm": key, "SigningAlgorithm": signing,
                                           "Subject": {"CommonName": "mylearning.local"}}
    )["CertificateAuthorityArn"]


def install_root_certificate(env: Env, ca: str, signing: str = EC[1],
                             validity: dict | None = None) -> str:
    """The root CA's own certificate, issued from its CSR and imported: the CA is then ACTIVE."""
    pca = env.client("acm-pca")
    csr = pca.get_certificate_authority_csr(CertificateAuthorityArn=ca)["Csr"]
    arn = pca.issue_certificate(CertificateAuthorityArn=ca, Csr=csr, SigningAlgorithm=signing,
                                TemplateArn=ROOT_TEMPLATE,
                                Validity=validity or {"Value": 10, "Type": "YEARS"})["CertificateArn"]
    pca.get_waiter("certificate_issued").wait(CertificateAuthorityArn=ca, CertificateArn=arn,
                                              WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    certificate = pca.get_certificate(CertificateAuthorityArn=ca, CertificateArn=arn)["Certificate"]
    pca.import_certificate_authority_certificate(CertificateAuthorityArn=ca, Certificate=certificate)
    return certificate


def active_ca(env: Env, algorithms: tuple[str, str] = EC, validity: dict | None = None) -> str:
    ca = create_ca(env, algorithms)
    install_root_certificate(env, ca, algorithms[1], validity)
    return ca


def _shared_ca(env: Env) -> str:
    if not hasattr(env, "_acmpca_ca"):
        env._acmpca_ca = active_ca(env)
    return env._acmpca_ca


def good_csr(common_name: str = "catalog.mylearning.local", sans: tuple[str, ...] = (),
             extensions: tuple = ()) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in sans]), False)
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def issue(env: Env, ca: str, csr: bytes | None = None, signing: str = EC[1],
          validity: dict | None = None, **args: Any) -> str:
    return env.client("acm-pca").issue_certificate(
        CertificateAuthorityArn=ca, Csr=csr or good_csr(), SigningAlgorithm=signing,
        Validity=validity or {"Value": 30, "Type": "DAYS"}, **args)["CertificateArn"]


def _issue_csr(csr: Callable[[], bytes]) -> Callable[[Env], Any]:
    return lambda env: issue(env, _shared_ca(env), csr())


def _truncated() -> bytes:
    pem = good_csr()
    return pem[: len(pem) // 2] + b"\n-----END CERTIFICATE REQUEST-----\n"


# ---------------------------------------------------------------- CA states

def _issue_from_pending(env: Env) -> Any:
    return issue(env, create_ca(env))


def _root_certificate_while_pending(env: Env) -> Any:
    install_root_certificate(env, create_ca(env))


def _root_template_from_pending_subordinate(env: Env) -> Any:
    pca, sub = env.client("acm-pca"), create_ca(env, kind="SUBORDINATE")
    csr = pca.get_certificate_authority_csr(CertificateAuthorityArn=sub)["Csr"]
    return issue(env, sub, csr.encode(), TemplateArn=ROOT_TEMPLATE,
                 validity={"Value": 5, "Type": "YEARS"})


def _disabled(action: Callable[[Env, str], Any]) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        ca = active_ca(env)
        env.client("acm-pca").update_certificate_authority(CertificateAuthorityArn=ca, Status="DISABLED")
        return action(env, ca)
    return call


def _delete(state: str) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        pca = env.client("acm-pca")
        ca = create_ca(env) if state == "PENDING_CERTIFICATE" else active_ca(env)
        if state == "DISABLED":
            pca.update_certificate_authority(CertificateAuthorityArn=ca, Status="DISABLED")
        return pca.delete_certificate_authority(CertificateAuthorityArn=ca, PermanentDeletionTimeInDays=7)
    return call


def _update(state: str, to: str) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        ca = create_ca(env) if state == "PENDING_CERTIFICATE" else active_ca(env)
        return env.client("acm-pca").update_certificate_authority(CertificateAuthorityArn=ca, Status=to)
    return call


# ---------------------------------------------------------------- algorithms and validity

def _create(algorithms: tuple[str, str]) -> Callable[[Env], Any]:
    return lambda env: create_ca(env, algorithms)


def _issue_signed_with(signing: str, algorithms: tuple[str, str] = EC) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        ca = _shared_ca(env) if algorithms == EC else active_ca(env, algorithms)
        return issue(env, ca, signing=signing)
    return call


def _issue_for(years: int, ca_years: int) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        ca = active_ca(env, validity={"Value": ca_years, "Type": "YEARS"})
        return issue(env, ca, validity={"Value": years, "Type": "YEARS"})
    return call


def _validity_honoured(env: Env) -> Any:
    from cryptography import x509

    pca, ca = env.client("acm-pca"), _shared_ca(env)
    end = datetime.datetime(2031, 6, 30, 12, 0, tzinfo=datetime.timezone.utc)
    arn = issue(env, ca, validity={"Value": int(end.timestamp()), "Type": "ABSOLUTE"})
    pem = pca.get_certificate(CertificateAuthorityArn=ca, CertificateArn=arn)["Certificate"]
    got = x509.load_pem_x509_certificate(pem.encode()).not_valid_after_utc
    if got != end:
        raise BehaviourMismatch(f"Validity ABSOLUTE {end:%Y-%m-%d %H:%M}: certificate ends {got}")


def _default_usage_mode(env: Env) -> Any:
    ca = create_ca(env)
    mode = env.client("acm-pca").describe_certificate_authority(
        CertificateAuthorityArn=ca)["CertificateAuthority"].get("UsageMode")
    if mode != "GENERAL_PURPOSE":
        raise BehaviourMismatch(f"UsageMode {mode!r} for a CA created without one")


# ---------------------------------------------------------------- CA certificates and certificates

def _import(certificate: Callable[[Env, str], bytes]) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        ca = create_ca(env)
        return env.client("acm-pca").import_certificate_authority_certificate(
            CertificateAuthorityArn=ca, Certificate=certificate(env, ca))
    return call


def _own_certificate(env: Env, ca: str) -> bytes:
    pca = env.client("acm-pca")
    csr = pca.get_certificate_authority_csr(CertificateAuthorityArn=ca)["Csr"]
    arn = issue(env, ca, csr.encode(), TemplateArn=ROOT_TEMPLATE, validity={"Value": 5, "Type": "YEARS"})
    return pca.get_certificate(CertificateAuthorityArn=ca, CertificateArn=arn)["Certificate"].encode()


def _get_unknown_certificate(env: Env) -> Any:
    ca = _shared_ca(env)
    return env.client("acm-pca").get_certificate(
        CertificateAuthorityArn=ca, CertificateArn=f"{ca}/certificate/0123456789abcdef0123456789abcdef")


def _get_revoked_certificate(env: Env) -> Any:
    from cryptography import x509

    pca, ca = env.client("acm-pca"), _shared_ca(env)
    arn = issue(env, ca)
    pem = pca.get_certificate(CertificateAuthorityArn=ca, CertificateArn=arn)["Certificate"]
    digits = format(x509.load_pem_x509_certificate(pem.encode()).serial_number, "X")
    digits = digits.zfill(len(digits) + len(digits) % 2)
    serial = ":".join(digits[i:i + 2] for i in range(0, len(digits), 2))  # as openssl shows it
    pca.revoke_certificate(CertificateAuthorityArn=ca, CertificateSerial=serial, RevocationReason="SUPERSEDED")
    return pca.get_certificate(CertificateAuthorityArn=ca, CertificateArn=arn)


def _case(id: str, call: Callable[[Env], Any], expect: str, doc: str = ISSUE,
          kind: str = "validation") -> Case:
    return Case(f"acmpca.{id}", "acm-pca", call, expect, doc, kind)


CASES = [
    _case("issue.not-a-csr", _issue_csr(lambda: b"hello, certificate authority"), "MalformedCSRException"),
    _case("issue.truncated-csr", _issue_csr(_truncated), "MalformedCSRException"),
    _case("issue.certificate-instead-of-csr", _issue_csr(lambda: b"-----BEGIN CERTIFICATE-----\nMIIB\n"
                                                                 b"-----END CERTIFICATE-----\n"),
          "MalformedCSRException"),
    _case("issue.valid-csr", _issue_csr(good_csr), OK),
    # CA states
    _case("issue.pending-ca-end-entity", _issue_from_pending, INVALID_STATE),
    _case("issue.valid-pending-root-own-certificate", _root_certificate_while_pending, OK,
          GUIDE + "PCACertInstall.html"),
    _case("issue.pending-subordinate-root-template", _root_template_from_pending_subordinate, INVALID_STATE),
    _case("issue.disabled-ca", _disabled(lambda env, ca: issue(env, ca)), INVALID_STATE),
    _case("issue.valid-after-reenabling", _disabled(lambda env, ca: (
        env.client("acm-pca").update_certificate_authority(CertificateAuthorityArn=ca, Status="ACTIVE"),
        issue(env, ca))), OK),
    _case("delete.active-ca", _delete("ACTIVE"), INVALID_STATE, API + "API_DeleteCertificateAuthority.html"),
    _case("delete.valid-disabled-ca", _delete("DISABLED"), OK, API + "API_DeleteCertificateAuthority.html"),
    _case("delete.valid-pending-ca", _delete("PENDING_CERTIFICATE"), OK,
          API + "API_DeleteCertificateAuthority.html"),
    _case("update.pending-ca-to-active", _update("PENDING_CERTIFICATE", "ACTIVE"), INVALID_STATE,
          API + "API_UpdateCertificateAuthority.html"),
    _case("update.valid-active-to-disabled", _update("ACTIVE", "DISABLED"), OK,
          API + "API_UpdateCertificateAuthority.html"),
    # algorithms
    _case("create.rsa-key-ecdsa-signing", _create(("RSA_2048", "SHA256WITHECDSA")), INVALID_ARGS,
          GUIDE + "supported-algorithms.html"),
    _case("create.ec-key-rsa-signing", _create(("EC_prime256v1", "SHA256WITHRSA")), INVALID_ARGS,
          GUIDE + "supported-algorithms.html"),
    _case("create.valid-rsa-4096-sha512", _create(("RSA_4096", "SHA512WITHRSA")), OK,
          GUIDE + "supported-algorithms.html"),
    _case("create.valid-ec-384-sha384", _create(("EC_secp384r1", "SHA384WITHECDSA")), OK,
          GUIDE + "supported-algorithms.html"),
    _case("issue.rsa-signing-from-ec-ca", _issue_signed_with("SHA256WITHRSA"), INVALID_ARGS),
    _case("issue.valid-sha384-ecdsa-from-ec-ca", _issue_signed_with("SHA384WITHECDSA"), OK),
    _case("issue.ecdsa-signing-from-rsa-ca", _issue_signed_with("SHA256WITHECDSA", RSA), INVALID_ARGS),
    _case("issue.valid-rsa-pss-from-rsa-ca", _issue_signed_with("SHA256WITHRSA_PSS", RSA), OK),
    # validity
    _case("issue.validity-beyond-ca-certificate", _issue_for(years=2, ca_years=1), "ValidationException"),
    _case("issue.valid-validity-within-ca-certificate", _issue_for(years=2, ca_years=10), OK),
    _case("issue.validity-honoured", _validity_honoured, OK, ISSUE, "behaviour"),
    _case("create.default-usage-mode", _default_usage_mode, OK, CREATE, "behaviour"),
    # CA certificates and certificates
    _case("import.not-pem", _import(lambda env, ca: b"not a certificate"), "MalformedCertificateException",
          API + "API_ImportCertificateAuthorityCertificate.html"),
    _case("import.valid-own-root-certificate", _import(_own_certificate), OK,
          API + "API_ImportCertificateAuthorityCertificate.html"),
    _case("get.unknown-certificate", _get_unknown_certificate, "ResourceNotFoundException",
          API + "API_GetCertificate.html"),
    _case("get.valid-revoked-certificate", _get_revoked_certificate, OK, API + "API_GetCertificate.html"),
]
