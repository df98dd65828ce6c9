"""What MyLearning's containers cost on Fargate, on Fargate Spot and on App Runner.

The course story says the move from App Runner to ECS cut cost by 45%. Whether that
holds depends on the task size, the CPU architecture and the share of Spot tasks a
learner picks, so lab 05 computes it from published prices instead of repeating the
claim. The second half of this module sizes the fleet: how many tasks a number of
concurrent users needs and how they spread over Availability Zones.

Everything here is plain arithmetic on frozen dataclasses: no AWS calls, no imports
beyond the standard library, so a notebook cell answers at once and the unit tests
check every figure by hand.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping, Sequence, Union

from mylearning.availability import HOURS_PER_YEAR

# ---------------------------------------------------------------------------
# Published prices
# ---------------------------------------------------------------------------
# Fargate on-demand, Linux, US East (N. Virginia), USD.
# Source: https://aws.amazon.com/fargate/pricing/ ("Pricing Details", Linux/X86 and
# Linux/ARM tabs). Taken on 2026-11-27. The official page draws its rate table with
# scripts, so the figures were read from pages that quote it for us-east-1 and agree:
# cloudburn.io/blog/aws-fargate-pricing ("as of March 2026", x86 and ARM),
# factualminds.com (June 2026, x86) and vantage.sh/blog/fargate-pricing (x86 and ARM).
# AWS's own ECS pricing page (https://aws.amazon.com/ecs/pricing/) prices its us-east-1
# Fargate example at $0.000011244 per vCPU-second, which is $0.04048 per vCPU-hour.
# They are the long-standing us-east-1 values; check the page before quoting a bill.
PRICES_SOURCE = "https://aws.amazon.com/fargate/pricing/"
PRICES_REGION = "us-east-1"
PRICES_TAKEN = "2026-11-27"

# App Runner, US East (N. Virginia), USD.
# Source: https://aws.amazon.com/apprunner/pricing/ , taken on 2026-11-27 (read from the
# page's Japanese edition, aws.amazon.com/jp/apprunner/pricing/, which states that the
# rates apply to us-east-1, us-east-2, us-west-2 and eu-west-1; the AWS Price List entry
# "AWS App Runner - vCPU - US West (Oregon)", effective 2024-01-01, shows the same 0.064
# per vCPU-hour). Provisioned instances (deployed but idle) pay for memory only; active
# instances (serving requests) pay for vCPU and memory.
APP_RUNNER_PRICES_SOURCE = "https://aws.amazon.com/apprunner/pricing/"

# Fargate Spot: AWS says Spot runs tasks "at up to a 70% discount off the regular
# Fargate price" (same Fargate pricing page). The real Spot price moves with supply
# and demand, so the discount is a parameter everywhere; the default is AWS's stated
# ceiling, which is the most favourable case. Pass a smaller value (e.g. 0.5) for a
# conservative estimate.
FARGATE_SPOT_MAX_DISCOUNT = 0.70

# AWS's pricing calculator counts a month as 730 hours (8,760 hours a year / 12).
HOURS_PER_MONTH = HOURS_PER_YEAR / 12

X86_64 = "X86_64"
ARM64 = "ARM64"
ARCHITECTURES = (X86_64, ARM64)  # the values of runtimePlatform.cpuArchitecture in ECS

_ARCH_ALIASES = {
    "x86_64": X86_64, "x86": X86_64, "amd64": X86_64, "x64": X86_64, "intel": X86_64,
    "arm64": ARM64, "arm": ARM64, "aarch64": ARM64, "graviton": ARM64,
}


@dataclass(frozen=True)
class Rate:
    """A price per vCPU-hour and per GB-hour (1 GB = 1024 MiB, as AWS bills memory)."""

    vcpu_hour: float
    gb_hour: float

    def hourly(self, size: "TaskSize") -> float:
        """Dollars for one task (or instance) of `size` running one hour."""
        return size.vcpu * self.vcpu_hour + size.memory_gb * self.gb_hour


FARGATE_ON_DEMAND: Mapping[str, Rate] = MappingProxyType({
    X86_64: Rate(vcpu_hour=0.04048, gb_hour=0.004445),
    ARM64: Rate(vcpu_hour=0.03238, gb_hour=0.00356),
})
APP_RUNNER_ACTIVE = Rate(vcpu_hour=0.064, gb_hour=0.007)
APP_RUNNER_PROVISIONED_GB_HOUR = 0.007


def normalize_arch(arch: str) -> str:
    """Return the ECS spelling (X86_64 or ARM64) of an architecture name.

    Learners write "arm", "graviton", "x86"...; ECS accepts only X86_64 and ARM64, so
    everything downstream uses those two.
    """
    key = str(arch).strip().lower()
    if key in _ARCH_ALIASES:
        return _ARCH_ALIASES[key]
    raise ValueError(
        f"Unknown CPU architecture {arch!r}: Fargate runs X86_64 or ARM64 (Graviton)."
    )


# ---------------------------------------------------------------------------
# Fargate task sizes
# ---------------------------------------------------------------------------
# The valid task-level cpu/memory pairs for Fargate (Linux, x86 and ARM), from
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html
# ("Task size") and .../task-cpu-memory-error.html. cpu is in CPU units (1024 = 1 vCPU),
# memory in MiB. 8 and 16 vCPU need Linux platform version 1.4.0 or later.
def _steps(low: int, high: int, step: int) -> tuple[int, ...]:
    return tuple(range(low, high + 1, step))


FARGATE_MEMORY_BY_CPU: Mapping[int, tuple[int, ...]] = MappingProxyType({
    256: (512, 1024, 2048),
    512: _steps(1024, 4096, 1024),
    1024: _steps(2048, 8192, 1024),
    2048: _steps(4096, 16384, 1024),
    4096: _steps(8192, 30720, 1024),
    8192: _steps(16384, 61440, 4096),
    16384: _steps(32768, 122880, 8192),
})


class InvalidTaskSize(ValueError):
    """A cpu/memory pair that Fargate would refuse to run."""


def _describe_memory_options(cpu: int) -> str:
    options = FARGATE_MEMORY_BY_CPU[cpu]
    if len(options) <= 4:
        return ", ".join(str(m) for m in options[:-1]) + f" or {options[-1]} MiB"
    step = options[1] - options[0]
    return f"between {options[0]} and {options[-1]} MiB in steps of {step}"


def _as_int(value: object, what: str) -> int:
    if isinstance(value, bool):
        raise InvalidTaskSize(f"{what} must be a number, not {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise InvalidTaskSize(
        f"{what} must be a whole number ({'CPU units, 1024 = 1 vCPU' if what == 'cpu' else 'MiB'}), "
        f"got {value!r}"
    )


def validate_task_size(cpu: int | str, memory: int | str) -> tuple[int, int]:
    """Check a Fargate cpu/memory pair and return it as integers.

    Raises InvalidTaskSize with the valid choices, so a learner sees how to fix the
    value before ECS answers "Invalid 'cpu' setting for task".
    """
    cpu_units = _as_int(cpu, "cpu")
    memory_mib = _as_int(memory, "memory")
    if cpu_units not in FARGATE_MEMORY_BY_CPU:
        valid = ", ".join(str(c) for c in FARGATE_MEMORY_BY_CPU)
        hint = " (cpu is in CPU units: 1 vCPU = 1024)" if 0 < cpu_units <= 16 else ""
        raise InvalidTaskSize(
            f"Fargate has no task size with cpu={cpu_units}{hint}. Valid cpu values: {valid}."
        )
    if memory_mib not in FARGATE_MEMORY_BY_CPU[cpu_units]:
        hint = " (memory is in MiB: 1 GB = 1024)" if 0 < memory_mib <= 120 else ""
        raise InvalidTaskSize(
            f"Fargate cannot pair cpu={cpu_units} ({cpu_units / 1024:g} vCPU) with "
            f"memory={memory_mib} MiB{hint}. With cpu={cpu_units}, memory must be "
            f"{_describe_memory_options(cpu_units)}."
        )
    return cpu_units, memory_mib


@dataclass(frozen=True, order=True)
class TaskSize:
    """A valid Fargate task size, in the units of the task definition's cpu and memory.

    Construction validates the pair, so a TaskSize that exists can always be registered.
    Build one from ECS units, TaskSize(512, 1024), or from vCPU and GB,
    TaskSize.of(0.5, 1).
    """

    cpu: int
    memory: int

    def __post_init__(self) -> None:
        cpu, memory = validate_task_size(self.cpu, self.memory)
        object.__setattr__(self, "cpu", cpu)
        object.__setattr__(self, "memory", memory)

    @classmethod
    def of(cls, vcpu: float, memory_gb: float) -> "TaskSize":
        """The size with `vcpu` vCPUs and `memory_gb` GB (e.g. TaskSize.of(0.25, 0.5))."""
        return cls(_scaled(vcpu, "vcpu"), _scaled(memory_gb, "memory_gb"))

    @property
    def vcpu(self) -> float:
        return self.cpu / 1024

    @property
    def memory_gb(self) -> float:
        return self.memory / 1024

    @property
    def label(self) -> str:
        return f"{self.vcpu:g} vCPU / {self.memory_gb:g} GB"

    def for_task_definition(self) -> dict[str, str]:
        """The `cpu` and `memory` fields as RegisterTaskDefinition expects them (strings)."""
        return {"cpu": str(self.cpu), "memory": str(self.memory)}

    def __str__(self) -> str:
        return self.label


def _scaled(value: float, what: str) -> int:
    units = float(value) * 1024
    if not units.is_integer():
        raise InvalidTaskSize(f"{what}={value!r} is not a Fargate size")
    return int(units)


def valid_task_sizes() -> list[TaskSize]:
    """Every Fargate task size, smallest first (74 pairs, x86 and ARM alike)."""
    return [TaskSize(cpu, mem) for cpu, mems in FARGATE_MEMORY_BY_CPU.items() for mem in mems]


def memory_options(cpu: int) -> tuple[int, ...]:
    """The memory values (MiB) Fargate allows with `cpu` CPU units."""
    cpu_units = _as_int(cpu, "cpu")
    if cpu_units not in FARGATE_MEMORY_BY_CPU:
        validate_task_size(cpu_units, 0)  # raises with the list of valid cpu values
    return FARGATE_MEMORY_BY_CPU[cpu_units]


def cheapest_task_size(min_vcpu: float, min_memory_gb: float, arch: str = X86_64) -> TaskSize:
    """The cheapest Fargate size with at least `min_vcpu` and `min_memory_gb`.

    Right-sizing in one call: measure what a task really uses, add headroom, and let
    this pick the size instead of keeping App Runner's default 1 vCPU / 2 GB.
    """
    rate = FARGATE_ON_DEMAND[normalize_arch(arch)]
    fitting = [s for s in valid_task_sizes() if s.vcpu >= min_vcpu and s.memory_gb >= min_memory_gb]
    if not fitting:
        raise InvalidTaskSize(
            f"No Fargate size has {min_vcpu} vCPU and {min_memory_gb} GB: the largest is 16 vCPU / 120 GB."
        )
    return min(fitting, key=lambda s: (rate.hourly(s), s))


# App Runner instance sizes (vCPU, GB). From the App Runner API reference,
# https://docs.aws.amazon.com/apprunner/latest/api/API_InstanceConfiguration.html (Cpu and
# Memory patterns), with the pairs App Runner accepts (0.25 vCPU: 0.5 or 1 GB; 0.5: 1;
# 1: 2, 3 or 4; 2: 4 or 6; 4: 8, 10 or 12). Every one of them is also a Fargate size.
APP_RUNNER_SIZES: tuple[TaskSize, ...] = tuple(
    TaskSize.of(v, g) for v, g in (
        (0.25, 0.5), (0.25, 1), (0.5, 1), (1, 2), (1, 3), (1, 4), (2, 4), (2, 6),
        (4, 8), (4, 10), (4, 12),
    )
)


def _check_app_runner_size(size: TaskSize) -> None:
    if size not in APP_RUNNER_SIZES:
        valid = "; ".join(s.label for s in APP_RUNNER_SIZES)
        raise InvalidTaskSize(f"App Runner has no {size.label} instance. Its sizes: {valid}.")


# ---------------------------------------------------------------------------
# Costs
# ---------------------------------------------------------------------------
def _fraction(value: float, what: str) -> float:
    value = float(value)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{what} is a fraction between 0 and 1 (0.3 = 30%), got {value}")
    return value


def _non_negative(value: float, what: str) -> float:
    value = float(value)
    if value < 0 or math.isnan(value):
        raise ValueError(f"{what} cannot be negative, got {value}")
    return value


def _count(value: int, what: str = "count") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{what} is a whole number of tasks (0 or more), got {value!r}")
    return value


def task_hour_cost(
    size: TaskSize,
    arch: str = X86_64,
    *,
    spot: bool = False,
    spot_discount: float = FARGATE_SPOT_MAX_DISCOUNT,
) -> float:
    """Dollars for one Fargate task of `size` running one hour (us-east-1, Linux).

    Spot tasks pay (1 - spot_discount) of the on-demand price.
    """
    hourly = FARGATE_ON_DEMAND[normalize_arch(arch)].hourly(size)
    if spot:
        hourly *= 1.0 - _fraction(spot_discount, "spot_discount")
    return hourly


def monthly_fleet_cost(
    count: int,
    size: TaskSize,
    arch: str = X86_64,
    *,
    spot_share: float = 0.0,
    hours: float = HOURS_PER_MONTH,
    spot_discount: float = FARGATE_SPOT_MAX_DISCOUNT,
) -> float:
    """Dollars per month for `count` Fargate tasks, `spot_share` of them on Fargate Spot.

    A fractional Spot share is costed as that share of task-hours, which is what a
    capacity-provider strategy gives on average over a month.
    """
    count = _count(count)
    share = _fraction(spot_share, "spot_share")
    hours = _non_negative(hours, "hours")
    on_demand = task_hour_cost(size, arch)
    spot = task_hour_cost(size, arch, spot=True, spot_discount=spot_discount)
    return count * hours * ((1.0 - share) * on_demand + share * spot)


def app_runner_hour_cost(size: TaskSize, *, active: bool = True) -> float:
    """Dollars for one App Runner instance-hour: vCPU and memory when active, memory only when idle."""
    _check_app_runner_size(size)
    if active:
        return APP_RUNNER_ACTIVE.hourly(size)
    return size.memory_gb * APP_RUNNER_PROVISIONED_GB_HOUR


def app_runner_monthly_cost(
    count: int,
    size: TaskSize,
    *,
    active_share: float = 1.0,
    hours: float = HOURS_PER_MONTH,
) -> float:
    """Dollars per month for `count` App Runner instances active `active_share` of the time.

    A service that serves traffic around the clock has active_share=1; idle hours are
    billed for memory only.
    """
    count = _count(count)
    share = _fraction(active_share, "active_share")
    hours = _non_negative(hours, "hours")
    active = app_runner_hour_cost(size, active=True)
    idle = app_runner_hour_cost(size, active=False)
    return count * hours * (share * active + (1.0 - share) * idle)


@dataclass(frozen=True)
class Fleet:
    """One ECS service's tasks on Fargate: how many, how big, which CPU, how much on Spot."""

    count: int
    size: TaskSize
    arch: str = X86_64
    spot_share: float = 0.0
    name: str = ""

    def __post_init__(self) -> None:
        _count(self.count)
        _fraction(self.spot_share, "spot_share")
        object.__setattr__(self, "arch", normalize_arch(self.arch))

    def monthly_cost(self, hours: float = HOURS_PER_MONTH,
                     spot_discount: float = FARGATE_SPOT_MAX_DISCOUNT) -> float:
        return monthly_fleet_cost(self.count, self.size, self.arch, spot_share=self.spot_share,
                                  hours=hours, spot_discount=spot_discount)

    @property
    def vcpu(self) -> float:
        return self.count * self.size.vcpu

    def describe(self) -> str:
        arch = "ARM" if self.arch == ARM64 else "x86"
        spot = f", {self.spot_share:.0%} Spot" if self.spot_share else ""
        return f"{self.count} x {self.size.label} {arch} on Fargate{spot}"


@dataclass(frozen=True)
class AppRunnerFleet:
    """App Runner instances of one service, active (serving) `active_share` of the time."""

    count: int
    size: TaskSize
    active_share: float = 1.0
    name: str = ""

    def __post_init__(self) -> None:
        _count(self.count)
        _fraction(self.active_share, "active_share")
        _check_app_runner_size(self.size)

    def monthly_cost(self, hours: float = HOURS_PER_MONTH,
                     spot_discount: float = FARGATE_SPOT_MAX_DISCOUNT) -> float:
        # spot_discount is accepted so every fleet prices the same way; App Runner has no Spot.
        return app_runner_monthly_cost(self.count, self.size, active_share=self.active_share, hours=hours)

    @property
    def vcpu(self) -> float:
        return self.count * self.size.vcpu

    def describe(self) -> str:
        active = "" if self.active_share == 1 else f", active {self.active_share:.0%} of the time"
        return f"{self.count} x {self.size.label} on App Runner{active}"


AnyFleet = Union[Fleet, AppRunnerFleet]


@dataclass(frozen=True)
class Scenario:
    """A named way of running MyLearning: one fleet per service, priced over `hours`.

    The App Runner era, plain Fargate and the learner's optimized mix are each a
    Scenario; compare() puts two side by side.
    """

    name: str
    fleets: tuple[AnyFleet, ...] = field(default_factory=tuple)
    hours: float = HOURS_PER_MONTH
    spot_discount: float = FARGATE_SPOT_MAX_DISCOUNT

    def __post_init__(self) -> None:
        fleets = (self.fleets,) if isinstance(self.fleets, (Fleet, AppRunnerFleet)) else tuple(self.fleets)
        for fleet in fleets:
            if not isinstance(fleet, (Fleet, AppRunnerFleet)):
                raise TypeError(f"A Scenario holds Fleet or AppRunnerFleet objects, got {fleet!r}")
        object.__setattr__(self, "fleets", fleets)
        _non_negative(self.hours, "hours")
        _fraction(self.spot_discount, "spot_discount")

    @classmethod
    def app_runner(cls, name: str, count: int, size: TaskSize, *, active_share: float = 1.0,
                   hours: float = HOURS_PER_MONTH) -> "Scenario":
        """A one-service scenario on App Runner."""
        return cls(name, (AppRunnerFleet(count, size, active_share),), hours=hours)

    @classmethod
    def fargate(cls, name: str, count: int, size: TaskSize, arch: str = X86_64, *,
                spot_share: float = 0.0, hours: float = HOURS_PER_MONTH,
                spot_discount: float = FARGATE_SPOT_MAX_DISCOUNT) -> "Scenario":
        """A one-service scenario on Fargate."""
        return cls(name, (Fleet(count, size, arch, spot_share),), hours=hours, spot_discount=spot_discount)

    @property
    def monthly_cost(self) -> float:
        return sum(f.monthly_cost(self.hours, self.spot_discount) for f in self.fleets)

    @property
    def vcpu(self) -> float:
        """Total vCPUs provisioned: a cheaper scenario with less capacity is not a saving."""
        return sum(f.vcpu for f in self.fleets)

    def breakdown(self) -> list[dict[str, object]]:
        """One row per fleet (name, description, monthly cost), ready for a table or DataFrame."""
        return [
            {"fleet": f.name or f"fleet {i + 1}", "runs": f.describe(),
             "monthly_cost": round(f.monthly_cost(self.hours, self.spot_discount), 2)}
            for i, f in enumerate(self.fleets)
        ]


def saving_pct(baseline_cost: float, candidate_cost: float) -> float:
    """How much lower `candidate_cost` is than `baseline_cost`, in percent (negative = dearer)."""
    baseline_cost = _non_negative(baseline_cost, "baseline_cost")
    if baseline_cost == 0:
        raise ValueError("The baseline costs nothing, so a saving percentage has no meaning.")
    return 100.0 * (baseline_cost - float(candidate_cost)) / baseline_cost


@dataclass(frozen=True)
class Comparison:
    """Two scenarios' monthly costs and the saving of the second over the first."""

    baseline: str
    candidate: str
    baseline_cost: float
    candidate_cost: float
    baseline_vcpu: float
    candidate_vcpu: float

    @property
    def saving(self) -> float:
        return self.baseline_cost - self.candidate_cost

    @property
    def saving_pct(self) -> float:
        return saving_pct(self.baseline_cost, self.candidate_cost)

    def holds(self, claimed_pct: float = 45.0) -> bool:
        """Whether the candidate is at least `claimed_pct` percent cheaper than the baseline."""
        return self.saving_pct >= float(claimed_pct) - 1e-9

    def __str__(self) -> str:
        direction = "lower" if self.saving >= 0 else "higher"
        text = (f"{self.candidate}: ${self.candidate_cost:,.2f}/month vs {self.baseline}: "
                f"${self.baseline_cost:,.2f}/month, {abs(self.saving_pct):.1f}% {direction}")
        if self.candidate_vcpu < self.baseline_vcpu:
            text += (f" (with {self.candidate_vcpu:g} vCPU instead of {self.baseline_vcpu:g}:"
                     " check it still carries the load)")
        return text


def compare(baseline: Scenario, candidate: Scenario) -> Comparison:
    """Price both scenarios and report how much cheaper `candidate` is than `baseline`."""
    return Comparison(baseline.name, candidate.name, baseline.monthly_cost, candidate.monthly_cost,
                      baseline.vcpu, candidate.vcpu)


# ---------------------------------------------------------------------------
# Capacity planning
# ---------------------------------------------------------------------------
def tasks_for_users(
    concurrent_users: int,
    users_per_task: float,
    *,
    target_utilization: float = 0.7,
    min_tasks: int = 1,
) -> int:
    """Tasks needed so `concurrent_users` load each task to at most `target_utilization`.

    `users_per_task` is what one task serves at 100% (measured in a load test). Running
    at 70% rather than 100% leaves room for spikes while auto scaling catches up.
    """
    users = _non_negative(concurrent_users, "concurrent_users")
    per_task = float(users_per_task)
    if per_task <= 0:
        raise ValueError(f"users_per_task must be positive, got {users_per_task}")
    utilization = _fraction(target_utilization, "target_utilization")
    if utilization == 0:
        raise ValueError("target_utilization must be above 0")
    needed = math.ceil(users / (per_task * utilization) - 1e-9)
    return max(needed, _count(min_tasks, "min_tasks"))


def _az_names(azs: int | Sequence[str]) -> list[str]:
    if isinstance(azs, int) and not isinstance(azs, bool):
        if azs < 1:
            raise ValueError("At least one Availability Zone is needed")
        return [f"az{i + 1}" for i in range(azs)]
    names = [str(a) for a in azs]
    if not names or len(set(names)) != len(names):
        raise ValueError(f"Give distinct Availability Zone names, got {azs!r}")
    return names


def spread_across_azs(tasks: int, azs: int | Sequence[str]) -> dict[str, int]:
    """Tasks per Availability Zone when `tasks` are spread evenly (the first zones take the remainder).

    This is the balance ECS aims for with a Fargate service whose subnets span the zones
    (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-placement.html), and
    restores with Availability Zone rebalancing (.../service-rebalancing.html).
    """
    names = _az_names(azs)
    base, extra = divmod(_count(tasks, "tasks"), len(names))
    return {name: base + (1 if i < extra else 0) for i, name in enumerate(names)}


def tasks_to_survive_az_loss(tasks_needed: int, azs: int | Sequence[str]) -> int:
    """Smallest task count that still leaves `tasks_needed` running after losing the fullest AZ."""
    zones = len(_az_names(azs))
    needed = _count(tasks_needed, "tasks_needed")
    if zones == 1:
        raise ValueError("With one Availability Zone, losing it leaves nothing: use two or more.")
    total = needed
    while total - math.ceil(total / zones) < needed:
        total += 1
    return total


@dataclass(frozen=True)
class CapacityPlan:
    """The outcome of plan_capacity(): how many tasks, and where they run."""

    concurrent_users: int
    users_per_task: float
    target_utilization: float
    tasks_for_load: int
    tasks: int
    per_az: dict[str, int]

    def __str__(self) -> str:
        zones = ", ".join(f"{az}: {n}" for az, n in self.per_az.items())
        return (f"{self.concurrent_users:,} users at {self.users_per_task:g} per task and "
                f"{self.target_utilization:.0%} target utilization need {self.tasks_for_load} tasks; "
                f"run {self.tasks} ({zones}).")


def plan_capacity(
    concurrent_users: int,
    users_per_task: float,
    *,
    target_utilization: float = 0.7,
    azs: int | Sequence[str] = 2,
    survive_az_loss: bool = True,
) -> CapacityPlan:
    """Size a service for `concurrent_users`, spread over `azs`, optionally surviving an AZ loss."""
    for_load = tasks_for_users(concurrent_users, users_per_task, target_utilization=target_utilization)
    zones = len(_az_names(azs))
    total = tasks_to_survive_az_loss(for_load, zones) if survive_az_loss else for_load
    total = max(total, zones)  # at least one task per zone, or a zone serves nothing
    return CapacityPlan(int(concurrent_users), float(users_per_task), float(target_utilization),
                        for_load, total, spread_across_azs(total, azs))
