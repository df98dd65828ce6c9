"""Names and private IPs, as a task or the internet would resolve them, to loopback addresses.

A private IP that `describe_tasks` reports maps to the loopback address of the task
(`TaskAgent.routes`); an Application Load Balancer's DNS name to the address and port its
listener is served on (`alb.balancer.Balancers.resolve`). A name in a Cloud Map namespace (``courses-api.mylearning.local``)
resolves as Route 53 answers for a namespace's service: to the IPv4 addresses of its
registered instances (https://docs.aws.amazon.com/cloud-map/latest/api/API_DiscoverInstances.html),
read through the Cloud Map API and kept for one second, the way a short DNS TTL would.
Like Route 53, it answers with the healthy instances, or with all of them when none is
healthy (DiscoverInstances ``HEALTHY_OR_ELSE_ALL``).
"""
from __future__ import annotations

import random
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mylearning.dataplane.agent import TaskAgent

TTL = 1.0


class Resolver:
    def __init__(self, agent: "TaskAgent", balancers: Any = None) -> None:
        self.agent = agent
        #: The data plane's load balancers (`alb.balancer.Balancers`): their DNS names.
        self.balancers = balancers
        self._cache: dict[str, tuple[float, list[str]]] = {}
        #: The App Mesh Envoy management service (`mesh_management.MeshManagement`), by its name.
        self.management: Any = None
        #: CloudWatch's and X-Ray's regional endpoints for the tasks (`monitoring.Monitoring`), by name.
        self.monitoring: Any = None
        #: The task role's credentials endpoint and AWS's service endpoints (`task_aws.TaskAws`).
        self.task_aws: Any = None

    async def discover(self, name: str) -> list[str]:
        cached = self._cache.get(name)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        service, _, namespace = name.partition(".")
        addresses: list[str] = []
        if namespace:
            for region in sorted(self.agent.regions):
                try:
                    answer = await self.agent.control.call(
                        "servicediscovery", region, "discover_instances",
                        NamespaceName=namespace, ServiceName=service, HealthStatus="HEALTHY_OR_ELSE_ALL")
                except Exception:
                    continue
                addresses += [i.get("Attributes", {}).get("AWS_INSTANCE_IPV4")
                              for i in answer.get("Instances", [])]
        addresses = [a for a in addresses if a]
        self._cache[name] = (time.monotonic() + TTL, addresses)
        return addresses

    async def resolve(self, host: str, port: int) -> tuple[str, int] | None:
        host = host.strip("[]").lower()
        routes = self.agent.routes
        # A connection from outside a task to an app port of its App Mesh proxy lands on the
        # proxy's ingress port (interception.py).
        if host in routes:
            return routes[host], self.agent.inbound_port(routes[host], port)
        if self.agent.addresses.owns(host):
            return host, self.agent.inbound_port(host, port)
        if self.management is not None:
            served = self.management.resolve(host, port)
            if served is not None:
                return served
        if self.monitoring is not None:
            served = self.monitoring.resolve(host, port)
            if served is not None:
                return served
        if self.task_aws is not None:
            served = self.task_aws.resolve(host, port)
            if served is not None:
                return served
        if self.balancers is not None:
            served = self.balancers.resolve(host, port)
            if served is not None:
                return served
        if any(c.isalpha() for c in host):
            candidates = [routes[a] for a in await self.discover(host) if a in routes]
            if candidates:
                chosen = random.choice(candidates)
                return chosen, self.agent.inbound_port(chosen, port)
        return None
