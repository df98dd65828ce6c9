"""ECS placement, registration and task definition revisions on the embedded AWS: the fidelity
table's cases, plus direct checks of the split and spread computations."""
from __future__ import annotations

import ipaddress
from collections import Counter

import pytest

from mylearning.emulator.fidelity.cases.ecs import awsvpc, cluster, fargate_td, network, running
from mylearning.emulator.fidelity.cases.ecs_placement import STRATEGY


@pytest.mark.parametrize("count, existing, expected", [
    (5, [], {"FARGATE": 2, "FARGATE_SPOT": 3}),
    (10, [], {"FARGATE": 3, "FARGATE_SPOT": 7}),
    (1, [], {"FARGATE": 1}),
    (3, ["FARGATE", "FARGATE_SPOT"], {"FARGATE": 1, "FARGATE_SPOT": 2}),
])
def test_providers_follow_split_tasks(count, existing, expected):
    from mylearning.capacity import split_tasks
    from mylearning.emulator.fidelity.ecs.placement import providers_for

    chosen = providers_for(STRATEGY, existing, count)
    assert Counter(chosen) == Counter(expected)
    assert Counter(existing + chosen) == Counter(
        {k: v for k, v in split_tasks(STRATEGY, len(existing) + count).items() if v})


def test_providers_without_strategy_or_weight():
    from mylearning.emulator.fidelity.ecs.placement import providers_for

    assert providers_for([], [], 2) == [None, None]
    assert providers_for([{"capacityProvider": "FARGATE", "base": 1, "weight": 0}], [], 2) == [
        "FARGATE", "FARGATE"]


def test_service_task_network_interfaces(env):
    """Each task's ENI exists in EC2, in its subnet, with the task's address; stopping frees it."""
    ecs, ec2 = env.client("ecs"), env.client("ec2")
    c = cluster(env)
    ecs.create_service(cluster=c, serviceName="web", taskDefinition=fargate_td(env),
                       desiredCount=2, launchType="FARGATE", networkConfiguration=awsvpc(env))
    arns = ecs.list_tasks(cluster=c, serviceName="web")["taskArns"]
    tasks = running(env, c, arns)
    subnets = {s["SubnetId"]: s for s in ec2.describe_subnets(SubnetIds=network(env)["subnets"])["Subnets"]}
    for task in tasks:
        details = {d["name"]: d.get("value") for d in task["attachments"][0]["details"]}
        eni = ec2.describe_network_interfaces(
            NetworkInterfaceIds=[details["networkInterfaceId"]])["NetworkInterfaces"][0]
        assert eni["SubnetId"] == details["subnetId"]
        assert eni["PrivateIpAddress"] == details["privateIPv4Address"]
        assert ipaddress.ip_address(eni["PrivateIpAddress"]) in ipaddress.ip_network(
            subnets[eni["SubnetId"]]["CidrBlock"])
        assert eni["AvailabilityZone"] == task["availabilityZone"]
    assert {t["availabilityZone"] for t in tasks} == {f"{env.region}a", f"{env.region}b"}
    stopped = ecs.stop_task(cluster=c, task=arns[0])["task"]
    assert stopped["attachments"][0]["status"] in ("ATTACHED", "DELETED")
    (seen,) = running(env, c, [arns[0]], "STOPPED")
    assert seen["lastStatus"] == "STOPPED" and seen["attachments"][0]["status"] == "DELETED"


def test_single_subnet_keeps_its_zone(env):
    ecs = env.client("ecs")
    net = network(env)
    task = ecs.run_task(cluster=cluster(env), taskDefinition=fargate_td(env), launchType="FARGATE",
                        networkConfiguration={"awsvpcConfiguration": {"subnets": net["subnets"][1:]}}
                        )["tasks"][0]
    assert task["availabilityZone"] == f"{env.region}b"


def test_update_with_family_after_deregistering_latest(env):
    """A service updated to a family name runs the latest ACTIVE revision, not a deregistered one."""
    ecs = env.client("ecs")
    family = env.name("fam")
    first = fargate_td(env, family=family)
    second = fargate_td(env, family=family)
    ecs.deregister_task_definition(taskDefinition=second)
    c = cluster(env)
    svc = ecs.create_service(cluster=c, serviceName="web", taskDefinition=family, desiredCount=1,
                             launchType="FARGATE", networkConfiguration=awsvpc(env))["service"]
    assert svc["taskDefinition"] == first


def test_tasks_in_vpcs_with_the_same_cidr_get_different_addresses(env):
    """Two learners' VPCs may use the same CIDR block; the data plane reaches tasks by their
    private IPs, so the embedded AWS gives no two interfaces the same one (any free address of
    the subnet is one AWS could have chosen)."""
    ecs, ec2 = env.client("ecs"), env.client("ec2")
    c = cluster(env)
    net = network(env)
    first = ec2.describe_subnets(SubnetIds=net["subnets"][:1])["Subnets"][0]
    vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
    twin = ec2.create_subnet(VpcId=vpc, CidrBlock=first["CidrBlock"],
                             AvailabilityZone=first["AvailabilityZone"])["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName=env.name("twin-sg"), Description="twin", VpcId=vpc)["GroupId"]
    td = fargate_td(env)
    arns = []
    for name, subnets, groups in (("one", [first["SubnetId"]], [net["group"]]), ("two", [twin], [group])):
        ecs.create_service(cluster=c, serviceName=name, taskDefinition=td, desiredCount=2, launchType="FARGATE",
                           networkConfiguration={"awsvpcConfiguration": {"subnets": subnets,
                                                                         "securityGroups": groups}})
        arns += ecs.list_tasks(cluster=c, serviceName=name)["taskArns"]
    addresses = [{d["name"]: d.get("value") for d in t["attachments"][0]["details"]}["privateIPv4Address"]
                 for t in running(env, c, arns)]
    assert len(addresses) == 4 and len(set(addresses)) == 4, addresses
    assert all(ipaddress.ip_address(a) in ipaddress.ip_network(first["CidrBlock"]) for a in addresses)
