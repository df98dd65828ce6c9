"""loadbalancer: the ALB's monthly price and its listener-rule helpers."""
from __future__ import annotations

import pytest

from mylearning import loadbalancer


def test_alb_monthly_cost_by_hand():
    # 730 h x ($0.0225 + 1 x $0.008) = $22.265
    assert loadbalancer.monthly_cost(1, 730) == pytest.approx(22.265)
    assert loadbalancer.monthly_cost(0, 24) == pytest.approx(0.54)
    with pytest.raises(ValueError):
        loadbalancer.monthly_cost(-1)


def test_rule_helpers():
    rule = {"Priority": "10", "Conditions": [{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/a*"]}}],
            "Actions": [{"Type": "forward", "ForwardConfig": {"TargetGroups": [
                {"TargetGroupArn": "tg1", "Weight": 90}, {"TargetGroupArn": "tg2", "Weight": 10}]}}]}
    assert loadbalancer.path_patterns(rule) == ["/a*"]
    assert loadbalancer.forward_targets(rule["Actions"]) == ["tg1", "tg2"]
    assert loadbalancer.forward_targets([{"Type": "fixed-response"}]) == []


def test_latency_and_counts_of_a_window_are_cloudwatchs_over_its_whole_minutes(session):
    """TargetResponseTime's p99 and a count's Sum for the minutes that hold a window, from what
    the load balancer published (here published by hand, as the data plane does)."""
    import datetime

    lb = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/w-" + session.learner + "/50dc6c495c0c9188"
    tg = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/w-" + session.learner + "/6d0ecf831eec9f09"
    dims = [{"Name": "TargetGroup", "Value": tg.split(":")[-1]},
            {"Name": "LoadBalancer", "Value": lb.split(":loadbalancer/")[1]}]
    now = datetime.datetime.now(datetime.timezone.utc)
    start = now.replace(second=0, microsecond=0) + datetime.timedelta(seconds=5)
    cw = session.client("cloudwatch")
    # 100 answers: 98 fast ones, two slow ones; p99 is the 99th of them.
    cw.put_metric_data(Namespace="AWS/ApplicationELB", MetricData=[
        {"MetricName": "TargetResponseTime", "Dimensions": dims, "Unit": "Seconds", "Timestamp": start,
         "Values": [0.01, 0.4, 0.9], "Counts": [98, 1, 1]},
        {"MetricName": "RequestCount", "Dimensions": dims, "Unit": "Count", "Timestamp": start, "Value": 100.0}])
    end = start + datetime.timedelta(seconds=20)
    assert loadbalancer.latency_between(session, lb, start, end, "p99", tg) == pytest.approx(0.4, abs=0.01)
    assert loadbalancer.latency_between(session, lb, start, end, "Maximum", tg) == pytest.approx(0.9)
    assert loadbalancer.served_between(session, lb, start, end, "RequestCount", tg) == 100
    assert loadbalancer.wait_served_between(session, lb, start, end, 100, target_group_arn=tg, timeout=5) == 100
    earlier = start - datetime.timedelta(minutes=10)
    assert loadbalancer.latency_between(session, lb, earlier, earlier, "p99", tg) is None
