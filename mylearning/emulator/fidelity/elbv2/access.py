"""Shared by the ELBv2 modules: the service's names and errors, the flat query form read back
into lists and objects, and lazy access to moto's ELBv2 state.

ELBv2 speaks the query protocol, so ``req.params`` is the flat form
(``Subnets.member.1``, ``Actions.member.1.ForwardConfig.TargetGroups.member.2.Weight``).
"""
from __future__ import annotations

import re
from typing import Any

from mylearning.emulator.fidelity.core import AwsError, moto_backend

SERVICE = "elbv2"
API = "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/"


def validation_error(message: str) -> AwsError:
    return AwsError("ValidationError", message, 400)


def invalid_action(message: str) -> AwsError:
    """InvalidLoadBalancerActionException ("The requested action is not valid")."""
    return AwsError("InvalidLoadBalancerAction", message, 400)


def _members(params: dict, prefix: str) -> list[str]:
    """Values of a flat list ``prefix.member.N`` in N order."""
    found = []
    for key, value in params.items():
        match = re.fullmatch(re.escape(prefix) + r"\.member\.(\d+)", key)
        if match:
            found.append((int(match.group(1)), value))
    return [value for _, value in sorted(found)]


def unflatten(params: dict, prefix: str) -> list[dict]:
    """The list ``prefix.member.N...`` as objects: ``Conditions.member.1.PathPatternConfig.
    Values.member.2`` becomes ``[{"PathPatternConfig": {"Values": [..., value]}}]``.
    Leaves stay strings, as the query protocol sends them."""
    tree: dict = {}
    for key, value in params.items():
        if not key.startswith(prefix + ".member."):
            continue
        parts = key[len(prefix) + 1:].split(".")
        path: list[Any] = []
        while parts:
            part = parts.pop(0)
            if part == "member" and parts and parts[0].isdigit():
                path.append(int(parts.pop(0)))
            else:
                path.append(part)
        node = tree
        for step in path[:-1]:
            child = node.setdefault(step, {})
            if not isinstance(child, dict):
                break
            node = child
        else:
            node[path[-1]] = value
    listed = _as_lists(tree)
    return listed if isinstance(listed, list) else []


def _as_lists(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    if node and all(isinstance(k, int) for k in node):
        return [_as_lists(node[k]) for k in sorted(node)]
    return {k: _as_lists(v) for k, v in node.items()}


# ---------------------------------------------------------------- moto access

def _backend(region: str) -> Any:
    return moto_backend("elbv2", region)


def rule_of(region: str, arn: str | None) -> Any:
    """moto's rule (listener or default rule) with this ARN, or None."""
    try:
        found = _backend(region).describe_rules(listener_arn=None, rule_arns=[arn])
        return found[0] if found else None
    except Exception:
        return None


def listener_protocol(region: str, arn: str | None) -> str | None:
    try:
        return _backend(region).describe_listeners(None, [arn])[0].protocol
    except Exception:
        return None
