"""cloudmap: a private namespace and its services, found only in their own namespace."""
from __future__ import annotations

from mylearning import cloudmap


def test_cloud_map_lookups_stay_in_their_namespace(session, emulator):
    """ListServices' NAMESPACE_ID filter is not trusted: each service is confirmed by its namespace."""
    from mylearning import lookup, prepare
    prepare.foundation(session)
    vpc = lookup.vpc(session, session.name("vpc"))
    mine = cloudmap.ensure_private_namespace(session, "99", cloudmap.namespace_name(session), vpc["VpcId"])
    sd = session.client("servicediscovery")
    other_vpc = session.client("ec2").create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    other = sd.create_private_dns_namespace(Name=session.name("other") + ".internal", Vpc=other_vpc)
    other_ns = sd.get_operation(OperationId=other["OperationId"])["Operation"]["Targets"]["NAMESPACE"]
    sd.create_service(Name="courses-api", NamespaceId=other_ns,
                      DnsConfig=cloudmap.dns_config(), HealthCheckCustomConfig={"FailureThreshold": 1})
    assert lookup.discovery_service(session, mine["Id"], "courses-api") is None
    created = cloudmap.ensure_service(session, "99", mine["Id"], "courses-api")
    assert created["NamespaceId"] == mine["Id"]
    assert cloudmap.ensure_service(session, "99", mine["Id"], "courses-api")["Id"] == created["Id"]
    assert [s["Name"] for s in lookup.discovery_services(session, mine["Id"])] == ["courses-api"]


def test_resolve_answers_healthy_instances_or_else_all(session, emulator):
    import pytest

    from mylearning import lookup, prepare
    prepare.foundation(session)
    vpc = lookup.vpc(session, session.name("vpc"))
    namespace = cloudmap.ensure_private_namespace(session, "99", cloudmap.namespace_name(session), vpc["VpcId"])
    service = cloudmap.ensure_service(session, "99", namespace["Id"], "courses-api")
    sd = session.client("servicediscovery")
    for n, ip in enumerate(("10.0.10.7", "10.0.11.8")):
        sd.register_instance(ServiceId=service["Id"], InstanceId=f"task-{n}", Attributes={"AWS_INSTANCE_IPV4": ip})
    name = f"courses-api.{namespace['Name']}"
    assert sorted(cloudmap.resolve(session, name)) == ["10.0.10.7", "10.0.11.8"]
    sd.update_instance_custom_health_status(ServiceId=service["Id"], InstanceId="task-0", Status="UNHEALTHY")
    assert cloudmap.resolve(session, name) == ["10.0.11.8"]
    sd.update_instance_custom_health_status(ServiceId=service["Id"], InstanceId="task-1", Status="UNHEALTHY")
    assert sorted(cloudmap.resolve(session, name)) == ["10.0.10.7", "10.0.11.8"]  # none healthy: all
    with pytest.raises(ValueError, match="service.namespace"):
        cloudmap.resolve(session, "courses-api")
