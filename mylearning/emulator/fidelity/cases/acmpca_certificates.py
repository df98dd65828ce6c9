"""AWS Private CA fidelity cases: the certificates it issues are real ones.

Each certificate is checked as a TLS peer checks it: its chain verifies by X.509 path
validation (cryptography's verifier, the rules browsers apply), it is signed by the CA's
own key with the algorithm asked for, and it carries what its template defines
(https://docs.aws.amazon.com/privateca/latest/userguide/template-definitions.html).
"""
from __future__ import annotations

from typing import Any, Callable

from mylearning.emulator.fidelity.cases import OK, BehaviourMismatch, Case, Env
from mylearning.emulator.fidelity.cases.acmpca import (API, GUIDE, ISSUE, _shared_ca, active_ca, create_ca,
                                                        good_csr, issue)

TEMPLATES = GUIDE + "template-definitions.html"
ORDER = GUIDE + "template-order-of-operations.html"
GET = API + "API_GetCertificate.html"
IMPORT = API + "API_ImportCertificateAuthorityCertificate.html"
PREFIX = "arn:aws:acm-pca:::template/"
NAME = "catalog.mylearning.local"


def _pems(env: Env, ca: str, arn: str) -> tuple[Any, list]:
    from cryptography import x509

    got = env.client("acm-pca").get_certificate(CertificateAuthorityArn=ca, CertificateArn=arn)
    chain = x509.load_pem_x509_certificates(got["CertificateChain"].encode()) if got.get("CertificateChain") else []
    return x509.load_pem_x509_certificate(got["Certificate"].encode()), chain


def _issued(env: Env, ca: str, template: str | None = None, csr: bytes | None = None, **args: Any):
    if template:
        args["TemplateArn"] = PREFIX + template
    return _pems(env, ca, issue(env, ca, csr or good_csr(NAME, sans=(NAME,)), **args))


def _verify(leaf: Any, chain: list, client: bool = False) -> None:
    """Path validation from the leaf through `chain` to its last certificate, the root."""
    from cryptography.x509.verification import DNSName, PolicyBuilder, Store, VerificationError

    builder = PolicyBuilder().store(Store([chain[-1]]))
    verifier = builder.build_client_verifier() if client else builder.build_server_verifier(DNSName(NAME))
    try:
        verifier.verify(leaf, chain[:-1])
    except VerificationError as exc:
        raise BehaviourMismatch(f"the issued certificate's chain does not verify: {exc}") from None


def _extension(certificate: Any, kind: Any) -> Any:
    from cryptography import x509

    try:
        return certificate.extensions.get_extension_for_class(kind)
    except x509.ExtensionNotFound:
        return None


def _chain_verifies(env: Env) -> Any:
    leaf, chain = _issued(env, _shared_ca(env))
    if len(chain) != 1:
        raise BehaviourMismatch(f"a root CA's certificate has a chain of {len(chain)}, not the CA certificate")
    _verify(leaf, chain)


def _template(name: str, eku: tuple[str, ...]) -> Callable[[Env], Any]:
    """The template's Basic constraints, Key usage, Extended key usage, SAN, SKI and AKI."""
    def call(env: Env) -> Any:
        from cryptography import x509
        from cryptography.x509.oid import ExtendedKeyUsageOID as E

        leaf, chain = _issued(env, _shared_ca(env), name or None)
        wanted = {"serverAuth": E.SERVER_AUTH, "clientAuth": E.CLIENT_AUTH}
        basic, usage = _extension(leaf, x509.BasicConstraints), _extension(leaf, x509.KeyUsage)
        extended, san = _extension(leaf, x509.ExtendedKeyUsage), _extension(leaf, x509.SubjectAlternativeName)
        aki, ca_ski = _extension(leaf, x509.AuthorityKeyIdentifier), _extension(chain[0], x509.SubjectKeyIdentifier)
        problems = []
        if basic is None or basic.value.ca or basic.critical:
            problems.append(f"Basic constraints {basic and basic.value}, not CA:FALSE (non-critical)")
        if usage is None or not usage.critical or not (usage.value.digital_signature and usage.value.key_encipherment):
            problems.append(f"Key usage {usage and usage.value}, not critical digital signature, key encipherment")
        if extended is None or list(extended.value) != [wanted[e] for e in eku]:
            problems.append(f"Extended key usage {extended and list(extended.value)}, not {list(eku)}")
        if san is None or san.value.get_values_for_type(x509.DNSName) != [NAME]:
            problems.append(f"Subject alternative name {san and san.value}, not the CSR's {NAME}")
        if aki is None or ca_ski is None or aki.value.key_identifier != ca_ski.value.digest:
            problems.append("Authority key identifier is not the CA certificate's SKI")
        if _extension(leaf, x509.SubjectKeyIdentifier) is None:
            problems.append("no Subject key identifier")
        if problems:
            raise BehaviourMismatch(f"{name or 'default template'}: " + "; ".join(problems))
        _verify(leaf, chain, client=eku == ("clientAuth",))
    return call


def _ecdsa_sha384(env: Env) -> Any:
    from cryptography.hazmat.primitives.asymmetric import ec

    ca = _shared_ca(env)
    leaf, chain = _issued(env, ca, signing="SHA384WITHECDSA")
    if leaf.signature_hash_algorithm.name != "sha384" or not isinstance(chain[0].public_key(), ec.EllipticCurvePublicKey):
        raise BehaviourMismatch(f"SHA384WITHECDSA from an EC_prime256v1 CA: signed with "
                                f"{leaf.signature_algorithm_oid._name} by a {type(chain[0].public_key()).__name__}")
    leaf.verify_directly_issued_by(chain[0])


def _csr_extensions(template: str, copied: bool) -> Callable[[Env], Any]:
    """A CSR's other extensions reach the certificate only through a CSRPassthrough template,
    and never over the template's own (its Extended key usage stays the template's)."""
    def call(env: Env) -> Any:
        from cryptography import x509
        from cryptography.x509.oid import ExtendedKeyUsageOID as E

        csr = good_csr(NAME, sans=(NAME,), extensions=(
            (x509.OCSPNoCheck(), False), (x509.ExtendedKeyUsage([E.CODE_SIGNING]), False)))
        leaf, _ = _issued(env, _shared_ca(env), template, csr)
        has = _extension(leaf, x509.OCSPNoCheck) is not None
        eku = list(_extension(leaf, x509.ExtendedKeyUsage).value)
        if has != copied or eku != [E.SERVER_AUTH]:
            raise BehaviourMismatch(f"{template}: the CSR's OCSP no-check extension "
                                    f"{'was' if has else 'was not'} copied; Extended key usage {eku}")
    return call


def _api_passthrough_san(env: Env) -> Any:
    from cryptography import x509

    passthrough = {"Extensions": {"SubjectAlternativeNames": [{"DnsName": "api.mylearning.local"}]}}
    leaf, chain = _issued(env, _shared_ca(env), "EndEntityCertificate_APIPassthrough/V1",
                          ApiPassthrough=passthrough)
    names = _extension(leaf, x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
    if names != ["api.mylearning.local"]:
        raise BehaviourMismatch(f"ApiPassthrough SANs through an APIPassthrough template: {names}")


def _subordinate_chain(env: Env) -> Any:
    """root -> subordinate (SubordinateCACertificate_PathLen0/V1, imported with its chain) -> leaf."""
    from cryptography import x509

    pca, root = env.client("acm-pca"), active_ca(env)
    sub = create_ca(env, kind="SUBORDINATE")
    csr = pca.get_certificate_authority_csr(CertificateAuthorityArn=sub)["Csr"]
    arn = issue(env, root, csr.encode(), TemplateArn=PREFIX + "SubordinateCACertificate_PathLen0/V1",
                validity={"Value": 5, "Type": "YEARS"})
    sub_cert, sub_chain = _pems(env, root, arn)
    basic = _extension(sub_cert, x509.BasicConstraints).value
    if not basic.ca or basic.path_length != 0:
        raise BehaviourMismatch(f"SubordinateCACertificate_PathLen0/V1: Basic constraints {basic}")
    got = pca.get_certificate(CertificateAuthorityArn=root, CertificateArn=arn)
    pca.import_certificate_authority_certificate(CertificateAuthorityArn=sub, Certificate=got["Certificate"],
                                                 CertificateChain=got["CertificateChain"])
    leaf, chain = _issued(env, sub)
    if [c.subject for c in chain] != [sub_cert.subject, sub_chain[0].subject]:
        raise BehaviourMismatch(f"a subordinate CA's certificate chain: {[c.subject.rfc4514_string() for c in chain]}")
    _verify(leaf, chain)


def _certificate_for_another_key(env: Env) -> Any:
    """A self-signed certificate for a key that is not the CA's."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    ca, key = create_ca(env), ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "mylearning.local")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now)
                   .not_valid_after(now + datetime.timedelta(days=365))
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .sign(key, hashes.SHA256()))
    return env.client("acm-pca").import_certificate_authority_certificate(
        CertificateAuthorityArn=ca, Certificate=certificate.public_bytes(serialization.Encoding.PEM))


def _root_certificate_self_signed(env: Env) -> Any:
    pca, ca = env.client("acm-pca"), active_ca(env)
    from cryptography import x509

    pem = pca.get_certificate_authority_certificate(CertificateAuthorityArn=ca)["Certificate"]
    root = x509.load_pem_x509_certificate(pem.encode())
    root.verify_directly_issued_by(root)
    if _extension(root, x509.AuthorityKeyIdentifier) is not None:
        raise BehaviourMismatch("RootCACertificate/V1 defines no Authority key identifier")


def _case(id: str, call: Callable[[Env], Any], expect: str = OK, doc: str = TEMPLATES,
          kind: str = "behaviour") -> Case:
    return Case(f"acmpca.{id}", "acm-pca", call, expect, doc, kind)


CASES = [
    _case("certificate.chain-verifies", _chain_verifies, doc=GET),
    _case("certificate.root-self-signed", _root_certificate_self_signed, doc=GUIDE + "PCACertInstall.html"),
    _case("certificate.default-template", _template("", ("serverAuth", "clientAuth")), doc=ISSUE),
    _case("certificate.server-auth-template", _template("EndEntityServerAuthCertificate/V1", ("serverAuth",))),
    _case("certificate.client-auth-template", _template("EndEntityClientAuthCertificate/V1", ("clientAuth",))),
    _case("certificate.signed-with-the-requested-algorithm", _ecdsa_sha384, doc=ISSUE),
    _case("certificate.base-template-drops-csr-extensions",
          _csr_extensions("EndEntityServerAuthCertificate/V1", copied=False), doc=ORDER),
    _case("certificate.csr-passthrough-copies-csr-extensions",
          _csr_extensions("EndEntityServerAuthCertificate_CSRPassthrough/V1", copied=True), doc=ORDER),
    _case("certificate.api-passthrough-sans", _api_passthrough_san, doc=ORDER),
    _case("certificate.subordinate-ca-chain", _subordinate_chain, doc=GET),
    _case("import.certificate-for-another-key", _certificate_for_another_key, "CertificateMismatchException",
          IMPORT, "validation"),
]
