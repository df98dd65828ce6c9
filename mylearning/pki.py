"""Certificates you can read: a private CA of your own, service certificates, and why a chain verifies.

App Mesh takes its TLS certificates from ACM (issued by AWS Private CA) or from files on the
Envoy's file system, "issued by your own certificate authority"
(https://docs.aws.amazon.com/app-mesh/latest/userguide/tls.html). For the file-based path
the App Mesh mutual TLS walkthrough makes a root CA, a certificate and key per service whose
SAN is the service's discovery name, and a ``*_cert_chain.pem`` per service, "an ordered list
of the public certificates used to sign" (aws-app-mesh-examples,
walkthroughs/howto-mutual-tls-file-provided). This module does the same with `cryptography`:

>>> ca = create_ca("MyLearning Root CA")
>>> colorteller = ca.issue("colorteller.appmesh-mtls.local")        # SAN = its DNS name
>>> gateway = ca.issue("gateway.appmesh-mtls.local", usage="client")
>>> paths = colorteller.write("keys", "colorteller")                 # _cert.pem, _key.pem, _cert_chain.pem

Its certificates carry what AWS Private CA's templates put in theirs (``mylearning.facts.pca``:
``usage="server"`` is EndEntityServerAuthCertificate/V1, ``"client"`` EndEntityClientAuthCertificate/V1,
``"both"`` EndEntityCertificate/V1), so a file-based certificate and an ACM one read alike.

`inspect` shows any certificate (one of these, or the PEM text ACM and AWS Private CA
return) as a table, in a notebook or printed; `verify_chain` says whether a leaf verifies
through a chain to trusted roots, and if not, why, in words.
"""
from __future__ import annotations

import datetime
import html
import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence, Union

from mylearning.facts import pca

#: What the functions accept as a certificate: PEM text (str or bytes), a cryptography
#: certificate, or one of this module's Issued certificates.
CertificateLike = Union[str, bytes, Any]

USAGE_TEMPLATES = {"both": "EndEntityCertificate/V1", "server": "EndEntityServerAuthCertificate/V1",
                   "client": "EndEntityClientAuthCertificate/V1"}
_CURVES = {"EC_prime256v1": "SECP256R1", "EC_secp384r1": "SECP384R1"}
_NOT_BEFORE_MARGIN = datetime.timedelta(minutes=60)  # as AWS Private CA backdates (API_IssueCertificate.html)


# ---------------------------------------------------------------- making certificates

def _new_key(algorithm: str) -> Any:
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    if algorithm in _CURVES:
        return ec.generate_private_key(getattr(ec, _CURVES[algorithm])())
    if algorithm.startswith("RSA_"):
        return rsa.generate_private_key(public_exponent=65537, key_size=int(algorithm[4:]))
    raise ValueError(f"key algorithm {algorithm!r}: use EC_prime256v1, EC_secp384r1 or RSA_2048")


def _name(common_name: str, organization: str | None) -> Any:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization)] if organization else []
    return x509.Name([*attributes, x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _general_name(name: str) -> Any:
    from cryptography import x509

    if "://" in name:
        return x509.UniformResourceIdentifier(name)
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _pem(certificate: Any) -> str:
    from cryptography.hazmat.primitives import serialization

    return certificate.public_bytes(serialization.Encoding.PEM).decode()


@dataclass
class Issued:
    """A certificate, its private key, and the CA certificates above it (its issuer first)."""

    certificate: Any
    private_key: Any
    chain: tuple = ()

    @property
    def certificate_pem(self) -> str:
        return _pem(self.certificate)

    @property
    def chain_pem(self) -> str:
        """The certificate followed by its CA certificates: what App Mesh's ``certificateChain`` file holds."""
        return "".join(_pem(c) for c in (self.certificate, *self.chain))

    def private_key_pem(self, passphrase: bytes | str | None = None) -> str:
        """The key as PKCS #8 PEM, encrypted with `passphrase` when one is given."""
        from cryptography.hazmat.primitives import serialization

        encryption: Any = serialization.NoEncryption()
        if passphrase:
            encryption = serialization.BestAvailableEncryption(
                passphrase.encode() if isinstance(passphrase, str) else passphrase)
        return self.private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                              encryption).decode()

    @property
    def info(self) -> "CertificateInfo":
        return inspect(self.certificate)

    def write(self, directory: str | Path, name: str) -> dict[str, Path]:
        """``<name>_cert.pem``, ``<name>_key.pem`` (mode 0600) and ``<name>_cert_chain.pem`` in `directory`,
        as the App Mesh walkthrough names them; returns their paths by kind."""
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        paths = {"certificate": folder / f"{name}_cert.pem", "private_key": folder / f"{name}_key.pem",
                 "certificate_chain": folder / f"{name}_cert_chain.pem"}
        paths["certificate"].write_text(self.certificate_pem)
        paths["certificate_chain"].write_text(self.chain_pem)
        key = paths["private_key"]
        key.touch(mode=0o600)
        key.chmod(0o600)
        key.write_text(self.private_key_pem())
        return paths

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.info.subject}>"

    def _repr_html_(self) -> str:
        return self.info._repr_html_()


class CertificateAuthority(Issued):
    """A CA that signs certificates with its own key (a root, or a subordinate of another CA)."""

    def issue(self, name: str, *, sans: Sequence[str] | None = None, usage: str = "both", days: int = 365,
              key: str = "EC_prime256v1", organization: str | None = None) -> Issued:
        """A certificate for `name` (its CN, and its SAN unless `sans` lists others): what the
        App Mesh walkthrough makes per service, with `usage` "server", "client" or "both"
        (templates EndEntityServerAuthCertificate, EndEntityClientAuthCertificate, EndEntityCertificate)."""
        if usage not in USAGE_TEMPLATES:
            raise ValueError(f"usage {usage!r}: use one of {', '.join(USAGE_TEMPLATES)}")
        template = pca.template(pca.TEMPLATE_PREFIX + USAGE_TEMPLATES[usage])
        private_key = _new_key(key)
        names = list(sans) if sans else [name]
        return Issued(self._sign(_name(name, organization), private_key.public_key(), template, days, names),
                      private_key, (self.certificate, *self.chain))

    def subordinate(self, name: str, *, path_length: int = 0, days: int = 1825,
                    key: str = "EC_prime256v1", organization: str | None = None) -> "CertificateAuthority":
        """A subordinate CA signed by this one (template SubordinateCACertificate_PathLen<N>/V1)."""
        template = pca.template(f"{pca.TEMPLATE_PREFIX}SubordinateCACertificate_PathLen{path_length}/V1")
        if template is None:
            raise ValueError("path_length: 0 to 3, as AWS Private CA's subordinate templates offer")
        private_key = _new_key(key)
        certificate = self._sign(_name(name, organization), private_key.public_key(), template, days, [])
        return CertificateAuthority(certificate, private_key, (self.certificate, *self.chain))

    @property
    def bundle_pem(self) -> str:
        """The trust bundle for what this CA signs: its root certificate (a client policy's trust)."""
        return _pem((self.certificate, *self.chain)[-1])

    def write(self, directory: str | Path, name: str = "ca") -> dict[str, Path]:  # type: ignore[override]
        """``<name>_cert.pem`` and ``<name>_key.pem`` (mode 0600), plus ``<name>_cert_chain.pem``."""
        return super().write(directory, name)

    def _sign(self, subject: Any, public_key: Any, template: pca.Template, days: int, sans: list[str]) -> Any:
        return _build(subject, public_key, template, days, sans, issuer=self)


def _build(subject: Any, public_key: Any, template: pca.Template, days: int, sans: list[str],
           issuer: CertificateAuthority | None = None, signer: Any = None) -> Any:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    now = datetime.datetime.now(datetime.timezone.utc)
    issuer_name = issuer.certificate.subject if issuer else subject
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer_name).public_key(public_key)
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - _NOT_BEFORE_MARGIN).not_valid_after(now + datetime.timedelta(days=days))
               .add_extension(x509.BasicConstraints(ca=template.ca, path_length=template.path_length),
                              critical=template.basic_constraints_critical)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False))
    if issuer is not None:
        try:  # "[SKI from CA certificate]"
            ski = issuer.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
            aki = x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)
        except x509.ExtensionNotFound:
            aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.private_key.public_key())
        builder = builder.add_extension(aki, critical=False)
    if template.key_usage is not None:
        builder = builder.add_extension(pca.x509_key_usage(template.key_usage), critical=True)
    if template.extended_key_usage is not None:
        builder = builder.add_extension(pca.x509_extended_key_usage(template.extended_key_usage),
                                        critical=template.extended_key_usage_critical)
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName([_general_name(n) for n in sans]),
                                        critical=False)
    return builder.sign(issuer.private_key if issuer else signer, hashes.SHA256())


def create_ca(name: str = "MyLearning Root CA", *, organization: str | None = "MyLearning", days: int = 3650,
              key: str = "EC_prime256v1") -> CertificateAuthority:
    """A root CA: a self-signed certificate as AWS Private CA's RootCACertificate/V1 template makes
    (Basic constraints critical CA:TRUE, Key usage digital signature, keyCertSign, CRL sign)."""
    private_key = _new_key(key)
    template = pca.template(pca.TEMPLATE_PREFIX + "RootCACertificate/V1")
    certificate = _build(_name(name, organization), private_key.public_key(), template, days, [],
                         signer=private_key)
    return CertificateAuthority(certificate, private_key)


def write_pem(path: str | Path, *items: CertificateLike) -> Path:
    """Write certificates (PEM text, cryptography objects, Issued ones) one after another to `path`."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("".join(_pem(c) for item in items for c in _certificates(item)))
    return target


# ---------------------------------------------------------------- reading certificates

def _certificates(item: CertificateLike | Iterable[CertificateLike] | None) -> list:
    """Every certificate in `item`: PEM text (one or many), a certificate, an Issued, or a list of them."""
    from cryptography import x509

    if item is None:
        return []
    if isinstance(item, Issued):
        return [item.certificate]
    if isinstance(item, x509.Certificate):
        return [item]
    if isinstance(item, (str, bytes)):
        data = item.encode() if isinstance(item, str) else item
        if b"-----BEGIN CERTIFICATE-----" not in data:
            raise ValueError("not a PEM certificate: expected text starting '-----BEGIN CERTIFICATE-----'")
        return x509.load_pem_x509_certificates(data)
    return [c for part in item for c in _certificates(part)]


def _one(item: CertificateLike) -> Any:
    found = _certificates(item)
    if not found:
        raise ValueError("no certificate given")
    return found[0]


def _colon_hex(data: bytes) -> str:
    return ":".join(f"{b:02X}" for b in data)


def _key_description(key: Any) -> str:
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    if isinstance(key, ec.EllipticCurvePublicKey):
        return {"secp256r1": "EC P-256", "secp384r1": "EC P-384", "secp521r1": "EC P-521"}.get(
            key.curve.name, f"EC {key.curve.name}")
    if isinstance(key, rsa.RSAPublicKey):
        return f"RSA {key.key_size}"
    return type(key).__name__


_KEY_USAGE_LABELS = {"digital_signature": "digital signature", "content_commitment": "non-repudiation",
                     "key_encipherment": "key encipherment", "data_encipherment": "data encipherment",
                     "key_agreement": "key agreement", "key_cert_sign": "certificate sign", "crl_sign": "CRL sign"}
_EKU_LABELS = {oid: name for name, oid in pca.EKU_OIDS.items()}


def _san_text(name: Any) -> str:
    from cryptography import x509

    if isinstance(name, x509.DNSName):
        return name.value
    if isinstance(name, x509.IPAddress):
        return f"IP:{name.value}"
    if isinstance(name, x509.UniformResourceIdentifier):
        return f"URI:{name.value}"
    if isinstance(name, x509.RFC822Name):
        return f"email:{name.value}"
    return str(name.value)


@dataclass(frozen=True)
class CertificateInfo:
    """What a certificate says, in words: print it, or let a notebook show its table."""

    subject: str
    issuer: str
    serial: str
    not_before: datetime.datetime
    not_after: datetime.datetime
    sans: tuple[str, ...]
    key_usage: tuple[str, ...]
    extended_key_usage: tuple[str, ...]
    is_ca: bool
    path_length: int | None
    key: str
    signature: str
    fingerprint: str
    self_signed: bool
    certificate: Any = field(repr=False, compare=False, default=None)

    def valid_at(self, when: datetime.datetime | None = None) -> bool:
        when = when or datetime.datetime.now(datetime.timezone.utc)
        return self.not_before <= when <= self.not_after

    def rows(self) -> list[tuple[str, str]]:
        ca = "yes" + (f" (path length {self.path_length})" if self.path_length is not None else "") if self.is_ca \
            else "no"
        return [("Subject", self.subject), ("Issuer", self.issuer + ("  (self-signed)" if self.self_signed else "")),
                ("SANs", ", ".join(self.sans) or "none"), ("Serial", self.serial),
                ("Not before", f"{self.not_before:%Y-%m-%d %H:%M:%S} UTC"),
                ("Not after", f"{self.not_after:%Y-%m-%d %H:%M:%S} UTC"
                              + ("" if self.valid_at() else "  (not valid now)")),
                ("Key usage", ", ".join(self.key_usage) or "none"),
                ("Extended key usage", ", ".join(self.extended_key_usage) or "none"),
                ("Is a CA", ca), ("Key", self.key), ("Signature", self.signature),
                ("SHA-256 fingerprint", self.fingerprint)]

    def __str__(self) -> str:
        rows = self.rows()
        width = max(len(label) for label, _ in rows)
        return "\n".join(f"{label:<{width}}  {value}" for label, value in rows)

    def _repr_html_(self) -> str:
        body = "".join(f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
                       f"<td style='text-align:left;font-family:monospace'>{html.escape(v)}</td></tr>"
                       for k, v in self.rows())
        return f"<table>{body}</table>"


def inspect(certificate: CertificateLike) -> CertificateInfo:
    """The first certificate of `certificate` (PEM text as ACM and AWS Private CA return it, a
    cryptography certificate, or an Issued one), in words."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    cert = _one(certificate)
    ext = cert.extensions

    def value(kind: Any) -> Any:
        try:
            return ext.get_extension_for_class(kind).value
        except x509.ExtensionNotFound:
            return None

    basic, usage, extended, san = (value(x509.BasicConstraints), value(x509.KeyUsage),
                                   value(x509.ExtendedKeyUsage), value(x509.SubjectAlternativeName))
    key_usage = tuple(label for bit, label in _KEY_USAGE_LABELS.items() if usage is not None and getattr(usage, bit))
    signature = cert.signature_algorithm_oid._name
    return CertificateInfo(
        subject=cert.subject.rfc4514_string(), issuer=cert.issuer.rfc4514_string(),
        serial=_colon_hex(cert.serial_number.to_bytes((cert.serial_number.bit_length() + 7) // 8 or 1, "big")),
        not_before=cert.not_valid_before_utc, not_after=cert.not_valid_after_utc,
        sans=tuple(_san_text(n) for n in san) if san is not None else (),
        key_usage=key_usage,
        extended_key_usage=tuple(_EKU_LABELS.get(o.dotted_string, o.dotted_string) for o in extended or ()),
        is_ca=bool(basic and basic.ca), path_length=basic.path_length if basic is not None else None,
        key=_key_description(cert.public_key()), signature=signature,
        fingerprint=_colon_hex(cert.fingerprint(hashes.SHA256())), self_signed=cert.issuer == cert.subject,
        certificate=cert)


class Certificates(list):
    """Several certificates in words (a chain or a bundle), one table each."""

    def __str__(self) -> str:
        return "\n\n".join(f"[{i}]\n{info}" for i, info in enumerate(self))

    def _repr_html_(self) -> str:
        return "".join(f"<p><b>[{i}]</b></p>{info._repr_html_()}" for i, info in enumerate(self))


def inspect_all(certificates: CertificateLike | Iterable[CertificateLike]) -> Certificates:
    """Every certificate of a PEM bundle or chain (e.g. GetCertificate's CertificateChain), in words."""
    return Certificates(inspect(c) for c in _certificates(certificates))


# ---------------------------------------------------------------- verifying a chain

@dataclass(frozen=True)
class Verdict:
    """Whether a certificate verifies, and why or why not; true when it does."""

    ok: bool
    reason: str
    path: tuple[CertificateInfo, ...] = ()

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        mark = "verifies" if self.ok else "does NOT verify"
        return f"{mark}: {self.reason}"

    def _repr_html_(self) -> str:
        colour = "green" if self.ok else "#b00020"
        path = " &rarr; ".join(html.escape(p.subject) for p in self.path)
        return (f"<p style='color:{colour}'><b>{'✔ verifies' if self.ok else '✘ does not verify'}</b>: "
                f"{html.escape(self.reason)}</p>" + (f"<p>Path: {path}</p>" if path else ""))


def _matches(name: str, sans: tuple[str, ...]) -> bool:
    """RFC 6125 matching of a DNS name (one wildcard, leftmost label only) or an IP address."""
    name = name.lower().rstrip(".")
    for san in sans:
        san = san.lower()
        if san.startswith("ip:"):
            if san[3:] == name:
                return True
            continue
        if san == name:
            return True
        if san.startswith("*.") and "." in name and name.split(".", 1)[1] == san[2:]:
            return True
    return False


def _signed_by(child: Any, parent: Any) -> bool:
    try:
        child.verify_directly_issued_by(parent)
        return True
    except Exception:
        return False


def verify_chain(leaf: CertificateLike, chain: CertificateLike | Iterable[CertificateLike] | None = (),
                 roots: CertificateLike | Iterable[CertificateLike] | None = (), *, name: str | None = None,
                 usage: str | None = None, at: datetime.datetime | None = None) -> Verdict:
    """Does `leaf` verify through `chain` (intermediates, in any order) to one of `roots`?

    An Issued leaf brings its own chain; a CertificateAuthority as `roots` stands for its root.

    `name` (a DNS name or IP address) must then be one of its SANs, as TLS clients check;
    `usage` "server" or "client" must be allowed by its extended key usage. The answer names
    the first thing that fails: an issuer nowhere to be found, a signature that is not the
    issuer's, an expired certificate, a CA certificate that is not a CA, a missing name. It
    is confirmed by cryptography's X.509 path validation (the rules web browsers apply).
    """
    when = at or datetime.datetime.now(datetime.timezone.utc)
    leaf_cert = _one(leaf)
    trusted = _certificates(roots)
    if isinstance(roots, CertificateAuthority):
        trusted = [(roots.certificate, *roots.chain)[-1]]
    given = _certificates(chain) + (list(leaf.chain) if isinstance(leaf, Issued) else [])
    pool = given + trusted
    path = [leaf_cert]
    if not trusted:
        return Verdict(False, "no trusted root certificates were given (roots=...)", (inspect(leaf_cert),))
    current = leaf_cert
    for _ in range(10):
        info = inspect(current)
        if when < info.not_before:
            return Verdict(False, f"{info.subject} is not valid before {info.not_before:%Y-%m-%d %H:%M} UTC",
                           tuple(map(inspect, path)))
        if when > info.not_after:
            return Verdict(False, f"{info.subject} expired on {info.not_after:%Y-%m-%d %H:%M} UTC",
                           tuple(map(inspect, path)))
        if current in trusted:
            break
        issuers = [c for c in pool if c.subject == current.issuer and c != current]
        if not issuers:
            where = "its issuer is" if current is leaf_cert else "the issuer of " + info.subject + " is"
            return Verdict(False, f"{where} {current.issuer.rfc4514_string()}, which is neither in the chain nor "
                                  "among the trusted roots: add that CA certificate to the chain (or the roots)",
                           tuple(map(inspect, path)))
        signer = next((c for c in issuers if _signed_by(current, c)), None)
        if signer is None:
            return Verdict(False, f"{info.subject} names {current.issuer.rfc4514_string()} as its issuer, but that "
                                  "CA's key did not sign it: it was signed by another CA of the same name",
                           tuple(map(inspect, path)))
        if not inspect(signer).is_ca:
            return Verdict(False, f"{signer.subject.rfc4514_string()} signed {info.subject} but is not a CA "
                                  "certificate (Basic constraints CA:FALSE)", tuple(map(inspect, [*path, signer])))
        path.append(signer)
        current = signer
    else:
        return Verdict(False, "the chain is longer than 10 certificates", tuple(map(inspect, path)))
    leaf_info = inspect(leaf_cert)
    if name and not _matches(name, leaf_info.sans):
        return Verdict(False, f"{name} is not among the certificate's SANs ({', '.join(leaf_info.sans) or 'none'})",
                       tuple(map(inspect, path)))
    wanted = {"server": "serverAuth", "client": "clientAuth"}.get(usage or "")
    if wanted and leaf_info.extended_key_usage and wanted not in leaf_info.extended_key_usage:
        return Verdict(False, f"its extended key usage ({', '.join(leaf_info.extended_key_usage)}) does not allow "
                              f"TLS {usage} authentication", tuple(map(inspect, path)))
    problem = _path_validation(leaf_cert, given, trusted, name, usage, when)
    if problem:
        return Verdict(False, f"X.509 path validation refused it: {problem}", tuple(map(inspect, path)))
    names = " → ".join(p.subject.rfc4514_string() for p in path)
    return Verdict(True, f"{names}" + (f", and {name} is one of its SANs" if name else ""), tuple(map(inspect, path)))


def _path_validation(leaf: Any, intermediates: list, roots: list, name: str | None, usage: str | None,
                     when: datetime.datetime) -> str | None:
    """cryptography's verdict (the web PKI's rules), or None when it accepts the path.

    Its server verifier checks a name and serverAuth, its client verifier clientAuth; any
    other combination keeps the web PKI's rules for the CAs and lets the leaf's extended
    key usage be (that part was checked above)."""
    from cryptography import x509
    from cryptography.x509.verification import (Criticality, DNSName, ExtensionPolicy, IPAddress, PolicyBuilder,
                                                Store, VerificationError)

    builder = PolicyBuilder().store(Store(roots)).time(when)
    lenient = ExtensionPolicy.permit_all()
    if name:
        lenient = lenient.require_present(x509.SubjectAlternativeName, Criticality.AGNOSTIC, None)
    if usage != ("server" if name else "client"):
        builder = builder.extension_policies(ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=lenient)
    try:
        if name:
            try:
                subject: Any = IPAddress(ipaddress.ip_address(name))
            except ValueError:
                subject = DNSName(name)
            builder.build_server_verifier(subject).verify(leaf, intermediates)
        else:
            builder.build_client_verifier().verify(leaf, intermediates)
    except VerificationError as exc:
        return str(exc)
    return None
