"""mylearning.pki: a CA, service and client certificates as AWS Private CA's templates make them,
read in words, and chains verified with a reason for every failure."""
from __future__ import annotations

import datetime
import ssl
import stat

import pytest
from cryptography import x509

from mylearning import pki
from mylearning.facts import pca

DAY = datetime.timedelta(days=1)
NAME = "colorteller.appmesh-mtls.local"


@pytest.fixture(scope="module")
def ca():
    return pki.create_ca("MyLearning Root CA")


def _ext(certificate, kind):
    return certificate.extensions.get_extension_for_class(kind)


def test_a_root_ca_is_what_rootcacertificate_v1_makes(ca):
    cert = ca.certificate
    cert.verify_directly_issued_by(cert)
    basic = _ext(cert, x509.BasicConstraints)
    assert basic.critical and basic.value.ca and basic.value.path_length is None
    usage = _ext(cert, x509.KeyUsage)
    assert usage.critical and usage.value.key_cert_sign and usage.value.crl_sign and usage.value.digital_signature
    assert pki.inspect(cert).self_signed and pki.inspect(cert).is_ca


@pytest.mark.parametrize("usage, template", sorted(pki.USAGE_TEMPLATES.items()))
def test_issued_certificates_carry_their_templates_extensions(ca, usage, template):
    issued = ca.issue(NAME, usage=usage)
    want = pca.template(pca.TEMPLATE_PREFIX + template)
    cert = issued.certificate
    info = pki.inspect(issued)
    assert info.sans == (NAME,) and info.subject == f"CN={NAME}"
    assert info.extended_key_usage == want.extended_key_usage
    assert set(info.key_usage) == {"digital signature", "key encipherment"} and _ext(cert, x509.KeyUsage).critical
    assert not info.is_ca and not _ext(cert, x509.BasicConstraints).critical
    assert _ext(cert, x509.AuthorityKeyIdentifier).value.key_identifier == \
        _ext(ca.certificate, x509.SubjectKeyIdentifier).value.digest
    assert pki.verify_chain(issued, roots=ca, name=NAME, usage=usage if usage != "both" else None)


def test_files_are_the_walkthroughs_and_load_into_tls(ca, tmp_path):
    service = ca.issue(NAME, usage="server")
    paths = service.write(tmp_path, "colorteller")
    assert {p.name for p in paths.values()} == {"colorteller_cert.pem", "colorteller_key.pem",
                                                "colorteller_cert_chain.pem"}
    assert stat.S_IMODE(paths["private_key"].stat().st_mode) == 0o600
    chain = x509.load_pem_x509_certificates(paths["certificate_chain"].read_bytes())
    assert chain == [service.certificate, ca.certificate]
    ca_paths = ca.write(tmp_path)
    assert ca_paths["certificate"].name == "ca_cert.pem"
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(paths["certificate_chain"], paths["private_key"])  # a real TLS library takes them
    trust = ssl.create_default_context(cafile=str(ca_paths["certificate"]))
    assert trust.get_ca_certs()[0]["subject"] == ((("organizationName", "MyLearning"),),
                                                  (("commonName", "MyLearning Root CA"),))


def test_an_encrypted_key_needs_its_passphrase(ca):
    from cryptography.hazmat.primitives import serialization

    pem = ca.issue(NAME).private_key_pem(b"correct horse")
    assert "ENCRYPTED PRIVATE KEY" in pem
    with pytest.raises(TypeError):
        serialization.load_pem_private_key(pem.encode(), password=None)
    serialization.load_pem_private_key(pem.encode(), password=b"correct horse")


def test_inspect_reads_pem_text_and_shows_a_table(ca):
    issued = ca.issue(NAME, sans=[NAME, "10.0.1.23", "spiffe://mylearning/colorteller"])
    info = pki.inspect(issued.certificate_pem)
    assert info.sans == (NAME, "IP:10.0.1.23", "URI:spiffe://mylearning/colorteller")
    assert info.issuer == "CN=MyLearning Root CA,O=MyLearning" and info.key == "EC P-256"
    assert info.serial.replace(":", "") == format(issued.certificate.serial_number, "X").zfill(len(info.serial.replace(":", "")))
    assert len(info.fingerprint.split(":")) == 32 and info.valid_at()
    text = str(info)
    for label in ("Subject", "Issuer", "SANs", "Serial", "Not before", "Not after", "Key usage",
                  "Extended key usage", "Is a CA", "SHA-256 fingerprint"):
        assert label in text
    page = info._repr_html_()
    assert page.startswith("<table>") and "spiffe://mylearning/colorteller" in page
    bundle = pki.inspect_all(issued.chain_pem)
    assert [i.subject for i in bundle] == [f"CN={NAME}", "CN=MyLearning Root CA,O=MyLearning"]
    assert "[1]" in str(bundle) and bundle._repr_html_().count("<table>") == 2
    with pytest.raises(ValueError):
        pki.inspect("not a certificate")


def test_html_is_escaped():
    ca = pki.create_ca("<script>alert(1)</script>")
    assert "<script>" not in ca.info._repr_html_()


def test_a_subordinate_chain_verifies_and_names_every_hop(ca):
    issuing = ca.subordinate("MyLearning Issuing CA", path_length=0)
    assert pki.inspect(issuing).path_length == 0
    leaf = issuing.issue("courses.mylearning.local")
    verdict = pki.verify_chain(leaf.certificate_pem, chain=leaf.chain_pem, roots=ca.certificate_pem,
                               name="courses.mylearning.local")
    assert verdict and [p.subject for p in verdict.path] == [
        "CN=courses.mylearning.local", "CN=MyLearning Issuing CA", "CN=MyLearning Root CA,O=MyLearning"]
    assert "✔" in verdict._repr_html_()


def _fails(verdict, *words):
    assert not verdict, verdict
    for word in words:
        assert word in verdict.reason, verdict.reason


def test_failures_say_why(ca):
    service = ca.issue(NAME, usage="server")
    impostor = pki.create_ca("MyLearning Root CA")            # same name, another key
    _fails(pki.verify_chain(service.certificate, roots=impostor), "did not sign it", "same name")
    _fails(pki.verify_chain(service.certificate, roots=[]), "no trusted root")
    issuing = ca.subordinate("MyLearning Issuing CA")
    leaf = issuing.issue("courses.mylearning.local")
    _fails(pki.verify_chain(leaf.certificate, roots=ca), "CN=MyLearning Issuing CA", "neither in the chain")
    now = datetime.datetime.now(datetime.timezone.utc)
    _fails(pki.verify_chain(service, roots=ca, at=now + 400 * DAY), "expired")
    _fails(pki.verify_chain(service, roots=ca, at=now - DAY), "not valid before")
    _fails(pki.verify_chain(service, roots=ca, name="bogus.appmesh-mtls.local"), "not among the certificate's SANs")
    _fails(pki.verify_chain(ca.issue("gw", usage="client"), roots=ca, usage="server"), "does not allow")
    not_a_ca = pki.CertificateAuthority(service.certificate, service.private_key, service.chain)
    _fails(pki.verify_chain(not_a_ca.issue("x.mylearning.local"), roots=ca), "is not a CA")


def test_wildcard_sans_match_one_label_only(ca):
    wild = ca.issue("*.apps.local")
    assert pki.verify_chain(wild, roots=ca, name="mesh-endpoint.apps.local")
    _fails(pki.verify_chain(wild, roots=ca, name="a.b.apps.local"), "not among")
    _fails(pki.verify_chain(wild, roots=ca, name="apps.local"), "not among")


def test_rsa_keys(ca):
    issued = ca.issue(NAME, key="RSA_2048")
    assert pki.inspect(issued).key == "RSA 2048" and pki.verify_chain(issued, roots=ca, name=NAME)
    with pytest.raises(ValueError):
        ca.issue(NAME, key="DSA_1024")
    with pytest.raises(ValueError):
        ca.issue(NAME, usage="email")


def test_acm_private_certificates_verify_to_their_private_ca(env):
    """The PEM text ACM and AWS Private CA answer with is read and verified like any other."""
    from mylearning.emulator.fidelity.cases.acmpca import EC, active_ca

    ca = active_ca(env, EC)
    root = env.client("acm-pca").get_certificate_authority_certificate(CertificateAuthorityArn=ca)["Certificate"]
    acm = env.client("acm")
    arn = acm.request_certificate(DomainName="courses.mylearning.local", CertificateAuthorityArn=ca,
                                  KeyAlgorithm="EC_prime256v1")["CertificateArn"]
    got = acm.export_certificate(CertificateArn=arn, Passphrase=b"course passphrase")
    verdict = pki.verify_chain(got["Certificate"], got["CertificateChain"], roots=root,
                               name="courses.mylearning.local", usage="server")
    assert verdict, verdict
    assert pki.inspect(got["Certificate"]).issuer == pki.inspect(root).subject == "CN=mylearning.local"
    _fails(pki.verify_chain(got["Certificate"], roots=pki.create_ca("mylearning.local", organization=None)), "did not sign it")


def test_usage_is_checked_only_when_asked(ca):
    client = ca.issue("gateway.appmesh-mtls.local", usage="client")
    assert pki.verify_chain(client, roots=ca, name="gateway.appmesh-mtls.local")   # no usage asked
    assert pki.verify_chain(client, roots=ca, name="gateway.appmesh-mtls.local", usage="client")
    _fails(pki.verify_chain(client, roots=ca, name="gateway.appmesh-mtls.local", usage="server"), "does not allow")
    server = ca.issue(NAME, usage="server")
    assert pki.verify_chain(server, roots=ca) and pki.verify_chain(server, roots=ca, usage="server")
    _fails(pki.verify_chain(server, roots=ca, usage="client"), "does not allow")
