"""Availability targets as time: how much downtime a promise of 99.99% leaves.

Lab 04 computes the yearly downtime budget of the platform's 99.99% target; the
observability lab turns the same budget into SLO alarms.
"""
from __future__ import annotations

import math

#: A 365-day year, as availability budgets (and AWS's pricing calculator) count it.
HOURS_PER_YEAR = 8760.0


def allowed_downtime_minutes(availability: float, *, period_hours: float = HOURS_PER_YEAR) -> float:
    """Minutes of downtime an availability target allows over `period_hours` (a 365-day year).

    Accepts a fraction (0.9999) or a percentage (99.99); 99.99% allows 52.56 minutes a year.
    """
    value = float(availability)
    if value > 1:
        value /= 100.0
    if not 0 < value <= 1:
        raise ValueError(f"availability is a fraction (0.9999) or a percentage (99.99), got {availability}")
    return (1.0 - value) * _hours(period_hours) * 60.0


def _hours(value: float) -> float:
    value = float(value)
    if value < 0 or math.isnan(value):
        raise ValueError(f"period_hours cannot be negative, got {value}")
    return value
