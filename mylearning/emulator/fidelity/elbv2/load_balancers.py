"""Elastic Load Balancing v2 load balancers and listeners: subnets, forward weights, listener
ports, rule priority range and certificates -- checks AWS makes that moto skips."""
from __future__ import annotations

import re

from mylearning.emulator.fidelity.core import AwsRequest, rule
from mylearning.emulator.fidelity.elbv2.access import SERVICE, _members, validation_error


def _subnet_zones(region: str, subnets: list[str]) -> set[str] | None:
    """Availability Zones of the subnets; None when one is unknown (moto reports that itself)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ec2.models import ec2_backends

    ec2 = ec2_backends[DEFAULT_ACCOUNT_ID][region]
    try:
        return {ec2.get_subnet(s).availability_zone for s in subnets}
    except Exception:
        return None


@rule(SERVICE, "CreateLoadBalancer", "SetSubnets")
def alb_spans_two_zones(req: AwsRequest) -> None:
    """An Application Load Balancer needs subnets in at least two Availability Zones.

    https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html
    ("[Application Load Balancers] You must specify subnets from at least two Availability Zones").
    """
    kind = req.params.get("Type", "application")
    if kind != "application":
        return
    if req.operation == "SetSubnets":
        return _set_subnets_spans_two_zones(req)
    subnets = _members(req.params, "Subnets") + [
        v for k, v in req.params.items()
        if re.fullmatch(r"SubnetMappings\.member\.\d+\.SubnetId", k)]
    _two_zones(req.region, subnets)


def _set_subnets_spans_two_zones(req: AwsRequest) -> None:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.elbv2.models import elbv2_backends

    lb = elbv2_backends[DEFAULT_ACCOUNT_ID][req.region].load_balancers.get(
        req.params.get("LoadBalancerArn", ""))
    if lb is None or getattr(lb, "type", "application") != "application":
        return
    subnets = _members(req.params, "Subnets") + [
        v for k, v in req.params.items()
        if re.fullmatch(r"SubnetMappings\.member\.\d+\.SubnetId", k)]
    _two_zones(req.region, subnets)


def _two_zones(region: str, subnets: list[str]) -> None:
    message = ("At least two subnets in two different Availability Zones must be specified")
    if len(set(subnets)) < 2:
        raise validation_error(message)
    zones = _subnet_zones(region, subnets)
    if zones is not None and len(zones) < 2:
        raise validation_error(message)


_WEIGHT = re.compile(r"(?:Default)?Actions\.member\.\d+\.ForwardConfig\.TargetGroups\.member\.\d+\.Weight")


@rule(SERVICE, "CreateListener", "ModifyListener", "CreateRule", "ModifyRule")
def forward_weights_in_range(req: AwsRequest) -> None:
    """Each target group weight in a forward action is 0-999.

    https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetGroupTuple.html
    ("Weight: The weight. The range is 0 to 999").
    """
    for key, value in req.params.items():
        if _WEIGHT.fullmatch(key):
            try:
                weight = int(value)
            except ValueError:
                raise validation_error(f"Target group weight '{value}' is not a number")
            if not 0 <= weight <= 999:
                raise validation_error(
                    f"Target group weight '{weight}' must be between 0 and 999")


@rule(SERVICE, "CreateListener", "ModifyListener")
def listener_port_in_range(req: AwsRequest) -> None:
    """A listener port is 1-65535.

    https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateListener.html
    ("Port ... Valid Range: Minimum value of 1. Maximum value of 65535").
    """
    port = req.params.get("Port")
    if port is not None and port.isdigit() and not 1 <= int(port) <= 65535:
        raise validation_error(f"Port '{port}' must be between 1 and 65535")


@rule(SERVICE, "CreateRule", "SetRulePriorities")
def rule_priority_in_range(req: AwsRequest) -> None:
    """A listener rule priority is 1-50000.

    https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateRule.html
    ("Priority ... Valid Range: Minimum value of 1. Maximum value of 50000").
    """
    values = [v for k, v in req.params.items()
              if k == "Priority" or re.fullmatch(r"RulePriorities\.member\.\d+\.Priority", k)]
    for value in values:
        if value.isdigit() and not 1 <= int(value) <= 50000:
            raise validation_error(f"Priority '{value}' must be between 1 and 50000")


@rule(SERVICE, "CreateListener")
def certificates_match_protocol(req: AwsRequest) -> None:
    """HTTPS and TLS listeners need a certificate; HTTP and TCP listeners take none.

    https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateListener.html
    (Certificates: "Required if the protocol is HTTPS or TLS").
    """
    protocol = req.params.get("Protocol")
    has_certificate = any(k.startswith("Certificates.member.") for k in req.params)
    if protocol in ("HTTPS", "TLS") and not has_certificate:
        raise validation_error(f"A certificate must be specified for {protocol} listeners")
    if protocol in ("HTTP", "TCP", "UDP", "TCP_UDP") and has_certificate:
        raise validation_error(f"A certificate cannot be specified for {protocol} listeners")
