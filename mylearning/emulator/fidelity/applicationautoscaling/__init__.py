"""Application Auto Scaling: the checks AWS makes that moto skips, and scaling that acts.

* ``rules``: validation (capacities, schedules, time zones, registered targets) and tags.
* ``schedules``: the at/rate/cron grammar and when an expression fires (no moto, no I/O).
* ``scaling``: target tracking and step scaling policies acting through their CloudWatch
  alarms, and the scaling activities they leave (DescribeScalingActivities).
* ``scheduled``: scheduled actions that run at their time, setting MinCapacity/MaxCapacity and
  moving the desired count inside them.
"""
from __future__ import annotations

# Importing the modules registers their rules, handlers and hooks (rules first).
from mylearning.emulator.fidelity.applicationautoscaling import rules, scaling, scheduled, schedules
from mylearning.emulator.fidelity.applicationautoscaling.rules import SERVICE, schedule_error

__all__ = ["SERVICE", "rules", "schedule_error", "scaling", "scheduled", "schedules"]
