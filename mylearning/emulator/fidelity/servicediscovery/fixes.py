"""AWS Cloud Map (servicediscovery): moto 5.2.x fixes, applied once on the first Cloud Map call.

* ListServices ignored its ``Filters`` and listed the services of every namespace.
  https://docs.aws.amazon.com/cloud-map/latest/api/API_ListServices.html ("If you specify more
  than one filter, an operation must match all filters") and
  https://docs.aws.amazon.com/cloud-map/latest/api/API_ServiceFilter.html (NAMESPACE_ID: "Gets
  the services associated with the specified namespace", one namespace ID or ARN;
  RESOURCE_OWNER: SELF or OTHER_ACCOUNTS).
* CreatePrivateDnsNamespace refused any second namespace in a VPC (ConflictingDomainExists).
  Each private DNS namespace is its own Route 53 private hosted zone with the namespace's name
  (https://docs.aws.amazon.com/cloud-map/latest/dg/working-with-namespaces.html), and Route 53
  refuses a private hosted zone only when "a hosted zone with the specified name already exists
  and is already associated with the Amazon VPC that you specified"
  (https://docs.aws.amazon.com/Route53/latest/APIReference/API_CreateHostedZone.html, errors,
  ConflictingDomainExists). So a differently named namespace in the same VPC is accepted; the
  same name in the same VPC still conflicts.

Both fixes let moto answer first and only narrow what it did, so a moto that closes
these gaps upstream is left alone.
"""
from __future__ import annotations

import json
import threading
from typing import Any

from mylearning.emulator.fidelity.core import moto_fixes
from mylearning.emulator.fidelity.servicediscovery.access import SERVICE

#: Serialises namespace creation while moto's over-broad VPC check is narrowed.
_CREATING = threading.Lock()


# ---------------------------------------------------------------- ListServices filters

def _matches(backend: Any, service_id: str, filters: list[dict]) -> bool:
    try:
        service = backend.get_service(service_id)
    except Exception:
        return False
    for item in filters:
        values = set(item.get("Values") or [])
        if item.get("Name") == "NAMESPACE_ID":
            namespace = backend.namespaces.get(service.namespace_id)
            names = {service.namespace_id} | ({namespace.arn} if namespace is not None else set())
            if not names & values:
                return False
        elif item.get("Name") == "RESOURCE_OWNER":
            # Everything in the emulated account was created by it: SELF matches, OTHER_ACCOUNTS not.
            if "SELF" not in values:
                return False
    return True


def _fix_list_services_filters() -> None:
    from moto.servicediscovery.responses import ServiceDiscoveryResponse as R

    list_services = R.list_services

    def listed(self: Any) -> str:
        answer = list_services(self)
        try:
            filters = json.loads(self.body or "{}").get("Filters") or []
            payload = json.loads(answer)
        except (TypeError, ValueError):
            return answer
        if not filters or not isinstance(payload, dict):
            return answer
        backend = self.servicediscovery_backend
        payload["Services"] = [s for s in payload.get("Services", [])
                               if _matches(backend, s.get("Id"), filters)]
        return json.dumps(payload)

    R.list_services = listed


# ---------------------------------------------------------------- private namespaces per VPC

def _domain(name: str) -> str:
    return (name or "").rstrip(".").lower()


def _fix_private_namespaces_per_vpc() -> None:
    from moto.servicediscovery.models import ServiceDiscoveryBackend as B

    create = B.create_private_dns_namespace

    def create_private_dns_namespace(self: Any, name: str, *args: Any, **kwargs: Any) -> str:
        vpc = kwargs.get("vpc", args[2] if len(args) > 2 else None)
        with _CREATING:
            # moto refuses any namespace already in the VPC; Route 53 only one of the same name.
            # Hide the differently named ones from that check (Namespace.vpc is not serialised).
            others = [ns for ns in self.namespaces.values()
                      if ns.vpc == vpc and _domain(ns.name) != _domain(name)]
            for ns in others:
                ns.vpc = None
            try:
                return create(self, name, *args, **kwargs)
            finally:
                for ns in others:
                    ns.vpc = vpc

    B.create_private_dns_namespace = create_private_dns_namespace


moto_fixes(SERVICE, _fix_list_services_filters, _fix_private_namespaces_per_vpc)
