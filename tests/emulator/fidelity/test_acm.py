"""ACM private certificates: what a failed request shows, and a certificate that really serves mesh TLS."""
from __future__ import annotations

import asyncio

from mylearning.emulator.fidelity.cases.acm import DOMAIN, OTHER, PASSPHRASE, request
from mylearning.emulator.fidelity.cases.acmpca import EC, active_ca, create_ca


def test_a_failed_request_shows_why_and_no_certificate(env):
    acm = env.client("acm")
    arn = request(env, create_ca(env))
    detail = acm.describe_certificate(CertificateArn=arn)["Certificate"]
    assert (detail["Status"], detail["FailureReason"], detail["Type"]) == ("FAILED", "PCA_INVALID_STATE", "PRIVATE")
    assert detail["SubjectAlternativeNames"] == [DOMAIN, OTHER] and detail["RenewalEligibility"] == "INELIGIBLE"
    assert not {"Serial", "NotBefore", "NotAfter", "Issuer", "IssuedAt"} & set(detail)
    listed = acm.list_certificates(CertificateStatuses=["FAILED"])["CertificateSummaryList"]
    assert arn in {c["CertificateArn"] for c in listed}


def test_an_acm_certificate_and_its_ca_serve_mesh_tls(env):
    """App Mesh's ACM path: the listener's certificate exported from ACM, the client's trust the
    private CA's certificate (GetCertificateAuthorityCertificate), a real handshake between them,
    the backend's SAN checked against the client policy's list."""
    from mylearning.dataplane import tls

    pca, acm = env.client("acm-pca"), env.client("acm")
    ca = active_ca(env, EC)
    arn = request(env, ca)

    def export(certificate_arn: str):
        got = acm.export_certificate(CertificateArn=certificate_arn, Passphrase=PASSPHRASE)
        return got["Certificate"] + "\n" + got["CertificateChain"], got["PrivateKey"], PASSPHRASE

    def authority(authority_arn: str) -> str:
        return pca.get_certificate_authority_certificate(CertificateAuthorityArn=authority_arn)["Certificate"]

    listener = tls.ListenerTls.from_app_mesh({"mode": "STRICT", "certificate": {"acm": {"certificateArn": arn}}},
                                             acm_certificate=export)
    policy = tls.ClientTls.from_app_mesh({"validation": {"trust": {"acm": {"certificateAuthorityArns": [ca]}},
                                                         "subjectAlternativeNames": {"match": {"exact": [OTHER]}}}},
                                         acm_authority=authority)

    async def run():
        async def answer(stream, outcome):
            stream.write(await stream.readexactly(2))
            await stream.drain()

        stats = tls.TlsStats()
        server = await tls.start_server(answer, "127.0.0.1", 0, listener, stats=stats)
        try:
            connection = await tls.open_tls_connection("127.0.0.1", server.sockets[0].getsockname()[1], policy,
                                                       server_name=DOMAIN)
            assert connection.outcome.ok, connection.outcome.detail
            connection.stream.write(b"ok")
            await connection.stream.drain()
            echoed = await connection.stream.readexactly(2)
            connection.stream.close()
        finally:
            server.close()
            await server.wait_closed()
        return echoed

    assert asyncio.run(asyncio.wait_for(run(), 30)) == b"ok"
    assert acm.describe_certificate(CertificateArn=arn)["Certificate"]["RenewalEligibility"] == "ELIGIBLE"
