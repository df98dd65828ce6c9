"""Metric alarm evaluation, as a pure function of hand-written datapoints (no emulator).

The two example tables of the CloudWatch User Guide ("How alarm state is evaluated when data
is missing", AlarmThatSendsEmail.html#alarms-evaluating-missing-data) are checked row by row
for every TreatMissingData; then M out of N, the wording of StateReason, percentiles and
their low-sample rule, high-resolution periods, the stored datapoints' aggregation and
metric math.
"""
from __future__ import annotations

import datetime
import json
import math
from types import SimpleNamespace

import pytest

from mylearning.emulator.fidelity.cloudwatch.datapoints import Aggregate, MetricIndex, bucket, metric_key
from mylearning.emulator.fidelity.cloudwatch.evaluation import Point, Settings, evaluate, range_size
from mylearning.emulator.fidelity.cloudwatch.metric_math import Context, MathError, Unsupported
from mylearning.emulator.fidelity.cloudwatch.metric_math import evaluate as compute

START = 1_764_600_000.0  # 2025-12-01T14:40:00Z, a multiple of 60
RETAIN = None


def settings(n: int = 3, m: int | None = None, how: str | None = None, **extra) -> Settings:
    base = dict(period=300, evaluation_periods=n, datapoints_to_alarm=m, treat_missing_data=how,
                comparison="GreaterThanThreshold", threshold=3.0, statistic="Average")
    base.update(extra)
    return Settings(**base)


def points(row: str, period: float = 300.0) -> list[Point]:
    """ "0 - X - X": oldest first; 0 not breaching (1.0), X breaching (5.0), - missing."""
    values = {"0": 1.0, "X": 5.0, "-": None}
    return [Point(START + i * period, values[c]) for i, c in enumerate(row.split())]


def state(s: Settings, row: str, current: str = "OK") -> str | None:
    outcome = evaluate(s, points(row), current, START + 10_000)
    return None if outcome is None else outcome.state


# ---------------------------------------------------------------- the guide's tables

FIRST_TABLE = [  # Datapoints to Alarm = Evaluation Periods = 3; 5 datapoints retrieved
    ("0 - X - X", "OK", "OK", "OK", "OK"),
    ("0 - - - -", "OK", "OK", "OK", "OK"),
    ("- - - - -", "INSUFFICIENT_DATA", RETAIN, "ALARM", "OK"),
    ("0 X X - X", "ALARM", "ALARM", "ALARM", "ALARM"),
    ("- - - - X", "INSUFFICIENT_DATA", RETAIN, "ALARM", "OK"),
    ("X - - - -", "ALARM", RETAIN, "ALARM", "OK"),
]
SECOND_TABLE = [  # 2 out of 3
    ("0 - X - X", "ALARM", "ALARM", "ALARM", "ALARM"),
    ("0 0 X 0 X", "ALARM", "ALARM", "ALARM", "ALARM"),
    ("0 - X - -", "OK", "OK", "ALARM", "OK"),
    ("- - - - 0", "OK", "OK", "ALARM", "OK"),
    ("- - - - X", "INSUFFICIENT_DATA", RETAIN, "ALARM", "OK"),
]
TREATMENTS = ("missing", "ignore", "breaching", "notBreaching")


@pytest.mark.parametrize("row, expected", [(r[0], r[1:]) for r in FIRST_TABLE])
def test_first_table_of_the_guide(row, expected):
    assert range_size(settings()) == 5
    for how, want in zip(TREATMENTS, expected):
        assert state(settings(3, 3, how), row) == want, (row, how)


@pytest.mark.parametrize("row, expected", [(r[0], r[1:]) for r in SECOND_TABLE])
def test_second_table_of_the_guide(row, expected):
    for how, want in zip(TREATMENTS, expected):
        assert state(settings(3, 2, how), row) == want, (row, how)


def test_missing_is_the_default_treatment():
    assert state(settings(3, 3, None), "- - - - -") == "INSUFFICIENT_DATA"
    assert state(settings(3, 3, "nonsense"), "- - - - X") == "INSUFFICIENT_DATA"


def test_ignore_keeps_any_state():
    assert state(settings(3, 3, "ignore"), "- - - - -", "ALARM") is None


def test_a_metric_that_stopped_is_evaluated_on_its_last_datapoints():
    """With N real datapoints in the range, the missing ones do not matter (the guide's note on
    alarms re-evaluating the last set of data points after the metric stopped)."""
    for how in TREATMENTS:
        assert state(settings(2, 2, how), "X X - - -") == "ALARM"


# ---------------------------------------------------------------- M out of N and its reason

def test_one_datapoint_reason_and_data():
    s = settings(1, 1, comparison="GreaterThanThreshold", threshold=70.0, period=60)
    outcome = evaluate(s, [Point(START, 60.0), Point(START + 60, 65.0), Point(START + 120, 85.3, 4.0)],
                       "OK", START + 185)
    assert outcome.state == "ALARM"
    assert outcome.reason == ("Threshold Crossed: 1 datapoint [85.3 (01/12/25 14:42:00)] was greater "
                              "than the threshold (70.0).")
    data = outcome.data
    assert data["period"] == 60 and data["threshold"] == 70.0 and data["statistic"] == "Average"
    assert data["queryDate"] == "2025-12-01T14:43:05.000+0000"
    assert data["startDate"] == "2025-12-01T14:42:00.000+0000"
    assert data["recentDatapoints"] == [85.3]
    assert data["evaluatedDatapoints"] == [
        {"timestamp": "2025-12-01T14:42:00.000+0000", "sampleCount": 4.0, "value": 85.3}]
    json.dumps(data)


def test_m_out_of_n_reason_names_the_transition():
    s = settings(3, 2, threshold=3.0, period=60)
    row = [Point(START + i * 60, v) for i, v in enumerate([1.0, 1.0, 5.0, 1.0, 6.0])]
    outcome = evaluate(s, row, "OK", START + 400)
    assert outcome.state == "ALARM"
    assert outcome.reason == (
        "Threshold Crossed: 2 out of the last 3 datapoints [6.0 (01/12/25 14:44:00), 5.0 "
        "(01/12/25 14:42:00)] were greater than the threshold (3.0) (minimum 2 datapoints for "
        "OK -> ALARM transition).")
    back = evaluate(s, [Point(START + i * 60, v) for i, v in enumerate([5.0, 6.0, 1.0, 1.0, 7.0])],
                    "ALARM", START + 400)
    assert back.state == "OK"
    assert back.reason.startswith("Threshold Crossed: 2 out of the last 3 datapoints [1.0 ")
    assert back.reason.endswith("were not greater than the threshold (3.0) (minimum 2 datapoints "
                                "for ALARM -> OK transition).")


@pytest.mark.parametrize("operator, value, breaching", [
    ("GreaterThanOrEqualToThreshold", 3.0, True), ("GreaterThanThreshold", 3.0, False),
    ("LessThanThreshold", 2.9, True), ("LessThanOrEqualToThreshold", 3.0, True),
    ("LessThanThreshold", 3.0, False)])
def test_comparison_operators(operator, value, breaching):
    s = settings(1, 1, comparison=operator, threshold=3.0)
    assert evaluate(s, [Point(START, value)], "OK", START).state == ("ALARM" if breaching else "OK")


def test_missing_datapoints_treated_as_breaching_are_named():
    s = settings(1, 1, "breaching")
    outcome = evaluate(s, points("- - -"), "OK", START + 1000)
    assert outcome.reason == ("Threshold Crossed: no datapoints were received for 1 period and "
                              "1 missing datapoint was treated as [Breaching].")
    partial = evaluate(settings(3, 3, "breaching"), points("- - - - X"), "OK", START + 2000)
    assert "and 2 missing datapoints were treated as [Breaching]" in partial.reason


def test_insufficient_data_reason():
    outcome = evaluate(settings(3, 3), points("- - - - -"), "OK", START)
    assert outcome.reason == "Insufficient Data: 3 datapoints were unknown."


def test_anomaly_band_operator_stays_insufficient_and_says_why():
    s = settings(1, 1, comparison="LessThanLowerOrGreaterThanUpperThreshold", threshold=None)
    outcome = evaluate(s, points("X X X"), "OK", START)
    assert outcome.state == "INSUFFICIENT_DATA"
    assert outcome.reason.startswith("Unchecked: ") and "anomaly detection" in outcome.reason


def test_unsupported_expression_reason_is_kept():
    outcome = evaluate(settings(), points("X X X"), "OK", START, unsupported="SEARCH is not computed")
    assert (outcome.state, outcome.reason) == ("INSUFFICIENT_DATA", "Unchecked: SEARCH is not computed.")


# ---------------------------------------------------------------- percentiles, high resolution

def test_high_resolution_period_reads_its_own_windows():
    s = settings(2, 2, period=10, threshold=50.0)
    row = [Point(START + i * 10, v) for i, v in enumerate([10.0, 60.0, 70.0, 80.0])]
    outcome = evaluate(s, row, "OK", START + 45)
    assert outcome.state == "ALARM" and "(01/12/25 14:40:30)" in outcome.reason
    assert outcome.data["period"] == 10


def test_percentile_low_sample_count_ignore_keeps_state():
    s = settings(1, 1, statistic=None, extended_statistic="p99", low_sample_count="ignore")
    few = [Point(START, 9.0, 50.0)]  # p99 needs 10 / (1 - 0.99) = 1000 samples
    assert evaluate(s, few, "OK", START) is None
    assert evaluate(s, [Point(START, 9.0, 1000.0)], "OK", START).state == "ALARM"
    evaluated = settings(1, 1, statistic=None, extended_statistic="p99", low_sample_count="evaluate")
    assert evaluate(evaluated, few, "OK", START).state == "ALARM"
    low = settings(1, 1, statistic=None, extended_statistic="p10", low_sample_count="ignore")
    assert evaluate(low, [Point(START, 9.0, 99.0)], "OK", START) is None  # needs 10 / 0.1
    assert evaluate(low, [Point(START, 9.0, 100.0)], "OK", START).state == "ALARM"


def datum(value=None, **stats):
    if value is not None:
        return SimpleNamespace(value=value, unit=None, timestamp=START)
    return SimpleNamespace(sample_count=stats["n"], sum=stats["sum"], min=stats["lo"], max=stats["hi"],
                           unit=None, timestamp=START)


def test_statistics_of_values_and_statistic_sets():
    agg = Aggregate()
    for v in (1.0, 2.0, 3.0):
        agg.add(datum(v))
    agg.add(datum(n=2, sum=30.0, lo=10.0, hi=20.0))
    assert agg.statistic("SampleCount") == 5
    assert agg.statistic("Sum") == 36.0
    assert agg.statistic("Average") == 7.2
    assert (agg.statistic("Minimum"), agg.statistic("Maximum")) == (1.0, 20.0)
    assert agg.statistic("p50") is None  # the set's values are hidden (min != max, n > 1)


def test_percentiles_of_statistic_sets_that_allow_them():
    agg = Aggregate()
    agg.add(datum(n=1, sum=7.0, lo=7.0, hi=7.0))
    agg.add(datum(n=3, sum=6.0, lo=2.0, hi=2.0))
    assert agg.raw_values() == [7.0, 2.0, 2.0, 2.0]
    assert agg.statistic("p50") == 2.0
    assert agg.statistic("p100") == 7.0
    negative = Aggregate()
    negative.add(datum(-1.0))
    negative.add(datum(5.0))
    assert negative.statistic("p90") is None and negative.statistic("Average") == 2.0


def test_datums_fall_in_their_periods_and_units_filter():
    ds = [(START + t, SimpleNamespace(value=v, unit=u))
          for v, u, t in [(1.0, "Percent", 0), (2.0, "Percent", 5.99), (3.0, "Percent", 6.0),
                          (4.0, "Count", 7), (9.0, "Percent", 18.0)]]
    found = bucket(ds, [START, START + 6, START + 12], 6.0)
    assert [a and a.statistic("Sum") for a in found] == [3.0, 7.0, None]
    percent = bucket(ds, [START, START + 6, START + 12], 6.0, unit="Percent")
    assert [a and a.statistic("Sum") for a in percent] == [3.0, 3.0, None]


def test_the_index_reads_only_new_datums_keeps_time_order_and_notices_a_reset():
    def stored(value: float, at: float) -> SimpleNamespace:
        return SimpleNamespace(namespace="N", name="M", dimensions=[], value=value, unit=None,
                               timestamp=datetime.datetime.fromtimestamp(at, datetime.timezone.utc))
    backend = SimpleNamespace(metric_data=[stored(1.0, START + 10), stored(2.0, START + 30)])
    index = MetricIndex()
    index.refresh(backend)
    backend.metric_data.append(stored(3.0, START + 20))  # published late
    index.refresh(backend)
    key = metric_key("N", "M", [])
    assert [d.value for _, d in index.between(key, START, START + 60)] == [1.0, 3.0, 2.0]
    assert [d.value for _, d in index.between(key, START + 20, START + 30)] == [3.0]
    backend.metric_data = [stored(9.0, START)]  # moto's reset makes a new list
    index.refresh(backend)
    assert [d.value for _, d in index.between(key, START, START + 60)] == [9.0]


def test_a_metric_is_its_whole_set_of_dimensions():
    a = metric_key("N", "M", [{"Name": "ClusterName", "Value": "c"}, {"Name": "ServiceName", "Value": "s"}])
    b = metric_key("N", "M", [SimpleNamespace(name="ServiceName", value="s"),
                              SimpleNamespace(name="ClusterName", value="c")])
    assert a == b and a != metric_key("N", "M", [{"Name": "ClusterName", "Value": "c"}])


# ---------------------------------------------------------------- metric math (the guide's examples)

GRID = [0.0, 60.0, 120.0, 180.0, 240.0]


def ctx(**metrics: list) -> Context:
    return Context(grid=GRID, metrics={k: {t: v for t, v in zip(GRID, vs) if v is not None}
                                       for k, vs in metrics.items()}, periods={k: 60 for k in metrics})


def listed(series: dict) -> list:
    return [series.get(t) for t in GRID]


def test_comparison_and_logical_operators_from_the_guide():
    c = ctx(metric1=[30, 20, 0, 0, None], metric2=[20, None, 20, None, None])
    assert listed(compute("(metric1 < metric2)", c))[:4] == [0, 0, 1, 0]
    assert listed(compute("(metric1 >= 30)", c))[:4] == [1, 0, 0, 0]
    assert listed(compute("(metric1 > 15 AND metric2 > 15)", c))[:4] == [1, 0, 0, 0]


def test_if_from_the_guide():
    c = ctx(metric1=[1, 1, 0, 0, None], metric2=[30, None, 0, 0, 30], metric3=[0, 0, 20, None, 20])
    assert listed(compute("IF(metric1, metric2, metric3)", c)) == [30, 0, 20, None, None]
    assert listed(compute("IF(metric1, 5, metric3)", c)) == [5, 5, 20, None, None]
    assert listed(compute("IF(metric1, metric2, 5)", c)) == [30, 0, 5, 5, None]
    assert listed(compute("IF(metric1 < 1, 1)", c)) == [None, None, 1, 1, None]


def test_arithmetic_arrays_and_reductions():
    c = ctx(errors=[1, 2, None, 4, 0], requests=[10, 20, 30, None, 0])
    # a missing value counts as 0, and a point that divides by zero is dropped
    assert listed(compute("100 * errors / requests", c)) == [10, 10, 0, None, None]
    assert listed(compute("errors + requests", c)) == [11, 22, 30, 4, 0]  # missing as 0
    assert listed(compute("SUM(METRICS())", c)) == [11, 22, 30, 4, 0]
    assert listed(compute("AVG([errors, requests])", c)) == [5.5, 11, 15, 2, 0]
    assert listed(compute("MAX(METRICS(\"err\"))", c)) == [1, 2, None, 4, 0]
    assert listed(compute("errors - MIN(errors)", c)) == [1, 2, None, 4, 0]
    assert compute("SUM(requests) / 2", c) == 30.0
    assert listed(compute("-errors ^ 2", c)) == [-1, -4, None, -16, -0.0]


def test_fill_and_time_series():
    c = ctx(m1=[None, 1, None, None, 4])
    assert listed(compute("FILL(m1, 0)", c)) == [0, 1, 0, 0, 4]
    assert listed(compute("FILL(m1, REPEAT)", c)) == [None, 1, 1, 1, 4]
    assert listed(compute("FILL(m1, LINEAR)", c)) == [None, 1, 2, 3, 4]
    assert listed(compute("FILL(m1, TIME_SERIES(7))", c)) == [7, 1, 7, 7, 4]
    assert compute("PERIOD(m1)", c) == 60.0


@pytest.mark.parametrize("expression", ["m1 +", "SUM(", "m1 $ 2", "nope * 2", "(m1"])
def test_malformed_expressions(expression):
    with pytest.raises(MathError):
        compute(expression, ctx(m1=[1, 2, 3, 4, 5]))


def test_unsupported_functions_are_named():
    with pytest.raises(Unsupported, match="ANOMALY_DETECTION_BAND"):
        compute("ANOMALY_DETECTION_BAND(m1, 2)", ctx(m1=[1, 2, 3, 4, 5]))


def test_expressions_refer_to_expressions():
    c = ctx(m1=[1, 2, 3, 4, 5])
    c.expressions.update({"e1": "m1 * 2", "e2": "e1 + 1", "loop": "loop + 1"})
    assert listed(compute("e2", c)) == [3, 5, 7, 9, 11]
    with pytest.raises(MathError):
        compute("loop", c)
    assert math.isclose(compute("AVG(e1)", c), 6.0)
