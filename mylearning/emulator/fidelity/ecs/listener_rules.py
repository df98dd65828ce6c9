"""How ECS moves traffic in a blue/green, linear or canary deployment: the forward weights of
the production and test listener rules between the two target groups.

ECS "modifies the listener rules" to shift traffic between the primary and the alternate target
group (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/alb-resources-for-blue-green.html),
with the role in ``advancedConfiguration.roleArn``. Here the change is made in moto's ELBv2
state, and ELB's change news (`elbv2.health.changed`) is announced as after a ModifyRule call,
so the data plane's load balancers, which read rules through DescribeRules only, route by the
new weights on their next read.
"""
from __future__ import annotations

import copy
from typing import Any

from mylearning.emulator.fidelity.core import moto_backend


def _rule(region: str, arn: str) -> tuple[Any, Any] | None:
    """(moto rule, its listener) for a rule ARN (a listener's default rule too), or None."""
    backend = moto_backend("elbv2", region)
    for balancer in list(backend.load_balancers.values()):
        for listener in balancer.listeners.values():
            for rule in listener.rules.values():
                if rule.arn == arn:
                    return rule, listener
    return None


def exists(region: str, arn: str) -> bool:
    return _rule(region, arn) is not None


def weights(region: str, arn: str) -> dict[str, int]:
    """{target group ARN: weight} of the rule's forward action (empty when it has none)."""
    found = _rule(region, arn)
    if found is None:
        return {}
    for action in found[0].actions:
        data = action.data
        if data.get("Type") != "forward":
            continue
        groups = (data.get("ForwardConfig") or {}).get("TargetGroups") or []
        if groups:
            return {g["TargetGroupArn"]: int(g.get("Weight", 1)) for g in groups}
        if data.get("TargetGroupArn"):
            return {data["TargetGroupArn"]: 1}
    return {}


def set_weights(region: str, arn: str, split: dict[str, int]) -> bool:
    """Make the rule forward to the groups of `split` with these weights; False if it is gone."""
    from moto.elbv2.models import FakeAction

    from mylearning.emulator.fidelity.elbv2 import health

    found = _rule(region, arn)
    if found is None:
        return False
    rule, listener = found
    kept = [a for a in rule.actions if a.data.get("Type") != "forward"]
    old = next((a.data for a in rule.actions if a.data.get("Type") == "forward"), {})
    forward = {k: copy.deepcopy(v) for k, v in old.items() if k not in ("TargetGroupArn", "ForwardConfig")}
    forward.setdefault("Type", "forward")
    config = copy.deepcopy(old.get("ForwardConfig") or {})
    config["TargetGroups"] = [{"TargetGroupArn": group, "Weight": weight} for group, weight in split.items()]
    forward["ForwardConfig"] = config
    if "Order" in old:
        forward["Order"] = old["Order"]
    actions = [*kept, FakeAction(forward)]
    rule.actions = actions
    if getattr(rule, "is_default", False):
        listener.default_actions = actions
    health.changed()
    return True
