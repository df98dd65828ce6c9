"""ECS fidelity: the table of calls (errors AWS gives, valid forms it accepts) and direct
behaviour checks of services, deployments and tasks on the embedded AWS."""
from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from mylearning.emulator.fidelity.cases import OK
from mylearning.emulator.fidelity.cases.ecs import (CASES, awsvpc, cluster, describe_service,
                                                    fargate_td, running, service, settled)


def test_table_covers_errors_and_valid_forms():
    expected = {c.expect for c in CASES}
    assert OK in expected and {"ClientException", "InvalidParameterException"} <= expected
    assert all(c.doc.startswith("https://docs.aws.amazon.com/") for c in CASES)


def test_create_answer_shows_rollout_then_service_is_stable(env):
    ecs = env.client("ecs")
    c = cluster(env)
    answer = ecs.create_service(cluster=c, serviceName="web", taskDefinition=fargate_td(env),
                                desiredCount=2, launchType="FARGATE",
                                networkConfiguration=awsvpc(env))["service"]
    assert answer["runningCount"] == 0 and answer["deployments"][0]["rolloutState"] == "IN_PROGRESS"
    ecs.get_waiter("services_stable").wait(cluster=c, services=["web"],
                                           WaiterConfig={"Delay": 0.5, "MaxAttempts": 40})
    svc = settled(env, c, "web")
    assert (svc["runningCount"], svc["pendingCount"]) == (2, 0)
    assert svc["events"][0]["message"] == "(service web) has reached a steady state."
    counts = ecs.describe_clusters(clusters=[c])["clusters"][0]
    assert (counts["runningTasksCount"], counts["activeServicesCount"]) == (2, 1)


def test_rollout_keeps_new_settings_and_stops_old_tasks(env):
    ecs = env.client("ecs")
    c, name, td = service(env, desired=2)
    settled(env, c, name)
    old = set(ecs.list_tasks(cluster=c, serviceName=name)["taskArns"])
    ecs.update_service(cluster=c, service=name, forceNewDeployment=True,
                       enableExecuteCommand=True, healthCheckGracePeriodSeconds=30)
    svc = settled(env, c, name)
    assert svc["enableExecuteCommand"] is True and svc["healthCheckGracePeriodSeconds"] == 30
    assert [d["status"] for d in svc["deployments"]] == ["PRIMARY"]
    new = set(ecs.list_tasks(cluster=c, serviceName=name)["taskArns"])
    assert len(new) == 2 and not new & old
    stopped = ecs.list_tasks(cluster=c, serviceName=name, desiredStatus="STOPPED")["taskArns"]
    assert set(stopped) == old


def test_update_accepts_family_and_reports_arn(env):
    ecs = env.client("ecs")
    c, name, td = service(env, desired=1)
    family = td.split("/")[-1].split(":")[0]
    fargate_td(env, family=family)
    svc = ecs.update_service(cluster=c, service=name, taskDefinition=family)["service"]
    assert svc["taskDefinition"].endswith(f"task-definition/{family}:2")


def test_delete_service_stops_its_tasks(env):
    ecs = env.client("ecs")
    c, name, _ = service(env, desired=2)
    ecs.delete_service(cluster=c, service=name, force=True)
    assert ecs.list_tasks(cluster=c, serviceName=name)["taskArns"] == []
    ecs.get_waiter("services_inactive").wait(cluster=c, services=[name],
                                             WaiterConfig={"Delay": 1, "MaxAttempts": 2})


def test_vcpu_and_gb_forms_are_stored_as_units(env):
    td = env.client("ecs").register_task_definition(
        family=env.name("forms"), requiresCompatibilities=["FARGATE"], networkMode="awsvpc",
        cpu="1 vCPU", memory="3 GB",
        containerDefinitions=[{"name": "web", "image": "nginx"}])["taskDefinition"]
    assert (td["cpu"], td["memory"]) == ("1024", "3072")


def test_tasks_waiter_and_task_fields(env):
    ecs = env.client("ecs")
    c = cluster(env)
    task = ecs.run_task(cluster=c, taskDefinition=fargate_td(env, cpu="512", memory="1024"),
                        capacityProviderStrategy=[{"capacityProvider": "FARGATE_SPOT", "weight": 1}],
                        networkConfiguration=awsvpc(env))["tasks"][0]
    ecs.get_waiter("tasks_running").wait(cluster=c, tasks=[task["taskArn"]],
                                         WaiterConfig={"Delay": 0.5, "MaxAttempts": 40})
    (seen,) = ecs.describe_tasks(cluster=c, tasks=[task["taskArn"]])["tasks"]
    assert (seen["cpu"], seen["memory"], seen["launchType"]) == ("512", "1024", "FARGATE")
    assert seen["capacityProviderName"] == "FARGATE_SPOT"


def test_service_without_security_groups_runs_in_default_group(env):
    ecs = env.client("ecs")
    c = cluster(env)
    net = awsvpc(env, groups=False)
    ecs.create_service(cluster=c, serviceName="nosg", taskDefinition=fargate_td(env),
                       desiredCount=1, launchType="FARGATE", networkConfiguration=net)
    svc = settled(env, c, "nosg")
    assert svc["networkConfiguration"] == net and svc["runningCount"] == 1


def test_errors_are_catchable_as_aws_exceptions(env):
    ecs = env.client("ecs")
    with pytest.raises(ecs.exceptions.ClientException):
        ecs.register_task_definition(
            family="bad", requiresCompatibilities=["FARGATE"], networkMode="awsvpc",
            cpu="256", memory="4096", containerDefinitions=[{"name": "web", "image": "nginx"}])
    c = cluster(env)
    with pytest.raises(ecs.exceptions.InvalidParameterException):
        ecs.create_service(cluster=c, serviceName="x", taskDefinition=fargate_td(env),
                           desiredCount=1, launchType="FARGATE")
    with pytest.raises(ClientError) as info:
        ecs.create_service(cluster=c, serviceName="y", taskDefinition=fargate_td(env),
                           desiredCount=1, launchType="FARGATE",
                           capacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1}],
                           networkConfiguration=awsvpc(env))
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_fargate_table_is_the_published_one():
    from mylearning.emulator.fidelity.ecs import FARGATE_SIZES

    assert set(FARGATE_SIZES[256]) == {512, 1024, 2048}
    assert set(FARGATE_SIZES[512]) == {1024, 2048, 3072, 4096}
    assert sorted(FARGATE_SIZES[1024]) == list(range(2048, 8193, 1024))
    assert sorted(FARGATE_SIZES[4096]) == list(range(8192, 30721, 1024))
    assert sorted(FARGATE_SIZES[8192]) == list(range(16384, 61441, 4096))
    assert sorted(FARGATE_SIZES[16384]) == list(range(32768, 122881, 8192))


@pytest.mark.parametrize("text, units", [
    ("256", 256), ("1024", 1024), ("1 vCPU", 1024), ("1 vcpu", 1024), ("0.25 vCPU", 256),
    (".5 vCPU", 512), ("2vCPU", 2048), ("lots", None), ("1.5", None), ("", None),
])
def test_cpu_forms(text, units):
    from mylearning.emulator.fidelity.ecs import cpu_units
    assert cpu_units(text) == units


@pytest.mark.parametrize("text, mib", [
    ("512", 512), ("2GB", 2048), ("2 GB", 2048), ("0.5GB", 512), ("3 gb", 3072),
    ("1 TB", None), ("2 GiB", None), ("big", None),
])
def test_memory_forms(text, mib):
    from mylearning.emulator.fidelity.ecs import memory_mib
    assert memory_mib(text) == mib


def test_kept_parameters_step_aside_when_moto_keeps_them():
    """A moto that stores a parameter itself keeps its own value."""
    from types import SimpleNamespace

    from mylearning.emulator.fidelity.ecs import keep_create_parameters

    own = [{"capacityProvider": "FARGATE", "weight": 1}]
    svc = SimpleNamespace(capacity_provider_strategy=own, deployments=[], launch_type=None,
                          platform_version="1.4.0", created_at="then")
    keep_create_parameters(svc, {"capacityProviderStrategy": [{"capacityProvider": "X"}],
                                 "enableExecuteCommand": True},
                           SimpleNamespace(default_capacity_provider_strategy=None))
    assert svc.capacity_provider_strategy == own and svc.enable_execute_command is True
    assert svc.created_at == "then"


def test_stopped_service_task_is_replaced(env):
    ecs = env.client("ecs")
    c, name, _ = service(env, desired=2)
    settled(env, c, name)
    first = ecs.list_tasks(cluster=c, serviceName=name)["taskArns"][0]
    ecs.stop_task(cluster=c, task=first, reason="testing replacement")
    now = ecs.list_tasks(cluster=c, serviceName=name)["taskArns"]
    assert len(now) == 2 and first not in now
    svc = settled(env, c, name)
    assert svc["runningCount"] == 2
    assert any("has started 1 tasks" in e["message"] for e in svc["events"][:4])
    assert running(env, c, [first], "STOPPED")[0]["stopCode"] == "UserInitiated"


def test_service_connect_namespace_must_exist_unless_it_is_the_cluster_default(env):
    ecs = env.client("ecs")
    with pytest.raises(ecs.exceptions.NamespaceNotFoundException):
        ecs.create_service(cluster=cluster(env), serviceName="web", taskDefinition=fargate_td(env),
                           desiredCount=1, launchType="FARGATE", networkConfiguration=awsvpc(env),
                           serviceConnectConfiguration={"enabled": True, "namespace": "nowhere.local"})
    c = cluster(env, serviceConnectDefaults={"namespace": "shop.local"})
    created = ecs.create_service(cluster=c, serviceName="web", taskDefinition=fargate_td(env),
                                 desiredCount=1, launchType="FARGATE", networkConfiguration=awsvpc(env),
                                 serviceConnectConfiguration={"enabled": True, "namespace": "shop.local"})
    assert created["service"]["status"] == "ACTIVE"


def test_deployment_rules_use_the_existing_service_on_update(env):
    ecs = env.client("ecs")
    c, name = cluster(env), env.name("svc")
    ecs.create_service(cluster=c, serviceName=name, desiredCount=1,
                       deploymentController={"type": "EXTERNAL"})
    with pytest.raises(ecs.exceptions.InvalidParameterException) as info:
        ecs.update_service(cluster=c, service=name, deploymentConfiguration={
            "deploymentCircuitBreaker": {"enable": True, "rollback": True}})
    assert "EXTERNAL" in info.value.response["Error"]["Message"]
