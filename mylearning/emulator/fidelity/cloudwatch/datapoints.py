"""The datapoints CloudWatch stores, read from moto's metric store and aggregated per period.

moto keeps every PutMetricData datum of a region in one list (``CloudWatchBackend.metric_data``):
a ``Value``; each value of a ``Values`` array, repeated ``Counts`` times; or a
``StatisticValues`` set. Alarms (`evaluator`) and GetMetricData (`metric_data`) both read it
through a `MetricIndex`, which files what was appended since it last looked by metric, so
neither walks the whole store on every evaluation.

A metric is its namespace, its name and its whole set of dimensions: "CloudWatch treats each
unique combination of dimensions as a separate metric" (cloudwatch_concepts.html#Dimension),
so a query names every dimension of the metric it reads, no more and no fewer. A Unit, when a
query or an alarm gives one, keeps only the datapoints published with that unit
(API_MetricStat.html, Unit; API_PutMetricAlarm.html, Unit: without one "CloudWatch retrieves
all unit types that have been published for the metric").

Percentile-based statistics need the raw values: a statistic set counts only when "The
SampleCount value of the statistic set is 1" or "The Min and the Max values of the statistic
set are equal", and "Percentile statistics are not available for metrics when any of the
metric values are negative numbers" (API_GetMetricStatistics.html). Such a period has no
datapoint for that statistic.
"""
from __future__ import annotations

import bisect
import datetime
import math
from dataclasses import dataclass, field
from typing import Any, Iterable

from mylearning.emulator.fidelity.cloudwatch.percentiles import extended_statistic
from mylearning.emulator.fidelity.core import on_reset

STANDARD = ("SampleCount", "Sum", "Average", "Minimum", "Maximum")
MetricKey = tuple[str, str, frozenset]


def epoch(moment: Any) -> float:
    """A datum's timestamp in seconds since the epoch (moto keeps naive UTC or aware times)."""
    if isinstance(moment, datetime.datetime):
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=datetime.timezone.utc)
        return moment.timestamp()
    return float(moment)


def metric_key(namespace: str | None, name: str | None, dimensions: Iterable[Any]) -> MetricKey:
    """The identity of a metric; dimensions as moto's Dimension objects or API dicts."""
    pairs = []
    for d in dimensions or ():
        if isinstance(d, dict):
            pairs.append((d.get("Name"), d.get("Value")))
        else:
            pairs.append((d.name, d.value))
    return (namespace or "", name or "", frozenset(pairs))


class MetricIndex:
    """moto's datums of one region, filed by metric in time order; `refresh` reads only what is
    new, and `between` finds a time range by bisection."""

    def __init__(self) -> None:
        self._source: list | None = None
        self._seen = 0
        self._by_metric: dict[MetricKey, tuple[list[float], list]] = {}

    def refresh(self, backend: Any) -> None:
        data = backend.metric_data
        if data is not self._source or len(data) < self._seen:  # a reset account
            self._source, self._seen, self._by_metric = data, 0, {}
        for datum in data[self._seen:]:
            key = metric_key(datum.namespace, datum.name, datum.dimensions)
            times, datums = self._by_metric.setdefault(key, ([], []))
            moment = epoch(datum.timestamp)
            if not times or moment >= times[-1]:
                times.append(moment)
                datums.append(datum)
            else:  # published with an earlier timestamp than the last one
                i = bisect.bisect_right(times, moment)
                times.insert(i, moment)
                datums.insert(i, datum)
        self._seen = len(data)

    def between(self, key: MetricKey, start: float, end: float) -> list[tuple[float, Any]]:
        """(timestamp, datum) of the metric's datums with start <= timestamp < end."""
        times, datums = self._by_metric.get(key, ((), ()))
        low, high = bisect.bisect_left(times, start), bisect.bisect_left(times, end)
        return list(zip(times[low:high], datums[low:high]))


_INDEXES: dict[str, MetricIndex] = {}


def index_for(region: str, backend: Any) -> MetricIndex:
    """The region's index, brought up to date (caller holds ``core.STATE``)."""
    index = _INDEXES.setdefault(region, MetricIndex())
    index.refresh(backend)
    return index


@on_reset
def _clear() -> None:
    _INDEXES.clear()


@dataclass
class Aggregate:
    """The datapoints of one metric in one period."""

    values: list[float] = field(default_factory=list)
    sets: list[tuple[float, float, float, float]] = field(default_factory=list)  # n, sum, min, max

    def add(self, datum: Any) -> None:
        if hasattr(datum, "value"):
            self.values.append(float(datum.value))
        else:
            self.sets.append((float(datum.sample_count), float(datum.sum), float(datum.min),
                              float(datum.max)))

    @property
    def sample_count(self) -> float:
        return len(self.values) + sum(s[0] for s in self.sets)

    def statistic(self, stat: str) -> float | None:
        """The statistic of this period, or None when CloudWatch has none (see module doc)."""
        count = self.sample_count
        if stat == "SampleCount":
            return float(count)
        if not count:
            return None
        total = sum(self.values) + sum(s[1] for s in self.sets)
        if stat == "Sum":
            return total
        if stat == "Average":
            return total / count
        if stat == "Minimum":
            return min([*self.values, *(s[2] for s in self.sets)])
        if stat == "Maximum":
            return max([*self.values, *(s[3] for s in self.sets)])
        raw = self.raw_values()
        if raw is None or any(v < 0 for v in raw):
            return None
        return extended_statistic(stat, raw)

    def raw_values(self) -> list[float] | None:
        """The values a percentile can be computed from; None if a statistic set hides them."""
        raw = list(self.values)
        for n, total, low, high in self.sets:
            if n == 1:
                raw.append(total)
            elif low == high:
                raw.extend([low] * int(n))
            else:
                return None
        return raw


def bucket(timed: Iterable[tuple[float, Any]], starts: list[float], width: float,
           unit: str | None = None) -> list[Aggregate | None]:
    """(timestamp, datum) pairs into periods [start, start + width); None for an empty period."""
    found: list[Aggregate | None] = [None] * len(starts)
    if not starts:
        return found
    first, end = starts[0], starts[-1] + width
    for moment, datum in timed:
        if (unit and datum.unit != unit) or not first <= moment < end:
            continue
        i = min(len(starts) - 1, int((moment - first) // width))
        while i > 0 and moment < starts[i]:  # float rounding at a boundary
            i -= 1
        if found[i] is None:
            found[i] = Aggregate()
        found[i].add(datum)
    return found


def series(index: MetricIndex, metric: dict, stat: str, starts: list[float], width: float,
           unit: str | None = None) -> dict[float, tuple[float, float]]:
    """period start -> (statistic, sample count) of a metric (Namespace, MetricName,
    Dimensions as the API writes them), for the periods that have a value."""
    key = metric_key(metric.get("Namespace"), metric.get("MetricName"), metric.get("Dimensions") or [])
    out: dict[float, tuple[float, float]] = {}
    if not starts:
        return out
    timed = index.between(key, starts[0], starts[-1] + width)
    for start, agg in zip(starts, bucket(timed, starts, width, unit)):
        if agg is None:
            continue
        value = agg.statistic(stat)
        if value is not None and math.isfinite(value):
            out[start] = (value, agg.sample_count)
    return out
