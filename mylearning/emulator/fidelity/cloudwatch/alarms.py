"""Amazon CloudWatch: alarm checks AWS makes, and percentile statistics moto can't compute.

Rules follow the CloudWatch API reference
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/), answering
``ValidationError`` as CloudWatch does. boto3 1.44 talks to CloudWatch in JSON
1.0 (X-Amz-Target); the older query protocol (flat ``Metrics.member.1...`` keys)
is read too, so the AWS CLI gets the same answers.

moto is patched lazily, on the first GetMetricData or PutMetricAlarm call this
emulator answers.
"""
from __future__ import annotations

import math
import re
from typing import Any, Iterator

from mylearning.emulator.fidelity.core import MODELS, AwsError, AwsRequest, moto_fixes, rule

SERVICE = "cloudwatch"
API = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference"

#: Alarm periods: "Valid values are 10, 20, 30, and any multiple of 60" (API_PutMetricAlarm.html).
ALARM_SHORT_PERIODS = (10, 20, 30)
#: Periods inside a metric query: 1, 5, 10, 20, 30, 60 or a multiple of 60
#: (API_MetricStat.html, API_MetricDataQuery.html).
QUERY_SHORT_PERIODS = (1, 5, 10, 20, 30)
SEVEN_DAYS = 7 * 24 * 3600
ONE_DAY = 24 * 3600


def validation(message: str) -> AwsError:
    return AwsError("ValidationError", message, 400)


def _enum(shape: str) -> list[str]:
    model = MODELS.get(SERVICE)
    return list(model.shape_for(shape).enum) if model else []


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _query_periods(params: dict) -> Iterator[tuple[str, Any]]:
    """Periods of the metric queries inside an alarm, in JSON or flat query form."""
    metrics = params.get("Metrics")
    for i, query in enumerate(metrics if isinstance(metrics, list) else []):
        stat = (query or {}).get("MetricStat") or {}
        if "Period" in stat:
            yield f"metrics.{i + 1}.member.metricStat.period", stat["Period"]
    for key, value in params.items():
        m = re.fullmatch(r"Metrics\.member\.(\d+)\.MetricStat\.Period", key)
        if m:
            yield f"metrics.{m.group(1)}.member.metricStat.period", value


@rule(SERVICE, "PutMetricAlarm")
def comparison_operator_known(req: AwsRequest) -> None:
    """ComparisonOperator is one of the documented values (API_PutMetricAlarm.html)."""
    value = req.params.get("ComparisonOperator")
    allowed = _enum("ComparisonOperator")
    if value is not None and allowed and value not in allowed:
        raise validation(f"1 validation error detected: Value '{value}' at 'comparisonOperator' "
                         f"failed to satisfy constraint: Member must satisfy enum value set: "
                         f"[{', '.join(allowed)}]")


@rule(SERVICE, "PutMetricAlarm")
def statistic_known(req: AwsRequest) -> None:
    """Statistic is SampleCount, Average, Sum, Minimum or Maximum (API_PutMetricAlarm.html);
    percentiles go in ExtendedStatistic."""
    value = req.params.get("Statistic")
    allowed = _enum("Statistic")
    if value is not None and allowed and value not in allowed:
        raise validation(f"1 validation error detected: Value '{value}' at 'statistic' "
                         f"failed to satisfy constraint: Member must satisfy enum value set: "
                         f"[{', '.join(allowed)}]")


@rule(SERVICE, "PutMetricAlarm")
def alarm_period_allowed(req: AwsRequest) -> None:
    """Period: "Valid values are 10, 20, 30, and any multiple of 60"; Period x
    EvaluationPeriods at most 7 days, and at most one day when Period is under an
    hour (API_PutMetricAlarm.html)."""
    period = _int(req.params.get("Period"))
    if period is not None and period not in ALARM_SHORT_PERIODS and period % 60:
        raise validation(f"The parameter Period must be 10, 20, 30 or a multiple of 60; got {period}.")
    evaluations = _int(req.params.get("EvaluationPeriods"))
    if period and evaluations:
        limit = ONE_DAY if period < 3600 else SEVEN_DAYS
        if period * evaluations > limit:
            raise validation(f"Period ({period}) x EvaluationPeriods ({evaluations}) must be at most "
                             f"{limit} seconds.")


@rule(SERVICE, "PutMetricAlarm", "GetMetricData")
def query_period_allowed(req: AwsRequest) -> None:
    """A metric query's period is 1, 5, 10, 20, 30, 60 or a multiple of 60
    (API_MetricStat.html: "If the StorageResolution of the metric ... is 1 second,
    ... valid values are 1, 5, 10, 20, 30, 60, or any multiple of 60")."""
    params = dict(req.params)
    if isinstance(params.get("MetricDataQueries"), list):
        params["Metrics"] = params["MetricDataQueries"]
    for where, value in _query_periods(params):
        period = _int(value)
        if period is not None and period not in QUERY_SHORT_PERIODS and period % 60:
            raise validation(f"The value {period} for parameter {where} is not valid: use 1, 5, "
                             "10, 20, 30 or a multiple of 60.")


# ---------------------------------------------------------------- percentiles (moto fix)

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
    tcNN, tsNN (each also with "(a%:b%)" bounds), IQM."""
    if not values:
        return None
    if stat == "IQM":
        stat = "tm(25%:75%)"
    m = re.fullmatch(r"(p|tm|wm|tc|ts|TM|WM|TC|TS)(.+)", stat)
    if not m:
        return None
    kind, rest = m.group(1).lower(), m.group(2)
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


def _fix_percentiles() -> None:
    """moto 5.2 answers percentile statistics with None, and its serialiser then
    crashes (HTTP 500). Compute them from the raw values; leave out periods with
    no value, as CloudWatch does."""
    from moto.cloudwatch import models

    stats_cls, backend_cls = models.Statistics, models.CloudWatchBackend
    if not getattr(stats_cls.get_statistics_for_type, "_mylearning", False):
        original_stat = stats_cls.get_statistics_for_type

        def get_statistics_for_type(self, stat: str):
            value = original_stat(self, stat)
            if value is None:
                value = extended_statistic(stat, [float(v) for v in self.metric_single_values_list])
            return value

        get_statistics_for_type._mylearning = True  # type: ignore[attr-defined]
        stats_cls.get_statistics_for_type = get_statistics_for_type

    if not getattr(backend_cls.get_metric_data, "_mylearning", False):
        original_data = backend_cls.get_metric_data

        def get_metric_data(self, *args: Any, **kwargs: Any):
            results = original_data(self, *args, **kwargs)
            for result in results:
                pairs = [(t, v) for t, v in zip(result["timestamps"], result["values"]) if v is not None]
                result["timestamps"] = [t for t, _ in pairs]
                result["values"] = [v for _, v in pairs]
            return results

        get_metric_data._mylearning = True  # type: ignore[attr-defined]
        backend_cls.get_metric_data = get_metric_data

    if not getattr(backend_cls.put_metric_alarm, "_mylearning", False):
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

        put_metric_alarm._mylearning = True  # type: ignore[attr-defined]
        backend_cls.put_metric_alarm = put_metric_alarm


moto_fixes(SERVICE, _fix_percentiles, operations=("GetMetricData", "PutMetricAlarm"))
