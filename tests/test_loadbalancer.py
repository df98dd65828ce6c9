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
