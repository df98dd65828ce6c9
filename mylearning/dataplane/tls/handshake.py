"""TLS handshakes between sidecars, judged and counted as Envoy judges and counts them.

Every connection a listener accepts, or a client opens to a backend, ends in one
`Outcome` and adds to Envoy's TLS statistics, ``listener.<address>.ssl.*`` on the
terminating side and ``cluster.<name>.ssl.*`` on the originating side
(https://www.envoyproxy.io/docs/envoy/latest/configuration/listeners/stats and
https://www.envoyproxy.io/docs/envoy/latest/configuration/upstream/cluster_manager/cluster_stats):

=========================  ===================================================================
``ssl.handshake``          "Total successful TLS connection handshakes"
``ssl.no_certificate``     "Total successful TLS connections with no client certificate"
``ssl.fail_verify_no_cert`` "Total TLS connections that failed because of missing client certificate"
``ssl.fail_verify_error``  "Total TLS connections that failed CA verification"
``ssl.fail_verify_san``    "Total TLS connections that failed SAN verification"
``ssl.connection_error``   "Total TLS connection errors not including failed certificate verifications"
=========================  ===================================================================

The side that verifies a certificate counts its failure; the other side sees an alert, a
``connection_error``. App Mesh's guide reads these very statistics to verify (mutual) TLS
(https://docs.aws.amazon.com/app-mesh/latest/userguide/tls.html, "Verify encryption";
userguide/mutual-tls.html, "Verifying mutual TLS authentication").

Names are checked inside the handshake, as Envoy's validator does, before this side sends
its next flight: a client reads the server's certificate from its plaintext TLS 1.2
Certificate message (``records``) once OpenSSL has verified the chain, and a server holds
its Finished until it has read the client's; a mismatch sends a ``bad_certificate`` alert
instead. A caller whose request could not reach its backend reads Envoy's words, "upstream
connect error or disconnect/reset before headers. reset reason: connection failure" (the
App Mesh walkthrough's output, aws-app-mesh-examples howto-mutual-tls-file-provided),
followed in newer Envoys by the transport failure reason, e.g. "TLS error:
268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED" (userguide/tls.html).
"""
from __future__ import annotations

import asyncio
import ipaddress
import ssl
from collections import Counter
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, MutableMapping

from mylearning.dataplane.tls import names, records
from mylearning.dataplane.tls.policy import ClientTls, ListenerTls, client_context, server_context
from mylearning.dataplane.tls.stream import CHUNK, PlainStream, TlsStream

HANDSHAKE, NO_CERTIFICATE = "ssl.handshake", "ssl.no_certificate"
FAIL_VERIFY_NO_CERT, FAIL_VERIFY_ERROR = "ssl.fail_verify_no_cert", "ssl.fail_verify_error"
FAIL_VERIFY_SAN, CONNECTION_ERROR = "ssl.fail_verify_san", "ssl.connection_error"
STATS = (HANDSHAKE, NO_CERTIFICATE, FAIL_VERIFY_NO_CERT, FAIL_VERIFY_ERROR, FAIL_VERIFY_SAN, CONNECTION_ERROR)
#: What Envoy answers a request it could not connect upstream for (HTTP 503).
UPSTREAM_FAILURE = "upstream connect error or disconnect/reset before headers. reset reason: connection failure"
DEFAULT_TIMEOUT = 10.0

# BoringSSL packs an error as (library << 24) | reason, the SSL library being 16; an alert
# received is reason 1000 + its description (RFC 8446, section 6). Envoy prints
# "TLS error: <code>:SSL routines:OPENSSL_internal:<REASON>".
_SSL_LIBRARY = 16 << 24
_REASONS = {"CERTIFICATE_VERIFY_FAILED": 125, "WRONG_VERSION_NUMBER": 247}
_ALERTS = {"CLOSE_NOTIFY": 0, "UNEXPECTED_MESSAGE": 10, "BAD_RECORD_MAC": 20, "RECORD_OVERFLOW": 22,
           "HANDSHAKE_FAILURE": 40, "BAD_CERTIFICATE": 42, "UNSUPPORTED_CERTIFICATE": 43,
           "CERTIFICATE_REVOKED": 44, "CERTIFICATE_EXPIRED": 45, "CERTIFICATE_UNKNOWN": 46,
           "ILLEGAL_PARAMETER": 47, "UNKNOWN_CA": 48, "ACCESS_DENIED": 49, "DECODE_ERROR": 50,
           "DECRYPT_ERROR": 51, "PROTOCOL_VERSION": 70, "INSUFFICIENT_SECURITY": 71, "INTERNAL_ERROR": 80,
           "CERTIFICATE_REQUIRED": 116, "NO_APPLICATION_PROTOCOL": 120}


def tls_error(reason: str | None) -> str | None:
    """Envoy's (BoringSSL's) wording of an OpenSSL error reason, e.g. TLSV1_ALERT_UNKNOWN_CA."""
    if not reason:
        return None
    if reason in _REASONS:
        return f"TLS error: {_SSL_LIBRARY + _REASONS[reason]}:SSL routines:OPENSSL_internal:{reason}"
    for prefix in ("SSLV3_ALERT_", "TLSV13_ALERT_", "TLSV1_ALERT_"):
        if reason.startswith(prefix) and reason[len(prefix):] in _ALERTS:
            description = reason[len(prefix):]
            name = "TLSV1_CERTIFICATE_REQUIRED" if description == "CERTIFICATE_REQUIRED" else reason
            return f"TLS error: {_SSL_LIBRARY + 1000 + _ALERTS[description]}:SSL routines:OPENSSL_internal:{name}"
    return f"TLS error: {reason}"


class TlsStats(Counter):
    """A sidecar's ssl.* counters for one listener or cluster, every one present from the start."""

    def __init__(self, prefix: str = "") -> None:
        super().__init__({name: 0 for name in STATS})
        self.prefix = prefix

    def lines(self) -> list[str]:
        """As Envoy's /stats shows them, e.g. ``listener.0.0.0.0_15000.ssl.handshake: 3``."""
        return [f"{self.prefix}{name}: {count}" for name, count in sorted(self.items())]


@dataclass(frozen=True)
class Outcome:
    """How one connection's TLS ended."""

    ok: bool
    tls: bool
    #: The ssl.* statistics this connection added (none for plaintext).
    counted: tuple[str, ...]
    detail: str
    #: Envoy's transport failure reason, e.g. "TLS error: 268435581:...:CERTIFICATE_VERIFY_FAILED".
    tls_error: str | None = None
    peer_certificate: bytes | None = None
    version: str | None = None

    @property
    def stat(self) -> str | None:
        return self.counted[0] if self.counted else None

    @property
    def caller_text(self) -> str:
        """What the caller's HTTP client reads when the connection failed ("" when it didn't)."""
        return "" if self.ok else UPSTREAM_FAILURE

    @property
    def caller_text_with_reason(self) -> str:
        if self.ok:
            return ""
        return UPSTREAM_FAILURE + (f", transport failure reason: {self.tls_error}" if self.tls_error else "")


@dataclass
class Connection:
    """An outcome and, when it succeeded, the stream to use."""

    outcome: Outcome
    stream: PlainStream | None


def _count(stats: MutableMapping[str, int] | None, counted: tuple[str, ...]) -> None:
    if stats is not None:
        for name in counted:
            stats[name] = stats.get(name, 0) + 1


class _Handshake:
    """One side's handshake over a connection's streams and a pair of memory buffers."""

    def __init__(self, context: ssl.SSLContext, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 server_side: bool, server_hostname: str | None = None):
        self.reader, self.writer = reader, writer
        self.incoming, self.outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = context.wrap_bio(self.incoming, self.outgoing, server_side=server_side,
                                    server_hostname=server_hostname)
        self.received = bytearray()

    def step(self) -> bool:
        """Run OpenSSL on what has arrived: True once the handshake is done (errors propagate)."""
        try:
            self.tls.do_handshake()
            return True
        except ssl.SSLWantReadError:
            return False

    def flush(self) -> None:
        pending = self.outgoing.read()
        if pending and not self.writer.is_closing():
            self.writer.write(pending)

    def refuse(self) -> None:
        """Drop the flight OpenSSL prepared and alert the peer instead (keys not yet in use)."""
        self.outgoing.read()
        if self.tls.version() in (None, "TLSv1.2") and not self.writer.is_closing():
            self.writer.write(records.fatal_alert(records.BAD_CERTIFICATE))

    async def receive(self) -> bool:
        try:
            data = await self.reader.read(CHUNK)
        except ConnectionError:
            data = b""
        if data:
            self.received += data
            self.incoming.write(data)
        return bool(data)

    def stream(self) -> TlsStream:
        return TlsStream(self.reader, self.writer, self.tls, self.incoming, self.outgoing)


class TlsServer:
    """A listener's TLS: accepts connections as its mode and validation say, counting each."""

    def __init__(self, listener: ListenerTls, stats: MutableMapping[str, int] | None = None,
                 timeout: float = DEFAULT_TIMEOUT):
        self.listener, self.stats, self.timeout = listener, stats, timeout
        self.context = server_context(listener) if listener.mode != "DISABLED" else None

    async def accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                     first: bytes = b"") -> Connection:
        """The connection's outcome, and its stream unless it was refused (then it is closed).
        `first`: the bytes a caller already read from the connection (to tell TLS from plaintext)."""
        if self.context is None:
            return Connection(Outcome(True, False, (), "plaintext: the listener's TLS is DISABLED"),
                              PlainStream(reader, writer))
        try:
            connection = await asyncio.wait_for(self._accept(reader, writer, first), self.timeout)
        except asyncio.TimeoutError:
            connection = Connection(Outcome(False, False, (), f"no TLS handshake within {self.timeout:g} s"), None)
        if connection.stream is None:
            writer.close()
        _count(self.stats, connection.outcome.counted)
        return connection

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, first: bytes = b"") -> Connection:
        if not first:
            try:
                first = await reader.read(1)
            except ConnectionError:
                first = b""
        if not first:
            return Connection(Outcome(False, False, (), "the client closed the connection before sending anything"),
                              None)
        if self.listener.mode == "PERMISSIVE" and not records.looks_like_tls(first):
            return Connection(Outcome(True, False, (), "plaintext on a PERMISSIVE listener"),
                              PlainStream(reader, writer, first))
        side = _Handshake(self.context, reader, writer, server_side=True)
        side.received += first
        side.incoming.write(first)
        return await self._handshake(side)

    async def _handshake(self, side: _Handshake) -> Connection:
        def refused(stat: str, detail: str, reason: str | None = None) -> Connection:
            return Connection(Outcome(False, True, (stat,), detail, tls_error(reason)), None)

        wanted = self.listener.subject_alternative_names
        while True:
            try:
                done = side.step()
            except ssl.SSLCertVerificationError as exc:
                side.flush()
                return refused(FAIL_VERIFY_ERROR, "the client's certificate does not verify against the listener's "
                                                  f"trust: {exc.verify_message}", exc.reason)
            except ssl.SSLError as exc:
                side.flush()
                if exc.reason == "PEER_DID_NOT_RETURN_A_CERTIFICATE":
                    return refused(FAIL_VERIFY_NO_CERT, "the client presented no certificate, and the listener's "
                                                        "validation requires one (mutual TLS)", exc.reason)
                return refused(CONNECTION_ERROR, f"TLS handshake failed: {exc.reason or exc}", exc.reason)
            if done:
                peer = side.tls.getpeercert(binary_form=True)
                if peer is not None and wanted and not names.matches(names.certificate_names(peer), wanted):
                    side.refuse()
                    return refused(FAIL_VERIFY_SAN, f"the client's certificate is for "
                                                    f"{names.describe(names.certificate_names(peer))}, none of "
                                                    f"the listener's trusted SANs {', '.join(wanted)}")
                side.flush()
                counted = (HANDSHAKE,) if peer is not None else (HANDSHAKE, NO_CERTIFICATE)
                detail = "TLS" + (" with a verified client certificate (mutual TLS)" if peer is not None else "")
                return Connection(Outcome(True, True, counted, detail, None, peer, side.tls.version()), side.stream())
            side.flush()
            if not await side.receive():
                return refused(CONNECTION_ERROR, "the client closed the connection during the handshake")


class TlsClient:
    """A client policy's TLS: opens connections to a backend as the policy says, counting each."""

    def __init__(self, policy: ClientTls, stats: MutableMapping[str, int] | None = None,
                 timeout: float = DEFAULT_TIMEOUT):
        self.policy, self.stats, self.timeout = policy, stats, timeout
        self.context = client_context(policy)

    async def connect(self, host: str, port: int, *, server_name: str | None = None,
                      local_addr: tuple[str, int] | None = None) -> Connection:
        """Connect to host:port and negotiate TLS; `server_name` is the name dialed (the backend's
        service discovery name), which its certificate must carry when the policy lists no SANs."""
        try:
            reader, writer = await asyncio.open_connection(host, port, local_addr=local_addr)
        except OSError as exc:
            return Connection(Outcome(False, False, (), f"could not connect to {host}:{port}: {exc}"), None)
        return await self.handshake(reader, writer, server_name=server_name or host)

    async def handshake(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *,
                        server_name: str) -> Connection:
        try:
            connection = await asyncio.wait_for(self._handshake(reader, writer, server_name), self.timeout)
        except asyncio.TimeoutError:
            connection = Connection(Outcome(False, True, (), f"no TLS handshake within {self.timeout:g} s"), None)
        if connection.stream is None:
            writer.close()
        _count(self.stats, connection.outcome.counted)
        return connection

    async def _handshake(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                         server_name: str) -> Connection:
        def refused(stat: str, detail: str, reason: str | None) -> Connection:
            return Connection(Outcome(False, True, (stat,), detail, tls_error(reason)), None)

        side = _Handshake(self.context, reader, writer, server_side=False,
                          server_hostname=None if _is_ip(server_name) else server_name)
        wanted = self.policy.subject_alternative_names or (server_name,)
        checked = self.policy.trust is None  # no validation: no names either
        while True:
            try:
                done = side.step()
            except ssl.SSLCertVerificationError as exc:
                side.flush()
                return refused(FAIL_VERIFY_ERROR, "the backend's certificate does not verify against the client "
                                                  f"policy's trust: {exc.verify_message}", exc.reason)
            except ssl.SSLError as exc:
                side.flush()
                return refused(CONNECTION_ERROR, f"TLS handshake failed: {exc.reason or exc}", exc.reason)
            if not checked:
                der = records.first_certificate(bytes(side.received)) or (
                    side.tls.getpeercert(binary_form=True) if done else None)
                if der is not None:
                    checked = True
                    found = names.certificate_names(der)
                    if not names.matches(found, wanted):
                        side.refuse()
                        return refused(FAIL_VERIFY_SAN, f"the backend's certificate is for {names.describe(found)}, "
                                                        f"not {', '.join(wanted)}", "CERTIFICATE_VERIFY_FAILED")
            side.flush()
            if done:
                peer = side.tls.getpeercert(binary_form=True)
                return Connection(Outcome(True, True, (HANDSHAKE,), "TLS" + (
                    "" if self.policy.trust else " (the backend's certificate not validated: no client policy "
                                                 "validation)"), None, peer, side.tls.version()), side.stream())
            if not await side.receive():
                return refused(CONNECTION_ERROR, "the backend closed the connection during the handshake", None)


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return False


async def open_tls_connection(host: str, port: int, policy: ClientTls | TlsClient, *, server_name: str | None = None,
                              stats: MutableMapping[str, int] | None = None) -> Connection:
    """Open a connection to a backend under a client policy; `stats` counts it (ignored when a
    TlsClient, which has its own, is given)."""
    client = policy if isinstance(policy, TlsClient) else TlsClient(policy, stats)
    return await client.connect(host, port, server_name=server_name)


Handler = Callable[[PlainStream, Outcome], Awaitable[Any]]


async def start_server(handler: Handler, host: str, port: int, listener: ListenerTls | TlsServer, *,
                       stats: MutableMapping[str, int] | None = None,
                       on_outcome: Callable[[Outcome], Any] | None = None) -> asyncio.Server:
    """Serve a listener: each accepted connection's stream goes to ``handler(stream, outcome)``;
    `on_outcome` sees every outcome, refused ones included."""
    server = listener if isinstance(listener, TlsServer) else TlsServer(listener, stats)

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = await server.accept(reader, writer)
        if on_outcome is not None:
            on_outcome(connection.outcome)
        if connection.stream is None:
            return
        try:
            await handler(connection.stream, connection.outcome)
        finally:
            connection.stream.close()
            await connection.stream.wait_closed()

    return await asyncio.start_server(serve, host, port)
