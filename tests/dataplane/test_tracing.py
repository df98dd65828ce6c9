"""The tracing parts of the course's programs, on real sockets: the segment sender and the daemon's
reading of a datagram, the sampler, the proxy's tracer and the services' SDK."""
from __future__ import annotations

import asyncio
import json
import socket

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from mylearning.dataplane.images import xray_daemon
from mylearning.dataplane.images.envoy_xray import ProxyTracer
from mylearning.dataplane.images.tracing import Emitter, Sampler, daemon_address, new_id, new_trace_id
from mylearning.dataplane.images.xray_sdk import CURRENT, Recorder, TracedHTTP, enabled
from mylearning.facts import xray as facts
from tests.dataplane.conftest import TASK_ADDRESS, serving

ROOT = "1-5759e988-bd862e3fe1be46a994272793"


@pytest.fixture
def daemon_socket():
    """A UDP socket where a daemon would listen, on the task's address."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((TASK_ADDRESS, 0))
    sock.settimeout(2)
    yield sock
    sock.close()


def _received(sock: socket.socket, n: int) -> list[dict]:
    docs = []
    for _ in range(n):
        document = xray_daemon.document_of(sock.recv(65536))
        assert document is not None
        docs.append(json.loads(document))
    return docs


def test_ids_have_the_formats_x_ray_requires():
    assert facts.parse_header(f"Root={new_trace_id(0x5759e988)}").root.startswith("1-5759e988-")
    assert len({new_id() for _ in range(100)}) == 100 and all(len(new_id()) == 16 for _ in range(10))


@pytest.mark.parametrize("value, expected", [
    (None, (TASK_ADDRESS, 2000)), ("127.0.0.1:3000", (TASK_ADDRESS, 3000)), ("10.0.1.7:2000", ("10.0.1.7", 2000)),
    ("tcp:127.0.0.1:2000 udp:127.0.0.1:2001", (TASK_ADDRESS, 2001)), ("nonsense", (TASK_ADDRESS, 2000))])
def test_the_sdk_sends_to_aws_xray_daemon_address_else_the_tasks_port_2000(value, expected):
    env = {} if value is None else {"AWS_XRAY_DAEMON_ADDRESS": value}
    assert daemon_address(env, TASK_ADDRESS) == expected


def test_the_sampler_follows_a_decision_then_takes_its_reservoir_then_its_rate():
    sampler = Sampler(rate=0.0, reservoir_per_second=1)
    assert sampler.decide(True, now=10.0) is True and sampler.decide(False, now=10.0) is False
    assert [sampler.decide(None, now=t) for t in (11.0, 11.5, 11.9, 12.1)] == [True, False, False, True]
    always = Sampler(rate=1.0)
    assert all(always.decide(None) for _ in range(50))
    rate = Sampler(rate=0.05)
    assert 0 < sum(rate.decide(None) for _ in range(4000)) < 400


def test_a_datagram_is_the_daemons_header_then_one_document(daemon_socket):
    emitter = Emitter(daemon_socket.getsockname(), TASK_ADDRESS)
    emitter.send({"name": "a", "id": "1" * 16})  # no event loop: sent at once
    raw = daemon_socket.recv(65536)
    assert raw.split(b"\n", 1)[0] == facts.DATAGRAM_HEADER.encode()
    assert json.loads(xray_daemon.document_of(raw)) == {"name": "a", "id": "1" * 16}
    emitter.close()


@pytest.mark.parametrize("datagram", [b'{"name": "a"}', b'{"format": "json", "version": 2}\n{"name": "a"}',
                                      b'{"format": "json", "version": 1}\n', b"\xff\xfe"])
def test_the_daemon_drops_what_is_not_a_segment_datagram(datagram):
    assert xray_daemon.document_of(datagram) is None


def test_segments_leave_after_the_request_at_the_next_turn_of_the_loop(daemon_socket):
    async def burst() -> tuple[int, int]:
        emitter = Emitter(daemon_socket.getsockname(), TASK_ADDRESS)
        for n in range(3):
            emitter.send({"n": n})
        before = emitter.sent
        await asyncio.sleep(0)
        return before, emitter.sent
    assert asyncio.run(burst()) == (0, 3)
    assert [d["n"] for d in _received(daemon_socket, 3)] == [0, 1, 2]


@pytest.mark.parametrize("argv, env, expected", [
    ([], {}, (TASK_ADDRESS, 2000)), (["-b", "0.0.0.0:2001"], {}, (TASK_ADDRESS, 2001)),
    (["--bind=127.0.0.1:2002"], {"AWS_XRAY_DAEMON_ADDRESS": "0.0.0.0:2003"}, (TASK_ADDRESS, 2002)),
    ([], {"AWS_XRAY_DAEMON_ADDRESS": "0.0.0.0:2003"}, (TASK_ADDRESS, 2003))])
def test_the_daemon_listens_where_its_command_or_environment_says(argv, env, expected):
    assert xray_daemon.bind_address(argv, env, TASK_ADDRESS) == expected


def test_the_daemon_region_comes_from_its_command_its_environment_or_its_task():
    arn = "arn:aws:ecs:eu-west-1:123456789012:task/c/abc"
    assert xray_daemon.region_of(["-n", "us-east-2"], {"AWS_REGION": "us-west-2"}, arn) == "us-east-2"
    assert xray_daemon.region_of([], {"AWS_REGION": "us-west-2"}, arn) == "us-west-2"
    assert xray_daemon.region_of([], {}, arn) == "eu-west-1"


# ---------------------------------------------------------------- the proxy's tracer

def _proxy(daemon_socket, rate: float) -> ProxyTracer:
    return ProxyTracer("shop/front", Emitter(daemon_socket.getsockname(), TASK_ADDRESS), Sampler(rate))


def test_the_proxy_joins_the_callers_trace_and_names_itself_parent_upstream(daemon_socket):
    tracer = _proxy(daemon_socket, rate=0.0)  # the caller's Sampled=1 wins over the rate
    request = make_mocked_request("GET", "/api/courses?level=1", headers={
        "Host": "courses.shop.local:8080", "X-Amzn-Trace-Id": f"Root={ROOT};Parent=53995c3f42cd8ad8;Sampled=1",
        "User-Agent": "curl/8", "X-Forwarded-For": "203.0.113.9, 10.0.0.1"})
    tracer.begin(request, 100.0)
    upstream = {"x-amzn-trace-id": "stale", "Host": "courses.shop.local:8080"}
    tracer.inject(request, upstream)
    sent = facts.parse_header(upstream[facts.HEADER])
    assert "x-amzn-trace-id" not in upstream
    assert (sent.root, sent.sampled) == (ROOT, True) and sent.parent != "53995c3f42cd8ad8"
    tracer.end(request, 503, 19, 100.25)
    (doc,) = _received(daemon_socket, 1)
    assert doc["id"] == sent.parent and doc["parent_id"] == "53995c3f42cd8ad8" and doc["trace_id"] == ROOT
    assert doc["name"] == "shop/front" and doc["origin"] == "AWS::AppMesh::Proxy"
    assert (doc["start_time"], doc["end_time"]) == (100.0, 100.25)
    assert doc["fault"] is True and "error" not in doc
    assert doc["http"]["request"] == {"method": "GET", "url": "http://courses.shop.local:8080/api/courses?level=1",
                                      "user_agent": "curl/8", "client_ip": "203.0.113.9", "x_forwarded_for": True}
    assert doc["http"]["response"] == {"status": 503, "content_length": 19}


def test_an_unsampled_request_starts_a_trace_passes_sampled_0_and_sends_nothing(daemon_socket):
    tracer = _proxy(daemon_socket, rate=0.0)
    request = make_mocked_request("GET", "/", headers={"Host": "front"})
    tracer.begin(request, 1.0)
    upstream: dict = {}
    tracer.inject(request, upstream)
    sent = facts.parse_header(upstream[facts.HEADER])
    assert sent.root and sent.sampled is False
    tracer.end(request, 200, 0, 2.0)
    tracer.emitter.flush()
    assert tracer.emitter.sent == 0


def test_without_a_decision_the_proxy_samples_at_its_rate_and_starts_the_trace_as_root(daemon_socket):
    tracer = _proxy(daemon_socket, rate=1.0)
    request = make_mocked_request("POST", "/api/enroll", headers={"Host": "front:8080",
                                                                  "X-Amzn-Trace-Id": f"Root={ROOT}"})
    tracer.begin(request, 1.0)
    tracer.end(request, 429, 0, 1.5)
    (doc,) = _received(daemon_socket, 1)
    assert doc["trace_id"] == ROOT and "parent_id" not in doc
    assert doc["error"] is True and doc["throttle"] is True


# ---------------------------------------------------------------- the services' SDK

def _echo_app() -> web.Application:
    async def echo(request: web.Request) -> web.Response:
        status = int(request.query.get("status", "200"))
        return web.json_response({"trace": request.headers.get("X-Amzn-Trace-Id")}, status=status)
    app = web.Application()
    app.router.add_get("/echo", echo)
    return app


def test_a_call_is_a_remote_subsegment_whose_id_the_callee_gets_as_parent(daemon_socket):
    recorder = Recorder("enrollment", Emitter(daemon_socket.getsockname(), TASK_ADDRESS), Sampler(0.0),
                        container_name="ip-10-0-1-7")

    async def serve_one() -> tuple[dict, list]:
        async with serving(_echo_app()) as port:
            segment = recorder.begin(f"Root={ROOT};Parent=53995c3f42cd8ad8;Sampled=1")
            client = TracedHTTP(aiohttp.ClientSession())
            try:
                async with client.get(f"http://{TASK_ADDRESS}:{port}/echo?status=404") as answer:
                    seen = await answer.json()
                with pytest.raises(aiohttp.ClientError):
                    async with client.get(f"http://{TASK_ADDRESS}:1/echo"):
                        pass
            finally:
                await client.close()
            recorder.end(segment, make_mocked_request("POST", "/api/enroll", headers={"Host": "enrollment:8080"}), 201)
            assert CURRENT.get() is None
            return seen, segment.subsegments

    seen, subsegments = asyncio.run(serve_one())
    (doc,) = _received(daemon_socket, 1)
    missed, found = subsegments[1], subsegments[0]
    assert facts.parse_header(seen["trace"]) == facts.TraceHeader(ROOT, found["id"], True)
    assert doc["subsegments"] == subsegments
    assert found["namespace"] == "remote" and found["name"] == TASK_ADDRESS and found["error"] is True
    assert found["http"]["response"]["status"] == 404
    assert missed["fault"] is True and "response" not in missed["http"]
    assert doc["parent_id"] == "53995c3f42cd8ad8" and doc["name"] == "enrollment"
    assert doc["origin"] == "AWS::ECS::Container" and doc["aws"] == {"ecs": {"container": "ip-10-0-1-7"}}
    assert doc["http"]["response"]["status"] == 201 and "error" not in doc


def test_outside_a_sampled_request_calls_carry_sampled_0_and_record_nothing(daemon_socket):
    recorder = Recorder("web", Emitter(daemon_socket.getsockname(), TASK_ADDRESS), Sampler(0.0))

    async def serve_one() -> tuple[dict, list]:
        async with serving(_echo_app()) as port:
            segment = recorder.begin(None)
            client = TracedHTTP(aiohttp.ClientSession())
            try:
                async with client.get(f"http://{TASK_ADDRESS}:{port}/echo") as answer:
                    seen = await answer.json()
            finally:
                await client.close()
            return seen, segment.subsegments

    seen, subsegments = asyncio.run(serve_one())
    assert facts.parse_header(seen["trace"]).sampled is False and subsegments == []


def test_aws_xray_sdk_enabled_false_turns_the_sdk_off():
    assert enabled({}) and enabled({"AWS_XRAY_SDK_ENABLED": "true"})
    assert not enabled({"AWS_XRAY_SDK_ENABLED": "FALSE"})


def test_the_albs_trace_header_is_one_the_proxy_joins():
    """The ALB adds Root (no decision: the gateway samples at its rate), or Self beside a Root it keeps
    (load-balancer-request-tracing.html); either way the gateway's segment joins that trace."""
    from mylearning.dataplane.alb.balancer import trace_id
    fresh = facts.parse_header(trace_id(None))
    assert fresh.root and fresh.parent is None and fresh.sampled is None
    kept = facts.parse_header(trace_id(f"Root={ROOT};Parent=53995c3f42cd8ad8;Sampled=1"))
    assert (kept.root, kept.parent, kept.sampled) == (ROOT, "53995c3f42cd8ad8", True)


def test_containers_forked_from_one_server_make_different_ids():
    """Containers are forked from a server that imported the programs (catalogue.PRELOAD): the ids
    of two children must differ, or X-Ray would keep one segment of the two."""
    import os
    new_id()  # the generator is in use before the fork, as in the server
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child
        os.write(write, (new_id() + new_trace_id()).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    theirs = os.read(read, 200).decode()
    os.close(read)
    assert theirs and theirs != new_id() + new_trace_id()
    assert theirs[:16] != new_id()
