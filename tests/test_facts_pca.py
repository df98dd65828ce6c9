"""AWS Private CA template facts: the table holds the templates AWS documents, as it defines them."""
from __future__ import annotations

import pytest

from mylearning.facts import pca

#: The service-owned TemplateArn values the IssueCertificate documentation lists (UsingTemplates.html).
DOCUMENTED = [
    "CodeSigningCertificate/V1", "CodeSigningCertificate_CSRPassthrough/V1", "EndEntityCertificate/V1",
    "EndEntityCertificate_CSRPassthrough/V1", "EndEntityClientAuthCertificate/V1",
    "EndEntityClientAuthCertificate_CSRPassthrough/V1", "EndEntityServerAuthCertificate/V1",
    "EndEntityServerAuthCertificate_CSRPassthrough/V1", "OCSPSigningCertificate/V1",
    "OCSPSigningCertificate_CSRPassthrough/V1", "RootCACertificate/V1", "RootCACertificate_APIPassthrough/V1",
    "BlankEndEntityCertificate_APIPassthrough/V1", "BlankEndEntityCertificate_APICSRPassthrough/V1",
    "BlankRootCACertificate_APIPassthrough/V1",
    *(f"SubordinateCACertificate_PathLen{n}/V1" for n in range(4)),
    *(f"BlankSubordinateCACertificate_PathLen{n}_APICSRPassthrough/V1" for n in range(4)),
]


@pytest.mark.parametrize("name", DOCUMENTED)
def test_every_documented_template_is_in_the_table(name):
    assert pca.template(pca.TEMPLATE_PREFIX + name).name == name


def test_no_template_arn_means_end_entity_certificate():
    assert pca.template(None).name == "EndEntityCertificate/V1"
    assert pca.template(pca.TEMPLATE_PREFIX + "NoSuchTemplate/V1") is None


def test_end_entity_templates_differ_only_in_extended_key_usage():
    both, client, server = (pca.template(pca.TEMPLATE_PREFIX + n) for n in (
        "EndEntityCertificate/V1", "EndEntityClientAuthCertificate/V1", "EndEntityServerAuthCertificate/V1"))
    assert both.extended_key_usage == ("serverAuth", "clientAuth")
    assert client.extended_key_usage == ("clientAuth",) and server.extended_key_usage == ("serverAuth",)
    for t in (both, client, server):
        assert t.key_usage == {"digital_signature", "key_encipherment"}
        assert not t.ca and not t.basic_constraints_critical and not t.extended_key_usage_critical


def test_passthrough_varieties_follow_their_names():
    t = pca.template(pca.TEMPLATE_PREFIX + "EndEntityServerAuthCertificate_APICSRPassthrough/V1")
    assert t.api_passthrough and t.csr_passthrough
    t = pca.template(pca.TEMPLATE_PREFIX + "EndEntityServerAuthCertificate_CSRPassthrough/V1")
    assert t.csr_passthrough and not t.api_passthrough
    assert not pca.template(None).csr_passthrough and not pca.template(None).api_passthrough


def test_ca_templates():
    root = pca.template(pca.TEMPLATE_PREFIX + "RootCACertificate/V1")
    assert root.ca and root.self_signed and root.path_length is None and root.key_usage == pca.CA_USAGE
    sub = pca.template(pca.TEMPLATE_PREFIX + "SubordinateCACertificate_PathLen1/V1")
    assert sub.ca and not sub.self_signed and sub.path_length == 1 and sub.basic_constraints_critical
    assert pca.TEMPLATE_PREFIX + "RootCACertificate/V1" in pca.ROOT_TEMPLATES
    assert pca.TEMPLATE_PREFIX + "SubordinateCACertificate_PathLen0/V1" not in pca.ROOT_TEMPLATES
