"""AWS Private CA: signing a certificate the way the CA would, with its own key.

Shared by IssueCertificate (``fixes``) and by ACM, which asks a private CA for the
private certificates it requests (``mylearning.emulator.fidelity.acm``): the certificate
carries the CSR's public key, the template's subject and extensions (``templates``), the
CA certificate's subject as its issuer, and is signed by the CA's key with the requested
signing algorithm; its chain is the CA certificate followed by the CA's own chain,
"the certificate chain that chains up to the root CA certificate that you used to sign
your private CA certificate" (API_GetCertificate.html, CertificateChain).
"""
from __future__ import annotations

import base64
import binascii
import datetime
from typing import Any

from mylearning.emulator.fidelity.acmpca import keys, templates
from mylearning.facts.pca import Template


def ca_key(authority: Any) -> Any:
    """The CA's private key: of its KeyAlgorithm, made once, on first use."""
    key = getattr(authority, "_mylearning_key", None)
    if key is None:
        config = getattr(authority, "certificate_authority_configuration", None) or {}
        key = keys.generate(config.get("KeyAlgorithm"))
        if key is None:  # an algorithm cryptography can't make: moto's own RSA key
            from cryptography.hazmat.primitives import serialization
            key = serialization.load_pem_private_key(authority.private_bytes, password=authority.password)
        authority._mylearning_key = key
    return key


def ca_signing_algorithm(authority: Any) -> str | None:
    config = getattr(authority, "certificate_authority_configuration", None) or {}
    value = config.get("SigningAlgorithm")
    return value if isinstance(value, str) else None


def chain_pem(authority: Any) -> bytes:
    """The chain of what the CA signs: its certificate, then the chain it was imported with."""
    body = authority.certificate_bytes.strip() + b"\n"
    chain = authority.certificate_chain
    if chain:
        if isinstance(chain, str):
            chain = chain.encode()
        try:  # moto keeps the request's base64 text
            decoded = base64.b64decode(chain, validate=True)
            chain = decoded if b"-----BEGIN" in decoded else chain
        except (binascii.Error, ValueError):
            pass
        body += chain.strip() + b"\n"
    return body


def csr_pem(authority: Any) -> bytes:
    """The CA's own CSR (GetCertificateAuthorityCsr), signed with its key and signing algorithm."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    builder = (x509.CertificateSigningRequestBuilder().subject_name(authority.issuer)
               .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True))
    return keys.sign(builder, ca_key(authority), ca_signing_algorithm(authority)).public_bytes(
        serialization.Encoding.PEM)


def issue(authority: Any, csr: Any, template: Template, *, signing_algorithm: Any,
          not_before: datetime.datetime, not_after: datetime.datetime,
          passthrough: dict | None = None) -> bytes:
    """A PEM certificate for `csr` from `authority`, as `template` defines it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    key = ca_key(authority)
    issuer_certificate = authority.certificate  # None until one is installed
    if template.self_signed or issuer_certificate is None:
        issuer = csr.subject if template.self_signed else authority.issuer
    else:
        issuer = issuer_certificate.subject
    builder = (x509.CertificateBuilder()
               .subject_name(templates.subject(template, csr, passthrough))
               .issuer_name(issuer)
               .public_key(csr.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(not_before).not_valid_after(not_after))
    for extension, critical in templates.extensions(template, csr, issuer_certificate, key.public_key(),
                                                    passthrough):
        builder = builder.add_extension(extension, critical)
    return keys.sign(builder, key, signing_algorithm).public_bytes(serialization.Encoding.PEM)
