"""ECS's traffic-shifting steps and ALB weights (mylearning.facts.ecs_deployments)."""
from __future__ import annotations

import pytest

from mylearning.facts import ecs_deployments as facts


def test_blue_green_moves_everything_at_once():
    assert facts.production_steps({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 5}) == [(100.0, 0)]


def test_canary_moves_its_percent_bakes_then_the_rest():
    config = {"strategy": "CANARY", "canaryConfiguration": {"canaryPercent": 12.5, "canaryBakeTimeInMinutes": 3}}
    assert facts.production_steps(config) == [(12.5, 3), (100.0, 0)]
    assert facts.production_steps({"strategy": "CANARY"}) == [(5.0, 10), (100.0, 0)]  # AWS's defaults


def test_linear_steps_bake_between_but_not_after_100_percent():
    config = {"strategy": "LINEAR", "linearConfiguration": {"stepPercent": 30.0, "stepBakeTimeInMinutes": 2}}
    assert facts.production_steps(config) == [(30.0, 2), (60.0, 2), (90.0, 2), (100.0, 0)]
    even = {"strategy": "LINEAR", "linearConfiguration": {"stepPercent": 25.0, "stepBakeTimeInMinutes": 1}}
    assert facts.production_steps(even) == [(25.0, 1), (50.0, 1), (75.0, 1), (100.0, 0)]
    assert facts.production_steps({"strategy": "LINEAR"})[:2] == [(10.0, 6), (20.0, 6)]
    tenths = {"strategy": "LINEAR", "linearConfiguration": {"stepPercent": 33.3}}
    assert [p for p, _ in facts.production_steps(tenths)] == [33.3, 66.6, 99.9, 100.0]


@pytest.mark.parametrize("percent, weights", [
    (0.0, (1, 0)), (100.0, (0, 1)), (20.0, (80, 20)), (5.0, (95, 5)), (0.1, (999, 1)), (12.5, (875, 125)),
    (99.9, (1, 999)),
])
def test_forward_weights_stay_within_albs_range_and_give_the_percent(percent, weights):
    old, new = facts.forward_weights(percent)
    assert (old, new) == weights
    assert 0 <= old <= 999 and 0 <= new <= 999
    assert new / (old + new) * 100 == pytest.approx(percent)
