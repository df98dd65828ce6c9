"""App Mesh traffic interception (proxyConfiguration) without iptables: the rules, then a
real task whose app port is answered by its proxy container and whose app's calls leave
through the proxy's egress port."""
from __future__ import annotations

import json

import pytest

from mylearning.dataplane.images.container import Container
from mylearning.dataplane.interception import Interception, InterceptionError
from tests.dataplane.world import World, private_ip, wait_for

PROPERTIES = [
    {"name": "IgnoredUID", "value": "1337"},
    {"name": "ProxyIngressPort", "value": "15000"},
    {"name": "ProxyEgressPort", "value": "15001"},
    {"name": "AppPorts", "value": "8080"},
    {"name": "EgressIgnoredIPs", "value": "169.254.170.2,169.254.169.254,10.9.0.0/16"},
    {"name": "EgressIgnoredPorts", "value": "5432"},
]


def _definition(properties=PROPERTIES, **extra) -> dict:
    return {"proxyConfiguration": {"type": "APPMESH", "containerName": "envoy",
                                   "properties": properties, **extra}}


def test_a_task_without_an_appmesh_proxy_intercepts_nothing():
    assert Interception.from_definition({}) is None
    assert Interception.from_definition({"proxyConfiguration": None}) is None


def test_inbound_app_ports_go_to_the_ingress_port_and_other_ports_are_left_alone():
    rules = Interception.from_definition(_definition())
    assert rules.container == "envoy"
    assert rules.inbound_port(8080) == 15000
    assert rules.inbound_port(9901) == 9901  # the admin port is not an app port
    assert rules.egress_proxy("127.0.3.4") == "http://127.0.3.4:15001"


@pytest.mark.parametrize("user, ignored", [
    ("1337", True), ("1337:1337", True), ("1000", False), (None, False), ("", False)])
def test_the_proxys_own_user_is_not_redirected(user, ignored):
    assert Interception.from_definition(_definition()).ignores_user(user) is ignored


def test_the_ignored_gid_alone_identifies_the_proxy():
    rules = Interception.from_definition(_definition([
        {"name": "IgnoredGID", "value": "999"}, {"name": "ProxyIngressPort", "value": "15000"},
        {"name": "ProxyEgressPort", "value": "15001"}, {"name": "AppPorts", "value": "8080"}]))
    assert rules.ignores_user("1000:999") and not rules.ignores_user("999")


@pytest.mark.parametrize("host, port, ignored", [
    ("169.254.170.2", 80, True), ("10.9.3.4", 8080, True), ("10.0.1.5", 8080, False),
    ("db.internal", 5432, True), ("courses-api.ns.internal", 8080, False)])
def test_egress_ignored_ips_and_ports_leave_without_the_proxy(host, port, ignored):
    rules = Interception.from_definition(_definition())
    assert rules.ignores_destination(host, port) is ignored
    container = Container(name="app", address="127.0.3.4", ports=[8080], env={},
                          proxy="http://127.0.0.1:3128", egress=rules.to_dict())
    expected = "http://127.0.0.1:3128" if ignored else "http://127.0.3.4:15001"
    assert container.proxy_for(f"http://{host}:{port}/x") == expected


def test_requests_inside_the_task_never_take_a_proxy():
    rules = Interception.from_definition(_definition())
    container = Container(name="app", address="127.0.3.4", ports=[8080], env={},
                          proxy="http://127.0.0.1:3128", egress=rules.to_dict())
    assert container.proxy_for("http://localhost:9901/stats") is None
    assert container.proxy_for("http://127.0.3.4:8080/health") is None
    plain = Container(name="app", address="127.0.3.4", ports=[8080], env={}, proxy="http://127.0.0.1:3128")
    assert plain.proxy_for("http://courses-api.ns.internal:8080/") == "http://127.0.0.1:3128"


@pytest.mark.parametrize("properties, message", [
    ([{"name": "AppPorts", "value": "8080"}, {"name": "ProxyEgressPort", "value": "15001"}], "ProxyIngressPort"),
    ([{"name": "AppPorts", "value": "80a"}, {"name": "ProxyIngressPort", "value": "15000"},
      {"name": "ProxyEgressPort", "value": "15001"}], "AppPorts"),
    ([{"name": "AppPorts", "value": "8080"}, {"name": "ProxyIngressPort", "value": "15000"},
      {"name": "ProxyEgressPort", "value": "15001"}, {"name": "EgressIgnoredIPs", "value": "nowhere"}],
     "EgressIgnoredIPs"),
])
def test_a_configuration_the_cni_plugin_cannot_apply_is_named(properties, message):
    with pytest.raises(InterceptionError, match=message):
        Interception.from_definition(_definition(properties))


# -- a real task ------------------------------------------------------------------------

@pytest.fixture
def world(emulator_with_dataplane):
    emulator_with_dataplane.reset()
    return World(emulator_with_dataplane.url)


def test_a_task_with_a_proxy_configuration_routes_through_its_proxy_container(world):
    """The "proxy" here is a courses API 1.2.0 listening on the ingress and egress ports (the
    App Mesh Envoy image stands there in the mesh labs): a request from outside to the app
    port is answered by it, the app's own call to its backend reaches it on the egress port,
    and a request inside the task reaches the app itself."""
    courses = "public.ecr.aws/mylearning/courses-api:1.2.0"
    enrollment = "public.ecr.aws/mylearning/enrollment:1.1.0"
    ingress = world.container("envoy", courses, env={"PORT": 15000}, user="1337", essential=True)
    ingress["portMappings"] = [{"containerPort": 15000}]
    egress = world.container("egress", courses, env={"PORT": 15001}, user="1337", essential=True)
    egress["portMappings"] = [{"containerPort": 15001}]
    # The app listens on a port that is not an app port, so a test can reach it directly.
    app = world.container("app", enrollment, env={"PORT": 8081,
                                                  "COURSES_API_URL": "http://courses-api.nowhere.internal:8080"})
    app["portMappings"] = [{"containerPort": 8081}]
    arn = world.register(app, ingress, egress, family="meshed", memory="1024", proxyConfiguration={
        "type": "APPMESH", "containerName": "envoy", "properties": PROPERTIES})
    task = world.wait_status(world.run(arn)["taskArn"], "RUNNING")
    ip = private_ip(task)
    status, body = wait_for("the proxy to answer the app port",
                            lambda: (lambda r: r if r[0] == 200 else None)(world.get(f"http://{ip}:8080/health")))
    assert json.loads(body)["service"] == "courses-api"  # the proxy container, not the app
    status, body = wait_for("the app to answer on its own port",
                            lambda: (lambda r: r if r[0] == 200 else None)(world.get(f"http://{ip}:8081/health")))
    assert json.loads(body)["service"] == "enrollment"
    # The app's call to its backend leaves through the egress port whatever name it dials:
    # nothing resolves courses-api.nowhere.internal, yet the course is found (by the
    # stand-in on 15001).
    status, body = world.post(f"http://{ip}:8081/api/enroll", {"learner": "ada", "course": "ecs-101"})
    assert status == 201, body
