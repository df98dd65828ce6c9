"""Application Auto Scaling fidelity: capacities, ALB request tracking, schedule expressions."""
from __future__ import annotations

import pytest

from mylearning.emulator.fidelity.applicationautoscaling import schedule_error
from mylearning.emulator.fidelity.cases import OK
from mylearning.emulator.fidelity.cases.applicationautoscaling import CASES


@pytest.mark.parametrize("expression", [
    "at(2027-01-31T23:59:59)", "rate(1 minute)", "rate(15 minutes)", "rate(2 hours)",
    "rate(1 days)", "cron(0 18 ? * MON-FRI *)", "cron(15 10 L * ? 2027)",
    "cron(0/15 * * * ? *)", "cron(0 8 ? * 2#1 *)",
])
def test_documented_schedule_forms_are_accepted(expression):
    assert schedule_error(expression) is None


@pytest.mark.parametrize("expression", [
    "rate(5)", "rate(minutes 5)", "rate(-1 hours)", "cron(0 18 * *)", "cron()",
    "at(2027-01-31 23:59:59)", "at(2027-13-01T00:00:00)", "0 18 * * ? *", "",
])
def test_malformed_schedules_are_rejected(expression):
    assert schedule_error(expression) is not None


def test_errors_are_catchable_as_validation_exception(env):
    aas = env.client("application-autoscaling")
    with pytest.raises(aas.exceptions.ValidationException):
        aas.register_scalable_target(ServiceNamespace="ecs", ResourceId="service/c/s",
                                     ScalableDimension="ecs:service:DesiredCount",
                                     MinCapacity=3, MaxCapacity=1)


def test_table_has_valid_forms():
    assert sum(c.expect == OK for c in CASES) >= 5
