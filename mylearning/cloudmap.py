"""AWS Cloud Map for service-to-service discovery: a private DNS namespace and its services.

ECS registers each task's IP address in the Cloud Map service named in the ECS
service's `serviceRegistries`, and removes it when the task stops, so the
enrollment service reaches the courses API at `courses-api.<namespace>` without
going through the public load balancer.
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-discovery.html

Namespace creation is asynchronous (it creates a Route 53 private hosted zone):
CreatePrivateDnsNamespace returns an operation id to wait on.
"""
from __future__ import annotations

import time
from typing import Any

from mylearning import lookup


def namespace_name(session: Any) -> str:
    """The learner's private DNS namespace, e.g. ``ml-alice.internal``."""
    return f"{session.prefix}.internal"


def wait_for_operation(sd: Any, operation_id: str, timeout: float = 300, delay: float = 2) -> dict:
    """Poll a Cloud Map operation until it succeeds; raise with AWS's reason if it fails."""
    deadline = time.monotonic() + timeout
    while True:
        operation = sd.get_operation(OperationId=operation_id)["Operation"]
        if operation["Status"] == "SUCCESS":
            return operation
        if operation["Status"] == "FAIL":
            raise RuntimeError(f"Cloud Map operation failed: {operation.get('ErrorMessage')}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"Cloud Map operation {operation_id} still {operation['Status']}")
        time.sleep(delay)


def ensure_private_namespace(session: Any, lab: str, name: str, vpc_id: str) -> dict:
    found = lookup.namespace(session, name)
    if found is None:
        sd = session.client("servicediscovery")
        operation = sd.create_private_dns_namespace(
            Name=name, Vpc=vpc_id, Description="MyLearning service-to-service discovery",
            Tags=session.tags(lab))
        wait_for_operation(sd, operation["OperationId"])
        found = lookup.namespace(session, name)
    return found


def dns_config(ttl: int = 15) -> dict:
    """A records (awsvpc tasks have their own IP), answered with every healthy task (MULTIVALUE)."""
    return {"RoutingPolicy": "MULTIVALUE", "DnsRecords": [{"Type": "A", "TTL": ttl}]}


def ensure_service(session: Any, lab: str, namespace_id: str, name: str, ttl: int = 15) -> dict:
    """A Cloud Map service for ECS to register tasks in; ECS reports their health (custom check)."""
    found = lookup.discovery_service(session, namespace_id, name)
    if found is None:
        session.client("servicediscovery").create_service(
            Name=name, NamespaceId=namespace_id, DnsConfig=dns_config(ttl),
            HealthCheckCustomConfig={"FailureThreshold": 1}, Tags=session.tags(lab))
        found = lookup.discovery_service(session, namespace_id, name)
    return found


def resolve(session: Any, name: str) -> list[str]:
    """The IPv4 addresses a task would get for ``service.namespace`` (``courses-api.ml-alice.internal``):
    the service's healthy instances, or all of them when none is healthy, as Route 53 answers
    for a Cloud Map service (DiscoverInstances ``HEALTHY_OR_ELSE_ALL``,
    https://docs.aws.amazon.com/cloud-map/latest/api/API_DiscoverInstances.html). Your
    notebook cannot ask the private DNS itself: only resources in the namespace's VPC can."""
    service, _, namespace = name.rstrip(".").partition(".")
    if not namespace:
        raise ValueError(f"{name!r} is not service.namespace (for example courses-api.{namespace_name(session)})")
    found = session.client("servicediscovery").discover_instances(
        NamespaceName=namespace, ServiceName=service, HealthStatus="HEALTHY_OR_ELSE_ALL")["Instances"]
    return [i["Attributes"]["AWS_INSTANCE_IPV4"] for i in found if i.get("Attributes", {}).get("AWS_INSTANCE_IPV4")]

