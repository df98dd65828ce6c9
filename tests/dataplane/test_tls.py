"""Mesh TLS on real loopback handshakes: listener mode x client policy x certificates -> outcome and stats.

Each row starts a listener on 127.0.0.1 (a free port), connects once, and compares both
sides' Envoy statistics and the caller's outcome with what App Mesh's guide and its mutual
TLS walkthrough show for the same configuration.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest

from mylearning import pki
from mylearning.dataplane import tls
from mylearning.dataplane.tls import names, records

SERVICE = "colorteller.appmesh-mtls.local"
GATEWAY = "gateway.appmesh-mtls.local"
WILDCARD = "mesh-endpoint.apps.local"


@pytest.fixture(scope="module")
def certs():
    ca, other = pki.create_ca("MyLearning Root CA"), pki.create_ca("Someone else's CA")

    def material(issued):
        return tls.Certificate(issued.chain_pem, issued.private_key_pem())

    return {
        "ca": ca.bundle_pem, "other_ca": other.bundle_pem,
        "service": material(ca.issue(SERVICE)),                       # EndEntityCertificate/V1: both usages
        "wildcard": material(ca.issue("*.apps.local")),
        "gateway": material(ca.issue(GATEWAY)),
        "gateway_by_other_ca": material(other.issue(GATEWAY)),
        "server_only": material(ca.issue(GATEWAY, usage="server")),  # EndEntityServerAuthCertificate/V1
    }


@dataclass(frozen=True)
class Row:
    id: str
    mode: str
    client: str | None            # None: a plaintext client
    server_stats: dict
    client_stats: dict = field(default_factory=dict)
    ok: bool = True
    #: listener: its certificate, trust (mutual TLS) and trusted SANs
    certificate: str = "service"
    listener_trust: str | None = None
    listener_sans: tuple[str, ...] = ()
    #: client policy: trust, SANs, client certificate; and the name it dials
    client_trust: str | None = "ca"
    client_sans: tuple[str, ...] = ()
    client_certificate: str | None = None
    dial: str = SERVICE
    tls_error: str | None = None


HS, NC = tls.HANDSHAKE, tls.NO_CERTIFICATE
VERIFY_FAILED = "TLS error: 268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED"

ROWS = [
    # --- one-way TLS: the client validates the listener's certificate
    Row("strict.no-client-validation", "STRICT", "tls", {HS: 1, NC: 1}, {HS: 1}, client_trust=None),
    Row("strict.trusted-ca-dialed-name", "STRICT", "tls", {HS: 1, NC: 1}, {HS: 1}),
    Row("strict.dialed-name-not-in-certificate", "STRICT", "tls", {tls.CONNECTION_ERROR: 1},
        {tls.FAIL_VERIFY_SAN: 1}, ok=False, dial="bogus.appmesh-mtls.local", tls_error=VERIFY_FAILED),
    Row("strict.san-list-mismatch", "STRICT", "tls", {tls.CONNECTION_ERROR: 1}, {tls.FAIL_VERIFY_SAN: 1},
        ok=False, client_sans=("bogus.appmesh-mtls.local",), tls_error=VERIFY_FAILED),
    Row("strict.san-list-match-overrides-dialed-name", "STRICT", "tls", {HS: 1, NC: 1}, {HS: 1},
        client_sans=(SERVICE,), dial="127.0.0.1"),
    Row("strict.untrusted-ca", "STRICT", "tls", {tls.CONNECTION_ERROR: 1}, {tls.FAIL_VERIFY_ERROR: 1},
        ok=False, client_trust="other_ca", tls_error=VERIFY_FAILED),
    Row("strict.wildcard-certificate-for-dialed-name", "STRICT", "tls", {HS: 1, NC: 1}, {HS: 1},
        certificate="wildcard", dial=WILDCARD),
    Row("strict.wildcard-certificate-for-exact-san", "STRICT", "tls", {HS: 1, NC: 1}, {HS: 1},
        certificate="wildcard", client_sans=(WILDCARD,), dial="127.0.0.1"),
    # --- mutual TLS: the listener's validation requires and checks a client certificate
    Row("mtls.no-client-certificate", "STRICT", "tls", {tls.FAIL_VERIFY_NO_CERT: 1}, {tls.CONNECTION_ERROR: 1},
        ok=False, listener_trust="ca",
        tls_error="TLS error: 268436496:SSL routines:OPENSSL_internal:SSLV3_ALERT_HANDSHAKE_FAILURE"),
    Row("mtls.client-certificate-from-untrusted-ca", "STRICT", "tls", {tls.FAIL_VERIFY_ERROR: 1},
        {tls.CONNECTION_ERROR: 1}, ok=False, listener_trust="ca", client_certificate="gateway_by_other_ca",
        tls_error="TLS error: 268436504:SSL routines:OPENSSL_internal:TLSV1_ALERT_UNKNOWN_CA"),
    Row("mtls.client-certificate-without-client-auth", "STRICT", "tls", {tls.FAIL_VERIFY_ERROR: 1},
        {tls.CONNECTION_ERROR: 1}, ok=False, listener_trust="ca", client_certificate="server_only"),
    Row("mtls.trusted-client-certificate", "STRICT", "tls", {HS: 1}, {HS: 1}, listener_trust="ca",
        listener_sans=(GATEWAY,), client_certificate="gateway"),
    Row("mtls.trusted-client-any-san", "STRICT", "tls", {HS: 1}, {HS: 1}, listener_trust="ca",
        client_certificate="gateway"),
    Row("mtls.client-san-not-trusted", "STRICT", "tls", {tls.FAIL_VERIFY_SAN: 1}, {tls.CONNECTION_ERROR: 1},
        ok=False, listener_trust="ca", listener_sans=("bogus.appmesh-mtls.local",), client_certificate="gateway",
        tls_error="TLS error: 268436498:SSL routines:OPENSSL_internal:SSLV3_ALERT_BAD_CERTIFICATE"),
    # --- modes
    Row("strict.plaintext-client", "STRICT", None, {tls.CONNECTION_ERROR: 1}, ok=False),
    Row("permissive.plaintext-client", "PERMISSIVE", None, {}),
    Row("permissive.tls-client", "PERMISSIVE", "tls", {HS: 1, NC: 1}, {HS: 1}),
    Row("permissive-mtls.plaintext-client", "PERMISSIVE", None, {}, listener_trust="ca"),
    Row("permissive-mtls.tls-client-without-certificate", "PERMISSIVE", "tls", {tls.FAIL_VERIFY_NO_CERT: 1},
        {tls.CONNECTION_ERROR: 1}, ok=False, listener_trust="ca"),
    Row("permissive-mtls.tls-client-with-certificate", "PERMISSIVE", "tls", {HS: 1}, {HS: 1}, listener_trust="ca",
        client_certificate="gateway"),
    Row("disabled.plaintext-client", "DISABLED", None, {}),
    Row("disabled.tls-client", "DISABLED", "tls", {}, {tls.CONNECTION_ERROR: 1}, ok=False,
        tls_error="TLS error: 268435703:SSL routines:OPENSSL_internal:WRONG_VERSION_NUMBER"),
]


async def _answer(stream, outcome) -> None:
    """The application behind the listener: reads five bytes, answers HTTP with them."""
    data = await stream.readexactly(5)
    stream.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n" + data)
    await stream.drain()


async def _run(row: Row, certs: dict):
    listener = tls.ListenerTls(row.mode, certs[row.certificate] if row.mode != "DISABLED" else None,
                               trust=certs[row.listener_trust] if row.listener_trust else None,
                               subject_alternative_names=row.listener_sans)
    server_stats, client_stats, outcomes = tls.TlsStats(), tls.TlsStats(), asyncio.Queue()
    server = await tls.start_server(_answer, "127.0.0.1", 0, listener, stats=server_stats,
                                    on_outcome=outcomes.put_nowait)
    port = server.sockets[0].getsockname()[1]
    try:
        if row.client is None:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET / HTTP/1.1\r\n\r\n")
            try:
                answer = await reader.read(1000)
            except ConnectionError:
                answer = b""
            writer.close()
            client = None
        else:
            policy = tls.ClientTls(trust=certs[row.client_trust] if row.client_trust else None,
                                   subject_alternative_names=row.client_sans,
                                   certificate=certs[row.client_certificate] if row.client_certificate else None)
            connection = await tls.open_tls_connection("127.0.0.1", port, policy, server_name=row.dial,
                                                       stats=client_stats)
            client, answer = connection.outcome, b""
            if connection.stream is not None:
                connection.stream.write(b"GET /")
                await connection.stream.drain()
                while b"GET /" not in answer:
                    chunk = await connection.stream.read()
                    if not chunk:
                        break
                    answer += chunk
                connection.stream.close()
        accepted = await outcomes.get()
    finally:
        server.close()
        await server.wait_closed()
    return client, accepted, answer, server_stats, client_stats


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_handshake_outcomes_and_stats(row, certs):
    client, accepted, answer, server_stats, client_stats = asyncio.run(asyncio.wait_for(_run(row, certs), 30))
    assert {k: v for k, v in server_stats.items() if v} == row.server_stats, accepted.detail
    assert {k: v for k, v in client_stats.items() if v} == row.client_stats, client and client.detail
    if row.client is None:  # plaintext
        assert (answer.startswith(b"HTTP/1.1 200 OK") and answer.endswith(b"GET /")) == row.ok
        assert accepted.ok == row.ok and accepted.tls == (row.mode == "STRICT")  # STRICT tried TLS
        return
    assert client.ok == row.ok, client.detail
    if row.ok:
        assert answer.endswith(b"GET /") and client.version == "TLSv1.2"
        assert accepted.tls and (accepted.peer_certificate is not None) == bool(row.client_certificate)
        assert client.caller_text == ""
    else:
        assert answer == b"" and client.caller_text == tls.UPSTREAM_FAILURE
        assert client.tls_error == row.tls_error or row.tls_error is None, client.tls_error
        if row.tls_error:
            assert client.caller_text_with_reason == f"{tls.UPSTREAM_FAILURE}, transport failure reason: {row.tls_error}"


def test_the_caller_reads_envoys_words():
    # As the App Mesh mutual TLS walkthrough shows it: `curl $COLORAPP_ENDPOINT`.
    assert tls.UPSTREAM_FAILURE == \
        "upstream connect error or disconnect/reset before headers. reset reason: connection failure"
    assert tls.tls_error("CERTIFICATE_VERIFY_FAILED") == VERIFY_FAILED  # App Mesh userguide/tls.html
    assert tls.tls_error("TLSV13_ALERT_CERTIFICATE_REQUIRED") == \
        "TLS error: 268436572:SSL routines:OPENSSL_internal:TLSV1_CERTIFICATE_REQUIRED"
    assert tls.tls_error("SOMETHING_ELSE") == "TLS error: SOMETHING_ELSE" and tls.tls_error(None) is None


def test_stats_read_like_envoys_admin_page():
    stats = tls.TlsStats("listener.0.0.0.0_15000.")
    stats[tls.HANDSHAKE] += 3
    lines = stats.lines()
    assert "listener.0.0.0.0_15000.ssl.handshake: 3" in lines
    assert "listener.0.0.0.0_15000.ssl.fail_verify_san: 0" in lines and len(lines) == len(tls.STATS)


def test_policies_read_app_mesh_file_certificates(certs, tmp_path):
    ca = pki.create_ca()
    server = ca.issue(SERVICE).write(tmp_path, "colorteller")
    ca_files = ca.write(tmp_path)
    listener = tls.ListenerTls.from_app_mesh({
        "mode": "STRICT",
        "certificate": {"file": {"certificateChain": str(server["certificate_chain"]),
                                 "privateKey": str(server["private_key"])}},
        "validation": {"trust": {"file": {"certificateChain": str(ca_files["certificate"])}},
                       "subjectAlternativeNames": {"match": {"exact": [GATEWAY]}}}})
    assert listener.mutual and listener.subject_alternative_names == (GATEWAY,)
    assert tls.server_context(listener).verify_mode.name == "CERT_REQUIRED"
    policy = tls.ClientTls.from_app_mesh(
        {"ports": [9080], "validation": {"trust": {"acm": {"certificateAuthorityArns": ["arn:ca"]}}}},
        acm_authority=lambda arn: ca.bundle_pem)
    assert policy.trust == ca.bundle_pem and policy.applies_to(9080) and not policy.applies_to(8080)
    assert not tls.ClientTls(enforce=False).applies_to(9080)
    with pytest.raises(ValueError):
        tls.ClientTls.from_app_mesh({"validation": {"trust": {"acm": {"certificateAuthorityArns": ["x"]}}}})
    with pytest.raises(ValueError):
        tls.ListenerTls("STRICT", None)
    with pytest.raises(ValueError):
        tls.ListenerTls("LENIENT", certs["service"])


def test_an_encrypted_key_loads_with_its_passphrase():
    """What ACM's ExportCertificate gives: a PKCS #8 key encrypted with the passphrase."""
    ca = pki.create_ca()
    issued = ca.issue(SERVICE)
    material = tls.Certificate(issued.chain_pem, issued.private_key_pem(b"passphrase"), b"passphrase")
    assert tls.server_context(tls.ListenerTls("STRICT", material))


def test_names_follow_envoys_matching():
    assert names.matches([("DNS", "*.apps.local")], [WILDCARD])
    assert not names.matches([("DNS", "*.apps.local")], ["a.b.apps.local"])
    assert names.matches([("DNS", "Colorteller.AppMesh-mTLS.local")], [SERVICE])
    assert names.matches([("URI", "spiffe://mesh/gw")], ["spiffe://mesh/gw"])
    assert not names.matches([("URI", "spiffe://mesh/gw")], ["spiffe://mesh/other"])
    assert names.matches([("IP", "127.0.0.1")], ["127.0.0.1"]) and not names.matches([], [SERVICE])


def test_records():
    assert records.looks_like_tls(b"\x16") and not records.looks_like_tls(b"G")
    der = b"\x30\x03\x02\x01\x01"
    certificate_list = len(der).to_bytes(3, "big") + der
    body = len(certificate_list).to_bytes(3, "big") + certificate_list
    message = bytes([records.CERTIFICATE]) + len(body).to_bytes(3, "big") + body
    hello = bytes([2]) + (4).to_bytes(3, "big") + b"\x03\x03\x00\x00"
    flight = hello + message
    split = len(flight) // 2   # a message across two records
    stream = b"".join(bytes([22, 3, 3]) + len(part).to_bytes(2, "big") + part for part in (flight[:split], flight[split:]))
    assert records.first_certificate(stream) == der
    assert records.first_certificate(stream[:-3]) is None
    assert records.first_certificate(bytes([23, 3, 3, 0, 1, 0])) is None  # encrypted: TLS 1.3
    assert records.fatal_alert(records.BAD_CERTIFICATE) == b"\x15\x03\x03\x00\x02\x02\x2a"


def test_tls13_clients_are_judged_too(certs):
    """A client that is not a sidecar (Python's default: TLS 1.3) meets the same listener rules;
    in TLS 1.3 the listener's verdict on its certificate arrives after the client's handshake."""
    import ssl

    async def run(with_certificate: bool):
        listener = tls.ListenerTls("STRICT", certs["service"], trust=certs["ca"])
        stats, outcomes = tls.TlsStats(), asyncio.Queue()
        server = await tls.start_server(_answer, "127.0.0.1", 0, listener, stats=stats,
                                        on_outcome=outcomes.put_nowait)
        context = ssl.create_default_context(cadata=certs["ca"])
        if with_certificate:
            tls.load_certificate(context, certs["gateway"])
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.sockets[0].getsockname()[1],
                                                           ssl=context, server_hostname=SERVICE)
            writer.write(b"GET /")
            try:
                answer = await reader.read(1000)
            except (ssl.SSLError, ConnectionError):
                answer = b""
            writer.close()
            accepted = await outcomes.get()
        finally:
            server.close()
            await server.wait_closed()
        return accepted, answer, {k: v for k, v in stats.items() if v}

    accepted, answer, stats = asyncio.run(asyncio.wait_for(run(False), 30))
    assert stats == {tls.FAIL_VERIFY_NO_CERT: 1} and answer == b"" and not accepted.ok
    accepted, answer, stats = asyncio.run(asyncio.wait_for(run(True), 30))
    assert stats == {tls.HANDSHAKE: 1} and answer.startswith(b"HTTP/1.1 200") and accepted.version == "TLSv1.3"


def test_keys_are_loaded_without_touching_a_disk(monkeypatch):
    """ACM's exported keys reach OpenSSL through anonymous memory files on Linux, never a folder."""
    import os
    import tempfile
    if not hasattr(os, "memfd_create"):
        pytest.skip("no memfd_create on this platform")

    def no_folder(*args, **kwargs):
        raise AssertionError("a private key was about to be written to a temporary folder")

    monkeypatch.setattr(tempfile, "TemporaryDirectory", no_folder)
    issued = pki.create_ca().issue(SERVICE)
    material = tls.Certificate(issued.chain_pem, issued.private_key_pem(b"passphrase"), b"passphrase")
    assert tls.server_context(tls.ListenerTls("STRICT", material))
