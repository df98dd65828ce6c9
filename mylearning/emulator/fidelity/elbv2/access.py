"""Shared by the ELBv2 modules: the service's names and errors, its list parameters as the
model nests them, and lazy access to moto's ELBv2 state.

ELBv2 speaks the query protocol, so ``req.params`` is the flat form
(``Subnets.member.1``, ``Actions.member.1.ForwardConfig.TargetGroups.member.2.Weight``);
`listed` gives the nested form.
"""
from __future__ import annotations

from typing import Any

from mylearning.emulator.fidelity.core import AwsError, AwsRequest, moto_backend

SERVICE = "elbv2"
API = "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/"


def validation_error(message: str) -> AwsError:
    return AwsError("ValidationError", message, 400)


def invalid_action(message: str) -> AwsError:
    """InvalidLoadBalancerActionException ("The requested action is not valid")."""
    return AwsError("InvalidLoadBalancerAction", message, 400)


def listed(req: AwsRequest, name: str) -> list:
    """A list parameter as the model nests it (``Actions.member.1.ForwardConfig...`` read back
    into objects by the layer's one reader, `validation.structured`)."""
    from mylearning.emulator.fidelity.validation import structured
    value = structured(req).get(name)
    return value if isinstance(value, list) else []


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
