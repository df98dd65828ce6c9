"""GetMetricData against the embedded AWS: percentiles (of raw values and of statistic sets),
exact metric identity, StartTime rounding and metric math (API_GetMetricData.html)."""
from __future__ import annotations

import datetime
import uuid

import pytest
from botocore.exceptions import ClientError

MINUTE = datetime.timedelta(minutes=1)


@pytest.fixture
def cw(env):
    return env.client("cloudwatch")


@pytest.fixture
def namespace():
    return f"MyLearning/T{uuid.uuid4().hex[:8]}"


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(second=30, microsecond=0) - MINUTE


def _stat(query_id: str, namespace: str, name: str, stat: str, dims=None, **extra) -> dict:
    metric = {"Namespace": namespace, "MetricName": name}
    if dims is not None:
        metric["Dimensions"] = dims
    return {"Id": query_id, "MetricStat": {"Metric": metric, "Period": 60, "Stat": stat}, **extra}


def _get(cw, queries, at, **extra):
    answer = cw.get_metric_data(MetricDataQueries=queries, StartTime=at - 2 * MINUTE,
                                EndTime=at + 2 * MINUTE, **extra)
    return {r["Id"] + ("" if r["Label"] == r["Id"] else f"|{r['Label']}"): r
            for r in answer["MetricDataResults"]}


def test_p99_of_raw_values_and_of_statistic_sets(cw, namespace):
    at = _now()
    cw.put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": "Latency", "Values": [float(v) for v in range(1, 101)], "Timestamp": at},
        {"MetricName": "Single", "StatisticValues": {"SampleCount": 1, "Sum": 7, "Minimum": 7, "Maximum": 7},
         "Timestamp": at},
        {"MetricName": "Flat", "StatisticValues": {"SampleCount": 4, "Sum": 8, "Minimum": 2, "Maximum": 2},
         "Timestamp": at},
        {"MetricName": "Spread", "StatisticValues": {"SampleCount": 2, "Sum": 3, "Minimum": 1, "Maximum": 2},
         "Timestamp": at}])
    found = {r["Id"]: r for r in cw.get_metric_data(
        MetricDataQueries=[_stat("lat", namespace, "Latency", "p99"), _stat("one", namespace, "Single", "p99"),
                           _stat("flat", namespace, "Flat", "p50"), _stat("spread", namespace, "Spread", "p50"),
                           _stat("avg", namespace, "Spread", "Average")],
        StartTime=at - 2 * MINUTE, EndTime=at + 2 * MINUTE)["MetricDataResults"]}
    assert found["lat"]["Values"] == [pytest.approx(99.01)]
    assert found["one"]["Values"] == [7.0]
    assert found["flat"]["Values"] == [2.0]
    assert found["spread"]["Values"] == []   # a statistic set hides its values
    assert found["avg"]["Values"] == [1.5]
    assert found["lat"]["Timestamps"][0] == at.replace(second=0)  # the minute the datum is in


def test_a_metric_is_its_namespace_name_and_all_its_dimensions(cw, namespace):
    at = _now()
    service = [{"Name": "ClusterName", "Value": "c"}, {"Name": "ServiceName", "Value": "s"}]
    cw.put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": "CPU", "Value": 10.0, "Dimensions": service, "Timestamp": at},
        {"MetricName": "CPU", "Value": 90.0, "Dimensions": service[:1], "Timestamp": at},
        {"MetricName": "CPU", "Value": 50.0, "Timestamp": at}])
    cw.put_metric_data(Namespace=namespace + "X", MetricData=[
        {"MetricName": "CPU", "Value": 70.0, "Dimensions": service, "Timestamp": at}])
    found = _get(cw, [_stat("both", namespace, "CPU", "Sum", list(reversed(service))),
                      _stat("cluster", namespace, "CPU", "Sum", service[:1]),
                      _stat("none", namespace, "CPU", "Sum")], at)
    assert [found[k]["Values"] for k in ("both|CPU Sum", "cluster|CPU Sum", "none|CPU Sum")] == [
        [10.0], [90.0], [50.0]]


def test_metric_math_over_percentiles_and_arrays(cw, namespace):
    at = _now()
    cw.put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": "Latency", "Values": [float(v) for v in range(1, 101)], "Timestamp": at},
        {"MetricName": "Errors", "Value": 5.0, "Timestamp": at},
        {"MetricName": "Requests", "Value": 20.0, "Timestamp": at}])
    queries = [_stat("p", namespace, "Latency", "p99", ReturnData=False),
               _stat("errors", namespace, "Errors", "Sum", ReturnData=False),
               _stat("requests", namespace, "Requests", "Sum", ReturnData=False),
               {"Id": "slow", "Expression": "IF(p > 90, 1, 0)", "Label": "slow"},
               {"Id": "rate", "Expression": "100 * errors / requests", "Label": "error rate"},
               {"Id": "half", "Expression": "METRICS(\"e\") / 2"}]
    found = _get(cw, queries, at)
    assert found["slow"]["Values"] == [1.0]
    assert found["rate|error rate"]["Values"] == [25.0]
    assert sorted(r["Label"] for k, r in found.items() if k.startswith("half")) == [
        "half errors", "half requests"]
    assert sorted(r["Values"][0] for k, r in found.items() if k.startswith("half")) == [2.5, 10.0]
    assert "p" not in found and "errors" not in found  # ReturnData false


def test_unsupported_function_and_malformed_expression(cw, namespace):
    at = _now()
    cw.put_metric_data(Namespace=namespace, MetricData=[{"MetricName": "M", "Value": 1.0, "Timestamp": at}])
    found = _get(cw, [_stat("m", namespace, "M", "Sum", ReturnData=False),
                      {"Id": "band", "Expression": "ANOMALY_DETECTION_BAND(m, 2)"}], at)
    assert found["band"]["StatusCode"] == "InternalError"
    assert "ANOMALY_DETECTION_BAND" in found["band"]["Messages"][0]["Value"]
    with pytest.raises(ClientError) as info:
        _get(cw, [_stat("m", namespace, "M", "Sum"), {"Id": "bad", "Expression": "m * unknown"}], at)
    assert info.value.response["Error"]["Code"] == "ValidationError"


def test_start_time_is_rounded_and_scan_by_orders(cw, namespace):
    at = _now().replace(second=0)
    cw.put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": "M", "Value": 1.0, "Timestamp": at},
        {"MetricName": "M", "Value": 2.0, "Timestamp": at + MINUTE + datetime.timedelta(seconds=10)},
        {"MetricName": "M", "Value": 3.0, "Timestamp": at + datetime.timedelta(seconds=20),
         "StorageResolution": 1}])
    answer = cw.get_metric_data(MetricDataQueries=[_stat("m", namespace, "M", "Sum")],
                                StartTime=at + datetime.timedelta(seconds=34), EndTime=at + 3 * MINUTE,
                                ScanBy="TimestampAscending")["MetricDataResults"][0]
    assert answer["Timestamps"] == [at, at + MINUTE] and answer["Values"] == [4.0, 2.0]
    ten = dict(_stat("m", namespace, "M", "Sum"))
    ten["MetricStat"] = {**ten["MetricStat"], "Period": 10}
    answer = cw.get_metric_data(MetricDataQueries=[ten], StartTime=at + datetime.timedelta(seconds=25),
                                EndTime=at + 2 * MINUTE)["MetricDataResults"][0]
    assert answer["Timestamps"][-1] == at + datetime.timedelta(seconds=20)  # rounded to :20
    assert answer["Timestamps"] == sorted(answer["Timestamps"], reverse=True)  # newest first
