"""CloudWatch fidelity cases: alarm operators, statistics and periods, percentile queries."""
from __future__ import annotations

import datetime
from typing import Any, Callable

from mylearning.emulator.fidelity.cases import OK, BehaviourMismatch, Case, Env

API = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/"
INVALID = "ValidationError"


def _alarm(**overrides: Any) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        args: dict[str, Any] = {
            "AlarmName": env.name("alarm"), "Namespace": "MyLearning/Catalog",
            "MetricName": "Latency", "Statistic": "Average", "Period": 60,
            "EvaluationPeriods": 3, "Threshold": 250.0,
            "ComparisonOperator": "GreaterThanThreshold"}
        args.update(overrides)
        for key in [k for k, v in args.items() if v is None]:
            del args[key]
        return env.client("cloudwatch").put_metric_alarm(**args)
    return call


def _math_alarm(period: int) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        metric = {"Namespace": "AWS/ECS", "MetricName": "CPUUtilization",
                  "Dimensions": [{"Name": "ClusterName", "Value": "mylearning"}]}
        return env.client("cloudwatch").put_metric_alarm(
            AlarmName=env.name("alarm"), EvaluationPeriods=2, Threshold=80.0,
            ComparisonOperator="GreaterThanThreshold", Metrics=[
                {"Id": "cpu", "MetricStat": {"Metric": metric, "Period": period, "Stat": "Average"},
                 "ReturnData": False},
                {"Id": "e1", "Expression": "cpu * 1", "Label": "cpu", "ReturnData": True}])
    return call


def _query(stat: str, expected: float) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        cw = env.client("cloudwatch")
        namespace = f"MyLearning/{env.name('ns')}"
        now = datetime.datetime.now(datetime.timezone.utc).replace(second=0, microsecond=0)
        cw.put_metric_data(Namespace=namespace, MetricData=[
            {"MetricName": "Latency", "Value": float(v), "Unit": "Milliseconds", "Timestamp": now}
            for v in range(1, 101)])
        result = cw.get_metric_data(
            MetricDataQueries=[{"Id": "q", "MetricStat": {
                "Metric": {"Namespace": namespace, "MetricName": "Latency"},
                "Period": 60, "Stat": stat}}],
            StartTime=now - datetime.timedelta(minutes=5), EndTime=now + datetime.timedelta(minutes=5),
        )["MetricDataResults"][0]
        values = result["Values"]
        if len(values) != 1 or abs(values[0] - expected) > 1.5:
            raise BehaviourMismatch(f"{stat} of 1..100 gave {values}, expected about {expected}")
    return call


def _case(id: str, call: Callable[[Env], Any], expect: str, page: str, kind: str = "validation") -> Case:
    return Case(f"cloudwatch.{id}", "cloudwatch", call, expect, API + page, kind)


CASES = [
    _case("alarm.comparison-operator-unknown", _alarm(ComparisonOperator="Above"), INVALID,
          "API_PutMetricAlarm.html"),
    _case("alarm.comparison-operator-symbol", _alarm(ComparisonOperator=">"), INVALID,
          "API_PutMetricAlarm.html"),
    _case("alarm.comparison-operator-valid", _alarm(ComparisonOperator="GreaterThanOrEqualToThreshold"),
          OK, "API_PutMetricAlarm.html"),
    _case("alarm.statistic-percentile", _alarm(Statistic="p99"), INVALID, "API_PutMetricAlarm.html"),
    _case("alarm.extended-statistic-p99", _alarm(Statistic=None, ExtendedStatistic="p99"), OK,
          "API_PutMetricAlarm.html"),
    _case("alarm.extended-statistic-trimmed-mean", _alarm(Statistic=None, ExtendedStatistic="tm99"), OK,
          "API_PutMetricAlarm.html"),
    _case("alarm.period-45", _alarm(Period=45), INVALID, "API_PutMetricAlarm.html"),
    _case("alarm.period-90", _alarm(Period=90), INVALID, "API_PutMetricAlarm.html"),
    _case("alarm.period-10", _alarm(Period=10), OK, "API_PutMetricAlarm.html"),
    _case("alarm.period-20", _alarm(Period=20), OK, "API_PutMetricAlarm.html"),
    _case("alarm.period-300", _alarm(Period=300), OK, "API_PutMetricAlarm.html"),
    _case("alarm.evaluation-longer-than-a-day", _alarm(Period=300, EvaluationPeriods=300), INVALID,
          "API_PutMetricAlarm.html"),
    _case("alarm.evaluation-one-day", _alarm(Period=300, EvaluationPeriods=288), OK,
          "API_PutMetricAlarm.html"),
    _case("alarm.metric-query-period-45", _math_alarm(45), INVALID, "API_MetricStat.html"),
    _case("alarm.metric-query-period-60", _math_alarm(60), OK, "API_MetricStat.html"),
    _case("get-metric-data.p99", _query("p99", 99.0), OK, "API_GetMetricData.html", "behaviour"),
    _case("get-metric-data.p50", _query("p50", 50.5), OK, "API_GetMetricData.html", "behaviour"),
    _case("get-metric-data.average", _query("Average", 50.5), OK, "API_GetMetricData.html", "behaviour"),
]
