"""What a run measures, request by request, and the arithmetic over it (no I/O).

A request is *successful* when it got an HTTP answer with a status from 200 to 399, the
convention load tools share (k6 counts exactly these as expected, everything else in
``http_req_failed``: https://grafana.com/docs/k6/latest/javascript-api/k6-http/set-response-callback/).
Everything else is an *error*, of one kind: no answer at all (``timeout``, ``refused``,
``reset``...), an answer of the data plane's edge (``edge 502 no-route``), or the
server's own (``http 500``). A request without an answer has status 0, as in k6 and
browsers, and is counted under version and target ``unknown``.

Percentiles use the nearest-rank definition: the p-th percentile of n sorted values is
the value at rank ceil(p/100 * n) (1-based), so it is always a latency that was really
measured, and p100 is the maximum
(https://en.wikipedia.org/wiki/Percentile#The_nearest-rank_method). It equals NumPy's
``percentile(..., method="inverted_cdf")``.
"""
from __future__ import annotations

import math
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Iterable, Sequence

#: Which version answered: set by the course images (mylearning/dataplane/images/service.py).
VERSION_HEADER = "X-MyLearning-Version"
#: Which task answered (its task ID): set by the course images next to the version.
TASK_HEADER = "X-MyLearning-Task"
#: Which of its own answers the edge gave (mylearning/dataplane/edge.py).
EDGE_HEADER = "X-MyLearning-Edge"
#: Version or target of a request whose answer did not say (or that got no answer).
UNKNOWN = "unknown"
NO_ANSWER = 0


def error_kind(status: int, edge: str | None = None) -> str | None:
    """The error an HTTP answer stands for, or None when it is a success (200-399)."""
    if 200 <= status < 400:
        return None
    if edge:
        return f"edge {status} {edge}"
    return f"http {status}"


@dataclass(frozen=True)
class Result:
    """One finished request. Times in seconds; `started` counts from the run's start."""

    started: float
    latency: float
    status: int = NO_ANSWER
    version: str = UNKNOWN
    target: str = UNKNOWN
    error: str | None = None  # the error kind; None for a success

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def finished(self) -> float:
        return self.started + self.latency


def percentile(ordered: Sequence[float], p: float) -> float | None:
    """The nearest-rank p-th percentile (0 < p <= 100) of values sorted ascending."""
    if not 0 < p <= 100:
        raise ValueError(f"a percentile is in (0, 100], not {p!r}")
    if not ordered:
        return None
    rank = math.ceil(Fraction(str(p)) * len(ordered) / 100)  # exact: 0.29 * 100 is not 29 in floats
    return ordered[max(rank, 1) - 1]


@dataclass(frozen=True)
class Percentiles:
    """Latency of a set of requests, in milliseconds (None when the set is empty)."""

    count: int
    p50: float | None
    p95: float | None
    p99: float | None
    max: float | None
    mean: float | None

    @classmethod
    def of(cls, seconds: Iterable[float]) -> "Percentiles":
        ordered = sorted(s * 1000.0 for s in seconds)
        mean = sum(ordered) / len(ordered) if ordered else None
        return cls(len(ordered), percentile(ordered, 50), percentile(ordered, 95),
                   percentile(ordered, 99), ordered[-1] if ordered else None, mean)

    def to_dict(self) -> dict[str, float | int | None]:
        return {name: (value if name == "count" or value is None else round(value, 3))
                for name, value in vars(self).items()}


@dataclass(frozen=True)
class Second:
    """What finished in one second of the run: the series a rolling update is seen in."""

    second: int
    requests: int
    errors: int
    by_version: dict[str, int]
    span: float = 1.0  # how much of this second the run lasted (its last is usually partial)

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0

    def to_dict(self) -> dict:
        return {"second": self.second, "requests": self.requests, "errors": self.errors,
                "by_version": dict(self.by_version), "span": round(self.span, 3)}


def per_second(results: Iterable[Result], seconds: float, since: int = 0) -> list[Second]:
    """Results by the second they finished in, from `since` to the run's last (empty ones
    too); `seconds` is how long the run has lasted."""
    buckets: dict[int, list[Result]] = {}
    for result in results:
        if result.finished >= since:
            buckets.setdefault(int(result.finished), []).append(result)
    last = max([int(seconds)] + list(buckets)) if (buckets or seconds > 0) else since - 1
    series = []
    for second in range(since, last + 1):
        items = buckets.get(second, [])
        series.append(Second(second, len(items), sum(1 for r in items if not r.ok),
                             dict(sorted(Counter(r.version for r in items).items())),
                             min(1.0, max(0.0, seconds - second))))
    return series


@dataclass
class Recorder:
    """Collects results from the client's thread while the caller's thread reads them.

    Every field changes under `lock`; `snapshot()` copies, so the live view and the
    summary never see a half-appended list.
    """

    t0: float = field(default_factory=time.perf_counter)
    results: list[Result] = field(default_factory=list)
    sent: int = 0
    skipped: int = 0  # an open-loop start not made: too many requests already in flight
    late: int = 0  # an open-loop start made more than LATE_SECONDS after its time
    max_late: float = 0.0
    in_flight: int = 0
    ended: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def now(self) -> float:
        return time.perf_counter() - self.t0

    def begin(self, lateness: float = 0.0, late_after: float = float("inf")) -> None:
        with self.lock:
            self.sent += 1
            self.in_flight += 1
            if lateness > late_after:
                self.late += 1
            self.max_late = max(self.max_late, lateness)

    def skip(self) -> None:
        with self.lock:
            self.skipped += 1

    def add(self, result: Result) -> None:
        with self.lock:
            self.in_flight -= 1
            self.results.append(result)

    def end(self) -> None:
        with self.lock:
            if self.ended is None:
                self.ended = self.now()

    def elapsed(self) -> float:
        return self.ended if self.ended is not None else self.now()

    def snapshot(self) -> "Recorder":
        with self.lock:
            return Recorder(self.t0, list(self.results), self.sent, self.skipped, self.late,
                            self.max_late, self.in_flight, self.ended)
