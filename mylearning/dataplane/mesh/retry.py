"""Retries and timeouts of one request: after each attempt, retry or give up, and with what.

A route's ``retryPolicy`` (https://docs.aws.amazon.com/app-mesh/latest/APIReference/API_HttpRetryPolicy.html):

* ``httpRetryEvents``: server-error "HTTP status codes 500, 501, 502, 503, 504, 505, 506, 507,
  508, 510, and 511" (not 509); gateway-error "502, 503, and 504"; client-error "409";
  stream-error "Retry on refused stream". "Both server-error and gateway-error under
  httpRetryEvents include the Envoy reset policy": a retry when the upstream "does not respond at
  all (disconnect/reset/read timeout)"
  (https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_filters/router_filter,
  x-envoy-retry-on ``reset``). A per-try timeout is such a read timeout.
* ``tcpRetryEvents``: connection-error, "equivalent to connect-failure"
  (https://docs.aws.amazon.com/app-mesh/latest/userguide/envoy-defaults.html).
* ``grpcRetryEvents`` (API_GrpcRetryPolicy.html): cancelled, deadline-exceeded, internal,
  resource-exhausted, unavailable, by the response's grpc-status (1, 4, 13, 8, 14).
* ``maxRetries`` retries after the first attempt; ``perRetryTimeout`` bounds every attempt,
  "including the initial attempt" (https://docs.aws.amazon.com/app-mesh/latest/userguide/routes.html,
  "Retry policy").

A route without a retry policy, and a virtual service with a virtual node provider, get App Mesh's
default policy: "Max retries 2", "HTTP retry events 503", gRPC UNAVAILABLE, "TCP retry event
connect-failure and refused-stream", and reset (envoy-defaults.html, "Default route retry policy";
it applies to accounts with no mesh before July 29, 2020, as the embedded account is).

The route's per-request timeout (default 15 s, 0 disables it) spans every attempt and the waits
between them (routes.html, "Timeouts": the request timeout "should always be greater than or equal
to the retry duration multiplied by the Max retries"). Between attempts Envoy waits a fully
jittered exponential back-off: retry N waits a random time in [0, (2^N - 1) x 25 ms), capped at
250 ms (router_filter, x-envoy-max-retries). A response carrying ``x-envoy-overloaded`` (another
Envoy's circuit breaker, https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/circuit_breaking)
is never retried.

When the proxy gives up on an error it answers for the upstream, with Envoy's local replies and
response flags (https://www.envoyproxy.io/docs/envoy/latest/configuration/observability/access_log/usage,
"%RESPONSE_FLAGS%"): 503 UF "upstream connect error or disconnect/reset before headers. reset
reason: connection failure", 503 UC (connection termination), 503 UR (remote refused stream reset),
504 UT "upstream request timeout"; URX is added when retries ran out.

The retry circuit breaker (max_retries) is 2147483647 in App Mesh, so ``upstream_rq_retry_overflow``
never counts here.
"""
from __future__ import annotations

import dataclasses
import random
import time
from typing import Callable, Mapping, TYPE_CHECKING

from mylearning.dataplane.mesh.model import seconds

if TYPE_CHECKING:
    from mylearning.dataplane.mesh.stats import ClusterStats

SERVER_ERRORS = frozenset({500, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511})
GATEWAY_ERRORS = frozenset({502, 503, 504})
CLIENT_ERRORS = frozenset({409})
GRPC_EVENTS = {"cancelled": 1, "deadline-exceeded": 4, "internal": 13, "resource-exhausted": 8, "unavailable": 14}

BASE_INTERVAL = 0.025
MAX_INTERVAL = 10 * BASE_INTERVAL

CONNECT_FAILURE = "connect-failure"
RESET = "reset"
REFUSED_STREAM = "refused-stream"
PER_TRY_TIMEOUT = "per-try-timeout"
TIMEOUT = "timeout"

_BEFORE_HEADERS = "upstream connect error or disconnect/reset before headers. reset reason: "
#: What the proxy answers when it gives up on an error: (status, body, response flag).
LOCAL_REPLIES = {
    CONNECT_FAILURE: (503, _BEFORE_HEADERS + "connection failure", "UF"),
    RESET: (503, _BEFORE_HEADERS + "connection termination", "UC"),
    REFUSED_STREAM: (503, _BEFORE_HEADERS + "remote refused stream reset", "UR"),
    PER_TRY_TIMEOUT: (504, "upstream request timeout", "UT"),
    TIMEOUT: (504, "upstream request timeout", "UT"),
}


@dataclasses.dataclass(frozen=True)
class Outcome:
    """How one attempt ended: a response (``status``), or an ``error`` before one."""
    status: int | None = None
    error: str | None = None
    grpc_status: int | None = None
    overloaded: bool = False

    @classmethod
    def response(cls, status: int, *, grpc_status: int | None = None, overloaded: bool = False) -> "Outcome":
        return cls(status=status, grpc_status=grpc_status, overloaded=overloaded)

    @classmethod
    def failed(cls, error: str) -> "Outcome":
        if error not in LOCAL_REPLIES:
            raise ValueError(f"unknown error kind {error!r}")
        return cls(error=error)

    @property
    def server_error(self) -> bool:
        """A 5xx, or an error the proxy would answer with one (outlier detection counts these)."""
        return self.error is not None or (self.status is not None and self.status >= 500)


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 0
    per_try_timeout: float | None = None
    statuses: frozenset[int] = frozenset()
    reset: bool = False
    connect_failure: bool = False
    refused_stream: bool = False
    grpc_statuses: frozenset[int] = frozenset()

    @classmethod
    def from_spec(cls, spec: Mapping | None) -> "RetryPolicy":
        """The route's policy; App Mesh's default when the route has none."""
        if not spec:
            return DEFAULT_RETRY_POLICY
        events = set(spec.get("httpRetryEvents") or ())
        statuses: set[int] = set()
        if "server-error" in events:
            statuses |= SERVER_ERRORS
        if "gateway-error" in events:
            statuses |= GATEWAY_ERRORS
        if "client-error" in events:
            statuses |= CLIENT_ERRORS
        per_try = seconds(spec.get("perRetryTimeout"))
        return cls(max_retries=int(spec.get("maxRetries") or 0),
                   per_try_timeout=per_try or None,  # 0 means none (the route's timeout bounds it)
                   statuses=frozenset(statuses),
                   reset=bool(events & {"server-error", "gateway-error"}),
                   connect_failure="connection-error" in (spec.get("tcpRetryEvents") or ()),
                   refused_stream="stream-error" in events,
                   grpc_statuses=frozenset(GRPC_EVENTS[e] for e in spec.get("grpcRetryEvents") or () if e in GRPC_EVENTS))

    def retriable(self, outcome: Outcome) -> bool:
        if outcome.overloaded:
            return False
        if outcome.error == CONNECT_FAILURE:
            return self.connect_failure or self.reset
        if outcome.error in (RESET, PER_TRY_TIMEOUT):
            return self.reset
        if outcome.error == REFUSED_STREAM:
            return self.refused_stream or self.reset
        if outcome.error == TIMEOUT:
            return False
        if outcome.grpc_status is not None and outcome.grpc_status in self.grpc_statuses:
            return True
        return outcome.status in self.statuses


#: envoy-defaults.html, "Default route retry policy".
DEFAULT_RETRY_POLICY = RetryPolicy(max_retries=2, statuses=frozenset({503}), reset=True, connect_failure=True,
                                   refused_stream=True, grpc_statuses=frozenset({GRPC_EVENTS["unavailable"]}))
NO_RETRIES = RetryPolicy()


@dataclasses.dataclass(frozen=True)
class Verdict:
    """After an attempt: ``retry`` after ``backoff`` seconds, or give up and send ``status``.

    ``body`` and ``flags`` are set when the proxy answers for the upstream (an error, a timeout);
    when it passes the upstream's response on, ``body`` is None.
    """
    retry: bool
    backoff: float = 0.0
    status: int | None = None
    body: str | None = None
    flags: str = ""
    reason: str = ""


class RetryState:
    """The retry and timeout bookkeeping of one downstream request.

    ``begin()`` before each attempt (it counts ``upstream_rq_total``); ``attempt_timeout()`` is how
    long that attempt may take (the per-try timeout and what is left of the route's timeout);
    ``decide(outcome)`` after it. When ``attempt_timeout()`` is 0 the route's timeout has passed:
    ``decide(Outcome.failed(TIMEOUT))`` gives the 504.
    """

    def __init__(self, policy: RetryPolicy, timeout: float | None, *, clock: Callable[[], float] = time.monotonic,
                 rng: random.Random | None = None, stats: "ClusterStats | None" = None) -> None:
        self.policy = policy
        self.timeout = timeout
        self.clock = clock
        self.rng = rng or random.Random()
        self.stats = stats
        self.started = clock()
        self.attempts = 0

    @property
    def retries(self) -> int:
        return max(0, self.attempts - 1)

    def remaining(self) -> float | None:
        if self.timeout is None:
            return None
        return max(0.0, self.started + self.timeout - self.clock())

    def attempt_timeout(self) -> float | None:
        limits = [t for t in (self.policy.per_try_timeout, self.remaining()) if t is not None]
        return min(limits) if limits else None

    def begin(self) -> None:
        self.attempts += 1
        if self.stats:
            self.stats.inc("upstream_rq_total")

    def backoff(self, retry_number: int) -> float:
        ceiling = min((2 ** retry_number - 1) * BASE_INTERVAL, MAX_INTERVAL)
        return self.rng.random() * ceiling

    def decide(self, outcome: Outcome) -> Verdict:
        expired = self.timeout is not None and self.clock() >= self.started + self.timeout
        if outcome.error == TIMEOUT or (expired and outcome.error == PER_TRY_TIMEOUT):
            return self._local(TIMEOUT, "route timeout", stat="upstream_rq_timeout")
        if outcome.error == PER_TRY_TIMEOUT and self.stats:
            self.stats.inc("upstream_rq_per_try_timeout")
        elif outcome.error == CONNECT_FAILURE and self.stats:
            self.stats.inc("upstream_cx_connect_fail")
        elif outcome.error in (RESET, REFUSED_STREAM) and self.stats:
            self.stats.inc("upstream_rq_rx_reset")
        retriable = self.policy.retriable(outcome)
        if retriable and not expired and self.retries < self.policy.max_retries:
            if self.stats:
                if outcome.status is not None:
                    self.stats.response(outcome.status, retried=True)
                self.stats.inc("upstream_rq_retry")
            return Verdict(True, backoff=self.backoff(self.retries + 1), reason=f"retry {self.retries + 1}")
        exhausted = retriable and not expired and self.policy.max_retries > 0
        flags = "URX" if exhausted else ""
        if self.stats:
            if exhausted:
                self.stats.inc("upstream_rq_retry_limit_exceeded")
            elif self.attempts > 1:
                self.stats.inc("upstream_rq_retry_success")
        if outcome.error:
            status, body, flag = LOCAL_REPLIES[outcome.error]
            if self.stats:
                self.stats.response(status)
            return Verdict(False, status=status, body=body, flags=",".join(f for f in (flag, flags) if f),
                           reason=outcome.error)
        if self.stats:
            self.stats.response(outcome.status)
        return Verdict(False, status=outcome.status, flags=flags,
                       reason="retries exhausted" if flags else "final response")

    def _local(self, error: str, reason: str, *, stat: str) -> Verdict:
        status, body, flag = LOCAL_REPLIES[error]
        if self.stats:
            self.stats.inc(stat)
            self.stats.response(status)
        return Verdict(False, status=status, body=body, flags=flag, reason=reason)
