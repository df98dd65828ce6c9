"""The edge proxy against real servers on loopback addresses, through real clients.

Each test runs its own event loop with aiohttp servers on 127.0.7x.y addresses (standing
for tasks' ENIs), the proxy, and a client: a raw HTTP/1.1 client built on h11 where the
test must control the bytes, or aiohttp/urllib/curl-like clients where it shows that an
ordinary client works unchanged.
"""
from __future__ import annotations

import asyncio
import datetime
import hashlib
import ipaddress
import json
import socket
import ssl
import urllib.request
from typing import Awaitable, Optional

import aiohttp
import h11
import pytest
from aiohttp import web

from mylearning.dataplane.edge import EdgeProxy

Routes = dict[tuple[str, int], tuple[str, int]]


def run(coro: Awaitable[None], timeout: float = 30.0) -> None:
    async def bounded() -> None:
        await asyncio.wait_for(coro, timeout)
    asyncio.run(bounded())


async def serve(app: web.Application, host: str, **kwargs) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app, access_log=None, **kwargs)
    await runner.setup()
    site = web.TCPSite(runner, host, 0)
    await site.start()
    return runner, runner.addresses[0][1]


def echo_app(*extra: web.RouteDef) -> web.Application:
    """Answers with what it received: the request line, headers, body digest, peer."""
    async def echo(request: web.Request) -> web.Response:
        body = await request.read()
        peer = request.transport.get_extra_info("peername")
        return web.json_response({
            "method": request.method, "target": request.raw_path,
            "headers": [[k.decode().lower(), v.decode()] for k, v in request.raw_headers],
            "length": len(body), "sha256": hashlib.sha256(body).hexdigest(),
            "peer": [peer[0], peer[1]],
        }, headers={"Keep-Alive": "timeout=5", "Connection": "x-internal",
                    "X-Internal": "upstream-only", "X-Served-By": request.host})

    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.add_routes(extra)
    app.router.add_route("*", "/{tail:.*}", echo)
    return app


class RawClient:
    """An HTTP/1.1 client on one connection to the proxy, where the test chooses every
    header; h11 frames it, so the proxy meets a parser that is not its own."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.conn = h11.Connection(h11.CLIENT)

    @classmethod
    async def open(cls, proxy_url: str, source: Optional[str] = None) -> "RawClient":
        host, port = proxy_url.removeprefix("http://").rsplit(":", 1)
        local = (source, 0) if source else None
        return cls(*await asyncio.open_connection(host, int(port), local_addr=local))

    async def event(self) -> object:
        while True:
            event = self.conn.next_event()
            if event is not h11.NEED_DATA:
                return event
            self.conn.receive_data(await self.reader.read(65536))

    async def send(self, *events: object) -> None:
        for event in events:
            self.writer.write(self.conn.send(event))
        await self.writer.drain()

    async def request(self, method: str, target: str, headers: list[tuple[str, str]],
                      body: bytes = b"") -> tuple[h11.Response, bytes]:
        if body and not any(k.lower() in ("content-length", "transfer-encoding")
                            for k, _ in headers):
            headers = [*headers, ("Content-Length", str(len(body)))]
        await self.send(h11.Request(method=method, target=target, headers=headers))
        if body:
            await self.send(h11.Data(data=body))
        await self.send(h11.EndOfMessage())
        return await self.response()

    async def response(self) -> tuple[h11.Response, bytes]:
        response = await self.event()
        while isinstance(response, h11.InformationalResponse):
            response = await self.event()
        assert isinstance(response, h11.Response), response
        chunks = []
        while True:
            event = await self.event()
            if isinstance(event, h11.EndOfMessage):
                break
            chunks.append(event.data)
        if self.conn.our_state is h11.DONE and self.conn.their_state is h11.DONE:
            self.conn.start_next_cycle()
        return response, b"".join(chunks)

    def close(self) -> None:
        self.writer.close()


def header(response: h11.Response, name: str) -> Optional[str]:
    values = [v.decode() for k, v in response.headers if k == name.lower().encode()]
    return ", ".join(values) if values else None


def closed_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def test_forward_rewrites_target_host_and_hop_by_hop_fields() -> None:
    async def scenario() -> None:
        runner, port = await serve(echo_app(), "127.0.71.1")
        proxy = EdgeProxy(lambda h, p: {("10.0.1.23", 8080): ("127.0.71.1", port)}.get((h, p)))
        url = await proxy.start()
        client = await RawClient.open(url)
        response, body = await client.request("GET", "http://10.0.1.23:8080/health?x=1", [
            ("Host", "wrong.example"), ("Proxy-Authorization", "Basic c2VjcmV0"),
            ("Proxy-Connection", "keep-alive"), ("Connection", "keep-alive, X-Hop"),
            ("X-Hop", "only-for-the-proxy"), ("Keep-Alive", "timeout=30"), ("TE", "trailers"),
            ("X-End", "end-to-end"), ("Via", "1.1 learner-laptop")])
        seen = json.loads(body)
        names = [k for k, _ in seen["headers"]]
        assert response.status_code == 200
        assert seen["method"] == "GET" and seen["target"] == "/health?x=1"
        assert dict(seen["headers"])["host"] == "10.0.1.23:8080"
        assert dict(seen["headers"])["x-end"] == "end-to-end"
        assert dict(seen["headers"])["via"] == "1.1 learner-laptop, 1.1 mylearning-edge"
        for hop in ("proxy-authorization", "proxy-connection", "x-hop", "keep-alive", "te"):
            assert hop not in names
        # ... and on the way back
        assert header(response, "via") == "1.1 mylearning-edge"
        assert header(response, "x-internal") is None and header(response, "keep-alive") is None
        assert header(response, "x-served-by") == "10.0.1.23:8080"
        client.close()
        await proxy.close()
        await runner.cleanup()

    run(scenario())


def test_ordinary_clients_work_unchanged() -> None:
    """aiohttp's proxy= and urllib's ProxyHandler, as a learner's notebook would use them."""
    async def scenario() -> None:
        runner, port = await serve(echo_app(), "127.0.71.2")
        routes = {("internal-courses-alb-123.us-east-1.elb.amazonaws.com", 80): ("127.0.71.2", port)}
        proxy = EdgeProxy(lambda h, p: routes.get((h, p)))
        url = await proxy.start()
        target = "http://internal-courses-alb-123.us-east-1.elb.amazonaws.com/courses"
        async with aiohttp.ClientSession() as session:
            async with session.post(target, proxy=url, json={"title": "ECS"}) as response:
                assert response.status == 200
                assert (await response.json())["target"] == "/courses"

        def with_urllib() -> tuple[int, dict]:
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": url}))
            with opener.open(target + "?page=2", timeout=10) as answer:
                return answer.status, json.loads(answer.read())

        status, seen = await asyncio.to_thread(with_urllib)
        assert status == 200 and seen["target"] == "/courses?page=2"
        await proxy.close()
        await runner.cleanup()

    run(scenario())


def test_keep_alive_across_two_destinations() -> None:
    async def scenario() -> None:
        runner_a, port_a = await serve(echo_app(), "127.0.72.1")
        runner_b, port_b = await serve(echo_app(), "127.0.72.2")
        routes = {("10.0.1.10", 8080): ("127.0.72.1", port_a),
                  ("10.0.2.20", 8080): ("127.0.72.2", port_b)}
        proxy = EdgeProxy(lambda h, p: routes.get((h, p)))
        url = await proxy.start()
        client = await RawClient.open(url)
        peers: dict[str, set] = {"10.0.1.10": set(), "10.0.2.20": set()}
        for ip in ["10.0.1.10", "10.0.2.20"] * 3:
            response, body = await client.request("GET", f"http://{ip}:8080/", [("Host", ip)])
            assert response.status_code == 200
            seen = json.loads(body)
            assert seen["headers"][0] == ["host", f"{ip}:8080"]
            peers[ip].add(tuple(seen["peer"]))
        # One upstream connection per destination, each reused for all three requests.
        assert all(len(p) == 1 for p in peers.values())
        stats = proxy.stats()
        assert stats["connections_total"] == 1 and stats["active_connections"] == 1
        assert stats["upstream_connections_opened"] == 2 and stats["requests"] == 6
        # The upstream sees the client's own address as the source, as on the internet.
        assert {p[0] for ps in peers.values() for p in ps} == {"127.0.0.1"}
        client.close()
        await proxy.close()
        await runner_a.cleanup()
        await runner_b.cleanup()

    run(scenario())


def test_source_address_reaches_admit_and_upstream() -> None:
    async def scenario() -> None:
        runner, port = await serve(echo_app(), "127.0.72.3")
        calls: list[tuple[str, str, int, str]] = []

        def admit(source: str, host: str, dest_port: int, served: str) -> bool:
            calls.append((source, host, dest_port, served))
            return True

        proxy = EdgeProxy(lambda h, p: ("127.0.72.3", port), admit)
        client = await RawClient.open(await proxy.start(), source="127.0.55.5")
        response, body = await client.request("GET", "http://10.0.3.3:8080/", [("Host", "x")])
        assert response.status_code == 200
        assert json.loads(body)["peer"][0] == "127.0.55.5"
        assert calls == [("127.0.55.5", "10.0.3.3", 8080, "127.0.72.3")]
        client.close()
        await proxy.close()
        await runner.cleanup()

    run(scenario())


def test_chunked_bodies_stream_both_ways() -> None:
    async def scenario() -> None:
        release = asyncio.Event()

        async def stream(request: web.Request) -> web.StreamResponse:
            response = web.StreamResponse()
            response.enable_chunked_encoding()
            await response.prepare(request)
            await response.write(b"first chunk;")
            await release.wait()  # only once the client has seen the first chunk
            await response.write(b"second chunk")
            await response.write_eof()
            return response

        runner, port = await serve(echo_app(web.get("/stream", stream)), "127.0.73.1")
        proxy = EdgeProxy(lambda h, p: ("127.0.73.1", port))
        client = await RawClient.open(await proxy.start())

        # A streamed response: the first chunk arrives while the upstream is still waiting.
        await client.send(h11.Request(method="GET", target="http://10.0.1.5:8080/stream",
                                      headers=[("Host", "10.0.1.5:8080")]), h11.EndOfMessage())
        response = await client.event()
        assert isinstance(response, h11.Response) and response.status_code == 200
        assert header(response, "transfer-encoding") == "chunked"
        first = await client.event()
        assert isinstance(first, h11.Data) and first.data == b"first chunk;"
        release.set()
        rest = b""
        while not isinstance(event := await client.event(), h11.EndOfMessage):
            rest += event.data
        assert rest == b"second chunk"
        client.conn.start_next_cycle()

        # A chunked request body, sent in pieces, reaches the upstream chunked and whole.
        pieces = [b"a" * 1000, b"b" * 70000, b"c"]
        await client.send(h11.Request(method="POST", target="http://10.0.1.5:8080/upload",
                                      headers=[("Host", "x"), ("Transfer-Encoding", "chunked")]))
        for piece in pieces:
            await client.send(h11.Data(data=piece))
        await client.send(h11.EndOfMessage())
        response, body = await client.response()
        seen = json.loads(body)
        assert seen["length"] == 71001
        assert seen["sha256"] == hashlib.sha256(b"".join(pieces)).hexdigest()
        assert ["transfer-encoding", "chunked"] in seen["headers"]

        # A large Content-Length body, the same way, on the same connection.
        blob = bytes(range(256)) * 8192  # 2 MiB
        response, body = await client.request("PUT", "http://10.0.1.5:8080/blob",
                                              [("Host", "x")], blob)
        seen = json.loads(body)
        assert seen["length"] == len(blob) and seen["sha256"] == hashlib.sha256(blob).hexdigest()
        assert proxy.stats()["bytes_in"] > len(blob)
        client.close()
        await proxy.close()
        await runner.cleanup()

    run(scenario())


def test_expect_100_continue_is_answered_by_the_edge() -> None:
    async def scenario() -> None:
        runner, port = await serve(echo_app(), "127.0.73.2")
        proxy = EdgeProxy(lambda h, p: ("127.0.73.2", port))
        client = await RawClient.open(await proxy.start())
        await client.send(h11.Request(method="POST", target="http://10.0.1.6/", headers=[
            ("Host", "x"), ("Content-Length", "5"), ("Expect", "100-continue")]))
        informational = await client.event()
        assert isinstance(informational, h11.InformationalResponse)
        assert informational.status_code == 100
        await client.send(h11.Data(data=b"hello"), h11.EndOfMessage())
        response, body = await client.response()
        seen = json.loads(body)
        assert response.status_code == 200 and seen["length"] == 5
        assert "expect" not in [k for k, _ in seen["headers"]]
        client.close()
        await proxy.close()
        await runner.cleanup()

    run(scenario())


async def echo_tcp(host: str) -> tuple[asyncio.base_events.Server, int]:
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        writer.write(b"<bye>")  # after the client's half-close, a last word back
        writer.write_eof()
        writer.close()

    server = await asyncio.start_server(echo, host, 0)
    return server, server.sockets[0].getsockname()[1]


def test_connect_tunnel_relays_bytes_both_ways() -> None:
    async def scenario() -> None:
        server, port = await echo_tcp("127.0.74.1")
        proxy = EdgeProxy(lambda h, p: ("127.0.74.1", port) if h == "db.internal" else None)
        host, proxy_port = (await proxy.start()).removeprefix("http://").rsplit(":", 1)
        reader, writer = await asyncio.open_connection(host, int(proxy_port))
        # Bytes sent right behind the CONNECT, before its answer, must not be lost.
        writer.write(b"CONNECT db.internal:5432 HTTP/1.1\r\nHost: db.internal:5432\r\n\r\nearly;")
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 ")
        assert await reader.readexactly(6) == b"early;"
        writer.write(b"x" * 100000)
        assert await reader.readexactly(100000) == b"x" * 100000
        writer.write_eof()
        assert await reader.read() == b"<bye>"  # half-close carried, then the end
        writer.close()
        stats = proxy.stats()
        assert stats["tunnels"] == 1 and stats["bytes_out"] >= 100011
        await proxy.close()
        server.close()

    run(scenario())


def self_signed(name: str) -> tuple[str, str]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    import tempfile

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    folder = tempfile.mkdtemp()
    cert_path, key_path = f"{folder}/cert.pem", f"{folder}/key.pem"
    with open(cert_path, "wb") as out:
        out.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as out:
        out.write(key.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()))
    return cert_path, key_path


def test_connect_carries_tls_end_to_end() -> None:
    """aiohttp sends CONNECT for an https:// URL through an http:// proxy; the TLS session
    is between the client and the listener, the edge only relays it."""
    async def scenario() -> None:
        name = "courses-alb-1.us-east-1.elb.amazonaws.com"
        cert, key = self_signed(name)
        server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server_ctx.load_cert_chain(cert, key)
        runner = web.AppRunner(echo_app(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.74.2", 0, ssl_context=server_ctx)
        await site.start()
        port = runner.addresses[0][1]
        proxy = EdgeProxy(lambda h, p: ("127.0.74.2", port) if (h, p) == (name, 443) else None)
        url = await proxy.start()
        client_ctx = ssl.create_default_context(cafile=cert)
        async with aiohttp.ClientSession() as session:
            async with session.get(f"https://{name}/secure", proxy=url, ssl=client_ctx) as r:
                assert r.status == 200
                assert (await r.json())["target"] == "/secure"
        assert proxy.stats()["tunnels"] == 1
        await proxy.close()
        await runner.cleanup()

    run(scenario())


def test_no_route_is_502_naming_the_host_and_keeps_the_connection() -> None:
    async def scenario() -> None:
        runner, port = await serve(echo_app(), "127.0.75.1")
        proxy = EdgeProxy(lambda h, p: ("127.0.75.1", port) if h == "10.0.1.1" else None)
        client = await RawClient.open(await proxy.start())
        response, body = await client.request("GET", "http://10.0.9.99:8080/", [("Host", "x")])
        assert response.status_code == 502
        assert header(response, "x-mylearning-edge") == "no-route"
        assert header(response, "content-type").startswith("text/plain")
        assert b"10.0.9.99:8080" in body
        response, _ = await client.request("GET", "http://10.0.1.1/", [("Host", "x")])
        assert response.status_code == 200  # same client connection, still usable
        assert proxy.stats()["outcomes"]["no_route"] == 1
        assert proxy.stats()["connections_total"] == 1
        client.close()
        await proxy.close()
        await runner.cleanup()

    run(scenario())


def test_resolver_answer_off_loopback_is_no_route() -> None:
    """The edge never reaches the real network, whatever a resolver answers."""
    async def scenario() -> None:
        async def resolve(host: str, port: int) -> tuple[str, int]:
            return ("93.184.215.14", 80)

        proxy = EdgeProxy(resolve)
        client = await RawClient.open(await proxy.start())
        response, _ = await client.request("GET", "http://example.com/", [("Host", "x")])
        assert response.status_code == 502
        assert header(response, "x-mylearning-edge") == "no-route"
        client.close()
        await proxy.close()

    run(scenario())


def test_refused_is_502() -> None:
    async def scenario() -> None:
        port = closed_port("127.0.75.2")
        proxy = EdgeProxy(lambda h, p: ("127.0.75.2", port))
        client = await RawClient.open(await proxy.start())
        response, body = await client.request("GET", "http://10.0.1.2:8080/", [("Host", "x")])
        assert response.status_code == 502
        assert header(response, "x-mylearning-edge") == "refused"
        assert b"10.0.1.2:8080" in body and b"refused" in body
        assert proxy.stats()["outcomes"]["refused"] == 1
        client.close()
        await proxy.close()

    run(scenario())


def test_connect_timeout_is_504() -> None:
    """A listener whose accept queue is full drops further SYNs (Linux), so connecting to
    it times out as connecting to an unanswering host does."""
    async def scenario() -> None:
        full = socket.socket()
        full.bind(("127.0.75.3", 0))
        full.listen(0)
        filler = socket.create_connection(full.getsockname(), timeout=2)
        proxy = EdgeProxy(lambda h, p: full.getsockname(), connect_timeout=0.3)
        client = await RawClient.open(await proxy.start())
        response, body = await client.request("GET", "http://10.0.1.3/", [("Host", "x")])
        assert response.status_code == 504
        assert header(response, "x-mylearning-edge") == "timeout"
        assert proxy.stats()["outcomes"]["timeout"] == 1
        client.close()
        filler.close()
        full.close()
        await proxy.close()

    run(scenario())


def test_admit_refusal_drops_like_a_security_group() -> None:
    async def scenario() -> None:
        runner, port = await serve(echo_app(), "127.0.75.4")
        calls: list[tuple[str, str, int]] = []

        def admit(source: str, host: str, dest_port: int, served: str) -> bool:
            calls.append((source, host, dest_port))
            return host != "10.0.1.4"

        proxy = EdgeProxy(lambda h, p: ("127.0.75.4", port), admit, connect_timeout=0.2)
        client = await RawClient.open(await proxy.start())
        response, body = await client.request("GET", "http://10.0.1.4:8080/", [("Host", "x")])
        assert response.status_code == 504  # never an answer from the task itself
        assert header(response, "x-mylearning-edge") == "timeout"
        assert b"security group" in body
        response, _ = await client.request("GET", "http://alb.example/", [("Host", "x")])
        assert response.status_code == 200
        client.close()
        # CONNECT to a refused destination is dropped the same way.
        tunnel = await RawClient.open(proxy.url)
        await tunnel.send(h11.Request(method="CONNECT", target="10.0.1.4:443",
                                      headers=[("Host", "10.0.1.4:443")]), h11.EndOfMessage())
        answer = await tunnel.event()
        assert isinstance(answer, h11.Response) and answer.status_code == 504
        tunnel.close()
        assert calls[0] == ("127.0.0.1", "10.0.1.4", 8080)
        assert ("127.0.0.1", "10.0.1.4", 443) in calls
        outcomes = proxy.stats()["outcomes"]
        assert outcomes["dropped"] == 2 and outcomes["ok"] == 1
        await proxy.close()
        await runner.cleanup()

    run(scenario())


def test_upstream_reset_is_502() -> None:
    async def scenario() -> None:
        async def slam(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.read(100)
            writer.transport.abort()

        server = await asyncio.start_server(slam, "127.0.75.5", 0)
        port = server.sockets[0].getsockname()[1]
        proxy = EdgeProxy(lambda h, p: ("127.0.75.5", port))
        client = await RawClient.open(await proxy.start())
        response, _ = await client.request("GET", "http://10.0.1.5/", [("Host", "x")])
        assert response.status_code == 502
        assert header(response, "x-mylearning-edge") == "upstream-reset"
        assert proxy.stats()["outcomes"]["upstream_reset"] == 1
        client.close()
        await proxy.close()
        server.close()

    run(scenario())


def test_idle_upstream_closed_by_the_server_is_replaced() -> None:
    async def scenario() -> None:
        runner, port = await serve(echo_app(), "127.0.75.6", keepalive_timeout=0.05)
        proxy = EdgeProxy(lambda h, p: ("127.0.75.6", port))
        client = await RawClient.open(await proxy.start())
        for _ in range(2):
            response, _ = await client.request("GET", "http://10.0.1.6/", [("Host", "x")])
            assert response.status_code == 200
            await asyncio.sleep(0.3)  # the upstream closes its idle keep-alive connection
        assert proxy.stats()["upstream_connections_opened"] == 2
        client.close()
        await proxy.close()
        await runner.cleanup()

    run(scenario())


@pytest.mark.parametrize("junk", [
    b"GARBAGE\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",                      # origin-form: not a proxy request
    b"GET http://10.0.1.1:99999/ HTTP/1.1\r\nHost: x\r\n\r\n",  # port out of range
    b"GET https://10.0.1.1/ HTTP/1.1\r\nHost: x\r\n\r\n",       # TLS needs CONNECT
    b"CONNECT db.internal HTTP/1.1\r\nHost: x\r\n\r\n",          # CONNECT without a port
    b"GET http://x/ HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
])
def test_invalid_requests_get_400(junk: bytes) -> None:
    async def scenario() -> None:
        proxy = EdgeProxy(lambda h, p: None)
        host, port = (await proxy.start()).removeprefix("http://").rsplit(":", 1)
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(junk)
        answer = await reader.read(4096)
        assert answer.startswith(b"HTTP/1.1 400 "), answer
        assert b"x-mylearning-edge: bad-request" in answer
        writer.close()
        assert proxy.stats()["outcomes"]["bad_request"] == 1
        await proxy.close()

    run(scenario())


def test_binds_to_loopback_only() -> None:
    async def scenario() -> None:
        for host in ("0.0.0.0", "::", "192.168.1.10"):
            with pytest.raises(ValueError, match="loopback"):
                await EdgeProxy(lambda h, p: None).start(host=host)
        proxy = EdgeProxy(lambda h, p: None)
        url = await proxy.start()
        assert ipaddress.ip_address(url.removeprefix("http://").rsplit(":", 1)[0]).is_loopback
        await proxy.close()

    run(scenario())


def test_stats_and_close() -> None:
    async def scenario() -> None:
        runner, port = await serve(echo_app(), "127.0.76.1")
        proxy = EdgeProxy(lambda h, p: ("127.0.76.1", port) if h != "gone" else None)
        url = await proxy.start()
        clients = [await RawClient.open(url) for _ in range(3)]
        for client in clients:
            await client.request("GET", "http://10.0.1.7/", [("Host", "x")])
        await clients[0].request("GET", "http://gone/", [("Host", "x")])
        stats = proxy.stats()
        assert stats["requests"] == 4 and stats["active_connections"] == 3
        assert stats["outcomes"]["ok"] == 3 and stats["outcomes"]["no_route"] == 1
        assert stats["bytes_in"] > 0 and stats["bytes_out"] > stats["bytes_in"]
        await proxy.close()  # closes the clients' connections too
        for client in clients:
            assert await client.reader.read() == b""
            client.close()
        assert proxy.stats()["active_connections"] == 0
        await runner.cleanup()

    run(scenario())


def test_reset_mid_response_cuts_the_client_short() -> None:
    """Part of the response is already with the client: the edge can only cut the
    client's connection too, so the client knows the body is incomplete."""
    async def scenario() -> None:
        async def cut(request: web.Request) -> web.StreamResponse:
            response = web.StreamResponse(headers={"Content-Length": "100"})
            await response.prepare(request)
            await response.write(b"x" * 10)
            request.transport.abort()
            return response

        runner, port = await serve(echo_app(web.get("/cut", cut)), "127.0.76.2")
        proxy = EdgeProxy(lambda h, p: ("127.0.76.2", port))
        client = await RawClient.open(await proxy.start())
        with pytest.raises(h11.RemoteProtocolError):  # "peer closed connection without ..."
            await client.request("GET", "http://10.0.1.8/cut", [("Host", "x")])
        assert proxy.stats()["outcomes"]["upstream_reset"] == 1
        client.close()
        await proxy.close()
        await runner.cleanup()

    run(scenario())


def test_head_and_http10_clients() -> None:
    async def scenario() -> None:
        runner, port = await serve(echo_app(), "127.0.76.3")
        proxy = EdgeProxy(lambda h, p: ("127.0.76.3", port))
        client = await RawClient.open(await proxy.start())
        response, body = await client.request("HEAD", "http://10.0.1.9/", [("Host", "x")])
        assert response.status_code == 200 and body == b""
        assert int(header(response, "content-length")) > 0  # the GET's length, no body
        response, body = await client.request("GET", "http://10.0.1.9/", [("Host", "x")])
        assert json.loads(body)["method"] == "GET"  # the connection survived the HEAD
        client.close()
        host, proxy_port = proxy.url.removeprefix("http://").rsplit(":", 1)
        reader, writer = await asyncio.open_connection(host, int(proxy_port))
        writer.write(b"GET http://10.0.1.9/old HTTP/1.0\r\n\r\n")
        answer = await reader.read()  # HTTP/1.0: the edge closes after the response
        assert answer.startswith(b"HTTP/1.1 200 ") and b'"target": "/old"' in answer
        writer.close()
        await proxy.close()
        await runner.cleanup()

    run(scenario())
