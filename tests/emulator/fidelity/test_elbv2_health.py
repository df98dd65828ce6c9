"""DescribeTargetHealth once load balancers run: what their health checks reported, draining.

The emulator runs without a data plane here; the test plays the data plane's part through
the same endpoint (GET for news, POST for health results), so every state is reached on
purpose.
"""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import boto3
import pytest

from conftest import EmulatorProcess


@pytest.fixture(scope="module")
def emulator():
    emu = EmulatorProcess("--no-dataplane")
    yield emu
    emu.stop()


class Elb:
    def __init__(self, url: str) -> None:
        self.url = url
        session = boto3.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name="us-east-1")
        self.ec2 = session.client("ec2", endpoint_url=url)
        self.elb = session.client("elbv2", endpoint_url=url)
        vpc = self.ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnets = [self.ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{n}.0/24",
                                          AvailabilityZone=f"us-east-1{z}")["Subnet"]["SubnetId"]
                   for n, z in ((1, "a"), (2, "b"))]
        self.vpc = vpc
        self.lb = self.elb.create_load_balancer(Name="alb", Subnets=subnets)["LoadBalancers"][0]

    def group(self, name: str, listener: bool = True, delay: int | None = None) -> str:
        arn = self.elb.create_target_group(Name=name, Protocol="HTTP", Port=8080, VpcId=self.vpc,
                                           TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
        if delay is not None:
            self.elb.modify_target_group_attributes(TargetGroupArn=arn, Attributes=[
                {"Key": "deregistration_delay.timeout_seconds", "Value": str(delay)}])
        if listener:
            self.elb.create_listener(LoadBalancerArn=self.lb["LoadBalancerArn"], Protocol="HTTP",
                                     Port=80 + len(name), DefaultActions=[{"Type": "forward", "TargetGroupArn": arn}])
        return arn

    def health(self, arn: str) -> dict:
        found = self.elb.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]
        return {t["Target"]["Id"]: (t["TargetHealth"]["State"], t["TargetHealth"].get("Reason"))
                for t in found}

    def poll(self, since: int = -1, wait: float = 0) -> int:
        return self.news(since, wait)["version"]

    def news(self, since: int = -1, wait: float = 0) -> dict:
        with urllib.request.urlopen(f"{self.url}/mylearning/elb?since={since}&wait={wait}", timeout=10) as r:
            return json.loads(r.read())

    def post(self, results: list[dict]) -> dict:
        request = urllib.request.Request(f"{self.url}/mylearning/elb", method="POST",
                                         data=json.dumps({"results": results}).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as r:
            return json.loads(r.read())


@pytest.fixture
def elb(emulator):
    emulator.reset()
    world = Elb(emulator.url)
    world.poll()  # a data plane polls: the account is attached
    return world


def test_targets_are_initial_until_a_health_check_reports(elb):
    arn = elb.group("web")
    elb.elb.register_targets(TargetGroupArn=arn, Targets=[{"Id": "10.0.1.5", "Port": 8080}])
    assert elb.health(arn) == {"10.0.1.5": ("initial", "Elb.RegistrationInProgress")}
    assert elb.post([{"TargetGroupArn": arn, "Id": "10.0.1.5", "Port": 8080, "State": "healthy"}]) == {"stored": 1}
    assert elb.health(arn) == {"10.0.1.5": ("healthy", None)}
    elb.post([{"TargetGroupArn": arn, "Id": "10.0.1.5", "Port": 8080, "State": "unhealthy",
               "Reason": "Target.ResponseCodeMismatch",
               "Description": "Health checks failed with these codes: [404]"}])
    described = elb.elb.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"][0]
    assert described["TargetHealth"] == {"State": "unhealthy", "Reason": "Target.ResponseCodeMismatch",
                                         "Description": "Health checks failed with these codes: [404]"}


def test_registering_a_registered_target_again_keeps_its_health_but_a_new_registration_starts_initial(elb):
    arn = elb.group("again")
    target = [{"Id": "10.0.1.12", "Port": 8080}]
    elb.elb.register_targets(TargetGroupArn=arn, Targets=target)
    elb.post([{"TargetGroupArn": arn, "Id": "10.0.1.12", "Port": 8080, "State": "healthy"}])
    elb.elb.register_targets(TargetGroupArn=arn, Targets=target)
    assert elb.health(arn) == {"10.0.1.12": ("healthy", None)}
    elb.elb.deregister_targets(TargetGroupArn=arn, Targets=target)
    elb.elb.register_targets(TargetGroupArn=arn, Targets=target)
    assert elb.health(arn) == {"10.0.1.12": ("initial", "Elb.RegistrationInProgress")}


def test_a_group_no_listener_uses_is_unused(elb):
    arn = elb.group("idle", listener=False)
    elb.elb.register_targets(TargetGroupArn=arn, Targets=[{"Id": "10.0.1.6", "Port": 8080}])
    assert elb.health(arn) == {"10.0.1.6": ("unused", "Target.NotInUse")}


def test_a_deregistered_target_drains_for_the_delay_then_is_gone(elb, monkeypatch):
    # 20 s of AWS time is 2 s at the emulator's default time scale of 10.
    arn = elb.group("drain", delay=20)
    elb.elb.register_targets(TargetGroupArn=arn, Targets=[{"Id": "10.0.1.7", "Port": 8080}])
    elb.elb.deregister_targets(TargetGroupArn=arn, Targets=[{"Id": "10.0.1.7", "Port": 8080}])
    assert elb.health(arn) == {"10.0.1.7": ("draining", "Target.DeregistrationInProgress")}
    deadline = time.monotonic() + 15
    while elb.health(arn) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert elb.health(arn) == {}


def test_bad_reports_are_refused_or_skipped(elb):
    arn = elb.group("bad")
    assert elb.post([{"TargetGroupArn": arn, "Id": "10.0.1.8", "Port": "x", "State": "healthy"},
                     {"TargetGroupArn": arn, "Id": "10.0.1.8", "Port": 8080, "State": "great"}]) == {"stored": 0}
    request = urllib.request.Request(f"{elb.url}/mylearning/elb", method="POST", data=b"[1]")
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request, timeout=10)
    assert error.value.code == 400


def test_changes_wake_the_poll(elb):
    version = elb.poll()
    arn = elb.group("news", listener=False)
    assert elb.poll(version) > version  # CreateTargetGroup moved it on
    version = elb.poll()
    elb.elb.register_targets(TargetGroupArn=arn, Targets=[{"Id": "10.0.1.9", "Port": 8080}])
    assert elb.poll(version, wait=5) > version


def test_news_of_registrations_names_their_groups_and_other_changes_do_not(elb):
    first, second = elb.group("one"), elb.group("two")
    version = elb.poll()
    elb.elb.register_targets(TargetGroupArn=first, Targets=[{"Id": "10.0.1.10", "Port": 8080}])
    elb.elb.register_targets(TargetGroupArn=second, Targets=[{"Id": "10.0.1.11", "Port": 8080}])
    news = elb.news(version)
    assert news["groups"] == sorted([first, second])  # only their targets need reading again
    version = news["version"]
    elb.elb.deregister_targets(TargetGroupArn=first, Targets=[{"Id": "10.0.1.10", "Port": 8080}])
    elb.elb.modify_target_group(TargetGroupArn=second, HealthCheckPath="/ready")
    assert "groups" not in elb.news(version)  # a group's settings changed: read everything
