"""The proxies' metrics in CloudWatch, end to end: Envoy's metrics extension, DogStatsD, the
CloudWatch agent sidecar, PutMetricData under the task role.

enrollment calls courses-api through its proxy (test_sidecar's mesh); enrollment's task also runs
the CloudWatch agent, and its Envoy has APPMESH_METRIC_EXTENSION_VERSION=1 and
ENABLE_ENVOY_DOG_STATSD=1, as in aws-app-mesh-examples' howto-metrics-extension-ecs. What the
caller sent must appear in CloudWatch under the agent's namespace, by App Mesh's dimensions.
"""
from __future__ import annotations

import datetime

import pytest

from mylearning.mesh import sidecar
from tests.dataplane.test_sidecar import (ENVOY, MESH, NAMESPACE, PROXY, _cloud_map, _mesh, _running, _service,
                                          meshed_role)
from tests.dataplane.world import World, private_ip, wait_for

METRICS_NAMESPACE = "mylearning/mesh"
COURSES_SERVICE = f"courses-api.{NAMESPACE}"


@pytest.fixture
def world(emulator_with_dataplane):
    emulator_with_dataplane.reset()
    return World(emulator_with_dataplane.url)


def _role(world: World, name: str, *, metrics: bool) -> str:
    return meshed_role(world, name, **({"metrics": sidecar.metrics_permission()} if metrics else {}))


def _taskdef(world: World, family: str, image: str, node_arn: str, role: str, *, metrics: bool,
             env: dict | None = None) -> str:
    app = world.container("app", image, env=env)
    log = {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/app", "awslogs-region": "us-east-1",
                                               "awslogs-stream-prefix": family}}
    spec = {"family": family, "containerDefinitions": [app], "proxyConfiguration": PROXY}
    spec["containerDefinitions"][0]["logConfiguration"] = log
    spec = sidecar.with_envoy(spec, node_arn)
    if metrics:
        spec = sidecar.with_metrics(spec, METRICS_NAMESPACE)
    envoy = sidecar.envoy_of(spec)
    envoy["image"] = ENVOY
    return world.register(*spec["containerDefinitions"], family=family, memory="1024", taskRoleArn=role,
                          proxyConfiguration=spec["proxyConfiguration"], volumes=spec.get("volumes", []))


def _world(world: World, *, metrics_allowed: bool) -> str:
    courses_node, enrollment_node = _mesh(world)
    registries = _cloud_map(world)
    courses = _taskdef(world, "courses", "public.ecr.aws/mylearning/courses-api:1.2.0",
                       courses_node["metadata"]["arn"], _role(world, "courses", metrics=False), metrics=False)
    enrollment = _taskdef(world, "enrollment", "public.ecr.aws/mylearning/enrollment:1.1.0",
                          enrollment_node["metadata"]["arn"], _role(world, "enrollment", metrics=metrics_allowed),
                          metrics=True, env={"COURSES_API_URL": f"http://{COURSES_SERVICE}:8080"})
    _service(world, "courses", courses, registries["courses-api"])
    _service(world, "enrollment", enrollment, registries["enrollment"])
    _running(world, "courses")
    return private_ip(_running(world, "enrollment")[0])


def _dimensions(target: bool = True) -> list[dict]:
    own = [{"Name": "Mesh", "Value": MESH}, {"Name": "VirtualNode", "Value": "enrollment"}]
    if target:
        own += [{"Name": "TargetVirtualService", "Value": COURSES_SERVICE},
                {"Name": "TargetVirtualNode", "Value": "courses-api"}]
    return own


def _sum(world: World, metric: str, kind: str, dimensions: list[dict]) -> float:
    now = datetime.datetime.now(datetime.timezone.utc)
    points = world.client("cloudwatch").get_metric_statistics(
        Namespace=METRICS_NAMESPACE, MetricName=metric, Statistics=["Sum"], Period=60,
        StartTime=now - datetime.timedelta(minutes=10), EndTime=now + datetime.timedelta(minutes=1),
        Dimensions=dimensions + [{"Name": "metric_type", "Value": kind}])["Datapoints"]
    return sum(p["Sum"] for p in points)


def test_the_metrics_extension_reaches_cloudwatch_through_the_agent_sidecar(world):
    ip = _world(world, metrics_allowed=True)
    for n in range(7):
        status, body = world.post(f"http://{ip}:8080/api/enroll", {"learner": f"l{n}", "course": "ecs-101"})
        assert status == 201, body
    wait_for("7 requests to courses-api in CloudWatch", lambda: _sum(
        world, "envoy.appmesh.RequestCountPerTarget", "counter", _dimensions()) >= 7, timeout=40, every=1)
    assert _sum(world, "envoy.appmesh.RequestCountPerTarget", "counter", _dimensions()) == 7
    assert _sum(world, "envoy.appmesh.HTTPCode_Target_2XX_Count", "counter", _dimensions()) == 7
    assert _sum(world, "envoy.appmesh.HTTPCode_Target_5XX_Count", "counter", _dimensions()) == 0
    # Inbound: the 7 enrollments enrollment's own proxy took in.
    assert _sum(world, "envoy.appmesh.RequestCount", "counter", _dimensions(target=False)) == 7
    cloudwatch, now = world.client("cloudwatch"), datetime.datetime.now(datetime.timezone.utc)
    window = dict(Namespace=METRICS_NAMESPACE, MetricName="envoy.appmesh.TargetResponseTime", Period=600,
                  StartTime=now - datetime.timedelta(minutes=10), EndTime=now + datetime.timedelta(minutes=1),
                  Dimensions=_dimensions() + [{"Name": "metric_type", "Value": "timing"}])
    plain = cloudwatch.get_metric_statistics(Statistics=["SampleCount", "Maximum"], **window)["Datapoints"]
    assert sum(p["SampleCount"] for p in plain) == 7
    metric = {"Namespace": window["Namespace"], "MetricName": window["MetricName"], "Dimensions": window["Dimensions"]}
    p99 = cloudwatch.get_metric_data(StartTime=window["StartTime"], EndTime=window["EndTime"], MetricDataQueries=[
        {"Id": "p99", "MetricStat": {"Metric": metric, "Period": 600, "Stat": "p99"}}])["MetricDataResults"][0]
    assert p99["Values"] and 0 < max(p99["Values"]) <= max(p["Maximum"] for p in plain), (p99, plain)


def test_without_put_metric_data_in_the_task_role_the_agent_logs_access_denied(world):
    ip = _world(world, metrics_allowed=False)
    world.post(f"http://{ip}:8080/api/enroll", {"learner": "ada", "course": "ecs-101"})
    logs = world.client("logs")

    def denied() -> bool:
        streams = logs.describe_log_streams(logGroupName="/ecs/app", logStreamNamePrefix="cwagent")["logStreams"]
        for stream in streams:
            events = logs.get_log_events(logGroupName="/ecs/app", logStreamName=stream["logStreamName"])["events"]
            if any("AccessDenied" in e["message"] and "cloudwatch:PutMetricData" in e["message"] for e in events):
                return True
        return False

    wait_for("the agent's AccessDenied log line", denied, timeout=40, every=1)
    assert _sum(world, "envoy.appmesh.RequestCountPerTarget", "counter", _dimensions()) == 0
