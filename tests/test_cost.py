"""mylearning.cost against figures worked out by hand from the published us-east-1 prices.

x86: $0.04048 per vCPU-hour, $0.004445 per GB-hour; ARM: $0.03238 and $0.00356;
App Runner active: $0.064 and $0.007, provisioned (idle): $0.007 per GB-hour.
"""
from __future__ import annotations

import subprocess
import sys

import pytest

from mylearning import cost
from mylearning.availability import allowed_downtime_minutes
from mylearning.capacity import plan_capacity, spread_across_azs, tasks_for_users, tasks_to_survive_az_loss
from mylearning.cost import (
    AppRunnerFleet,
    Fleet,
    InvalidTaskSize,
    Scenario,
    TaskSize,
    app_runner_monthly_cost,
    compare,
    monthly_fleet_cost,
    saving_pct,
    task_hour_cost,
)


def test_published_prices_and_their_source_are_in_the_code():
    assert cost.FARGATE_ON_DEMAND["X86_64"] == cost.Rate(0.04048, 0.004445)
    assert cost.FARGATE_ON_DEMAND["ARM64"] == cost.Rate(0.03238, 0.00356)
    assert cost.APP_RUNNER_ACTIVE == cost.Rate(0.064, 0.007)
    assert cost.APP_RUNNER_PROVISIONED_GB_HOUR == 0.007
    assert cost.PRICES_SOURCE.startswith("https://aws.amazon.com/fargate/pricing")
    assert cost.PRICES_TAKEN == "2026-11-27" and cost.PRICES_REGION == "us-east-1"
    assert cost.FARGATE_SPOT_MAX_DISCOUNT == 0.70
    assert cost.HOURS_PER_MONTH == 730


def test_smallest_x86_task_for_a_month():
    size = TaskSize(256, 512)
    assert task_hour_cost(size) == pytest.approx(0.25 * 0.04048 + 0.5 * 0.004445)  # 0.0123425
    assert monthly_fleet_cost(1, size) == pytest.approx(730 * (0.25 * 0.04048 + 0.5 * 0.004445))
    assert monthly_fleet_cost(1, size) == pytest.approx(9.010025)


def test_arm_is_cheaper_per_hour():
    size = TaskSize.of(1, 2)
    assert task_hour_cost(size, "ARM64") == pytest.approx(0.03238 + 2 * 0.00356)  # 0.0395
    assert task_hour_cost(size, "graviton") == task_hour_cost(size, "ARM64")
    assert task_hour_cost(size, "x86") == pytest.approx(0.04048 + 2 * 0.004445)  # 0.04937


def test_spot_share_blends_on_demand_and_spot_hours():
    size = TaskSize(512, 1024)
    on_demand = 0.5 * 0.04048 + 1 * 0.004445  # 0.024685
    spot = on_demand * (1 - 0.70)  # 0.0074055
    expected = 10 * 730 * (0.6 * on_demand + 0.4 * spot)  # 129.74436
    assert monthly_fleet_cost(10, size, "X86_64", spot_share=0.4) == pytest.approx(expected)
    assert expected == pytest.approx(129.74436)
    assert task_hour_cost(size, spot=True) == pytest.approx(spot)


def test_spot_discount_is_a_parameter():
    size = TaskSize(512, 1024)
    half = monthly_fleet_cost(4, size, spot_share=1.0, spot_discount=0.5)
    assert half == pytest.approx(4 * 730 * 0.024685 * 0.5)
    assert monthly_fleet_cost(4, size, spot_share=1.0, spot_discount=0.0) == pytest.approx(4 * 730 * 0.024685)


def test_hours_are_explicit():
    size = TaskSize(256, 512)
    assert monthly_fleet_cost(2, size, hours=24) == pytest.approx(2 * 24 * 0.0123425)
    assert monthly_fleet_cost(0, size) == 0


def test_app_runner_active_and_idle_hours():
    size = TaskSize.of(1, 2)
    assert app_runner_monthly_cost(1, size) == pytest.approx(730 * (0.064 + 2 * 0.007))  # 56.94
    # a quarter of the month serving, the rest provisioned: memory only when idle
    assert app_runner_monthly_cost(1, size, active_share=0.25) == pytest.approx(
        730 * (0.25 * 0.078 + 0.75 * 0.014))  # 21.90
    assert app_runner_monthly_cost(1, size, active_share=0.25) == pytest.approx(21.9)


def test_app_runner_has_fewer_sizes_than_fargate():
    with pytest.raises(InvalidTaskSize, match="App Runner has no 0.5 vCPU / 2 GB"):
        app_runner_monthly_cost(1, TaskSize.of(0.5, 2))
    assert all(s in cost.valid_task_sizes() for s in cost.APP_RUNNER_SIZES)


def test_saving_between_app_runner_era_and_plain_fargate():
    era = Scenario.app_runner("App Runner era", 10, TaskSize.of(1, 2))
    plain = Scenario.fargate("Plain Fargate", 10, TaskSize.of(1, 2))
    assert era.monthly_cost == pytest.approx(10 * 730 * 0.078)  # 569.40
    assert plain.monthly_cost == pytest.approx(10 * 730 * 0.04937)  # 360.401
    result = compare(era, plain)
    assert result.saving == pytest.approx(569.4 - 360.401)
    assert result.saving_pct == pytest.approx(100 * (569.4 - 360.401) / 569.4)  # 36.705...
    assert not result.holds(45)
    assert result.holds(30)


def test_optimized_mix_and_the_45_percent_claim():
    era = Scenario.app_runner("App Runner era", 10, TaskSize.of(1, 2))
    mix = Scenario("Right-sized ARM, half Spot",
                   [Fleet(10, TaskSize.of(0.5, 1), "arm", spot_share=0.5, name="courses")])
    arm_hour = 0.5 * 0.03238 + 1 * 0.00356  # 0.01975
    expected = 10 * 730 * arm_hour * (0.5 + 0.5 * 0.3)  # 93.71375
    assert mix.monthly_cost == pytest.approx(expected)
    result = compare(era, mix)
    assert result.saving_pct == pytest.approx(100 * (569.4 - expected) / 569.4)
    assert result.holds(45)
    assert "5 vCPU instead of 10" in str(result)  # halving capacity is flagged
    assert mix.breakdown() == [{"fleet": "courses", "runs": "10 x 0.5 vCPU / 1 GB ARM on Fargate, 50% Spot",
                                "monthly_cost": 93.71}]


def test_a_dearer_candidate_has_a_negative_saving():
    assert saving_pct(100, 120) == pytest.approx(-20)
    with pytest.raises(ValueError):
        saving_pct(0, 10)


def test_scenario_with_several_services():
    s = Scenario("ECS", [Fleet(2, TaskSize(256, 512)), Fleet(1, TaskSize(1024, 2048), "ARM64"),
                         AppRunnerFleet(1, TaskSize(256, 512), active_share=0)])
    expected = 730 * (2 * 0.0123425 + (0.03238 + 2 * 0.00356) + 0.5 * 0.007)
    assert s.monthly_cost == pytest.approx(expected)
    with pytest.raises(TypeError):
        Scenario("bad", ["not a fleet"])


@pytest.mark.parametrize("cpu, memory", [
    (256, 512), (256, 1024), (256, 2048), (512, 1024), (512, 4096), (1024, 2048), (1024, 8192),
    (2048, 4096), (2048, 16384), (4096, 8192), (4096, 30720), (8192, 16384), (8192, 20480),
    (8192, 61440), (16384, 32768), (16384, 40960), (16384, 122880), ("1024", "3072"),
])
def test_valid_sizes(cpu, memory):
    size = TaskSize(cpu, memory)
    assert size.for_task_definition() == {"cpu": str(cpu), "memory": str(memory)}


@pytest.mark.parametrize("cpu, memory, message", [
    (256, 4096, "512, 1024 or 2048 MiB"),
    (256, 3072, "512, 1024 or 2048 MiB"),
    (512, 512, "1024, 2048, 3072 or 4096 MiB"),
    (512, 5120, "1024, 2048, 3072 or 4096 MiB"),
    (1024, 1024, "between 2048 and 8192 MiB in steps of 1024"),
    (1024, 9216, "between 2048 and 8192 MiB in steps of 1024"),
    (2048, 4608, "between 4096 and 16384 MiB in steps of 1024"),
    (4096, 31744, "between 8192 and 30720 MiB in steps of 1024"),
    (8192, 18432, "between 16384 and 61440 MiB in steps of 4096"),
    (16384, 36864, "between 32768 and 122880 MiB in steps of 8192"),
    (1024, 2, "memory is in MiB"),
    (1, 2048, "cpu is in CPU units"),
    (300, 512, "Valid cpu values: 256, 512, 1024, 2048, 4096, 8192, 16384"),
    (32768, 65536, "Valid cpu values"),
    ("one", 512, "whole number"),
    (True, 512, "must be a number"),
])
def test_invalid_sizes_are_rejected_with_the_fix(cpu, memory, message):
    with pytest.raises(InvalidTaskSize, match=message):
        TaskSize(cpu, memory)


def test_size_table():
    sizes = cost.valid_task_sizes()
    assert len(sizes) == 3 + 4 + 7 + 13 + 23 + 12 + 12
    assert sizes[0] == TaskSize(256, 512) and sizes[-1] == TaskSize(16384, 122880)
    assert cost.memory_options(512) == (1024, 2048, 3072, 4096)
    assert TaskSize.of(0.25, 0.5) == TaskSize(256, 512)
    assert TaskSize(4096, 8192).label == "4 vCPU / 8 GB"
    with pytest.raises(InvalidTaskSize):
        TaskSize.of(0.3, 1)


@pytest.mark.parametrize("call", [
    lambda: monthly_fleet_cost(1, TaskSize(256, 512), spot_share=1.5),
    lambda: monthly_fleet_cost(-1, TaskSize(256, 512)),
    lambda: monthly_fleet_cost(1.5, TaskSize(256, 512)),
    lambda: monthly_fleet_cost(1, TaskSize(256, 512), hours=-1),
    lambda: task_hour_cost(TaskSize(256, 512), "sparc"),
    lambda: task_hour_cost(TaskSize(256, 512), spot=True, spot_discount=1.2),
    lambda: Fleet(1, TaskSize(256, 512), spot_share=-0.1),
])
def test_bad_inputs_are_refused(call):
    with pytest.raises(ValueError):
        call()


def test_tasks_for_concurrent_users():
    assert tasks_for_users(50_000, 500) == 143  # ceil(50000 / (500 * 0.7)) = ceil(142.86)
    assert tasks_for_users(7_000, 100) == 100  # exactly 70 users per task: no extra task
    assert tasks_for_users(50_000, 500, target_utilization=1.0) == 100
    assert tasks_for_users(10, 500, min_tasks=2) == 2
    with pytest.raises(ValueError):
        tasks_for_users(100, 0)


def test_spread_and_az_loss():
    assert spread_across_azs(7, ["us-east-1a", "us-east-1b", "us-east-1c"]) == {
        "us-east-1a": 3, "us-east-1b": 2, "us-east-1c": 2}
    assert spread_across_azs(4, 2) == {"az1": 2, "az2": 2}
    # 215 tasks over 3 AZs: the fullest AZ holds 72, leaving 143
    assert tasks_to_survive_az_loss(143, 3) == 215
    assert tasks_to_survive_az_loss(143, 2) == 286
    with pytest.raises(ValueError):
        tasks_to_survive_az_loss(10, 1)
    with pytest.raises(ValueError):
        spread_across_azs(3, ["a", "a"])


def test_capacity_plan_for_50000_users():
    plan = plan_capacity(50_000, 500, azs=["us-east-1a", "us-east-1b", "us-east-1c"])
    assert (plan.tasks_for_load, plan.tasks) == (143, 215)
    assert plan.per_az == {"us-east-1a": 72, "us-east-1b": 72, "us-east-1c": 71}
    assert sum(plan.per_az.values()) == plan.tasks
    assert "run 215" in str(plan)
    small = plan_capacity(100, 500, azs=2, survive_az_loss=False)
    assert small.tasks == 2  # at least one task per AZ


def test_downtime_allowed_by_an_availability_target():
    assert allowed_downtime_minutes(0.9999) == pytest.approx(0.0001 * 8760 * 60)  # 52.56
    assert allowed_downtime_minutes(99.99) == pytest.approx(52.56)
    assert allowed_downtime_minutes(99.9) == pytest.approx(525.6)
    assert allowed_downtime_minutes(0.9999, period_hours=730) == pytest.approx(4.38)
    with pytest.raises(ValueError):
        allowed_downtime_minutes(0)


def test_library_modules_stay_light():
    code = ("import sys, mylearning.cost, mylearning.migrate, mylearning.cost_explorer; "
            "print(sorted(m for m in ('boto3', 'moto', 'ipywidgets', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
