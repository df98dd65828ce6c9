"""AWS Private CA fidelity: malformed CSRs are refused with MalformedCSRException."""
from __future__ import annotations

import base64

import pytest

from mylearning.emulator.fidelity.acmpca import csr_problem
from mylearning.emulator.fidelity.cases.acmpca import good_csr


def test_bad_csr_is_a_400_with_its_exception_class(env):
    pca = env.client("acm-pca")
    ca = pca.create_certificate_authority(
        CertificateAuthorityType="ROOT",
        CertificateAuthorityConfiguration={"KeyAlgorithm": "RSA_2048", "SigningAlgorithm": "SHA256WITHRSA",
                                           "Subject": {"CommonName": "test"}})["CertificateAuthorityArn"]
    with pytest.raises(pca.exceptions.MalformedCSRException) as info:
        pca.issue_certificate(CertificateAuthorityArn=ca, Csr=b"garbage", SigningAlgorithm="SHA256WITHRSA",
                              Validity={"Value": 1, "Type": "DAYS"})
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_csr_problem_accepts_a_real_csr_and_names_bad_ones():
    assert csr_problem(base64.b64encode(good_csr()).decode()) is None
    assert csr_problem(base64.b64encode(b"nope").decode())
    assert csr_problem(None) is None
