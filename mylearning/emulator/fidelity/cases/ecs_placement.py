"""ECS fidelity cases: where tasks run, what ECS registers for them, which revision a family means.

Behaviour cases (valid calls whose effects must match ECS): tasks spread across the
zones of their subnets with addresses from those subnets, capacity providers split by
base and weight, load balancer targets and Cloud Map instances follow the tasks, and
task definition families resolve to their latest ACTIVE revision.
"""
from __future__ import annotations

import ipaddress
from collections import Counter
from typing import Any, Callable

from mylearning.emulator.fidelity.cases import OK, Case, Env
from mylearning.emulator.fidelity.cases.ecs import (API, GUIDE, awsvpc, cluster, container, expect,
                                                    fargate_td, network, settled)

STRATEGY = [{"capacityProvider": "FARGATE", "base": 1, "weight": 1},
            {"capacityProvider": "FARGATE_SPOT", "weight": 3}]
DOC_SPREAD = GUIDE + "task-placement-strategies.html"
DOC_PROVIDERS = GUIDE + "cluster-capacity-providers.html"
DOC_DISCOVERY = GUIDE + "service-discovery.html"
DOC_DESCRIBE_TD = API + "API_DescribeTaskDefinition.html"


def _subnets(env: Env) -> dict[str, dict]:
    ec2 = env.client("ec2")
    found = ec2.describe_subnets(SubnetIds=network(env)["subnets"])["Subnets"]
    return {s["SubnetId"]: s for s in found}


def _details(task: dict) -> dict[str, Any]:
    eni = next(a for a in task.get("attachments", []) if a["type"] == "ElasticNetworkInterface")
    return {d["name"]: d.get("value") for d in eni["details"]}


def _service_tasks(env: Env, c: str, name: str) -> list[dict]:
    ecs = env.client("ecs")
    arns = ecs.list_tasks(cluster=c, serviceName=name)["taskArns"]
    return ecs.describe_tasks(cluster=c, tasks=arns)["tasks"] if arns else []


def _statuses(tasks: list[dict]) -> str:
    """What a failure message needs to tell a late start from a missed registration."""
    return ", ".join(f"{t['taskArn'][-8:]} {t['lastStatus']}" for t in tasks)


def _check_placed(env: Env, tasks: list[dict]) -> None:
    subnets = _subnets(env)
    for task in tasks:
        details = _details(task)
        subnet = subnets[details["subnetId"]]
        ip = ipaddress.ip_address(details["privateIPv4Address"])
        expect(ip in ipaddress.ip_network(subnet["CidrBlock"]),
               f"task address {ip} is outside its subnet {subnet['CidrBlock']}")
        expect(task.get("availabilityZone") == subnet["AvailabilityZone"],
               f"task zone {task.get('availabilityZone')}, subnet zone {subnet['AvailabilityZone']}")
    zones = Counter(t.get("availabilityZone") for t in tasks)
    expect(len(zones) == 2 and max(zones.values()) - min(zones.values()) <= 1,
           f"tasks not spread across the two zones: {dict(zones)}")


def _new_service(env: Env, desired: int, **extra: Any) -> tuple[str, str]:
    c = cluster(env)
    name = env.name("svc")
    extra.setdefault("launchType", "FARGATE")
    extra = {k: v for k, v in extra.items() if v is not None}
    env.client("ecs").create_service(cluster=c, serviceName=name, taskDefinition=fargate_td(env),
                                     desiredCount=desired, networkConfiguration=awsvpc(env),
                                     **extra)
    return c, name


# ---------------------------------------------------------------- placement

def _service_spreads_across_zones(env: Env) -> None:
    c, name = _new_service(env, 4)
    _check_placed(env, _service_tasks(env, c, name))


def _run_task_spreads_across_zones(env: Env) -> None:
    tasks = env.client("ecs").run_task(cluster=cluster(env), taskDefinition=fargate_td(env),
                                       launchType="FARGATE", count=3,
                                       networkConfiguration=awsvpc(env))["tasks"]
    _check_placed(env, tasks)


def _scale_in_keeps_spread(env: Env) -> None:
    c, name = _new_service(env, 5)
    env.client("ecs").update_service(cluster=c, service=name, desiredCount=2)
    _check_placed(env, _service_tasks(env, c, name))


def _service_follows_strategy(env: Env) -> None:
    c, name = _new_service(env, 5, launchType=None, capacityProviderStrategy=STRATEGY)
    split = Counter(t.get("capacityProviderName") for t in _service_tasks(env, c, name))
    expect(split == Counter({"FARGATE": 2, "FARGATE_SPOT": 3}),
           f"FARGATE base 1 weight 1 + FARGATE_SPOT weight 3 for 5 tasks gave {dict(split)}")


def _service_scaled_up_follows_strategy(env: Env) -> None:
    c, name = _new_service(env, 1, launchType=None, capacityProviderStrategy=STRATEGY)
    env.client("ecs").update_service(cluster=c, service=name, desiredCount=5)
    split = Counter(t.get("capacityProviderName") for t in _service_tasks(env, c, name))
    expect(split == Counter({"FARGATE": 2, "FARGATE_SPOT": 3}),
           f"scaled from 1 to 5 tasks: {dict(split)}")


def _run_task_follows_strategy(env: Env) -> None:
    tasks = env.client("ecs").run_task(cluster=cluster(env), taskDefinition=fargate_td(env),
                                       count=5, capacityProviderStrategy=STRATEGY,
                                       networkConfiguration=awsvpc(env))["tasks"]
    split = Counter(t.get("capacityProviderName") for t in tasks)
    expect(split == Counter({"FARGATE": 2, "FARGATE_SPOT": 3}), f"run_task gave {dict(split)}")


# ---------------------------------------------------------------- registration

def _target_group(env: Env) -> str:
    elb, net = env.client("elbv2"), network(env)
    # The web image's front page answers 502 while the courses API it calls is missing, so
    # the group checks /health (with "/" the targets fail their checks, as on AWS).
    arn = elb.create_target_group(Name=env.name("tg"), Protocol="HTTP", Port=80, VpcId=net["vpc"],
                                  TargetType="ip", HealthCheckPath="/health")["TargetGroups"][0]["TargetGroupArn"]
    lb = elb.create_load_balancer(Name=env.name("alb"), Subnets=net["subnets"])["LoadBalancers"][0]
    elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": arn}])
    return arn


def _registry(env: Env) -> dict:
    sd = env.client("servicediscovery")
    operation = sd.create_private_dns_namespace(Name=env.name("ns") + ".internal",
                                                Vpc=network(env)["vpc"])["OperationId"]
    namespace = sd.get_operation(OperationId=operation)["Operation"]["Targets"]["NAMESPACE"]
    return sd.create_service(Name=env.name("web"), NamespaceId=namespace,
                             DnsConfig={"DnsRecords": [{"Type": "A", "TTL": 15}]},
                             HealthCheckCustomConfig={"FailureThreshold": 1})["Service"]


def _targets(env: Env, arn: str) -> dict[tuple[str, int], str]:
    found = env.client("elbv2").describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]
    return {(t["Target"]["Id"], t["Target"]["Port"]): t["TargetHealth"]["State"] for t in found}


def _checked(env: Env, arn: str, timeout: float = 15.0) -> dict[tuple[str, int], str]:
    """The group's targets once none is still ``initial`` (a replacement task's target is
    checked after the deployment already counts as completed), or as they are at `timeout`."""
    import time
    deadline = time.monotonic() + timeout
    while True:
        targets = _targets(env, arn)
        if "initial" not in targets.values() or time.monotonic() > deadline:
            return targets
        time.sleep(0.1)


def _ips(tasks: list[dict]) -> set[str]:
    return {_details(t)["privateIPv4Address"] for t in tasks}


def _service_registers_targets(env: Env) -> None:
    arn = _target_group(env)
    c, name = _new_service(env, 2, loadBalancers=[
        {"targetGroupArn": arn, "containerName": "web", "containerPort": 80}])
    settled(env, c, name)  # a task is registered once it is RUNNING
    tasks = _service_tasks(env, c, name)
    expected = {(ip, 80): "healthy" for ip in _ips(tasks)}
    expect(_targets(env, arn) == expected, f"targets {_targets(env, arn)}, tasks {expected} "
                                           f"({_statuses(tasks)})")
    ecs = env.client("ecs")
    ecs.stop_task(cluster=c, task=tasks[0]["taskArn"])  # the scheduler replaces it
    settled(env, c, name)
    running = [t for t in _service_tasks(env, c, name) if t["lastStatus"] == "RUNNING"]
    now = {(ip, 80): "healthy" for ip in _ips(running)}
    # A stopped task's target drains for the group's deregistration delay, still listed
    # (load-balancer-target-groups.html#deregistration-delay).
    # (Without load balancers that run, an emulator with no data plane, it is gone at once.)
    targets = _checked(env, arn)
    stopped = {(ip, 80) for ip in _ips(tasks[:1])}
    expect({k: v for k, v in targets.items() if k not in stopped} == now
           and all(targets.get(k, "draining") == "draining" for k in stopped),
           f"after a task stopped: targets {targets}, tasks {now}, stopped {stopped}")
    ecs.update_service(cluster=c, service=name, desiredCount=0)
    settled(env, c, name)
    serving = {k: v for k, v in _targets(env, arn).items() if v != "draining"}
    expect(serving == {}, f"targets left after scaling to 0: {serving}")


def _service_registers_instances(env: Env) -> None:
    registry = _registry(env)
    c, name = _new_service(env, 2, serviceRegistries=[{"registryArn": registry["Arn"]}])
    settled(env, c, name)  # a task is registered once it is RUNNING
    sd = env.client("servicediscovery")
    tasks = {t["taskArn"].split("/")[-1]: t for t in _service_tasks(env, c, name)}
    instances = {i["Id"]: i["Attributes"] for i in sd.list_instances(ServiceId=registry["Id"])["Instances"]}
    expect(set(instances) == set(tasks), f"instances {sorted(instances)}, tasks {sorted(tasks)} "
                                         f"({_statuses(list(tasks.values()))})")
    for task_id, attributes in instances.items():
        task = tasks[task_id]
        expect(attributes.get("AWS_INSTANCE_IPV4") == _details(task)["privateIPv4Address"]
               and attributes.get("AVAILABILITY_ZONE") == task["availabilityZone"]
               and attributes.get("ECS_SERVICE_NAME") == name
               and attributes.get("ECS_CLUSTER_NAME") == c
               and attributes.get("REGION") == env.region
               and attributes.get("ECS_TASK_DEFINITION_FAMILY"), f"instance attributes {attributes}")
    env.client("ecs").update_service(cluster=c, service=name, desiredCount=0)
    settled(env, c, name)
    left = sd.list_instances(ServiceId=registry["Id"])["Instances"]
    expect(left == [], f"instances left after scaling to 0: {left}")


# ---------------------------------------------------------------- task definition revisions

def _family_with_revisions(env: Env, deregister: tuple[int, ...]) -> str:
    ecs = env.client("ecs")
    family = env.name("fam")
    for _ in range(3):
        ecs.register_task_definition(family=family, containerDefinitions=[container(memory=128)])
    for revision in deregister:
        ecs.deregister_task_definition(taskDefinition=f"{family}:{revision}")
    return family


def _family_means_latest_active(env: Env) -> None:
    family = _family_with_revisions(env, (3,))
    td = env.client("ecs").describe_task_definition(taskDefinition=family)["taskDefinition"]
    expect((td["revision"], td["status"]) == (2, "ACTIVE"),
           f"'{family}' resolved to revision {td['revision']} ({td['status']})")


def _family_without_active_revision(env: Env) -> Any:
    family = _family_with_revisions(env, (1, 2, 3))
    return env.client("ecs").describe_task_definition(taskDefinition=family)


def _inactive_revision_by_number(env: Env) -> Any:
    family = _family_with_revisions(env, (3,))
    return env.client("ecs").describe_task_definition(taskDefinition=f"{family}:3")


def _list_sorted(order: str) -> Callable[[Env], None]:
    def call(env: Env) -> None:
        family = _family_with_revisions(env, ())
        arns = env.client("ecs").list_task_definitions(familyPrefix=family, sort=order)["taskDefinitionArns"]
        revisions = [int(a.rsplit(":", 1)[1]) for a in arns]
        expected = [3, 2, 1] if order == "DESC" else [1, 2, 3]
        expect(revisions == expected, f"sort={order} listed revisions {revisions}")
    return call


CASES = [
    Case("ecs-service-tasks-spread-across-zones", "ecs", _service_spreads_across_zones, OK,
         DOC_SPREAD, "behaviour"),
    Case("ecs-run-task-fargate-spread-across-zones", "ecs", _run_task_spreads_across_zones, OK,
         GUIDE + "task-placement.html", "behaviour"),
    Case("ecs-service-scale-in-keeps-spread", "ecs", _scale_in_keeps_spread, OK, DOC_SPREAD,
         "behaviour"),
    Case("ecs-service-capacity-provider-split", "ecs", _service_follows_strategy, OK,
         DOC_PROVIDERS, "behaviour"),
    Case("ecs-service-scaled-capacity-provider-split", "ecs", _service_scaled_up_follows_strategy,
         OK, DOC_PROVIDERS, "behaviour"),
    Case("ecs-run-task-capacity-provider-split", "ecs", _run_task_follows_strategy, OK,
         DOC_PROVIDERS, "behaviour"),
    Case("ecs-service-registers-lb-targets", "ecs", _service_registers_targets, OK,
         GUIDE + "service-load-balancing.html", "behaviour"),
    Case("ecs-service-registers-cloud-map-instances", "ecs", _service_registers_instances, OK,
         DOC_DISCOVERY, "behaviour"),
    Case("ecs-describe-family-latest-active", "ecs", _family_means_latest_active, OK,
         DOC_DESCRIBE_TD, "behaviour"),
    Case("ecs-describe-family-without-active-revision", "ecs", _family_without_active_revision,
         "ClientException", DOC_DESCRIBE_TD),
    Case("ecs-describe-valid-inactive-revision-by-number", "ecs", _inactive_revision_by_number, OK,
         DOC_DESCRIBE_TD),
    Case("ecs-list-task-definitions-sort-desc", "ecs", _list_sorted("DESC"), OK,
         API + "API_ListTaskDefinitions.html", "behaviour"),
    Case("ecs-list-task-definitions-sort-asc", "ecs", _list_sorted("ASC"), OK,
         API + "API_ListTaskDefinitions.html", "behaviour"),
]
