"""Fargate's concurrent vCPU quotas: a service starts what fits and says why it stops there."""
from __future__ import annotations

import boto3
import pytest

from conftest import EmulatorProcess


@pytest.fixture(scope="module")
def emulator():
    # A 2-vCPU account of each kind (On-Demand, Spot), without a data plane: tasks run at once.
    emu = EmulatorProcess("--no-dataplane", env={"MYLEARNING_FARGATE_VCPU_QUOTA": "2"})
    yield emu
    emu.stop()


@pytest.fixture
def ecs(emulator):
    emulator.reset()
    session = boto3.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name="us-east-1")
    ecs, ec2 = session.client("ecs", endpoint_url=emulator.url), session.client("ec2", endpoint_url=emulator.url)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    ecs.create_cluster(clusterName="c", capacityProviders=["FARGATE", "FARGATE_SPOT"])
    ecs.register_task_definition(family="half", networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
                                 cpu="512", memory="1024",
                                 containerDefinitions=[{"name": "app", "image": "public.ecr.aws/mylearning/courses-api:1.1.0"}])
    ecs.network = {"awsvpcConfiguration": {"subnets": [subnet]}}
    return ecs


def _service(ecs, name):
    return ecs.describe_services(cluster="c", services=[name])["services"][0]


def test_a_service_starts_only_what_the_vcpu_quota_leaves_and_says_why(ecs):
    ecs.create_service(cluster="c", serviceName="big", taskDefinition="half", desiredCount=6,
                       launchType="FARGATE", networkConfiguration=ecs.network)
    tasks = ecs.list_tasks(cluster="c", serviceName="big")["taskArns"]
    assert len(tasks) == 4  # 4 x 0.5 vCPU = the 2-vCPU quota
    messages = [e["message"] for e in _service(ecs, "big")["events"]]
    assert any("You've reached the limit on the number of vCPUs you can run concurrently" in m for m in messages)
    # Spot has a quota of its own.
    ecs.create_service(cluster="c", serviceName="spot", taskDefinition="half", desiredCount=2,
                       capacityProviderStrategy=[{"capacityProvider": "FARGATE_SPOT", "weight": 1}],
                       networkConfiguration=ecs.network)
    assert len(ecs.list_tasks(cluster="c", serviceName="spot")["taskArns"]) == 2


def test_room_freed_by_scaling_in_is_used_by_the_next_placement(ecs):
    ecs.create_service(cluster="c", serviceName="a", taskDefinition="half", desiredCount=4,
                       launchType="FARGATE", networkConfiguration=ecs.network)
    ecs.create_service(cluster="c", serviceName="b", taskDefinition="half", desiredCount=2,
                       launchType="FARGATE", networkConfiguration=ecs.network)
    assert ecs.list_tasks(cluster="c", serviceName="b")["taskArns"] == []
    ecs.update_service(cluster="c", service="a", desiredCount=2)
    ecs.update_service(cluster="c", service="b", desiredCount=2)
    assert len(ecs.list_tasks(cluster="c", serviceName="b", desiredStatus="RUNNING")["taskArns"]) == 2
