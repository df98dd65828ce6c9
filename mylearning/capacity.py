"""How a capacity provider strategy spreads tasks, computed as ECS does it.

ECS places the `base` tasks on their provider first (only one provider in a
strategy may have a base), then divides the rest in proportion to `weight`.
Source: "Capacity provider strategies", Amazon ECS Developer Guide,
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/cluster-capacity-providers.html

The labs use this to show, with numbers, what a strategy like "FARGATE base 1
weight 1, FARGATE_SPOT weight 3" means for 4, 10 or 100 tasks. The second half sizes
the fleet: how many tasks a number of concurrent users needs and how they spread over
Availability Zones so that losing one zone still leaves enough.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

from mylearning.cost import fraction, non_negative, whole_count


def split_tasks(strategy: Iterable[Mapping], count: int) -> dict[str, int]:
    """Tasks per capacity provider when `count` tasks run under `strategy`."""
    items = [dict(i) for i in strategy]
    if count < 0:
        raise ValueError("count must be 0 or more")
    if not items:
        raise ValueError("A strategy needs at least one capacity provider")
    names = [i["capacityProvider"] for i in items]
    if len(set(names)) != len(names):
        raise ValueError("Each capacity provider may appear once in a strategy")
    with_base = [i for i in items if i.get("base", 0)]
    if len(with_base) > 1:
        raise ValueError("Only one capacity provider in a strategy can have a base")
    for item in items:
        if not 0 <= item.get("weight", 0) <= 1000 or not 0 <= item.get("base", 0) <= 100000:
            raise ValueError("weight must be 0-1000 and base 0-100000")
    result = {n: 0 for n in names}
    remaining = count
    if with_base:
        placed = min(with_base[0]["base"], remaining)
        result[with_base[0]["capacityProvider"]] += placed
        remaining -= placed
    weights = {i["capacityProvider"]: i.get("weight", 0) for i in items}
    total = sum(weights.values())
    if remaining and total == 0:
        raise ValueError("With no weight on any provider, tasks beyond the base cannot be placed")
    if remaining:
        # Largest-remainder rounding keeps the total exact and the shares closest to the weights.
        exact = {n: remaining * w / total for n, w in weights.items()}
        floors = {n: int(v) for n, v in exact.items()}
        left = remaining - sum(floors.values())
        order = sorted(weights, key=lambda n: (exact[n] - floors[n], weights[n]), reverse=True)
        for name in order[:left]:
            floors[name] += 1
        for name, n in floors.items():
            result[name] += n
    return result


def spot_share(strategy: Iterable[Mapping], count: int, spot_provider: str = "FARGATE_SPOT") -> float:
    """Fraction of `count` tasks that run on Spot under `strategy`."""
    if count == 0:
        return 0.0
    return split_tasks(strategy, count).get(spot_provider, 0) / count


# ---------------------------------------------------------------- sizing the fleet
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
    users = non_negative(concurrent_users, "concurrent_users")
    per_task = float(users_per_task)
    if per_task <= 0:
        raise ValueError(f"users_per_task must be positive, got {users_per_task}")
    utilization = fraction(target_utilization, "target_utilization")
    if utilization == 0:
        raise ValueError("target_utilization must be above 0")
    needed = math.ceil(users / (per_task * utilization) - 1e-9)
    return max(needed, whole_count(min_tasks, "min_tasks"))


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
    base, extra = divmod(whole_count(tasks, "tasks"), len(names))
    return {name: base + (1 if i < extra else 0) for i, name in enumerate(names)}


def tasks_to_survive_az_loss(tasks_needed: int, azs: int | Sequence[str]) -> int:
    """Smallest task count that still leaves `tasks_needed` running after losing the fullest AZ."""
    zones = len(_az_names(azs))
    needed = whole_count(tasks_needed, "tasks_needed")
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
