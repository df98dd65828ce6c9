"""AWS Cloud Map fidelity cases: namespaces per VPC and ListServices filters."""
from __future__ import annotations

from typing import Any, Callable

from mylearning.emulator.fidelity.cases import OK, Case, Env
from mylearning.emulator.fidelity.cases.ecs import expect, network

API = "https://docs.aws.amazon.com/cloud-map/latest/api/"
DOC_HOSTED_ZONE = "https://docs.aws.amazon.com/Route53/latest/APIReference/API_CreateHostedZone.html"


def _namespace(env: Env, name: str, vpc: str | None = None) -> str:
    sd = env.client("servicediscovery")
    operation = sd.create_private_dns_namespace(Name=name, Vpc=vpc or network(env)["vpc"])
    return sd.get_operation(OperationId=operation["OperationId"])["Operation"]["Targets"]["NAMESPACE"]


def _second_namespace(same_name: bool) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        ec2 = env.client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.60.0.0/16")["Vpc"]["VpcId"]
        first = env.name("a") + ".internal"
        _namespace(env, first, vpc)
        return _namespace(env, first if same_name else env.name("b") + ".internal", vpc)
    return call


def _same_name_other_vpc(env: Env) -> Any:
    ec2 = env.client("ec2")
    name = env.name("shared") + ".internal"
    for cidr in ("10.61.0.0/16", "10.62.0.0/16"):
        _namespace(env, name, ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"])


def _services_in(env: Env) -> tuple[dict[str, str], dict[str, str]]:
    """Two namespaces with one service each: ({namespace id: service name}, namespace ARNs)."""
    sd = env.client("servicediscovery")
    ids, arns = {}, {}
    for stem in ("one", "two"):
        namespace = _namespace(env, env.name(stem) + ".internal")
        service = env.name(stem)
        sd.create_service(Name=service, NamespaceId=namespace,
                          DnsConfig={"DnsRecords": [{"Type": "A", "TTL": 15}]})
        ids[namespace] = service
        arns[namespace] = sd.get_namespace(Id=namespace)["Namespace"]["Arn"]
    return ids, arns


def _listed(env: Env, filters: list[dict]) -> set[str]:
    pages = env.client("servicediscovery").get_paginator("list_services").paginate(Filters=filters)
    return {s["Name"] for page in pages for s in page["Services"]}


def _filter_by_namespace(env: Env) -> None:
    ids, arns = _services_in(env)
    for namespace, service in ids.items():
        for value in (namespace, arns[namespace]):
            found = _listed(env, [{"Name": "NAMESPACE_ID", "Values": [value], "Condition": "EQ"}])
            expect(found == {service}, f"NAMESPACE_ID={value} listed {sorted(found)}")


def _filter_condition_omitted(env: Env) -> None:
    ids, _ = _services_in(env)
    namespace, service = next(iter(ids.items()))
    found = _listed(env, [{"Name": "NAMESPACE_ID", "Values": [namespace]}])
    expect(found == {service}, f"EQ by default: listed {sorted(found)}")


CASES = [
    Case("servicediscovery-list-services-namespace-filter", "servicediscovery", _filter_by_namespace,
         OK, API + "API_ServiceFilter.html", "behaviour"),
    Case("servicediscovery-list-services-filter-default-eq", "servicediscovery",
         _filter_condition_omitted, OK, API + "API_ServiceFilter.html", "behaviour"),
    Case("servicediscovery-valid-second-namespace-in-vpc", "servicediscovery",
         _second_namespace(same_name=False), OK, DOC_HOSTED_ZONE),
    Case("servicediscovery-same-namespace-name-in-vpc", "servicediscovery",
         _second_namespace(same_name=True), "ConflictingDomainExists", DOC_HOSTED_ZONE),
    Case("servicediscovery-valid-same-name-other-vpc", "servicediscovery", _same_name_other_vpc, OK,
         DOC_HOSTED_ZONE),
]
