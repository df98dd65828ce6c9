"""What the data plane's load balancers know, read through the ELBv2 API like any client.

`read_region` describes a region's Application Load Balancers, their listeners and rules,
the target groups and their targets, and returns them as plain objects the listeners and
health checks use. It is called when ELB's change news (``ControlPlane.elb_poll``) says
something moved, and every `RESYNC` seconds to be safe.

Only ``application`` load balancers are served: Network and Gateway Load Balancers are
left alone (the course uses neither), as are target groups of type ``instance`` and
``lambda`` (tasks in ``awsvpc`` mode register as ``ip`` targets:
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/alb.html).
"""
from __future__ import annotations

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


async def read_region(call: Call, region: str) -> RegionConfig:
    """The region's ALBs and target groups, as ELBv2 describes them now."""
    config = RegionConfig(region)
    for lb in await _pages(call, region, "describe_load_balancers", "LoadBalancers"):
        if lb.get("Type", "application") != "application":
            continue
        attributes = _attributes(await call("elbv2", region, "describe_load_balancer_attributes",
                                            LoadBalancerArn=lb["LoadBalancerArn"]))
        balancer = LoadBalancer(lb["LoadBalancerArn"], lb["LoadBalancerName"], lb["DNSName"].lower(),
                                lb.get("Scheme", "internet-facing"), list(lb.get("SecurityGroups") or []),
                                attributes)
        for listener in await _pages(call, region, "describe_listeners", "Listeners",
                                     LoadBalancerArn=balancer.arn):
            rules = await _pages(call, region, "describe_rules", "Rules",
                                 ListenerArn=listener["ListenerArn"])
            balancer.listeners.append(Listener(listener["ListenerArn"], int(listener["Port"]),
                                               listener.get("Protocol", "HTTP"), rules))
        config.balancers[balancer.arn] = balancer
    for tg in await _pages(call, region, "describe_target_groups", "TargetGroups"):
        if tg.get("TargetType", "instance") != "ip" or tg.get("Protocol") not in ("HTTP", "HTTPS"):
            continue
        attributes = _attributes(await call("elbv2", region, "describe_target_group_attributes",
                                            TargetGroupArn=tg["TargetGroupArn"]))
        health = {k: tg.get(k, v) for k, v in HEALTH_DEFAULTS.items()}
        group = TargetGroup(tg["TargetGroupArn"], tg["TargetGroupName"], tg["Protocol"],
                            int(tg.get("Port") or 80), tg["TargetType"], health, attributes,
                            list(tg.get("LoadBalancerArns") or []))
        described = await call("elbv2", region, "describe_target_health", TargetGroupArn=group.arn)
        for item in described.get("TargetHealthDescriptions", []):
            target = item.get("Target") or {}
            group.targets.append(Target(target["Id"], int(target.get("Port") or group.port),
                                        (item.get("TargetHealth") or {}).get("State", "initial")))
        config.groups[group.arn] = group
    return config
