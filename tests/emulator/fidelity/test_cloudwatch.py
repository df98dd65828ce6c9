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
    ("wm(10%:90%)", 50.5), ("PR(:10)", 10.0), ("PR(10:20)", 10.0), ("PR(:0.5)", 0.0), ("PR(90:)", 10.0),
])
def test_extended_statistics(stat, expected):
    assert extended_statistic(stat, [float(v) for v in range(1, 101)]) == pytest.approx(expected, abs=0.01)


def test_extended_statistic_unknown_or_empty_is_none():
    assert extended_statistic("p99", []) is None
    assert extended_statistic("median", [1.0]) is None
    assert percentile([7.0], 99) == 7.0
    assert extended_statistic("PR(:10%)", [1.0]) is None  # a percentile rank's bounds are values


def test_percentile_rank_in_get_metric_data(env):
    import datetime
    cw = env.client("cloudwatch")
    now = datetime.datetime.now(datetime.timezone.utc).replace(second=0, microsecond=0)
    cw.put_metric_data(Namespace="PR", MetricData=[{"MetricName": "Latency", "Timestamp": now, "Unit": "Seconds",
                                                   "Values": [0.1, 0.5, 1.0, 2.0], "Counts": [1, 1, 1, 1]}])
    found = cw.get_metric_data(MetricDataQueries=[
        {"Id": "fast", "MetricStat": {"Metric": {"Namespace": "PR", "MetricName": "Latency"}, "Period": 60,
                                      "Stat": "PR(:1)"}},
        {"Id": "slow", "Expression": "100 - fast"}],
        StartTime=now - datetime.timedelta(minutes=1), EndTime=now + datetime.timedelta(minutes=1))
    values = {r["Id"]: r["Values"] for r in found["MetricDataResults"]}
    assert values == {"fast": [75.0], "slow": [25.0]}


# ---------------------------------------------------------------- composite alarm rules

@pytest.mark.parametrize("rule, states, expected", [
    ('ALARM("a")', {"a": "ALARM"}, True),
    ("ALARM(a) OR ALARM(b) AND OK(c)", {"a": "ALARM"}, True),       # AND binds tighter than OR
    ("(ALARM(a) OR ALARM(b)) AND OK(c)", {"a": "ALARM"}, False),
    ("NOT INSUFFICIENT_DATA(a)", {}, False),                          # an unknown state is no data
    ("ALARM(arn:aws:cloudwatch:us-east-1:123456789012:alarm:my alarm)", {"my alarm": "ALARM"}, True),
    ("not false and true", {}, True),                                  # keywords in any case
])
def test_alarm_rules_evaluate(rule, states, expected):
    from mylearning.emulator.fidelity.cloudwatch.alarm_rule import evaluate, parse
    assert evaluate(parse(rule), states) is expected


@pytest.mark.parametrize("rule", ["()", "ALARM(a) AND", "ALARM a", "ALARM()", "ALARM(a) ALARM(b)",
                                  "FOO(a)", "(TRUE", "TRUE)", "", 'ALARM("a)'])
def test_alarm_rules_that_are_not_rules(rule):
    from mylearning.emulator.fidelity.cloudwatch.alarm_rule import RuleError, parse
    with pytest.raises(RuleError):
        parse(rule)


def test_alarm_rule_references_and_elements():
    from mylearning.emulator.fidelity.cloudwatch.alarm_rule import elements, parse, references
    tree = parse('((ALARM(a) OR OK("b")) AND NOT ALARM(a)) OR TRUE')
    assert references(tree) == ["a", "b"]
    assert elements(tree) == 4 + 2  # three state functions, TRUE, two pairs of parentheses


def test_empty_parentheses_answer_as_cloudwatch_words_it(env):
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as info:
        env.client("cloudwatch").put_composite_alarm(AlarmName="bad-rule", AlarmRule="()")
    assert info.value.response["Error"]["Message"] == "Error in AlarmRule [Unsupported token ')' at char 1]"


def test_query_protocol_parameters_are_read_nested():
    """A query-protocol client's flat form reads back as the model nests (and types) it."""
    from mylearning.emulator.fidelity.cloudwatch.common import params
    from mylearning.emulator.fidelity.core import AwsRequest

    flat = {"AlarmName": "a", "Metrics.member.1.Id": "m1", "Metrics.member.1.MetricStat.Period": "60",
            "Metrics.member.1.MetricStat.Metric.Dimensions.member.1.Name": "N"}
    req = AwsRequest(service="cloudwatch", operation="PutMetricAlarm", protocol="query",
                     region="us-east-1", method="POST", path="/", params=flat)
    assert params(req) == {
        "AlarmName": "a",
        "Metrics": [{"Id": "m1", "MetricStat": {"Period": 60, "Metric": {"Dimensions": [{"Name": "N"}]}}}]}


def test_a_large_put_metric_data_is_read_though_gzipped(env):
    """botocore gzips PutMetricData bodies over 10 KB; the limits still apply."""
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as info:
        env.client("cloudwatch").put_metric_data(
            Namespace="MyLearning/Big", MetricData=[{"MetricName": "m", "Value": 1.0}] * 1001)
    assert info.value.response["Error"]["Code"] == "InvalidParameterValue"


def test_history_next_token_must_be_ours(env):
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as info:
        env.client("cloudwatch").describe_alarm_history(NextToken="not-a-token")
    assert info.value.response["Error"]["Code"] == "InvalidNextToken"
