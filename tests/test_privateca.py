"""mylearning.privateca: a root CA made ACTIVE in three calls, ACM private certificates found
before they are requested again, exported keys that match their certificates, and a removal
plan that disables a CA before deleting it."""
from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from mylearning import privateca

LAB = "07"


def test_root_ca_certificates_export_and_removal(session):
    arn = privateca.ensure_root_ca(session, LAB, "Test Root CA")
    pca = session.client("acm-pca")
    assert pca.describe_certificate_authority(CertificateAuthorityArn=arn)["CertificateAuthority"]["Status"] == "ACTIVE"
    assert privateca.ensure_root_ca(session, LAB, "Test Root CA") == arn  # found, not made again
    assert len(privateca.certificate_authorities(session, LAB)) == 1
    root = x509.load_pem_x509_certificate(privateca.ca_certificate_pem(session, arn).encode())
    assert root.subject == root.issuer and "Test Root CA" in root.subject.rfc4514_string()

    domain = "courses-api.ml-test.internal"
    cert_arn = privateca.ensure_certificate(session, LAB, domain, arn)
    assert privateca.ensure_certificate(session, LAB, domain, arn) == cert_arn
    assert privateca.ensure_certificate(session, LAB, "other.ml-test.internal", arn) != cert_arn
    exported = privateca.export(session, cert_arn)
    assert "PRIVATE" in exported.private_key and "ENCRYPTED" not in exported.private_key
    assert "private_key" not in repr(exported) and "PRIVATE" not in repr(exported)
    leaf = x509.load_pem_x509_certificate(exported.certificate.encode())
    key = serialization.load_pem_private_key(exported.private_key.encode(), password=None)
    assert key.public_key().public_numbers() == leaf.public_key().public_numbers()
    assert leaf.issuer == root.subject
    sans = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert domain in sans.get_values_for_type(x509.DNSName)
    detail = session.client("acm").describe_certificate(CertificateArn=cert_arn)["Certificate"]
    assert int(privateca.serial_hex(detail), 16) == leaf.serial_number
    assert exported.certificate_chain.count("BEGIN CERTIFICATE") == 2

    actions = privateca.removal_actions(session, LAB)
    kinds = [a.kind for a in actions]
    assert kinds == ["ACM certificate", "ACM certificate", "private CA"]
    for action in actions:
        action.run()
    assert privateca.certificates(session, LAB) == []
    assert privateca.certificate_authorities(session, LAB) == []
    assert pca.describe_certificate_authority(CertificateAuthorityArn=arn)["CertificateAuthority"]["Status"] == "DELETED"
