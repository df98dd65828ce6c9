"""CloudWatch percentile statistics, which moto 5.2 cannot compute, computed from the raw values.

The statistics are those the CloudWatch User Guide defines (Statistics definitions,
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html#Percentiles);
`fix_percentiles` is applied by `fixes` on the first CloudWatch call.
"""
from __future__ import annotations

import math
import re
from typing import Any

_NUMBER = r"\d+(?:\.\d+)?"


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile, by linear interpolation between closest ranks."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * p / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _bounds(text: str, values: list[float]) -> tuple[float, float] | None:
    """Read "99" or "(10%:90%)" / "(10:90)" of an extended statistic into value bounds."""
    if re.fullmatch(_NUMBER, text):
        return -math.inf, percentile(values, float(text))
    m = re.fullmatch(rf"\(({_NUMBER})?(%?):({_NUMBER})?(%?)\)", text)
    if not m:
        return None
    low, low_pct, high, high_pct = m.groups()
    lo = -math.inf if low is None else (percentile(values, float(low)) if low_pct else float(low))
    hi = math.inf if high is None else (percentile(values, float(high)) if high_pct else float(high))
    return lo, hi


def extended_statistic(stat: str, values: list[float]) -> float | None:
    """Percentile-based statistics CloudWatch documents (Statistics definitions in the
    CloudWatch User Guide, cloudwatch_concepts.html#Percentiles): pNN, tmNN, wmNN,
    tcNN, tsNN (each also with "(a%:b%)" bounds), IQM, and the percentile rank PR(a:b): "the
    percentage of values that meet a fixed threshold", its bounds values, not percentages, the
    lower one exclusive and the upper one inclusive."""
    if not values:
        return None
    if stat == "IQM":
        stat = "tm(25%:75%)"
    m = re.fullmatch(r"(pr|p|tm|wm|tc|ts|PR|TM|WM|TC|TS)(.+)", stat)
    if not m:
        return None
    kind, rest = m.group(1).lower(), m.group(2)
    if kind == "pr":
        if "%" in rest:
            return None  # PR's bounds are values
        bounds = _bounds(rest, values)
        if bounds is None:
            return None
        inside = [v for v in values if bounds[0] < v <= bounds[1]]
        return 100.0 * len(inside) / len(values)
    if kind == "p":
        return percentile(values, float(rest)) if re.fullmatch(_NUMBER, rest) else None
    bounds = _bounds(rest, values)
    if bounds is None:
        return None
    lo, hi = bounds
    if kind == "wm":
        clipped = [min(max(v, lo), hi) for v in values]
        return sum(clipped) / len(clipped)
    inside = [v for v in values if (lo < v <= hi) or (lo == -math.inf and v <= hi)]
    if kind == "tc":
        return float(len(inside))
    if kind == "ts":
        return float(sum(inside))
    return sum(inside) / len(inside) if inside else None


def fix_percentiles() -> None:
    """moto 5.2 answers percentile statistics with None, and its serialiser then
    crashes (HTTP 500). Compute them from the raw values; leave out periods with
    no value, as CloudWatch does."""
    from moto.cloudwatch import models

    stats_cls, backend_cls = models.Statistics, models.CloudWatchBackend
    if not getattr(stats_cls.get_statistics_for_type, "_mylearning_percentiles", False):
        original_stat = stats_cls.get_statistics_for_type

        def get_statistics_for_type(self, stat: str):
            value = original_stat(self, stat)
            if value is None:
                value = extended_statistic(stat, [float(v) for v in self.metric_single_values_list])
            return value

        get_statistics_for_type._mylearning_percentiles = True  # type: ignore[attr-defined]
        stats_cls.get_statistics_for_type = get_statistics_for_type

    if not getattr(backend_cls.get_metric_data, "_mylearning_percentiles", False):
        original_data = backend_cls.get_metric_data

        def get_metric_data(self, *args: Any, **kwargs: Any):
            results = original_data(self, *args, **kwargs)
            for result in results:
                pairs = [(t, v) for t, v in zip(result["timestamps"], result["values"]) if v is not None]
                result["timestamps"] = [t for t, _ in pairs]
                result["values"] = [v for _, v in pairs]
            return results

        get_metric_data._mylearning_percentiles = True  # type: ignore[attr-defined]
        backend_cls.get_metric_data = get_metric_data

    if not getattr(backend_cls.put_metric_alarm, "_mylearning_percentiles", False):
        original_alarm = backend_cls.put_metric_alarm

        def put_metric_alarm(self, *args: Any, **kwargs: Any):
            """moto 5.2 accepts only pNN as an alarm's ExtendedStatistic; AWS also
            takes tm, wm, tc, ts and IQM (API_PutMetricAlarm.html, ExtendedStatistic)."""
            wanted = kwargs.get("extended_statistic")
            if wanted and not wanted.startswith("p") and extended_statistic(wanted, [1.0, 2.0]) is not None:
                kwargs["extended_statistic"] = "p50"
                alarm = original_alarm(self, *args, **kwargs)
                alarm.extended_statistic = wanted
                return alarm
            return original_alarm(self, *args, **kwargs)

        put_metric_alarm._mylearning_percentiles = True  # type: ignore[attr-defined]
        backend_cls.put_metric_alarm = put_metric_alarm


