"""Amazon CloudWatch: the checks AWS makes that moto skips, split by kind (see `alarms`)."""
from __future__ import annotations

from mylearning.emulator.fidelity.cloudwatch import alarms as _alarms  # noqa: F401
from mylearning.emulator.fidelity.cloudwatch.alarms import extended_statistic, percentile

__all__ = ["extended_statistic", "percentile"]
