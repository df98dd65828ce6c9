"""CloudWatch fidelity: alarm validation and percentile statistics."""
from __future__ import annotations

import pytest

from mylearning.emulator.fidelity.cases import OK
from mylearning.emulator.fidelity.cases.cloudwatch import CASES
from mylearning.emulator.fidelity.cloudwatch import extended_statistic, percentile


def test_table_has_valid_forms():
    assert sum(c.expect == OK for c in CASES) >= 8


def test_bad_period_is_a_400_validation_error(env):
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as info:
        env.client("cloudwatch").put_metric_alarm(
            AlarmName="bad-period", Namespace="N", MetricName="M", Statistic="Average", Period=45,
            EvaluationPeriods=1, Threshold=1.0, ComparisonOperator="GreaterThanThreshold")
    assert info.value.response["Error"]["Code"] == "ValidationError"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "10, 20, 30" in info.value.response["Error"]["Message"]


@pytest.mark.parametrize("stat, expected", [
    ("p50", 50.5), ("p99", 99.01), ("p100", 100.0), ("p0", 1.0),
    ("tm90", 45.5), ("tm(10%:90%)", 50.5), ("IQM", 50.5), ("tc90", 90.0), ("ts(:10)", 55.0),
    ("wm(10%:90%)", 50.5),
])
def test_extended_statistics(stat, expected):
    assert extended_statistic(stat, [float(v) for v in range(1, 101)]) == pytest.approx(expected, abs=0.01)


def test_extended_statistic_unknown_or_empty_is_none():
    assert extended_statistic("p99", []) is None
    assert extended_statistic("median", [1.0]) is None
    assert percentile([7.0], 99) == 7.0
