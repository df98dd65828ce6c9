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


def test_validity_times_follow_api_validity():
    import datetime

    from mylearning.emulator.fidelity.acmpca.access import validity_time

    now = datetime.datetime(2024, 1, 31, 12, 0, tzinfo=datetime.timezone.utc)
    assert validity_time({"Value": 30, "Type": "DAYS"}, now) == now + datetime.timedelta(days=30)
    assert validity_time({"Value": 1, "Type": "MONTHS"}, now).date() == datetime.date(2024, 2, 29)
    assert validity_time({"Value": 10, "Type": "YEARS"}, now).year == 2034
    assert validity_time({"Value": 2524608000, "Type": "ABSOLUTE"}, now) == datetime.datetime(
        2050, 1, 1, tzinfo=datetime.timezone.utc)
    # END_DATE: UTCTime (YY >= 50 is 19YY) or GeneralizedTime, as API_Validity.html shows.
    assert validity_time({"Value": 491231235959, "Type": "END_DATE"}, now).year == 2049
    assert validity_time({"Value": 501231235959, "Type": "END_DATE"}, now).year == 1950
    assert validity_time({"Value": 20301231235959, "Type": "END_DATE"}, now).year == 2030
    assert validity_time({"Value": 123, "Type": "END_DATE"}, now) is None
    assert validity_time(None, now) is None


@pytest.mark.parametrize("key, signing, family", [
    ("RSA_2048", "SHA256WITHRSA", "RSA"), ("RSA_4096", "SHA512WITHRSA_PSS", "RSA"),
    ("EC_prime256v1", "SHA256WITHECDSA", "ECDSA"), ("EC_secp521r1", "SHA512WITHECDSA", "ECDSA"),
    ("SM2", "SM3WITHSM2", "SM2"), ("ML_DSA_65", "ML_DSA_65", "ML-DSA"),
])
def test_algorithm_families_pair_keys_with_signatures(key, signing, family):
    from mylearning.emulator.fidelity.acmpca.access import key_family, signing_family

    assert key_family(key) == signing_family(signing) == family


def test_issuing_from_a_pending_ca_is_invalid_state_until_its_certificate_is_installed(env):
    from mylearning.emulator.fidelity.cases.acmpca import create_ca, install_root_certificate, issue

    pca, ca = env.client("acm-pca"), create_ca(env)
    with pytest.raises(pca.exceptions.InvalidStateException):
        issue(env, ca)
    install_root_certificate(env, ca)
    described = pca.describe_certificate_authority(CertificateAuthorityArn=ca)["CertificateAuthority"]
    assert described["Status"] == "ACTIVE"
    assert (described["NotAfter"] - described["NotBefore"]).days >= 3650  # the 10 years asked for
    assert issue(env, ca).startswith(ca + "/certificate/")
