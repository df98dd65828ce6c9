"""AWS Private CA certificate templates: what each one puts in the certificates it issues.

No I/O: the embedded AWS issues certificates from this table
(``mylearning.emulator.fidelity.acmpca``), and ``mylearning.pki`` makes the course's
file-based certificates with the same extensions, so a learner's certificate and one from
AWS Private CA read the same.

Every row comes from the user guide's template definitions,
https://docs.aws.amazon.com/privateca/latest/userguide/template-definitions.html, and the
rules for combining sources from
https://docs.aws.amazon.com/privateca/latest/userguide/template-order-of-operations.html:

* every template copies the Subject and the Subject alternative name from the CSR
  ("These values are still taken from the CSR even though the template is not a CSR
  passthrough variety");
* an ``APIPassthrough`` or ``APICSRPassthrough`` variant also takes values from the
  request's ``ApiPassthrough``, a ``CSRPassthrough`` or ``APICSRPassthrough`` variant the
  CSR's other extensions; "the template definition has highest priority, followed by API
  passthrough values, followed by CSR passthrough extensions";
* the Subject key identifier is "[Derived from CSR]", the Authority key identifier
  "[SKI from CA certificate]" (a root CA's self-signed certificate has none);
* without a TemplateArn, ``EndEntityCertificate/V1`` applies
  (https://docs.aws.amazon.com/privateca/latest/userguide/UsingTemplates.html).

CRL distribution points ("only if the CA is configured with CRL generation enabled") are
not in the table: the embedded AWS publishes no CRLs.
"""
from __future__ import annotations

from dataclasses import dataclass

TEMPLATE_PREFIX = "arn:aws:acm-pca:::template/"
DEFAULT_TEMPLATE = TEMPLATE_PREFIX + "EndEntityCertificate/V1"

#: Key usage bits as cryptography's ``x509.KeyUsage`` names them.
END_ENTITY_USAGE = frozenset({"digital_signature", "key_encipherment"})
SIGNING_USAGE = frozenset({"digital_signature"})
CA_USAGE = frozenset({"digital_signature", "key_cert_sign", "crl_sign"})
KEY_USAGE_BITS = ("digital_signature", "content_commitment", "key_encipherment",
                  "data_encipherment", "key_agreement", "key_cert_sign", "crl_sign",
                  "encipher_only", "decipher_only")
#: Extended key usages by their RFC 5280 names, with their OIDs.
EKU_OIDS = {"serverAuth": "1.3.6.1.5.5.7.3.1", "clientAuth": "1.3.6.1.5.5.7.3.2",
            "codeSigning": "1.3.6.1.5.5.7.3.3", "emailProtection": "1.3.6.1.5.5.7.3.4",
            "timeStamping": "1.3.6.1.5.5.7.3.8", "OCSPSigning": "1.3.6.1.5.5.7.3.9"}
#: ApiPassthrough's ExtendedKeyUsageType values (API_ExtendedKeyUsage.html) by RFC 5280 name.
EKU_TYPES = {"SERVER_AUTH": "serverAuth", "CLIENT_AUTH": "clientAuth", "CODE_SIGNING": "codeSigning",
             "EMAIL_PROTECTION": "emailProtection", "TIME_STAMPING": "timeStamping",
             "OCSP_SIGNING": "OCSPSigning"}


@dataclass(frozen=True)
class Template:
    """One AWS Private CA template: the extensions it fixes, and where else values may come from."""

    name: str                                    # e.g. "EndEntityServerAuthCertificate/V1"
    ca: bool                                     # Basic constraints CA:TRUE
    basic_constraints_critical: bool
    path_length: int | None = None
    #: Key usage bits (critical in every template that sets them); None: the template sets none.
    key_usage: frozenset[str] | None = None
    #: Extended key usages; None: the template sets none.
    extended_key_usage: tuple[str, ...] | None = None
    extended_key_usage_critical: bool = False
    #: A root CA's self-signed certificate: no Authority key identifier.
    self_signed: bool = False
    api_passthrough: bool = False
    csr_passthrough: bool = False

    @property
    def arn(self) -> str:
        return TEMPLATE_PREFIX + self.name


def _variants(base: str, suffixes: tuple[str, ...], **fields: object) -> dict[str, Template]:
    out = {}
    for suffix in suffixes:
        name = f"{base}{suffix}/V1"
        out[name] = Template(name, api_passthrough="API" in suffix, csr_passthrough="CSR" in suffix,
                             **fields)  # type: ignore[arg-type]
    return out


_ALL = ("", "_APIPassthrough", "_APICSRPassthrough", "_CSRPassthrough")
_PASSTHROUGH = ("_APIPassthrough", "_APICSRPassthrough", "_CSRPassthrough")


def _table() -> dict[str, Template]:
    table: dict[str, Template] = {}
    end_entity = dict(ca=False, basic_constraints_critical=False, key_usage=END_ENTITY_USAGE)
    table |= _variants("EndEntityCertificate", _ALL, extended_key_usage=("serverAuth", "clientAuth"),
                       **end_entity)
    table |= _variants("EndEntityClientAuthCertificate", _ALL, extended_key_usage=("clientAuth",),
                       **end_entity)
    table |= _variants("EndEntityServerAuthCertificate", _ALL, extended_key_usage=("serverAuth",),
                       **end_entity)
    signing = dict(ca=False, basic_constraints_critical=False, key_usage=SIGNING_USAGE,
                   extended_key_usage_critical=True)
    table |= _variants("CodeSigningCertificate", _ALL, extended_key_usage=("codeSigning",), **signing)
    table |= _variants("OCSPSigningCertificate", _ALL, extended_key_usage=("OCSPSigning",), **signing)
    table |= _variants("RootCACertificate", ("", "_APIPassthrough"), ca=True,
                       basic_constraints_critical=True, key_usage=CA_USAGE, self_signed=True)
    table |= _variants("BlankRootCACertificate", ("_APIPassthrough",), ca=True,
                       basic_constraints_critical=True, self_signed=True)
    for length in range(4):
        table |= _variants(f"SubordinateCACertificate_PathLen{length}", _ALL, ca=True,
                           basic_constraints_critical=True, path_length=length, key_usage=CA_USAGE)
        table |= _variants(f"BlankSubordinateCACertificate_PathLen{length}", _PASSTHROUGH, ca=True,
                           basic_constraints_critical=True, path_length=length)
        table |= _variants(f"BlankRootCACertificate_PathLen{length}", ("_APIPassthrough",), ca=True,
                           basic_constraints_critical=True, path_length=length, self_signed=True)
    table |= _variants("BlankEndEntityCertificate", _PASSTHROUGH, ca=False, basic_constraints_critical=False)
    table |= _variants("BlankEndEntityCertificate_CriticalBasicConstraints", _PASSTHROUGH, ca=False,
                       basic_constraints_critical=True)
    return {t.arn: t for t in table.values()}


def x509_key_usage(bits: frozenset[str] | set[str]) -> object:
    """cryptography's KeyUsage extension with `bits` set (imported here, on use)."""
    from cryptography import x509

    return x509.KeyUsage(**{bit: bit in bits for bit in KEY_USAGE_BITS})


def x509_extended_key_usage(names: tuple[str, ...] | list[str]) -> object:
    """cryptography's ExtendedKeyUsage extension for RFC 5280 names (or dotted OIDs)."""
    from cryptography import x509

    return x509.ExtendedKeyUsage([x509.ObjectIdentifier(EKU_OIDS.get(n, n)) for n in names])


#: Every template by its ARN.
TEMPLATES: dict[str, Template] = _table()


def template(arn: str | None) -> Template | None:
    """The template an IssueCertificate TemplateArn names (the default when None); None if unknown."""
    return TEMPLATES.get(arn or DEFAULT_TEMPLATE)


#: The templates that issue a root CA's own certificate, before the CA is ACTIVE.
ROOT_TEMPLATES = frozenset(arn for arn, t in TEMPLATES.items() if t.self_signed)

#: "Each certificate is valid for 13 months (395 days)" for the private certificates ACM
#: requests from a private CA (https://docs.aws.amazon.com/acm/latest/userguide/private-certificates.title.html).
ACM_PRIVATE_CERTIFICATE_DAYS = 395
