"""CloudWatch metric alarms: the checks PutMetricAlarm makes that moto skips.

Each rule cites the CloudWatch API reference page it comes from
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/); CloudWatch answers
these with ``ValidationError`` (HTTP 400). Parameters are read through `common.params`,
so JSON 1.0 (boto3 1.44) and the older query protocol (the AWS CLI) get the same answers.
"""
from __future__ import annotations

import math
import re
from typing import Any, Iterator

from mylearning.emulator.fidelity.cloudwatch.common import (SERVICE, listed, params,
                                                            to_bool, to_int, validation)
from mylearning.emulator.fidelity.core import AwsRequest, rule

#: Alarm periods: "Valid values are 10, 20, 30, and any multiple of 60" (API_PutMetricAlarm.html).
ALARM_SHORT_PERIODS = (10, 20, 30)
#: Periods inside a metric query: 1, 5, 10, 20, 30, 60 or a multiple of 60
#: (API_MetricStat.html, API_MetricDataQuery.html).
QUERY_SHORT_PERIODS = (1, 5, 10, 20, 30)
SEVEN_DAYS = 7 * 24 * 3600
ONE_DAY = 24 * 3600
#: The members of a single-metric alarm that a metric-math alarm (`Metrics`) may not set.
SINGLE_METRIC_MEMBERS = ("Namespace", "MetricName", "Dimensions", "Period", "Unit", "Statistic",
                         "ExtendedStatistic")
#: Comparison operators "used only for alarms based on anomaly detection models".
BAND_OPERATORS = ("LessThanLowerOrGreaterThanUpperThreshold", "LessThanLowerThreshold",
                  "GreaterThanUpperThreshold")
#: MetricDataQuery Id: "The first character must be a lowercase letter" (API_MetricDataQuery.html).
QUERY_ID = re.compile(r"^[a-z][a-zA-Z0-9_]*$")


def _set(value: Any) -> bool:
    """Whether a request member counts as given (an empty list or string does not)."""
    return value is not None and value != [] and value != ""


def _queries(p: dict) -> tuple[str, list]:
    """The metric queries of an alarm (`Metrics`) or of GetMetricData (`MetricDataQueries`)."""
    if "MetricDataQueries" in p:
        return "MetricDataQueries", listed(p.get("MetricDataQueries"))
    return "Metrics", listed(p.get("Metrics"))


@rule(SERVICE, "PutMetricAlarm")
def alarm_period_allowed(req: AwsRequest) -> None:
    """Period: "Valid values are 10, 20, 30, and any multiple of 60"; Period x
    EvaluationPeriods at most 7 days (604,800 s), and at most one day (86,400 s) when Period
    is under an hour (API_PutMetricAlarm.html, Period)."""
    p = params(req)
    period = to_int(p.get("Period"))
    if period is not None and period not in ALARM_SHORT_PERIODS and period % 60:
        raise validation(f"The parameter Period must be 10, 20, 30 or a multiple of 60; got {period}.")
    evaluations = to_int(p.get("EvaluationPeriods"))
    if period and evaluations:
        limit = ONE_DAY if period < 3600 else SEVEN_DAYS
        if period * evaluations > limit:
            raise validation(f"Period ({period}) x EvaluationPeriods ({evaluations}) must be at most "
                             f"{limit} seconds.")


def _query_periods(p: dict) -> Iterator[tuple[str, Any]]:
    name, queries = _queries(p)
    for i, query in enumerate(queries):
        stat = (query or {}).get("MetricStat") or {}
        if "Period" in stat:
            yield f"{name[0].lower()}{name[1:]}.{i + 1}.member.metricStat.period", stat["Period"]


@rule(SERVICE, "PutMetricAlarm", "GetMetricData")
def query_period_allowed(req: AwsRequest) -> None:
    """A metric query's period is 1, 5, 10, 20, 30, 60 or a multiple of 60
    (API_MetricStat.html: "If the StorageResolution of the metric ... is 1 second,
    ... valid values are 1, 5, 10, 20, 30, 60, or any multiple of 60")."""
    for where, value in _query_periods(params(req)):
        period = to_int(value)
        if period is not None and period not in QUERY_SHORT_PERIODS and period % 60:
            raise validation(f"The value {period} for parameter {where} is not valid: use 1, 5, "
                             "10, 20, 30 or a multiple of 60.")


@rule(SERVICE, "PutMetricAlarm", "GetMetricData")
def query_ids_and_kinds(req: AwsRequest) -> None:
    """Each metric query has an Id of letters, digits and underscores whose "first character
    must be a lowercase letter", unique "within a single call"; and it has "either Expression
    or MetricStat but not both" (API_MetricDataQuery.html)."""
    name, queries = _queries(params(req))
    seen: set[str] = set()
    for i, query in enumerate(queries, start=1):
        query = query if isinstance(query, dict) else {}
        query_id = str(query.get("Id", ""))
        if not QUERY_ID.match(query_id):
            raise validation(f"The value {query_id} for parameter {name}.member.{i}.Id is not "
                             f"matching the expected pattern {QUERY_ID.pattern}.")
        if query_id in seen:
            raise validation(f"The value {query_id} for parameter {name}.member.{i}.Id is not "
                             f"unique: each Id may appear only once in {name}.")
        seen.add(query_id)
        if _set(query.get("MetricStat")) and _set(query.get("Expression")):
            raise validation(f"The parameters {name}.member.{i}.MetricStat and "
                             f"{name}.member.{i}.Expression are mutually exclusive and you "
                             "have specified both.")


@rule(SERVICE, "PutMetricAlarm")
def metric_or_metrics(req: AwsRequest) -> None:
    """An alarm watches MetricName or a Metrics array: "you must specify either MetricName, a
    Metrics array, or an EvaluationCriteria", and "If you use the Metrics parameter, you cannot
    include the Namespace, MetricName, Dimensions, Period, Unit, Statistic, or
    ExtendedStatistic parameters" (API_PutMetricAlarm.html)."""
    p = params(req)
    if _set(p.get("Metrics")):
        for member in SINGLE_METRIC_MEMBERS:
            if _set(p.get(member)):
                raise validation(f"{member} should not be set if list of Metrics is set.")
    elif not _set(p.get("MetricName")) and not _set(p.get("EvaluationCriteria")):
        raise validation("For each PutMetricAlarm operation, you must specify either MetricName, "
                         "a Metrics array, or an EvaluationCriteria.")


@rule(SERVICE, "PutMetricAlarm")
def one_statistic(req: AwsRequest) -> None:
    """"When you call PutMetricAlarm and specify a MetricName, you must specify either
    Statistic or ExtendedStatistic, but not both" (API_PutMetricAlarm.html, Statistic)."""
    p = params(req)
    if not _set(p.get("MetricName")) or _set(p.get("Metrics")):
        return
    given = [m for m in ("Statistic", "ExtendedStatistic") if _set(p.get(m))]
    if len(given) == 2:
        raise validation("PutMetricAlarm takes either Statistic or ExtendedStatistic, not both.")
    if not given:
        raise validation("PutMetricAlarm with a MetricName needs a Statistic or an ExtendedStatistic.")


@rule(SERVICE, "PutMetricAlarm")
def returned_query(req: AwsRequest) -> None:
    """"One item in the Metrics array is the expression that the alarm watches. You designate
    this expression by setting ReturnData to true" (API_PutMetricAlarm.html, Metrics); ReturnData
    defaults to true (API_MetricDataQuery.html). An anomaly detection alarm (ThresholdMetricId)
    returns the metric and its ANOMALY_DETECTION_BAND, two items (the page's anomaly detection
    example)."""
    p = params(req)
    queries = listed(p.get("Metrics"))
    if not queries:
        return
    returned = sum(to_bool((q or {}).get("ReturnData"), True) for q in queries if isinstance(q, dict))
    wanted = 2 if _set(p.get("ThresholdMetricId")) else 1
    if returned != wanted:
        raise validation(f"Exactly {'one element' if wanted == 1 else 'two elements'} of the "
                         "metrics list should return data.")


@rule(SERVICE, "PutMetricAlarm")
def datapoints_within_evaluation_periods(req: AwsRequest) -> None:
    """An "M out of N" alarm: DatapointsToAlarm is the M, EvaluationPeriods the N
    (API_PutMetricAlarm.html, DatapointsToAlarm and EvaluationPeriods; the User Guide's
    AlarmThatSendsEmail.html#alarm-evaluation), so M cannot exceed N."""
    p = params(req)
    m, n = to_int(p.get("DatapointsToAlarm")), to_int(p.get("EvaluationPeriods"))
    if m is not None and n is not None and m > n:
        raise validation(f"DatapointsToAlarm ({m}) must be less than or equal to EvaluationPeriods ({n}).")


@rule(SERVICE, "PutMetricAlarm")
def threshold_or_band(req: AwsRequest) -> None:
    """Threshold "is required for alarms based on static thresholds, but should not be used for
    alarms based on anomaly detection models"; ThresholdMetricId must "match the ID of the
    ANOMALY_DETECTION_BAND function" in Metrics; the operators LessThanLowerOrGreaterThanUpper-
    Threshold, LessThanLowerThreshold and GreaterThanUpperThreshold "are used only for alarms
    based on anomaly detection models" (API_PutMetricAlarm.html)."""
    p = params(req)
    if _set(p.get("EvaluationCriteria")):
        return
    band_id = p.get("ThresholdMetricId")
    threshold = p.get("Threshold")
    operator = p.get("ComparisonOperator")
    if _set(band_id):
        if threshold is not None:
            raise validation("Threshold should not be set if ThresholdMetricId is set: an anomaly "
                             "detection alarm compares with its band.")
        ids = [(q or {}).get("Id") for q in listed(p.get("Metrics")) if isinstance(q, dict)]
        if band_id not in ids:
            raise validation(f"ThresholdMetricId {band_id} does not match the Id of any item in "
                             "the metrics list.")
        if operator is not None and operator not in BAND_OPERATORS:
            raise validation(f"ComparisonOperator {operator} cannot be used with ThresholdMetricId: "
                             f"use one of {', '.join(BAND_OPERATORS)}.")
        return
    if operator in BAND_OPERATORS:
        raise validation(f"ComparisonOperator {operator} can only be used with a ThresholdMetricId "
                         "(an anomaly detection alarm).")
    if threshold is None:
        raise validation("Threshold is required for an alarm with a static threshold.")
    value = _float(threshold)
    if value is None or not math.isfinite(value):
        raise validation(f"The value {threshold} for parameter Threshold is invalid.")


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
