"""The task agent against a real emulator and data plane: tasks that really run."""
from __future__ import annotations

import json
import time

import pytest

from tests.dataplane.world import World, private_ip, wait_for


@pytest.fixture
def world(emulator_with_dataplane):
    emulator_with_dataplane.reset()
    return World(emulator_with_dataplane.url)


def test_a_task_runs_and_answers_on_its_private_ip(world):
    task = world.run(world.register())
    assert task["lastStatus"] == "PROVISIONING"
    running = world.wait_status(task["taskArn"], "RUNNING")
    assert "pullStartedAt" in running and "startedAt" in running
    assert running["containers"][0]["lastStatus"] == "RUNNING"
    status, body = wait_for("the courses API to answer",
                            lambda: (lambda r: r if r[0] == 200 else None)(
                                world.get(f"http://{private_ip(running)}:8080/health")))
    assert json.loads(body)["version"] == "1.1.0"
    status, body = world.get(f"http://{private_ip(running)}:8080/api/courses")
    assert status == 200 and len(json.loads(body)) > 3


def test_an_image_outside_the_catalogue_fails_to_pull(world):
    task = world.run(world.register(world.container(image="public.ecr.aws/mylearning/nope:1.0")))
    stopped = world.wait_status(task["taskArn"], "STOPPED")
    assert stopped["stopCode"] == "TaskFailedToStart"
    assert stopped["stoppedReason"].startswith("CannotPullContainerError")
    assert stopped["containers"][0]["reason"].startswith("CannotPullContainerError")


def test_secrets_reach_the_app_only_with_the_execution_roles_permission(world):
    denied = world.run(world.register(role=world.role_without_secrets))
    stopped = world.wait_status(denied["taskArn"], "STOPPED")
    assert stopped["stopCode"] == "TaskFailedToStart"
    assert stopped["stoppedReason"].startswith("ResourceInitializationError")
    assert "secretsmanager:GetSecretValue" in stopped["stoppedReason"]
    allowed = world.run(world.register(role=world.role))
    running = world.wait_status(allowed["taskArn"], "RUNNING")
    # The app exits 1 at start without its database credentials; it keeps serving with them.
    time.sleep(0.5)
    assert world.task(running["taskArn"])["lastStatus"] == "RUNNING"


def test_a_crashing_essential_container_stops_the_task_with_its_exit_code(world):
    task = world.run(world.register(world.container(env={"CRASH_AFTER_SECONDS": "0.2", "EXIT_CODE": "3"})))
    stopped = world.wait_status(task["taskArn"], "STOPPED")
    assert stopped["stopCode"] == "EssentialContainerExited"
    assert stopped["stoppedReason"] == "Essential container in task exited"
    assert stopped["containers"][0]["exitCode"] == 3


def test_out_of_memory_stops_the_task_with_137(world):
    task = world.run(world.register(world.container(env={"MEMORY_GROWTH_MB_PER_S": "400"}, memory=128)))
    stopped = world.wait_status(task["taskArn"], "STOPPED", timeout=30)
    assert stopped["containers"][0]["exitCode"] == 137
    assert stopped["containers"][0]["reason"].startswith("OutOfMemoryError")
    assert stopped["stoppedReason"].startswith("OutOfMemoryError")


def test_stop_task_sends_sigterm_then_sigkill_after_stop_timeout(world):
    polite = world.run(world.register(world.container()))
    stubborn = world.run(world.register(world.container(env={"IGNORE_SIGTERM": "true"}, stopTimeout=2),
                                        family="g"))
    for task in (polite, stubborn):
        world.wait_status(task["taskArn"], "RUNNING")
    t0 = time.monotonic()
    for task in (polite, stubborn):
        world.ecs.stop_task(cluster="c", task=task["taskArn"], reason="test")
    assert world.wait_status(polite["taskArn"], "STOPPED")["containers"][0]["exitCode"] == 0
    stopped = world.wait_status(stubborn["taskArn"], "STOPPED")
    assert stopped["containers"][0]["exitCode"] == 137
    assert time.monotonic() - t0 >= 1.9  # it waited for stopTimeout before SIGKILL
    assert stopped["stopCode"] == "UserInitiated"


def test_a_container_health_check_reports_healthy_and_unhealthy(world):
    check = {"command": ["CMD-SHELL", "curl -f http://localhost:8080/health || exit 1"],
             "interval": 5, "timeout": 2, "retries": 1}
    good = world.run(world.register(world.container(healthCheck=check)))
    bad = world.run(world.register(world.container(healthCheck=check, env={"HEALTH": "fail"}), family="g"))
    healthy = wait_for("HEALTHY", lambda: (lambda t: t if t.get("healthStatus") == "HEALTHY" else None)(
        world.task(good["taskArn"])))
    assert healthy["containers"][0]["healthStatus"] == "HEALTHY"
    unhealthy = wait_for("UNHEALTHY", lambda: (lambda t: t if t.get("healthStatus") == "UNHEALTHY" else None)(
        world.task(bad["taskArn"])))
    assert unhealthy["containers"][0]["healthStatus"] == "UNHEALTHY"


def test_depends_on_success_runs_the_init_container_first(world):
    init = world.container("init", "public.ecr.aws/docker/library/busybox:1.36", secrets=False,
                           essential=False, command=["sh", "-c", "mkdir -p /scratch/in && echo ready"],
                           mountPoints=[{"sourceVolume": "scratch", "containerPath": "/scratch"}])
    app = world.container(dependsOn=[{"containerName": "init", "condition": "SUCCESS"}])
    task = world.run(world.register(init, app, volumes=[{"name": "scratch"}]))
    running = world.wait_status(task["taskArn"], "RUNNING")
    containers = {c["name"]: c for c in running["containers"]}
    wait_for("init to exit 0", lambda: world.task(task["taskArn"])["containers"][0].get("exitCode") == 0)
    assert containers["app"]["lastStatus"] == "RUNNING"
    failing = dict(init, command=["sh", "-c", "exit 4"])
    task = world.run(world.register(failing, app, volumes=[{"name": "scratch"}], family="g"))
    stopped = world.wait_status(task["taskArn"], "STOPPED")
    assert "SUCCESS" in stopped["stoppedReason"] or "dependency" in stopped["stoppedReason"]


def test_awslogs_writes_each_container_to_its_stream(world):
    task = world.run(world.register())
    running = world.wait_status(task["taskArn"], "RUNNING")
    stream = f"svc/app/{running['taskArn'].rsplit('/', 1)[1]}"
    world.get(f"http://{private_ip(running)}:8080/api/courses")
    events = wait_for("log events", lambda: world.logs.get_log_events(
        logGroupName="/ecs/app", logStreamName=stream)["events"])
    assert any(e["message"].startswith("{") for e in events)  # structured JSON lines


def test_a_missing_log_group_fails_the_task(world):
    container = world.container()
    container["logConfiguration"]["options"]["awslogs-group"] = "/ecs/missing"
    stopped = world.wait_status(world.run(world.register(container))["taskArn"], "STOPPED")
    assert stopped["stopCode"] == "TaskFailedToStart"
    assert "ResourceInitializationError" in stopped["stoppedReason"]
    container["logConfiguration"]["options"]["awslogs-create-group"] = "true"
    world.iam.put_role_policy(RoleName="exec", PolicyName="logs", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "logs:CreateLogGroup", "Resource": "*"}]}))
    world.wait_status(world.run(world.register(container, family="g"))["taskArn"], "RUNNING")
    assert world.logs.describe_log_groups(logGroupNamePrefix="/ecs/missing")["logGroups"]


def test_a_service_replaces_a_task_that_crashes(world):
    world.register(world.container(env={"CRASH_AFTER_SECONDS": "0.3"}))
    world.ecs.create_service(cluster="c", serviceName="s", taskDefinition="f", desiredCount=1,
                             launchType="FARGATE", networkConfiguration=world.network)
    wait_for("a failed task", lambda: world.service()["deployments"][0].get("failedTasks", 0) >= 2, timeout=30)
    stopped = world.service_tasks(desired="STOPPED")
    assert stopped and all(t["stopCode"] == "EssentialContainerExited" for t in stopped)
    assert any("has started 1 tasks" in e["message"] for e in world.service()["events"])


def test_circuit_breaker_rolls_back_a_release_whose_tasks_keep_failing(world):
    world.register()
    world.ecs.create_service(cluster="c", serviceName="s", taskDefinition="f", desiredCount=2,
                             launchType="FARGATE", networkConfiguration=world.network,
                             deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": True}})
    wait_for("steady state", lambda: world.service()["deployments"][0]["rolloutState"] == "COMPLETED")
    world.register(world.container(env={"CRASH_AFTER_SECONDS": "0.1"}))
    world.ecs.update_service(cluster="c", service="s", taskDefinition="f:2")
    service = wait_for("the rollback", lambda: (lambda s: s if any(
        d["rolloutState"] == "FAILED" for d in s["deployments"]) else None)(world.service()), timeout=40)
    assert service["taskDefinition"].endswith(":1")
    wait_for("the rolled-back deployment to complete",
             lambda: world.service()["deployments"][0]["rolloutState"] == "COMPLETED", timeout=30)
    assert all(t["taskDefinitionArn"].endswith(":1") for t in world.service_tasks())


def test_a_rolling_update_keeps_the_minimum_healthy_count_at_every_moment(world):
    check = {"command": ["CMD-SHELL", "curl -f http://localhost:8080/health"], "interval": 5, "retries": 1}
    world.register(world.container(healthCheck=check))
    world.ecs.create_service(cluster="c", serviceName="s", taskDefinition="f", desiredCount=3,
                             launchType="FARGATE", networkConfiguration=world.network,
                             deploymentConfiguration={"minimumHealthyPercent": 100, "maximumPercent": 150})
    wait_for("steady state", lambda: world.service()["deployments"][0]["rolloutState"] == "COMPLETED", timeout=30)
    world.register(world.container(image="public.ecr.aws/mylearning/courses-api:1.2.0", healthCheck=check))
    world.ecs.update_service(cluster="c", service="s", taskDefinition="f:2")
    lowest, most = 99, 0
    while world.service()["deployments"][0]["rolloutState"] != "COMPLETED":
        tasks = world.service_tasks()
        healthy = [t for t in tasks if t["lastStatus"] == "RUNNING" and t.get("healthStatus") == "HEALTHY"]
        lowest, most = min(lowest, len(healthy)), max(most, len(tasks))
        time.sleep(0.05)
    assert lowest >= 3, f"only {lowest} healthy tasks at one moment (minimumHealthyPercent 100 of 3)"
    assert most <= 4  # maximumPercent 150 of 3
    assert {t["taskDefinitionArn"][-2:] for t in world.service_tasks()} == {":2"}


def test_usage_reaches_cloudwatch_as_ecs_and_container_insights_metrics(world):
    world.ecs.update_cluster_settings(cluster="c", settings=[{"name": "containerInsights", "value": "enabled"}])
    world.register()
    world.ecs.create_service(cluster="c", serviceName="s", taskDefinition="f", desiredCount=1,
                             launchType="FARGATE", networkConfiguration=world.network)
    cloudwatch = world.client("cloudwatch")

    def names(namespace):
        return {m["MetricName"] for m in cloudwatch.list_metrics(Namespace=namespace)["Metrics"]
                if {"Name": "ServiceName", "Value": "s"} in m["Dimensions"]}

    wait_for("AWS/ECS metrics", lambda: {"CPUUtilization", "MemoryUtilization"} <= names("AWS/ECS"),
             timeout=40, every=0.5)
    # A period's usage and the service's task counts are read at different moments, so the
    # first period may carry usage before the counts know the service: wait for all three.
    wanted = {"RunningTaskCount", "MemoryUtilized", "CpuUtilized"}
    wait_for("Container Insights", lambda: wanted <= names("ECS/ContainerInsights"),
             timeout=30, every=0.5)
    stats = cloudwatch.get_metric_statistics(
        Namespace="ECS/ContainerInsights", MetricName="RunningTaskCount", Statistics=["Maximum"],
        Dimensions=[{"Name": "ClusterName", "Value": "c"}, {"Name": "ServiceName", "Value": "s"}],
        StartTime=time.time() - 600, EndTime=time.time() + 60, Period=60)["Datapoints"]
    assert stats and max(p["Maximum"] for p in stats) == 1
    memory = cloudwatch.get_metric_statistics(
        Namespace="ECS/ContainerInsights", MetricName="MemoryUtilized", Statistics=["Maximum"],
        Dimensions=[{"Name": "ClusterName", "Value": "c"}, {"Name": "ServiceName", "Value": "s"}],
        StartTime=time.time() - 600, EndTime=time.time() + 60, Period=60)["Datapoints"]
    assert memory and 0 < max(p["Maximum"] for p in memory) < 512  # a real process's MiB, under its size
