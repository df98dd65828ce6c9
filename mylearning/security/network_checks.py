"""The course's network checks on the security groups tasks run in (MYL.NET.1-2).

A task in awsvpc mode gets its own network interface with the service's security groups, and its
ports are its containers' ports; a group's inbound rules decide who reaches them.
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/security-network.html
https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html
Only the tasks' groups are judged: a load balancer's group open to the internet on 80/443 is the
point of an internet-facing load balancer.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from mylearning.facts import securityhub as sh
from mylearning.security.findings import Finding

WORLD = ("0.0.0.0/0", "::/0")


@dataclass
class _Exposure:
    """What one security group guards: its task ports, who uses it, and the load balancers' groups."""
    ports: set[tuple[str, int]] = field(default_factory=set)
    users: set[str] = field(default_factory=set)
    behind_balancer: bool = False
    balancer_groups: set[str] = field(default_factory=set)


def task_ports(definition: dict | None) -> set[tuple[str, int]]:
    """(protocol, port) of every container port mapping (tcp unless the mapping says udp)."""
    ports = set()
    for c in (definition or {}).get("containerDefinitions") or []:
        for m in c.get("portMappings") or []:
            if m.get("containerPort") is not None:
                ports.add((m.get("protocol") or "tcp", int(m["containerPort"])))
    return ports


def _covers(permission: dict, protocol: str, port: int) -> bool:
    """Whether an inbound rule applies to protocol/port (IpProtocol "-1" is every protocol and port)."""
    proto = str(permission.get("IpProtocol"))
    if proto == "-1":
        return True
    if proto not in (protocol, {"tcp": "6", "udp": "17"}.get(protocol)):
        return False
    low, high = permission.get("FromPort"), permission.get("ToPort")
    if low is None or high is None or low == -1:
        return True
    return int(low) <= port <= int(high)


def _cidrs(permission: dict) -> list[str]:
    return ([r["CidrIp"] for r in permission.get("IpRanges") or []]
            + [r["CidrIpv6"] for r in permission.get("Ipv6Ranges") or []]
            + [r["PrefixListId"] for r in permission.get("PrefixListIds") or []])


def group_arn(group: dict, region: str) -> str:
    return group.get("SecurityGroupArn") or (
        f"arn:aws:ec2:{region}:{group.get('OwnerId', '')}:security-group/{group['GroupId']}")


def exposures(users: list[tuple[str, dict, dict | None]], balancer_groups: dict[str, list[str]]) -> dict[str, _Exposure]:
    """Security group id -> what it guards, from (name, service or task set, its task definition)."""
    found: dict[str, _Exposure] = {}
    for name, resource, definition in users:
        config = (resource.get("networkConfiguration") or {}).get("awsvpcConfiguration") or {}
        lbs = [lb for lb in resource.get("loadBalancers") or [] if lb.get("targetGroupArn")]
        for group_id in config.get("securityGroups") or []:
            exp = found.setdefault(group_id, _Exposure())
            exp.ports |= task_ports(definition)
            exp.users.add(name)
            if lbs:
                exp.behind_balancer = True
                for lb in lbs:
                    exp.balancer_groups |= set(balancer_groups.get(lb["targetGroupArn"], []))
    return found


def findings(users: list[tuple[str, dict, dict | None]], groups: dict[str, dict],
             balancer_groups: dict[str, list[str]], region: str) -> list[Finding]:
    """MYL.NET.1 for every task security group; MYL.NET.2 for those of tasks behind a load balancer."""
    found = []
    for group_id, exp in sorted(exposures(users, balancer_groups).items()):
        group = groups.get(group_id)
        if group is None or not exp.ports:
            continue
        arn = group_arn(group, region)
        open_to_world, direct = [], []
        for permission in group.get("IpPermissions") or []:
            for protocol, port in sorted(exp.ports):
                if not _covers(permission, protocol, port):
                    continue
                cidrs = _cidrs(permission)
                world = [c for c in cidrs if c in WORLD]
                if world:
                    open_to_world.append(f"{', '.join(world)} may reach {protocol}/{port}")
                if cidrs:
                    direct.append(f"{', '.join(cidrs)} may reach {protocol}/{port} around the load balancer")
        used_by = f" (tasks of {', '.join(sorted(exp.users))})"
        found.append(_finding("MYL.NET.1", arn, open_to_world, used_by))
        if exp.behind_balancer:
            hint = (f"; admit the load balancer's group {', '.join(sorted(exp.balancer_groups))} instead"
                    if exp.balancer_groups and direct else "")
            found.append(_finding("MYL.NET.2", arn, direct, used_by + hint))
    return found


def _finding(control_id: str, resource: str, problems: list[str], suffix: str) -> Finding:
    problems = sorted(set(problems))
    status = sh.FAILED if problems else sh.PASSED
    return Finding(sh.control(control_id), resource, status,
                   "; ".join(problems) + suffix if problems else "")
