"""Lab 07's checks name the usual TLS mistakes and say how to fix them; on a real account they
say plainly why the lab cannot run there."""
from __future__ import annotations

import boto3
import pytest

from mylearning import answers, course, prepare, privateca
from mylearning.backend import CourseSession
from mylearning.course import lab07_mutual_tls as lab

LAB = "07"


def _step(session, step_id):
    return course.lab_of_step(step_id).evaluate(session, [step_id]).results[0]


def test_on_a_real_account_every_check_says_why_and_nothing_is_called(capsys):
    real = CourseSession(boto3.Session(region_name="us-east-1", aws_access_key_id="AKIAEXAMPLE",
                                       aws_secret_access_key="not-used"), "aws", None, "t")
    assert lab.unavailable_reason(real) and "2026-09-30" in lab.unavailable_reason(real)
    report = course.grader(LAB).evaluate(real)
    assert report.total == 0 and len(report.results) == 9
    for result in report.results:
        assert "end of support on 2026-09-30" in result.message and "embedded AWS" in result.hint
    assert lab.end_state(real) is None and "end of support" in capsys.readouterr().out
    assert lab.teardown(real).actions == []


def test_lab07_mistakes_get_named(session):
    prepare.up_to(session, LAB, quiet=True)
    # 7.1: a CA left PENDING_CERTIFICATE.
    pca = session.client("acm-pca")
    arn = pca.create_certificate_authority(CertificateAuthorityType="ROOT", Tags=session.tags(LAB),
                                           CertificateAuthorityConfiguration={
                                               "KeyAlgorithm": privateca.KEY_ALGORITHM,
                                               "SigningAlgorithm": privateca.SIGNING_ALGORITHM,
                                               "Subject": {"CommonName": lab.ca_name(session)}})["CertificateAuthorityArn"]
    result = _step(session, "7.1")
    assert not result.passed and "PENDING_CERTIFICATE" in result.message and "ImportCertificateAuthority" in result.hint
    assert lab.ensure_ca(session, LAB) == arn and _step(session, "7.1").passed

    # 7.2: the certificates exist, the roles may not use them.
    certs = lab.ensure_certificates(session, LAB, arn)
    result = _step(session, "7.2")
    assert not result.passed and "may not export" in result.message and "allow_tls" in result.hint
    lab.allow_tls(session, arn, {s: [certs[s]] for s in lab.SERVERS})
    assert _step(session, "7.2").passed

    # 7.3: no TLS yet; then PERMISSIVE, and requests through the ALB make handshakes.
    result = _step(session, "7.3")
    assert not result.passed and "TLS DISABLED" in result.message and "PERMISSIVE" in result.hint
    lab.set_tls(session, LAB, arn, certs, mode="PERMISSIVE", policies=False)
    assert set(lab.wait_encrypted(session, lab.base_url(session))) == set(lab.SERVERS)
    assert _step(session, "7.3").passed, _step(session, "7.3").to_text()

    # 7.4: no client policy; a policy without the server's name; STRICT before the health checks move.
    result = _step(session, "7.4")
    assert not result.passed and "does not trust the mesh CA" in result.message
    lab.set_tls(session, LAB, arn, certs, mode="PERMISSIVE")
    lab.ensure_node(session, LAB, "enrollment", certificate_arn=certs["enrollment"], ca_arn=arn, mode="PERMISSIVE",
                    sans=[])
    result = _step(session, "7.4")
    assert not result.passed and "lists SANs none" in result.message and lab.domain(session, "courses-api") in result.hint
    lab.set_tls(session, LAB, arn, certs, mode="PERMISSIVE")
    result = _step(session, "7.4")
    assert not result.passed and "health-checks the app port" in result.message and "health_check_to_envoy" in result.hint
    lab.health_check_to_envoy(session)
    assert "PERMISSIVE" in _step(session, "7.4").message
    lab.set_tls(session, LAB, arn, certs, mode="STRICT")
    assert "not recorded" in _step(session, "7.4").message
    answers.record_answer(LAB, lab.requests_key("tls"), 40, session=session)
    answers.record_answer(LAB, lab.requests_key("tls"), 10, session=session)
    answers.record_answer(LAB, lab.failures_key("tls"), 0, session=session)
    result = _step(session, "7.4")
    assert not result.passed and "Only 10 requests" in result.message
    answers.record_answer(LAB, lab.requests_key("tls"), 40, session=session)
    answers.record_answer(LAB, lab.failures_key("tls"), 3, session=session)
    answers.record_answer(LAB, lab.errors_key("tls"), {"http 503: connection failure": 3}, session=session)
    result = _step(session, "7.4")  # reported, not graded: step 7.6 is graded on its traffic
    assert result.passed and "3 failed (3 http 503: connection failure)" in result.message
    answers.record_answer(LAB, lab.failures_key("tls"), 0, session=session)
    assert _step(session, "7.4").passed and "none failed" in _step(session, "7.4").message
    # 7.6's traffic is graded: failures fail it, named by kind.
    answers.record_answer(LAB, lab.requests_key("mtls"), 40, session=session)
    answers.record_answer(LAB, lab.failures_key("mtls"), 2, session=session)
    answers.record_answer(LAB, lab.errors_key("mtls"), {"http 503: TLS error": 2}, session=session)
    assert lab07_traffic_problem(session) is not None

    # 7.5: nothing recorded, then a mismatch recorded while the wrong SAN is still there.
    assert "not recorded" in _step(session, "7.5").message
    answers.record_answer(LAB, lab.SAN_FAILURES, 2, session=session)
    lab.ensure_node(session, LAB, "enrollment", certificate_arn=certs["enrollment"], ca_arn=arn,
                    sans=[lab.domain(session, lab.WRONG_SAN_SERVICE)])
    result = _step(session, "7.5")
    assert not result.passed and "still expects" in result.message
    lab.ensure_node(session, LAB, "enrollment", certificate_arn=certs["enrollment"], ca_arn=arn)
    assert _step(session, "7.5").passed

    # 7.6: no files in the tasks; 7.9: a share below 100%.
    result = _step(session, "7.6")
    assert not result.passed and "gets no ca.pem" in result.message and "register_with_files" in result.hint
    answers.record_answer(LAB, lab.SHARE, 0.5, session=session)
    assert "Only 50.0%" in _step(session, "7.9").message
    answers.record_answer(LAB, lab.SHARE, 50, session=session)
    assert "between 0 and 1" in _step(session, "7.9").message


def lab07_traffic_problem(session):
    """The 7.6 traffic rule on its own (7.6's state checks come first in the step)."""
    import importlib
    from mylearning.steps import Context
    grader = importlib.import_module("graders.lab07_mutual_tls")
    problem = grader._traffic(Context(session, LAB), "mtls", "mutual TLS went on")
    assert problem is not None and "2 of 40 requests failed" in problem.message and "TLS error" in problem.message
    return problem


@pytest.mark.parametrize("step", [s for s in course.grader(LAB).steps])
def test_every_check_fails_with_a_hint_on_an_empty_account(session, step):
    """Without anything of the lab, every check fails with a hint, and raises nothing."""
    result = _step(session, step)
    assert not result.passed and result.hint, result.to_text()
