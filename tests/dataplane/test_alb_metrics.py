"""AWS/ApplicationELB metrics from recorded requests: names, dimensions, values."""
from __future__ import annotations

from dataclasses import dataclass

from mylearning.dataplane.alb.metrics import AlbMetrics, dimension

LB = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188"
TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/api/73e2d6bc24d8a067"


@dataclass
class Group:
    arn: str
    load_balancers: list
    in_use: bool = True


def _by(data, name, dims):
    return [d for d in data if d["MetricName"] == name
            and {x["Name"]: x["Value"] for x in d["Dimensions"]} == dims]


def test_dimensions_are_the_arn_suffixes_aws_uses():
    assert dimension(LB) == "app/web/50dc6c495c0c9188"
    assert dimension(TG) == "targetgroup/api/73e2d6bc24d8a067"


def test_a_period_of_requests_becomes_the_alb_metrics():
    metrics = AlbMetrics()
    for seconds in (0.010, 0.010, 0.020):
        metrics.record(LB, TG, 200, from_target=True, seconds=seconds)
    metrics.record(LB, TG, 500, from_target=True, seconds=0.5)
    metrics.record(LB, TG, 503, from_target=False)       # no healthy target: the ALB's own
    metrics.record(LB, None, 301, from_target=False)     # a redirect rule
    data = metrics.metric_data([Group(TG, [LB])], {TG: (2, 1)}, "now")
    lb_only = {"LoadBalancer": "app/web/50dc6c495c0c9188"}
    both = {"TargetGroup": "targetgroup/api/73e2d6bc24d8a067", **lb_only}
    assert _by(data, "RequestCount", lb_only)[0]["Value"] == 6
    assert _by(data, "RequestCount", both)[0]["Value"] == 5
    assert _by(data, "HTTPCode_Target_2XX_Count", both)[0]["Value"] == 3
    assert _by(data, "HTTPCode_Target_5XX_Count", lb_only)[0]["Value"] == 1
    assert _by(data, "HTTPCode_ELB_5XX_Count", lb_only)[0]["Value"] == 1
    assert _by(data, "HTTPCode_ELB_503_Count", lb_only)[0]["Value"] == 1
    assert _by(data, "HTTPCode_ELB_3XX_Count", lb_only)[0]["Value"] == 1
    times = _by(data, "TargetResponseTime", both)[0]
    assert dict(zip(times["Values"], times["Counts"])) == {0.01: 2.0, 0.02: 1.0, 0.5: 1.0}
    assert times["Unit"] == "Seconds"
    assert _by(data, "HealthyHostCount", both)[0]["Value"] == 2
    assert _by(data, "UnHealthyHostCount", both)[0]["Value"] == 1
    assert _by(data, "RequestCountPerTarget", both)[0]["Value"] == 2.5  # 5 requests, 2 healthy
    assert _by(data, "RequestCountPerTarget", {"TargetGroup": both["TargetGroup"]})[0]["Value"] == 2.5


def test_a_quiet_period_sends_only_host_counts_and_closes_the_window():
    metrics = AlbMetrics()
    metrics.record(LB, TG, 200, from_target=True, seconds=0.01)
    metrics.metric_data([Group(TG, [LB])], {TG: (1, 0)}, "t1")
    data = metrics.metric_data([Group(TG, [LB]), Group("unused", [], in_use=False)], {TG: (1, 0)}, "t2")
    assert sorted(d["MetricName"] for d in data) == ["HealthyHostCount", "UnHealthyHostCount"]


def test_many_distinct_response_times_are_split_at_150_values():
    metrics = AlbMetrics()
    for n in range(400):
        metrics.record(LB, None, 200, from_target=True, seconds=n / 1000)
    parts = _by(metrics.metric_data([], {}, "now"), "TargetResponseTime",
                {"LoadBalancer": "app/web/50dc6c495c0c9188"})
    assert [len(p["Values"]) for p in parts] == [150, 150, 100]
    assert sum(sum(p["Counts"]) for p in parts) == 400
