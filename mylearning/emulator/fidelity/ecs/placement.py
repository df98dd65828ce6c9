"""Where ECS puts a task: its subnet and Availability Zone, its address, its capacity provider.

moto 5.2.x put every ``awsvpc`` task in the first subnet given, with a random
10.x address outside that subnet, and gave every task the first provider of a
capacity provider strategy. ECS instead:

* spreads a service's tasks across the Availability Zones of its subnets
  (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-placement-strategies.html:
  "For tasks running as part of an Amazon ECS service, the task placement strategy is spread
  using the attribute:ecs.availability-zone"; and for Fargate, standalone tasks too:
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-placement.html,
  "By default, Fargate tasks are spread across Availability Zones");
* gives the task's network interface a private IPv4 address from its subnet, and reports the
  subnet's zone as the task's ``availabilityZone``
  (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-networking-awsvpc.html:
  each task gets an elastic network interface with a primary private IP address in the subnet);
* places the ``base`` tasks on their provider first, then the rest by ``weight``
  (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/cluster-capacity-providers.html),
  the split `mylearning.capacity.split_tasks` computes.

Each fix steps aside where moto already placed the task right.
"""
from __future__ import annotations

import copy
import ipaddress
from collections import Counter
from typing import Any, Iterable

from mylearning.capacity import split_tasks
from mylearning.emulator.fidelity.ecs.access import FARGATE_PROVIDERS, _ec2

# ---------------------------------------------------------------- capacity providers


def providers_for(strategy: list[dict], existing: Iterable[str | None], count: int) -> list[str | None]:
    """Providers for `count` more tasks, so that with `existing` ones they follow the strategy.

    Each new task goes where the split of the grown total (base first, then weights) is
    furthest ahead of what already runs, so a service scaled one task at a time ends with
    the same split as one started at full size.
    """
    if not strategy:
        return [None] * count
    have = Counter(p for p in existing if p)
    order = [s["capacityProvider"] for s in strategy]
    chosen: list[str | None] = []
    for _ in range(count):
        total = sum(have.values()) + 1
        try:
            target = split_tasks(strategy, total)
        except ValueError:  # e.g. all weights 0 beyond the base: ECS uses the first provider
            target = {order[0]: total}
        name = max(order, key=lambda p: (target.get(p, 0) - have[p], -order.index(p)))
        have[name] += 1
        chosen.append(name)
    return chosen


def same_kind(strategy: list[dict]) -> bool:
    """All Fargate providers, or all Auto Scaling group ones: moto places them the same way."""
    kinds = {s.get("capacityProvider") in FARGATE_PROVIDERS for s in strategy}
    return len(kinds) == 1


# ---------------------------------------------------------------- subnets and addresses

def _eni_details(task: Any) -> dict[str, dict] | None:
    for attachment in getattr(task, "attachments", None) or []:
        if attachment.get("type") == "ElasticNetworkInterface":
            return {d["name"]: d for d in attachment.get("details", [])}
    return None


def task_subnet(task: Any) -> str | None:
    details = _eni_details(task)
    return details["subnetId"]["value"] if details and "subnetId" in details else None


def task_ip(task: Any) -> str | None:
    details = _eni_details(task)
    return details["privateIPv4Address"]["value"] if details and "privateIPv4Address" in details else None


def spread_subnet(region: str, subnets: list[str], peers: Iterable[Any], zone: str | None = None) -> str:
    """The subnet for one more task: in the zone with fewest `peers`, then the emptiest subnet.

    Ties go to the order the subnets were given. `zone` (an EC2 container instance's zone)
    limits the choice to that zone's subnets, where there are any.
    """
    ec2 = _ec2(region)
    zones: dict[str, str] = {}
    for subnet in subnets:
        try:
            zones[subnet] = ec2.get_subnet(subnet).availability_zone
        except Exception:
            zones[subnet] = subnet  # unknown subnet: moto reports it; treat it as its own zone
    candidates = [s for s in subnets if zones[s] == zone] if zone else []
    candidates = candidates or list(subnets)
    per_subnet = Counter(task_subnet(t) for t in peers)
    per_zone: Counter = Counter()
    for subnet, n in per_subnet.items():
        per_zone[zones.get(subnet) or _zone_of(ec2, subnet)] += n
    return min(candidates, key=lambda s: (per_zone[zones[s]], per_subnet[s], subnets.index(s)))


def tasks_to_stop(tasks: list, count: int) -> list:
    """Which `count` tasks a scale-in stops: each from the zone with the most tasks left, so the
    rest stay spread (the spread strategy also decides terminations, same page as above)."""
    left, stopped = list(tasks), []
    for _ in range(max(0, min(count, len(left)))):
        zones = Counter(getattr(t, "availability_zone", None) for t in left)
        victim = max(reversed(left), key=lambda t: zones[getattr(t, "availability_zone", None)])
        left.remove(victim)
        stopped.append(victim)
    return stopped


def _zone_of(ec2: Any, subnet: str | None) -> str | None:
    try:
        return ec2.get_subnet(subnet).availability_zone if subnet else None
    except Exception:
        return None


def _taken(ec2: Any, eni: Any) -> set[str]:
    """The private addresses of every other network interface in the region, in any VPC.

    AWS may give two VPCs' interfaces the same private address (their CIDR blocks may
    overlap); the data plane, which reaches tasks by their private IPs from one edge, cannot
    tell those apart, so the embedded AWS never hands out an address already in use in
    another VPC (still an address AWS could have chosen: any free one of the subnet)."""
    return {e.private_ip_address for e in ec2.enis.values() if e is not eni and e.private_ip_address}


def _free_ip(ec2: Any, subnet: Any, eni: Any) -> str | None:
    """A free private address of the subnet (moto keeps AWS's reserved ones out), in use by no
    other interface (`_taken`); None when full."""
    taken = _taken(ec2, eni)
    try:
        while True:
            ip = subnet.get_available_subnet_ip(eni)
            if ip not in taken:
                return ip
    except (StopIteration, RuntimeError):
        return None


def address_in_subnet(task: Any, region: str) -> None:
    """Give the task's network interface an address of its subnet and the task the subnet's zone."""
    details = _eni_details(task)
    if not details or "networkInterfaceId" not in details:
        return
    ec2 = _ec2(region)
    try:
        eni = ec2.get_network_interface(details["networkInterfaceId"]["value"])
    except Exception:
        return
    subnet = eni.subnet
    task.availability_zone = subnet.availability_zone
    current = eni.private_ip_address
    if current and ipaddress.ip_address(current) in subnet.cidr and current not in _taken(ec2, eni):
        return  # moto placed it right
    ip = _free_ip(ec2, subnet, eni)
    if ip is None:
        return
    eni.private_ip_address = ip
    eni.private_ip_addresses = [{"Primary": True, "PrivateIpAddress": ip}]
    if getattr(eni, "private_dns_name", None):
        from moto.ec2.utils import generate_dns_from_ip
        eni.private_dns_name = generate_dns_from_ip(ip)
    details["privateIPv4Address"]["value"] = ip
    if "privateDnsName" in details:
        details["privateDnsName"]["value"] = getattr(eni, "private_dns_name", None)


def release(task: Any) -> None:
    """A stopped task's network interface is deleted and its address freed; the attachment says so.

    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-lifecycle-explanation.html
    (DEPROVISIONING: the task's network interface is detached and deleted).
    """
    for attachment in getattr(task, "attachments", None) or []:
        if attachment.get("type") != "ElasticNetworkInterface" or attachment.get("status") == "DELETED":
            continue
        attachment["status"] = "DELETED"
        details = {d["name"]: d["value"] for d in attachment.get("details", [])}
        ec2 = _ec2(task.region_name)
        try:
            eni = ec2.get_network_interface(details.get("networkInterfaceId"))
        except Exception:
            continue
        eni.subnet.del_subnet_ip(eni.private_ip_address)
        ec2.enis.pop(eni.id, None)


# ---------------------------------------------------------------- moto fixes

def _instance_zone(backend: Any, cluster: Any, arn: str | None) -> str | None:
    if not arn:
        return None
    instance = backend.container_instances.get(cluster.name, {}).get(arn)
    return (getattr(instance, "attributes", None) or {}).get("ecs.availability-zone")


def _fix_task_placement() -> None:
    """awsvpc tasks: spread across the given subnets' zones, with an address of their subnet."""
    from moto.ecs.models import Task

    task_init = Task.__init__

    def init(self: Any, cluster: Any, task_definition: Any, *args: Any, **kwargs: Any) -> None:
        net = kwargs.get("networking_configuration")
        subnets = list(((net or {}).get("awsvpcConfiguration") or {}).get("subnets") or [])
        backend = kwargs.get("backend") or (args[2] if len(args) > 2 else None)
        if task_definition.network_mode == "awsvpc" and len(subnets) > 1 and backend is not None:
            group, started_by = kwargs.get("group"), kwargs.get("started_by", "")
            peers = [t for t in backend.tasks.get(cluster.name, {}).values()
                     if t.group == group and t.started_by == started_by
                     and t.desired_status == "RUNNING"]
            instance_arn = kwargs.get("container_instance_arn") or (args[0] if args else None)
            chosen = spread_subnet(cluster.region_name, subnets, peers,
                                   _instance_zone(backend, cluster, instance_arn))
            if chosen != subnets[0]:
                moved = copy.deepcopy(net)
                moved["awsvpcConfiguration"]["subnets"] = [chosen] + [s for s in subnets if s != chosen]
                kwargs["networking_configuration"] = moved
        task_init(self, cluster, task_definition, *args, **kwargs)
        if task_definition.network_mode == "awsvpc":
            address_in_subnet(self, cluster.region_name)
            if net is not None:
                self.network_configuration = net  # as the caller gave it

    Task.__init__ = init


def _fix_run_task_capacity_providers() -> None:
    """run_task gave every task the strategy's first provider; ECS splits them by base and weight.

    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CapacityProviderStrategyItem.html
    """
    from moto.ecs.models import EC2ContainerServiceBackend as B

    run_task = B.run_task

    def run(self: Any, cluster_str: str, task_definition_str: str, count: int, overrides: Any,
            started_by: str, tags: Any, launch_type: str | None, *args: Any, **kwargs: Any) -> list:
        tasks = run_task(self, cluster_str, task_definition_str, count, overrides, started_by,
                         tags, launch_type, *args, **kwargs)
        names = ("networking_configuration", "group", "platform_version",
                 "capacity_provider_strategy")
        strategy = dict(zip(names, args), **kwargs).get("capacity_provider_strategy")
        if not strategy and not launch_type:
            cluster = self.clusters.get(cluster_str.split("/")[-1])
            strategy = cluster.default_capacity_provider_strategy if cluster else None
        if strategy and len(strategy) > 1 and same_kind(strategy):
            for task, name in zip(tasks, providers_for(strategy, [], len(tasks))):
                task.capacity_provider_name = name
        return tasks

    B.run_task = run
