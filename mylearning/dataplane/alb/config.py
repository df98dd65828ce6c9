"""What the data plane's load balancers know, read through the ELBv2 API like any client.

`read_region` describes a region's Application Load Balancers, their listeners and rules,
the target groups and their targets, and returns them as plain objects the listeners and
health checks use. It is called when ELB's change news (``ControlPlane.elb_poll``) says
something moved, and every `RESYNC` seconds to be safe; when the news names only target
groups whose targets changed, `read_targets` refreshes just those.

Only ``application`` load balancers are served: Network and Gateway Load Balancers are
left alone (the course uses neither), as are target groups of type ``instance`` and
``lambda`` (tasks in ``awsvpc`` mode register as ``ip`` targets:
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/alb.html).
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

#: Seconds between full reads when no news came.
RESYNC = 20.0

#: Health check defaults for HTTP/HTTPS target groups of type ip
#: (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html).
HEALTH_DEFAULTS = {"HealthCheckProtocol": "HTTP", "HealthCheckPort": "traffic-port",
                   "HealthCheckPath": "/", "HealthCheckIntervalSeconds": 30,
                   "HealthCheckTimeoutSeconds": 5, "HealthyThresholdCount": 5,
                   "UnhealthyThresholdCount": 2, "Matcher": {"HttpCode": "200"},
                   "HealthCheckEnabled": True}


@dataclass
class Target:
    id: str
    port: int
    #: What ELB last said (initial, healthy, unhealthy, unused, draining).
    state: str

    @property
    def key(self) -> str:
        return f"{self.id}:{self.port}"


@dataclass
class TargetGroup:
    arn: str
    name: str
    protocol: str
    port: int
    target_type: str
    health: dict[str, Any]
    attributes: dict[str, str]
    load_balancers: list[str]
    targets: list[Target] = field(default_factory=list)

    @property
    def in_use(self) -> bool:
        return bool(self.load_balancers)

    def registered(self) -> list[Target]:
        return [t for t in self.targets if t.state != "draining"]


@dataclass
class Listener:
    arn: str
    port: int
    protocol: str
    rules: list[dict]


@dataclass
class LoadBalancer:
    arn: str
    name: str
    dns: str
    scheme: str
    security_groups: list[str]
    attributes: dict[str, str]
    listeners: list[Listener] = field(default_factory=list)
    vpc: str = ""
    subnets: tuple = ()

    def attribute(self, name: str, default: float) -> float:
        try:
            return float(self.attributes.get(name, default))
        except (TypeError, ValueError):
            return default


@dataclass
class RegionConfig:
    region: str
    balancers: dict[str, LoadBalancer] = field(default_factory=dict)
    groups: dict[str, TargetGroup] = field(default_factory=dict)


Call = Callable[..., Awaitable[Any]]


async def _pages(call: Call, region: str, operation: str, key: str, **params: Any) -> list:
    found: list = []
    marker = None
    while True:
        page = await call("elbv2", region, operation, **params, **({"Marker": marker} if marker else {}))
        found += page.get(key, [])
        marker = page.get("NextMarker")
        if not marker:
            return found


def _attributes(answer: dict) -> dict[str, str]:
    return {a["Key"]: a.get("Value", "") for a in answer.get("Attributes", [])}


async def read_targets(call: Call, region: str, group: TargetGroup) -> None:
    """Refresh the group's targets (registered and draining) from DescribeTargetHealth."""
    described = await call("elbv2", region, "describe_target_health", TargetGroupArn=group.arn)
    group.targets = [Target(t["Target"]["Id"], int(t["Target"].get("Port") or group.port),
                            (t.get("TargetHealth") or {}).get("State", "initial"))
                     for t in described.get("TargetHealthDescriptions", []) if t.get("Target")]


async def _balancer(call: Call, region: str, lb: dict) -> LoadBalancer:
    attributes, listeners = await asyncio.gather(
        call("elbv2", region, "describe_load_balancer_attributes", LoadBalancerArn=lb["LoadBalancerArn"]),
        _pages(call, region, "describe_listeners", "Listeners", LoadBalancerArn=lb["LoadBalancerArn"]))
    balancer = LoadBalancer(lb["LoadBalancerArn"], lb["LoadBalancerName"], lb["DNSName"].lower(),
                            lb.get("Scheme", "internet-facing"), list(lb.get("SecurityGroups") or []),
                            _attributes(attributes), vpc=lb.get("VpcId", ""),
                            subnets=tuple(z["SubnetId"] for z in lb.get("AvailabilityZones") or []
                                          if z.get("SubnetId")))
    rules = await asyncio.gather(*(_pages(call, region, "describe_rules", "Rules",
                                          ListenerArn=li["ListenerArn"]) for li in listeners))
    balancer.listeners = [Listener(li["ListenerArn"], int(li["Port"]), li.get("Protocol", "HTTP"), found)
                          for li, found in zip(listeners, rules)]
    return balancer


async def _group(call: Call, region: str, tg: dict) -> TargetGroup:
    health = {k: tg.get(k, v) for k, v in HEALTH_DEFAULTS.items()}
    group = TargetGroup(tg["TargetGroupArn"], tg["TargetGroupName"], tg["Protocol"],
                        int(tg.get("Port") or 80), tg["TargetType"], health, {},
                        list(tg.get("LoadBalancerArns") or []))
    if group.in_use:  # a group no listener uses routes nothing and is not checked
        attributes, _ = await asyncio.gather(
            call("elbv2", region, "describe_target_group_attributes", TargetGroupArn=group.arn),
            read_targets(call, region, group))
        group.attributes = _attributes(attributes)
    return group


async def read_region(call: Call, region: str) -> RegionConfig:
    """The region's ALBs and target groups, as ELBv2 describes them now (calls in parallel:
    an account the fidelity table filled has dozens of each)."""
    config = RegionConfig(region)
    balancers, groups = await asyncio.gather(
        _pages(call, region, "describe_load_balancers", "LoadBalancers"),
        _pages(call, region, "describe_target_groups", "TargetGroups"))
    for balancer in await asyncio.gather(*(_balancer(call, region, lb) for lb in balancers
                                           if lb.get("Type", "application") == "application")):
        config.balancers[balancer.arn] = balancer
    for group in await asyncio.gather(*(_group(call, region, tg) for tg in groups
                                        if tg.get("TargetType", "instance") == "ip"
                                        and tg.get("Protocol") in ("HTTP", "HTTPS"))):
        config.groups[group.arn] = group
    return config
