"""AWS Cloud Map: DNS record types, routing policies, health checks and instance attributes.

moto 5.2 stores any combination it is given: a CNAME service with MULTIVALUE routing,
both kinds of health check, a Route 53 health check in a private namespace, an
A-record instance without an IPv4 address; and deletes services that still have
instances and namespaces that still have services. AWS answers each with InvalidInput
(or ResourceInUse), as the pages cited below state.
"""
from __future__ import annotations

from collections import Counter
from typing import Any

from mylearning.emulator.fidelity.core import AwsError, AwsRequest, rule
from mylearning.emulator.fidelity.servicediscovery.access import (
    SERVICE, backend, namespace, record_types, service)

#: "You can specify values for Type in the following combinations: A, AAAA, A and AAAA,
#: SRV, CNAME" (API_DnsRecord.html, Type).
RECORD_COMBINATIONS = (Counter({"A": 1}), Counter({"AAAA": 1}), Counter({"A": 1, "AAAA": 1}),
                       Counter({"SRV": 1}), Counter({"CNAME": 1}))
INSTANCE_ADDRESS_ATTRIBUTES = ("AWS_INSTANCE_IPV4", "AWS_INSTANCE_IPV6", "AWS_INSTANCE_PORT",
                               "AWS_INSTANCE_CNAME")


def invalid_input(message: str) -> AwsError:
    return AwsError("InvalidInput", message, 400)


def _namespace_of(req: AwsRequest) -> Any:
    dns = req.params.get("DnsConfig")
    nid = req.params.get("NamespaceId") or (dns.get("NamespaceId") if isinstance(dns, dict) else None)
    return namespace(req.region, nid)


# ---------------------------------------------------------------- CreateService, UpdateService

def check_dns_and_health(dns: Any, health: Any, namespace_type: str | None) -> None:
    """The DnsConfig and HealthCheckConfig rules CreateService and UpdateService share."""
    types = record_types(dns)
    if types and Counter(types) not in RECORD_COMBINATIONS:
        raise invalid_input(f"DnsRecords {types} is not a supported combination of record types: "
                            "A, AAAA, A and AAAA, SRV, or CNAME.")
    policy = dns.get("RoutingPolicy") if isinstance(dns, dict) else None
    if "CNAME" in types and policy == "MULTIVALUE":
        raise invalid_input("A CNAME record requires the WEIGHTED routing policy, not MULTIVALUE.")
    if not isinstance(health, dict):
        return
    if "CNAME" in types:
        raise invalid_input("You can't specify HealthCheckConfig for a service with a CNAME record.")
    if health.get("Type") == "TCP" and health.get("ResourcePath") is not None:
        raise invalid_input("ResourcePath can't be specified for a TCP health check.")
    if namespace_type == "DNS_PRIVATE":
        raise invalid_input("HealthCheckConfig (a Route 53 health check) is supported only for public "
                            "DNS and HTTP namespaces; use HealthCheckCustomConfig in a private DNS "
                            "namespace.")


@rule(SERVICE, "CreateService")
def service_configuration_consistent(req: AwsRequest) -> None:
    """A service's record types, routing policy and health check fit together.

    https://docs.aws.amazon.com/cloud-map/latest/api/API_CreateService.html (HealthCheckConfig
    and HealthCheckCustomConfig: "you can specify either HealthCheckCustomConfig or
    HealthCheckConfig but not both"; HealthCheckConfig: "Public DNS and HTTP namespaces only");
    https://docs.aws.amazon.com/cloud-map/latest/api/API_DnsRecord.html (Type: the supported
    combinations; CNAME: "You must specify WEIGHTED for the value of RoutingPolicy", "You can't
    specify both CNAME for Type and settings for HealthCheckConfig. If you do, the request will
    fail with an InvalidInput error");
    https://docs.aws.amazon.com/cloud-map/latest/api/API_HealthCheckConfig.html (ResourcePath:
    "If you specify TCP for Type, you must not specify a value for ResourcePath");
    https://docs.aws.amazon.com/cloud-map/latest/dg/services-values.html ("Route 53 health check
    (not supported for private DNS namespaces)"). A routing policy left out is not checked: the
    pages don't name its default.
    """
    health, custom = req.params.get("HealthCheckConfig"), req.params.get("HealthCheckCustomConfig")
    if health is not None and custom is not None:
        raise invalid_input("You can specify either HealthCheckConfig or HealthCheckCustomConfig, "
                            "but not both.")
    found = _namespace_of(req)
    check_dns_and_health(req.params.get("DnsConfig"), health, getattr(found, "type", None))


@rule(SERVICE, "UpdateService")
def service_update_consistent(req: AwsRequest) -> None:
    """UpdateService keeps a service's record types and health check kind; its other checks
    are CreateService's.

    https://docs.aws.amazon.com/cloud-map/latest/api/API_UpdateService.html ("You can't call
    UpdateService and update settings ... When the service is associated with an HTTP
    namespace"); https://docs.aws.amazon.com/cloud-map/latest/api/API_DnsConfig.html
    (DnsRecords: "The record type of a service specified in a DnsRecord object can't be
    updated. To change a record type, you need to delete the service and recreate it");
    API_CreateService.html (HealthCheckCustomConfig: "You can't add, update, or delete a
    HealthCheckCustomConfig configuration from an existing service", and not both kinds).
    """
    found = service(req.region, req.params.get("Id"))
    change = req.params.get("Service")
    if found is None or not isinstance(change, dict):
        return
    owner = namespace(req.region, found.namespace_id)
    owner_type = getattr(owner, "type", None)
    if owner_type == "HTTP":
        raise invalid_input("You can't update a service in an HTTP namespace.")
    dns = change.get("DnsConfig")
    new_types, old_types = record_types(dns), record_types(found.dns_config)
    if new_types and old_types and Counter(new_types) != Counter(old_types):
        raise invalid_input(f"The record types of a service can't be updated: it has {old_types}, "
                            f"the update names {new_types}. Delete the service and recreate it.")
    health = change.get("HealthCheckConfig")
    if health is not None and found.health_check_custom_config is not None:
        raise invalid_input("The service has HealthCheckCustomConfig: you can specify either "
                            "HealthCheckCustomConfig or HealthCheckConfig, but not both.")
    existing = found.dns_config or {}
    effective = {"RoutingPolicy": existing.get("RoutingPolicy"),
                 "DnsRecords": (dns or {}).get("DnsRecords") or existing.get("DnsRecords") or []}
    check_dns_and_health(effective, health, owner_type)


# ---------------------------------------------------------------- RegisterInstance

def instance_problem(attributes: dict, dns: Any, health: Any, namespace_type: str | None) -> str | None:
    """What AWS would reject in a RegisterInstance's attributes for this service, or None."""
    types = set(record_types(dns))
    policy = dns.get("RoutingPolicy") if isinstance(dns, dict) else None
    has = {key for key, value in attributes.items() if value not in (None, "")}
    if "AWS_ALIAS_DNS_NAME" in has:
        if not types & {"A", "AAAA"}:
            return "AWS_ALIAS_DNS_NAME requires a service with an A or AAAA record."
        if policy == "MULTIVALUE":
            return "AWS_ALIAS_DNS_NAME requires a service whose RoutingPolicy is WEIGHTED, not MULTIVALUE."
        extra = sorted(has & set(INSTANCE_ADDRESS_ATTRIBUTES))
        if extra:
            return f"If you specify AWS_ALIAS_DNS_NAME, don't specify {', '.join(extra)}."
        return None
    if "AWS_EC2_INSTANCE_ID" in has:
        if namespace_type != "HTTP":
            return "AWS_EC2_INSTANCE_ID is supported for HTTP namespaces only."
        extra = sorted(has - {"AWS_EC2_INSTANCE_ID", "AWS_INIT_HEALTH_STATUS"})
        if extra:
            return ("With AWS_EC2_INSTANCE_ID, the only other attribute that can be specified is "
                    f"AWS_INIT_HEALTH_STATUS, not {', '.join(extra)}.")
        return None
    if types == {"A"} and "AWS_INSTANCE_IPV4" not in has:
        return "AWS_INSTANCE_IPV4 is required: the service has an A record."
    if types == {"AAAA"} and "AWS_INSTANCE_IPV6" not in has:
        return "AWS_INSTANCE_IPV6 is required: the service has an AAAA record."
    if types == {"A", "AAAA"} and not has & {"AWS_INSTANCE_IPV4", "AWS_INSTANCE_IPV6"}:
        return "AWS_INSTANCE_IPV4, AWS_INSTANCE_IPV6 or both are required: the service has A and AAAA records."
    if "SRV" in types and not has & {"AWS_INSTANCE_IPV4", "AWS_INSTANCE_IPV6"}:
        return "AWS_INSTANCE_IPV4, AWS_INSTANCE_IPV6 or both are required: the service has an SRV record."
    if "CNAME" in types and "AWS_INSTANCE_CNAME" not in has:
        return "AWS_INSTANCE_CNAME is required: the service has a CNAME record."
    if ("SRV" in types or isinstance(health, dict)) and "AWS_INSTANCE_PORT" not in has:
        return ("AWS_INSTANCE_PORT is required: the service has an SRV record or a Route 53 "
                "health check.")
    return None


@rule(SERVICE, "RegisterInstance")
def instance_attributes_fit_the_service(req: AwsRequest) -> None:
    """An instance carries the attributes its service's records and health check need.

    https://docs.aws.amazon.com/cloud-map/latest/api/API_RegisterInstance.html (Attributes:
    AWS_INSTANCE_IPV4 "is required if the service ... includes settings for an A record",
    AWS_INSTANCE_IPV6 likewise for AAAA, "If the service includes settings for an SRV record,
    you must specify a value for AWS_INSTANCE_IPV4, AWS_INSTANCE_IPV6, or both";
    AWS_INSTANCE_CNAME "is required if the service ... includes settings for an CNAME record";
    AWS_INSTANCE_PORT "is required if you specified settings for an SRV record or a Route 53
    health check"; AWS_ALIAS_DNS_NAME needs A or AAAA records and WEIGHTED routing, and "don't
    specify values for any of the AWS_INSTANCE attributes"; AWS_EC2_INSTANCE_ID: "HTTP namespaces
    only", "the only other attribute that can be specified is AWS_INIT_HEALTH_STATUS");
    https://docs.aws.amazon.com/cloud-map/latest/dg/services-values.html ("If you specify A and
    AAAA record types, you can specify an IPv4 IP address, an IPv6 IP address, or both").
    """
    found = service(req.region, req.params.get("ServiceId"))
    attributes = req.params.get("Attributes")
    if found is None or not isinstance(attributes, dict):
        return
    owner = namespace(req.region, found.namespace_id)
    problem = instance_problem(attributes, found.dns_config, found.health_check_config,
                               getattr(owner, "type", None))
    if problem:
        raise invalid_input(problem)


# ---------------------------------------------------------------- deletes

@rule(SERVICE, "DeleteService")
def delete_only_an_empty_service(req: AwsRequest) -> None:
    """A service with registered instances can't be deleted.

    https://docs.aws.amazon.com/cloud-map/latest/api/API_DeleteService.html ("If the service
    still contains one or more registered instances, the request fails"; Errors: ResourceInUse,
    "you can't delete a service that contains any instances").
    """
    found = service(req.region, req.params.get("Id"))
    if found is not None and found.instances:
        raise AwsError("ResourceInUse", f"Service {found.id} has {len(found.instances)} registered "
                       "instance(s): deregister them before deleting the service.", 400)


@rule(SERVICE, "DeleteNamespace")
def delete_only_an_empty_namespace(req: AwsRequest) -> None:
    """A namespace that still contains services can't be deleted.

    https://docs.aws.amazon.com/cloud-map/latest/api/API_DeleteNamespace.html ("If the namespace
    still contains one or more services, the request fails"; Errors: ResourceInUse).
    """
    found = namespace(req.region, req.params.get("Id"))
    if found is None:
        return
    services = [s for s in list(backend(req.region).services.values()) if s.namespace_id == found.id]
    if services:
        raise AwsError("ResourceInUse", f"Namespace {found.id} still contains {len(services)} "
                       "service(s): delete them before deleting the namespace.", 400)
