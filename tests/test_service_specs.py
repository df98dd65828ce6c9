"""service_specs: every MyLearning service's task definition is valid and hardened; its ECS service rolls out safely."""
from __future__ import annotations

import pytest

from mylearning import microservices, service_specs, taskdefs
from tests.fakes import OfflineSession


@pytest.mark.parametrize("service", list(microservices.SERVICES))
def test_every_service_definition_is_valid_and_hardened(service):
    spec = service_specs.task_definition(OfflineSession(), service, execution_role_arn="arn:exec",
                                         task_role_arn="arn:task", secret_arn="arn:secret",
                                         lab="99", account="123456789012")
    taskdefs.check_size(spec["cpu"], spec["memory"])
    for c in spec["containerDefinitions"]:
        assert c["logConfiguration"]["options"]["awslogs-group"] == f"/ecs/ml-t/{service}"
        assert c["readonlyRootFilesystem"] and c["user"] == "1000:1000"
        assert not taskdefs.plain_secrets(c)
    names = {c["name"] for c in spec["containerDefinitions"]}
    for c in spec["containerDefinitions"]:
        for dep in c.get("dependsOn", []):
            assert dep["containerName"] in names
    for var, key in microservices.SERVICES[service].secret_keys.items():
        assert {"name": var, "valueFrom": f"arn:secret:{key}::"} in spec["containerDefinitions"][-1]["secrets"]


def test_service_spec_uses_the_cluster_strategy_and_safe_rollouts():
    spec = service_specs.service_spec(OfflineSession(), "courses-api", cluster="c", task_definition="f",
                                      subnets=["a", "b"], security_group="sg", target_group_arn="tg",
                                      registry_arn="sd", lab="99")
    assert "launchType" not in spec and "capacityProviderStrategy" not in spec
    assert spec["deploymentConfiguration"]["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert spec["networkConfiguration"]["awsvpcConfiguration"]["assignPublicIp"] == "DISABLED"
    assert spec["loadBalancers"][0]["containerPort"] == microservices.APP_PORT
    assert len(microservices.target_group_name(OfflineSession(), "enrollment")) <= 32
