"""deployments: rolling-update bounds as ECS rounds them, and readable deployment rows and events."""
from __future__ import annotations

import pytest

from mylearning import deployments


@pytest.mark.parametrize("desired, low, high, expected", [
    (2, 100, 200, (2, 4)), (2, 50, 200, (1, 4)), (3, 50, 150, (2, 4)), (4, 75, 125, (3, 5)),
    (2, 100, 100, (2, 2)), (0, 100, 200, (0, 0)), (10, 0, 100, (0, 10)),
])
def test_rolling_bounds_round_like_ecs(desired, low, high, expected):
    assert deployments.rolling_bounds(desired, low, high) == expected


def test_rolling_bounds_rejects_nonsense():
    with pytest.raises(ValueError):
        deployments.rolling_bounds(2, 200, 100)


def test_deployment_rows_and_events():
    from datetime import datetime, timezone
    service = {"deployments": [{"status": "PRIMARY", "rolloutState": "IN_PROGRESS",
                                "taskDefinition": "arn:x:task-definition/web:3", "desiredCount": 2,
                                "runningCount": 1, "pendingCount": 1}],
               "events": [{"createdAt": datetime(2026, 1, 1, 10, 0, 2, tzinfo=timezone.utc), "message": "b"},
                          {"createdAt": datetime(2026, 1, 1, 10, 0, 1, tzinfo=timezone.utc), "message": "a"}]}
    assert deployments.deployment_rows(service)[0]["revision"] == "web:3"
    assert deployments.event_lines(service) == ["10:00:01 a", "10:00:02 b"]
