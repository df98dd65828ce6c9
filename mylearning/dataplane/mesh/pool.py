"""A listener's connection pool: admit, queue or refuse a request, as Envoy's circuit breakers do.

App Mesh applies a virtual node listener's ``connectionPool`` on the destination side, to the
proxy's cluster for its local app ("Connection pooling limits the number of connections that an
Envoy can concurrently establish with the local application cluster ... You can configure
destination-side connection pool settings for a virtual node listener",
https://docs.aws.amazon.com/app-mesh/latest/userguide/virtual_nodes.html), so this guards a
``cds_ingress_...`` cluster (a gateway's pool guards the gateway's own listener the same way):

* http (API_VirtualNodeHttpConnectionPool.html): at most ``maxConnections`` connections, an
  HTTP/1.1 connection carrying one request at a time, and at most ``maxPendingRequests`` requests
  waiting for one ("Number of overflowing requests after max_connections Envoy will queue").
  Envoy: "If this circuit breaker overflows the upstream_cx_overflow counter ... will increment",
  and for the queue "the upstream_rq_pending_overflow counter"
  (https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/circuit_breaking).
* http2 and grpc: at most ``maxRequests`` requests in flight; one more overflows
  (``upstream_rq_pending_overflow``, "Cluster maximum requests").
* tcp: at most ``maxConnections`` connections; one more is closed (``upstream_cx_overflow``).

A refused request gets Envoy's local reply 503 with response flag UO and ``x-envoy-overloaded:
true`` ("circuit breaking will cause the x-envoy-overloaded header to be set by the router filter").

Pure bookkeeping, no sockets and no waiting: ``request()`` says DISPATCH (a connection is yours),
QUEUED (wait for ``finish`` to hand you one, or ``cancel`` when you give up) or OVERFLOW.
"""
from __future__ import annotations

import collections
import dataclasses
import itertools
import threading
from typing import TYPE_CHECKING

from mylearning.dataplane.mesh.model import PoolLimits

if TYPE_CHECKING:
    from mylearning.dataplane.mesh.stats import ClusterStats

DISPATCH = "dispatch"
QUEUED = "queued"
OVERFLOW = "overflow"

OVERFLOW_STATUS = 503
OVERFLOW_BODY = "upstream connect error or disconnect/reset before headers. reset reason: overflow"
OVERFLOW_FLAG = "UO"
OVERFLOW_HEADERS = (("x-envoy-overloaded", "true"),)


@dataclasses.dataclass(frozen=True)
class Admission:
    state: str  # DISPATCH | QUEUED | OVERFLOW
    ticket: int


class ConnectionPool:
    """The counters of one cluster's pool for one protocol (http, http2, grpc or tcp)."""

    def __init__(self, protocol: str, limits: PoolLimits = PoolLimits(), *,
                 stats: "ClusterStats | None" = None) -> None:
        self.protocol = protocol
        self.limits = limits
        self.stats = stats
        self._active: set[int] = set()
        self._pending: collections.OrderedDict[int, None] = collections.OrderedDict()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    @property
    def capacity(self) -> int:
        return self.limits.max_requests if self.protocol in ("http2", "grpc") else self.limits.max_connections

    @property
    def queue_limit(self) -> int:
        return self.limits.max_pending_requests if self.protocol == "http" else 0

    @property
    def active(self) -> int:
        return len(self._active)

    @property
    def pending(self) -> int:
        return len(self._pending)

    def request(self) -> Admission:
        with self._lock:
            ticket = next(self._ids)
            if len(self._active) < self.capacity:
                self._active.add(ticket)
                self._count("dispatch")
                return Admission(DISPATCH, ticket)
            if self.protocol == "http" and len(self._pending) < self.queue_limit:
                self._pending[ticket] = None
                self._count("queued")
                return Admission(QUEUED, ticket)
            self._count("overflow")
            return Admission(OVERFLOW, ticket)

    def finish(self, ticket: int) -> int | None:
        """``ticket``'s request is done; returns the queued ticket that now has a connection."""
        with self._lock:
            if ticket in self._pending:
                del self._pending[ticket]
                self._publish()
                return None
            self._active.discard(ticket)
            handed = None
            if self._pending and len(self._active) < self.capacity:
                handed, _ = self._pending.popitem(last=False)
                self._active.add(handed)
            self._publish()
            return handed

    def cancel(self, ticket: int) -> None:
        """A queued request gave up (its timeout passed) before it got a connection."""
        with self._lock:
            if ticket in self._pending:
                del self._pending[ticket]
                if self.stats:
                    self.stats.inc("upstream_rq_cancelled")
            self._publish()

    def _count(self, what: str) -> None:
        if not self.stats:
            return
        s = self.stats
        if what == "dispatch":
            if self.protocol in ("http", "tcp"):
                s.inc("upstream_cx_total")
        elif what == "queued":
            s.inc("upstream_rq_pending_total")
        elif what == "overflow":
            if self.protocol == "tcp":
                s.inc("upstream_cx_overflow")
            elif self.protocol == "http":
                s.inc("upstream_cx_overflow")
                s.inc("upstream_rq_pending_overflow")
            else:
                s.inc("upstream_rq_pending_overflow")
        self._publish()

    def _publish(self) -> None:
        if not self.stats:
            return
        s = self.stats
        connections = self.protocol in ("http", "tcp")
        if connections:
            s.set("upstream_cx_active", len(self._active))
            s.set("circuit_breakers.default.cx_open", int(len(self._active) >= self.capacity))
        if self.protocol != "tcp":
            s.set("upstream_rq_active", len(self._active))
            s.set("upstream_rq_pending_active", len(self._pending))
            s.set("circuit_breakers.default.rq_pending_open",
                  int(self.protocol == "http" and len(self._pending) >= self.queue_limit))
            s.set("circuit_breakers.default.rq_open",
                  int(not connections and len(self._active) >= self.capacity))
