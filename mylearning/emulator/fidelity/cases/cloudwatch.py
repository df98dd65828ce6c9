"""CloudWatch fidelity cases: metric alarms (operators, statistics, periods, metric math, anomaly
bands), PutMetricData limits, GetMetricData queries and percentiles.

Composite alarms and the alarm history are in `cloudwatch_composite`.
"""
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


CPU = {"Namespace": "AWS/ECS", "MetricName": "CPUUtilization",
       "Dimensions": [{"Name": "ClusterName", "Value": "mylearning"}]}


def _math_alarm(period: int = 60, queries: list | None = None, **extra: Any) -> Callable[[Env], Any]:
    """An alarm on a metric math expression: `queries` replace the default pair (a metric,
    and the expression the alarm watches); `extra` adds or (as None) removes members."""
    def call(env: Env) -> Any:
        args: dict[str, Any] = {
            "AlarmName": env.name("alarm"), "EvaluationPeriods": 2, "Threshold": 80.0,
            "ComparisonOperator": "GreaterThanThreshold", "Metrics": queries or [
                {"Id": "cpu", "MetricStat": {"Metric": CPU, "Period": period, "Stat": "Average"},
                 "ReturnData": False},
                {"Id": "e1", "Expression": "cpu * 1", "Label": "cpu", "ReturnData": True}]}
        args.update(extra)
        for key in [k for k, v in args.items() if v is None]:
            del args[key]
        return env.client("cloudwatch").put_metric_alarm(**args)
    return call


def _stat(query_id: str = "cpu", return_data: bool | None = False, **extra: Any) -> dict:
    query = {"Id": query_id, "MetricStat": {"Metric": CPU, "Period": 60, "Stat": "Average"}, **extra}
    if return_data is not None:
        query["ReturnData"] = return_data
    return query


def _anomaly(**extra: Any) -> Callable[[Env], Any]:
    """The API reference's anomaly detection alarm: the metric and its band both return data."""
    return _math_alarm(queries=[_stat("m1", True),
                                {"Id": "ad1", "Expression": "ANOMALY_DETECTION_BAND(m1, 2)",
                                 "ReturnData": True}],
                       **{"Threshold": None, "ThresholdMetricId": "ad1",
                          "ComparisonOperator": "LessThanLowerOrGreaterThanUpperThreshold", **extra})


def _metric_data(count: int = 1, **datum: Any) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        one = {"MetricName": "Requests", "Value": 1.0, **datum}
        for key in [k for k, v in one.items() if v is None]:
            del one[key]
        return env.client("cloudwatch").put_metric_data(Namespace="MyLearning/Fidelity",
                                                        MetricData=[one] * count)
    return call


def _dimensions(n: int) -> list[dict]:
    return [{"Name": f"d{i}", "Value": "v"} for i in range(n)]


def _get_data(queries: list[dict]) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        now = datetime.datetime.now(datetime.timezone.utc)
        return env.client("cloudwatch").get_metric_data(
            MetricDataQueries=queries, StartTime=now - datetime.timedelta(minutes=10), EndTime=now)
    return call


def _queries(n: int) -> list[dict]:
    return [{"Id": f"q{i}", "MetricStat": {"Metric": {"Namespace": "MyLearning/Fidelity",
                                                      "MetricName": "Requests"},
                                           "Period": 60, "Stat": "Sum"}} for i in range(n)]


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


def _dashboard(*widgets: Any, raw: str | None = None) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        import json
        body = raw if raw is not None else json.dumps({"widgets": list(widgets)})
        return env.client("cloudwatch").put_dashboard(DashboardName=env.name("dash"), DashboardBody=body)
    return call


def _metric_widget(**extra: Any) -> dict:
    return {"type": "metric", "properties": {
        "metrics": [["AWS/ECS", "CPUUtilization", "ClusterName", "mylearning"]], "region": "us-east-1",
        **extra}}


def _dashboards_are_global(env: Env) -> None:
    """"All dashboards in your account are global, not region-specific" (API_PutDashboard.html)."""
    name = env.name("dash")
    env.client("cloudwatch").put_dashboard(DashboardName=name, DashboardBody='{"widgets": []}')
    elsewhere = Env(env.endpoint, region="eu-west-1").client("cloudwatch")
    listed = [e["DashboardName"] for e in elsewhere.list_dashboards(DashboardNamePrefix=name)["DashboardEntries"]]
    if listed != [name]:
        raise BehaviourMismatch(f"a dashboard put in {env.region} is not listed in eu-west-1: {listed}")
    elsewhere.delete_dashboards(DashboardNames=[name])


def _widget_image(env: Env) -> None:
    import json
    answer = env.client("cloudwatch").get_metric_widget_image(MetricWidget=json.dumps(
        {"metrics": [["AWS/ECS", "CPUUtilization", "ClusterName", "mylearning"]], "width": 300, "height": 200}))
    image = answer["MetricWidgetImage"]
    if image[:8] != b"\x89PNG\r\n\x1a\n" or int.from_bytes(image[16:20], "big") != 300:
        raise BehaviourMismatch("GetMetricWidgetImage did not answer a 300-pixel-wide PNG")


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
    _case("alarm.evaluation-one-week-hourly", _alarm(Period=3600, EvaluationPeriods=168), OK,
          "API_PutMetricAlarm.html"),
    _case("alarm.evaluation-longer-than-a-week", _alarm(Period=3600, EvaluationPeriods=169), INVALID,
          "API_PutMetricAlarm.html"),
    # A metric alarm or a metric math alarm, not both; a metric alarm has one statistic.
    _case("alarm.metrics-with-metric-name", _math_alarm(MetricName="CPUUtilization"), INVALID,
          "API_PutMetricAlarm.html"),
    _case("alarm.metrics-with-statistic", _math_alarm(Statistic="Average"), INVALID,
          "API_PutMetricAlarm.html"),
    _case("alarm.metrics-with-period", _math_alarm(Period=60), INVALID, "API_PutMetricAlarm.html"),
    _case("alarm.no-metric", _alarm(MetricName=None, Namespace=None, Statistic=None, Period=None),
          INVALID, "API_PutMetricAlarm.html"),
    _case("alarm.statistic-and-extended-statistic", _alarm(ExtendedStatistic="p99"), INVALID,
          "API_PutMetricAlarm.html"),
    _case("alarm.no-statistic", _alarm(Statistic=None), INVALID, "API_PutMetricAlarm.html"),
    # Exactly one query returns data (ReturnData defaults to true).
    _case("alarm.metrics-two-return-data", _math_alarm(queries=[
        _stat(return_data=True), {"Id": "e1", "Expression": "cpu * 1", "ReturnData": True}]),
        INVALID, "API_PutMetricAlarm.html"),
    _case("alarm.metrics-return-data-defaults-true", _math_alarm(queries=[
        _stat(return_data=None), {"Id": "e1", "Expression": "cpu * 1", "ReturnData": True}]),
        INVALID, "API_MetricDataQuery.html"),
    _case("alarm.metrics-no-return-data", _math_alarm(queries=[
        _stat(), {"Id": "e1", "Expression": "cpu * 1", "ReturnData": False}]),
        INVALID, "API_PutMetricAlarm.html"),
    _case("alarm.metrics-lone-query-returns-by-default", _math_alarm(queries=[_stat(return_data=None)]),
          OK, "API_MetricDataQuery.html"),
    _case("alarm.metrics-id-uppercase", _math_alarm(queries=[_stat("Cpu", True)]), INVALID,
          "API_MetricDataQuery.html"),
    _case("alarm.metrics-id-digit-first", _math_alarm(queries=[_stat("1cpu", True)]), INVALID,
          "API_MetricDataQuery.html"),
    _case("alarm.metrics-id-underscore", _math_alarm(queries=[_stat("cpu_Avg1", True)]), OK,
          "API_MetricDataQuery.html"),
    _case("alarm.metrics-stat-and-expression", _math_alarm(queries=[
        _stat("cpu", True, Expression="SUM(METRICS())")]), INVALID, "API_MetricDataQuery.html"),
    # M out of N.
    _case("alarm.datapoints-above-evaluation-periods", _alarm(EvaluationPeriods=3, DatapointsToAlarm=4),
          INVALID, "API_PutMetricAlarm.html"),
    _case("alarm.datapoints-m-of-n", _alarm(EvaluationPeriods=3, DatapointsToAlarm=2), OK,
          "API_PutMetricAlarm.html"),
    _case("alarm.datapoints-n-of-n", _alarm(EvaluationPeriods=3, DatapointsToAlarm=3), OK,
          "API_PutMetricAlarm.html"),
    # A static threshold, or an anomaly detection band.
    _case("alarm.anomaly-band", _anomaly(), OK, "API_PutMetricAlarm.html"),
    _case("alarm.anomaly-band-with-threshold", _anomaly(Threshold=80.0), INVALID,
          "API_PutMetricAlarm.html"),
    _case("alarm.anomaly-band-unknown-id", _anomaly(ThresholdMetricId="band"), INVALID,
          "API_PutMetricAlarm.html"),
    _case("alarm.anomaly-band-one-return-data", _math_alarm(
        queries=[_stat("m1", False), {"Id": "ad1", "Expression": "ANOMALY_DETECTION_BAND(m1, 2)",
                                      "ReturnData": True}],
        Threshold=None, ThresholdMetricId="ad1",
        ComparisonOperator="LessThanLowerOrGreaterThanUpperThreshold"), INVALID, "API_PutMetricAlarm.html"),
    _case("alarm.band-operator-static-threshold", _alarm(ComparisonOperator="GreaterThanUpperThreshold"),
          INVALID, "API_PutMetricAlarm.html"),
    _case("alarm.static-without-threshold", _alarm(Threshold=None), INVALID, "API_PutMetricAlarm.html"),
    # PutMetricData limits.
    _case("put-metric-data.1000-metrics", _metric_data(1000), OK, "API_PutMetricData.html"),
    _case("put-metric-data.1001-metrics", _metric_data(1001), "InvalidParameterValue",
          "API_PutMetricData.html"),
    _case("put-metric-data.30-dimensions", _metric_data(Dimensions=_dimensions(30)), OK,
          "API_MetricDatum.html"),
    _case("put-metric-data.31-dimensions", _metric_data(Dimensions=_dimensions(31)),
          "InvalidParameterValue", "API_MetricDatum.html"),
    _case("put-metric-data.value-at-limit", _metric_data(Value=2.0 ** 360), OK, "API_MetricDatum.html"),
    _case("put-metric-data.value-too-large", _metric_data(Value=2.0 ** 361), "InvalidParameterValue",
          "API_MetricDatum.html"),
    _case("put-metric-data.value-infinity", _metric_data(Value=float("inf")), "InvalidParameterValue",
          "API_MetricDatum.html"),
    _case("put-metric-data.150-values", _metric_data(Value=None, Values=[float(v) for v in range(150)]),
          OK, "API_MetricDatum.html"),
    _case("put-metric-data.151-values", _metric_data(Value=None, Values=[float(v) for v in range(151)]),
          "InvalidParameterValue", "API_MetricDatum.html"),
    _case("put-metric-data.high-resolution", _metric_data(StorageResolution=1), OK, "API_MetricDatum.html"),
    _case("put-metric-data.storage-resolution-5", _metric_data(StorageResolution=5),
          "InvalidParameterValue", "API_MetricDatum.html"),
    # GetMetricData queries.
    _case("get-metric-data.500-queries", _get_data(_queries(500)), OK, "API_GetMetricData.html"),
    _case("get-metric-data.501-queries", _get_data(_queries(501)), INVALID, "API_GetMetricData.html"),
    _case("get-metric-data.id-uppercase", _get_data([{**_queries(1)[0], "Id": "Requests"}]), INVALID,
          "API_MetricDataQuery.html"),
    _case("get-metric-data.id-duplicate", _get_data([_queries(1)[0], _queries(1)[0]]), INVALID,
          "API_MetricDataQuery.html"),
    _case("get-metric-data.stat-and-expression",
          _get_data([{**_queries(1)[0], "Expression": "SUM(METRICS())"}]), INVALID,
          "API_MetricDataQuery.html"),
    _case("get-metric-data.expression", _get_data([{**_queries(1)[0], "ReturnData": False},
                                                   {"Id": "total", "Expression": "q0 * 2"}]), OK,
          "API_MetricDataQuery.html"),
    _case("get-metric-data.p99", _query("p99", 99.0), OK, "API_GetMetricData.html", "behaviour"),
    _case("get-metric-data.p50", _query("p50", 50.5), OK, "API_GetMetricData.html", "behaviour"),
    _case("get-metric-data.average", _query("Average", 50.5), OK, "API_GetMetricData.html", "behaviour"),
    # Dashboards: the body is checked as CloudWatch checks it (plain moto stores any JSON).
    _case("dashboard.valid-metric-and-text", _dashboard(
        _metric_widget(view="timeSeries", period=300), {"type": "text", "properties": {"markdown": "# Golden signals"}}),
        OK, "CloudWatch-Dashboard-Body-Structure.html"),
    _case("dashboard.body-a-list", _dashboard(raw="[]"), "InvalidParameterInput",
          "CloudWatch-Dashboard-Body-Structure.html"),
    _case("dashboard.unknown-widget-type", _dashboard({"type": "graph", "properties": {}}),
          "InvalidParameterInput", "CloudWatch-Dashboard-Body-Structure.html"),
    _case("dashboard.width-25", _dashboard({"type": "text", "width": 25, "properties": {"markdown": "x"}}),
          "InvalidParameterInput", "CloudWatch-Dashboard-Body-Structure.html"),
    _case("dashboard.metric-without-region", _dashboard({"type": "metric", "properties": {
        "metrics": [["AWS/ECS", "CPUUtilization"]]}}), "InvalidParameterInput",
        "CloudWatch-Dashboard-Body-Structure.html"),
    _case("dashboard.metric-color-name", _dashboard(_metric_widget(
        metrics=[["AWS/ECS", "CPUUtilization", {"color": "red"}]])), "InvalidParameterInput",
        "CloudWatch-Dashboard-Body-Structure.html"),
    _case("dashboard.global", _dashboards_are_global, OK, "API_PutDashboard.html", "behaviour"),
    _case("widget-image.png", _widget_image, OK, "API_GetMetricWidgetImage.html", "behaviour"),
]
