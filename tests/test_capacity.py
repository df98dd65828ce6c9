"""capacity: how a provider strategy splits tasks, computed as ECS does it."""
from __future__ import annotations

import pytest

from mylearning import capacity


STRATEGY = [{"capacityProvider": "FARGATE", "base": 1, "weight": 1},
            {"capacityProvider": "FARGATE_SPOT", "weight": 3}]


@pytest.mark.parametrize("count, fargate, spot", [
    (0, 0, 0), (1, 1, 0),
    (5, 2, 3),     # base 1, then 4 split 1:3
    (9, 3, 6),     # base 1, then 8 split 2:6
    (4, 2, 2),     # base 1, then 3 split 0.75:2.25 -> largest remainder gives FARGATE the odd one
    (101, 26, 75),
])
def test_strategy_split_follows_base_then_weights(count, fargate, spot):
    assert capacity.split_tasks(STRATEGY, count) == {"FARGATE": fargate, "FARGATE_SPOT": spot}


def test_strategy_rules_are_enforced():
    with pytest.raises(ValueError, match="Only one"):
        capacity.split_tasks([{"capacityProvider": "A", "base": 1}, {"capacityProvider": "B", "base": 1}], 3)
    with pytest.raises(ValueError, match="no weight"):
        capacity.split_tasks([{"capacityProvider": "A", "base": 1, "weight": 0}], 3)
    assert capacity.split_tasks([{"capacityProvider": "A", "base": 2, "weight": 0}], 2) == {"A": 2}
    with pytest.raises(ValueError, match="once"):
        capacity.split_tasks([{"capacityProvider": "A", "weight": 1}] * 2, 3)
    assert capacity.spot_share(STRATEGY, 9) == pytest.approx(6 / 9)
