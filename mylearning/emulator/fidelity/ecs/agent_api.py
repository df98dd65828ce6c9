"""The ECS agent API: how the data plane's task agent tells ECS what its tasks did.

moto has none of it. The agent calls `DiscoverPollEndpoint` once (which attaches it, see
`acs`), then reports every change with `SubmitTaskStateChange` and
`SubmitContainerStateChange`, as the real ECS container agent does:
https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_SubmitTaskStateChange.html
https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_SubmitContainerStateChange.html
Container health goes through the telemetry endpoint (`acs.TCS_PATH`).

ECS, not the agent, decides a task's stop code
(https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Task.html, ``stopCode``):
``UserInitiated`` and ``ServiceSchedulerInitiated`` are recorded when the stop is asked
for; a task that stops on its own before it ran is ``TaskFailedToStart``, after it ran
``EssentialContainerExited``.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from mylearning.emulator.fidelity.core import AwsError, AwsRequest, handler, on_reset
from mylearning.emulator.fidelity.ecs import acs, registration, rollout
from mylearning.emulator.fidelity.ecs.access import SERVICE, _backend, _cluster, invalid_parameter

#: Statuses an agent may report (a task's lastStatus values it owns).
TASK_STATUSES = ("PENDING", "RUNNING", "STOPPED")
CONTAINER_STATUSES = ("PENDING", "RUNNING", "STOPPED")


def _time(value: Any) -> datetime:
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, tz=timezone.utc)
    from moto.core.utils import utcnow
    return utcnow()


def _task(req: AwsRequest) -> tuple[Any, Any, Any]:
    backend = _backend(req.region)
    cluster = _cluster(req.region, req.params.get("cluster"))
    if cluster is None:
        raise AwsError("ClusterNotFoundException", "Cluster not found.", 400)
    ref = req.params.get("task") or ""
    task_id = ref.split("/")[-1]
    task = next((t for arn, t in backend.tasks.get(cluster.name, {}).items()
                 if arn.split("/")[-1] == task_id), None) if task_id else None
    if task is None:
        raise invalid_parameter(f"The referenced task was not found: {ref}")
    return backend, cluster, task


def _container(task: Any, name: str | None) -> Any:
    found = next((c for c in task.containers if c.name == name), None)
    if found is None:
        raise invalid_parameter(f"The task has no container named {name!r}.")
    return found


def _apply_container(container: Any, change: dict) -> None:
    status = change.get("status")
    if status is not None:
        if status not in CONTAINER_STATUSES:
            raise invalid_parameter(f"Container status must be one of {', '.join(CONTAINER_STATUSES)}.")
        container.last_status = status
    for key, attr in (("exitCode", "exit_code"), ("reason", "reason"), ("runtimeId", "runtime_id"),
                      ("imageDigest", "image_digest"), ("networkBindings", "network_bindings")):
        if key in change:
            setattr(container, attr, change[key])


def _service(backend: Any, task: Any) -> Any:
    return registration.service_of(task)


@handler(SERVICE, "DiscoverPollEndpoint")
def discover_poll_endpoint(req: AwsRequest) -> tuple[int, Any]:
    """Where the agent's ACS and TCS are: on this emulator, at the address it was called on."""
    host = req.environ.get("HTTP_HOST") or f"{req.environ.get('SERVER_NAME')}:{req.environ.get('SERVER_PORT')}"
    base = f"http://{host}"
    acs.attach()
    return 200, {"endpoint": base + acs.ACS_PATH, "telemetryEndpoint": base + acs.TCS_PATH,
                 "serviceConnectEndpoint": base + acs.ACS_PATH}


@handler(SERVICE, "SubmitContainerStateChange")
def submit_container_state_change(req: AwsRequest) -> tuple[int, Any]:
    with rollout.LOCK:
        backend, cluster, task = _task(req)
        _apply_container(_container(task, req.params.get("containerName")), req.params)
    return 200, {"acknowledgment": "true"}


@handler(SERVICE, "SubmitTaskStateChange")
def submit_task_state_change(req: AwsRequest) -> tuple[int, Any]:
    status = req.params.get("status")
    if status is not None and status not in TASK_STATUSES:
        raise invalid_parameter(f"Task status must be one of {', '.join(TASK_STATUSES)}.")
    with rollout.LOCK:
        backend, cluster, task = _task(req)
        for change in req.params.get("containers") or []:
            _apply_container(_container(task, change.get("containerName")), change)
        for key, attr in (("pullStartedAt", "pull_started_at"), ("pullStoppedAt", "pull_stopped_at"),
                          ("executionStoppedAt", "execution_stopped_at")):
            if key in req.params:
                setattr(task, attr, _time(req.params[key]))
        service = _service(backend, task)
        if task.last_status == "STOPPED":
            pass  # a late report about a task already stopped changes nothing
        elif status == "PENDING":
            task.last_status = "PENDING"
        elif status == "RUNNING":
            _running(task, service)
        elif status == "STOPPED":
            _stopped(backend, task, service, req.params.get("reason"))
        if service is not None:
            from mylearning.emulator.fidelity.ecs import scheduler
            scheduler.settle(backend, service)
        _count(backend, cluster)
    return 200, {"acknowledgment": "true"}


def _running(task: Any, service: Any) -> None:
    import time

    from moto.core.utils import utcnow

    if task.desired_status != "RUNNING":
        return  # asked to stop meanwhile: it stays DEACTIVATING until the agent stops it
    if task.last_status == "RUNNING":
        return  # the same report again (an agent retrying): the task started once
    task.last_status = "RUNNING"
    task.started_at = utcnow()
    task._ml_running_since = time.monotonic()
    if service is not None:
        # https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-lifecycle-explanation.html
        # (ACTIVATING: ECS registers the task with its target groups and service discovery)
        registration.register(service, [task])


def _stopped(backend: Any, task: Any, service: Any, reason: str | None) -> None:
    from moto.core.utils import utcnow

    on_its_own = task.desired_status == "RUNNING"
    ran = getattr(task, "_ml_running_since", None) is not None
    now = utcnow()
    task.last_status = "STOPPED"
    task.desired_status = "STOPPED"
    task.stopped_at = now
    task.execution_stopped_at = getattr(task, "execution_stopped_at", None) or now
    task.stopping_at = getattr(task, "stopping_at", None) or now
    if on_its_own:
        task.stop_code = "EssentialContainerExited" if ran else "TaskFailedToStart"
        task.stopped_reason = reason or ("Essential container in task exited" if ran
                                         else "Task failed to start")
    elif reason and not task.stopped_reason:
        task.stopped_reason = reason
    from mylearning.emulator.fidelity.ecs.scheduler import forget_tasks
    forget_tasks([task])
    if on_its_own and service is not None:
        rollout.record_failure(backend, service, task,
                               f"has stopped: {task.stopped_reason}." if ran else
                               f"failed to start: {task.stopped_reason}.")


def _count(backend: Any, cluster: Any) -> None:
    tasks = backend.tasks.get(cluster.name, {}).values()
    cluster.running_tasks_count = sum(1 for t in tasks if t.last_status == "RUNNING")
    cluster.pending_tasks_count = sum(1 for t in tasks if t.last_status in ("PROVISIONING", "PENDING"))


def record_health(report: dict) -> None:
    """Container and task health from the agent (TCS): the scheduler acts on it.

    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/healthcheck.html
    """
    region = report.get("region") or "us-east-1"
    backend = _backend(region)
    for item in report.get("health") or []:
        with rollout.LOCK:
            cluster = _cluster(region, item.get("cluster"))
            if cluster is None:
                continue
            task = backend.tasks.get(cluster.name, {}).get(item.get("taskArn"))
            if task is None or task.last_status == "STOPPED":
                continue
            for name, status in (item.get("containers") or {}).items():
                container = next((c for c in task.containers if c.name == name), None)
                if container is not None:
                    container.health_status = status
            if item.get("healthStatus"):
                task.health_status = item["healthStatus"]
            service = _service(backend, task)
            if service is not None:
                if task.health_status == "HEALTHY":
                    service._ml_failures = 0
                    service._ml_next_launch = 0.0
                from mylearning.emulator.fidelity.ecs import scheduler
                scheduler.settle(backend, service)


acs.set_health_sink(record_health)
on_reset(acs.reset)
