"""GetMetricData computed from the stored datapoints (`datapoints`), applied by `fixes`.

moto 5.2 answers GetMetricData, but: a percentile over a statistic set is never computed (AWS
computes it when the set's SampleCount is 1 or its Minimum equals its Maximum); a query with
dimensions matches datapoints of any namespace and one without dimensions matches the metric
whatever its dimensions (a metric is its namespace, name and whole set of dimensions); and a
metric math expression gives nothing unless it is a query id. Here, as API_GetMetricData.html
says:

* StartTime is rounded down: to the minute when it is under 15 days ago, to 5 minutes under
  63 days, else to the hour; with a Period of 5, 10, 20 or 30 to a multiple of it. Periods
  follow from there while they start before EndTime; ScanBy orders them (newest first by
  default).
* Statistics and extended statistics (pNN, tm, wm, tc, ts, IQM) as `datapoints` computes them.
* Expressions by `metric_math`, over the request's queries (ReturnData false included); an
  expression giving an array of time series gives one result per series, labelled with the
  expression's label and the metric's id. A malformed expression, or one naming an unknown id,
  is a ValidationError; a function the embedded AWS does not compute gives that result
  StatusCode InternalError and a message that says so.

Metrics Insights queries (``SELECT ...``) are still answered by moto.
"""
from __future__ import annotations

import datetime
import math
import time
from typing import Any

from mylearning.emulator.fidelity.cloudwatch.datapoints import epoch, index_for, metric_key, series
from mylearning.emulator.fidelity.cloudwatch.metric_math import (Arr, Context, MathError, Unsupported,
                                                                 lookup)

MARK = "_mylearning_metric_data"
DAY = 24 * 3600


def rounded_start(start: float, period: int, now: float) -> float:
    """StartTime as CloudWatch rounds it (API_GetMetricData.html, StartTime)."""
    if period in (5, 10, 20, 30):
        return math.floor(start / period) * period
    if period < 60:
        return math.floor(start)
    age = now - start
    step = 60 if age < 15 * DAY else 300 if age < 63 * DAY else 3600
    return math.floor(start / step) * step


def _insights(query: dict) -> bool:
    return str(query.get("Expression") or "").lstrip().upper().startswith("SELECT")


def _moment(t: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc)


def _result(query_id: str, label: str, values: dict[float, float], descending: bool,
            status: str = "Complete", message: str | None = None) -> dict[str, Any]:
    times = sorted(values, reverse=descending)
    result: dict[str, Any] = {"id": query_id, "label": label, "timestamps": [_moment(t) for t in times],
                              "values": [values[t] for t in times], "status_code": status}
    if message:
        result["messages"] = [{"code": status, "value": message}]
    return result


def compute(backend: Any, queries: list[dict], start: float, end: float,
            scan_by: str = "TimestampDescending") -> list[dict[str, Any]]:
    """The results of the metric and expression queries (caller holds ``core.STATE``)."""
    from moto.cloudwatch.exceptions import ValidationError

    index = index_for(backend.region_name, backend)
    now = time.time()
    stats = [q for q in queries if q.get("MetricStat")]
    periods = [int(q["MetricStat"].get("Period") or 60) for q in stats]
    default = min(periods, default=None) or int(next((q.get("Period") for q in queries if q.get("Period")), 60))
    first = rounded_start(start, default, now)
    ctx = Context(grid=[first + k * default for k in range(max(0, math.ceil((end - first) / default)))])
    found: dict[str, dict[float, float]] = {}
    same: dict[tuple, dict[float, float]] = {}  # a request may ask for one metric many times
    for query, period in zip(stats, periods):
        stat = query["MetricStat"]
        metric = stat.get("Metric") or {}
        key = (metric_key(metric.get("Namespace"), metric.get("MetricName"), metric.get("Dimensions") or []),
               stat.get("Stat"), stat.get("Unit"), period)
        if key not in same:
            begin = rounded_start(start, period, now)
            starts = [begin + k * period for k in range(max(0, math.ceil((end - begin) / period)))]
            values = series(index, metric, stat.get("Stat") or "", starts, period, stat.get("Unit"))
            same[key] = {t: v for t, (v, _) in values.items()}
        found[query["Id"]] = ctx.metrics[query["Id"]] = same[key]
        ctx.periods[query["Id"]] = period
    for query in queries:
        if query.get("Expression"):
            ctx.expressions[query["Id"]] = query["Expression"]
    descending = scan_by != "TimestampAscending"
    results: list[dict[str, Any]] = []
    for query in queries:
        if query.get("ReturnData") is False or str(query.get("ReturnData")).lower() == "false":
            continue
        query_id = query["Id"]
        if query_id in found:
            metric = query["MetricStat"].get("Metric") or {}
            label = query.get("Label") or f"{metric.get('MetricName')} {query['MetricStat'].get('Stat')}"
            results.append(_result(query_id, label, found[query_id], descending))
            continue
        label = query.get("Label") or query_id
        try:
            value = lookup(query_id, ctx)
        except Unsupported as err:
            results.append(_result(query_id, label, {}, descending, "InternalError", f"{err}."))
            continue
        except MathError as err:
            raise ValidationError(f"Error in expression '{query_id}': {err}.") from None
        if isinstance(value, Arr):
            results += [_result(query_id, f"{label} {name}".strip(), s, descending) for name, s in value]
        elif isinstance(value, dict):
            results.append(_result(query_id, label, value, descending))
        else:
            raise ValidationError(f"Error in expression '{query_id}': the final result of a math "
                                  "expression must be a time series or an array of time series.")
    return results


def fix_get_metric_data() -> None:
    from moto.cloudwatch.exceptions import ValidationError
    from moto.cloudwatch.models import CloudWatchBackend

    if getattr(CloudWatchBackend.get_metric_data, MARK, False):
        return
    original = CloudWatchBackend.get_metric_data

    def get_metric_data(self, queries: list[dict[str, Any]], start_time: Any, end_time: Any,
                        scan_by: str = "TimestampAscending") -> list[dict[str, Any]]:
        mine = [q for q in queries if not _insights(q)]
        if not mine:
            return original(self, queries, start_time, end_time, scan_by)
        start, end = epoch(start_time), epoch(end_time)
        if start > end:
            raise ValidationError("The parameter EndTime must be greater than StartTime.")
        if start == end:
            raise ValidationError("The parameter StartTime must not equal parameter EndTime.")
        results = compute(self, mine, start, end, scan_by)
        insights = [q for q in queries if _insights(q)]
        return results + (original(self, insights, start_time, end_time, scan_by) if insights else [])

    setattr(get_metric_data, MARK, True)
    CloudWatchBackend.get_metric_data = get_metric_data
