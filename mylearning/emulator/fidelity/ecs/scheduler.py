"""What the ECS service scheduler does after CreateService/UpdateService returns.

With the data plane's task agent attached (`acs`), tasks start in PROVISIONING and the
scheduler moves one step per state change the agent reports (`rollout.settle_live`).
Without an agent it starts tasks, drains the old deployment, logs events and reaches a
steady state at once, so a service is stable as soon as the call returned; the call's
own answer still shows the rollout IN_PROGRESS, as AWS's does.
"""
from __future__ import annotations

import copy
import uuid
from typing import Any

from mylearning.emulator.fidelity.core import AwsRequest, after
from mylearning.emulator.fidelity.ecs.access import FARGATE_PROVIDERS, SERVICE, _backend, _cluster
from mylearning.emulator.fidelity.ecs import acs, placement, quotas, registration, rollout

# ---------------------------------------------------------------- services: parameters and deployments

#: CreateService parameter -> attribute moto's serializer reads on its Service model.
_KEPT_SERVICE_PARAMETERS = {
    "capacityProviderStrategy": "capacity_provider_strategy",
    "deploymentConfiguration": "deployment_configuration",
    "enableExecuteCommand": "enable_execute_command",
    "healthCheckGracePeriodSeconds": "health_check_grace_period_seconds",
    "placementConstraints": "placement_constraints",
    "placementStrategy": "placement_strategy",
    "enableECSManagedTags": "enable_ecs_managed_tags",
    "availabilityZoneRebalancing": "availability_zone_rebalancing",
}

#: https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentConfiguration.html
#: (maximumPercent default 200, minimumHealthyPercent default 100 for replica services)
_DEFAULT_DEPLOYMENT_CONFIGURATION = {
    "deploymentCircuitBreaker": {"enable": False, "rollback": False},
    "maximumPercent": 200,
    "minimumHealthyPercent": 100,
}


def _primary(service: Any) -> dict | None:
    return next((d for d in service.deployments if d.get("status") == "PRIMARY"), None)


def _apply_strategy(service: Any, deployment: dict | None, strategy: list[dict]) -> None:
    """A service placed by a capacity provider strategy reports no launch type, as on AWS."""
    service.capacity_provider_strategy = strategy
    service.launch_type = None
    fargate = any(s.get("capacityProvider") in FARGATE_PROVIDERS for s in strategy)
    if deployment is not None:
        deployment.pop("launchType", None)
        deployment["capacityProviderStrategy"] = strategy
        deployment["platformFamily"] = "Linux" if fargate else deployment.get("platformFamily")


def keep_create_parameters(service: Any, params: dict, cluster: Any) -> None:
    """Store what CreateService was given that moto drops, and the launch type ECS reports.

    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Service.html and
    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html
    (without launchType and capacityProviderStrategy, the cluster's default capacity provider
    strategy applies; a service placed by a strategy has no launch type).
    """
    from moto.core.utils import utcnow

    for param, attr in _KEPT_SERVICE_PARAMETERS.items():
        if param in params and getattr(service, attr, None) is None:
            setattr(service, attr, copy.deepcopy(params[param]))
    configured = dict(_DEFAULT_DEPLOYMENT_CONFIGURATION)
    configured.update(getattr(service, "deployment_configuration", None) or {})
    service.deployment_configuration = configured
    deployment = _primary(service)
    if deployment is not None and params.get("serviceConnectConfiguration") is not None:
        deployment.setdefault("serviceConnectConfiguration",
                              copy.deepcopy(params["serviceConnectConfiguration"]))
    if not params.get("launchType"):
        strategy = getattr(service, "capacity_provider_strategy", None) or (
            cluster.default_capacity_provider_strategy or [])
        if strategy:
            _apply_strategy(service, deployment, copy.deepcopy(strategy))
    if _runs_on_fargate(service) and not service.platform_version:
        service.platform_version = "LATEST"
        if deployment is not None:
            deployment["platformVersion"] = "LATEST"
    if deployment is not None and service.launch_type == "FARGATE":
        deployment["platformFamily"] = "Linux"
    if getattr(service, "created_at", None) is None:
        service.created_at = utcnow()


def _runs_on_fargate(service: Any) -> bool:
    strategy = getattr(service, "capacity_provider_strategy", None) or []
    return service.launch_type == "FARGATE" or any(
        s.get("capacityProvider") in FARGATE_PROVIDERS for s in strategy)


def _fix_create_service_parameters() -> None:
    """create_service dropped capacityProviderStrategy, deploymentConfiguration, Service Connect,
    enableExecuteCommand... and reported launch type EC2 for every service."""
    from moto.ecs.responses import EC2ContainerServiceResponse as R

    create = R.create_service

    def create_service(self: Any) -> Any:
        result = create(self)
        backend = self.ecs_backend
        cluster = backend._get_cluster(self._get_param("cluster", "default"))
        service = backend.services.get(f"{cluster.name}:{self._get_param('serviceName')}")
        if service is not None:
            keep_create_parameters(service, self._get_params(), cluster)
        return result

    R.create_service = create_service


def _new_deployment_id() -> str:
    return f"ecs-svc/{uuid.uuid4().int % 10**19:019d}"


def _needs_new_deployment(params: dict, before: dict, service: Any) -> bool:
    """UpdateService starts a deployment for a new task definition, network, strategy or when forced.

    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_UpdateService.html
    """
    if params.get("forceNewDeployment"):
        return True
    if before["task_definition"] != service.task_definition:
        return True
    for param, key in (("networkConfiguration", "network_configuration"),
                       ("capacityProviderStrategy", "capacity_provider_strategy"),
                       ("platformVersion", "platform_version")):
        if param in params and params[param] != before[key]:
            return True
    connect = params.get("serviceConnectConfiguration")
    return connect is not None and connect != before["primary"].get("serviceConnectConfiguration")


def begin_deployment(service: Any, params: dict, before: dict) -> None:
    """Make a new PRIMARY deployment (IN_PROGRESS); the previous one becomes ACTIVE."""
    from moto.core.utils import utcnow

    old = before["primary"]
    now = utcnow()
    new = copy.deepcopy(old)
    new.update({
        "id": _new_deployment_id(), "status": "PRIMARY",
        "taskDefinition": service.task_definition, "desiredCount": service.desired_count,
        "runningCount": 0, "pendingCount": service.desired_count, "failedTasks": 0,
        "createdAt": now, "updatedAt": now, "rolloutState": "IN_PROGRESS",
    })
    new["rolloutStateReason"] = f"ECS deployment {new['id']} in progress."
    if service.network_configuration:
        new["networkConfiguration"] = service.network_configuration
    if "capacityProviderStrategy" in params:
        _apply_strategy(service, new, params["capacityProviderStrategy"])
    if params.get("serviceConnectConfiguration") is not None:
        new["serviceConnectConfiguration"] = params["serviceConnectConfiguration"]
    if params.get("platformVersion"):
        new["platformVersion"] = params["platformVersion"]
    old_now = dict(old, status="ACTIVE", updatedAt=now)
    rest = [d for d in service.deployments[1:] if d.get("id") != old.get("id")]
    service.deployments[:] = [new, old_now, *rest]


def _fix_update_service_deployments() -> None:
    """update_service to a new task definition made no new deployment; it also stored the
    task definition as given ('web:2') instead of its ARN."""
    from moto.ecs.responses import EC2ContainerServiceResponse as R

    update = R.update_service

    def update_service(self: Any) -> Any:
        params = self._get_params()
        backend = self.ecs_backend
        try:
            service = backend._get_service(params.get("cluster", "default"), params["service"])
        except Exception:
            return update(self)  # moto answers with the not-found error
        primary = _primary(service)
        before = {"task_definition": service.task_definition,
                  "network_configuration": service.network_configuration,
                  "capacity_provider_strategy": getattr(service, "capacity_provider_strategy", None),
                  "platform_version": service.platform_version,
                  "primary": copy.deepcopy(primary) if primary else None,
                  "count": len(service.deployments)}
        result = update(self)
        if params.get("taskDefinition"):
            service.task_definition = backend.describe_task_definition(params["taskDefinition"]).arn
        if params.get("deploymentConfiguration") is not None:
            service.deployment_configuration = {**_DEFAULT_DEPLOYMENT_CONFIGURATION,
                                                **params["deploymentConfiguration"]}
        if before["primary"] is None:
            return result  # EXTERNAL / CODE_DEPLOY controllers: deployments are task sets
        moto_rolled = len(service.deployments) > before["count"]
        if not moto_rolled and _needs_new_deployment(params, before, service):
            begin_deployment(service, params, before)
        if "capacityProviderStrategy" in params:
            _apply_strategy(service, None, params["capacityProviderStrategy"])
        return result

    R.update_service = update_service


# ================================================================ the service scheduler

def _event(service: Any, message: str) -> None:
    from moto.core.utils import utcnow
    service.events.insert(0, {"id": str(uuid.uuid4()), "createdAt": utcnow(),
                              "message": f"(service {service.name}) {message}"})


def _service_tasks(backend: Any, service: Any) -> list:
    group = f"service:{service.name}"
    return [t for t in backend.tasks.get(service.cluster_name, {}).values()
            if t.group == group and t.desired_status == "RUNNING"]


def _can_place(backend: Any, service: Any) -> bool:
    """EC2 launch type needs a container instance; Fargate and Auto Scaling providers scale for us."""
    if service.launch_type != "EC2":
        return True
    instances = backend.container_instances.get(service.cluster_name, {})
    return any(i.status == "ACTIVE" for i in instances.values())


def _start_tasks(backend: Any, service: Any, deployment: dict, count: int) -> list:
    """Start `count` tasks of the deployment: providers split by its strategy (base, then
    weights), subnets spread across zones (see `placement`), registered with the service's
    target groups and Cloud Map services (see `registration`)."""
    from moto.ecs.models import Task

    cluster = backend.clusters[service.cluster_name]
    td = backend.describe_task_definition(deployment["taskDefinition"])
    instances = [i for i in backend.container_instances.get(cluster.name, {}).values()
                 if i.status == "ACTIVE"]
    tags = list(service.tags) if service.propagate_tags == "SERVICE" else (
        list(td.tags) if service.propagate_tags == "TASK_DEFINITION" else [])
    running = [t.capacity_provider_name for t in _service_tasks(backend, service)
               if t.started_by == deployment["id"]]
    providers = placement.providers_for(
        getattr(service, "capacity_provider_strategy", None) or [], running, count)
    budget, cpu = quotas.Budget(backend), quotas.vcpus(backend, td.arn)
    started = []
    for n in range(count):
        if not budget.take(providers[n], service.launch_type or "", cpu):
            if not service.events or not service.events[0]["message"].endswith(quotas.MESSAGE):
                _event(service, quotas.MESSAGE)
            break
        task = Task(
            cluster, td,
            instances[n % len(instances)].container_instance_arn if (
                instances and service.launch_type == "EC2") else None,
            backend._calculate_task_resource_requirements(td), backend=backend,
            group=f"service:{service.name}", launch_type=service.launch_type or "",
            started_by=deployment["id"], tags=tags,
            networking_configuration=service.network_configuration or None,
            platform_version=service.platform_version,
            capacity_provider_name=providers[n])
        task.enable_execute_command = bool(getattr(service, "enable_execute_command", False))
        backend.tasks.setdefault(cluster.name, {})[task.task_arn] = task
        started.append(task)
    if acs.attached():
        acs.changed(service.region_name, service.cluster_name)  # registered once RUNNING
    else:
        registration.register(service, started)
    return started


def forget_tasks(tasks: list, release: bool = True) -> None:
    """Stopping tasks leave their service's target groups and Cloud Map services (once);
    with `release`, their network interfaces are deleted too (once).

    With an agent, a task asked to stop is deregistered at once (DEACTIVATING) and keeps
    its ENI until the agent reports it STOPPED, so its address is not handed to a
    replacement that the late deregistration would then remove.
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-lifecycle-explanation.html
    """
    for task in tasks:
        if not getattr(task, "_ml_deregistered", False):
            task._ml_deregistered = True
            service = registration.service_of(task)
            if service is not None:
                registration.deregister(service, [task])
        if release and not getattr(task, "_ml_released", False):
            task._ml_released = True
            placement.release(task)


def _stop_tasks(tasks: list, reason: str, stop_code: str = "ServiceSchedulerInitiated") -> None:
    """Ask for tasks to stop. With an agent they are DEACTIVATING until it reports them
    STOPPED (after SIGTERM, stopTimeout, SIGKILL); without one they stop at once.

    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-lifecycle-explanation.html
    """
    from moto.core.utils import utcnow
    now = utcnow()
    live = acs.attached()
    for task in tasks:
        task.desired_status = "STOPPED"
        task.stopped_reason = reason
        task.stop_code = stop_code
        task.stopping_at = now
        if live and task.last_status not in ("STOPPED",):
            deactivate(task)
        else:
            task.last_status = "STOPPED"
            task.stopped_at = task.execution_stopped_at = now
    forget_tasks(tasks, release=not live)
    for task in tasks if live else ():
        acs.changed(task.region_name, task.cluster_name)


def deactivate(task: Any) -> None:
    """DEACTIVATING: ECS deregisters the task from its target groups and waits for them to
    drain (their deregistration delay) before it has the agent stop the containers
    (STOPPING), so the load balancer's requests in flight finish and no new ones arrive at
    a stopping task. Call before the task is deregistered.

    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-lifecycle-explanation.html
    ("DEACTIVATING ... deregistering the task from the load balancer target groups";
    "STOPPING ... the ECS agent stops the containers").
    """
    import threading

    drain = registration.drain_seconds(task)
    if drain <= 0:
        task.last_status = "STOPPING"
        return
    task.last_status = "DEACTIVATING"

    def drained() -> None:
        with rollout.LOCK:
            if task.last_status == "DEACTIVATING":
                task.last_status = "STOPPING"
                acs.changed(task.region_name, task.cluster_name)
    timer = threading.Timer(drain, drained)
    timer.daemon = True
    timer.start()


def _task_list(tasks: list) -> str:
    return " ".join(f"(task {t.id})" for t in tasks)


def settle(backend: Any, service: Any) -> None:
    """One look of the service scheduler at a service: with an agent, one step of a real
    rollout (`rollout.settle_live`); without one, straight to the steady state."""
    from mylearning.emulator.fidelity.ecs import blue_green, service_deployments
    with rollout.LOCK:
        service_deployments.record_new(service)  # a circuit breaker's rollback deployment too
        if blue_green.settle(backend, service):
            return
        if acs.attached():
            rollout.settle_live(backend, service)
        else:
            _settle_at_once(backend, service)
        service_deployments.follow_rollout(service)


def begin_rollback(backend: Any, service: Any, failed: dict) -> None:
    """The circuit breaker rolls back: a new PRIMARY deployment of the last deployment that
    completed (the ACTIVE one the failed deployment replaced).

    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-circuit-breaker.html
    ("rolls back to the last deployment that completed").
    """
    from moto.core.utils import utcnow

    previous = next((d for d in service.deployments if d.get("status") == "ACTIVE"), None)
    if previous is None:
        return
    now = utcnow()
    new = copy.deepcopy(previous)
    new.update({"id": _new_deployment_id(), "status": "PRIMARY", "desiredCount": service.desired_count,
                "runningCount": 0, "pendingCount": 0, "failedTasks": 0, "createdAt": now,
                "updatedAt": now, "rolloutState": "IN_PROGRESS"})
    new["rolloutStateReason"] = (f"ECS deployment circuit breaker: rolling back to "
                                 f"deploymentId {previous['id']}.")
    service.task_definition = previous["taskDefinition"]
    failed_now = dict(failed, status="ACTIVE", updatedAt=now)
    rest = [d for d in service.deployments if d.get("id") not in (failed.get("id"),)]
    service.deployments[:] = [new, failed_now, *rest]
    service._ml_failures = 0
    service._ml_next_launch = 0.0
    _event(service, f"(deployment {failed['id']}) rolling back to deployment {previous['id']}.")


def _settle_at_once(backend: Any, service: Any) -> None:
    """Bring a service to its steady state, as the ECS scheduler would after a deployment.

    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-event-messages-list.html
    ("has started N tasks", "has reached a steady state", "deployment completed") and
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-ecs.html
    (rolling update: new PRIMARY deployment started, the ACTIVE one drained).
    """
    from moto.core.utils import utcnow

    primary = _primary(service)
    if primary is None or service.status != "ACTIVE":
        return
    running = _service_tasks(backend, service)
    current = [t for t in running if t.started_by == primary["id"]]
    old = [t for t in running if t.started_by != primary["id"]]
    placeable = _can_place(backend, service)
    missing = service.desired_count - len(current)
    if missing > 0 and placeable:
        started = _start_tasks(backend, service, primary, missing)
        current += started
        if started:
            _event(service, f"has started {len(started)} tasks: {_task_list(started)}.")
    elif missing > 0:
        _event(service, "was unable to place a task because no container instance met all of "
                        "its requirements. Reason: No Container Instances were found in your "
                        "cluster.")
    elif missing < 0:
        extra = placement.tasks_to_stop(current, len(current) - service.desired_count)
        current = [t for t in current if t not in extra]
        _stop_tasks(extra, "Scaling activity initiated by (deployment %s)" % primary["id"])
        _event(service, f"has stopped {len(extra)} running tasks: {_task_list(extra)}.")
    if old and (placeable or service.desired_count == 0):
        _stop_tasks(old, "Scaling activity initiated by (deployment %s)" % primary["id"])
        _event(service, f"has stopped {len(old)} running tasks: {_task_list(old)}.")
        old = []
    done = len(current) == service.desired_count and not old
    now = utcnow()
    primary.update(desiredCount=service.desired_count, runningCount=len(current),
                   pendingCount=0 if done else service.desired_count - len(current),
                   updatedAt=now)
    service.running_count = len(current) + len(old)
    service.pending_count = primary["pendingCount"]
    if done:
        if primary.get("rolloutState") != "COMPLETED":
            primary["rolloutState"] = "COMPLETED"
            primary["rolloutStateReason"] = f"ECS deployment {primary['id']} completed."
            _event(service, f"(deployment {primary['id']}) deployment completed.")
        service.deployments[:] = [primary]
        _event(service, "has reached a steady state.")


@after(SERVICE, "CreateService", "UpdateService")
def schedule_service(req: AwsRequest, status: int, body: bytes) -> None:
    backend = _backend(req.region)
    cluster = _cluster(req.region, req.params.get("cluster"))
    name = (req.params.get("serviceName") or req.params.get("service") or "").split("/")[-1]
    service = backend.services.get(f"{cluster.name}:{name}") if cluster else None
    if service is not None:
        settle(backend, service)  # which records the new deployment first


def _fix_stop_task_waits_for_agent() -> None:
    """StopTask stopped the task at once; with an agent the task is DEACTIVATING until the
    agent has stopped its containers (SIGTERM, stopTimeout, SIGKILL) and reported STOPPED.

    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_StopTask.html ("a SIGTERM
    value is sent ... if the container handles the SIGTERM ... otherwise SIGKILL after
    30 seconds"; the stop code of a task stopped by StopTask is UserInitiated).
    """
    from moto.core.utils import utcnow
    from moto.ecs.models import EC2ContainerServiceBackend as B

    stop = B.stop_task

    def stop_task(self: Any, cluster_str: str, task_str: str, reason: str) -> Any:
        task_id = task_str.split("/")[-1]
        cluster = self._get_cluster(cluster_str)
        before = next((t.last_status for arn, t in self.tasks.get(cluster.name, {}).items()
                       if arn.endswith(task_id)), None)
        task = stop(self, cluster_str, task_str, reason)
        if before not in (None, "STOPPED"):
            task.stop_code = "UserInitiated"
            task.stopping_at = utcnow()
            if acs.attached():
                deactivate(task)
            else:
                task.stopped_at = task.execution_stopped_at = task.stopping_at
        return task

    B.stop_task = stop_task


@after(SERVICE, "StopTask")
def replace_stopped_service_task(req: AwsRequest, status: int, body: bytes) -> None:
    """A stopped task leaves its target groups and Cloud Map service; when it belonged to a
    service, the scheduler starts a replacement.

    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_services.html
    (the service scheduler maintains the desired count, replacing tasks that stop).
    """
    backend = _backend(req.region)
    cluster = _cluster(req.region, req.params.get("cluster"))
    if cluster is None:
        return
    task_id = (req.params.get("task") or "").split("/")[-1]
    task = next((t for arn, t in backend.tasks.get(cluster.name, {}).items()
                 if arn.split("/")[-1] == task_id), None)
    if task is None:
        return
    with rollout.LOCK:
        forget_tasks([task], release=not acs.attached() or task.last_status == "STOPPED")
        if acs.attached():
            acs.changed(req.region, cluster.name)
        if not task.group.startswith("service:"):
            return
        service = backend.services.get(f"{cluster.name}:{task.group.split(':', 1)[1]}")
        if service is not None:
            _event(service, f"has stopped 1 running tasks: (task {task.id}).")
            settle(backend, service)


@after(SERVICE, "RunTask", "StartTask")
def wake_the_agent(req: AwsRequest, status: int, body: bytes) -> None:
    """Tasks were placed: the agent starts them (they are PROVISIONING until it reports)."""
    if acs.attached():
        cluster = _cluster(req.region, req.params.get("cluster"))
        acs.changed(req.region, cluster.name if cluster is not None else None)


@after(SERVICE, "DeleteService")
def drain_deleted_service(req: AwsRequest, status: int, body: bytes) -> None:
    """A deleted service's tasks are stopped.

    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeleteService.html
    (a deleted service's tasks are stopped; the service moves through DRAINING to INACTIVE).
    """
    backend = _backend(req.region)
    cluster = _cluster(req.region, req.params.get("cluster"))
    name = (req.params.get("service") or "").split("/")[-1]
    service = backend.services.get(f"{cluster.name}:{name}") if cluster else None
    if service is None:
        return
    tasks = _service_tasks(backend, service)
    _stop_tasks(tasks, "Service deleted")
    service.running_count = 0
    service.desired_count = 0


@after(SERVICE, "CreateService", "UpdateService", "DeleteService", "RunTask", "StartTask",
       "StopTask", "CreateTaskSet")
def count_cluster_tasks(req: AwsRequest, status: int, body: bytes) -> None:
    """Cluster counters follow its tasks and services (moto missed Fargate tasks).

    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Cluster.html
    ("runningTasksCount: The number of tasks in the cluster that are in the RUNNING state").
    """
    backend = _backend(req.region)
    cluster = _cluster(req.region, req.params.get("cluster"))
    if cluster is None:
        return
    tasks = backend.tasks.get(cluster.name, {}).values()
    cluster.running_tasks_count = sum(1 for t in tasks if t.desired_status == "RUNNING")
    active = [s for s in backend.services.values()
              if s.cluster_name == cluster.name and s.status == "ACTIVE"]
    cluster.pending_tasks_count = sum(s.pending_count for s in active)
    cluster.active_services_count = len(active)
