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


def tags_of(sd: Any, arn: str) -> list[dict]:
    return sd.list_tags_for_resource(ResourceARN=arn).get("Tags", [])


def find_namespace(session: Any, name: str) -> dict | None:
    """The course's private DNS namespace called `name` (with its Tags), or None."""
    sd = session.client("servicediscovery")
    for page in sd.get_paginator("list_namespaces").paginate():
        for namespace in page["Namespaces"]:
            if namespace["Name"] == name and namespace.get("Type") == "DNS_PRIVATE":
                found = dict(namespace, Tags=tags_of(sd, namespace["Arn"]))
                if lookup.is_course_tagged(found, session):
                    return found
    return None


def services(session: Any, namespace_id: str, name: str | None = None) -> list[dict]:
    """The namespace's Cloud Map services (only those called `name`, if given), in full.

    Each one is confirmed by its NamespaceId (GetService) as well as by the ListServices
    filter: the summaries ListServices returns do not name their namespace, and a
    grader must never pick up another learner's service of the same name.
    """
    sd = session.client("servicediscovery")
    found: list[dict] = []
    for page in sd.get_paginator("list_services").paginate(
            Filters=[{"Name": "NAMESPACE_ID", "Values": [namespace_id], "Condition": "EQ"}]):
        for item in page["Services"]:
            if name is not None and item["Name"] != name:
                continue
            full = sd.get_service(Id=item["Id"])["Service"]
            if full.get("NamespaceId") == namespace_id:
                found.append(full)
    return found


def find_service(session: Any, namespace_id: str, name: str) -> dict | None:
    """The Cloud Map service `name` in the namespace, with its full settings and Tags."""
    sd = session.client("servicediscovery")
    for full in services(session, namespace_id, name):
        return dict(full, Tags=tags_of(sd, full["Arn"]))
    return None


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
    found = find_namespace(session, name)
    if found is None:
        sd = session.client("servicediscovery")
        operation = sd.create_private_dns_namespace(
            Name=name, Vpc=vpc_id, Description="MyLearning service-to-service discovery",
            Tags=session.tags(lab))
        wait_for_operation(sd, operation["OperationId"])
        found = find_namespace(session, name)
    return found


def dns_config(ttl: int = 15) -> dict:
    """A records (awsvpc tasks have their own IP), answered with every healthy task (MULTIVALUE)."""
    return {"RoutingPolicy": "MULTIVALUE", "DnsRecords": [{"Type": "A", "TTL": ttl}]}


def ensure_service(session: Any, lab: str, namespace_id: str, name: str, ttl: int = 15) -> dict:
    """A Cloud Map service for ECS to register tasks in; ECS reports their health (custom check)."""
    found = find_service(session, namespace_id, name)
    if found is None:
        session.client("servicediscovery").create_service(
            Name=name, NamespaceId=namespace_id, DnsConfig=dns_config(ttl),
            HealthCheckCustomConfig={"FailureThreshold": 1}, Tags=session.tags(lab))
        found = find_service(session, namespace_id, name)
    return found
