"""A listener's connection pool: dispatch, queue, overflow, as Envoy's circuit breakers count them."""
from __future__ import annotations

import pytest

from mylearning.dataplane.mesh import DISPATCH, OVERFLOW, QUEUED, ConnectionPool, Stats
from mylearning.dataplane.mesh.model import PoolLimits
from mylearning.dataplane.mesh.pool import OVERFLOW_BODY, OVERFLOW_FLAG, OVERFLOW_HEADERS, OVERFLOW_STATUS


@pytest.mark.parametrize("protocol, spec, requests, states", [
    # http: maxConnections at once, then maxPendingRequests queued, then overflow
    ("http", {"http": {"maxConnections": 2, "maxPendingRequests": 1}}, 4, [DISPATCH, DISPATCH, QUEUED, OVERFLOW]),
    ("http", {"http": {"maxConnections": 1}}, 3, [DISPATCH, QUEUED, QUEUED]),   # pending defaults to 2147483647
    # http2 / grpc: maxRequests in flight, no queue
    ("http2", {"http2": {"maxRequests": 2}}, 3, [DISPATCH, DISPATCH, OVERFLOW]),
    ("grpc", {"grpc": {"maxRequests": 1}}, 2, [DISPATCH, OVERFLOW]),
    # tcp: maxConnections
    ("tcp", {"tcp": {"maxConnections": 1}}, 2, [DISPATCH, OVERFLOW]),
    # no pool: App Mesh's 2147483647 everywhere
    ("http", None, 5, [DISPATCH] * 5),
])
def test_admissions(protocol, spec, requests, states):
    pool = ConnectionPool(protocol, PoolLimits.from_spec(spec))
    assert [pool.request().state for _ in range(requests)] == states


def test_finishing_hands_the_connection_to_the_oldest_queued_request():
    pool = ConnectionPool("http", PoolLimits.from_spec({"http": {"maxConnections": 1, "maxPendingRequests": 2}}))
    first, second, third = pool.request(), pool.request(), pool.request()
    assert (first.state, second.state, third.state) == (DISPATCH, QUEUED, QUEUED)
    assert pool.finish(first.ticket) == second.ticket
    assert (pool.active, pool.pending) == (1, 1)
    pool.cancel(third.ticket)                       # gave up waiting
    assert pool.finish(second.ticket) is None
    assert (pool.active, pool.pending) == (0, 0)
    assert pool.request().state == DISPATCH


def test_overflow_stats_and_circuit_breaker_gauges():
    stats = Stats()
    cluster = stats.cluster("cds_ingress_cb-mesh_colorteller-white-vn_http_9080")
    pool = ConnectionPool("http", PoolLimits(max_connections=2, max_pending_requests=1), stats=cluster)
    tickets = [pool.request() for _ in range(5)]
    p = "cluster.cds_ingress_cb-mesh_colorteller-white-vn_http_9080."
    got = {k: stats.get(p + k) for k in ("upstream_cx_total", "upstream_cx_active", "upstream_rq_pending_total",
                                          "upstream_rq_pending_active", "upstream_rq_pending_overflow",
                                          "upstream_cx_overflow", "circuit_breakers.default.cx_open",
                                          "circuit_breakers.default.rq_pending_open")}
    assert got == {"upstream_cx_total": 2, "upstream_cx_active": 2, "upstream_rq_pending_total": 1,
                   "upstream_rq_pending_active": 1, "upstream_rq_pending_overflow": 2, "upstream_cx_overflow": 2,
                   "circuit_breakers.default.cx_open": 1, "circuit_breakers.default.rq_pending_open": 1}
    pool.finish(tickets[0].ticket)
    pool.finish(tickets[1].ticket)
    pool.finish(tickets[2].ticket)
    assert stats.get(p + "upstream_cx_active") == 0 and stats.get(p + "circuit_breakers.default.cx_open") == 0


def test_http2_overflow_counts_pending_overflow_and_rq_open():
    stats = Stats()
    pool = ConnectionPool("http2", PoolLimits(max_requests=1), stats=stats.cluster("c"))
    pool.request()
    assert pool.request().state == OVERFLOW
    assert stats.get("cluster.c.upstream_rq_pending_overflow") == 1
    assert stats.get("cluster.c.circuit_breakers.default.rq_open") == 1
    assert stats.get("cluster.c.upstream_cx_overflow") == 0


def test_the_overflow_answer_is_envoys():
    assert (OVERFLOW_STATUS, OVERFLOW_FLAG, OVERFLOW_HEADERS) == (503, "UO", (("x-envoy-overloaded", "true"),))
    assert OVERFLOW_BODY.endswith("reset reason: overflow")
