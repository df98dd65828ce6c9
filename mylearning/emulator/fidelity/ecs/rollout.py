"""The ECS service scheduler when a task agent runs the tasks (the data plane is attached).

Without an agent, `scheduler.settle` reaches a steady state at once. With one, a task is
only RUNNING when the agent says so, and only healthy when its health checks say so; so
the scheduler works as ECS's does, one step per state change:

* **Rolling update** (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-ecs.html):
  new tasks start while the service stays at or under ``maximumPercent`` of its desired
  count; old tasks stop only while the healthy tasks stay at or over ``minimumHealthyPercent``.
  A task counts as healthy when it is RUNNING, HEALTHY if an essential container has a
  health check, and healthy in its service's target groups (`elb_health`).
* **Replacing tasks** (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_services.html):
  a task that stops on its own (an essential container exited, it failed to start, or it
  stayed UNHEALTHY, or unhealthy in a target group, past the health-check grace period) is
  a failed task of its deployment and is replaced.
* **Deployment circuit breaker** (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-circuit-breaker.html
  and https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceDeploymentCircuitBreaker.html):
  the threshold is 0.5 x desired count, at least 3 and at most 200; when a deployment's
  failed tasks reach it, the deployment is FAILED and, with rollback, a new deployment of
  the last completed task definition starts.
* **Steady state**: a deployment completes once its tasks have all stayed healthy for
  `STEADY_SECONDS` (ECS reaches "steady state" on its own periodic evaluation, not the
  instant a task starts; this window stands for it, so a release whose tasks crash
  seconds after they start fails its deployment instead of completing it).
* **Launch back-off** (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-throttle-logic.html):
  when tasks keep failing, the time between launches grows (here doubling from 10 s after
  three failures in a row, up to 15 minutes, divided by the embedded clock's scale) and
  the service says it "is unable to consistently start tasks successfully".

Waits (grace period, back-off) follow `mylearning.facts.clock`.
"""
from __future__ import annotations

import math
import threading
import time
from typing import Any

from mylearning.emulator.fidelity.core import STATE
from mylearning.facts import clock

#: Every change of a service's tasks happens under this lock: the emulator is threaded
#: and the agent's reports, the learner's calls and timers all move the same tasks. It is
#: the layer's state lock, which every request holds too (see `core.STATE`).
LOCK = STATE

#: AWS seconds a deployment's tasks must stay healthy before it is COMPLETED (see above).
STEADY_SECONDS = 20.0
_BACKOFF_AFTER = 3
_BACKOFF_FIRST = 10.0
_BACKOFF_MAX = 900.0


def failure_threshold(desired: int) -> int:
    """Failed tasks that trip the circuit breaker: 0.5 x desired, clamped to [3, 200]."""
    return min(200, max(3, math.ceil(0.5 * desired)))


def _needs_health(backend: Any, task: Any, cache: dict) -> bool:
    arn = task.task_definition_arn
    if arn not in cache:
        try:
            td = backend.describe_task_definition(arn)
            cache[arn] = any(c.get("healthCheck") and c.get("essential", True)
                             for c in td.container_definitions)
        except Exception:
            cache[arn] = False
    return cache[arn]


def healthy(backend: Any, task: Any, cache: dict | None = None) -> bool:
    """RUNNING, HEALTHY when an essential container has a health check, and healthy in each
    of its service's target groups (see `elb_health`).

    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/healthcheck.html ("the
    service scheduler waits for the task to be healthy" when a health check is defined).
    """
    from mylearning.emulator.fidelity.ecs import elb_health, registration
    fit = task.last_status == "RUNNING" and (
        not _needs_health(backend, task, {} if cache is None else cache) or task.health_status == "HEALTHY"
    ) and elb_health.targets_healthy(task, registration.service_of(task))
    if not fit:
        task._ml_healthy_since = None
    elif getattr(task, "_ml_healthy_since", None) is None:
        task._ml_healthy_since = time.monotonic()
    return fit


def _deployment(service: Any, deployment_id: str) -> dict | None:
    return next((d for d in service.deployments if d.get("id") == deployment_id), None)


def _timer(delay: float, region: str, cluster: str, service: str) -> None:
    """Look at the service again after `delay` seconds (a grace period or back-off ends)."""
    def again() -> None:
        from mylearning.emulator.fidelity.ecs import scheduler
        from mylearning.emulator.fidelity.ecs.access import _backend
        backend = _backend(region)
        found = backend.services.get(f"{cluster}:{service}")
        if found is not None:
            with LOCK:
                scheduler.settle(backend, found)

    timer = threading.Timer(max(0.01, delay), again)
    timer.daemon = True
    timer.start()


def record_failure(backend: Any, service: Any, task: Any, why: str) -> None:
    """A task of the service stopped on its own: count it against its deployment, trip the
    circuit breaker when the threshold is reached, and back off further launches."""
    from mylearning.emulator.fidelity.ecs.scheduler import _event, begin_rollback

    deployment = _deployment(service, task.started_by)
    service._ml_failures = getattr(service, "_ml_failures", 0) + 1
    if service._ml_failures >= _BACKOFF_AFTER:
        delay = min(_BACKOFF_MAX, _BACKOFF_FIRST * 2 ** (service._ml_failures - _BACKOFF_AFTER))
        service._ml_next_launch = time.monotonic() + clock.wait(delay)
        if service._ml_failures == _BACKOFF_AFTER:
            _event(service, "is unable to consistently start tasks successfully. For more "
                            "information, see the Troubleshooting section of the Amazon ECS "
                            "Developer Guide.")
    _event(service, f"(task {task.id}) {why}")
    if deployment is None:
        return
    deployment["failedTasks"] = deployment.get("failedTasks", 0) + 1
    from mylearning.emulator.fidelity.ecs import service_deployments
    service_deployments.task_failed(service, deployment["id"])
    breaker = (service.deployment_configuration or {}).get("deploymentCircuitBreaker") or {}
    if (deployment.get("status") == "PRIMARY" and breaker.get("enable")
            and deployment.get("rolloutState") == "IN_PROGRESS"
            and deployment["failedTasks"] >= failure_threshold(service.desired_count)):
        deployment["rolloutState"] = "FAILED"
        deployment["rolloutStateReason"] = "ECS deployment circuit breaker: tasks failed to start."
        _event(service, f"(deployment {deployment['id']}) deployment failed: tasks failed to start.")
        from mylearning.emulator.fidelity.ecs import blue_green
        if breaker.get("rollback") and not blue_green.breaker_tripped(backend, service, deployment):
            begin_rollback(backend, service, deployment)


def _stop_failing_elb_checks(backend: Any, service: Any, active: list, grace: float, now: float) -> None:
    """Tasks whose target stayed unhealthy past the grace period are stopped and count as
    failed (`elb_health`); the service says which target group and why, as ECS does."""
    from mylearning.emulator.fidelity.ecs import elb_health, scheduler
    for task in list(active):
        if task.last_status != "RUNNING":
            continue
        failing = elb_health.unhealthy_target(task, service)
        if failing is None:
            continue
        started = getattr(task, "_ml_running_since", now)
        if now - started < grace:
            _timer(grace - (now - started), service.region_name, service.cluster_name, service.name)
            continue
        group, why, port = failing
        scheduler._event(service, f"(port {port}) is unhealthy in (target-group {group}) due to "
                                  f"(reason {why}).")
        scheduler._stop_tasks([task], f"Task failed ELB health checks in (target-group {group})")
        record_failure(backend, service, task, "failed ELB health checks.")
        active.remove(task)


def stop_failed_tasks(backend: Any, service: Any, active: list, cache: dict, now: float) -> None:
    """Tasks that stayed UNHEALTHY (container health check or target group) past the grace
    period are stopped, count as failed, and leave `active`."""
    from mylearning.emulator.fidelity.ecs import scheduler
    grace = clock.wait(getattr(service, "health_check_grace_period_seconds", None) or 0)
    for task in list(active):
        if task.last_status == "RUNNING" and task.health_status == "UNHEALTHY" \
                and _needs_health(backend, task, cache):
            started = getattr(task, "_ml_running_since", now)
            if now - started >= grace:
                scheduler._stop_tasks([task], "Task failed container health checks")
                record_failure(backend, service, task, "failed container health checks.")
                active.remove(task)
            else:
                _timer(grace - (now - started), service.region_name, service.cluster_name, service.name)
    _stop_failing_elb_checks(backend, service, active, grace, now)


def settle_live(backend: Any, service: Any) -> None:
    """One step of the scheduler for a service whose tasks an agent runs (see module doc)."""
    from moto.core.utils import utcnow

    from mylearning.emulator.fidelity.ecs import placement, scheduler

    primary = scheduler._primary(service)
    if primary is None or service.status != "ACTIVE":
        return
    cache: dict = {}
    desired = service.desired_count
    config = service.deployment_configuration or {}
    max_total = math.floor(desired * config.get("maximumPercent", 200) / 100)
    min_healthy = math.ceil(desired * config.get("minimumHealthyPercent", 100) / 100)
    now = time.monotonic()
    active = scheduler._service_tasks(backend, service)
    stop_failed_tasks(backend, service, active, cache, now)

    new = [t for t in active if t.started_by == primary["id"]]
    old = [t for t in active if t.started_by != primary["id"]]

    # More tasks of the primary deployment than desired (a scale-in): stop the extra ones.
    if len(new) > desired:
        extra = placement.tasks_to_stop(new, len(new) - desired)
        scheduler._stop_tasks(extra, f"Scaling activity initiated by (deployment {primary['id']})")
        scheduler._event(service, f"has stopped {len(extra)} running tasks: {scheduler._task_list(extra)}.")
        new = [t for t in new if t not in extra]
        active = new + old

    def launch() -> None:
        """Start what the primary deployment lacks, within maximumPercent, unless its
        circuit breaker opened or launches are backing off."""
        missing = desired - len(new)
        room = max(max_total - len(active), 0) if old else missing
        count = min(missing, room)
        waiting = getattr(service, "_ml_next_launch", 0.0) - now
        if count <= 0 or primary.get("rolloutState") == "FAILED":
            return
        if waiting > 0:
            _timer(waiting, service.region_name, service.cluster_name, service.name)
        elif not scheduler._can_place(backend, service):
            scheduler._event(service, "was unable to place a task because no container instance "
                                      "met all of its requirements. Reason: No Container Instances "
                                      "were found in your cluster.")
        else:
            started = scheduler._start_tasks(backend, service, primary, count)
            new.extend(started)
            active.extend(started)
            if started:
                scheduler._event(service, f"has started {len(started)} tasks: {scheduler._task_list(started)}.")

    launch()
    # Stop old tasks while the healthy ones stay at or over minimumHealthyPercent; old tasks
    # that are not healthy go first and cost nothing. What they free is launched at once.
    healthy_count = sum(1 for t in active if healthy(backend, t, cache))
    stopping = []
    for task in sorted(old, key=lambda t: healthy(backend, t, cache)):
        if not healthy(backend, task, cache):
            stopping.append(task)
        elif desired == 0 or healthy_count - 1 >= min_healthy:
            stopping.append(task)
            healthy_count -= 1
    if stopping:
        scheduler._stop_tasks(stopping, f"Scaling activity initiated by (deployment {primary['id']})")
        scheduler._event(service, f"has stopped {len(stopping)} running tasks: "
                                  f"{scheduler._task_list(stopping)}.")
        old[:] = [t for t in old if t not in stopping]
        active[:] = [t for t in active if t not in stopping]
        launch()

    running_new = [t for t in new if t.last_status == "RUNNING"]
    stamp = utcnow()
    primary.update(desiredCount=desired, runningCount=len(running_new),
                   pendingCount=len(new) - len(running_new), updatedAt=stamp)
    for deployment in service.deployments[1:]:
        mine = [t for t in old if t.started_by == deployment.get("id")]
        deployment.update(runningCount=sum(1 for t in mine if t.last_status == "RUNNING"),
                          pendingCount=sum(1 for t in mine if t.last_status != "RUNNING"),
                          updatedAt=stamp)
    service.running_count = sum(1 for t in new + old if t.last_status == "RUNNING")
    service.pending_count = sum(1 for t in new + old if t.last_status != "RUNNING")
    done = len(new) == desired and not old and all(healthy(backend, t, cache) for t in new)
    if done and new:
        steady_for = now - max(t._ml_healthy_since for t in new)
        if steady_for < clock.wait(STEADY_SECONDS):
            done = False
            _timer(clock.wait(STEADY_SECONDS) - steady_for, service.region_name, service.cluster_name,
                   service.name)
    if done:
        if primary.get("rolloutState") == "IN_PROGRESS":
            primary["rolloutState"] = "COMPLETED"
            primary["rolloutStateReason"] = f"ECS deployment {primary['id']} completed."
            scheduler._event(service, f"(deployment {primary['id']}) deployment completed.")
        service.deployments[:] = [primary]
        if not getattr(service, "_ml_steady", False):
            service._ml_steady = True
            scheduler._event(service, "has reached a steady state.")
    else:
        service._ml_steady = False
