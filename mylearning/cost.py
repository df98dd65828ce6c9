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
from mylearning.facts.fargate import (ARCHITECTURES, ARM64, X86_64, InvalidTaskSize, TaskSize,
                                      memory_options, normalize_arch, valid_task_sizes,
                                      validate_task_size)

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
def fraction(value: float, what: str) -> float:
    """`value` as a fraction from 0 to 1, or a ValueError that says what was expected."""
    value = float(value)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{what} is a fraction between 0 and 1 (0.3 = 30%), got {value}")
    return value


def non_negative(value: float, what: str) -> float:
    """`value` as a float that is 0 or more (and a number), or a ValueError naming `what`."""
    value = float(value)
    if value < 0 or math.isnan(value):
        raise ValueError(f"{what} cannot be negative, got {value}")
    return value


def whole_count(value: int, what: str = "count") -> int:
    """`value` as a whole number of tasks (0 or more), or a ValueError naming `what`."""
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
        hourly *= 1.0 - fraction(spot_discount, "spot_discount")
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
    count = whole_count(count)
    share = fraction(spot_share, "spot_share")
    hours = non_negative(hours, "hours")
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
    count = whole_count(count)
    share = fraction(active_share, "active_share")
    hours = non_negative(hours, "hours")
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
        whole_count(self.count)
        fraction(self.spot_share, "spot_share")
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
        whole_count(self.count)
        fraction(self.active_share, "active_share")
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
        non_negative(self.hours, "hours")
        fraction(self.spot_discount, "spot_discount")

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
    baseline_cost = non_negative(baseline_cost, "baseline_cost")
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
