"""What the service scheduler reads from the load balancers: a task's targets' health.

A service behind target groups counts a task as healthy only once each of its targets is
``healthy`` there, and stops a task whose target stays ``unhealthy`` past the service's
health-check grace period, as a failed task of its deployment (so a wrong health-check path
trips the deployment circuit breaker):
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-load-balancing.html
("If a task fails the load balancer health check criteria, the task is stopped and
restarted"), https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html
(``healthCheckGracePeriodSeconds``: "the period of time ... that the Amazon ECS service
scheduler ignores unhealthy Elastic Load Balancing ... health checks after a task has first
started").

Health is what the data plane's load balancers reported (``elbv2.health``); without them
(no data plane) targets are not checked and this module says every target is healthy.
"""
from __future__ import annotations

from typing import Any

from mylearning.emulator.fidelity.ecs import registration
from mylearning.emulator.fidelity.elbv2 import health as _health


def _group(region: str, arn: str | None) -> Any:
    from mylearning.emulator.fidelity.core import moto_backend
    return moto_backend("elbv2", region).target_groups.get(arn) if arn else None


def _targets(task: Any, service: Any):
    """(group, target) for each target group of the service: the task's target, and the
    group's moto object (None when the group is gone)."""
    for lb in registration.load_balancers_of(service, task) if service is not None else []:
        target = registration._target(task, lb)
        if target:
            yield _group(task.region_name, lb.get("targetGroupArn")), target


def unhealthy_target(task: Any, service: Any) -> tuple[str, str, Any] | None:
    """(target group ARN, reason description, port) of a target of the task that is
    ``unhealthy``, or None."""
    if not _health.attached():
        return None
    for group, target in _targets(task, service):
        if group is None or target["Id"] not in group.targets:
            continue
        state, reason, description = _health.state_of(group, target["Id"], target["Port"])
        if state == "unhealthy":
            return group.arn, description or reason or "Health checks failed", target["Port"]
    return None


def targets_healthy(task: Any, service: Any) -> bool:
    """True when every target of the task is ``healthy`` (or no load balancer checks it)."""
    if service is None or not _health.attached():
        return True
    for group, target in _targets(task, service):
        if group is None:
            continue
        if target["Id"] not in group.targets:
            return False  # not registered yet (it is once RUNNING)
        if _health.state_of(group, target["Id"], target["Port"])[0] != "healthy":
            return False
    return True


def services_behind(region: str, group_arns: set[str]) -> list[Any]:
    """The ECS services of the region whose tasks are targets of these groups."""
    from mylearning.emulator.fidelity.core import moto_backend
    found = []
    for service in list(moto_backend("ecs", region).services.values()):
        arns = {arn for lb in getattr(service, "load_balancers", None) or []
                for arn in (lb.get("targetGroupArn"),
                            (lb.get("advancedConfiguration") or {}).get("alternateTargetGroupArn"))}
        if arns & group_arns:
            found.append(service)
    return found


def _settle_services_behind(groups: set[str]) -> None:
    """A target's health changed: the scheduler looks again at the services behind it."""
    from mylearning.emulator.fidelity.core import moto_backend
    from mylearning.emulator.fidelity.ecs import scheduler
    for region in {arn.split(":")[3] for arn in groups if arn.count(":") >= 5}:
        backend = moto_backend("ecs", region)
        for service in services_behind(region, groups):
            scheduler.settle(backend, service)


_health.on_health_change(_settle_services_behind)
