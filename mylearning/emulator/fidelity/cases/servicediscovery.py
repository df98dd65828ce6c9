"""AWS Cloud Map fidelity cases: namespaces per VPC, ListServices filters, and the rules
relating record types, routing policies, health checks and instance attributes."""
from __future__ import annotations

from typing import Any, Callable

from mylearning.emulator.fidelity.cases import OK, Case, Env
from mylearning.emulator.fidelity.cases.ecs import expect, network

API = "https://docs.aws.amazon.com/cloud-map/latest/api/"
CREATE, RECORD, REGISTER = API + "API_CreateService.html", API + "API_DnsRecord.html", API + "API_RegisterInstance.html"
INVALID = "InvalidInput"
A = {"DnsRecords": [{"Type": "A", "TTL": 15}]}
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


def _public_namespace(env: Env) -> str:
    sd = env.client("servicediscovery")
    operation = sd.create_public_dns_namespace(Name=env.name("pub") + ".example.com")
    return sd.get_operation(OperationId=operation["OperationId"])["Operation"]["Targets"]["NAMESPACE"]


def _http_namespace(env: Env) -> str:
    sd = env.client("servicediscovery")
    operation = sd.create_http_namespace(Name=env.name("api"))
    return sd.get_operation(OperationId=operation["OperationId"])["Operation"]["Targets"]["NAMESPACE"]


_KINDS = {"private": lambda env: _namespace(env, env.name("p") + ".internal"),
          "public": _public_namespace, "http": _http_namespace}


def _service(env: Env, kind: str = "private", **args: Any) -> str:
    return env.client("servicediscovery").create_service(
        Name=env.name("svc"), NamespaceId=_KINDS[kind](env), **args)["Service"]["Id"]


def _create(kind: str = "private", **args: Any) -> Callable[[Env], Any]:
    return lambda env: _service(env, kind, **args)


def _records(*types: str, policy: str | None = None) -> dict:
    config: dict[str, Any] = {"DnsRecords": [{"Type": t, "TTL": 15} for t in types]}
    if policy:
        config["RoutingPolicy"] = policy
    return config


def _update(change: dict, kind: str = "private", **args: Any) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        service = _service(env, kind, **args)
        return env.client("servicediscovery").update_service(Id=service, Service=change)
    return call


def _register(attributes: dict, kind: str = "private", **args: Any) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        service = _service(env, kind, **args)
        return env.client("servicediscovery").register_instance(
            ServiceId=service, InstanceId=env.name("i"), Attributes=attributes)
    return call


def _delete_service(deregister: bool) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        sd = env.client("servicediscovery")
        service = _service(env, DnsConfig=A, HealthCheckCustomConfig={"FailureThreshold": 1})
        sd.register_instance(ServiceId=service, InstanceId="task-1", Attributes={"AWS_INSTANCE_IPV4": "10.0.1.5"})
        if deregister:
            sd.deregister_instance(ServiceId=service, InstanceId="task-1")
        return sd.delete_service(Id=service)
    return call


def _delete_namespace(empty_first: bool) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        sd = env.client("servicediscovery")
        namespace = _namespace(env, env.name("gone") + ".internal")
        service = sd.create_service(Name=env.name("svc"), NamespaceId=namespace, DnsConfig=A)["Service"]["Id"]
        if empty_first:
            sd.delete_service(Id=service)
        return sd.delete_namespace(Id=namespace)
    return call


def _case(id: str, call: Callable[[Env], Any], expect: str, doc: str = CREATE) -> Case:
    return Case(f"servicediscovery.{id}", "servicediscovery", call, expect, doc)


HTTP_CHECK = {"Type": "HTTP", "ResourcePath": "/health", "FailureThreshold": 2}
CUSTOM = {"FailureThreshold": 1}

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
    # CreateService
    _case("create.both-health-checks", _create("public", DnsConfig=A, HealthCheckConfig=HTTP_CHECK,
                                               HealthCheckCustomConfig=CUSTOM), INVALID),
    _case("create.valid-lab-service", _create(DnsConfig={"RoutingPolicy": "MULTIVALUE", **A},
                                              HealthCheckCustomConfig=CUSTOM), OK),
    _case("create.cname-multivalue", _create(DnsConfig=_records("CNAME", policy="MULTIVALUE")), INVALID, RECORD),
    _case("create.valid-cname-weighted", _create(DnsConfig=_records("CNAME", policy="WEIGHTED")), OK, RECORD),
    _case("create.cname-with-health-check", _create("public", DnsConfig=_records("CNAME", policy="WEIGHTED"),
                                                    HealthCheckConfig=HTTP_CHECK), INVALID, RECORD),
    _case("create.valid-a-with-health-check-public", _create("public", DnsConfig=A, HealthCheckConfig=HTTP_CHECK),
          OK, CREATE),
    _case("create.a-and-cname", _create(DnsConfig=_records("A", "CNAME", policy="WEIGHTED")), INVALID, RECORD),
    _case("create.srv-and-a", _create(DnsConfig=_records("SRV", "A")), INVALID, RECORD),
    _case("create.valid-a-and-aaaa", _create(DnsConfig=_records("A", "AAAA", policy="MULTIVALUE")), OK, RECORD),
    _case("create.valid-srv-weighted", _create(DnsConfig=_records("SRV", policy="WEIGHTED")), OK, RECORD),
    _case("create.tcp-health-check-with-path", _create("public", DnsConfig=A, HealthCheckConfig={
        "Type": "TCP", "ResourcePath": "/health"}), INVALID, API + "API_HealthCheckConfig.html"),
    _case("create.valid-tcp-health-check", _create("public", DnsConfig=A, HealthCheckConfig={"Type": "TCP"}),
          OK, API + "API_HealthCheckConfig.html"),
    _case("create.health-check-in-private-namespace", _create(DnsConfig=A, HealthCheckConfig=HTTP_CHECK),
          INVALID, "https://docs.aws.amazon.com/cloud-map/latest/dg/services-values.html"),
    _case("create.valid-health-check-in-http-namespace", _create("http", HealthCheckConfig=HTTP_CHECK), OK),
    # UpdateService
    _case("update.record-type", _update({"DnsConfig": {"DnsRecords": [{"Type": "AAAA", "TTL": 15}]}},
                                        DnsConfig=A), INVALID, API + "API_DnsConfig.html"),
    _case("update.valid-ttl", _update({"DnsConfig": {"DnsRecords": [{"Type": "A", "TTL": 60}]}}, DnsConfig=A),
          OK, API + "API_UpdateService.html"),
    _case("update.http-namespace", _update({"Description": "courses"}, "http"), INVALID,
          API + "API_UpdateService.html"),
    _case("update.health-check-on-custom-service", _update({"DnsConfig": A, "HealthCheckConfig": HTTP_CHECK},
                                                           "public", DnsConfig=A, HealthCheckCustomConfig=CUSTOM),
          INVALID, API + "API_UpdateService.html"),
    _case("update.valid-health-check-public", _update({"DnsConfig": A, "HealthCheckConfig": HTTP_CHECK},
                                                      "public", DnsConfig=A), OK, API + "API_UpdateService.html"),
    # RegisterInstance
    _case("register.a-without-ipv4", _register({"AWS_INSTANCE_IPV6": "2001:db8::5"}, DnsConfig=A), INVALID, REGISTER),
    _case("register.valid-a-with-ipv4", _register({"AWS_INSTANCE_IPV4": "10.0.1.5"}, DnsConfig=A), OK, REGISTER),
    _case("register.valid-a-and-aaaa-ipv6-only", _register({"AWS_INSTANCE_IPV6": "2001:db8::5"},
                                                           DnsConfig=_records("A", "AAAA")), OK, REGISTER),
    _case("register.srv-without-port", _register({"AWS_INSTANCE_IPV4": "10.0.1.5"}, DnsConfig=_records("SRV")),
          INVALID, REGISTER),
    _case("register.srv-without-address", _register({"AWS_INSTANCE_PORT": "8080"}, DnsConfig=_records("SRV")),
          INVALID, REGISTER),
    _case("register.valid-srv", _register({"AWS_INSTANCE_IPV4": "10.0.1.5", "AWS_INSTANCE_PORT": "8080"},
                                          DnsConfig=_records("SRV")), OK, REGISTER),
    _case("register.cname-without-cname", _register({"AWS_INSTANCE_IPV4": "10.0.1.5"},
                                                    DnsConfig=_records("CNAME", policy="WEIGHTED")), INVALID, REGISTER),
    _case("register.valid-cname", _register({"AWS_INSTANCE_CNAME": "courses.example.com"},
                                            DnsConfig=_records("CNAME", policy="WEIGHTED")), OK, REGISTER),
    _case("register.health-check-without-port", _register({"AWS_INSTANCE_IPV4": "192.0.2.44"}, "public",
                                                          DnsConfig=A, HealthCheckConfig=HTTP_CHECK), INVALID, REGISTER),
    _case("register.valid-health-check-with-port", _register({"AWS_INSTANCE_IPV4": "192.0.2.44",
                                                              "AWS_INSTANCE_PORT": "80"}, "public",
                                                             DnsConfig=A, HealthCheckConfig=HTTP_CHECK), OK, REGISTER),
    _case("register.alias-with-ipv4", _register({"AWS_ALIAS_DNS_NAME": "lb-1.us-east-1.elb.amazonaws.com",
                                                 "AWS_INSTANCE_IPV4": "10.0.1.5"},
                                                DnsConfig=_records("A", policy="WEIGHTED")), INVALID, REGISTER),
    _case("register.alias-multivalue", _register({"AWS_ALIAS_DNS_NAME": "lb-1.us-east-1.elb.amazonaws.com"},
                                                 DnsConfig=_records("A", policy="MULTIVALUE")), INVALID, REGISTER),
    _case("register.valid-alias-weighted", _register({"AWS_ALIAS_DNS_NAME": "lb-1.us-east-1.elb.amazonaws.com"},
                                                     DnsConfig=_records("A", policy="WEIGHTED")), OK, REGISTER),
    _case("register.ec2-instance-id-in-dns-namespace", _register({"AWS_EC2_INSTANCE_ID": "i-0123456789abcdef0",
                                                                  "AWS_INSTANCE_IPV4": "10.0.1.5"}, DnsConfig=A),
          INVALID, REGISTER),
    _case("register.valid-ec2-instance-id-http", _register({"AWS_EC2_INSTANCE_ID": "i-0123456789abcdef0",
                                                            "AWS_INIT_HEALTH_STATUS": "HEALTHY"}, "http"), OK, REGISTER),
    _case("register.valid-http-custom-attributes", _register({"stage": "blue", "version": "2"}, "http"), OK,
          REGISTER),
    # deletes
    _case("delete.service-with-instances", _delete_service(deregister=False), "ResourceInUse",
          API + "API_DeleteService.html"),
    _case("delete.valid-service-after-deregister", _delete_service(deregister=True), OK,
          API + "API_DeleteService.html"),
    _case("delete.namespace-with-services", _delete_namespace(empty_first=False), "ResourceInUse",
          API + "API_DeleteNamespace.html"),
    _case("delete.valid-empty-namespace", _delete_namespace(empty_first=True), OK, API + "API_DeleteNamespace.html"),
]
