"""MyLearning's services as API requests: their hardened task definitions and ECS services.

The same arguments serve the lab that writes them step by step, the labs after it
(through `prepare`) and the graders that compare against them.
"""
from __future__ import annotations

from typing import Any

from mylearning import taskdefs
from mylearning.microservices import (APP_PORT, DESIRED_COUNT, GRACE_PERIOD_SECONDS, HEALTH_PATH,
                                      INIT_CONTAINER, INIT_IMAGE, SERVICES, TMP_VOLUME,
                                      backend_environment, family, image, log_group, service_name)


def task_definition(session: Any, service: str, *, execution_role_arn: str, task_role_arn: str,
                    secret_arn: str | None, lab: str, version: str | None = None,
                    arch: str | None = None, account: str | None = None) -> dict[str, Any]:
    """RegisterTaskDefinition arguments for one of MyLearning's services, hardened."""
    spec = SERVICES[service]
    log = taskdefs.awslogs(log_group(session, service), session.region_name, service)
    app_image = image(session, service, version or spec.version, account)
    secrets = {var: f"{secret_arn}:{key}::" for var, key in spec.secret_keys.items()} if secret_arn else None
    if spec.port:
        app = taskdefs.container(
            "app", app_image, log=log, port=spec.port, environment=backend_environment(session, service),
            secrets=secrets, health_check=taskdefs.http_health_check(spec.port, HEALTH_PATH),
            writable_paths={TMP_VOLUME: "/tmp"})
        containers, volumes = [app], [TMP_VOLUME]
    else:
        init = taskdefs.container(
            INIT_CONTAINER, INIT_IMAGE, log=log, essential=False,
            command=["sh", "-c", "mkdir -p /scratch/in /scratch/out"],
            writable_paths={"scratch": "/scratch"})
        app = taskdefs.container(
            "app", app_image, log=log, environment=backend_environment(session, service), secrets=secrets,
            health_check=taskdefs.command_health_check(
                "test -n \"$(find /scratch/heartbeat -mmin -1)\" || exit 1", start_period=60),
            writable_paths={"scratch": "/scratch", TMP_VOLUME: "/tmp"},
            depends_on={INIT_CONTAINER: "SUCCESS"})
        containers, volumes = [init, app], ["scratch", TMP_VOLUME]
    return taskdefs.fargate_task(
        family(session, service), containers, cpu=spec.cpu, memory=spec.memory,
        execution_role_arn=execution_role_arn, task_role_arn=task_role_arn,
        arch=arch or spec.arch, volumes=volumes, tags=session.tags(lab, style="key"))


def service_spec(session: Any, service: str, *, cluster: str, task_definition: str,
                 subnets: list[str], security_group: str, target_group_arn: str,
                 registry_arn: str, lab: str) -> dict[str, Any]:
    """CreateService arguments for a web service: private subnets, ALB, Cloud Map, safe rollouts.

    No launchType and no capacityProviderStrategy: the cluster's default strategy applies
    (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html).
    """
    return {
        "cluster": cluster, "serviceName": service_name(session, service),
        "taskDefinition": task_definition, "desiredCount": DESIRED_COUNT,
        "deploymentConfiguration": {
            "deploymentCircuitBreaker": {"enable": True, "rollback": True},
            "minimumHealthyPercent": 100, "maximumPercent": 200},
        "healthCheckGracePeriodSeconds": GRACE_PERIOD_SECONDS,
        "networkConfiguration": {"awsvpcConfiguration": {
            "subnets": list(subnets), "securityGroups": [security_group], "assignPublicIp": "DISABLED"}},
        "loadBalancers": [{"targetGroupArn": target_group_arn, "containerName": "app",
                           "containerPort": APP_PORT}],
        "serviceRegistries": [{"registryArn": registry_arn}],
        "propagateTags": "SERVICE", "enableECSManagedTags": True,
        "tags": session.tags(lab, style="key"),
    }
