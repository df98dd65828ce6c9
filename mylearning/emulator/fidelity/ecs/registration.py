"""What ECS registers for a service's tasks: load balancer targets and Cloud Map instances.

moto 5.2.x registered nothing, so a service's target groups and Cloud Map services
stayed empty. ECS registers each task when it starts and deregisters it when it stops:

* **Target groups** (``loadBalancers``): the task's private IP and the ``containerPort`` for
  ``awsvpc`` tasks (target type ``ip``), the container instance and its host port otherwise.
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/alb.html and
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-load-balancing.html
  ("Amazon ECS automatically registers and deregisters containers with your target group").
* **Cloud Map** (``serviceRegistries``): one instance per task, named by the task ID, with the
  attributes the developer guide lists (AWS_INSTANCE_IPV4, AWS_INSTANCE_PORT, AVAILABILITY_ZONE,
  REGION, ECS_SERVICE_NAME, ECS_CLUSTER_NAME, EC2_INSTANCE_ID on EC2, ECS_TASK_DEFINITION_FAMILY):
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-discovery.html
  ("Service discovery concepts", instance attributes).

moto's elbv2 and servicediscovery backends are used in-process. A target group or
registry that no longer exists is skipped: ECS reports that as a service event on AWS,
it does not fail the task.
"""
from __future__ import annotations

from typing import Any

from mylearning.emulator.fidelity.core import moto_backend
from mylearning.emulator.fidelity.ecs.placement import task_ip


def _elbv2(region: str) -> Any:
    from mylearning.emulator.fidelity.elbv2 import health
    health.ensure_fixed()  # draining and the data plane's news follow ECS's registrations too
    return moto_backend("elbv2", region)


def _cloud_map(region: str) -> Any:
    return moto_backend("servicediscovery", region)


def _container_instance(task: Any) -> Any:
    arn = getattr(task, "container_instance_arn", None)
    if not arn:
        return None
    return task._backend.container_instances.get(task.cluster_name, {}).get(arn)


def _host_port(task: Any, container: str | None, port: int | None) -> int | None:
    """The host port a container port is published on (bridge/host networking)."""
    try:
        td = task._backend.describe_task_definition(task.task_definition_arn)
    except Exception:
        return port
    for definition in td.container_definitions:
        if container and definition.get("name") != container:
            continue
        for mapping in definition.get("portMappings") or []:
            if port is None or mapping.get("containerPort") == port:
                return mapping.get("hostPort") or mapping.get("containerPort")
    return port


def _target(task: Any, lb: dict) -> dict | None:
    ip = task_ip(task)
    if ip:
        return {"Id": ip, "Port": lb.get("containerPort")}
    instance = _container_instance(task)
    if instance is None:
        return None
    return {"Id": instance.ec2_instance_id,
            "Port": _host_port(task, lb.get("containerName"), lb.get("containerPort"))}


def _family(task: Any) -> str:
    return task.task_definition_arn.split("/")[-1].rsplit(":", 1)[0]


def instance_attributes(task: Any, service: Any, registry: dict) -> dict[str, str]:
    """The attributes ECS gives a task's Cloud Map instance (developer guide, see module doc)."""
    instance = _container_instance(task)
    ip = task_ip(task)
    if not ip and instance is not None:
        from mylearning.emulator.fidelity.ecs.access import _ec2
        try:
            ip = _ec2(task.region_name).get_instance(instance.ec2_instance_id).private_ip
        except Exception:
            ip = None
    attributes = {"AVAILABILITY_ZONE": getattr(task, "availability_zone", None) or "",
                  "REGION": task.region_name, "ECS_CLUSTER_NAME": task.cluster_name,
                  "ECS_SERVICE_NAME": service.name, "ECS_TASK_DEFINITION_FAMILY": _family(task)}
    if ip:
        attributes["AWS_INSTANCE_IPV4"] = ip
    port = registry.get("port") or registry.get("containerPort")
    if port:
        attributes["AWS_INSTANCE_PORT"] = str(port)
    if instance is not None:
        attributes["EC2_INSTANCE_ID"] = instance.ec2_instance_id
    return {k: v for k, v in attributes.items() if v}


def load_balancers_of(service: Any, task: Any) -> list[dict]:
    """The service's load balancers, each naming the target group the task's deployment uses.

    A blue/green, linear or canary deployment starts its tasks in the alternate target group
    and, once it completed, the two groups have swapped roles for the next deployment
    (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/alb-resources-for-blue-green.html);
    ``service._ml_groups`` maps a deployment ID to {configured group: group it uses}.
    """
    roles = (getattr(service, "_ml_groups", None) or {}).get(getattr(task, "started_by", None)) or {}
    return [dict(lb, targetGroupArn=roles.get(lb.get("targetGroupArn"), lb.get("targetGroupArn")))
            for lb in getattr(service, "load_balancers", None) or []]


def register(service: Any, tasks: list) -> None:
    """Register newly started tasks with the service's target groups and Cloud Map services."""
    if not tasks:
        return
    region = service.region_name
    for task in tasks:
        for lb in load_balancers_of(service, task):
            target = _target(task, lb)
            if lb.get("targetGroupArn") and target and target.get("Id"):
                try:
                    _elbv2(region).register_targets(lb["targetGroupArn"], [target])
                except Exception:
                    pass
    for registry in getattr(service, "service_registries", None) or []:
        service_id = (registry.get("registryArn") or "").split("/")[-1]
        cloud_map = _cloud_map(region)
        for task in tasks:
            try:
                _drop_instance(cloud_map, service_id, task.id)
                cloud_map.register_instance(service_id, task.id, None,
                                            instance_attributes(task, service, registry))
            except Exception:
                pass


def _drop_instance(cloud_map: Any, service_id: str, instance_id: str) -> None:
    try:
        cloud_map.deregister_instance(service_id, instance_id)
    except Exception:
        pass  # not registered


def deregister(service: Any, tasks: list) -> None:
    """Remove stopped tasks from the service's target groups and Cloud Map services."""
    if not tasks:
        return
    region = service.region_name
    backend = _elbv2(region)
    for task in tasks:
        for lb in load_balancers_of(service, task):
            group = backend.target_groups.get(lb.get("targetGroupArn"))
            target = _target(task, lb) if group is not None else None
            if target and target["Id"] in group.targets:
                group.deregister([target])
    for registry in getattr(service, "service_registries", None) or []:
        service_id = (registry.get("registryArn") or "").split("/")[-1]
        cloud_map = _cloud_map(region)
        for task in tasks:
            _drop_instance(cloud_map, service_id, task.id)


def drain_seconds(task: Any) -> float:
    """How long the task's targets will drain once deregistered: the longest deregistration
    delay of the service's target groups that hold it (0 without any)."""
    service = service_of(task)
    longest = 0.0
    for lb in load_balancers_of(service, task) if service is not None else []:
        try:
            group = _elbv2(task.region_name).target_groups.get(lb.get("targetGroupArn"))
        except Exception:
            group = None
        target = _target(task, lb)
        if group is not None and target and target.get("Id") in group.targets and group.load_balancer_arns:
            from mylearning.emulator.fidelity.elbv2 import health
            longest = max(longest, health.drain_delay(group))
    return longest


def service_of(task: Any) -> Any:
    """The ECS service a task belongs to (its group is ``service:<name>``), or None."""
    group = getattr(task, "group", "") or ""
    if not group.startswith("service:"):
        return None
    return task._backend.services.get(f"{task.cluster_name}:{group.split(':', 1)[1]}")
