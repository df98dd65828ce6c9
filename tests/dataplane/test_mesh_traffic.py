"""Mesh traffic end to end: what App Mesh's routes, policies and filters do to real requests.

One meshed world for the whole module (its tasks take most of the time, and every test sets
up the route, knob or filter it needs before it measures): a virtual router ``courses-router``
behind the virtual service ``courses.shop.internal`` with three routes, by path

* ``all`` (``/``): weighted targets courses-v1 (two tasks, courses-api 1.1.0) and courses-v2
  (one task, 1.2.0);
* ``flaky`` (``/api/courses/fargate-201``) and ``slow`` (``/api/courses/taskdef-202``): the
  node ``flaky``, one courses-api task whose ERROR_RATE and LATENCY_MS knobs the tests turn;

``enrollment`` (its node's one backend is ``courses.shop.internal``) calls it through its
proxy's egress for each POST /api/enroll, so each enrollment is one request through two
sidecars; ``outsider`` declares the same backend but calls ``courses-v2.shop.internal`` (the
node's Cloud Map name, not a virtual service): the egress filter's business. A virtual gateway
``front`` behind an ALB takes ``/catalog/`` and ``/api/`` to the virtual service.

Every figure is read the way an operator reads it: the caller's answer and the proxies' Envoy
stats from their admin port (9901). Counts are compared with binomial bounds whose false-failure
probability is `ALPHA`, never with magic tolerances.
"""
from __future__ import annotations

import http.client
import itertools
import json
import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

import pytest

from tests.dataplane.test_sidecar import ENVOY, MESH, NAMESPACE, PROXY, _task_role
from tests.dataplane.world import World, private_ip, wait_for

COURSES = f"courses.{NAMESPACE}"
V1, V2 = "public.ecr.aws/mylearning/courses-api:1.1.0", "public.ecr.aws/mylearning/courses-api:1.2.0"
ENROLLMENT = "public.ecr.aws/mylearning/enrollment:1.1.0"
#: The course each route serves (the router matches enrollment's GET /api/courses/<id>).
WEIGHTED, FLAKY, SLOW = "ecs-101", "fargate-201", "taskdef-202"
#: The chance that a correct proxy fails one of this module's statistical checks.
ALPHA = 1e-6
#: Concurrent callers: enough to keep a loaded 2-core machine busy, few enough to stay polite.
CALLERS = 4


def egress(node: str) -> str:
    """The caller's egress cluster stat prefix for a target node (envoy-metrics.html, "Cluster names")."""
    return f"cluster.cds_egress_{MESH}_{node}_http_8080"


# ----------------------------------------------------------------------------- statistics

def _log_pmf(n: int, p: float, k: int) -> float:
    return (math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
            + k * math.log(p) + (n - k) * math.log1p(-p))


def binomial_bounds(n: int, p: float, alpha: float = ALPHA) -> tuple[int, int]:
    """The narrowest [lo, hi] with P(X < lo) and P(X > hi) each at most alpha/2, X ~ Bin(n, p)."""
    pmf = [math.exp(_log_pmf(n, p, k)) for k in range(n + 1)]
    lo, tail = 0, 0.0
    while lo < n and tail + pmf[lo] <= alpha / 2:
        tail += pmf[lo]
        lo += 1
    hi, tail = n, 0.0
    while hi > 0 and tail + pmf[hi] <= alpha / 2:
        tail += pmf[hi]
        hi -= 1
    return lo, hi


# ----------------------------------------------------------------------------- HTTP

class Client:
    """Keep-alive HTTP through the data plane's edge (the internet), one connection per thread."""

    def __init__(self, proxy: str) -> None:
        host, port = proxy.removeprefix("http://").rsplit(":", 1)
        self.address = (host, int(port))
        self.local = threading.local()

    def request(self, method: str, url: str, payload: Any = None, timeout: float = 10.0) -> tuple[int, bytes]:
        body = json.dumps(payload).encode() if payload is not None else None
        headers = {"Content-Type": "application/json"} if body is not None else {}
        for attempt in (1, 2):
            conn = getattr(self.local, "conn", None)
            fresh = conn is None
            if fresh:
                conn = self.local.conn = http.client.HTTPConnection(*self.address, timeout=timeout)
            conn.timeout = timeout
            try:
                conn.request(method, url, body=body, headers=headers)
                response = conn.getresponse()
                return response.status, response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                conn.close()
                self.local.conn = None
                if fresh or attempt == 2:  # a kept-alive connection the edge closed while idle: once more
                    raise
        raise AssertionError("unreachable")

    def get(self, url: str, timeout: float = 10.0) -> tuple[int, bytes]:
        return self.request("GET", url, timeout=timeout)

    def stats(self, ip: str) -> dict[str, int]:
        """A proxy's /stats (admin port 9901) as numbers."""
        status, body = self.get(f"http://{ip}:9901/stats")
        assert status == 200, body
        return {k: int(v) for k, v in (line.split(": ", 1) for line in body.decode().splitlines())
                if v.lstrip("-").isdigit()}

    def config(self, ip: str) -> dict:
        status, body = self.get(f"http://{ip}:9901/config_dump")
        assert status == 200, body
        return json.loads(body)["configs"][0] if json.loads(body)["configs"] else {}

    def knobs(self, ip: str, **knobs: Any) -> None:
        """Turn a courses-api task's knobs live (through its proxy's ingress: not an API path)."""
        status, body = self.request("POST", f"http://{ip}:8080/_mylearning/knobs",
                                    {k.upper(): v for k, v in knobs.items()})
        assert status == 200, body


def delta(before: dict[str, int], after: dict[str, int], name: str) -> int:
    return after.get(name, 0) - before.get(name, 0)


_learners = itertools.count()


class Mesh:
    """The module's world: the World's clients, the mesh's API, and where each task runs."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.appmesh = world.client("appmesh")
        self.http = Client(world.proxy)
        self.ips: dict[str, list[str]] = {}
        self.alb_dns = self.front_group = ""

    def enroll(self, course: str, client: str = "enrollment") -> tuple[int, dict, float]:
        """One enrollment of a new learner in `course` through `client`'s proxies: status, body, seconds."""
        started = time.monotonic()
        status, body = self.http.request("POST", f"http://{self.ips[client][0]}:8080/api/enroll",
                                         {"learner": f"l{next(_learners)}", "course": course})
        return status, json.loads(body or b"{}"), time.monotonic() - started

    def enroll_many(self, course: str, n: int, client: str = "enrollment") -> list[tuple[int, dict, float]]:
        with ThreadPoolExecutor(CALLERS) as pool:
            return list(pool.map(lambda _: self.enroll(course, client), range(n)))

    def stats(self, service: str = "enrollment") -> dict[str, int]:
        return self.http.stats(self.ips[service][0])

    def update_route(self, name: str, spec: dict) -> None:
        self.appmesh.update_route(meshName=MESH, virtualRouterName="courses-router", routeName=name, spec=spec)

    def wait_route(self, name: str, check: Callable[[dict], bool], service: str = "enrollment") -> None:
        """Until `service`'s proxy applies a route that passes `check` (its /config_dump)."""
        def applied() -> bool:
            router = (self.http.config(self.ips[service][0]).get("routers") or {}).get("courses-router") or {}
            return any(r["name"] == name and check(r) for r in router.get("routes", []))
        wait_for(f"{service}'s proxy to apply route {name}", applied, timeout=20, every=0.1)


# ----------------------------------------------------------------------------- the world

def _route(prefix: str, targets: dict[str, int], priority: int, **extra: Any) -> dict:
    return {"priority": priority, "httpRoute": {
        "match": {"prefix": prefix},
        "action": {"weightedTargets": [{"virtualNode": n, "weight": w} for n, w in targets.items()]}, **extra}}


ALL_ROUTE = lambda v1, v2: _route("/", {"courses-v1": v1, "courses-v2": v2}, 100)  # noqa: E731
FLAKY_ROUTE = lambda **extra: _route(f"/api/courses/{FLAKY}", {"flaky": 1}, 1, **extra)  # noqa: E731
SLOW_ROUTE = lambda **extra: _route(f"/api/courses/{SLOW}", {"flaky": 1}, 2, **extra)  # noqa: E731


def _build_mesh(mesh: Mesh) -> dict[str, str]:
    api = mesh.appmesh
    api.create_mesh(meshName=MESH)  # DROP_ALL by default (API_EgressFilter.html)
    listener = {"portMapping": {"port": 8080, "protocol": "http"}}
    arns = {}

    def node(name: str, cloud_map: str, backends: tuple[str, ...] = ()) -> None:
        spec = {"listeners": [listener],
                "serviceDiscovery": {"awsCloudMap": {"namespaceName": NAMESPACE, "serviceName": cloud_map}},
                "backends": [{"virtualService": {"virtualServiceName": b}} for b in backends]}
        arns[name] = api.create_virtual_node(meshName=MESH, virtualNodeName=name, spec=spec)[
            "virtualNode"]["metadata"]["arn"]

    for name in ("courses-v1", "courses-v2", "flaky"):
        node(name, name)
    api.create_virtual_router(meshName=MESH, virtualRouterName="courses-router", spec={"listeners": [listener]})
    for name, spec in (("all", ALL_ROUTE(3, 1)), ("flaky", FLAKY_ROUTE()), ("slow", SLOW_ROUTE())):
        api.create_route(meshName=MESH, virtualRouterName="courses-router", routeName=name, spec=spec)
    api.create_virtual_service(meshName=MESH, virtualServiceName=COURSES, spec={
        "provider": {"virtualRouter": {"virtualRouterName": "courses-router"}}})
    node("enrollment", "enrollment", (COURSES,))
    node("outsider", "outsider", (COURSES,))
    arns["front"] = api.create_virtual_gateway(meshName=MESH, virtualGatewayName="front", spec={
        "listeners": [listener]})["virtualGateway"]["metadata"]["arn"]
    target = {"target": {"virtualService": {"virtualServiceName": COURSES}}}
    # gateway-routes.html: the matched prefix is rewritten to "/" by default; DISABLED keeps the path.
    api.create_gateway_route(meshName=MESH, virtualGatewayName="front", gatewayRouteName="catalog", spec={
        "httpRoute": {"match": {"prefix": "/catalog/"}, "action": target}})
    api.create_gateway_route(meshName=MESH, virtualGatewayName="front", gatewayRouteName="api", spec={
        "httpRoute": {"match": {"prefix": "/api/"},
                      "action": {**target, "rewrite": {"prefix": {"defaultPrefix": "DISABLED"}}}}})
    return arns


def _registries(world: World, names: tuple[str, ...]) -> dict[str, str]:
    sd = world.client("servicediscovery")
    operation = sd.create_private_dns_namespace(Name=NAMESPACE, Vpc=world.vpc)["OperationId"]
    namespace = sd.get_operation(OperationId=operation)["Operation"]["Targets"]["NAMESPACE"]
    return {name: sd.create_service(Name=name, NamespaceId=namespace,
                                    DnsConfig={"DnsRecords": [{"Type": "A", "TTL": 10}]},
                                    HealthCheckCustomConfig={"FailureThreshold": 1})["Service"]["Arn"]
            for name in names}


def _envoy(arn: str, ports: tuple[int, ...] = (9901,)) -> dict:
    return {"name": "envoy", "image": ENVOY, "essential": True, "user": "1337",
            "environment": [{"name": "APPMESH_RESOURCE_ARN", "value": arn}],
            "portMappings": [{"containerPort": p} for p in ports],
            "healthCheck": {"command": ["CMD-SHELL", "curl -s http://localhost:9901/server_info | grep state | "
                                                     "grep -q LIVE"],
                            "interval": 5, "timeout": 2, "retries": 3, "startPeriod": 10}}


def _meshed(world: World, family: str, image: str, arn: str, role: str, env: dict | None = None) -> str:
    app = world.container("app", image, env=env)
    app["dependsOn"] = [{"containerName": "envoy", "condition": "HEALTHY"}]
    return world.register(app, _envoy(arn), family=family, memory="1024", taskRoleArn=role,
                          proxyConfiguration=PROXY)


def _gateway(world: World, arns: dict[str, str], role: str) -> tuple[str, str]:
    """The gateway's task (Envoy alone, on its listener port: virtual_gateways.html) behind an ALB
    whose health checks ask Envoy's /ready on the admin port, as lab 06 does: the ALB's DNS name
    and the target group."""
    elb = world.client("elbv2")
    lb = elb.create_load_balancer(Name="front", Subnets=world.subnets, SecurityGroups=[world.open_sg])[
        "LoadBalancers"][0]
    group = elb.create_target_group(Name="front", Protocol="HTTP", Port=8080, VpcId=world.vpc, TargetType="ip",
                                    HealthCheckPort="9901", HealthCheckPath="/ready", HealthCheckIntervalSeconds=5,
                                    HealthyThresholdCount=2)["TargetGroups"][0]["TargetGroupArn"]
    elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": group}])
    taskdef = world.register(_envoy(arns["front"], (8080, 9901)), family="front", taskRoleArn=role)
    world.ecs.create_service(cluster="c", serviceName="front", taskDefinition=taskdef, desiredCount=1,
                             launchType="FARGATE", networkConfiguration=world.network,
                             loadBalancers=[{"targetGroupArn": group, "containerName": "envoy",
                                             "containerPort": 8080}],
                             # /ready answers 503 until the first configuration arrives; at the data
                             # plane's time scale two failed checks take a second, and ECS would replace
                             # the task (API_CreateService.html, healthCheckGracePeriodSeconds).
                             healthCheckGracePeriodSeconds=60)
    return lb["DNSName"], group


SERVICES = {  # ECS service: (virtual node, image, tasks, environment)
    "courses-v1": ("courses-v1", V1, 2, None),
    "courses-v2": ("courses-v2", V2, 1, None),
    "flaky": ("flaky", V2, 1, {"RANDOM_SEED": "12"}),
    "enrollment": ("enrollment", ENROLLMENT, 1, {"COURSES_API_URL": f"http://{COURSES}:8080"}),
    # Calls the Cloud Map name of courses-v2's tasks, which no backend of its node declares.
    "outsider": ("outsider", ENROLLMENT, 1, {"COURSES_API_URL": f"http://courses-v2.{NAMESPACE}:8080"}),
}


@pytest.fixture(scope="module")
def mesh(emulator_with_dataplane) -> Mesh:
    emulator_with_dataplane.reset()
    world = World(emulator_with_dataplane.url)
    mesh = Mesh(world)
    arns = _build_mesh(mesh)
    registries = _registries(world, tuple(SERVICES))
    role = _task_role(world, "meshed", allowed=True)
    for service, (node, image, count, env) in SERVICES.items():
        taskdef = _meshed(world, service, image, arns[node], role, env)
        world.ecs.create_service(cluster="c", serviceName=service, taskDefinition=taskdef, desiredCount=count,
                                 launchType="FARGATE", networkConfiguration=world.network,
                                 serviceRegistries=[{"registryArn": registries[service]}])
    mesh.alb_dns, mesh.front_group = _gateway(world, arns, role)

    def running(service: str, count: int) -> list[str] | None:
        tasks = world.service_tasks(service)
        up = [t for t in tasks if t["lastStatus"] == "RUNNING" and all(c["lastStatus"] == "RUNNING"
                                                                        for c in t["containers"])]
        return [private_ip(t) for t in up] if len(up) >= count else None
    for service, (_, _, count, _) in {**SERVICES, "front": (None, None, 1, None)}.items():
        mesh.ips[service] = wait_for(f"{count} running task(s) of {service}", lambda: running(service, count),
                                     timeout=90)
    return mesh


# ----------------------------------------------------------------------------- the tests

def _split(mesh: Mesh, n: int) -> tuple[int, int]:
    """n enrollments in the weighted course: how many of their calls each version served
    (the caller's egress clusters' 2xx), after checking every one succeeded."""
    before = mesh.stats()
    results = mesh.enroll_many(WEIGHTED, n)
    assert all(status == 201 for status, _, _ in results), [r for r in results if r[0] != 201][:3]
    after = mesh.stats()
    v1, v2 = (delta(before, after, f"{egress(node)}.upstream_rq_2xx") for node in ("courses-v1", "courses-v2"))
    assert v1 + v2 == n, (v1, v2)
    return v1, v2


def test_weighted_targets_split_traffic_by_their_relative_weights(mesh):
    # API_WeightedTarget.html: "Traffic is distributed across targets according to their relative weight."
    mesh.update_route("all", ALL_ROUTE(3, 1))
    mesh.wait_route("all", lambda r: [t["weight"] for t in r["targets"]] == [3, 1])
    n = 400
    lo, hi = binomial_bounds(n, 0.75)
    assert not lo <= n // 2 <= hi  # the check can tell 3:1 from an even split
    before = {ip: mesh.http.stats(ip) for ip in mesh.ips["courses-v1"] + mesh.ips["courses-v2"]}
    v1, v2 = _split(mesh, n)
    assert lo <= v1 <= hi, (v1, v2, (lo, hi))
    # The servers' side agrees: each version's proxies passed exactly that many to their app.
    served = {node: sum(delta(before[ip], mesh.http.stats(ip),
                              f"cluster.cds_ingress_{MESH}_{node}_http_8080.upstream_rq_2xx")
                        for ip in mesh.ips[node]) for node in ("courses-v1", "courses-v2")}
    assert served == {"courses-v1": v1, "courses-v2": v2}


def test_update_route_to_new_weights_takes_effect(mesh):
    mesh.update_route("all", ALL_ROUTE(3, 1))
    mesh.wait_route("all", lambda r: [t["weight"] for t in r["targets"]] == [3, 1])
    mesh.update_route("all", ALL_ROUTE(1, 3))
    mesh.wait_route("all", lambda r: [t["weight"] for t in r["targets"]] == [1, 3])
    n = 400
    old_lo, old_hi = binomial_bounds(n, 0.75)
    lo, hi = binomial_bounds(n, 0.25)
    v1, v2 = _split(mesh, n)
    assert lo <= v1 <= hi, (v1, v2, (lo, hi))
    assert not old_lo <= v1 <= old_hi, "the old 3:1 split is still in effect"


def test_a_retry_policy_hides_a_flaky_backend(mesh):
    ip = mesh.ips["flaky"][0]
    mesh.http.knobs(ip, error_rate=0.5, latency_ms=0)
    # Without a retry policy App Mesh's default retries 503 only (envoy-defaults.html): the
    # backend's 500s reach enrollment, which answers 502.
    mesh.update_route("flaky", FLAKY_ROUTE())
    mesh.wait_route("flaky", lambda r: r["retry_policy"] is None)
    n = 120
    before = mesh.stats()
    without = sum(status == 201 for status, _, _ in mesh.enroll_many(FLAKY, n))
    middle = mesh.stats()
    assert delta(before, middle, f"{egress('flaky')}.upstream_rq_retry") == 0
    # server-error retries 500 (API_HttpRetryPolicy.html), up to maxRetries after the first try.
    policy = {"httpRetryEvents": ["server-error"], "maxRetries": 4, "perRetryTimeout": {"unit": "ms", "value": 1500}}
    mesh.update_route("flaky", FLAKY_ROUTE(retryPolicy=policy))
    mesh.wait_route("flaky", lambda r: (r["retry_policy"] or {}).get("maxRetries") == 4)
    middle = mesh.stats()
    results = mesh.enroll_many(FLAKY, n)
    after = mesh.stats()
    with_retries = sum(status == 201 for status, _, _ in results)
    _, without_hi = binomial_bounds(n, 0.5)
    with_lo, _ = binomial_bounds(n, 1 - 0.5 ** 5)
    assert without_hi < with_lo
    assert without <= without_hi and with_retries >= with_lo, (without, with_retries, without_hi, with_lo)
    retries = delta(middle, after, f"{egress('flaky')}.upstream_rq_retry")
    # Each retry answers a 500 that was retried instead of passed on (router_filter stats).
    assert retries > 0 and retries == delta(middle, after, f"{egress('flaky')}.retry.upstream_rq_500")
    assert delta(middle, after, f"{egress('flaky')}.upstream_rq_retry_success") > 0
    assert delta(middle, after, f"{egress('flaky')}.upstream_rq_total") == n + retries
    mesh.http.knobs(ip, error_rate=0)


def test_a_route_timeout_answers_504_before_a_slow_backend_does(mesh):
    ip = mesh.ips["flaky"][0]
    latency = 1.0  # well under enrollment's own 2 s backend timeout, well over the route's 250 ms
    mesh.http.knobs(ip, error_rate=0, latency_ms=latency * 1000)
    try:
        mesh.update_route("slow", SLOW_ROUTE())
        mesh.wait_route("slow", lambda r: r["timeouts"]["per_request"] == 15.0)
        # The default per-request timeout (15 s, routes.html) waits for the slow answer.
        status, body, took = mesh.enroll(SLOW)
        assert status == 201 and took >= latency, (status, body, took)
        mesh.update_route("slow", SLOW_ROUTE(timeout={"perRequest": {"unit": "ms", "value": 250}}))
        mesh.wait_route("slow", lambda r: r["timeouts"]["per_request"] == 0.25)
        before = mesh.stats()
        status, body, took = mesh.enroll(SLOW)
        after = mesh.stats()
    finally:
        mesh.http.knobs(ip, latency_ms=0)
    # Envoy's local reply 504 "upstream request timeout" (UT); enrollment passes on what it got.
    assert status == 502 and body["reason"] == "courses-api answered 504", body
    assert took < latency, took
    assert delta(before, after, f"{egress('flaky')}.upstream_rq_timeout") == 1
    assert delta(before, after, f"{egress('flaky')}.upstream_rq_504") == 1


def test_the_egress_filter_refuses_an_undeclared_backend_until_allow_all(mesh):
    name = f"courses-v2.{NAMESPACE}"
    allow_all = f"cluster.cds_egress_{MESH}_mesh-allow-all"
    before = mesh.stats("outsider")
    # DROP_ALL: outsider's proxy has a filter chain for port 8080 (its backend's) but no virtual
    # host for that name: Envoy's 404, flag NR, http.egress.no_route (troubleshooting-connectivity.html).
    # The app reads the 404 as "no such course".
    status, body, _ = mesh.enroll(WEIGHTED, "outsider")
    assert status == 422 and body["error"] == "unknown course", body
    middle = mesh.stats("outsider")
    assert delta(before, middle, "http.egress.no_route") == 1
    assert delta(before, middle, "http.egress.downstream_rq_4xx") == 1
    assert delta(before, middle, f"{allow_all}.upstream_rq_total") == 0
    # The declared backend is not filtered.
    assert mesh.enroll(WEIGHTED)[0] == 201
    mesh.appmesh.update_mesh(meshName=MESH, spec={"egressFilter": {"type": "ALLOW_ALL"}})
    try:
        wait_for("outsider's proxy to apply ALLOW_ALL", lambda: mesh.http.config(
            mesh.ips["outsider"][0]).get("egress_filter") == "ALLOW_ALL", timeout=20, every=0.1)
        middle = mesh.stats("outsider")
        status, body, _ = mesh.enroll(WEIGHTED, "outsider")
        assert status == 201, body
        after = mesh.stats("outsider")
        # Passed through as addressed (troubleshooting-connectivity.html names this cluster);
        # still no virtual service of that name in the proxy's configuration.
        assert delta(middle, after, f"{allow_all}.upstream_rq_2xx") == 1
        assert delta(middle, after, "http.egress.no_route") == 0
        assert name not in mesh.http.config(mesh.ips["outsider"][0]).get("services", {})
    finally:
        mesh.appmesh.update_mesh(meshName=MESH, spec={"egressFilter": {"type": "DROP_ALL"}})
    wait_for("outsider's proxy to apply DROP_ALL again", lambda: mesh.http.config(
        mesh.ips["outsider"][0]).get("egress_filter") == "DROP_ALL", timeout=20, every=0.1)
    assert mesh.enroll(WEIGHTED, "outsider")[0] == 422


def test_a_virtual_gateway_behind_the_alb_routes_and_rewrites_prefixes(mesh):
    elb = mesh.world.client("elbv2")
    targets = wait_for("the gateway's target to be healthy", lambda: (lambda found: found if found and all(
        t["TargetHealth"]["State"] == "healthy" for t in found) else None)(
        elb.describe_target_health(TargetGroupArn=mesh.front_group)["TargetHealthDescriptions"]), timeout=60)
    gateway = targets[0]["Target"]["Id"]
    before = mesh.http.stats(gateway)
    # /catalog/ is rewritten to / (gateway-routes.html); courses-api only knows /api/courses.
    status, body = mesh.http.get(f"http://{mesh.alb_dns}/catalog/api/courses/{WEIGHTED}")
    assert status == 200, body
    assert json.loads(body)["course"]["id"] == WEIGHTED
    # defaultPrefix DISABLED keeps the path.
    status, body = mesh.http.get(f"http://{mesh.alb_dns}/api/courses?level=advanced")
    assert status == 200, body
    assert {c["level"] for c in json.loads(body)["courses"]} == {"advanced"}
    # No gateway route: Envoy's 404 (NR) from the gateway.
    status, body = mesh.http.get(f"http://{mesh.alb_dns}/admin/")
    assert status == 404, body
    after = mesh.http.stats(gateway)
    assert delta(before, after, "http.ingress.downstream_rq_2xx") == 2
    assert delta(before, after, "http.ingress.no_route") == 1
    served = sum(delta(before, after, f"{egress(n)}.upstream_rq_2xx") for n in ("courses-v1", "courses-v2"))
    assert served == 2


def test_outlier_detection_ejects_a_failing_host(mesh):
    # API_OutlierDetection.html on the server's listener, applied by the client's proxy
    # (virtual_nodes.html, "Outlier detection").
    bad, good = mesh.ips["courses-v1"]
    outlier = {"maxServerErrors": 3, "interval": {"unit": "s", "value": 10},
               "baseEjectionDuration": {"unit": "s", "value": 60}, "maxEjectionPercent": 50}
    spec = {"listeners": [{"portMapping": {"port": 8080, "protocol": "http"}, "outlierDetection": outlier}],
            "serviceDiscovery": {"awsCloudMap": {"namespaceName": NAMESPACE, "serviceName": "courses-v1"}}}
    mesh.appmesh.update_virtual_node(meshName=MESH, virtualNodeName="courses-v1", spec=spec)
    mesh.update_route("all", ALL_ROUTE(1, 0))
    mesh.wait_route("all", lambda r: [t["weight"] for t in r["targets"]] == [1, 0])
    wait_for("enrollment's proxy to apply the outlier detection", lambda: (
        mesh.http.config(mesh.ips["enrollment"][0])["nodes"]["courses-v1"]["listeners"][0]["outlier"]), timeout=20)
    cluster = egress("courses-v1")
    mesh.http.knobs(bad, error_rate=1)
    try:
        before = mesh.stats()
        # Round robin: every other call reaches the failing host; its third 5xx in a row ejects it.
        failed = 0
        while mesh.stats().get(f"{cluster}.outlier_detection.ejections_active", 0) == 0:
            status, _, _ = mesh.enroll(WEIGHTED)
            failed += status != 201
            assert failed <= 3 * 3, "no ejection after three times maxServerErrors failures"
        middle = mesh.stats()
        assert delta(before, middle, f"{cluster}.outlier_detection.ejections_enforced_consecutive_5xx") == 1
        assert middle[f"{cluster}.membership_healthy"] == 1
        status, clusters = mesh.http.get(f"http://{mesh.ips['enrollment'][0]}:9901/clusters")
        name = cluster.removeprefix("cluster.")
        assert f"{name}::{bad}:8080::health_flags::/failed_outlier_check" in clusters.decode()
        assert f"{name}::{good}:8080::health_flags::healthy" in clusters.decode()
        # While it is ejected, everything goes to the healthy host.
        results = mesh.enroll_many(WEIGHTED, 20)
        assert all(status == 201 for status, _, _ in results)
        assert delta(middle, mesh.stats(), f"{cluster}.upstream_rq_2xx") == 20
    finally:
        mesh.http.knobs(bad, error_rate=0)


def test_header_routes_send_beta_users_to_the_beta_and_nobody_else_over_10000_requests(mesh):
    # routes.html: routes are matched by priority (0 first); API_HttpRouteHeader.html: an exact
    # header match. Beta users (x-mylearning-beta: true) go to the node `flaky`, every other request
    # to the weighted route; counted at the gateway's egress clusters, as its operator would.
    beta = {"priority": 0, "httpRoute": {
        "match": {"prefix": "/", "headers": [{"name": "x-mylearning-beta", "match": {"exact": "true"}}]},
        "action": {"weightedTargets": [{"virtualNode": "flaky", "weight": 1}]}}}
    api = mesh.appmesh
    api.create_route(meshName=MESH, virtualRouterName="courses-router", routeName="beta", spec=beta)
    try:
        mesh.update_route("all", ALL_ROUTE(3, 1))
        mesh.wait_route("all", lambda r: [t["weight"] for t in r["targets"]] == [3, 1])
        gateway = mesh.ips["front"][0]
        url = f"http://{mesh.alb_dns}/api/courses/{WEIGHTED}"
        host, port = mesh.http.address
        probe_before = mesh.http.stats(gateway)

        def beta_routed() -> bool:
            return _get(host, port, url, {"x-mylearning-beta": "true"}) == 200 and delta(
                probe_before, mesh.http.stats(gateway), f"{egress('flaky')}.upstream_rq_2xx") > 0

        wait_for("the beta route at the gateway", beta_routed, timeout=20, every=0.2)
        before = mesh.http.stats(gateway)
        n = 10_000
        local = threading.local()

        def one(i: int) -> int:
            conn = getattr(local, "conn", None)
            if conn is None:
                conn = local.conn = http.client.HTTPConnection(host, port, timeout=10)
            headers = {"x-mylearning-beta": "true"} if i % 2 == 0 else ({"x-mylearning-beta": "false"} if i % 4 == 1
                                                                           else {})
            conn.request("GET", url, headers=headers)
            response = conn.getresponse()
            response.read()
            return response.status

        with ThreadPoolExecutor(CALLERS) as pool:
            statuses = list(pool.map(one, range(n)))
        assert statuses.count(200) == n, {s: statuses.count(s) for s in set(statuses)}
        after = mesh.http.stats(gateway)
        to_beta = delta(before, after, f"{egress('flaky')}.upstream_rq_2xx")
        to_others = sum(delta(before, after, f"{egress(node)}.upstream_rq_2xx") for node in ("courses-v1", "courses-v2"))
        assert (to_beta, to_others) == (n // 2, n // 2)
    finally:
        api.delete_route(meshName=MESH, virtualRouterName="courses-router", routeName="beta")


def _get(host: str, port: int, url: str, headers: dict) -> int:
    conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        conn.request("GET", url, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()
