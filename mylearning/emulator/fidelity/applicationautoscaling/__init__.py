"""Application Auto Scaling: the checks AWS makes that moto skips, and scaling that acts.

* ``rules``: validation (capacities, schedules, registered targets) and tags.
* ``scaling``: target tracking and step scaling policies acting through their CloudWatch
  alarms, scheduled actions, and the scaling activities they leave
  (DescribeScalingActivities).
"""
from __future__ import annotations

from mylearning.emulator.fidelity.applicationautoscaling import rules as _rules  # noqa: F401
from mylearning.emulator.fidelity.applicationautoscaling import scaling as _scaling  # noqa: F401
from mylearning.emulator.fidelity.applicationautoscaling.rules import SERVICE, schedule_error  # noqa: F401
