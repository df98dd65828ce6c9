"""ECS Service Connect: what a service's serviceConnectConfiguration must agree with -- its
namespace, its task definition's named ports, the names and aliases it publishes -- checked
on CreateService and UpdateService, which moto 5.2 stores unchecked.
"""
from __future__ import annotations

import re
from typing import Any

from mylearning.emulator.fidelity.core import AwsError, AwsRequest, moto_backend, rule
from mylearning.emulator.fidelity.ecs.access import (SERVICE, _cluster, _task_definition,
                                                     invalid_parameter)
from mylearning.emulator.fidelity.ecs.rules import _existing_service

SERVICES = ("CreateService", "UpdateService")
#: API_ServiceConnectService.html, discoveryName: up to 64 characters, lowercase letters,
#: numbers, underscores and hyphens, not starting with a hyphen
DISCOVERY_NAME = re.compile(r"^(?!-)[a-z0-9_-]{1,64}$")
#: API_ServiceConnectClientAlias.html, dnsName: up to 127 characters, lowercase letters,
#: numbers, underscores, hyphens and periods, not starting with a hyphen
DNS_NAME = re.compile(r"^(?!-)[a-z0-9_.-]{1,127}$")


def _config(req: AwsRequest) -> dict | None:
    value = req.params.get("serviceConnectConfiguration")
    return value if isinstance(value, dict) and value.get("enabled") else None


def _current_config(req: AwsRequest) -> dict:
    """The Service Connect configuration of the service's primary deployment (UpdateService)."""
    service = _existing_service(req, "service") if req.operation == "UpdateService" else None
    for deployment in getattr(service, "deployments", None) or []:
        if deployment.get("status") == "PRIMARY":
            return deployment.get("serviceConnectConfiguration") or {}
    return {}


def _cluster_namespace(req: AwsRequest) -> str | None:
    cluster = _cluster(req.region, req.params.get("cluster"))
    defaults = getattr(cluster, "service_connect_defaults", None) or {}
    return defaults.get("namespace")


@rule(SERVICE, *SERVICES)
def service_connect_has_a_namespace(req: AwsRequest) -> None:
    """A service that turns Service Connect on names a namespace, unless its cluster has a
    default namespace (or, on UpdateService, the service already has one).

    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-connect-concepts.html
    ("Client services must add a serviceConnectConfiguration to configure the namespace to
    join" -- Required: Yes; "Clusters can add a default Service Connect namespace. New services
    in the cluster inherit the namespace when Service Connect is configured in a service").
    """
    config = _config(req)
    if config is None or config.get("namespace"):
        return
    if _cluster_namespace(req) or _current_config(req).get("namespace"):
        return
    raise invalid_parameter("Service Connect is enabled but no namespace is given and the "
                            f"cluster {req.params.get('cluster') or 'default'} has no default "
                            "Service Connect namespace.")


def _namespace_known(region: str, ref: str) -> bool | None:
    """Whether a Cloud Map namespace of this name or ARN exists; None if moto can't be read."""
    try:

        namespaces = moto_backend("servicediscovery", region).list_namespaces()
        return any(ref in (ns.name, ns.arn, ns.id) for ns in namespaces)
    except Exception:
        return None


@rule(SERVICE, *SERVICES)
def service_connect_namespace_exists(req: AwsRequest) -> None:
    """The namespace a service names is an existing Cloud Map namespace (a cluster's default
    namespace is one ECS creates, so it counts).

    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html and
    .../API_UpdateService.html (Errors: "NamespaceNotFoundException: The specified namespace
    wasn't found") and
    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ClusterServiceConnectDefaultsRequest.html
    (a cluster's default namespace that doesn't exist yet is created).
    """
    config = _config(req)
    ref = (config or {}).get("namespace")
    if not ref or ref == _cluster_namespace(req):
        return
    if _namespace_known(req.region, ref) is False:
        raise AwsError("NamespaceNotFoundException", f"Namespace {ref} was not found.")


def _port_names(td: Any) -> set[str]:
    return {mapping.get("name") for container in td.container_definitions or []
            for mapping in container.get("portMappings") or [] if mapping.get("name")}


@rule(SERVICE, *SERVICES)
def service_connect_ports_are_named(req: AwsRequest) -> None:
    """Each Service Connect service names a port mapping of the task definition.

    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceConnectService.html
    (portName: "The portName must match the name of one of the portMappings from all the
    containers in the task definition of this Amazon ECS service").
    """
    config = _config(req)
    services = (config or {}).get("services") or []
    if not services:
        return
    ref = req.params.get("taskDefinition")
    if not ref and req.operation == "UpdateService":
        ref = getattr(_existing_service(req, "service"), "task_definition", None)
    td = _task_definition(req.region, ref)
    if td is None:
        return
    names = _port_names(td)
    for entry in services:
        name = (entry or {}).get("portName")
        if name not in names:
            known = ", ".join(sorted(names)) or "none"
            raise invalid_parameter(f"Service Connect portName '{name}' does not match the name of "
                                    f"a port mapping in the task definition (named ports: {known}).")


@rule(SERVICE, *SERVICES)
def service_connect_names_and_aliases(req: AwsRequest) -> None:
    """Service Connect names and aliases: a discovery name of up to 64 lowercase letters,
    numbers, '_' and '-' (not starting with '-'), unique in the configuration; at most one
    client alias per service, its dnsName a valid name of up to 127 characters and its port
    0-65535.

    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceConnectService.html
    (discoveryName rules; clientAliases: "The maximum number of client aliases that you can
    have in this list is 1"),
    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceConnectClientAlias.html
    (dnsName rules; port: Valid Range 0-65535) and
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-connect-concepts.html
    ("All discovery names must be unique within a namespace"; without a discovery name the
    port name is used).
    """
    seen: set[str] = set()
    for entry in (_config(req) or {}).get("services") or []:
        entry = entry or {}
        discovery = entry.get("discoveryName")
        if discovery is not None and not DISCOVERY_NAME.match(discovery):
            raise invalid_parameter(f"Service Connect discoveryName '{discovery}' is not valid: up to "
                                    "64 lowercase letters, numbers, '_' and '-', not starting "
                                    "with '-'.")
        name = discovery or entry.get("portName")
        if name in seen:
            raise invalid_parameter(f"Service Connect discovery name '{name}' is used twice; "
                                    "discovery names must be unique within a namespace.")
        seen.add(name)
        aliases = entry.get("clientAliases") or []
        if len(aliases) > 1:
            raise invalid_parameter(f"Service Connect service '{name}' has {len(aliases)} client "
                                    "aliases; the maximum is 1.")
        for alias in aliases:
            dns, port = (alias or {}).get("dnsName"), (alias or {}).get("port")
            if dns is not None and not DNS_NAME.match(dns):
                raise invalid_parameter(f"Service Connect dnsName '{dns}' is not valid: up to 127 "
                                        "lowercase letters, numbers, '_', '-' and '.', not "
                                        "starting with '-'.")
            if isinstance(port, int) and not 0 <= port <= 65535:
                raise invalid_parameter(f"Service Connect client alias port {port} must be from 0 "
                                        "to 65535.")
