"""Application Load Balancers through a real emulator and data plane: requests that route."""
from __future__ import annotations

import json
from typing import Any
import urllib.error
import urllib.request

import pytest

from tests.dataplane.world import World, wait_for


class AlbWorld(World):
    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.elb = self.client("elbv2")
        self.lb = self.elb.create_load_balancer(Name="alb", Subnets=self.subnets,
                                                SecurityGroups=[self.open_sg])["LoadBalancers"][0]
        self.dns = self.lb["DNSName"]

    def group(self, name: str = "api", path: str = "/health", interval: int = 15, **extra) -> str:
        """A target group of the courses API; its checks every 1.5 s (at the time scale of 10)
        leave a task that starts slowly on a loaded machine time to listen before two fail."""
        return self.elb.create_target_group(
            Name=name, Protocol="HTTP", Port=8080, VpcId=self.vpc, TargetType="ip",
            HealthCheckPath=path, HealthCheckIntervalSeconds=interval, **extra)["TargetGroups"][0]["TargetGroupArn"]

    def listener(self, actions: list[dict], port: int = 80) -> str:
        return self.elb.create_listener(LoadBalancerArn=self.lb["LoadBalancerArn"], Protocol="HTTP",
                                        Port=port, DefaultActions=actions)["Listeners"][0]["ListenerArn"]

    def service(self, name: str = "s") -> dict:
        return self.ecs.describe_services(cluster="c", services=[name])["services"][0]

    def behind(self, group: str, count: int = 2, name: str = "s", **extra) -> None:
        self.ecs.create_service(cluster="c", serviceName=name, taskDefinition="f", desiredCount=count,
                                launchType="FARGATE", networkConfiguration=self.network,
                                loadBalancers=[{"targetGroupArn": group, "containerName": "app",
                                                "containerPort": 8080}], **extra)

    def states(self, group: str) -> dict:
        found = self.elb.describe_target_health(TargetGroupArn=group)["TargetHealthDescriptions"]
        return {t["Target"]["Id"]: t["TargetHealth"] for t in found}

    def request(self, path: str, host: str | None = None, headers: dict | None = None,
                timeout: float = 5.0, method: str = "GET", body: bytes | None = None) -> tuple[int, Any, bytes]:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": self.proxy}),
                                             _NoRedirect())
        url = f"http://{host or self.dns}{path}"
        try:
            with opener.open(urllib.request.Request(url, data=body, method=method, headers=headers or {}),
                             timeout=timeout) as resp:
                return resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as err:
            return err.code, err.headers, err.read()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.fixture
def world(emulator_with_dataplane):
    emulator_with_dataplane.reset()
    return AlbWorld(emulator_with_dataplane.url)


def _healthy(world: AlbWorld, group: str, count: int) -> dict:
    """Wait for `count` registered targets, all healthy (draining ones are on their way out)."""
    def registered() -> dict:
        return {k: h for k, h in world.states(group).items() if h["State"] != "draining"}
    try:
        return wait_for(f"{count} healthy targets", lambda: (lambda s: s if len(s) == count and all(
            h["State"] == "healthy" for h in s.values()) else None)(registered()), timeout=30)
    except AssertionError as timed_out:  # say what ELB and ECS saw, for a failure on CI
        events = [e["message"] for e in world.service()["events"][:8]]
        raise AssertionError(f"{timed_out}; targets: {world.states(group)}; events: {events}") from None


def test_requests_reach_healthy_targets_through_the_alb_dns_name(world):
    world.register()
    group = world.group()
    world.listener([{"Type": "forward", "TargetGroupArn": group}])
    world.behind(group, 2)
    _healthy(world, group, 2)
    wait_for("the deployment to complete",
             lambda: world.service()["deployments"][0]["rolloutState"] == "COMPLETED", timeout=30)
    answers = [world.request("/api/courses") for _ in range(20)]
    assert all(status == 200 for status, _, _ in answers), [a[0] for a in answers]
    assert all(h.get("X-MyLearning-Version") == "1.1.0" for _, h, _ in answers)
    assert len(json.loads(answers[0][2])) > 3


def test_rules_route_by_path_and_answer_fixed_responses_and_redirects(world):
    world.register()
    group = world.group()
    listener = world.listener([{"Type": "fixed-response", "FixedResponseConfig": {
        "StatusCode": "404", "ContentType": "text/plain", "MessageBody": "no such page"}}])
    world.elb.create_rule(ListenerArn=listener, Priority=10,
                          Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/api/*"]}}],
                          Actions=[{"Type": "forward", "TargetGroupArn": group}])
    world.elb.create_rule(ListenerArn=listener, Priority=5,
                          Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/old/*"]}}],
                          Actions=[{"Type": "redirect", "RedirectConfig": {
                              "Path": "/api/courses", "StatusCode": "HTTP_301"}}])
    world.behind(group, 1)
    _healthy(world, group, 1)
    status, _, body = world.request("/api/courses")
    assert status == 200 and json.loads(body)
    status, headers, body = world.request("/elsewhere")
    assert (status, body) == (404, b"no such page")
    status, headers, _ = world.request("/old/page?x=1")
    assert status == 301 and headers["Location"] == f"http://{world.dns}:80/api/courses?x=1"


def test_no_registered_target_is_a_503_from_the_alb(world):
    group = world.group()
    world.listener([{"Type": "forward", "TargetGroupArn": group}])
    status, headers, body = wait_for("the listener", lambda: (lambda r: r if r[0] != 502 else None)(
        world.request("/api/courses")))
    assert status == 503 and headers.get("Server") == "awselb/2.0" and b"503" in body


def test_a_wrong_health_check_path_fails_the_targets_and_trips_the_circuit_breaker(world):
    world.register()
    group = world.group(path="/healthz", interval=5)  # the courses API answers /health only
    world.listener([{"Type": "forward", "TargetGroupArn": group}])
    # A grace period (3 s at the time scale of 10) keeps each unhealthy target in view a while.
    world.behind(group, 1, healthCheckGracePeriodSeconds=30, deploymentConfiguration={
        "deploymentCircuitBreaker": {"enable": True, "rollback": False}})
    unhealthy = wait_for("an unhealthy target", lambda: [h for h in world.states(group).values()
                                                         if h["State"] == "unhealthy"], timeout=30)
    assert unhealthy[0]["Reason"] == "Target.ResponseCodeMismatch"
    assert unhealthy[0]["Description"] == "Health checks failed with these codes: [404]"
    wait_for("the deployment to fail", lambda: world.service()["deployments"][0]["rolloutState"] == "FAILED",
             timeout=60)
    stopped = world.service_tasks(desired="STOPPED")
    assert any(t["stoppedReason"].startswith("Task failed ELB health checks in (target-group ")
               for t in stopped), [t["stoppedReason"] for t in stopped]
    events = [e["message"] for e in world.service()["events"]]
    assert any("is unhealthy in (target-group" in m and "[404]" in m for m in events), events[:5]


def test_a_stopped_task_drains_and_leaves_its_target_group(world):
    world.register()
    group = world.group()
    world.elb.modify_target_group_attributes(TargetGroupArn=group, Attributes=[
        {"Key": "deregistration_delay.timeout_seconds", "Value": "30"}])
    world.listener([{"Type": "forward", "TargetGroupArn": group}])
    world.behind(group, 1)
    first = _healthy(world, group, 1)
    world.ecs.update_service(cluster="c", service="s", desiredCount=0)
    ip = next(iter(first))
    wait_for("draining", lambda: world.states(group).get(ip, {}).get("State") == "draining")
    wait_for("the target to leave", lambda: ip not in world.states(group), timeout=20)


def test_what_the_alb_served_reaches_cloudwatch(world):
    import datetime
    world.register()
    group = world.group()
    world.listener([{"Type": "forward", "TargetGroupArn": group}])
    world.behind(group, 1)
    _healthy(world, group, 1)
    assert all(world.request("/api/courses")[0] == 200 for _ in range(25))
    cloudwatch = world.client("cloudwatch")
    lb_dim = [{"Name": "LoadBalancer", "Value": world.lb["LoadBalancerArn"].split("loadbalancer/")[1]}]
    end = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=1)
    start = end - datetime.timedelta(minutes=10)

    def served() -> float:
        found = cloudwatch.get_metric_statistics(Namespace="AWS/ApplicationELB", MetricName="RequestCount",
                                                 Dimensions=lb_dim, StartTime=start, EndTime=end,
                                                 Period=600, Statistics=["Sum"])["Datapoints"]
        return sum(d["Sum"] for d in found) >= 25
    wait_for("RequestCount to reach CloudWatch", served, timeout=30, every=0.5)
    answer = cloudwatch.get_metric_data(StartTime=start, EndTime=end, MetricDataQueries=[{
        "Id": "p99", "MetricStat": {"Metric": {"Namespace": "AWS/ApplicationELB",
                                               "MetricName": "TargetResponseTime", "Dimensions": lb_dim},
                                    "Period": 600, "Stat": "p99"}}])["MetricDataResults"][0]
    assert answer["Values"] and 0 < answer["Values"][0] < 5, answer
    names = {m["MetricName"] for m in cloudwatch.list_metrics(Namespace="AWS/ApplicationELB")["Metrics"]}
    assert {"RequestCount", "HTTPCode_Target_2XX_Count", "HealthyHostCount", "RequestCountPerTarget"} <= names
