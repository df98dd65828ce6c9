"""Target group health checks: the state machine, the matcher, one check against a server."""
from __future__ import annotations

import asyncio

import pytest

from mylearning.dataplane.alb.balancer import error_page, trace_id
from mylearning.dataplane.alb.checks import HealthChecker, Outcome, TargetHealth, check_once, parse_matcher

OK = Outcome(True)
MISMATCH = Outcome(False, "Target.ResponseCodeMismatch", "Health checks failed with these codes: [404]")
TIMEOUT = Outcome(False, "Target.Timeout", "Request timed out")


def test_a_new_target_is_healthy_after_one_passed_check():
    machine = TargetHealth(healthy_threshold=5, unhealthy_threshold=2)
    assert (machine.state, machine.reason) == ("initial", "Elb.RegistrationInProgress")
    assert machine.record(OK) and machine.state == "healthy" and machine.reason is None


def test_an_initial_target_fails_for_unhealthy_threshold_checks_before_it_is_unhealthy():
    machine = TargetHealth(healthy_threshold=5, unhealthy_threshold=3)
    machine.record(MISMATCH)
    assert (machine.state, machine.reason) == ("initial", "Elb.InitialHealthChecking")
    machine.record(MISMATCH)
    assert machine.state == "initial"
    machine.record(MISMATCH)
    assert (machine.state, machine.reason, machine.description) == (
        "unhealthy", "Target.ResponseCodeMismatch", "Health checks failed with these codes: [404]")


def test_thresholds_count_consecutive_checks_only():
    machine = TargetHealth(healthy_threshold=3, unhealthy_threshold=2)
    machine.record(OK)
    machine.record(TIMEOUT)
    machine.record(OK)        # the failure streak is broken
    machine.record(TIMEOUT)
    assert machine.state == "healthy"
    machine.record(TIMEOUT)
    assert (machine.state, machine.reason) == ("unhealthy", "Target.Timeout")
    machine.record(OK)
    machine.record(OK)
    machine.record(MISMATCH)  # the success streak is broken
    machine.record(OK)
    machine.record(OK)
    assert machine.state == "unhealthy"
    assert machine.reason == "Target.ResponseCodeMismatch"  # the latest failure's reason
    machine.record(OK)
    assert machine.state == "healthy"


@pytest.mark.parametrize("code, passes, fails", [
    ("200", [200], [201, 302, 404]),
    ("200,202", [200, 202], [201, 204]),
    ("200-299", [200, 250, 299], [199, 300, 404]),
    ("200-204, 301", [204, 301], [205, 302]),
])
def test_matcher_codes_and_ranges(code, passes, fails):
    matches = parse_matcher(code)
    assert all(matches(s) for s in passes) and not any(matches(s) for s in fails)


async def _serve(status_line: bytes, delay: float = 0.0):
    seen = []

    async def answer(reader, writer):
        request = await reader.readuntil(b"\r\n\r\n")
        seen.append(request.decode())
        await asyncio.sleep(delay)
        writer.write(status_line + b"\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()
    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1], seen


def test_one_check_passes_fails_on_codes_and_times_out():
    async def scenario():
        server, port, seen = await _serve(b"HTTP/1.1 200 OK")
        async with server:
            passed = await check_once("127.0.0.1", port, "/health", 2.0, parse_matcher("200"))
        server, port404, _ = await _serve(b"HTTP/1.1 404 Not Found")
        async with server:
            mismatch = await check_once("127.0.0.1", port404, "/", 2.0, parse_matcher("200"))
        server, slow, _ = await _serve(b"HTTP/1.1 200 OK", delay=1.0)
        async with server:
            late = await check_once("127.0.0.1", slow, "/", 0.2, parse_matcher("200"))
        refused = await check_once("127.0.0.1", port, "/", 1.0, parse_matcher("200"))  # closed now
        return passed, mismatch, late, refused, seen
    passed, mismatch, late, refused, seen = asyncio.run(scenario())
    assert passed.ok
    assert seen[0].startswith("GET /health HTTP/1.1") and "ELB-HealthChecker/2.0" in seen[0]
    assert (mismatch.ok, mismatch.reason, mismatch.description) == (
        False, "Target.ResponseCodeMismatch", "Health checks failed with these codes: [404]")
    assert (late.ok, late.reason) == (False, "Target.Timeout")
    assert (refused.ok, refused.reason) == (False, "Target.FailedHealthChecks")


def test_the_checker_reports_each_change_and_follows_the_targets_it_is_given(monkeypatch):
    monkeypatch.setenv("MYLEARNING_TIME_SCALE", "100")  # 5 s interval -> 0.05 s

    async def scenario():
        server, port, _ = await _serve(b"HTTP/1.1 200 OK")
        reports = []

        async def report(items):
            reports.extend(items)
        checker = HealthChecker(lambda ip: "127.0.0.1" if ip == "10.0.1.5" else None, report)
        settings = {"HealthCheckIntervalSeconds": 5, "HealthCheckTimeoutSeconds": 2,
                    "HealthyThresholdCount": 2, "UnhealthyThresholdCount": 2,
                    "HealthCheckPath": "/", "HealthCheckPort": "traffic-port",
                    "Matcher": {"HttpCode": "200"}}
        async with server:
            checker.update({("tg", "10.0.1.5", port): settings})
            for _ in range(100):
                if checker.state("tg", "10.0.1.5", port) == "healthy":
                    break
                await asyncio.sleep(0.02)
            state = checker.state("tg", "10.0.1.5", port)
            checker.update({})
            assert checker.watching() == []
        await asyncio.sleep(0.05)
        checker.close()
        return state, reports
    state, reports = asyncio.run(scenario())
    assert state == "healthy"
    assert reports[0]["State"] == "healthy" and reports[0]["TargetGroupArn"] == "tg"
    assert len([r for r in reports if r["State"] == "healthy"]) == 1  # reported once, not per check


def test_trace_ids_follow_the_alb_format():
    fresh = trace_id(None, now=0x5759e988)
    assert fresh.startswith("Root=1-5759e988-") and len(fresh.split("-")[-1]) == 24
    kept = trace_id("Root=1-67891233-abcdef012345678912345678", now=0x5759e988)
    assert kept.startswith("Self=1-5759e988-") and kept.endswith(";Root=1-67891233-abcdef012345678912345678")


def test_error_pages_name_the_status():
    assert b"<title>503 Service Temporarily Unavailable</title>" in error_page(503)
    assert b"502 Bad Gateway" in error_page(502)


def test_a_report_elb_did_not_take_is_sent_again_and_a_read_that_disagrees_is_answered(monkeypatch):
    monkeypatch.setenv("MYLEARNING_TIME_SCALE", "100")
    monkeypatch.setattr("mylearning.dataplane.alb.checks.REPORT_RETRY", 0.01)

    async def scenario():
        server, port, _ = await _serve(b"HTTP/1.1 200 OK")
        taken, refusals = [], [1]

        async def report(items):
            if refusals[0]:
                refusals[0] -= 1
                raise OSError("the emulator was busy")
            taken.extend(items)
        checker = HealthChecker(lambda ip: "127.0.0.1", report)
        settings = {"HealthCheckIntervalSeconds": 5, "HealthCheckTimeoutSeconds": 2,
                    "HealthyThresholdCount": 2, "UnhealthyThresholdCount": 2,
                    "HealthCheckPath": "/", "HealthCheckPort": "traffic-port",
                    "Matcher": {"HttpCode": "200"}}
        key = ("tg", "10.0.1.5", port)
        async with server:
            checker.update({key: settings})
            for _ in range(100):
                if taken:
                    break
                await asyncio.sleep(0.02)
            first = list(taken)
            # ELB says initial (it registered the target afresh): told again; agreeing: not.
            again = checker.reconcile({key: "initial"})
            agreed = checker.reconcile({key: "healthy"})
            await asyncio.sleep(0.05)
        checker.close()
        return first, again, agreed, taken
    first, again, agreed, taken = asyncio.run(scenario())
    assert [r["State"] for r in first] == ["healthy"]  # the refused report was not lost
    assert (again, agreed) == (1, 0)
    assert [r["State"] for r in taken] == ["healthy", "healthy"]
