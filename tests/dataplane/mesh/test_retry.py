"""Retry or give up, after each attempt; timeouts on an injected clock."""
from __future__ import annotations

import random

import pytest

from mylearning.dataplane.mesh import (CONNECT_FAILURE, DEFAULT_RETRY_POLICY, PER_TRY_TIMEOUT, REFUSED_STREAM, RESET,
                                       TIMEOUT, Outcome, RetryPolicy, RetryState, Stats)
from mylearning.dataplane.mesh.retry import NO_RETRIES


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def policy(*http, tcp=(), grpc=(), retries=2, per_try=None):
    spec = {"maxRetries": retries, "perRetryTimeout": per_try or {"unit": "s", "value": 0}}
    if http:
        spec["httpRetryEvents"] = list(http)
    if tcp:
        spec["tcpRetryEvents"] = list(tcp)
    if grpc:
        spec["grpcRetryEvents"] = list(grpc)
    return RetryPolicy.from_spec(spec)


ALL_5XX = [500, 501, 502, 503, 504, 505, 506, 507, 508, 509, 510, 511]


@pytest.mark.parametrize("events, retried_statuses", [
    # API_HttpRetryPolicy.html: server-error is 500-508, 510 and 511 (not 509)
    (["server-error"], {500, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511}),
    (["gateway-error"], {502, 503, 504}),
    (["client-error"], {409}),
    (["stream-error"], set()),
    (["client-error", "gateway-error"], {409, 502, 503, 504}),
])
def test_http_retry_events_pick_the_documented_status_codes(events, retried_statuses):
    p = policy(*events)
    for status in ALL_5XX + [200, 404, 409, 429]:
        assert p.retriable(Outcome.response(status)) is (status in retried_statuses), status


@pytest.mark.parametrize("events, tcp, error, retried", [
    # server-error and gateway-error "include the Envoy reset policy"
    (["server-error"], (), RESET, True),
    (["gateway-error"], (), RESET, True),
    (["gateway-error"], (), PER_TRY_TIMEOUT, True),     # a read timeout is a reset
    (["gateway-error"], (), CONNECT_FAILURE, True),
    (["client-error"], (), RESET, False),
    (["client-error"], (), CONNECT_FAILURE, False),
    (["client-error"], ("connection-error",), CONNECT_FAILURE, True),   # "equivalent to connect-failure"
    (["client-error"], ("connection-error",), RESET, False),
    (["stream-error"], (), REFUSED_STREAM, True),         # "Retry on refused stream"
    (["stream-error"], (), RESET, False),
    (["server-error"], (), TIMEOUT, False),               # the route's timeout ends the request
])
def test_error_events(events, tcp, error, retried):
    assert policy(*events, tcp=tcp).retriable(Outcome.failed(error)) is retried


@pytest.mark.parametrize("grpc, grpc_status, retried", [
    (["unavailable"], 14, True), (["unavailable"], 4, False), (["deadline-exceeded"], 4, True),
    (["cancelled", "internal", "resource-exhausted"], 8, True), (["cancelled"], 0, False),
])
def test_grpc_retry_events(grpc, grpc_status, retried):
    assert policy(grpc=grpc).retriable(Outcome.response(200, grpc_status=grpc_status)) is retried


def test_app_mesh_default_policy():
    # envoy-defaults.html: max retries 2, HTTP 503, gRPC UNAVAILABLE, connect-failure, refused-stream, reset
    p = DEFAULT_RETRY_POLICY
    assert p is RetryPolicy.from_spec(None) and p.max_retries == 2 and p.per_try_timeout is None
    assert [s for s in ALL_5XX if p.retriable(Outcome.response(s))] == [503]
    assert all(p.retriable(Outcome.failed(e)) for e in (CONNECT_FAILURE, REFUSED_STREAM, RESET))
    assert p.retriable(Outcome.response(200, grpc_status=14))


def test_overloaded_responses_are_never_retried():
    assert not policy("server-error").retriable(Outcome.response(503, overloaded=True))


@pytest.mark.parametrize("outcomes, max_retries, expected", [
    # (attempt outcomes, maxRetries) -> (attempts made, final status, flags)
    ([503, 503, 200], 2, (3, 200, "")),
    ([503, 503, 503], 2, (3, 503, "URX")),            # passed on when retries run out
    ([503, 503, 503, 200], 2, (3, 503, "URX")),
    ([500], 2, (1, 500, "")),                           # gateway-error does not cover 500
    ([404], 2, (1, 404, "")),
    ([503], 0, (1, 503, "")),                           # maxRetries 0: one attempt
    ([CONNECT_FAILURE, 200], 1, (2, 200, "")),
    ([CONNECT_FAILURE, CONNECT_FAILURE], 1, (2, 503, "UF,URX")),
    ([RESET, RESET, RESET], 2, (3, 503, "UC,URX")),
    ([PER_TRY_TIMEOUT, PER_TRY_TIMEOUT], 1, (2, 504, "UT,URX")),
])
def test_attempt_sequences(outcomes, max_retries, expected):
    state = RetryState(policy("gateway-error", retries=max_retries), None, rng=random.Random(0))
    for step in outcomes:
        state.begin()
        outcome = Outcome.response(step) if isinstance(step, int) else Outcome.failed(step)
        verdict = state.decide(outcome)
        if not verdict.retry:
            break
        assert 0 <= verdict.backoff < 0.25
    assert (state.attempts, verdict.status, verdict.flags) == expected


def test_local_replies_have_envoys_bodies():
    state = RetryState(NO_RETRIES, None)
    state.begin()
    assert state.decide(Outcome.failed(CONNECT_FAILURE)).body == (
        "upstream connect error or disconnect/reset before headers. reset reason: connection failure")
    assert RetryState(NO_RETRIES, None).decide(Outcome.failed(TIMEOUT)).body == "upstream request timeout"
    passed = RetryState(NO_RETRIES, None).decide(Outcome.response(502))
    assert passed.status == 502 and passed.body is None


@pytest.mark.parametrize("retry_number, ceiling", [(1, 0.025), (2, 0.075), (3, 0.175), (4, 0.25), (9, 0.25)])
def test_backoff_is_fully_jittered_exponential_capped_at_250ms(retry_number, ceiling):
    state = RetryState(DEFAULT_RETRY_POLICY, None, rng=random.Random(5))
    waits = [state.backoff(retry_number) for _ in range(2000)]
    assert all(0 <= w < ceiling for w in waits)
    assert max(waits) > ceiling * 0.95


def test_per_try_timeout_bounds_every_attempt_and_the_route_timeout_all_of_them():
    clock = Clock()
    state = RetryState(policy("gateway-error", retries=5, per_try={"unit": "s", "value": 2}), 5.0, clock=clock)
    state.begin()
    assert state.attempt_timeout() == 2.0                   # the first attempt too
    clock.now += 2.0
    assert state.decide(Outcome.failed(PER_TRY_TIMEOUT)).retry
    state.begin()
    clock.now += 2.0
    assert state.decide(Outcome.failed(PER_TRY_TIMEOUT)).retry
    state.begin()
    assert state.attempt_timeout() == 1.0                   # what is left of the 5 s
    clock.now += 1.0
    assert state.attempt_timeout() == 0.0
    final = state.decide(Outcome.failed(PER_TRY_TIMEOUT))
    assert (final.retry, final.status, final.flags, final.reason) == (False, 504, "UT", "route timeout")


def test_no_retry_after_the_route_timeout_even_if_retries_remain():
    clock = Clock()
    state = RetryState(policy("gateway-error", retries=5), 1.0, clock=clock)
    state.begin()
    clock.now += 1.5
    verdict = state.decide(Outcome.response(503))
    assert not verdict.retry and verdict.status == 503 and verdict.flags == ""


@pytest.mark.parametrize("per_request, per_try, expected", [
    (15.0, None, 15.0), (None, None, None), (None, {"unit": "ms", "value": 300}, 0.3), (0.2, {"unit": "s", "value": 1}, 0.2)])
def test_attempt_timeout(per_request, per_try, expected):
    state = RetryState(policy("gateway-error", per_try=per_try), per_request, clock=Clock())
    assert state.attempt_timeout() == pytest.approx(expected) if expected else state.attempt_timeout() is None


def test_stats_follow_envoys_cluster_stats():
    stats = Stats()
    cluster = stats.cluster("cds_egress_mesh1_catalog_http_8080")
    for sequence in ([503, 503, 200], [503, 503, 503], [200], [CONNECT_FAILURE, 200]):
        state = RetryState(policy("gateway-error", tcp=("connection-error",)), None, stats=cluster,
                           rng=random.Random(0))
        for step in sequence:
            state.begin()
            verdict = state.decide(Outcome.response(step) if isinstance(step, int) else Outcome.failed(step))
            if not verdict.retry:
                break
    timed = RetryState(NO_RETRIES, 1.0, clock=Clock(), stats=cluster)
    timed.begin()
    timed.decide(Outcome.failed(TIMEOUT))
    p = "cluster.cds_egress_mesh1_catalog_http_8080."
    got = {k: stats.get(p + k) for k in (
        "upstream_rq_total", "upstream_rq_retry", "upstream_rq_retry_success", "upstream_rq_retry_limit_exceeded",
        "upstream_rq_200", "upstream_rq_2xx", "upstream_rq_503", "upstream_rq_504", "upstream_rq_5xx",
        "upstream_rq_completed", "retry.upstream_rq_503", "retry.upstream_rq_5xx", "upstream_cx_connect_fail",
        "upstream_rq_timeout")}
    assert got == {"upstream_rq_total": 10, "upstream_rq_retry": 5, "upstream_rq_retry_success": 2,
                   "upstream_rq_retry_limit_exceeded": 1, "upstream_rq_200": 3, "upstream_rq_2xx": 3,
                   "upstream_rq_503": 1, "upstream_rq_504": 1, "upstream_rq_5xx": 2, "upstream_rq_completed": 5,
                   "retry.upstream_rq_503": 4, "retry.upstream_rq_5xx": 4, "upstream_cx_connect_fail": 1,
                   "upstream_rq_timeout": 1}
