"""CloudWatch fidelity cases: metric alarms that evaluate their datapoints (the User Guide's
"Evaluating an alarm", AlarmThatSendsEmail.html#alarm-evaluation) and GetMetricData computed
from them. Validation of alarms is in `cloudwatch`, composite alarms in `cloudwatch_composite`.

The alarms are high-resolution (10 s) and their datapoints are put in the periods just past,
so the first evaluation decides; each case waits a few of the embedded clock's periods at most.
"""
from __future__ import annotations

import datetime
import time
from typing import Any, Callable

from mylearning.emulator.fidelity.cases import OK, BehaviourMismatch, Case, Env
from mylearning.facts import clock

GUIDE = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html"
API = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/"
PERIOD = 10


def _recent(env: Env, namespace: str, values: dict[str, float], periods: int = 4) -> None:
    """`values` (metric name -> value) in each of the last `periods` evaluation windows."""
    now = time.time()
    width = clock.wait(PERIOD)
    env.client("cloudwatch").put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": metric, "Value": value, "StorageResolution": 1,
         "Timestamp": datetime.datetime.fromtimestamp(now - k * width, datetime.timezone.utc)}
        for k in range(periods) for metric, value in values.items()])


def _await(env: Env, name: str, state: str) -> dict:
    deadline = time.monotonic() + max(10.0, 6 * clock.wait(PERIOD))
    while True:
        found = env.client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
        if found["StateValue"] == state:
            return found
        if time.monotonic() > deadline:
            raise BehaviourMismatch(f"{name} stayed {found['StateValue']} ({found['StateReason']}), "
                                    f"expected {state}")
        time.sleep(0.1)


def _breaching_datapoints(env: Env) -> None:
    namespace, name = f"MyLearning/{env.name('ns')}", env.name("latency")
    _recent(env, namespace, {"Latency": 900.0})
    env.client("cloudwatch").put_metric_alarm(
        AlarmName=name, Namespace=namespace, MetricName="Latency", Statistic="Maximum", Period=PERIOD,
        EvaluationPeriods=2, Threshold=500.0, ComparisonOperator="GreaterThanThreshold")
    found = _await(env, name, "ALARM")
    if not found["StateReason"].startswith("Threshold Crossed: 2 datapoints [900.0 ("):
        raise BehaviourMismatch(f"StateReason: {found['StateReason']}")
    items = env.client("cloudwatch").describe_alarm_history(
        AlarmName=name, HistoryItemType="StateUpdate")["AlarmHistoryItems"]
    if [i["HistorySummary"] for i in items] != ["Alarm updated from INSUFFICIENT_DATA to ALARM"]:
        raise BehaviourMismatch(f"history: {items}")


def _missing_as_breaching(env: Env) -> None:
    name = env.name("heartbeat")
    env.client("cloudwatch").put_metric_alarm(
        AlarmName=name, Namespace=f"MyLearning/{env.name('ns')}", MetricName="Heartbeat",
        Statistic="SampleCount", Period=PERIOD, EvaluationPeriods=1, Threshold=1.0,
        ComparisonOperator="LessThanThreshold", TreatMissingData="breaching")
    _await(env, name, "ALARM")


def _math_alarm(env: Env) -> None:
    namespace, name = f"MyLearning/{env.name('ns')}", env.name("error-rate")
    _recent(env, namespace, {"Errors": 1.0, "Requests": 50.0})

    def stat(metric: str) -> dict:
        return {"Metric": {"Namespace": namespace, "MetricName": metric}, "Period": PERIOD, "Stat": "Sum"}
    env.client("cloudwatch").put_metric_alarm(
        AlarmName=name, EvaluationPeriods=2, Threshold=5.0, ComparisonOperator="LessThanThreshold",
        Metrics=[
            {"Id": "errors", "MetricStat": stat("Errors"), "ReturnData": False},
            {"Id": "requests", "MetricStat": stat("Requests"), "ReturnData": False},
            {"Id": "rate", "Expression": "100 * errors / requests", "ReturnData": True}])
    _await(env, name, "ALARM")


def _get(queries: list[dict], check: Callable[[dict], str | None],
         data: list[dict] | None = None) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        cw = env.client("cloudwatch")
        namespace = f"MyLearning/{env.name('ns')}"
        at = datetime.datetime.now(datetime.timezone.utc).replace(second=0, microsecond=0)
        cw.put_metric_data(Namespace=namespace, MetricData=[{**d, "Timestamp": at} for d in data or []])
        for q in queries:
            if "MetricStat" in q:
                q["MetricStat"]["Metric"]["Namespace"] = namespace
        found = {r["Id"]: r for r in cw.get_metric_data(
            MetricDataQueries=queries, StartTime=at - datetime.timedelta(minutes=2),
            EndTime=at + datetime.timedelta(minutes=2))["MetricDataResults"]}
        problem = check(found)
        if problem:
            raise BehaviourMismatch(problem)
    return call


def _q(query_id: str, metric: str, stat: str, dims: list | None = None, **extra: Any) -> dict:
    m: dict[str, Any] = {"MetricName": metric}
    if dims:
        m["Dimensions"] = dims
    return {"Id": query_id, "MetricStat": {"Metric": m, "Period": 60, "Stat": stat}, **extra}


_ONE = {"SampleCount": 1, "Sum": 40.0, "Minimum": 40.0, "Maximum": 40.0}
_DIMS = [{"Name": "ServiceName", "Value": "catalog"}]


def _case(id: str, call: Callable[[Env], Any], page: str) -> Case:
    return Case(f"cloudwatch.{id}", "cloudwatch", call, OK, page, "behaviour")


CASES = [
    _case("alarm-evaluation.breaching-datapoints", _breaching_datapoints, GUIDE + "#alarm-evaluation"),
    _case("alarm-evaluation.missing-treated-as-breaching", _missing_as_breaching,
          GUIDE + "#alarms-and-missing-data"),
    _case("alarm-evaluation.metric-math", _math_alarm, GUIDE + "#alarms-on-metric-math-expressions"),
    _case("get-metric-data.p99-of-statistic-sets", _get(
        [_q("p", "Latency", "p99")],
        lambda r: None if r["p"]["Values"] == [40.0] else f"p99 of a one-sample set: {r['p']['Values']}",
        [{"MetricName": "Latency", "StatisticValues": _ONE}] * 3), API + "API_GetMetricStatistics.html"),
    _case("get-metric-data.expression-values", _get(
        [_q("q", "Requests", "Sum", ReturnData=False), {"Id": "twice", "Expression": "q * 2"}],
        lambda r: None if r["twice"]["Values"] == [6.0] else f"q * 2 gave {r['twice']['Values']}",
        [{"MetricName": "Requests", "Value": 3.0}]), API + "API_MetricDataQuery.html"),
    _case("get-metric-data.dimensions-are-the-metric", _get(
        [_q("service", "CPU", "Sum", _DIMS), _q("bare", "CPU", "Sum")],
        lambda r: None if (r["service"]["Values"], r["bare"]["Values"]) == ([2.0], [1.0])
        else f"with and without dimensions: {r['service']['Values']}, {r['bare']['Values']}",
        [{"MetricName": "CPU", "Value": 1.0}, {"MetricName": "CPU", "Value": 2.0, "Dimensions": _DIMS}]),
        API + "API_Dimension.html"),
]
