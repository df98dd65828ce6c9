"""GetMetricStatistics against the embedded AWS: ExtendedStatistics computed per period from the
raw values, Statistics as before, and the request's rules (API_GetMetricStatistics.html)."""
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
    return f"MyLearning/S{uuid.uuid4().hex[:8]}"


def _put(cw, namespace, at, values, name="Latency"):
    cw.put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": name, "Value": float(v), "Unit": "Milliseconds", "Timestamp": at} for v in values])


def _at() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(second=30, microsecond=0) - MINUTE


def _window(at):
    return {"StartTime": at - 2 * MINUTE, "EndTime": at + 2 * MINUTE, "Period": 60}


def test_extended_statistics_are_percentiles_of_each_period(cw, namespace):
    at = _at()
    _put(cw, namespace, at, range(1, 101))
    _put(cw, namespace, at - MINUTE, [5, 5, 5, 50])
    points = cw.get_metric_statistics(Namespace=namespace, MetricName="Latency", **_window(at),
                                      ExtendedStatistics=["p99", "p50", "p90"])["Datapoints"]
    by_time = {p["Timestamp"]: p for p in points}
    assert len(by_time) == 2
    latest = by_time[max(by_time)]
    assert latest["ExtendedStatistics"]["p50"] == pytest.approx(50.5)
    assert latest["ExtendedStatistics"]["p90"] == pytest.approx(90.1)
    assert latest["ExtendedStatistics"]["p99"] == pytest.approx(99.01)
    assert latest["Unit"] == "Milliseconds"
    assert "Average" not in latest
    earlier = by_time[min(by_time)]
    assert earlier["ExtendedStatistics"]["p50"] == pytest.approx(5.0)


def test_standard_statistics_still_answer(cw, namespace):
    at = _at()
    _put(cw, namespace, at, [10, 20, 30])
    [point] = cw.get_metric_statistics(Namespace=namespace, MetricName="Latency", **_window(at),
                                       Statistics=["Average", "Maximum", "SampleCount"])["Datapoints"]
    assert (point["Average"], point["Maximum"], point["SampleCount"]) == (20.0, 30.0, 3.0)
    assert "ExtendedStatistics" not in point


def test_negative_values_have_no_percentile(cw, namespace):
    at = _at()
    _put(cw, namespace, at, [-1, 4, 9])
    points = cw.get_metric_statistics(Namespace=namespace, MetricName="Latency", **_window(at),
                                      ExtendedStatistics=["p90"])["Datapoints"]
    assert points == []


@pytest.mark.parametrize("extra", [
    {"Statistics": ["Average"], "ExtendedStatistics": ["p99"]},   # not both
    {},                                                            # one of them
    {"ExtendedStatistics": ["p101"]},
    {"ExtendedStatistics": ["median"]},
    {"ExtendedStatistics": [f"p{n}" for n in range(11)]},          # at most 10
])
def test_request_rules(cw, namespace, extra):
    with pytest.raises(ClientError) as caught:
        cw.get_metric_statistics(Namespace=namespace, MetricName="Latency", **_window(_at()), **extra)
    assert caught.value.response["Error"]["Code"] in ("InvalidParameterCombination", "InvalidParameterValue",
                                                      "ValidationError", "MissingParameter")
