"""TLS and mutual TLS in the course's App Mesh sidecar (`envoy`), as App Mesh configures Envoy.

The handshakes, their judgement and Envoy's ``ssl.*`` counters are `mylearning.dataplane.tls`'s;
this module decides, from the proxy's snapshot, when and how each side uses them, and
carries the bytes.

**Listeners** (a node's ingress, 15000; a gateway's listener ports), from the listener's
``tls`` (https://docs.aws.amazon.com/app-mesh/latest/APIReference/API_ListenerTls.html):

* ``STRICT`` "Listener only accepts connections with TLS enabled"; ``PERMISSIVE`` "accepts
  connections with or without TLS enabled" (told apart by the first byte, as Envoy's TLS
  inspector does); ``DISABLED``, or no ``tls``: plaintext only. A plaintext client of a
  STRICT listener fails its handshake (``listener.0.0.0.0_15000.ssl.connection_error``) and
  is disconnected; an Envoy caller answers its app 503 "upstream connect error or
  disconnect/reset before headers. reset reason: connection termination".
* The certificate: ``acm`` (exported by App Mesh and delivered over SDS; here the management
  service exports it, `mylearning.dataplane.mesh_secrets`, once the task role allows
  ``acm:ExportCertificate``), ``file`` (``certificateChain`` and ``privateKey``, paths in the
  proxy container's own filesystem: its root or a mounted volume), or ``sds``: not supported,
  there is no SDS provider here (AWS: "SPIRE is not supported on Amazon ECS",
  userguide/tls.html), and the proxy logs so.
* A ``validation`` (``trust`` file, or SDS: unsupported; ``subjectAlternativeNames``) makes
  the listener require and verify a client certificate: mutual TLS ("If you don't specify
  SANs on the terminating mesh endpoint, the Envoy proxy for that node doesn't verify the
  SAN on a peer client certificate", userguide/tls.html).
* File certificates are read when a configuration first names their path, and not again
  while the proxy runs: "When using a certificate from the local file system, Envoy will not
  automatically reload the certificate when it changes. You may either restart or redeploy
  the Envoy process to load a new certificate. You can also place a newer certificate at a
  different file path and update the virtual node" (tls.html, "Certificate renewal"). A
  path that could not be read is tried again with the next configuration. ACM certificates
  follow their renewals (the management service re-exports a changed serial number).
  Private keys are never written anywhere the learner's files live.

**Upstreams** (egress and gateway routes to a virtual node): "When a client policy is
enforcing the use of TLS, and one of the ports in the client policy matches the port of the
server's policy, the client policy is used"; otherwise "App Mesh will use the server to
determine whether or not to negotiate TLS from the client, and how": a STRICT or PERMISSIVE
backend listener with an ACM certificate is validated "against the root CA that the
certificate chains up to", one with a file certificate is negotiated "but the certificate of
the server is not validated" (tls.html, "How App Mesh configures Envoys to negotiate TLS").
The client policy (a backend's ``clientPolicy``, else ``backendDefaults``;
API_ClientPolicyTls.html) gives ``enforce`` (default true), ``ports`` (none: all),
``validation.trust`` (``acm`` private CAs, read by the management service once the role
allows ``acm-pca:GetCertificateAuthorityCertificate``; ``file``; ``sds`` unsupported),
``subjectAlternativeNames.match.exact`` (without a list, a SAN must match the target's
service discovery name: the DNS hostname, or ``service-name.namespace-name`` for Cloud Map,
tls.html "Certificate requirements"), and a client ``certificate`` (file; SDS unsupported)
sent when the backend asks for one.

An upstream request over TLS opens a TCP tunnel through the task's network (HTTP CONNECT to
the data plane's edge, which applies the security groups), handshakes, then speaks HTTP/1.1
on it; idle connections are kept and reused. A failed handshake is a connection failure: the
caller reads Envoy's 503 "upstream connect error or disconnect/reset before headers. reset
reason: connection failure, transport failure reason: TLS error: ..." (userguide/tls.html
quotes the transport failure reason), the cluster counts ``upstream_cx_connect_fail`` and its
``cluster.<name>.ssl.*`` counter, and the default retry policy retries it like any
connect failure.

**Admin**: ``/certs`` lists each TLS context's certificates in Envoy's shape
(https://www.envoyproxy.io/docs/envoy/latest/api-v3/admin/v3/certs.proto: ``ca_cert`` and
``cert_chain``, each with ``path``, ``serial_number``, ``subject_alt_names``,
``days_until_expiration``, ``valid_from``, ``expiration_time``); ``/config_dump`` gains each
listener's and cluster's TLS: mode, sources, SANs, and why a context could not be built.

Where this differs from Envoy: no SDS; a listener whose certificate is not available (yet,
or not allowed) fails TLS handshakes (``ssl.connection_error``) instead of staying warming;
an upstream whose TLS material is missing fails its connections (``upstream_cx_connect_fail``)
instead of the cluster not being added; with several listeners on one node the TLS of the
first listener that has one applies to the ingress port (the data plane's redirect does not
carry the original port); clusters appear in ``/config_dump`` and ``/certs`` once used.
"""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime
import json
import socket
from collections.abc import MutableMapping
from typing import Any, Callable, Iterator, Mapping, Optional
from urllib.parse import urlencode, urlsplit

import aiohttp
from aiohttp import web
from multidict import CIMultiDict

from mylearning.dataplane import tls as mtls

#: The request key the listeners give each request's listener port (a gateway routes by it).
LISTENER_PORT: Any = (web.RequestKey("mylearning.listener_port", int) if hasattr(web, "RequestKey")
                      else "mylearning.listener_port")  # aiohttp < 3.12: a plain key
#: Idle upstream TLS connections kept per cluster host: as many as were busy at once, within
#: reason. Envoy's HTTP/1.1 pool "acquires connections as needed to an upstream host (up to the
#: circuit breaking limit)" and binds requests to them "as they become available"
#: (https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/connection_pooling),
#: and App Mesh sets that limit to 2147483647 (envoy-defaults.html): a small cap here closed
#: every connection beyond it after each request, so concurrent callers paid a new handshake
#: per request.
MAX_IDLE = 256
#: How long the first configuration waits for its ACM material (Envoy's init waits for SDS).
FIRST_SECRETS_WAIT = 10.0
#: How long a TLS client of a listener whose certificate is still being delivered is held.
MATERIAL_WAIT = 3.0
#: Envoy's TLS stats a context lists from the start (App Mesh's "Verify encryption" shows them at 0).
DECLARED_STATS = (*mtls.STATS, "ssl.fail_verify_cert_hash")
READ_SIZE = 65536
#: Seconds a bridged connection waits for the server's side after the client has gone.
BRIDGE_LINGER = 5.0


class UpstreamTlsFailure(Exception):
    """An upstream connection that did not become a usable TLS connection (a connect failure)."""

    def __init__(self, detail: str, outcome: Optional[mtls.Outcome] = None) -> None:
        super().__init__(detail)
        self.detail, self.outcome = detail, outcome

    @property
    def transport_reason(self) -> Optional[str]:
        return self.outcome.tls_error if self.outcome is not None else None


class _Scoped(MutableMapping):
    """A view of the proxy's Stats under one prefix, as the TLS package counts into a mapping."""

    def __init__(self, stats: Any, prefix: str) -> None:
        self.stats, self.prefix = stats, prefix
        stats.declare(*(f"{prefix}.{name}" for name in DECLARED_STATS))

    def __getitem__(self, name: str) -> int:
        return self.stats.get(f"{self.prefix}.{name}")

    def __setitem__(self, name: str, value: int) -> None:
        self.stats.set(f"{self.prefix}.{name}", value)

    def __delitem__(self, name: str) -> None:
        raise TypeError("stats are not removed")

    def __iter__(self) -> Iterator[str]:
        return iter(DECLARED_STATS)

    def __len__(self) -> int:
        return len(DECLARED_STATS)


def discovery_name(discovery: Any) -> Optional[str]:
    """The name a backend's certificate must carry without a SAN list: the DNS hostname, or
    ``service-name.namespace-name`` for Cloud Map (tls.html, "Certificate requirements")."""
    if discovery is None:
        return None
    if discovery.kind == "dns":
        return discovery.hostname
    if discovery.service and discovery.namespace:
        return f"{discovery.service}.{discovery.namespace}"
    return None


def _sans(validation: Optional[Mapping]) -> tuple[str, ...]:
    return tuple((((validation or {}).get("subjectAlternativeNames") or {}).get("match") or {}).get("exact") or ())


def _source(spec: Optional[Mapping]) -> str:
    return next(iter(spec), "") if spec else ""


# ------------------------------------------------------------------------------ material


@dataclasses.dataclass(frozen=True)
class Material:
    """A certificate or a trust bundle as the proxy got it: PEM text and where it came from."""

    source: str  # acm | file | sds
    where: str  # the ARN(s) or the path
    pem: str = ""
    key: str = ""
    password: Optional[bytes] = dataclasses.field(default=None, repr=False)
    problem: Optional[str] = None
    #: Not delivered yet (ACM material on its way from the management service).
    pending: bool = False

    @property
    def path(self) -> str:
        """What Envoy's /certs calls the certificate's path (inline data has none)."""
        return self.where if self.source == "file" else "<inline>"


class _Files:
    """Certificate files read from the proxy container's filesystem, each path once."""

    def __init__(self, host_path: Callable[[str], str]) -> None:
        self.host_path = host_path
        self.read: dict[str, str] = {}

    def text(self, path: str) -> tuple[Optional[str], Optional[str]]:
        """(content, None) or (None, why not)."""
        if path in self.read:
            return self.read[path], None
        try:
            with open(self.host_path(path), encoding="utf-8") as handle:
                content = handle.read()
        except (OSError, UnicodeDecodeError) as error:
            return None, f"Failed to load certificate chain from {path}: {getattr(error, 'strerror', None) or error}"
        self.read[path] = content
        return content, None


# ------------------------------------------------------------------------------ listeners


@dataclasses.dataclass
class ListenerState:
    """One listening port's TLS, as built from a listener's ``tls`` and its material."""

    port: int
    name: str
    mode: str
    spec: Mapping
    certificate: Optional[Material] = None
    trust: Optional[Material] = None
    server: Optional[mtls.TlsServer] = None
    problem: Optional[str] = None

    @property
    def sans(self) -> tuple[str, ...]:
        return _sans(self.spec.get("validation"))

    def dump(self) -> dict:
        out: dict[str, Any] = {"name": self.name, "port": self.port, "mode": self.mode}
        if self.certificate is not None:
            out["certificate"] = {"source": self.certificate.source, self.certificate.source == "acm" and "arn"
                                  or "path": self.certificate.where}
        if self.trust is not None:
            out["validation"] = {"trust": {"source": self.trust.source, "from": self.trust.where},
                                 "subject_alternative_names": list(self.sans), "mutual_tls": True}
        out["state"] = "active" if self.server is not None or self.mode == "DISABLED" else f"failed: {self.problem}"
        return out


class _Listener:
    """A listening port: plaintext connections go to aiohttp as they are; TLS ones (and
    PERMISSIVE's plaintext, whose first byte was read) are terminated here first and then
    handed to the same aiohttp server over a socket pair."""

    def __init__(self, owner: "SidecarTls", port: int, handler: Callable) -> None:
        self.owner, self.port = owner, port

        async def handle(request: web.BaseRequest) -> web.StreamResponse:
            request[LISTENER_PORT] = port
            return await handler(request)

        self.web = web.Server(handle, access_log=None)
        self.server: Optional[asyncio.base_events.Server] = None
        self.tasks: set[asyncio.Task] = set()

    async def start(self, address: str) -> None:
        self.server = await asyncio.get_running_loop().create_server(self._protocol, address, self.port,
                                                                     reuse_address=True)

    def _protocol(self) -> asyncio.BaseProtocol:
        # One call per accepted TCP connection: Envoy's listener downstream_cx_total counts
        # connections, TLS or not, handshake failed or not ("Total connections",
        # https://www.envoyproxy.io/docs/envoy/latest/configuration/listeners/stats).
        self.owner.sidecar.stats.listener(self.port).inc("downstream_cx_total")
        state = self.owner.listener_state(self.port)
        if state is None or state.mode == "DISABLED":
            return self.web()
        reader = asyncio.StreamReader(limit=READ_SIZE)

        def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.ensure_future(self._accept(state, reader, writer))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

        return asyncio.StreamReaderProtocol(reader, connected)

    async def _accept(self, state: ListenerState, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if state.server is None:
                stream = await self._without_certificate(state, reader, writer)
            else:
                connection = await state.server.accept(reader, writer)
                stream = connection.stream
            if stream is not None:
                await self._bridge(stream)
        except (ConnectionError, OSError, asyncio.IncompleteReadError):
            writer.close()

    async def _without_certificate(self, state: ListenerState, reader: asyncio.StreamReader,
                                   writer: asyncio.StreamWriter) -> Optional[mtls.PlainStream]:
        """A TLS listener whose certificate is not available: PERMISSIVE's plaintext still
        works; a TLS client (or any STRICT client) fails the handshake."""
        first = await reader.read(1)
        if state.mode == "PERMISSIVE" and first and first[:1] != b"\x16":
            return mtls.PlainStream(reader, writer, first)
        if first[:1] == b"\x16" and _pending(state):
            # The certificate is on its way (ACM material streams a moment after the
            # configuration that names it): hold the handshake until it is there, as Envoy
            # holds a listener that is still warming, so turning TLS on drops no client.
            deadline = asyncio.get_running_loop().time() + MATERIAL_WAIT
            while asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.05)
                current = self.owner.listener_state(self.port)
                if current is not None and current.server is not None:
                    connection = await current.server.accept(reader, writer, first=first)
                    return connection.stream
                if current is None or not _pending(current):
                    break
        self.owner.listener_stats(self.port)[mtls.CONNECTION_ERROR] += 1
        writer.close()
        return None

    async def _bridge(self, stream: mtls.PlainStream) -> None:
        """Relay a terminated connection to the aiohttp server through a socket pair."""
        loop = asyncio.get_running_loop()
        ours, theirs = socket.socketpair()
        try:
            await loop.connect_accepted_socket(self.web, theirs)
            reader, writer = await asyncio.open_connection(sock=ours, limit=READ_SIZE)
        except BaseException:
            ours.close()
            theirs.close()
            stream.close()
            raise

        async def inbound() -> None:
            try:
                while data := await stream.read(READ_SIZE):
                    writer.write(data)
                    await writer.drain()
            finally:
                if writer.can_write_eof() and not writer.is_closing():
                    with contextlib.suppress(OSError):
                        writer.write_eof()

        async def outbound() -> None:
            while data := await reader.read(READ_SIZE):
                stream.write(data)
                await stream.drain()

        pumps = [asyncio.ensure_future(inbound()), asyncio.ensure_future(outbound())]
        try:
            # The server's side ends the exchange (it closes the connection); when the client
            # leaves first, the server is given a moment to finish and close its end.
            await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
            if not pumps[1].done():
                await asyncio.wait(pumps[1:], timeout=BRIDGE_LINGER)
        finally:
            for pump in pumps:
                pump.cancel()
            writer.close()
            stream.close()
            await stream.wait_closed()

    async def cleanup(self) -> None:
        if self.server is not None:
            self.server.close()
        for task in list(self.tasks):
            task.cancel()
        with contextlib.suppress(Exception):
            await self.web.shutdown(1.0)


# ------------------------------------------------------------------------------ upstreams


@dataclasses.dataclass
class UpstreamPlan:
    """How one cluster's connections are made: TLS under this policy, for this name."""

    cluster: str
    source: str  # clientPolicy | server ACM certificate | server file certificate
    policy: Optional[mtls.ClientTls]
    server_name: Optional[str]
    trust: Optional[Material] = None
    certificate: Optional[Material] = None
    client: Optional[mtls.TlsClient] = None
    problem: Optional[str] = None

    def dump(self) -> dict:
        out: dict[str, Any] = {"name": self.cluster, "tls": self.source}
        if self.trust is not None:
            out["validation"] = {"trust": {"source": self.trust.source, "from": self.trust.where}}
        else:
            out["validation"] = None
        if self.policy is not None:
            sans = list(self.policy.subject_alternative_names)
            out["subject_alternative_names"] = sans or ([self.server_name] if self.trust else [])
        if self.certificate is not None:
            out["client_certificate"] = {"source": self.certificate.source, "path": self.certificate.where}
        out["state"] = "active" if self.problem is None else f"failed: {self.problem}"
        return out


class _Connection:
    """An upstream TLS connection with its HTTP/1.1 client state."""

    def __init__(self, stream: mtls.PlainStream) -> None:
        import h11
        self.stream = stream
        self.h11 = h11.Connection(h11.CLIENT)

    def reusable(self) -> bool:
        import h11
        return self.h11.our_state is h11.IDLE and self.h11.their_state is h11.IDLE

    def close(self) -> None:
        self.stream.close()


class _Answer:
    """An upstream response, read whole (what `envoy` reads of aiohttp's)."""

    def __init__(self, status: int, headers: CIMultiDict, payload: bytes) -> None:
        self.status, self.headers, self._payload = status, headers, payload

    async def read(self) -> bytes:
        return self._payload


class _Exchange:
    """``async with`` one request, as aiohttp's ``session.request(...)`` is used."""

    def __init__(self, owner: "SidecarTls", plan: UpstreamPlan, method: str, url: str, headers: Mapping,
                 data: Optional[bytes], proxy: Optional[str], timeout: Any) -> None:
        self.owner, self.plan, self.method, self.url = owner, plan, method, url
        self.headers, self.data, self.proxy = headers, data, proxy
        self.limit = getattr(timeout, "total", None)

    async def __aenter__(self) -> _Answer:
        return await asyncio.wait_for(self.owner.exchange(self.plan, self.method, self.url, self.headers,
                                                          self.data, self.proxy), self.limit)

    async def __aexit__(self, *exc: object) -> None:
        return None


# ------------------------------------------------------------------------------ the sidecar's TLS


class SidecarTls:
    """The TLS side of one `envoy.Sidecar`: its listeners' contexts, its upstream plans,
    the ACM material it streams from the management service, and the admin views."""

    def __init__(self, sidecar: Any) -> None:
        self.sidecar = sidecar
        self.files = _Files(sidecar.container.host_path)
        self.listeners: dict[int, ListenerState] = {}
        self.plans: dict[tuple[str, int], Optional[UpstreamPlan]] = {}
        self.secrets: dict = {}
        self.secrets_version = ""
        self._have_secrets = asyncio.Event()
        self._watcher: Optional[asyncio.Task] = None
        self._idle: dict[tuple[int, str, int], list[_Connection]] = {}
        self._previous_plans: dict[tuple[str, int], UpstreamPlan] = {}
        self._warned: set[str] = set()

    # ---------------------------------------------------------------- configuration

    async def configure(self, snapshot: Any, first: bool) -> None:
        """A new snapshot: (re)build the listeners' TLS; plans are made again on first use."""
        from mylearning.dataplane import mesh_secrets
        wanted = mesh_secrets.needs(snapshot)
        if wanted and self._watcher is None:
            self._watcher = asyncio.ensure_future(self._watch_secrets())
        if wanted and first and not self._have_secrets.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._have_secrets.wait(), FIRST_SECRETS_WAIT)
        self._build(snapshot)

    def _build(self, snapshot: Any) -> None:
        from mylearning.dataplane.mesh import names
        proxy = snapshot.proxy
        if snapshot.is_gateway:
            wanted = {li.port: (li, names.listener_name(names.INGRESS, li.port)) for li in proxy.listeners}
        else:
            tls_first = next((li for li in proxy.listeners if li.tls), None)
            wanted = {names.INGRESS_PORT: (tls_first, names.listener_name(names.INGRESS, names.INGRESS_PORT))}
        built: dict[int, ListenerState] = {}
        for port, (listener, name) in wanted.items():
            spec = (listener.tls if listener is not None else None) or {}
            if not spec or spec.get("mode", "DISABLED") == "DISABLED":
                if spec:
                    built[port] = ListenerState(port, name, "DISABLED", spec)
                continue
            state = self._listener(port, name, spec)
            previous = self.listeners.get(port)
            if previous is not None and previous.server is not None and (_same(previous, state) or _pending(state)):
                # Nothing changed: keep the context (its files as read). Or the new certificate is
                # still on its way: the listener in service goes on until it is, as Envoy's warms.
                state = previous
            built[port] = state
        self.listeners = built
        self._drop_plans()

    def _listener(self, port: int, name: str, spec: Mapping) -> ListenerState:
        state = ListenerState(port, name, spec["mode"], spec)
        state.certificate = self._certificate(spec.get("certificate"), listener=True)
        validation = spec.get("validation")
        if validation:
            state.trust = self._trust(validation.get("trust"))
        problem = state.certificate.problem or (state.trust.problem if state.trust else None)
        if problem:
            state.problem = problem
            if not _pending(state):
                self._warn(f"listener {name}: {problem}")
            return state
        try:
            listener = mtls.ListenerTls(state.mode, mtls.Certificate(state.certificate.pem, state.certificate.key,
                                                                     state.certificate.password),
                                        trust=state.trust.pem if state.trust else None,
                                        subject_alternative_names=state.sans)
            state.server = mtls.TlsServer(listener, self.listener_stats(port))
        except (ValueError, OSError) as error:  # ssl.SSLError is an OSError: a key that does not fit
            state.problem = f"invalid TLS material: {error}"
            self._warn(f"listener {name}: {state.problem}")
        return state

    def listener_state(self, port: int) -> Optional[ListenerState]:
        return self.listeners.get(port)

    def listener_stats(self, port: int) -> _Scoped:
        from mylearning.dataplane.mesh.names import listener_stat_prefix
        return _Scoped(self.sidecar.stats, listener_stat_prefix(port))

    def _certificate(self, spec: Optional[Mapping], listener: bool) -> Material:
        source = _source(spec)
        if source == "file":
            chain_path, key_path = spec["file"].get("certificateChain", ""), spec["file"].get("privateKey", "")
            chain, problem = self.files.text(chain_path)
            key, key_problem = self.files.text(key_path) if chain is not None else (None, None)
            return Material("file", chain_path, chain or "", key or "", problem=problem or key_problem)
        if source == "acm" and listener:
            arn = spec["acm"].get("certificateArn", "")
            item = (self.secrets.get("certificates") or {}).get(arn)
            if item is None:
                return Material("acm", arn, problem=f"the ACM certificate {arn} has not been delivered (yet)",
                                pending=True)
            if "error" in item:
                return Material("acm", arn, problem=f"the ACM certificate {arn} could not be delivered: {item['error']}")
            return Material("acm", arn, item["certificate_chain"], item["private_key"],
                            item["passphrase"].encode())
        if source == "sds":
            secret = spec["sds"].get("secretName", "")
            return Material("sds", secret, problem=f"SDS secret {secret!r}: the course's proxy has no Secret "
                                                   "Discovery Service provider (SDS is not supported here)")
        return Material(source or "none", "", problem=f"certificate source {source or 'none'!r} is not supported")

    def _trust(self, spec: Optional[Mapping]) -> Material:
        source = _source(spec)
        if source == "file":
            path = spec["file"].get("certificateChain", "")
            text, problem = self.files.text(path)
            return Material("file", path, text or "", problem=problem)
        if source == "acm":
            arns = tuple(spec["acm"].get("certificateAuthorityArns") or ())
            items = [(arn, (self.secrets.get("authorities") or {}).get(arn)) for arn in arns]
            missing = [arn for arn, item in items if item is None]
            failed = [f"{arn}: {item['error']}" for arn, item in items if item is not None and "error" in item]
            problem = (f"the private CA certificate of {', '.join(missing)} has not been delivered (yet)" if missing
                       else f"the private CA certificate could not be read: {'; '.join(failed)}" if failed else None)
            pem = "".join(item["certificate"] for _, item in items if item and "certificate" in item)
            return Material("acm", ",".join(arns), pem, problem=problem, pending=bool(missing))
        if source == "sds":
            secret = spec["sds"].get("secretName", "")
            return Material("sds", secret, problem=f"SDS validation context {secret!r}: the course's proxy has no "
                                                   "Secret Discovery Service provider (SDS is not supported here)")
        return Material(source or "none", "", problem=f"trust source {source or 'none'!r} is not supported")

    def _drop_plans(self) -> None:
        """Configuration or material changed: new plans, and no connection made under an old one
        (a plan whose new material is still on its way keeps the old one meanwhile, see `plan`)."""
        # Plaintext (None) counts as a plan in service too: a cluster turning TLS on keeps
        # sending plaintext until its new material is there, as Envoy warms a changed cluster
        # before it replaces the one in use
        # (https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/cluster_manager#cluster-warming).
        # A cluster still warming (its plan never made, see `plan`) keeps the one it had:
        # several changes in a row (App Mesh sends one per resource updated) must not lose it.
        previous = {k: p for k, p in self._previous_plans.items() if k not in self.plans}
        previous.update({k: p for k, p in self.plans.items() if p is None or p.problem is None})
        self._previous_plans = previous
        self.plans.clear()
        for connections in self._idle.values():
            for connection in connections:
                connection.close()
        self._idle.clear()

    def _warn(self, message: str) -> None:
        if message not in self._warned:
            self._warned.add(message)
            self.sidecar.log("warning", "secret", message)

    # ---------------------------------------------------------------- ACM material

    async def _watch_secrets(self) -> None:
        from mylearning.dataplane.images.envoy import POLL_WAIT, RETRY_SECONDS
        from mylearning.dataplane.mesh_management import management_host
        sidecar = self.sidecar
        while True:
            query = urlencode({"task": sidecar.container.task_arn, "resource": sidecar.resource_text,
                               "version": self.secrets_version, "wait": POLL_WAIT})
            url = f"http://{management_host(sidecar.region)}:443/v1/secrets?{query}"
            try:
                async with sidecar.upstream_http.get(url, proxy=sidecar.container.proxy,
                                                     timeout=aiohttp.ClientTimeout(total=POLL_WAIT + 10)) as answer:
                    status, body = answer.status, await answer.read()
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as error:
                status, body = 0, str(error).encode()
            if status == 200:
                self.secrets = json.loads(body)
                self.secrets_version = self.secrets.get("version", "")
                self._have_secrets.set()
                if sidecar.snapshot is not None:
                    self._build(sidecar.snapshot)
                sidecar.log("info", "secret", f"sds: secrets updated (version {self.secrets_version})")
                continue
            if status != 304:
                await asyncio.sleep(RETRY_SECONDS)

    # ---------------------------------------------------------------- upstream plans

    def plan(self, decision: Any) -> Optional[UpstreamPlan]:
        """How to connect to a RouteDecision's target: None for plaintext."""
        key = (decision.cluster, decision.target_port)
        if key not in self.plans:
            plan = self._plan(decision)
            pending = plan is not None and any(m is not None and m.pending for m in (plan.trust, plan.certificate))
            if pending and key in self._previous_plans:
                return self._previous_plans[key]  # the cluster in service, until the new one is warm
            self.plans[key] = plan
        return self.plans[key]

    def _plan(self, decision: Any) -> Optional[UpstreamPlan]:
        snapshot = self.sidecar.snapshot
        policy = ((decision.client_policy or {}).get("tls")) or None
        node = snapshot.nodes.get(decision.target_node) if snapshot is not None else None
        listener = node.listener(decision.target_port) if node is not None else None
        server = (listener.tls if listener is not None else None) or {}
        name = discovery_name(decision.discovery)
        ports = tuple(policy.get("ports") or ()) if policy else ()
        if policy and policy.get("enforce", True) is not False and (not ports or decision.target_port in ports):
            validation = policy.get("validation") or {}
            trust = self._trust(validation.get("trust"))
            certificate = self._certificate(policy["certificate"], listener=False) if policy.get("certificate") else None
            plan = UpstreamPlan(decision.cluster, "clientPolicy", None, name, trust, certificate)
            plan.problem = trust.problem or (certificate.problem if certificate else None)
            if plan.problem is None:
                plan.policy = mtls.ClientTls(trust=trust.pem, subject_alternative_names=_sans(validation),
                                             certificate=mtls.Certificate(certificate.pem, certificate.key)
                                             if certificate else None)
        elif server.get("mode") in ("STRICT", "PERMISSIVE"):
            certificate = server.get("certificate") or {}
            if "acm" in certificate:
                arn = certificate["acm"].get("certificateArn", "")
                item = (self.secrets.get("roots") or {}).get(arn)
                trust = Material("acm", arn, (item or {}).get("certificate", ""), problem=None if item and
                                 "certificate" in item else f"the root CA of {arn} is not known: "
                                 f"{(item or {}).get('error', 'not delivered (yet)')}", pending=item is None)
                plan = UpstreamPlan(decision.cluster, "server ACM certificate", None, name, trust)
                plan.problem = trust.problem
                if plan.problem is None:
                    plan.policy = mtls.ClientTls(trust=trust.pem)
            else:
                plan = UpstreamPlan(decision.cluster, f"server {_source(certificate) or 'file'} certificate",
                                    mtls.ClientTls(), name)
        else:
            return None
        if plan.policy is not None:
            try:
                plan.client = mtls.TlsClient(plan.policy, _Scoped(self.sidecar.stats, f"cluster.{plan.cluster}"))
            except (ValueError, OSError) as error:
                plan.problem = f"invalid TLS material: {error}"
        else:
            _Scoped(self.sidecar.stats, f"cluster.{plan.cluster}")  # its ssl.* stats, at 0
        if plan.problem and not any(m is not None and m.pending for m in (plan.trust, plan.certificate)):
            self._warn(f"cluster {plan.cluster}: {plan.problem}")
        return plan

    def requester(self, decision: Any) -> Optional[Callable[..., _Exchange]]:
        """A stand-in for ``session.request`` that speaks TLS to the decision's target, or None."""
        plan = self.plan(decision)
        if plan is None:
            return None

        def request(method: str, url: str, *, headers: Mapping, data: Optional[bytes] = None,
                    proxy: Optional[str] = None, allow_redirects: bool = False, timeout: Any = None) -> _Exchange:
            return _Exchange(self, plan, method, url, headers, data, proxy, timeout)

        return request

    async def exchange(self, plan: UpstreamPlan, method: str, url: str, headers: Mapping, data: Optional[bytes],
                       proxy: Optional[str]) -> _Answer:
        """One request over a (kept or new) TLS connection to the URL's host."""
        if plan.problem is not None:
            raise UpstreamTlsFailure(plan.problem)
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port or 80
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        key = (id(plan), host, port)
        for attempt in (1, 2):
            connection, reused = self._take(key), True
            if connection is None:
                connection, reused = await self._connect(plan, host, port, proxy), False
            try:
                answer = await self._http(connection, method, target, headers, data)
            except (ConnectionError, OSError, asyncio.IncompleteReadError, aiohttp.ServerDisconnectedError) as error:
                connection.close()
                if reused and attempt == 1 and getattr(error, "nothing_received", False):
                    continue  # a kept connection the backend had closed: once more on a new one
                raise aiohttp.ServerDisconnectedError(str(error) or None) from None
            except BaseException:
                connection.close()
                raise
            self._keep(key, connection, plan)
            return answer
        raise AssertionError("unreachable")

    def _take(self, key: tuple) -> Optional[_Connection]:
        idle = self._idle.get(key) or []
        while idle:
            connection = idle.pop()
            if connection.reusable():
                return connection
            connection.close()
        return None

    def _keep(self, key: tuple, connection: _Connection, plan: UpstreamPlan) -> None:
        """Keep a connection for the next request, if its plan is still the one in use."""
        import h11
        current = any(p is plan for p in (*self.plans.values(), *self._previous_plans.values()))
        if current and connection.h11.our_state is h11.DONE and connection.h11.their_state is h11.DONE:
            connection.h11.start_next_cycle()
            idle = self._idle.setdefault(key, [])
            if len(idle) < MAX_IDLE:
                idle.append(connection)
                return
        connection.close()

    async def _connect(self, plan: UpstreamPlan, host: str, port: int, proxy: Optional[str]) -> _Connection:
        """A TCP tunnel through the edge (CONNECT), then the TLS handshake."""
        address = self.sidecar.address
        if proxy:
            edge = urlsplit(proxy)
            try:
                reader, writer = await asyncio.open_connection(edge.hostname, edge.port or 80, limit=READ_SIZE,
                                                               local_addr=(address, 0))
            except OSError as error:
                raise UpstreamTlsFailure(f"cannot reach the task's network: {error}") from None
            authority = f"{host}:{port}"
            writer.write(f"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n".encode())
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError) as error:
                writer.close()
                raise UpstreamTlsFailure(f"the tunnel to {authority} failed: {error}") from None
            status = head.split(b" ", 2)[1] if head.count(b" ") >= 1 else b""
            if status != b"200":
                writer.close()
                reason = next((line.split(b":", 1)[1].strip().decode() for line in head.split(b"\r\n")
                               if line.lower().startswith(b"x-mylearning-edge:")), status.decode())
                raise UpstreamTlsFailure(f"no connection to {authority}: {reason}")
        else:  # no edge (unit tests): straight to the address
            try:
                reader, writer = await asyncio.open_connection(host, port, limit=READ_SIZE)
            except OSError as error:
                raise UpstreamTlsFailure(f"cannot connect to {host}:{port}: {error}") from None
        try:
            connection = await plan.client.handshake(reader, writer, server_name=plan.server_name or host)
        except BaseException:  # cancelled (the attempt's timeout): the socket goes too
            writer.close()
            raise
        if connection.stream is None:
            raise UpstreamTlsFailure(connection.outcome.detail, connection.outcome)
        return _Connection(connection.stream)

    async def _http(self, connection: _Connection, method: str, target: str, headers: Mapping,
                    data: Optional[bytes]) -> _Answer:
        import h11
        fields = [(k, v) for k, v in headers.items() if k.lower() != "content-length"]
        if data:
            fields.append(("Content-Length", str(len(data))))
        elif method.upper() in ("POST", "PUT", "PATCH"):
            fields.append(("Content-Length", "0"))
        out = connection.h11.send(h11.Request(method=method, target=target, headers=fields))
        if data:
            out += connection.h11.send(h11.Data(data=data))
        out += connection.h11.send(h11.EndOfMessage())
        connection.stream.write(out)
        await connection.stream.drain()
        response, body, received = None, bytearray(), False
        while True:
            event = connection.h11.next_event()
            if event is h11.NEED_DATA:
                chunk = await connection.stream.read(READ_SIZE)
                if not chunk:
                    error = aiohttp.ServerDisconnectedError("the backend closed the connection")
                    error.nothing_received = not received  # type: ignore[attr-defined]
                    raise error
                received = True
                connection.h11.receive_data(chunk)
                continue
            if isinstance(event, h11.Response):
                response = event
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                break
            elif isinstance(event, h11.ConnectionClosed):
                raise aiohttp.ServerDisconnectedError("the backend closed the connection")
        fields_in = CIMultiDict((k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers)
        return _Answer(response.status_code, fields_in, bytes(body))

    @staticmethod
    def failure_body(body: str, failure: Optional[UpstreamTlsFailure]) -> str:
        """Envoy's local reply for a connection failure, with the TLS transport failure reason."""
        reason = failure.transport_reason if failure is not None else None
        return f"{body}, transport failure reason: {reason}" if reason and body else body

    # ---------------------------------------------------------------- admin

    def certs(self) -> dict:
        """Envoy's ``GET /certs``: one entry per TLS context."""
        contexts = []
        for state in sorted(self.listeners.values(), key=lambda s: s.port):
            if state.server is not None:
                contexts.append({"ca_cert": _details(state.trust) if state.trust else [],
                                 "cert_chain": _details(state.certificate, leaf=True)})
        for plan in self.plans.values():
            if plan is not None and plan.problem is None and (plan.trust or plan.certificate):
                contexts.append({"ca_cert": _details(plan.trust) if plan.trust else [],
                                 "cert_chain": _details(plan.certificate, leaf=True) if plan.certificate else []})
        return {"certificates": contexts}

    def config_dump(self) -> dict:
        return {"@type": "type.mylearning/appmesh.Tls",
                "secrets_version": self.secrets_version,
                "listeners": [s.dump() for s in sorted(self.listeners.values(), key=lambda s: s.port)],
                "clusters": [p.dump() for _, p in sorted(self.plans.items()) if p is not None]}

    async def close(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
        self._drop_plans()

    async def serve(self, port: int, handler: Callable) -> _Listener:
        """A listening port for `handler`, with this proxy's TLS for that port (if any)."""
        listener = _Listener(self, port, handler)
        await listener.start(self.sidecar.address)
        return listener


def _pending(state: ListenerState) -> bool:
    return any(m is not None and m.pending for m in (state.certificate, state.trust))


def _same(a: ListenerState, b: ListenerState) -> bool:
    def material(m: Optional[Material]) -> tuple:
        return (m.source, m.where, m.pem, m.key) if m is not None else ()
    return (a.mode, json.dumps(_thaw(a.spec), sort_keys=True), material(a.certificate), material(a.trust)) == \
        (b.mode, json.dumps(_thaw(b.spec), sort_keys=True), material(b.certificate), material(b.trust))


def _thaw(value: Any) -> Any:
    from mylearning.dataplane.mesh.model import thaw
    return thaw(value)


def _details(material: Optional[Material], leaf: bool = False) -> list[dict]:
    """CertificateDetails of each certificate in a PEM bundle (only the first for a chain)."""
    from cryptography import x509
    if material is None or not material.pem:
        return []
    try:
        certificates = x509.load_pem_x509_certificates(material.pem.encode())
    except ValueError:
        return []
    now = datetime.datetime.now(datetime.timezone.utc)
    out = []
    for certificate in certificates[:1] if leaf else certificates:
        names: list[dict] = []
        with contextlib.suppress(x509.ExtensionNotFound):
            san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            names = ([{"dns": n} for n in san.get_values_for_type(x509.DNSName)]
                     + [{"uri": n} for n in san.get_values_for_type(x509.UniformResourceIdentifier)]
                     + [{"ip_address": str(n)} for n in san.get_values_for_type(x509.IPAddress)])
        expires = certificate.not_valid_after_utc
        out.append({"path": material.path, "serial_number": format(certificate.serial_number, "x"),
                    "subject_alt_names": names,
                    "days_until_expiration": str(max(0, (expires - now).days)),
                    "valid_from": _timestamp(certificate.not_valid_before_utc),
                    "expiration_time": _timestamp(expires)})
    return out


def _timestamp(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


__all__ = ["LISTENER_PORT", "ListenerState", "Material", "SidecarTls", "UpstreamPlan", "UpstreamTlsFailure",
           "discovery_name"]
