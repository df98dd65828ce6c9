"""How a capacity provider strategy spreads tasks, computed as ECS does it.

ECS places the `base` tasks on their provider first (only one provider in a
strategy may have a base), then divides the rest in proportion to `weight`.
Source: "Capacity provider strategies", Amazon ECS Developer Guide,
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/cluster-capacity-providers.html

The labs use this to show, with numbers, what a strategy like "FARGATE base 1
weight 1, FARGATE_SPOT weight 3" means for 4, 10 or 100 tasks.
"""
from __future__ import annotations

from typing import Iterable, Mapping


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
