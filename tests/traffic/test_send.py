"""send() against real HTTP servers on 127.0.0.1: what it counts, how it paces, how it stops.

Assertions are on counts (what the server saw, what the summary says), never on how long
something took, so a loaded 2-core machine does not make them flake.
"""
from __future__ import annotations

import _thread
import asyncio
import threading
from collections import Counter
from types import SimpleNamespace

import psutil
import pytest

from mylearning import traffic
from mylearning.traffic import client
from mylearning.traffic import plan as plans
from mylearning.traffic.results import Recorder

from .server import Server, closed_port, mix_answer


@pytest.fixture
def server():
    with Server() as running:
        yield running


def client_connections(port: int) -> list:
    """This process's TCP connections to `port` (a closed one in TIME_WAIT has no owner)."""
    process = psutil.Process()
    listing = getattr(process, "net_connections", None) or process.connections  # psutil < 6 names it so
    return [c for c in listing(kind="tcp")
            if c.raddr and c.raddr.port == port and c.status != psutil.CONN_TIME_WAIT]


def no_client_threads() -> bool:
    return not [t for t in threading.enumerate() if t.name == "mylearning-traffic"]


def test_counts_by_status_version_and_target(server):
    summary = traffic.send(None, server.url + "/mix", requests=40, concurrency=4)
    expected = [mix_answer(i) for i in range(40)]
    assert summary.count == summary.sent == 40 and summary.mode == "requests" and summary.via is None
    assert summary.by_status == {**Counter(status for status, _ in expected)} == {200: 36, 500: 4}
    assert summary.by_version == {**Counter(h.get("X-MyLearning-Version", "unknown") for _, h in expected)} \
        == {"1.0.0": 20, "2.0.0": 16, "unknown": 4}
    assert summary.by_target == {**Counter(h.get("X-MyLearning-Task", "unknown") for _, h in expected)}
    assert summary.errors == {"http 500": 4} and summary.error_examples["http 500"] == "internal server error"
    assert summary.ok_latency.count == 36 and summary.latency.count == 40
    assert sum(s.requests for s in summary.series) == 40
    assert client_connections(server.port) == [] and no_client_threads()


def test_a_closed_loop_holds_at_most_concurrency_requests(server):
    summary = traffic.send(None, server.url + "/slow?ms=100", requests=30, concurrency=5)
    assert summary.by_status == {200: 30}
    assert 2 <= server.max_in_flight <= 5


def test_an_open_loop_keeps_its_rate_whatever_the_server_does(server):
    # Each answer takes 0.5 s: a closed loop of 10 could start only ~20 in the first second;
    # an open loop starts 50 on schedule, so the server holds about 25 at once.
    summary = traffic.send(None, server.url + "/slow?ms=500", rate=50, duration=1)
    assert summary.mode == "rate" and summary.scheduled == 50 and summary.sent == 50
    assert summary.by_status == {200: 50} and summary.skipped == 0
    first = server.arrivals[0]
    by = lambda seconds: sum(1 for t in server.arrivals if t - first < seconds)  # noqa: E731
    assert 45 <= by(1.5) <= 50  # started within the second, give or take a busy machine
    assert by(0.5) <= 30  # and paced: about 25 in the first half, not a burst of 50
    assert server.max_in_flight > 10  # more than concurrency=10: nobody waited for answers
    assert summary.duration >= 1.0


def test_an_open_loop_that_cannot_keep_up_says_so(server, monkeypatch):
    monkeypatch.setattr(plans, "MAX_IN_FLIGHT", 5)
    summary = traffic.send(None, server.url + "/slow?ms=1000", rate=40, duration=0.5, concurrency=5)
    assert summary.sent + summary.skipped == 20 and summary.skipped >= 10  # 5 in flight until 1 s
    assert server.max_in_flight <= 5 and summary.kept_rate is False
    assert "could not keep 40 requests/s" in str(summary) and summary.to_dict()["skipped"] == summary.skipped


def test_timeouts_refusals_and_resets_are_told_apart(server):
    timeouts = traffic.send(None, server.url + "/slow?ms=3000", requests=3, timeout=0.3)
    assert timeouts.errors == {"timeout": 3} and timeouts.by_status == {0: 3}
    assert timeouts.by_version == {"unknown": 3} and timeouts.by_target == {"unknown": 3}
    refused = traffic.send(None, f"http://127.0.0.1:{closed_port()}/", requests=4, concurrency=2)
    assert refused.errors == {"refused": 4} and refused.ok_latency.count == 0
    assert "Cannot connect" in refused.error_examples["refused"]
    reset = traffic.send(None, server.url + "/reset", requests=3)
    assert reset.errors == {"reset": 3}
    assert client_connections(server.port) == [] and no_client_threads()


def test_method_headers_and_body_are_sent(server):
    summary = traffic.send(None, server.url + "/echo", requests=3, method="post",
                           headers={"X-Test": "yes"}, body={"course": "ecs-101"})
    assert summary.by_status == {200: 3} and summary.method == "POST"
    assert [s["method"] for s in server.seen] == ["POST"] * 3
    assert server.body_json() == {"course": "ecs-101"}
    assert server.seen[0]["headers"]["X-Test"] == "yes"
    assert server.seen[0]["headers"]["Content-Type"] == "application/json"
    redirect = traffic.send(None, server.url + "/moved", requests=2)
    assert redirect.by_status == {302: 2} and redirect.errors == {}  # counted, not followed


def test_on_the_embedded_aws_every_request_goes_through_the_edge(server):
    dead = closed_port()
    edge = server.start_edge({("10.0.1.5", 8080): ("127.0.0.1", server.port),
                              ("10.0.1.6", 8080): ("127.0.0.1", dead)})
    emulator = SimpleNamespace(is_emulator=True, endpoint=server.url)  # its health answer names the edge
    served = traffic.send(emulator, "http://10.0.1.5:8080/v/1.2.0/task-9", requests=20)
    assert served.via == edge and served.by_status == {200: 20}
    assert served.by_version == {"1.2.0": 20} and served.by_target == {"task-9": 20}
    assert server.paths["/v/1.2.0/task-9"] == 20  # and 10.0.1.5 is only an address on the edge's map
    assert server.paths["/mylearning/health"] == 1  # where send() found the edge
    refused = traffic.send(emulator, "http://10.0.1.6:8080/", requests=3)
    assert refused.errors == {"edge 502 refused": 3} and refused.by_status == {502: 3}
    nowhere = traffic.send(emulator, "http://10.9.9.9:8080/", requests=2)
    assert nowhere.errors == {"edge 502 no-route": 2}
    assert "10.9.9.9" in nowhere.error_examples["edge 502 no-route"]
    # a session that is not an emulator goes direct: nothing routes 10.0.1.5 here
    real = traffic.send(SimpleNamespace(is_emulator=False), "http://127.0.0.1:%d/v/1/t" % server.port, requests=2)
    assert real.via is None and real.by_status == {200: 2}


def test_works_where_an_event_loop_is_already_running(server):
    async def notebook_cell() -> traffic.Summary:  # as in Jupyter, where the kernel's loop runs
        asyncio.get_running_loop()
        return traffic.send(None, server.url + "/v/1.0.0/a", requests=10)

    assert asyncio.run(notebook_cell()).by_status == {200: 10}


def test_ctrl_c_returns_the_partial_summary_and_leaves_nothing_behind(server, capfd):
    timer = threading.Timer(0.8, _thread.interrupt_main)  # what Ctrl-C or Jupyter's interrupt does
    timer.start()
    try:
        summary = traffic.send(None, server.url + "/slow?ms=300", rate=20, duration=30, live=True)
    finally:
        timer.cancel()
        timer.join()
    assert summary.interrupted and 0 < summary.count < 600 and summary.sent < 600
    assert summary.duration < 29 and summary.notes[0].startswith("interrupted after")
    assert summary.count + summary.unfinished == summary.sent
    assert client_connections(server.port) == [] and no_client_threads()
    out, err = capfd.readouterr()
    assert out == "" and err == ""  # live=True outside Jupyter shows nothing, and never hangs


def test_a_run_stopped_before_it_began_ends_cleanly(server):
    runner, thread = client.start(plans.Plan.build(server.url + "/slow?ms=100", requests=1000), None, Recorder())
    runner.stop()
    assert runner.done.wait(5)
    thread.join(5)
    assert not thread.is_alive() and runner.error is None and runner.recorder.sent < 1000
    assert client_connections(server.port) == []


def test_start_runs_in_the_background_until_waited_for_or_stopped(server):
    run = traffic.start(None, server.url + "/mix", rate=50, duration=0.6)
    assert not run.done and "running" in repr(run)  # returned at once, while it sends
    summary = run.wait()
    assert run.done and summary.count == summary.sent == 30 and summary.mode == "rate"
    assert run.wait() is summary  # the same summary each time
    long = traffic.start(None, server.url + "/slow?ms=50", rate=40, duration=30)
    threading.Event().wait(0.3)
    cut = long.stop()
    assert cut.interrupted and 0 < cut.count < 40 * 30
    assert client_connections(server.port) == [] and no_client_threads()
