"""AWS Private CA: the subject and extensions of a certificate, as its template defines them.

The templates themselves are facts (``mylearning.facts.pca``); this turns one into
cryptography's X.509 objects for a CSR, the issuing CA's certificate and the request's
``ApiPassthrough`` (API_ApiPassthrough.html), by the order of operations of
https://docs.aws.amazon.com/privateca/latest/userguide/template-order-of-operations.html:
template first, then API passthrough, then CSR passthrough.

Of ApiPassthrough, the Subject, SubjectAlternativeNames (DNS, IP, email, URI), KeyUsage and
ExtendedKeyUsage are honoured; CertificatePolicies and CustomExtensions are not (yet).
"""
from __future__ import annotations

import ipaddress
from typing import Any

from mylearning.facts.pca import EKU_TYPES, Template
from mylearning.facts.pca import x509_extended_key_usage as extended_key_usage
from mylearning.facts.pca import x509_key_usage as key_usage

#: ASN1Subject members (API_ASN1Subject.html) -> cryptography NameOID attribute names.
_SUBJECT = (("Country", "COUNTRY_NAME"), ("State", "STATE_OR_PROVINCE_NAME"),
            ("Locality", "LOCALITY_NAME"), ("Organization", "ORGANIZATION_NAME"),
            ("OrganizationalUnit", "ORGANIZATIONAL_UNIT_NAME"),
            ("DistinguishedNameQualifier", "DN_QUALIFIER"), ("Title", "TITLE"),
            ("Surname", "SURNAME"), ("GivenName", "GIVEN_NAME"), ("Initials", "INITIALS"),
            ("Pseudonym", "PSEUDONYM"), ("GenerationQualifier", "GENERATION_QUALIFIER"),
            ("SerialNumber", "SERIAL_NUMBER"), ("CommonName", "COMMON_NAME"))
#: ApiPassthrough KeyUsage members (API_KeyUsage.html) -> cryptography KeyUsage arguments.
_KEY_USAGE = {"DigitalSignature": "digital_signature", "NonRepudiation": "content_commitment",
              "KeyEncipherment": "key_encipherment", "DataEncipherment": "data_encipherment",
              "KeyAgreement": "key_agreement", "KeyCertSign": "key_cert_sign", "CRLSign": "crl_sign",
              "EncipherOnly": "encipher_only", "DecipherOnly": "decipher_only"}


def subject(template: Template, csr: Any, passthrough: dict | None) -> Any:
    """"[Passthrough from API or CSR]": the API's Subject wins in an API passthrough variant."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    given = (passthrough or {}).get("Subject") if template.api_passthrough else None
    if isinstance(given, dict):
        attributes = [x509.NameAttribute(getattr(NameOID, oid), str(given[key]))
                      for key, oid in _SUBJECT if given.get(key)]
        if attributes:
            return x509.Name(attributes)
    return csr.subject


def _general_names(entries: Any) -> list:
    from cryptography import x509

    names: list = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        if entry.get("DnsName"):
            names.append(x509.DNSName(entry["DnsName"]))
        elif entry.get("IpAddress"):
            names.append(x509.IPAddress(ipaddress.ip_address(entry["IpAddress"])))
        elif entry.get("Rfc822Name"):
            names.append(x509.RFC822Name(entry["Rfc822Name"]))
        elif entry.get("UniformResourceIdentifier"):
            names.append(x509.UniformResourceIdentifier(entry["UniformResourceIdentifier"]))
    return names


def _api_extension(oid: Any, extensions: dict) -> Any:
    """The ApiPassthrough value for one extension, or None."""
    from cryptography.x509.oid import ExtensionOID

    if oid == ExtensionOID.SUBJECT_ALTERNATIVE_NAME:
        from cryptography import x509
        names = _general_names(extensions.get("SubjectAlternativeNames"))
        return x509.SubjectAlternativeName(names) if names else None
    if oid == ExtensionOID.KEY_USAGE and isinstance(extensions.get("KeyUsage"), dict):
        bits = {_KEY_USAGE[k] for k, v in extensions["KeyUsage"].items() if v and k in _KEY_USAGE}
        return key_usage(bits) if bits else None
    if oid == ExtensionOID.EXTENDED_KEY_USAGE and isinstance(extensions.get("ExtendedKeyUsage"), list):
        names = [EKU_TYPES.get(e.get("ExtendedKeyUsageType"), e.get("ExtendedKeyUsageObjectIdentifier"))
                 for e in extensions["ExtendedKeyUsage"] if isinstance(e, dict)]
        names = [n for n in names if n]
        return extended_key_usage(names) if names else None
    return None


def extensions(template: Template, csr: Any, ca_certificate: Any, ca_public_key: Any,
               passthrough: dict | None = None) -> list[tuple[Any, bool]]:
    """(extension, critical) pairs for a certificate issued from `csr` with `template`."""
    from cryptography import x509
    from cryptography.x509.oid import ExtensionOID

    chosen: dict[Any, tuple[Any, bool]] = {
        ExtensionOID.BASIC_CONSTRAINTS: (
            x509.BasicConstraints(ca=template.ca, path_length=template.path_length if template.ca else None),
            template.basic_constraints_critical),
        ExtensionOID.SUBJECT_KEY_IDENTIFIER: (x509.SubjectKeyIdentifier.from_public_key(csr.public_key()), False),
    }
    if not template.self_signed:
        chosen[ExtensionOID.AUTHORITY_KEY_IDENTIFIER] = (_authority_key_identifier(ca_certificate, ca_public_key),
                                                         False)
    if template.key_usage is not None:
        chosen[ExtensionOID.KEY_USAGE] = (key_usage(template.key_usage), True)
    if template.extended_key_usage is not None:
        chosen[ExtensionOID.EXTENDED_KEY_USAGE] = (extended_key_usage(template.extended_key_usage),
                                                   template.extended_key_usage_critical)
    api = (passthrough or {}).get("Extensions") if template.api_passthrough else None
    if isinstance(api, dict):
        for oid in (ExtensionOID.SUBJECT_ALTERNATIVE_NAME, ExtensionOID.KEY_USAGE,
                    ExtensionOID.EXTENDED_KEY_USAGE):
            value = None if oid in chosen else _api_extension(oid, api)
            if value is not None:
                chosen[oid] = (value, oid == ExtensionOID.KEY_USAGE)
    for extension in csr.extensions:
        # The SAN always comes from the CSR (unless the API gave one); the others only in a
        # CSR passthrough variant, and never over the template's own.
        passes = extension.oid == ExtensionOID.SUBJECT_ALTERNATIVE_NAME or template.csr_passthrough
        if passes and extension.oid not in chosen:
            chosen[extension.oid] = (extension.value, extension.critical)
    return list(chosen.values())


def _authority_key_identifier(ca_certificate: Any, ca_public_key: Any) -> Any:
    """"[SKI from CA certificate]", or one derived from the CA's key when it has no SKI."""
    from cryptography import x509

    if ca_certificate is not None:
        try:
            ski = ca_certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
            return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)
        except x509.ExtensionNotFound:
            pass
    return x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_public_key)
