"""The data plane's edge: an HTTP forward proxy on loopback that stands for the internet.

DESIGN.md, fixed interface 6 ("Reaching what runs"): any HTTP client that is told to use
this proxy (``curl -x``, ``urllib``'s ``ProxyHandler``, ``requests``' ``proxies=``,
``aiohttp``'s ``proxy=``) reaches load balancers by their DNS names and tasks by the
private IPs that ``describe_tasks`` reports, although both really listen on loopback
addresses 127.x.y.z. The proxy is ordinary HTTP/1.1, so nothing course-specific has to be
installed in the client, and the same notebook cells work against real AWS URLs without it.

What it does, and where the rule comes from:

* Absolute-form requests (``GET http://10.0.1.23:8080/health HTTP/1.1``) are forwarded
  with the target rewritten to origin-form and ``Host`` replaced by the target URI's
  authority (RFC 9112 §3.2.2, §3.2.4).
* Hop-by-hop fields are not forwarded: ``Connection`` and every field it names,
  ``Proxy-Connection``, ``Keep-Alive``, ``TE``, ``Trailer``, ``Transfer-Encoding``,
  ``Upgrade``, ``Proxy-Authorization``, ``Proxy-Authenticate`` (RFC 9110 §7.6.1; RFC 9112
  §7.1 for Transfer-Encoding, which each hop frames for itself). Bodies are streamed in
  both directions and re-framed per hop (chunked or Content-Length, as each side needs).
* ``Via: 1.1 mylearning-edge`` is appended in both directions (RFC 9110 §7.6.3).
* ``CONNECT host:port`` opens a TCP tunnel and relays bytes both ways (RFC 9110 §9.3.6),
  so TLS between the client and a load balancer's HTTPS listener is end to end.
* Keep-alive on both sides (RFC 9112 §9.3): each client connection keeps one upstream
  connection per destination it has used and reuses it for the next request there.
* Failures answer the way a gateway does (RFC 9110 §15.6.3 502, §15.6.5 504), with a
  plain-text body that names the host and an ``X-MyLearning-Edge`` header saying which
  case it was (``no-route``, ``refused``, ``timeout``, ``upstream-reset``); malformed
  requests get 400 (RFC 9112 §3).

Security groups (issue 11) plug in through ``admit``. A security group does not answer a
connection it does not allow: it drops the SYN, and the client waits until its own
connect timeout ("Connection timed out" in curl) --
https://docs.aws.amazon.com/vpc/latest/userguide/vpc-security-groups.html ("If there is no
rule that allows the traffic, it is dropped"; security groups have no deny answer). The
edge reproduces what a client sees behind a proxy on the internet: nothing for the
connect timeout, then ``504 Gateway Timeout`` marked ``timeout`` -- indistinguishable, as
on AWS, from a host that never answers. A client with a shorter timeout of its own
(``curl -m 2``) sees its own timeout, as it would on AWS. ``stats()`` counts these
separately as ``dropped`` so that graders and the lead's tooling can tell them apart.
Admission is decided when an upstream connection is opened; an open connection survives a
later rule change, like a tracked connection on AWS
(https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/security-group-connection-tracking.html).

Where it differs from a general-purpose proxy, on purpose: it binds to loopback only and
connects to loopback only (a resolver that answers anything else is treated as no route),
so nothing the course runs ever reaches or is reachable from the real network; it answers
``Expect: 100-continue`` itself instead of forwarding it (RFC 9110 §10.1.1 lets a server
send 100 at once); it drops trailers (RFC 9110 §6.5.1 lets a recipient discard them);
``Upgrade`` is hop-by-hop and dropped, so WebSocket needs CONNECT; ``https://``
absolute-form requests (TLS to be originated by the proxy) are refused with 400.
"""
from __future__ import annotations

import asyncio
import contextlib
import inspect
import ipaddress
import socket
from collections import Counter
from typing import Awaitable, Callable, Optional, Union
from urllib.parse import urlsplit

import h11

Address = tuple[str, int]
Resolver = Callable[[str, int], Union[Awaitable[Optional[Address]], Optional[Address]]]
#: ``admit(source address, host, port, serving address)``: the client's loopback address,
#: what it asked for, and the loopback address that answers for it.
Admitter = Callable[[str, str, int, str], Union[bool, Awaitable[bool]]]

#: Via's received-protocol and pseudonym (RFC 9110 §7.6.3).
VIA = b"1.1 mylearning-edge"
#: Fields that describe one connection, not the message (RFC 9110 §7.6.1; RFC 9112 §7.1,
#: §9.6). ``Proxy-Connection`` is not standard but clients still send it (RFC 9112
#: Appendix C.2.2 says to treat it as hop-by-hop).
HOP_BY_HOP = frozenset({
    b"connection", b"proxy-connection", b"keep-alive", b"te", b"trailer",
    b"transfer-encoding", b"upgrade", b"proxy-authorization", b"proxy-authenticate",
})
#: The header that says which of the edge's own answers this is.
EDGE_HEADER = b"x-mylearning-edge"
#: The outcomes ``stats()`` counts.
OUTCOMES = ("ok", "no_route", "refused", "timeout", "dropped", "upstream_reset",
            "bad_request")
READ_SIZE = 65536
#: Writes pause for the peer when this much is buffered (backpressure for streamed bodies).
HIGH_WATER = 256 * 1024
#: Upstream connections a client connection keeps open at most (one per destination).
MAX_UPSTREAMS_PER_CLIENT = 8


class _Refusal(Exception):
    """A request the edge answers itself (502/504/400), with the outcome to count."""

    def __init__(self, outcome: str, status: int, message: str) -> None:
        super().__init__(message)
        self.outcome, self.status, self.message = outcome, status, message


class _UpstreamLost(Exception):
    """The upstream connection failed before or during its response."""


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _split_hostport(authority: str, default_port: Optional[int]) -> Address:
    """Split ``host[:port]`` / ``[v6]:port`` (RFC 9110 §4.2.1 authority), lower-cased host."""
    parts = urlsplit("//" + authority)
    if parts.username is not None or parts.password is not None or not parts.hostname:
        raise ValueError(f"bad authority {authority!r}")
    port = parts.port  # raises ValueError on a non-numeric or out-of-range port
    if port is None:
        if default_port is None:
            raise ValueError(f"{authority!r} has no port")
        port = default_port
    return parts.hostname.lower(), port


def _forwardable(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """Drop hop-by-hop fields, including every field that ``Connection`` names."""
    named = {token.strip().lower() for name, value in headers if name == b"connection"
             for token in value.split(b",")}
    drop = HOP_BY_HOP | named
    return [(name, value) for name, value in headers if name not in drop]


def _with_via(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    vias = [value for name, value in headers if name == b"via"]
    rest = [(name, value) for name, value in headers if name != b"via"]
    return rest + [(b"via", b", ".join([*vias, VIA]))]


def _is_chunked(headers: list[tuple[bytes, bytes]]) -> bool:
    return any(name == b"transfer-encoding" for name, _ in headers)


class _Upstream:
    """One keep-alive connection to a destination, with its own HTTP/1.1 client state."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.h11 = h11.Connection(h11.CLIENT)
        self.used = False

    def reusable(self) -> bool:
        return (self.h11.our_state is h11.IDLE and self.h11.their_state is h11.IDLE
                and not self.reader.at_eof() and not self.writer.is_closing())

    async def next_event(self, before_wait: Callable[[], Awaitable[None]]) -> object:
        while True:
            event = self.h11.next_event()
            if event is not h11.NEED_DATA:
                return event
            await before_wait()  # what is ready reaches the client before we wait again
            data = await self.reader.read(READ_SIZE)
            self.h11.receive_data(data)

    def close(self) -> None:
        self.writer.close()


class _Client:
    """One client connection: its HTTP/1.1 server state and its upstream connections."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.h11 = h11.Connection(h11.SERVER)
        peer = writer.get_extra_info("peername") or ("127.0.0.1", 0)
        self.source_ip: str = peer[0]
        self.upstreams: dict[Address, _Upstream] = {}
        self.out: list[bytes] = []

    def close(self) -> None:
        for upstream in self.upstreams.values():
            upstream.close()
        self.upstreams.clear()
        self.writer.close()


class EdgeProxy:
    """The edge. ``resolve(host, port)`` maps a DNS name or private IP to the loopback
    address that really serves it (or None); ``admit(source_ip, host, port, served)`` says whether
    the destination's security groups let this source in (default: allow)."""

    def __init__(self, resolve: Resolver, admit: Optional[Admitter] = None, *,
                 connect_timeout: float = 5.0) -> None:
        self._resolve = resolve
        self._admit = admit
        #: Both the upstream connect timeout and how long a dropped connection waits
        #: before its 504, because on AWS the two look the same to the client.
        self.connect_timeout = connect_timeout
        self._server: Optional[asyncio.base_events.Server] = None
        self._clients: set[_Client] = set()
        self._tasks: set[asyncio.Task] = set()
        self._counts: Counter[str] = Counter()
        self._outcomes: Counter[str] = Counter({name: 0 for name in OUTCOMES})
        self.url: Optional[str] = None

    # -- lifecycle ------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on ``host:port`` (a loopback address; 0 picks a free port); return the
        proxy URL. DESIGN.md: everything the data plane runs binds to loopback only."""
        if not _is_loopback(host):
            raise ValueError(f"the edge binds to loopback only, not {host!r}")
        self._server = await asyncio.start_server(self._serve, host, port,
                                                  limit=READ_SIZE)
        bound = self._server.sockets[0].getsockname()
        shown = f"[{bound[0]}]" if ":" in bound[0] else bound[0]
        self.url = f"http://{shown}:{bound[1]}"
        return self.url

    async def close(self) -> None:
        """Stop listening, close every client and upstream connection, and wait for the
        handlers to finish, so that nothing outlives the data plane."""
        if self._server is not None:
            self._server.close()
        for client in list(self._clients):
            client.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    def stats(self) -> dict:
        """What the edge has carried: requests forwarded or answered, tunnels opened, open
        client connections, bytes from and to clients, and one count per outcome."""
        return {
            "requests": self._counts["requests"],
            "tunnels": self._counts["tunnels"],
            "connections_total": self._counts["connections"],
            "active_connections": len(self._clients),
            "upstream_connections_opened": self._counts["upstreams"],
            "bytes_in": self._counts["bytes_in"],
            "bytes_out": self._counts["bytes_out"],
            "outcomes": dict(self._outcomes),
        }

    # -- per client connection -------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        client = _Client(reader, writer)
        self._clients.add(client)
        self._counts["connections"] += 1
        try:
            await self._serve_client(client)
        except (ConnectionError, asyncio.IncompleteReadError, OSError, h11.ProtocolError):
            pass  # the client or the upstream went away, or a framing error mid-message
        finally:
            self._clients.discard(client)
            self._tasks.discard(task)
            client.close()

    async def _serve_client(self, client: _Client) -> None:
        while True:
            try:
                event = await self._client_event(client)
            except h11.RemoteProtocolError as error:
                await self._bad_request(client, str(error) or "malformed HTTP request",
                                        error.error_status_hint)
                return
            if isinstance(event, h11.Request):
                self._counts["requests"] += 1
                tunnelled = await self._handle(client, event)
                if tunnelled:
                    return
            elif isinstance(event, h11.ConnectionClosed) or event is h11.PAUSED and not (
                    client.h11.our_state is h11.DONE and client.h11.their_state is h11.DONE):
                return
            # Data/EndOfMessage left over after an answered request: drain and go on.
            if client.h11.our_state is h11.MUST_CLOSE or client.h11.their_state is h11.MUST_CLOSE:
                return
            if client.h11.our_state is h11.DONE and client.h11.their_state is h11.DONE:
                client.h11.start_next_cycle()

    async def _client_event(self, client: _Client) -> object:
        while True:
            event = client.h11.next_event()
            if event is not h11.NEED_DATA:
                return event
            await self._flush(client)
            data = await client.reader.read(READ_SIZE)
            self._counts["bytes_in"] += len(data)
            client.h11.receive_data(data)

    def _emit(self, client: _Client, event: object) -> None:
        data = client.h11.send(event)
        if data:
            client.out.append(data)

    async def _flush(self, client: _Client) -> None:
        if client.out:
            data = b"".join(client.out)
            client.out.clear()
            self._counts["bytes_out"] += len(data)
            client.writer.write(data)
            if client.writer.transport.get_write_buffer_size() > HIGH_WATER:
                await client.writer.drain()

    # -- one request ---------------------------------------------------------------

    async def _handle(self, client: _Client, request: h11.Request) -> bool:
        """Answer one request; True when the connection became a tunnel (and is done)."""
        if client.h11.they_are_waiting_for_100_continue:
            self._emit(client, h11.InformationalResponse(status_code=100, headers=[]))
        try:
            if request.method == b"CONNECT":
                return await self._tunnel(client, request)
            await self._forward(client, request)
            self._outcomes["ok"] += 1
        except _Refusal as refusal:
            self._outcomes[refusal.outcome] += 1
            await self._answer(client, refusal)
        return False

    def _destination(self, request: h11.Request) -> tuple[Address, bytes, bytes]:
        """(host, port) of an absolute-form target, its origin-form, and its authority."""
        target = request.target.decode("ascii", "replace")
        scheme, sep, rest = target.partition("://")
        if not sep or scheme.lower() != "http":
            if target.startswith("/"):
                raise _Refusal("bad_request", 400, "this is a forward proxy: send the "
                               "request in absolute form (http://host:port/path), as a "
                               "client configured with this proxy does")
            raise _Refusal("bad_request", 400, f"the edge forwards http:// targets only; "
                           f"use CONNECT for TLS (got {target[:80]!r})")
        cut = min((i for i in (rest.find("/"), rest.find("?"), rest.find("#")) if i >= 0),
                  default=len(rest))
        authority, path = rest[:cut], rest[cut:].split("#", 1)[0]
        try:
            destination = _split_hostport(authority, 80)
        except ValueError as error:
            raise _Refusal("bad_request", 400, f"bad request target: {error}") from None
        if not path.startswith("/"):
            path = "/" + path
        return destination, path.encode("ascii"), authority.encode("ascii")

    async def _route(self, client: _Client, host: str, port: int) -> Address:
        """The loopback address that serves host:port, after the security-group check."""
        answer = self._resolve(host, port)
        if inspect.isawaitable(answer):
            answer = await answer
        if answer is None or not _is_loopback(answer[0]):
            raise _Refusal("no_route", 502, f"no task or load balancer answers at "
                           f"{host}:{port} (nothing with that name or private IP runs "
                           f"in the embedded AWS)")
        if self._admit is not None:
            allowed = self._admit(client.source_ip, host, port, answer[0])
            if inspect.isawaitable(allowed):
                allowed = await allowed
            if not allowed:
                # What a client behind a proxy sees when a security group drops the SYN.
                await asyncio.sleep(self.connect_timeout)
                raise _Refusal("dropped", 504, self._timeout_message(host, port))
        return answer

    def _timeout_message(self, host: str, port: int) -> str:
        return (f"no answer from {host}:{port} within {self.connect_timeout:g} s. On AWS "
                f"this is what a security group that does not allow your source looks "
                f"like: the connection is dropped, never refused.")

    async def _connect(self, client: _Client, host: str, port: int, real: Address
                       ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        # The upstream sees the client's own address as its source, as a packet from the
        # internet keeps its source IP (the ALB's X-Forwarded-For and source-ip rules, and
        # security groups further in, depend on it).
        local = (client.source_ip, 0) if _is_loopback(client.source_ip) else None
        try:
            try:
                opened = asyncio.open_connection(real[0], real[1], local_addr=local,
                                                 limit=READ_SIZE)
                reader, writer = await asyncio.wait_for(opened, self.connect_timeout)
            except OSError as error:
                if local is None or isinstance(error, ConnectionRefusedError):
                    raise
                opened = asyncio.open_connection(real[0], real[1], limit=READ_SIZE)
                reader, writer = await asyncio.wait_for(opened, self.connect_timeout)
        except ConnectionRefusedError:
            raise _Refusal("refused", 502, f"{host}:{port} refused the connection: the "
                           f"task or load balancer runs, but nothing listens on port "
                           f"{port}") from None
        except asyncio.TimeoutError:
            raise _Refusal("timeout", 504, self._timeout_message(host, port)) from None
        except OSError as error:
            raise _Refusal("refused", 502, f"cannot connect to {host}:{port}: "
                           f"{error.strerror or error}") from None
        sock = writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._counts["upstreams"] += 1
        return reader, writer

    async def _upstream(self, client: _Client, host: str, port: int) -> _Upstream:
        key = (host, port)
        upstream = client.upstreams.get(key)
        if upstream is not None and upstream.reusable():
            return upstream
        if upstream is not None:
            upstream.close()
            del client.upstreams[key]
        real = await self._route(client, host, port)
        upstream = _Upstream(*await self._connect(client, host, port, real))
        if len(client.upstreams) >= MAX_UPSTREAMS_PER_CLIENT:
            oldest = next(iter(client.upstreams))
            client.upstreams.pop(oldest).close()
        client.upstreams[key] = upstream
        return upstream

    async def _forward(self, client: _Client, request: h11.Request) -> None:
        (host, port), path, authority = self._destination(request)
        headers = [(name, value) for name, value in _forwardable(list(request.headers))
                   if name not in (b"host", b"expect")]
        chunked = _is_chunked(list(request.headers))
        headers = [(b"host", authority), *headers]
        if chunked:
            headers.append((b"transfer-encoding", b"chunked"))
        outbound = h11.Request(method=request.method, target=path,
                               headers=_with_via(headers))
        has_body = chunked or any(name == b"content-length" and value.strip() != b"0"
                                  for name, value in request.headers)
        for attempt in (1, 2):
            upstream = await self._upstream(client, host, port)
            reused = upstream.used
            upstream.used = True
            try:
                await self._exchange(client, upstream, outbound, request.method, has_body)
                break
            except _UpstreamLost as lost:
                upstream.close()
                client.upstreams.pop((host, port), None)
                # A kept-alive connection the upstream closed while idle: retry once on a
                # fresh one when nothing of the request's body has been consumed
                # (RFC 9112 §9.3.1 allows automatic retry of such requests).
                if attempt == 1 and reused and not has_body and lost.args[0] == "before":
                    continue
                if lost.args[0] == "during":
                    # Part of the response is on its way: all a proxy can do is cut the
                    # client's connection too, so the client sees the response is short.
                    self._outcomes["upstream_reset"] += 1
                    raise ConnectionResetError("upstream reset mid-response") from None
                raise _Refusal("upstream_reset", 502, f"{host}:{port} closed the "
                               f"connection without a complete response") from None
        if upstream.h11.our_state is h11.DONE and upstream.h11.their_state is h11.DONE:
            upstream.h11.start_next_cycle()
        else:
            upstream.close()
            client.upstreams.pop((host, port), None)

    async def _exchange(self, client: _Client, upstream: _Upstream, outbound: h11.Request,
                        method: bytes, has_body: bool) -> None:
        """Send one request upstream and stream its response back to the client."""
        pump: Optional[asyncio.Task] = None
        try:
            head = upstream.h11.send(outbound)
            if has_body:
                upstream.writer.write(head)
                pump = asyncio.ensure_future(self._pump_request(client, upstream))
            else:
                upstream.writer.write(head + upstream.h11.send(h11.EndOfMessage()))
        except (OSError, h11.LocalProtocolError) as error:
            raise _UpstreamLost("before") from error
        started = False
        try:
            while True:
                if pump is not None and pump.done() and pump.exception() is not None:
                    raise pump.exception()  # type: ignore[misc]
                try:
                    event = await upstream.next_event(lambda: self._flush(client))
                except (OSError, h11.RemoteProtocolError) as error:
                    raise _UpstreamLost("during" if started else "before") from error
                if isinstance(event, h11.InformationalResponse):
                    if event.status_code not in (100, 101):
                        self._emit(client, h11.InformationalResponse(
                            status_code=event.status_code,
                            headers=_with_via(_forwardable(list(event.headers)))))
                elif isinstance(event, h11.Response):
                    started = True
                    self._emit(client, h11.Response(
                        status_code=event.status_code, reason=event.reason,
                        headers=_with_via(_forwardable(list(event.headers)))))
                elif isinstance(event, h11.Data):
                    self._emit(client, h11.Data(data=event.data))
                elif isinstance(event, h11.EndOfMessage):
                    self._emit(client, h11.EndOfMessage())
                    break
                elif isinstance(event, h11.ConnectionClosed):
                    raise _UpstreamLost("during" if started else "before")
            if pump is not None:
                if not pump.done():
                    # The response is complete before the request body: the client's
                    # connection cannot be reused (RFC 9112 §9.6 lets a server close).
                    pump.cancel()
                    upstream.close()
                    raise ConnectionResetError("response finished before request body")
                pump.result()
            await self._flush(client)
        finally:
            if pump is not None:
                if not pump.done():
                    pump.cancel()
                elif not pump.cancelled():
                    pump.exception()  # retrieved: its failure is already handled above

    async def _pump_request(self, client: _Client, upstream: _Upstream) -> None:
        """Stream the client's request body upstream (re-framed by the upstream's h11)."""
        try:
            await self._pump_body(client, upstream)
        except BaseException:
            upstream.close()  # so the response side stops waiting for an answer
            raise

    async def _pump_body(self, client: _Client, upstream: _Upstream) -> None:
        while True:
            event = await self._client_event(client)
            if isinstance(event, h11.Data):
                upstream.writer.write(upstream.h11.send(h11.Data(data=event.data)))
                if upstream.writer.transport.get_write_buffer_size() > HIGH_WATER:
                    await upstream.writer.drain()
            elif isinstance(event, h11.EndOfMessage):
                upstream.writer.write(upstream.h11.send(h11.EndOfMessage()))
                return
            else:
                raise ConnectionResetError("client went away mid-body")

    # -- CONNECT -------------------------------------------------------------------

    async def _tunnel(self, client: _Client, request: h11.Request) -> bool:
        try:
            host, port = _split_hostport(request.target.decode("ascii", "replace"), None)
        except ValueError as error:
            raise _Refusal("bad_request", 400, f"CONNECT needs host:port ({error})") from None
        while not isinstance(await self._client_event(client), h11.EndOfMessage):
            pass
        real = await self._route(client, host, port)
        reader, writer = await self._connect(client, host, port, real)
        self._counts["tunnels"] += 1
        self._outcomes["ok"] += 1
        self._emit(client, h11.Response(status_code=200, reason=b"Connection Established",
                                        headers=[(b"via", VIA)]))
        await self._flush(client)
        early, _ = client.h11.trailing_data
        if early:
            writer.write(early)
        try:
            await asyncio.gather(
                self._relay(client.reader, writer, "bytes_in"),
                self._relay(reader, client.writer, "bytes_out"))
        finally:
            writer.close()
        return True

    async def _relay(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter,
                     counter: str) -> None:
        try:
            while True:
                data = await source.read(READ_SIZE)
                if not data:
                    break
                self._counts[counter] += len(data)
                sink.write(data)
                if sink.transport.get_write_buffer_size() > HIGH_WATER:
                    await sink.drain()
            if sink.can_write_eof():
                sink.write_eof()  # half-close: the other direction may still be talking
        except (ConnectionError, OSError):
            sink.close()

    # -- the edge's own answers ----------------------------------------------------

    async def _answer(self, client: _Client, refusal: _Refusal) -> None:
        body = (refusal.message + "\n").encode()
        tag = refusal.outcome.replace("_", "-").replace("dropped", "timeout")
        headers = [(b"content-type", b"text/plain; charset=utf-8"),
                   (b"content-length", str(len(body)).encode()),
                   (EDGE_HEADER, tag.encode()), (b"via", VIA)]
        with contextlib.suppress(h11.RemoteProtocolError):
            while client.h11.their_state is h11.SEND_BODY:
                if client.h11.next_event() is h11.NEED_DATA:
                    break  # a body not yet received: not worth reading for an error
        if client.h11.their_state is not h11.DONE:
            # The request's body was not read; the connection cannot carry another request.
            headers.append((b"connection", b"close"))
        if client.h11.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
            return  # a response is already under way: nothing more can be said
        reason = {400: b"Bad Request", 414: b"URI Too Long",
                  431: b"Request Header Fields Too Large", 502: b"Bad Gateway",
                  504: b"Gateway Timeout"}
        self._emit(client, h11.Response(status_code=refusal.status,
                                        reason=reason.get(refusal.status, b""),
                                        headers=headers))
        self._emit(client, h11.Data(data=body))
        self._emit(client, h11.EndOfMessage())
        await self._flush(client)

    async def _bad_request(self, client: _Client, message: str, status: int = 400) -> None:
        """400 for what h11 cannot parse (RFC 9112 §3), then close: after a framing error
        the rest of the stream cannot be trusted (RFC 9112 §11.2)."""
        self._outcomes["bad_request"] += 1
        if client.h11.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
            return
        await self._answer(client, _Refusal("bad_request", status, f"bad request: {message}"))
