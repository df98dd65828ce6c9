"""Security groups enforced by the data plane: through a real emulator, tasks and an ALB."""
from __future__ import annotations

import json

import pytest

from tests.dataplane.test_alb import AlbWorld, _healthy
from tests.dataplane.world import wait_for


class GuardedWorld(AlbWorld):
    """Lab 02's layout: the ALB's group takes HTTP from anywhere, the tasks' group takes the
    app port from the ALB's group only."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.alb_sg = self._sg("alb-sg", [{"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
                                           "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        self.tasks_sg = self._sg("tasks-sg", [{"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080,
                                               "UserIdGroupPairs": [{"GroupId": self.alb_sg}]}])
        self.elb.set_security_groups(LoadBalancerArn=self.lb["LoadBalancerArn"], SecurityGroups=[self.alb_sg])
        self.network = {"awsvpcConfiguration": {"subnets": self.subnets, "securityGroups": [self.tasks_sg]}}

    def _sg(self, name: str, ingress: list[dict]) -> str:
        group = self.ec2.create_security_group(GroupName=name, Description=name, VpcId=self.vpc)["GroupId"]
        self.ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=ingress)
        return group

    def task_ip(self) -> str:
        arn = self.ecs.list_tasks(cluster="c", serviceName="s")["taskArns"][0]
        task = self.ecs.describe_tasks(cluster="c", tasks=[arn])["tasks"][0]
        details = {d["name"]: d.get("value") for d in task["attachments"][0]["details"]}
        return details["privateIPv4Address"]


@pytest.fixture
def world(emulator_with_dataplane):
    emulator_with_dataplane.reset()
    return GuardedWorld(emulator_with_dataplane.url)


def test_the_alb_reaches_tasks_its_group_may_reach_and_the_internet_does_not(world):
    world.register()
    group = world.group()
    world.listener([{"Type": "forward", "TargetGroupArn": group}])
    world.behind(group, 1)
    _healthy(world, group, 1)  # the health checks come from the ALB's group: allowed
    status, _, body = world.request("/api/courses")
    assert status == 200 and json.loads(body)
    # Straight to the task from the internet: dropped, so the edge's connect timeout passes.
    status, headers, body = world.request("/health", host=f"{world.task_ip()}:8080", timeout=15)
    assert status == 504 and headers.get("X-MyLearning-Edge") == "timeout"
    assert b"security group" in body
    # A rule for the internet on the app port lets the very next request in.
    world.ec2.authorize_security_group_ingress(GroupId=world.tasks_sg, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    status, _, body = world.request("/health", host=f"{world.task_ip()}:8080")
    assert status == 200


def test_health_checks_the_tasks_group_drops_time_out(world):
    world.register()
    world.ec2.revoke_security_group_ingress(GroupId=world.tasks_sg, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "UserIdGroupPairs": [{"GroupId": world.alb_sg}]}])
    group = world.group(interval=5, HealthCheckTimeoutSeconds=2)
    world.listener([{"Type": "forward", "TargetGroupArn": group}])
    world.behind(group, 1)
    # ECS replaces the task as soon as its target is unhealthy, and says why.
    event = wait_for("the service to say why its task failed", lambda: [
        e["message"] for e in world.service()["events"] if "is unhealthy in (target-group" in e["message"]],
        timeout=40)
    assert "(reason Request timed out)" in event[0]


def test_a_load_balancer_without_a_rule_for_the_internet_drops_its_requests(world):
    world.elb.set_security_groups(LoadBalancerArn=world.lb["LoadBalancerArn"], SecurityGroups=[world.tasks_sg])
    world.listener([{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "200",
                                                                        "MessageBody": "hello"}}])

    def answered():
        status, headers, _ = world.request("/", timeout=15)
        return (status, headers.get("X-MyLearning-Edge"))
    # The edge learns of the listener from ELB's news; until then it has no route (502).
    found = wait_for("the listener to be served", lambda: (lambda r: r if r[0] != 502 else None)(answered()),
                     timeout=30)
    assert found == (504, "timeout")


def test_a_task_calls_another_by_its_cloud_map_name_once_their_group_admits_itself(world):
    sd = world.client("servicediscovery")
    operation = sd.create_private_dns_namespace(Name="shop.internal", Vpc=world.vpc)["OperationId"]
    namespace = sd.get_operation(OperationId=operation)["Operation"]["Targets"]["NAMESPACE"]
    registry = sd.create_service(Name="courses-api", NamespaceId=namespace,
                                 DnsConfig={"DnsRecords": [{"Type": "A", "TTL": 10}]},
                                 HealthCheckCustomConfig={"FailureThreshold": 1})["Service"]["Arn"]
    world.register(family="courses")
    world.ecs.create_service(cluster="c", serviceName="courses", taskDefinition="courses", desiredCount=1,
                             launchType="FARGATE", networkConfiguration=world.network,
                             serviceRegistries=[{"registryArn": registry}])
    world.register(world.container(image="public.ecr.aws/mylearning/enrollment:1.1.0",
                                   env={"COURSES_API_URL": "http://courses-api.shop.internal:8080"}),
                   family="enroll")
    group = world.group(name="enroll")
    world.listener([{"Type": "forward", "TargetGroupArn": group}])
    world.ecs.create_service(cluster="c", serviceName="enroll", taskDefinition="enroll", desiredCount=1,
                             launchType="FARGATE", networkConfiguration=world.network,
                             loadBalancers=[{"targetGroupArn": group, "containerName": "app",
                                             "containerPort": 8080}])
    _healthy(world, group, 1)
    wait_for("the courses task in Cloud Map", lambda: sd.discover_instances(
        NamespaceName="shop.internal", ServiceName="courses-api")["Instances"], timeout=30)
    enroll = json.dumps({"learner": "ada", "course": "ecs-101"}).encode()

    def post():
        return world.request("/api/enroll", headers={"Content-Type": "application/json"}, timeout=15,
                             method="POST", body=enroll)
    status, _, body = post()  # enrollment's call leaves a tasks-sg task: tasks-sg admits only the ALB
    assert status == 503 and b"courses-api unavailable" in body
    world.ec2.authorize_security_group_ingress(GroupId=world.tasks_sg, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "UserIdGroupPairs": [{"GroupId": world.tasks_sg}]}])
    status, _, body = post()
    assert status == 201 and json.loads(body)["enrollment"]["course"] == "ecs-101"
