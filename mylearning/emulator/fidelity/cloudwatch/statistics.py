"""GetMetricStatistics with extended statistics, which moto 5.2 ignores (it answers only the
standard Statistics and drops ExtendedStatistics from every datapoint).

As https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricStatistics.html says:

* "you must specify either Statistics or ExtendedStatistics, but not both" (Statistics and
  ExtendedStatistics); up to 5 Statistics and 10 ExtendedStatistics (their Array Members);
* ExtendedStatistics are "The percentile statistics. Specify values between p0.0 and p100"
  (other percentile-based statistics, tm/wm/tc/ts/IQM, are computed as GetMetricData does);
* each Datapoint carries its ``ExtendedStatistics`` map (API_Datapoint.html), computed from the
  raw values; a period whose values include a negative number or a statistic set hiding them has
  no percentile ("Percentile statistics are not available for metrics when any of the metric
  values are negative numbers"; `datapoints.Aggregate`).

Standard Statistics are computed here too, from the same datapoints as GetMetricData's.
"""
from __future__ import annotations

import datetime
import math
from typing import Any

from mylearning.emulator.fidelity.cloudwatch.common import SERVICE, backend, listed, params, to_int, validation
from mylearning.emulator.fidelity.cloudwatch.datapoints import STANDARD, bucket, epoch, index_for, metric_key
from mylearning.emulator.fidelity.cloudwatch.percentiles import extended_statistic
from mylearning.emulator.fidelity.core import AwsRequest, handler

MAX_STATISTICS = 5
MAX_EXTENDED = 10


def _time(value: Any, name: str) -> float:
    if value is None:
        raise validation(f"The parameter {name} is required.")
    if isinstance(value, datetime.datetime):
        return epoch(value)
    try:
        return epoch(datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00")))
    except ValueError:
        return epoch(float(value))


def _check(statistics: list, extended: list) -> None:
    if statistics and extended:
        raise validation("Specify either Statistics or ExtendedStatistics, but not both.")
    if not statistics and not extended:
        raise validation("Must specify either Statistics or ExtendedStatistics.")
    if len(statistics) > MAX_STATISTICS:
        raise validation(f"The collection Statistics must not have a size greater than {MAX_STATISTICS}.")
    if len(extended) > MAX_EXTENDED:
        raise validation(f"The collection ExtendedStatistics must not have a size greater than {MAX_EXTENDED}.")
    for stat in extended:
        if extended_statistic(str(stat), [1.0]) is None:
            raise validation(f"The value {stat} for parameter ExtendedStatistics is not supported: "
                             "give a percentile between p0.0 and p100.")
        if str(stat).startswith("p") and not 0 <= float(str(stat)[1:]) <= 100:
            raise validation(f"The value {stat} for parameter ExtendedStatistics is not supported: "
                             "give a percentile between p0.0 and p100.")


@handler(SERVICE, "GetMetricStatistics")
def get_metric_statistics(req: AwsRequest) -> tuple[int, Any]:
    p = params(req)
    statistics = [str(s) for s in listed(p.get("Statistics"))]
    extended = [str(s) for s in listed(p.get("ExtendedStatistics"))]
    _check(statistics, extended)
    return _answer(req, p, statistics, extended)


def _answer(req: AwsRequest, p: dict, statistics: list[str], extended: list[str]) -> tuple[int, Any]:
    period = to_int(p.get("Period"))
    if not period or period < 1:
        raise validation("The parameter Period must be a positive number of seconds.")
    start, end = _time(p.get("StartTime"), "StartTime"), _time(p.get("EndTime"), "EndTime")
    if end <= start:
        raise validation("The parameter StartTime must be less than the parameter EndTime.")
    first = math.floor(start / period) * period
    starts = [first + k * period for k in range(max(0, math.ceil((end - first) / period)))]
    index = index_for(req.region, backend(req.region))
    key = metric_key(p.get("Namespace"), p.get("MetricName"), listed(p.get("Dimensions")))
    unit = p.get("Unit")
    timed = index.between(key, starts[0], starts[-1] + period) if starts else []
    points = []
    for moment, agg in zip(starts, bucket(timed, starts, period, unit)):
        if agg is None:
            continue
        point: dict[str, Any] = {"Timestamp": datetime.datetime.fromtimestamp(moment, datetime.timezone.utc)}
        for stat in statistics:
            if stat in STANDARD:
                point[stat] = agg.statistic(stat)
        values = {stat: agg.statistic(stat) for stat in extended}
        values = {k: v for k, v in values.items() if v is not None and math.isfinite(v)}
        if extended and not values:
            continue
        if values:
            point["ExtendedStatistics"] = values
        point["Unit"] = unit or _unit(timed) or "None"
        points.append(point)
    return 200, {"Label": p.get("MetricName"), "Datapoints": points}


def _unit(timed: list[tuple[float, Any]]) -> str | None:
    return next((d.unit for _, d in timed if getattr(d, "unit", None)), None)
