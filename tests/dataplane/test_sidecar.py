"""The App Mesh sidecar end to end: two meshed services on a real emulator and data plane.

enrollment (its virtual node has courses-api's virtual service as a backend) calls courses-api
through its proxy's egress, which routes by the virtual router's weighted route to the
courses-api node's tasks, found through Cloud Map, whose proxies' ingress hands the request to
the app. The proxies' admin ports show Envoy's stats; a task role without
appmesh:StreamAggregatedResources keeps a proxy from ever becoming ready.
"""
from __future__ import annotations

import json

import pytest

from tests.dataplane.world import World, private_ip, wait_for

ENVOY = "public.ecr.aws/appmesh/aws-appmesh-envoy:v1.29.6.0-prod"
MESH = "shop"
NAMESPACE = "shop.internal"
PROXY = {"type": "APPMESH", "containerName": "envoy", "properties": [
    {"name": "IgnoredUID", "value": "1337"}, {"name": "ProxyIngressPort", "value": "15000"},
    {"name": "ProxyEgressPort", "value": "15001"}, {"name": "AppPorts", "value": "8080"},
    {"name": "EgressIgnoredIPs", "value": "169.254.170.2,169.254.169.254"}]}


@pytest.fixture
def world(emulator_with_dataplane):
    emulator_with_dataplane.reset()
    return World(emulator_with_dataplane.url)


def _task_role(world: World, name: str, allowed: bool) -> str:
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
             "Principal": {"Service": "ecs-tasks.amazonaws.com"}}]}
    arn = world.iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    if allowed:
        world.iam.put_role_policy(RoleName=name, PolicyName="mesh", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "appmesh:StreamAggregatedResources",
                                                     "Resource": "*"}]}))
    return arn


def meshed_role(world: World, name: str, **policies: dict) -> str:
    """A task role that may stream any proxy's configuration, plus `policies` (name -> document)."""
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
             "Principal": {"Service": "ecs-tasks.amazonaws.com"}}]}
    arn = world.iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    for policy, document in {"mesh": {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "appmesh:StreamAggregatedResources", "Resource": "*"}]}, **policies}.items():
        world.iam.put_role_policy(RoleName=name, PolicyName=policy, PolicyDocument=json.dumps(document))
    return arn


def _meshed(world: World, family: str, image: str, node_arn: str, role: str, env: dict | None = None) -> str:
    app = world.container("app", image, env=env)
    envoy = {"name": "envoy", "image": ENVOY, "essential": True, "user": "1337",
             "environment": [{"name": "APPMESH_RESOURCE_ARN", "value": node_arn}],
             "portMappings": [{"containerPort": 9901}],
             "logConfiguration": {"logDriver": "awslogs", "options": {
                 "awslogs-group": "/ecs/app", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "envoy"}},
             "healthCheck": {"command": ["CMD-SHELL", "curl -s http://localhost:9901/server_info | grep state | "
                                                      "grep -q LIVE"],
                             "interval": 5, "timeout": 2, "retries": 3, "startPeriod": 10}}
    app["dependsOn"] = [{"containerName": "envoy", "condition": "HEALTHY"}]
    return world.register(app, envoy, family=family, memory="1024", taskRoleArn=role, proxyConfiguration=PROXY)


def _mesh(world: World) -> tuple[dict, dict]:
    mesh = world.client("appmesh")
    mesh.create_mesh(meshName=MESH)
    listener = [{"portMapping": {"port": 8080, "protocol": "http"}}]
    nodes = {}

    def node(name: str, backends: list[str]) -> None:
        spec = {"listeners": listener,
                "serviceDiscovery": {"awsCloudMap": {"namespaceName": NAMESPACE, "serviceName": name}},
                "backends": [{"virtualService": {"virtualServiceName": b}} for b in backends],
                "logging": {"accessLog": {"file": {"path": "/dev/stdout"}}}}
        nodes[name] = mesh.create_virtual_node(meshName=MESH, virtualNodeName=name, spec=spec)["virtualNode"]

    node("courses-api", [])
    mesh.create_virtual_router(meshName=MESH, virtualRouterName="courses-router",
                               spec={"listeners": [{"portMapping": {"port": 8080, "protocol": "http"}}]})
    mesh.create_route(meshName=MESH, virtualRouterName="courses-router", routeName="all", spec={
        "httpRoute": {"match": {"prefix": "/"},
                      "action": {"weightedTargets": [{"virtualNode": "courses-api", "weight": 1}]}}})
    mesh.create_virtual_service(meshName=MESH, virtualServiceName="courses-api." + NAMESPACE, spec={
        "provider": {"virtualRouter": {"virtualRouterName": "courses-router"}}})
    node("enrollment", ["courses-api." + NAMESPACE])
    return nodes["courses-api"], nodes["enrollment"]


def _cloud_map(world: World) -> dict[str, str]:
    sd = world.client("servicediscovery")
    operation = sd.create_private_dns_namespace(Name=NAMESPACE, Vpc=world.vpc)["OperationId"]
    namespace = sd.get_operation(OperationId=operation)["Operation"]["Targets"]["NAMESPACE"]
    return {name: sd.create_service(Name=name, NamespaceId=namespace,
                                    DnsConfig={"DnsRecords": [{"Type": "A", "TTL": 10}]},
                                    HealthCheckCustomConfig={"FailureThreshold": 1})["Service"]["Arn"]
            for name in ("courses-api", "enrollment")}


def _service(world: World, name: str, taskdef: str, registry: str, count: int = 1) -> None:
    world.ecs.create_service(cluster="c", serviceName=name, taskDefinition=taskdef, desiredCount=count,
                             launchType="FARGATE", networkConfiguration=world.network,
                             serviceRegistries=[{"registryArn": registry}])


def _running(world: World, name: str, count: int = 1) -> list[dict]:
    seen: list[str] = []

    def probe() -> list[dict] | None:
        tasks = world.service_tasks(name)
        seen[:] = [f"{t['lastStatus']} ({', '.join(c['name'] + ' ' + c['lastStatus'] for c in t['containers'])}"
                   f"{'; ' + t['stoppedReason'] if t.get('stoppedReason') else ''})" for t in tasks]
        return tasks if len(tasks) >= count and all(
            t["lastStatus"] == "RUNNING" and all(c["lastStatus"] == "RUNNING" for c in t["containers"])
            for t in tasks) else None

    try:
        return wait_for(f"{count} running task(s) of {name} with healthy proxies", probe, timeout=240)
    except AssertionError as error:  # say which container held the task back
        raise AssertionError(f"{error}; tasks: {seen or 'none'}") from None


def test_enrollment_calls_courses_api_through_both_proxies(world):
    courses_node, enrollment_node = _mesh(world)
    registries = _cloud_map(world)
    role = _task_role(world, "meshed", allowed=True)
    courses = _meshed(world, "courses", "public.ecr.aws/mylearning/courses-api:1.2.0",
                      courses_node["metadata"]["arn"], role)
    enrollment = _meshed(world, "enrollment", "public.ecr.aws/mylearning/enrollment:1.1.0",
                         enrollment_node["metadata"]["arn"], role,
                         env={"COURSES_API_URL": f"http://courses-api.{NAMESPACE}:8080"})
    _service(world, "courses", courses, registries["courses-api"], count=2)
    _service(world, "enrollment", enrollment, registries["enrollment"])
    courses_tasks = _running(world, "courses", 2)
    ip = private_ip(_running(world, "enrollment")[0])
    status, body = world.post(f"http://{ip}:8080/api/enroll", {"learner": "ada", "course": "ecs-101"})
    assert status == 201, body
    assert json.loads(body)["enrollment"]["course_title"]
    for n in range(6):
        world.post(f"http://{ip}:8080/api/enroll", {"learner": f"l{n}", "course": "ecs-101"})
    status, stats = world.get(f"http://{ip}:9901/stats")
    assert status == 200
    lines = dict(line.split(": ", 1) for line in stats.decode().splitlines())
    egress = f"cluster.cds_egress_{MESH}_courses-api_http_8080"
    assert int(lines[f"{egress}.upstream_rq_2xx"]) == 7
    assert int(lines["http.ingress.downstream_rq_2xx"]) == 7  # enrollment's own ingress
    # Round robin over both courses-api tasks, each through its own proxy's ingress.
    served = []
    for task in courses_tasks:
        status, stats = world.get(f"http://{private_ip(task)}:9901/stats")
        mine = dict(line.split(": ", 1) for line in stats.decode().splitlines())
        served.append(int(mine.get(f"cluster.cds_ingress_{MESH}_courses-api_http_8080.upstream_rq_2xx", 0)))
    assert sum(served) == 7 and min(served) >= 3, served
    status, clusters = world.get(f"http://{ip}:9901/clusters")
    name = egress.removeprefix("cluster.")
    assert all(f"{name}::{private_ip(t)}:8080::health_flags::healthy" in clusters.decode()
               for t in courses_tasks), clusters.decode()


def test_a_proxy_whose_task_role_may_not_stream_its_configuration_never_becomes_ready(world):
    courses_node, _ = _mesh(world)
    registries = _cloud_map(world)
    role = _task_role(world, "unmeshed", allowed=False)
    courses = _meshed(world, "courses", "public.ecr.aws/mylearning/courses-api:1.2.0",
                      courses_node["metadata"]["arn"], role)
    _service(world, "courses", courses, registries["courses-api"])
    task = wait_for("the task to start its proxy", lambda: next(
        (t for t in world.service_tasks("courses") if any(c["name"] == "envoy" and c["lastStatus"] == "RUNNING"
                                                           for c in t["containers"])), None), timeout=30)
    ip = private_ip(task)
    status, body = wait_for("the admin port", lambda: (lambda r: r if r[0] in (200, 503) else None)(
        world.get(f"http://{ip}:9901/ready")))
    assert status == 503 and body.strip() == b"PRE_INITIALIZING"
    # No listener: the redirected app port refuses the connection.
    status, _ = world.get(f"http://{ip}:8080/health")
    assert status == 502
    world.iam.put_role_policy(RoleName="unmeshed", PolicyName="mesh", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "appmesh:StreamAggregatedResources",
                                                 "Resource": courses_node["metadata"]["arn"]}]}))
    wait_for("the proxy to become ready once the role allows it",
             lambda: world.get(f"http://{ip}:9901/ready")[0] == 200, timeout=20)
    status, body = wait_for("the app behind the proxy", lambda: (lambda r: r if r[0] == 200 else None)(
        world.get(f"http://{ip}:8080/health")), timeout=20)
    assert json.loads(body)["service"] == "courses-api"
