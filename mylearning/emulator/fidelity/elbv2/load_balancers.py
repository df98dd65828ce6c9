"""Elastic Load Balancing v2 load balancers and listeners: subnets, forward weights, listener
ports, rule priority range and certificates -- checks AWS makes that moto skips."""
from __future__ import annotations

import re

from mylearning.emulator.fidelity.core import AwsRequest, moto_backend, rule
from mylearning.emulator.fidelity.elbv2.access import SERVICE, listed, validation_error


def _subnet_zones(region: str, subnets: list[str]) -> set[str] | None:
    """Availability Zones of the subnets; None when one is unknown (moto reports that itself)."""

    ec2 = moto_backend("ec2", region)
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
    _two_zones(req.region, _subnets(req))


def _subnets(req: AwsRequest) -> list[str]:
    """The subnets a request names, as Subnets or as SubnetMappings."""
    mapped = [m.get("SubnetId") for m in listed(req, "SubnetMappings") if isinstance(m, dict)]
    return listed(req, "Subnets") + [s for s in mapped if s]


def _set_subnets_spans_two_zones(req: AwsRequest) -> None:
    lb = moto_backend("elbv2", req.region).load_balancers.get(
        req.params.get("LoadBalancerArn", ""))
    if lb is None or getattr(lb, "type", "application") != "application":
        return
    _two_zones(req.region, _subnets(req))


def _two_zones(region: str, subnets: list[str]) -> None:
    message = ("At least two subnets in two different Availability Zones must be specified")
    if len(set(subnets)) < 2:
        raise validation_error(message)
    zones = _subnet_zones(region, subnets)
    if zones is not None and len(zones) < 2:
        raise validation_error(message)


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
