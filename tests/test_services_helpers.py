"""Lab 04's helpers: deployment bounds, ALB price, service arguments, Cloud Map lookups."""
from __future__ import annotations

import pytest

from mylearning import cloudmap, deployments, loadbalancer, microservices, service_specs


@pytest.mark.parametrize("desired, low, high, expected", [
    (2, 100, 200, (2, 4)), (2, 50, 200, (1, 4)), (3, 50, 150, (2, 4)), (4, 75, 125, (3, 5)),
    (2, 100, 100, (2, 2)), (0, 100, 200, (0, 0)), (10, 0, 100, (0, 10)),
])
def test_rolling_bounds_round_like_ecs(desired, low, high, expected):
    assert deployments.rolling_bounds(desired, low, high) == expected


def test_rolling_bounds_rejects_nonsense():
    with pytest.raises(ValueError):
        deployments.rolling_bounds(2, 200, 100)


def test_alb_monthly_cost_by_hand():
    # 730 h x ($0.0225 + 1 x $0.008) = $22.265
    assert loadbalancer.monthly_cost(1, 730) == pytest.approx(22.265)
    assert loadbalancer.monthly_cost(0, 24) == pytest.approx(0.54)
    with pytest.raises(ValueError):
        loadbalancer.monthly_cost(-1)


def test_rule_helpers():
    rule = {"Priority": "10", "Conditions": [{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/a*"]}}],
            "Actions": [{"Type": "forward", "ForwardConfig": {"TargetGroups": [
                {"TargetGroupArn": "tg1", "Weight": 90}, {"TargetGroupArn": "tg2", "Weight": 10}]}}]}
    assert loadbalancer.path_patterns(rule) == ["/a*"]
    assert loadbalancer.forward_targets(rule["Actions"]) == ["tg1", "tg2"]
    assert loadbalancer.forward_targets([{"Type": "fixed-response"}]) == []


def test_deployment_rows_and_events():
    from datetime import datetime, timezone
    service = {"deployments": [{"status": "PRIMARY", "rolloutState": "IN_PROGRESS",
                                "taskDefinition": "arn:x:task-definition/web:3", "desiredCount": 2,
                                "runningCount": 1, "pendingCount": 1}],
               "events": [{"createdAt": datetime(2026, 1, 1, 10, 0, 2, tzinfo=timezone.utc), "message": "b"},
                          {"createdAt": datetime(2026, 1, 1, 10, 0, 1, tzinfo=timezone.utc), "message": "a"}]}
    assert deployments.deployment_rows(service)[0]["revision"] == "web:3"
    assert deployments.event_lines(service) == ["10:00:01 a", "10:00:02 b"]


class _Session:
    prefix, learner, region_name = "ml-t", "t", "us-east-1"

    def name(self, *parts):
        return "-".join(("ml-t",) + parts)

    def tags(self, lab, style="Key"):
        from mylearning import identity
        return identity.tag_list(lab, "t", style=style)


def test_service_spec_uses_the_cluster_strategy_and_safe_rollouts():
    spec = service_specs.service_spec(_Session(), "courses-api", cluster="c", task_definition="f",
                                      subnets=["a", "b"], security_group="sg", target_group_arn="tg",
                                      registry_arn="sd", lab="04")
    assert "launchType" not in spec and "capacityProviderStrategy" not in spec
    assert spec["deploymentConfiguration"]["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert spec["networkConfiguration"]["awsvpcConfiguration"]["assignPublicIp"] == "DISABLED"
    assert spec["loadBalancers"][0]["containerPort"] == microservices.APP_PORT
    assert len(microservices.target_group_name(_Session(), "enrollment")) <= 32


def test_cloud_map_lookups_stay_in_their_namespace(session, emulator):
    """ListServices' NAMESPACE_ID filter is not trusted: each service is confirmed by its namespace."""
    from mylearning import lookup, prepare
    prepare.foundation(session)
    vpc = lookup.vpc(session, session.name("vpc"))
    mine = cloudmap.ensure_private_namespace(session, "04", cloudmap.namespace_name(session), vpc["VpcId"])
    sd = session.client("servicediscovery")
    other_vpc = session.client("ec2").create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    other = sd.create_private_dns_namespace(Name=session.name("other") + ".internal", Vpc=other_vpc)
    other_ns = sd.get_operation(OperationId=other["OperationId"])["Operation"]["Targets"]["NAMESPACE"]
    sd.create_service(Name="courses-api", NamespaceId=other_ns,
                      DnsConfig=cloudmap.dns_config(), HealthCheckCustomConfig={"FailureThreshold": 1})
    assert lookup.discovery_service(session, mine["Id"], "courses-api") is None
    created = cloudmap.ensure_service(session, "04", mine["Id"], "courses-api")
    assert created["NamespaceId"] == mine["Id"]
    assert cloudmap.ensure_service(session, "04", mine["Id"], "courses-api")["Id"] == created["Id"]
    assert [s["Name"] for s in lookup.discovery_services(session, mine["Id"])] == ["courses-api"]
