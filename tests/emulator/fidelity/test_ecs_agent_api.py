"""The ECS agent API and the scheduler on real task states, driven by a scripted agent.

The data plane's task agent is the real client of these calls (tests/dataplane run it);
here a test plays the agent so each rule of the state machine is checked on its own: an
emulator without a data plane, attached by the test's own DiscoverPollEndpoint call.
"""
from __future__ import annotations

import json
import time
import urllib.request

import boto3
import pytest

from conftest import EmulatorProcess
from tests.dataplane.world import wait_for


@pytest.fixture(scope="module")
def agent_emulator():
    emu = EmulatorProcess("--no-dataplane")
    yield emu
    emu.stop()


@pytest.fixture
def ecs(agent_emulator):
    agent_emulator.reset()
    session = boto3.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name="us-east-1")
    ecs = session.client("ecs", endpoint_url=agent_emulator.url)
    ec2 = session.client("ec2", endpoint_url=agent_emulator.url)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    ecs.discover_poll_endpoint()
    ecs.create_cluster(clusterName="c")
    ecs.network = {"awsvpcConfiguration": {"subnets": [subnet]}}
    ecs.url = agent_emulator.url
    return ecs


def _register(ecs, image="public.ecr.aws/mylearning/courses-api:1.1.0", health=False):
    app = {"name": "app", "image": image, "essential": True}
    if health:
        app["healthCheck"] = {"command": ["CMD-SHELL", "curl -f http://localhost:8080/health"]}
    return ecs.register_task_definition(
        family="f", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256",
        memory="512", containerDefinitions=[app, {"name": "side", "image": image,
                                                  "essential": False}])["taskDefinition"]


def _task(ecs, arn):
    return ecs.describe_tasks(cluster="c", tasks=[arn])["tasks"][0]


def _service_tasks(ecs, service="s"):
    arns = ecs.list_tasks(cluster="c", serviceName=service, desiredStatus="RUNNING")["taskArns"]
    return ecs.describe_tasks(cluster="c", tasks=arns)["tasks"] if arns else []


def _service(ecs, service="s"):
    return ecs.describe_services(cluster="c", services=[service])["services"][0]


def _report(ecs, task, status, **extra):
    ecs.submit_task_state_change(cluster="c", task=task["taskArn"], status=status, **extra)


def test_discover_poll_endpoint_points_at_this_emulator(ecs):
    answer = ecs.discover_poll_endpoint()
    assert answer["endpoint"] == ecs.url + "/mylearning/acs"
    assert answer["telemetryEndpoint"] == ecs.url + "/mylearning/tcs"


def test_a_task_moves_only_on_the_agents_reports(ecs):
    _register(ecs)
    task = ecs.run_task(cluster="c", taskDefinition="f", launchType="FARGATE",
                        networkConfiguration=ecs.network)["tasks"][0]
    assert task["lastStatus"] == "PROVISIONING"
    assert [(c["name"], c["lastStatus"]) for c in task["containers"]] == [("app", "PENDING"), ("side", "PENDING")]
    assert "startedAt" not in task
    assert _task(ecs, task["taskArn"])["lastStatus"] == "PROVISIONING"  # describing changes nothing
    _report(ecs, task, "PENDING", pullStartedAt=1.0e9)
    assert _task(ecs, task["taskArn"])["lastStatus"] == "PENDING"
    _report(ecs, task, "RUNNING", containers=[{"containerName": "app", "status": "RUNNING", "runtimeId": "r1"}])
    running = _task(ecs, task["taskArn"])
    assert running["lastStatus"] == "RUNNING" and "startedAt" in running
    assert running["containers"][0]["runtimeId"] == "r1"
    time.sleep(0.01)
    _report(ecs, task, "RUNNING")  # an agent that retried: the task started once
    assert _task(ecs, task["taskArn"])["startedAt"] == running["startedAt"]


def test_stop_task_waits_for_the_agent_and_keeps_user_initiated(ecs):
    _register(ecs)
    task = ecs.run_task(cluster="c", taskDefinition="f", launchType="FARGATE",
                        networkConfiguration=ecs.network)["tasks"][0]
    _report(ecs, task, "RUNNING")
    ecs.stop_task(cluster="c", task=task["taskArn"], reason="maintenance")
    stopping = _task(ecs, task["taskArn"])
    # Nothing to drain (no load balancer): the agent is told to stop the containers at once.
    assert (stopping["lastStatus"], stopping["desiredStatus"]) == ("STOPPING", "STOPPED")
    _report(ecs, task, "STOPPED", containers=[{"containerName": "app", "status": "STOPPED", "exitCode": 143}])
    stopped = _task(ecs, task["taskArn"])
    assert stopped["lastStatus"] == "STOPPED"
    assert stopped["stopCode"] == "UserInitiated" and stopped["stoppedReason"] == "maintenance"
    assert stopped["containers"][0]["exitCode"] == 143


def test_a_task_that_exits_on_its_own_gets_ecs_stop_codes(ecs):
    _register(ecs)
    ran = ecs.run_task(cluster="c", taskDefinition="f", launchType="FARGATE",
                       networkConfiguration=ecs.network)["tasks"][0]
    _report(ecs, ran, "RUNNING")
    _report(ecs, ran, "STOPPED", containers=[{"containerName": "app", "status": "STOPPED", "exitCode": 1}])
    assert _task(ecs, ran["taskArn"])["stopCode"] == "EssentialContainerExited"
    assert _task(ecs, ran["taskArn"])["stoppedReason"] == "Essential container in task exited"
    never = ecs.run_task(cluster="c", taskDefinition="f", launchType="FARGATE",
                         networkConfiguration=ecs.network)["tasks"][0]
    _report(ecs, never, "STOPPED", reason="CannotPullContainerError: no such image")
    stopped = _task(ecs, never["taskArn"])
    assert stopped["stopCode"] == "TaskFailedToStart"
    assert stopped["stoppedReason"] == "CannotPullContainerError: no such image"


def test_reports_for_unknown_tasks_and_bad_statuses_are_refused(ecs):
    from botocore.exceptions import ClientError
    with pytest.raises(ClientError) as missing:
        ecs.submit_task_state_change(cluster="c", task="arn:aws:ecs:us-east-1:123456789012:task/c/nope",
                                     status="RUNNING")
    assert missing.value.response["Error"]["Code"] == "InvalidParameterException"
    _register(ecs)
    task = ecs.run_task(cluster="c", taskDefinition="f", launchType="FARGATE",
                        networkConfiguration=ecs.network)["tasks"][0]
    with pytest.raises(ClientError) as bad:
        _report(ecs, task, "SLEEPING")
    assert bad.value.response["Error"]["Code"] == "InvalidParameterException"


def test_a_service_is_steady_only_when_its_tasks_run(ecs):
    _register(ecs)
    ecs.create_service(cluster="c", serviceName="s", taskDefinition="f", desiredCount=2,
                       launchType="FARGATE", networkConfiguration=ecs.network)
    tasks = _service_tasks(ecs)
    assert [t["lastStatus"] for t in tasks] == ["PROVISIONING", "PROVISIONING"]
    service = _service(ecs)
    assert (service["runningCount"], service["pendingCount"]) == (0, 2)
    assert service["deployments"][0]["rolloutState"] == "IN_PROGRESS"
    _report(ecs, tasks[0], "RUNNING")
    assert _service(ecs)["deployments"][0]["rolloutState"] == "IN_PROGRESS"
    _report(ecs, tasks[1], "RUNNING")
    service = _service(ecs)
    assert service["runningCount"] == 2
    # Steady only once the tasks stayed healthy a while (rollout.STEADY_SECONDS, scaled).
    assert service["deployments"][0]["rolloutState"] == "IN_PROGRESS"
    service = wait_for("the steady state", lambda: (lambda s: s if s["deployments"][0][
        "rolloutState"] == "COMPLETED" else None)(_service(ecs)), timeout=10)
    assert service["events"][0]["message"].endswith("has reached a steady state.")


def test_a_task_that_stops_on_its_own_is_replaced_and_counted(ecs):
    _register(ecs)
    ecs.create_service(cluster="c", serviceName="s", taskDefinition="f", desiredCount=1,
                       launchType="FARGATE", networkConfiguration=ecs.network)
    first = _service_tasks(ecs)[0]
    _report(ecs, first, "RUNNING")
    _report(ecs, first, "STOPPED", containers=[{"containerName": "app", "status": "STOPPED", "exitCode": 2}])
    tasks = _service_tasks(ecs)
    assert len(tasks) == 1 and tasks[0]["taskArn"] != first["taskArn"]
    assert tasks[0]["lastStatus"] == "PROVISIONING"
    service = _service(ecs)
    assert service["deployments"][0]["failedTasks"] == 1
    assert any(first["taskArn"].rsplit("/", 1)[1] in e["message"] for e in service["events"])


def test_health_checked_tasks_count_only_when_healthy(ecs):
    _register(ecs, health=True)
    ecs.create_service(cluster="c", serviceName="s", taskDefinition="f", desiredCount=1,
                       launchType="FARGATE", networkConfiguration=ecs.network)
    task = _service_tasks(ecs)[0]
    _report(ecs, task, "RUNNING")
    assert _service(ecs)["deployments"][0]["rolloutState"] == "IN_PROGRESS"
    report = {"region": "us-east-1", "health": [{"cluster": "c", "taskArn": task["taskArn"],
                                                 "containers": {"app": "HEALTHY"}, "healthStatus": "HEALTHY"}]}
    request = urllib.request.Request(ecs.url + "/mylearning/tcs", data=json.dumps(report).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    urllib.request.urlopen(request).read()
    described = _task(ecs, task["taskArn"])
    assert described["healthStatus"] == "HEALTHY" and described["containers"][0]["healthStatus"] == "HEALTHY"
    wait_for("the steady state", lambda: _service(ecs)["deployments"][0]["rolloutState"] == "COMPLETED",
             timeout=10)


def test_rolling_update_keeps_minimum_healthy_and_maximum_percent(ecs):
    _register(ecs)
    ecs.create_service(cluster="c", serviceName="s", taskDefinition="f", desiredCount=2,
                       launchType="FARGATE", networkConfiguration=ecs.network,
                       deploymentConfiguration={"maximumPercent": 150, "minimumHealthyPercent": 100})
    for task in _service_tasks(ecs):
        _report(ecs, task, "RUNNING")
    _register(ecs, image="public.ecr.aws/mylearning/courses-api:1.2.0")
    ecs.update_service(cluster="c", service="s", taskDefinition="f:2")
    # 150% of 2 = 3 tasks at most: one new task starts; no old task may stop before it runs.
    tasks = _service_tasks(ecs)
    assert len(tasks) == 3
    assert sum(t["taskDefinitionArn"].endswith(":2") for t in tasks) == 1
    new = next(t for t in tasks if t["taskDefinitionArn"].endswith(":2"))
    _report(ecs, new, "RUNNING")
    tasks = _service_tasks(ecs)
    # One old task stopped (2 healthy remain), and the second new one started.
    assert sum(t["taskDefinitionArn"].endswith(":1") for t in tasks) == 1
    assert sum(t["taskDefinitionArn"].endswith(":2") for t in tasks) == 2
    for task in tasks:
        if task["lastStatus"] != "RUNNING":
            _report(ecs, task, "RUNNING")
    tasks = _service_tasks(ecs)
    assert {t["taskDefinitionArn"][-2:] for t in tasks} == {":2"} and len(tasks) == 2
    wait_for("the steady state", lambda: _service(ecs)["deployments"][0]["rolloutState"] == "COMPLETED",
             timeout=10)


def test_circuit_breaker_rolls_back_after_the_threshold(ecs):
    _register(ecs)
    ecs.create_service(cluster="c", serviceName="s", taskDefinition="f", desiredCount=2,
                       launchType="FARGATE", networkConfiguration=ecs.network,
                       deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": True},
                                                "maximumPercent": 200, "minimumHealthyPercent": 100})
    for task in _service_tasks(ecs):
        _report(ecs, task, "RUNNING")
    _register(ecs, image="public.ecr.aws/mylearning/no-such-image:9")
    ecs.update_service(cluster="c", service="s", taskDefinition="f:2")
    failures = 0
    while failures < 3:  # threshold: 0.5 x 2 desired, at least 3
        assert _service(ecs)["deployments"][0]["rolloutState"] == "IN_PROGRESS"
        for task in _service_tasks(ecs):
            if task["taskDefinitionArn"].endswith(":2") and failures < 3:
                _report(ecs, task, "STOPPED", reason="CannotPullContainerError: not found")
                failures += 1
    service = _service(ecs)
    primary, failed = service["deployments"][0], service["deployments"][1]
    assert failed["rolloutState"] == "FAILED" and failed["failedTasks"] == 3
    assert primary["taskDefinition"].endswith(":1") and primary["rolloutState"] == "IN_PROGRESS"
    assert "rolling back" in primary["rolloutStateReason"]
    assert service["taskDefinition"].endswith(":1")
    assert all(not t["taskDefinitionArn"].endswith(":2") for t in _service_tasks(ecs))


def test_circuit_breaker_threshold_rule():
    from mylearning.emulator.fidelity.ecs.rollout import failure_threshold
    assert [failure_threshold(n) for n in (1, 2, 6, 7, 10, 400, 1000)] == [3, 3, 3, 4, 5, 200, 200]


def test_acs_long_poll_wakes_on_a_placement(ecs):
    import threading
    import time
    with urllib.request.urlopen(ecs.url + "/mylearning/acs?since=-1&wait=0") as resp:
        version = json.loads(resp.read())["version"]
    _register(ecs)
    woke = {}

    def poll():
        t0 = time.monotonic()
        with urllib.request.urlopen(ecs.url + f"/mylearning/acs?since={version}&wait=10") as resp:
            woke.update(json.loads(resp.read()), seconds=time.monotonic() - t0)

    thread = threading.Thread(target=poll)
    thread.start()
    time.sleep(0.2)
    ecs.run_task(cluster="c", taskDefinition="f", launchType="FARGATE", networkConfiguration=ecs.network)
    thread.join(10)
    assert woke["version"] > version and "us-east-1" in woke["regions"]
    assert woke["seconds"] < 5  # woken by the placement, not by the 10 s wait running out
