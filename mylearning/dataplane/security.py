"""Security groups, enforced between the data plane's endpoints.

Every connection the data plane carries -- from the internet (the learner's kernel, through
the edge) to a load balancer or a task, from a task to another task or a load balancer, and
from a load balancer to its targets (requests and health checks) -- is let through only
when EC2 says so, as AWS decides it
(https://docs.aws.amazon.com/vpc/latest/userguide/vpc-security-groups.html,
https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html):

* the destination's security groups must have an **inbound** rule that allows the source,
  and the source's groups an **outbound** rule that allows the destination ("security groups
  are stateful": the answers of an allowed connection always flow back);
* a rule matches on its protocol (``-1`` is all traffic; ``tcp`` or ``6`` with ``FromPort``
  to ``ToPort``: every connection here is TCP) and on its source or destination: a CIDR
  block (``IpRanges``) that holds the other side's address, or a security group
  (``UserIdGroupPairs``) the other side's network interface is in. Rules are permissive
  only: if any rule of any group allows the traffic, it flows; otherwise it is dropped (a
  group has no deny rule, and a dropped connection is never answered);
* a task in ``awsvpc`` mode has its own network interface with the groups of its
  ``awsvpcConfiguration`` (the VPC's default group when none is given:
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-networking-awsvpc.html);
  its addresses and groups are read from ``DescribeNetworkInterfaces``, like any client;
* a load balancer's groups are those ``DescribeLoadBalancers`` gives (the VPC's default
  group when it has none); its nodes have addresses in its subnets, so a CIDR rule allows it
  when the rule's block holds a whole subnet of the balancer; an ``internal`` load balancer
  has only private addresses and the internet cannot reach it at all
  (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html#load-balancer-scheme);
* the learner's kernel stands for the internet: source address `INTERNET` (an RFC 5737
  documentation address, as in the ALB's ``X-Forwarded-For``), in no security group.

What it cannot know it allows (over-strict is a bug too): a destination without a network
interface in EC2 (a task in ``bridge`` or ``host`` mode on an instance, whose instance
groups are not modelled), rules naming prefix lists, and IPv6 sources (every address here
is IPv4).

Freshness: EC2 is read through the API at most once a second while traffic flows; a
connection the cached view would drop is decided again on a fresh read first, so a rule the
learner has just added lets the next connection through at once. A connection already open
is not cut by a later change, as AWS tracks it
(https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/security-group-connection-tracking.html).
"""
from __future__ import annotations

import asyncio
import ipaddress
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional

if TYPE_CHECKING:
    from mylearning.dataplane.agent import TaskAgent

#: Stands for the learner's machine on the internet (RFC 5737 documentation address).
INTERNET = "203.0.113.10"
#: Seconds a read of EC2 is used for connections it allows.
FRESH = 1.0


@dataclass(frozen=True)
class Endpoint:
    """One side of a connection, as security group rules see it."""
    #: The IPv4 address the other side sees (a task's private IP, `INTERNET`).
    ip: Optional[str]
    groups: frozenset = frozenset()
    #: A load balancer's subnets' CIDR blocks (its nodes' addresses are somewhere in them).
    networks: tuple = ()
    internet: bool = False
    #: False when EC2 does not describe it: nothing is enforced for it.
    known: bool = True
    name: str = ""


UNKNOWN = Endpoint(None, known=False)
THE_INTERNET = Endpoint(INTERNET, internet=True, name="the internet")


def _within(other: Endpoint, cidr: str) -> bool:
    try:
        block = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False
    if block.prefixlen == 0:
        return True  # 0.0.0.0/0 holds every address, whoever the other side is
    if other.ip is not None:
        try:
            return ipaddress.ip_address(other.ip) in block
        except ValueError:
            return False
    for network in other.networks:
        try:
            net = ipaddress.ip_network(network, strict=False)
        except ValueError:
            continue
        if net.version == block.version and net.subnet_of(block):
            return True
    return False


def rule_matches(permission: dict, other: Endpoint, port: int) -> bool:
    """One rule (an ``IpPermissions`` item) against the other side of a TCP connection to ``port``."""
    protocol = str(permission.get("IpProtocol", "")).lower()
    if protocol not in ("-1", "all", "tcp", "6"):
        return False  # udp, icmp, ...: never a TCP connection
    if protocol in ("tcp", "6"):
        low, high = permission.get("FromPort"), permission.get("ToPort")
        if low is not None and high is not None and int(low) != -1 and not int(low) <= port <= int(high):
            return False
    if any(_within(other, r.get("CidrIp", "")) for r in permission.get("IpRanges") or []):
        return True
    return any(pair.get("GroupId") in other.groups for pair in permission.get("UserIdGroupPairs") or [])


def allowed(rules: dict[str, dict], source: Endpoint, destination: Endpoint, port: int) -> bool:
    """Whether a TCP connection from source to destination:port flows (`rules`: group id ->
    ``DescribeSecurityGroups`` item). Pure: the module docstring has the rules."""
    # A side none of whose groups EC2 described (deleted meanwhile, say) is not enforced.
    if destination.known and not destination.internet and any(g in rules for g in destination.groups):
        if not any(rule_matches(p, source, port) for g in destination.groups
                   for p in (rules.get(g) or {}).get("IpPermissions", [])):
            return False
    if source.known and not source.internet and any(g in rules for g in source.groups):
        if not any(rule_matches(p, destination, port) for g in source.groups
                   for p in (rules.get(g) or {}).get("IpPermissionsEgress", [])):
            return False
    return True


@dataclass
class _View:
    """What EC2 said, across the agent's regions."""
    read_at: float = 0.0
    groups: dict[str, dict] = field(default_factory=dict)
    #: private IPv4 -> (group ids, VPC id)
    interfaces: dict[str, tuple[frozenset, str]] = field(default_factory=dict)
    subnets: dict[str, str] = field(default_factory=dict)   # subnet id -> CIDR block
    defaults: dict[str, str] = field(default_factory=dict)  # VPC id -> its default group


class SecurityGroups:
    """Admission for the edge and the load balancers, from EC2's security groups.

    ``balancers`` (`alb.balancer.Balancers`) tells which loopback address is which load
    balancer, and the agent's routes which is which task.
    """

    def __init__(self, agent: "TaskAgent", balancers: Any = None) -> None:
        self.agent = agent
        self.balancers = balancers
        self._view = _View()
        self._reading: Optional[asyncio.Future] = None
        self.counts = {"allowed": 0, "dropped": 0, "reads": 0}

    # ------------------------------------------------------------ reading EC2

    async def _pages(self, region: str, operation: str, key: str) -> list:
        found: list = []
        token = None
        while True:
            page = await self.agent.control.call("ec2", region, operation,
                                                 **({"NextToken": token} if token else {}))
            found += page.get(key, [])
            token = page.get("NextToken")
            if not token:
                return found

    async def _read(self) -> _View:
        view = _View(read_at=time.monotonic())
        for region in sorted(self.agent.regions):
            groups, interfaces, subnets = await asyncio.gather(
                self._pages(region, "describe_security_groups", "SecurityGroups"),
                self._pages(region, "describe_network_interfaces", "NetworkInterfaces"),
                self._pages(region, "describe_subnets", "Subnets"))
            for group in groups:
                view.groups[group["GroupId"]] = group
                if group.get("GroupName") == "default" and group.get("VpcId"):
                    view.defaults[group["VpcId"]] = group["GroupId"]
            for eni in interfaces:
                ids = frozenset(g["GroupId"] for g in eni.get("Groups") or [])
                for address in eni.get("PrivateIpAddresses") or [{"PrivateIpAddress": eni.get("PrivateIpAddress")}]:
                    if address.get("PrivateIpAddress"):
                        view.interfaces[address["PrivateIpAddress"]] = (ids, eni.get("VpcId", ""))
            view.subnets.update({s["SubnetId"]: s["CidrBlock"] for s in subnets if s.get("CidrBlock")})
        self.counts["reads"] += 1
        return view

    async def view(self, fresh: bool = False) -> _View:
        """EC2's view, read again when older than `FRESH` (or, when `fresh`, by a read that
        began after this call: one already under way may predate the change that matters);
        one read at a time serves every connection that waits for it."""
        asked = time.monotonic()
        if not fresh and asked - self._view.read_at < FRESH:
            return self._view
        while True:
            if self._reading is None or self._reading.done():
                self._reading = asyncio.ensure_future(self._read())
            reading = self._reading
            try:
                self._view = await asyncio.shield(reading)
            except Exception as exc:
                self.agent.log(f"could not read security groups: {type(exc).__name__}: {exc}")
                return self._view
            if not fresh or self._view.read_at >= asked:
                return self._view

    # ------------------------------------------------------------ who is who

    def _task(self, view: _View, private_ip: str) -> Endpoint:
        found = view.interfaces.get(private_ip)
        if found is None:
            return Endpoint(private_ip, known=False)
        ids, vpc = found
        if not ids and vpc in view.defaults:
            ids = frozenset({view.defaults[vpc]})
        return Endpoint(private_ip, ids, name=f"the task at {private_ip}")

    def _balancer(self, view: _View, lb: Any) -> Endpoint:
        ids = frozenset(lb.security_groups or ())
        if not ids and getattr(lb, "vpc", None) in view.defaults:
            ids = frozenset({view.defaults[lb.vpc]})
        networks = tuple(view.subnets[s] for s in getattr(lb, "subnets", ()) if s in view.subnets)
        return Endpoint(None, ids, networks=networks, name=f"load balancer {lb.name}")

    def endpoint(self, view: _View, address: str) -> Endpoint:
        """Who listens or connects at a loopback address: a task, a load balancer, or the
        internet (any other address: the kernel, a tool on the learner's machine)."""
        for private, loopback in self.agent.routes.items():
            if loopback == address:
                return self._task(view, private)
        lb = self._is_balancer(address)
        return self._balancer(view, lb) if lb is not None else THE_INTERNET

    # ------------------------------------------------------------ decisions

    async def admit(self, source: str, host: str, port: int, served: str) -> bool:
        """The edge's question: may the client at loopback `source` reach `host:port`, which
        the loopback address `served` answers for?"""
        return await self._decide(lambda view: (self.endpoint(view, source), self.endpoint(view, served)),
                                  port, served_by_balancer=self._is_balancer(served))

    async def balancer_may_reach(self, lb_arn: str, target_ip: str, port: int) -> bool:
        """May load balancer `lb_arn` open a connection to its target `target_ip:port`?"""
        if self.balancers is None or lb_arn not in self.balancers.balancers:
            return True
        lb = self.balancers.balancers[lb_arn]
        return await self._decide(lambda view: (self._balancer(view, lb), self._task(view, target_ip)), port)

    def _is_balancer(self, address: str) -> Optional[Any]:
        if self.balancers is None:
            return None
        for arn, loopback in self.balancers.addresses.items():
            if loopback == address:
                return self.balancers.balancers.get(arn)
        return None

    async def _decide(self, sides: Any, port: int, served_by_balancer: Any = None) -> bool:
        for fresh in (False, True):
            view = await self.view(fresh=fresh)
            source, destination = sides(view)
            if served_by_balancer is not None and source.internet and \
                    getattr(served_by_balancer, "scheme", "internet-facing") == "internal":
                ok = False  # an internal load balancer has no address on the internet
            else:
                ok = allowed(view.groups, source, destination, port)
            # A group the cached view does not know (just created) is read before it lets anything through.
            unknown = any(g not in view.groups for g in source.groups | destination.groups)
            if ok and (fresh or not unknown):
                self.counts["allowed"] += 1
                return True
        self.counts["dropped"] += 1
        return False

