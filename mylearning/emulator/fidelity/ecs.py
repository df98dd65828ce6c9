"""Amazon ECS: the checks AWS makes that moto skips, and services that deploy like ECS.

Three parts, each kept small enough to be offered upstream to moto on its own:

* **Rules** (``@rule``): requests AWS rejects, answered with AWS's error code.
* **moto fixes** (``_fix_*``): crashes and dropped parameters in moto 5.2.x,
  patched once on the first ECS call. Where it can, a fix lets moto try first
  and steps in only where moto fails or leaves a value unset; the others are
  idempotent (they change nothing where moto already behaves), so a moto that
  closes a gap upstream is left alone.
* **The scheduler** (``@after``): what the ECS service scheduler does after
  CreateService/UpdateService returns -- start tasks, drain the old deployment,
  log events, reach a steady state. It runs at once, so a service is stable as
  soon as the call returned and the ``services_stable`` waiter succeeds on its
  first poll; the call's own answer still shows the rollout IN_PROGRESS, as AWS's does.

moto is imported lazily: importing this module (e.g. for the fidelity table)
stays light.
"""
from __future__ import annotations

import copy
import re
import threading
import uuid
from typing import Any

from mylearning.emulator.fidelity.core import MODELS, AwsError, AwsRequest, after, rule

SERVICE = "ecs"
FARGATE_PROVIDERS = ("FARGATE", "FARGATE_SPOT")


def client_error(message: str) -> AwsError:
    return AwsError("ClientException", message, 400)


def invalid_parameter(message: str) -> AwsError:
    return AwsError("InvalidParameterException", message, 400)


# ---------------------------------------------------------------- moto access

def _backend(region: str):
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ecs.models import ecs_backends
    return ecs_backends[DEFAULT_ACCOUNT_ID][region]


def _ec2(region: str):
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ec2.models import ec2_backends
    return ec2_backends[DEFAULT_ACCOUNT_ID][region]


def _cluster(region: str, name: str | None):
    return _backend(region).clusters.get((name or "default").split("/")[-1])


def _task_definition(region: str, ref: str | None):
    if not ref:
        return None
    try:
        return _backend(region).describe_task_definition(ref)
    except Exception:  # unknown: moto answers with its own not-found error
        return None


# ================================================================ rules
# ---------------------------------------------------------------- task definitions

_CPU = re.compile(r"^\s*(\d+(?:\.\d+)?|\.\d+)\s*(vcpu)?\s*$", re.IGNORECASE)
_MEMORY = re.compile(r"^\s*(\d+(?:\.\d+)?|\.\d+)\s*(gb)?\s*$", re.IGNORECASE)


def cpu_units(value: Any) -> int | None:
    """'1024', '1 vCPU', '0.25 vcpu' -> CPU units; None when not a valid form.

    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RegisterTaskDefinition.html
    ("cpu ... expressed as an integer using CPU units (for example, 1024) or as a
    string using vCPUs (for example, 1 vCPU or 1 vcpu)").
    """
    match = _CPU.match(str(value))
    if not match:
        return None
    number, unit = float(match.group(1)), match.group(2)
    units = number * 1024 if unit else number
    return int(units) if units == int(units) else None


def memory_mib(value: Any) -> int | None:
    """'2048', '2GB', '2 GB', '0.5GB' -> MiB; None when not a valid form (same page as cpu)."""
    match = _MEMORY.match(str(value))
    if not match:
        return None
    number, unit = float(match.group(1)), match.group(2)
    mib = number * 1024 if unit else number
    return int(mib) if mib == int(mib) else None


def _gb_range(low: int, high: int, step: int) -> frozenset[int]:
    return frozenset(range(low * 1024, high * 1024 + 1, step * 1024))


#: CPU units -> allowed memory (MiB) for Fargate tasks. Published table:
#: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size
#: and https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-cpu-memory-error.html
FARGATE_SIZES: dict[int, frozenset[int]] = {
    256: frozenset({512, 1024, 2048}),
    512: _gb_range(1, 4, 1),
    1024: _gb_range(2, 8, 1),
    2048: _gb_range(4, 16, 1),
    4096: _gb_range(8, 30, 1),
    8192: _gb_range(16, 60, 4),
    16384: _gb_range(32, 120, 8),
}


def _is_fargate(params: dict) -> bool:
    return "FARGATE" in (params.get("requiresCompatibilities") or [])


@rule(SERVICE, "RegisterTaskDefinition")
def task_size_is_valid(req: AwsRequest) -> None:
    """Task-level cpu/memory: valid forms; on Fargate required and one of the table's pairs.

    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-cpu-memory-error.html
    ("Invalid 'cpu' setting for task" / "No Fargate configuration exists for given values").
    """
    p = req.params
    cpu, memory = p.get("cpu"), p.get("memory")
    units = cpu_units(cpu) if cpu is not None else None
    mib = memory_mib(memory) if memory is not None else None
    if cpu is not None and units is None:
        raise client_error("Invalid 'cpu' setting for task.")
    if memory is not None and mib is None:
        raise client_error("Invalid 'memory' setting for task.")
    if not _is_fargate(p):
        return
    if cpu is None:
        raise client_error("Fargate requires that 'cpu' be defined at the task level.")
    if memory is None:
        raise client_error("Fargate requires that 'memory' be defined at the task level.")
    if mib not in FARGATE_SIZES.get(units, frozenset()):
        raise client_error(
            f"No Fargate configuration exists for given values: {cpu} CPU, {memory} memory. "
            "See the Amazon ECS documentation for the valid task CPU and memory combinations.")


@rule(SERVICE, "RegisterTaskDefinition")
def fargate_needs_awsvpc(req: AwsRequest) -> None:
    """Fargate tasks use the awsvpc network mode only.

    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-task-networking.html
    (tasks on Fargate always get their own network interface: network mode awsvpc).
    An omitted networkMode is left to moto (it defaults Fargate tasks to awsvpc).
    """
    mode = req.params.get("networkMode")
    if _is_fargate(req.params) and mode is not None and mode != "awsvpc":
        raise client_error("Fargate only supports network mode 'awsvpc'.")


@rule(SERVICE, "RegisterTaskDefinition")
def awslogs_has_its_options(req: AwsRequest) -> None:
    """awslogs needs awslogs-group and awslogs-region; on Fargate also an execution role.

    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_LogConfiguration.html
    (awslogs-region "Required: Yes", awslogs-group "Required: Yes") and
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html
    (the execution role is what lets a Fargate task send awslogs output to CloudWatch Logs).
    """
    for container in req.params.get("containerDefinitions") or []:
        log = container.get("logConfiguration") or {}
        if log.get("logDriver") != "awslogs":
            continue
        options = log.get("options") or {}
        missing = [o for o in ("awslogs-group", "awslogs-region") if not options.get(o)]
        if missing:
            raise client_error(
                f"Log driver awslogs requires options: {', '.join(missing)} "
                f"(container {container.get('name')}).")
        if _is_fargate(req.params) and not req.params.get("executionRoleArn"):
            raise client_error(
                "Fargate requires task definition to have execution role ARN to support "
                "log driver awslogs.")


@rule(SERVICE, "RegisterTaskDefinition")
def proxy_container_exists(req: AwsRequest) -> None:
    """proxyConfiguration.containerName names a container of this task definition.

    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ProxyConfiguration.html
    ("containerName: The name of the container that will serve as the App Mesh proxy").
    """
    proxy = req.params.get("proxyConfiguration")
    if not proxy:
        return
    names = {c.get("name") for c in req.params.get("containerDefinitions") or []}
    if proxy.get("containerName") not in names:
        raise client_error(
            f"The proxy configuration container name '{proxy.get('containerName')}' "
            "is not a container of this task definition.")


_DEPENDS_CONDITIONS = ("START", "COMPLETE", "SUCCESS", "HEALTHY")


@rule(SERVICE, "RegisterTaskDefinition")
def depends_on_known_containers(req: AwsRequest) -> None:
    """dependsOn names a container of the same task, with a documented condition.

    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDependency.html
    (condition: START | COMPLETE | SUCCESS | HEALTHY).
    """
    containers = req.params.get("containerDefinitions") or []
    names = {c.get("name") for c in containers}
    for container in containers:
        for dep in container.get("dependsOn") or []:
            if dep.get("containerName") not in names:
                raise client_error(
                    f"Container '{container.get('name')}' depends on container "
                    f"'{dep.get('containerName')}', which is not in this task definition.")
            if dep.get("condition") not in _DEPENDS_CONDITIONS:
                raise client_error(
                    f"Invalid dependsOn condition '{dep.get('condition')}' for container "
                    f"'{container.get('name')}'; use one of {', '.join(_DEPENDS_CONDITIONS)}.")


@rule(SERVICE, "RegisterTaskDefinition")
def one_essential_container(req: AwsRequest) -> None:
    """At least one container is essential (essential defaults to true).

    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#container_definition_environment
    ("All tasks must have at least one essential container").
    """
    containers = req.params.get("containerDefinitions") or []
    if containers and not any(c.get("essential", True) for c in containers):
        raise client_error("A task definition must have at least one essential container.")


@rule(SERVICE, "RegisterTaskDefinition")
def awsvpc_host_port_matches(req: AwsRequest) -> None:
    """In awsvpc (and host) mode a hostPort, if given, equals its containerPort.

    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_PortMapping.html
    (with awsvpc or host networking, hostPort is left blank or set to the containerPort).
    """
    mode = req.params.get("networkMode") or ("awsvpc" if _is_fargate(req.params) else "bridge")
    if mode not in ("awsvpc", "host"):
        return
    for container in req.params.get("containerDefinitions") or []:
        for mapping in container.get("portMappings") or []:
            host, port = mapping.get("hostPort"), mapping.get("containerPort")
            if host is not None and port is not None and host != port:
                raise client_error(
                    f"When networkMode={mode}, the host ports and container ports in port "
                    f"mappings must match (container {container.get('name')}: "
                    f"hostPort {host}, containerPort {port}).")


@rule(SERVICE, "RegisterTaskDefinition")
def container_sizes_fit(req: AwsRequest) -> None:
    """memoryReservation stays below memory; containers together fit in the task-level size.

    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html
    (memory must be greater than memoryReservation when both are set; the CPU and memory
    reserved by all containers must fit within the task-level cpu and memory).
    """
    containers = req.params.get("containerDefinitions") or []
    for c in containers:
        hard, soft = c.get("memory"), c.get("memoryReservation")
        if isinstance(hard, int) and isinstance(soft, int) and soft > hard:
            raise client_error(
                f"Invalid setting for container '{c.get('name')}': memoryReservation ({soft}) "
                f"must not be greater than memory ({hard}).")
    task_cpu = cpu_units(req.params["cpu"]) if req.params.get("cpu") else None
    task_memory = memory_mib(req.params["memory"]) if req.params.get("memory") else None
    cpu = sum(c.get("cpu") or 0 for c in containers if isinstance(c.get("cpu") or 0, int))
    memory = sum((c.get("memoryReservation") or c.get("memory") or 0) for c in containers
                 if isinstance(c.get("memoryReservation") or c.get("memory") or 0, int))
    if task_cpu is not None and cpu > task_cpu:
        raise client_error(
            f"The containers reserve {cpu} CPU units in total, more than the task's {task_cpu}.")
    if task_memory is not None and memory > task_memory:
        raise client_error(
            f"The containers reserve {memory} MiB of memory in total, more than the task's "
            f"{task_memory}.")


# ---------------------------------------------------------------- clusters, capacity providers

def _strategy_has_one_base(strategy: list[dict]) -> None:
    """https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CapacityProviderStrategyItem.html
    ("Only one capacity provider in a capacity provider strategy can have a base defined")."""
    if sum(1 for item in strategy if item.get("base")) > 1:
        raise invalid_parameter(
            "Only one capacity provider in a capacity provider strategy can have a base defined.")


def _strategy_on_cluster(strategy: list[dict], providers: list[str] | None) -> None:
    names = {p.split("/")[-1] for p in providers or []}
    for item in strategy:
        if item.get("capacityProvider", "").split("/")[-1] not in names:
            raise invalid_parameter(
                "The specified capacity provider strategy cannot contain a capacity provider "
                f"that is not associated with the cluster ({item.get('capacityProvider')}). "
                "Associate the capacity provider with the cluster or specify a valid one.")


@rule(SERVICE, "CreateCluster", "PutClusterCapacityProviders")
def default_strategy_uses_cluster_providers(req: AwsRequest) -> None:
    """A cluster's default strategy may only name capacity providers the cluster has.

    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_PutClusterCapacityProviders.html
    (the default strategy is made of providers from the capacityProviders list of the same call).
    """
    strategy = req.params.get("defaultCapacityProviderStrategy") or []
    _strategy_has_one_base(strategy)
    _strategy_on_cluster(strategy, req.params.get("capacityProviders"))


_ASG_ARN = re.compile(
    r"^arn:aws[a-z-]*:autoscaling:[a-z0-9-]+:\d{12}:autoScalingGroup:"
    r"[0-9a-fA-F-]+:autoScalingGroupName/[^\s]+$")


@rule(SERVICE, "CreateCapacityProvider")
def capacity_provider_is_well_formed(req: AwsRequest) -> None:
    """autoScalingGroupArn is an Auto Scaling group ARN (or a group name); the name has no reserved prefix.

    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_AutoScalingGroupProvider.html
    ("autoScalingGroupArn: The Amazon Resource Name (ARN) that identifies the Auto Scaling group,
    or the Auto Scaling group name") and
    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateCapacityProvider.html
    ("The name can't be prefixed with "aws", "ecs", or "fargate"").
    """
    name = req.params.get("name") or ""
    if name.lower().startswith(("aws", "ecs", "fargate")):
        raise client_error(
            f"The capacity provider name '{name}' is invalid: names can't start with "
            "'aws', 'ecs' or 'fargate'.")
    arn = (req.params.get("autoScalingGroupProvider") or {}).get("autoScalingGroupArn") or ""
    if arn.startswith("arn:") and not _ASG_ARN.match(arn):
        raise client_error(f"The specified Auto Scaling group ARN is not valid: {arn}")


# ---------------------------------------------------------------- services, tasks, task sets

@rule(SERVICE, "CreateService", "RunTask", "CreateTaskSet")
def launch_type_or_strategy(req: AwsRequest) -> None:
    """launchType and capacityProviderStrategy exclude each other; strategy providers belong to the cluster.

    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html
    ("If a capacityProviderStrategy is specified, the launchType parameter must be omitted").
    """
    strategy = req.params.get("capacityProviderStrategy") or []
    if strategy and req.params.get("launchType"):
        raise invalid_parameter(
            "Specifying both a launchType and capacityProviderStrategy is not supported. "
            "Remove one and try again.")
    if strategy:
        _strategy_has_one_base(strategy)
        cluster = _cluster(req.region, req.params.get("cluster"))
        if cluster is not None:
            _strategy_on_cluster(strategy, cluster.capacity_providers)


def _uses_awsvpc(req: AwsRequest) -> Any:
    td = _task_definition(req.region, req.params.get("taskDefinition"))
    return td if td is not None and td.network_mode == "awsvpc" else None


@rule(SERVICE, "CreateService", "RunTask", "CreateTaskSet")
def awsvpc_needs_network_configuration(req: AwsRequest) -> None:
    """Tasks in awsvpc mode need networkConfiguration with at least one subnet.

    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html
    ("networkConfiguration ... required for task definitions that use the awsvpc network mode").
    """
    if _uses_awsvpc(req) is None:
        return
    vpc = (req.params.get("networkConfiguration") or {}).get("awsvpcConfiguration")
    if not vpc:
        raise invalid_parameter(
            "Network Configuration must be provided when networkMode 'awsvpc' is specified.")
    if not vpc.get("subnets"):
        raise invalid_parameter("subnets can not be empty.")


@rule(SERVICE, "CreateService", "RunTask", "CreateTaskSet")
def fargate_needs_fargate_task_definition(req: AwsRequest) -> None:
    """launchType FARGATE needs a task definition compatible with Fargate.

    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_TaskDefinition.html
    (requiresCompatibilities: the launch types a task definition was validated for).
    """
    if req.params.get("launchType") != "FARGATE":
        return
    td = _task_definition(req.region, req.params.get("taskDefinition"))
    if td is not None and not fargate_compatible(td):
        raise invalid_parameter("Task definition does not support launch_type FARGATE.")


def fargate_compatible(td: Any) -> bool:
    """Registered for Fargate, or meeting its requirements anyway (awsvpc and a table size):
    ECS validates every task definition against each launch type it can."""
    if "FARGATE" in (td.requires_compatibilities or []):
        return True
    size = FARGATE_SIZES.get(cpu_units(td.cpu) if td.cpu else None, frozenset())
    return td.network_mode == "awsvpc" and bool(td.memory) and memory_mib(td.memory) in size


@rule(SERVICE, "CreateService", "CreateTaskSet")
def load_balancer_container_exists(req: AwsRequest) -> None:
    """loadBalancers[].containerName/containerPort name a container and one of its ports.

    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_LoadBalancer.html
    ("containerName: The name of the container (as it appears in a container definition)").
    """
    lbs = req.params.get("loadBalancers") or []
    td = _task_definition(req.region, req.params.get("taskDefinition"))
    if not lbs or td is None:
        return
    by_name = {c.get("name"): c for c in td.container_definitions}
    for lb in lbs:
        name = lb.get("containerName")
        if name not in by_name:
            raise invalid_parameter(f"The container {name} does not exist in the task definition.")
        ports = {m.get("containerPort") for m in by_name[name].get("portMappings") or []}
        if lb.get("containerPort") is not None and lb["containerPort"] not in ports:
            raise invalid_parameter(
                f"The container {name} did not have a container port {lb['containerPort']} defined.")


@rule(SERVICE, "CreateTaskSet")
def task_sets_need_external_controller(req: AwsRequest) -> None:
    """Task sets are managed only on services with the EXTERNAL deployment controller.

    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateTaskSet.html
    ("Create a task set in the specified cluster and service. This is used when a service
    uses the EXTERNAL deployment controller type").
    """
    cluster = _cluster(req.region, req.params.get("cluster"))
    if cluster is None:
        return
    service = _backend(req.region).services.get(
        f"{cluster.name}:{(req.params.get('service') or '').split('/')[-1]}")
    if service is not None and (service.deployment_controller or {}).get("type") != "EXTERNAL":
        raise invalid_parameter(
            "Task sets can only be managed on services that use the EXTERNAL deployment "
            "controller.")


def _existing_service(req: AwsRequest, key: str) -> Any:
    cluster = _cluster(req.region, req.params.get("cluster"))
    if cluster is None:
        return None
    name = (req.params.get(key) or "").split("/")[-1]
    return _backend(req.region).services.get(f"{cluster.name}:{name}")


@rule(SERVICE, "UpdateService")
def update_only_active_services(req: AwsRequest) -> None:
    """A deleted (INACTIVE) service cannot be updated.

    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_UpdateService.html
    (error ServiceNotActiveException: the service is not active).
    """
    service = _existing_service(req, "service")
    if service is not None and service.status != "ACTIVE":
        raise AwsError("ServiceNotActiveException", "Service was not ACTIVE.")


@rule(SERVICE, "CreateService")
def create_service_is_idempotent(req: AwsRequest) -> None:
    """Creating an existing active service again with other settings is refused.

    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html
    (clientToken and idempotency; an active service keeps its name, use UpdateService to
    change it). Repeating the same request is accepted.
    """
    service = _existing_service(req, "serviceName")
    if service is None or service.status != "ACTIVE":
        return
    td = _task_definition(req.region, req.params.get("taskDefinition"))
    same_td = (td.arn if td else req.params.get("taskDefinition")) == service.task_definition
    same_count = req.params.get("desiredCount", service.desired_count) == service.desired_count
    if not (same_td and same_count):
        raise invalid_parameter("Creation of service was not idempotent.")


def _target_groups_in_use(region: str) -> set[str] | None:
    """ARNs of target groups a listener or rule forwards to; None if moto's state is unreadable."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.elbv2.models import elbv2_backends

    backend = elbv2_backends[DEFAULT_ACCOUNT_ID][region]
    try:
        used = {tg.arn for tg in backend.target_groups.values() if tg.load_balancer_arns}
        for lb in backend.load_balancers.values():
            for listener in lb.listeners.values():
                actions = list(listener.default_actions)
                for listener_rule in listener.rules.values():
                    actions += list(listener_rule.actions)
                for action in actions:
                    if action.type == "forward":
                        used.update(backend._get_target_group_arns_from(action_data=action.data))
        return used
    except Exception:
        return None


@rule(SERVICE, "CreateService")
def target_group_has_load_balancer(req: AwsRequest) -> None:
    """A service's target group must already receive traffic from a load balancer.

    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/alb.html
    (create the load balancer, listener and target group before the service that uses them).
    """
    arns = [lb.get("targetGroupArn") for lb in req.params.get("loadBalancers") or []
            if lb.get("targetGroupArn")]
    if not arns:
        return
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.elbv2.models import elbv2_backends

    known = elbv2_backends[DEFAULT_ACCOUNT_ID][req.region].target_groups
    used = _target_groups_in_use(req.region)
    for arn in arns:
        if used is not None and arn in known and arn not in used:
            raise invalid_parameter(
                f"The target group with targetGroupArn {arn} does not have an associated "
                "load balancer.")


def _placement(req: AwsRequest, cluster: Any) -> tuple[str | None, list[dict]]:
    """(launch type, strategy) a RunTask/CreateTaskSet call resolves to, as ECS does."""
    launch = req.params.get("launchType")
    strategy = req.params.get("capacityProviderStrategy") or []
    if not launch and not strategy:
        strategy = cluster.default_capacity_provider_strategy or []
        if not strategy:
            launch = "EC2"
    return launch, strategy


@rule(SERVICE, "RunTask")
def ec2_tasks_need_container_instances(req: AwsRequest) -> None:
    """EC2 tasks need a registered container instance (moto crashes with HTTP 500 instead).

    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/troubleshoot-service-event-messages.html
    (the "No Container Instances were found in your cluster" case). Tasks placed by an Auto
    Scaling group capacity provider are not refused: managed scaling adds the instances.
    """
    cluster = _cluster(req.region, req.params.get("cluster"))
    if cluster is None:
        return
    launch, _ = _placement(req, cluster)
    instances = _backend(req.region).container_instances.get(cluster.name, {})
    if launch == "EC2" and not any(i.status == "ACTIVE" for i in instances.values()):
        raise invalid_parameter("No Container Instances were found in your cluster.")


@rule(SERVICE, "RunTask")
def run_task_count_in_range(req: AwsRequest) -> None:
    """RunTask starts 1 to 10 tasks per call.

    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RunTask.html
    (count: "You can specify up to 10 tasks for each call").
    """
    count = req.params.get("count", 1)
    if isinstance(count, int) and not 1 <= count <= 10:
        raise invalid_parameter("count must be between 1 and 10.")


@rule(SERVICE, "StopTask")
def stop_known_task(req: AwsRequest) -> None:
    """Stopping a task the cluster does not have is an InvalidParameterException (moto: HTTP 500).

    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_StopTask.html
    """
    cluster = _cluster(req.region, req.params.get("cluster"))
    if cluster is None:
        return
    task_id = (req.params.get("task") or "").split("/")[-1]
    tasks = _backend(req.region).tasks.get(cluster.name, {})
    if not any(arn.split("/")[-1] == task_id for arn in tasks):
        raise invalid_parameter("The referenced task was not found.")


@rule(SERVICE, "DeleteCluster")
def delete_only_empty_clusters(req: AwsRequest) -> None:
    """A cluster with active services, running tasks or container instances cannot be deleted.

    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeleteCluster.html
    (errors ClusterContainsServicesException, ClusterContainsTasksException,
    ClusterContainsContainerInstancesException: delete or scale those down first).
    """
    cluster = _cluster(req.region, req.params.get("cluster"))
    if cluster is None:
        return
    backend = _backend(req.region)
    if any(s.cluster_name == cluster.name and s.status == "ACTIVE"
           for s in backend.services.values()):
        raise AwsError("ClusterContainsServicesException",
                       "The Cluster cannot be deleted while Services are active.")
    if any(t.desired_status == "RUNNING" for t in backend.tasks.get(cluster.name, {}).values()):
        raise AwsError("ClusterContainsTasksException",
                       "The Cluster cannot be deleted while Tasks are active.")
    if any(i.status == "ACTIVE" for i in backend.container_instances.get(cluster.name, {}).values()):
        raise AwsError("ClusterContainsContainerInstancesException",
                       "The Cluster cannot be deleted while Container Instances are active.")


# ================================================================ moto fixes

_FIXED = False
_FIXING = threading.Lock()


def _ensure_moto_fixes(req: AwsRequest) -> None:
    """Apply the moto fixes below once, on the first ECS call (moto is loaded by then)."""
    global _FIXED
    if _FIXED:
        return
    with _FIXING:  # the server is threaded: patch once, and let no call see half of it
        if _FIXED:
            return
        for fix in (_fix_task_resources, _fix_eni_without_dns_hostnames,
                    _fix_tasks_without_security_groups, _fix_tasks_keep_running,
                    _fix_task_size_forms, _fix_run_task_on_auto_scaling_provider,
                    _fix_task_set_launch_type, _fix_list_tasks_filters,
                    _fix_create_service_parameters, _fix_update_service_deployments):
            fix()
        _FIXED = True


def _register_for_all_operations() -> None:
    model = MODELS.get(SERVICE)
    if model is not None:
        rule(SERVICE, *model.operation_names)(_ensure_moto_fixes)


_register_for_all_operations()


def _fix_task_resources() -> None:
    """RunTask crashed (TypeError, HTTP 500) when containers set no memory: use the task-level size.

    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#task_size
    (task-level cpu/memory; container-level values are optional when they are set).
    """
    from moto.ecs.models import EC2ContainerServiceBackend as B

    original = B._calculate_task_resource_requirements

    def requirements(task_definition: Any) -> dict[str, Any]:
        try:
            return original(task_definition)
        except TypeError:
            pass
        containers = task_definition.container_definitions
        cpu = sum(int(c.get("cpu") or 0) for c in containers) or int(
            cpu_units(task_definition.cpu or 0) or 0)
        memory = sum(int(c.get("memory") or c.get("memoryReservation") or 0)
                     for c in containers) or int(memory_mib(task_definition.memory or 0) or 0)
        ports = [m["hostPort"] for c in containers for m in c.get("portMappings") or []
                 if "hostPort" in m]
        return {"CPU": cpu, "MEMORY": memory, "PORTS": ports, "PORTS_UDP": []}

    B._calculate_task_resource_requirements = staticmethod(requirements)


def _fix_eni_without_dns_hostnames() -> None:
    """Tasks in a VPC without DNS hostnames crashed: the ENI had no private_dns_name at all.

    https://docs.aws.amazon.com/vpc/latest/userguide/vpc-dns.html
    (without DNS hostnames an interface simply has no private DNS name).
    """
    from moto.ec2.models.elastic_network_interfaces import NetworkInterface

    if "private_dns_name" not in vars(NetworkInterface):
        NetworkInterface.private_dns_name = None


def _default_security_group(region: str, network: dict | None) -> dict | None:
    """A copy of network with the VPC's default security group filled in, if none was given.

    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_AwsVpcConfiguration.html
    ("securityGroups ... If you don't specify a security group, the default security group
    for the VPC is used").
    """
    vpc_conf = (network or {}).get("awsvpcConfiguration")
    if not vpc_conf or vpc_conf.get("securityGroups") or not vpc_conf.get("subnets"):
        return network
    ec2 = _ec2(region)
    try:
        vpc_id = ec2.get_subnet(vpc_conf["subnets"][0]).vpc_id
        group = ec2.get_default_security_group(vpc_id)
    except Exception:
        return network
    filled = copy.deepcopy(network)
    filled["awsvpcConfiguration"]["securityGroups"] = [group.id] if group else []
    return filled


def _fix_tasks_without_security_groups() -> None:
    """Tasks and services without securityGroups crashed (KeyError, HTTP 500): use the VPC default."""
    from moto.ecs.models import Service, Task

    task_init = Task.__init__

    def init(self: Any, cluster: Any, task_definition: Any, *args: Any, **kwargs: Any) -> None:
        net = kwargs.get("networking_configuration")
        if net:
            kwargs["networking_configuration"] = _default_security_group(cluster.region_name, net)
        task_init(self, cluster, task_definition, *args, **kwargs)

    Task.__init__ = init

    validate = Service._validate_network

    def validate_network(self: Any, nc: dict) -> dict:
        validate(self, _default_security_group(self.region_name, nc))
        return nc  # keep what the learner sent, as describe_services shows it

    Service._validate_network = validate_network


def _fix_tasks_keep_running() -> None:
    """describe_tasks moved tasks towards STOPPED on every call; ECS tasks keep running until stopped.

    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-lifecycle-explanation.html
    Also fills the task fields describe_tasks shows (cpu, memory, times, launch type).
    """
    from moto.core.utils import utcnow
    from moto.ecs.models import Task

    task_init = Task.__init__

    def init(self: Any, cluster: Any, task_definition: Any, *args: Any, **kwargs: Any) -> None:
        task_init(self, cluster, task_definition, *args, **kwargs)
        # Stop the automatic walk away from RUNNING; stop_task still sets STOPPED itself.
        self._transitions = [t for t in self._transitions if t[0] != "RUNNING"]
        now = utcnow()
        for attr, value in (("cpu", task_definition.cpu), ("memory", task_definition.memory),
                            ("created_at", now), ("started_at", now), ("pull_started_at", now),
                            ("pull_stopped_at", now), ("connectivity", "CONNECTED"),
                            ("connectivity_at", now), ("health_status", "UNKNOWN")):
            if getattr(self, attr, None) is None:
                setattr(self, attr, value)
        subnets = ((kwargs.get("networking_configuration") or {}).get("awsvpcConfiguration")
                   or {}).get("subnets")
        if subnets and getattr(self, "availability_zone", None) is None:
            try:
                self.availability_zone = _ec2(cluster.region_name).get_subnet(
                    subnets[0]).availability_zone
            except Exception:
                pass
        if not self.launch_type and self.capacity_provider_name in FARGATE_PROVIDERS:
            self.launch_type = "FARGATE"
        if self.launch_type == "FARGATE" and not self.platform_version:
            self.platform_version = "1.4.0"
        if getattr(self, "platform_family", None) is None and self.launch_type == "FARGATE":
            self.platform_family = "Linux"

    Task.__init__ = init


def _fix_task_size_forms() -> None:
    """'1 vCPU' / '2 GB' are stored as CPU units / MiB, as AWS does at registration.

    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RegisterTaskDefinition.html
    ("It's converted to an integer indicating the CPU units when the task definition is registered").
    """
    from moto.ecs.models import EC2ContainerServiceBackend as B

    register = B.register_task_definition

    def register_task_definition(self: Any, *args: Any, **kwargs: Any) -> Any:
        for key, convert in (("cpu", cpu_units), ("memory", memory_mib)):
            value = kwargs.get(key)
            if value is not None and convert(value) is not None:
                kwargs[key] = str(convert(value))
        return register(self, *args, **kwargs)

    B.register_task_definition = register_task_definition


def _fix_run_task_on_auto_scaling_provider() -> None:
    """run_task with an Auto Scaling group capacity provider crashed (HTTP 500) while the group
    had no container instance yet; on AWS managed scaling launches one and the task starts.

    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/asg-capacity-providers.html
    """
    from moto.ecs.models import EC2ContainerServiceBackend as B, Task

    run_task = B.run_task

    def run(self: Any, cluster_str: str, task_definition_str: str, count: int, overrides: Any,
            started_by: str, tags: Any, launch_type: str | None, *args: Any, **kwargs: Any) -> list:
        names = ("networking_configuration", "group", "platform_version",
                 "capacity_provider_strategy")
        extra = dict(zip(names, args), **kwargs)
        cluster = self.clusters.get(cluster_str.split("/")[-1])
        strategy = extra.get("capacity_provider_strategy") or (
            cluster.default_capacity_provider_strategy if cluster and not launch_type else None)
        provider = (strategy or [{}])[0].get("capacityProvider")
        try:
            return run_task(self, cluster_str, task_definition_str, count, overrides, started_by,
                            tags, launch_type, *args, **kwargs)
        except Exception as exc:  # moto raises a bare Exception when it finds no instance
            if (type(exc) is not Exception or launch_type or not provider
                    or provider in FARGATE_PROVIDERS):
                raise
        td = self.describe_task_definition(task_definition_str)
        tasks = []
        for _ in range(count):
            task = Task(cluster, td, None, self._calculate_task_resource_requirements(td),
                        backend=self, group=extra.get("group") or f"family:{td.family}",
                        launch_type="EC2", overrides=overrides or {}, started_by=started_by or "",
                        tags=tags or [], networking_configuration=extra.get(
                            "networking_configuration"), capacity_provider_name=provider)
            self.tasks.setdefault(cluster.name, {})[task.task_arn] = task
            tasks.append(task)
        return tasks

    B.run_task = run


def _fix_task_set_launch_type() -> None:
    """create_task_set forced launch type EC2 (and crashed) when a Fargate strategy or service was used.

    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateTaskSet.html
    """
    from moto.ecs.models import EC2ContainerServiceBackend as B

    create = B.create_task_set

    def create_task_set(self: Any, service: str, cluster_str: str, task_definition: str,
                        **kwargs: Any) -> Any:
        strategy = kwargs.get("capacity_provider_strategy") or []
        if kwargs.get("launch_type") is None:
            cluster = self._get_cluster(cluster_str)
            strategy = strategy or cluster.default_capacity_provider_strategy or []
            svc = self.services.get(f"{cluster.name}:{service.split('/')[-1]}")
            fargate = any(s.get("capacityProvider") in FARGATE_PROVIDERS for s in strategy) or (
                svc is not None and svc.launch_type == "FARGATE")
            if fargate:
                task_set = create(self, service, cluster_str, task_definition,
                                  **{**kwargs, "launch_type": "FARGATE"})
                if strategy:
                    task_set.launch_type = None
                    task_set.capacity_provider_strategy = strategy
                return task_set
        cluster = self._get_cluster(cluster_str)
        instances = self.container_instances.get(cluster.name, {}).values()
        if kwargs.get("launch_type") in (None, "EC2") and not any(
                i.status == "ACTIVE" for i in instances):
            # No instance to place EC2 tasks on: the task set exists, its tasks wait.
            task_set = create(self, service, cluster_str, task_definition,
                              **{**kwargs, "scale": None})
            if kwargs.get("scale"):
                task_set.scale = kwargs["scale"]
            return task_set
        return create(self, service, cluster_str, task_definition, **kwargs)

    B.create_task_set = create_task_set


def _fix_list_tasks_filters() -> None:
    """list_tasks ignored serviceName and listed stopped tasks by default.

    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListTasks.html
    ("serviceName: The name of the service to use when filtering the ListTasks results";
    desiredStatus "The default status filter is RUNNING").
    """
    from moto.ecs.models import EC2ContainerServiceBackend as B

    list_tasks = B.list_tasks

    def filtered(self: Any, cluster_str: str | None = None, container_instance: str | None = None,
                 family: str | None = None, started_by: str | None = None,
                 service_name: str | None = None, desiredStatus: str | None = None) -> list:
        tasks = list_tasks(self, cluster_str, container_instance, family, started_by,
                           service_name, desiredStatus or "RUNNING")
        if service_name:
            group = f"service:{service_name.split('/')[-1]}"
            tasks = [t for t in tasks if t.group == group]
        return tasks

    B.list_tasks = filtered


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


def _provider_for(service: Any) -> str | None:
    strategy = getattr(service, "capacity_provider_strategy", None) or []
    if not strategy:
        return None
    with_base = [s for s in strategy if s.get("base")]
    chosen = with_base[0] if with_base else max(strategy, key=lambda s: s.get("weight", 0))
    return chosen.get("capacityProvider")


def _start_tasks(backend: Any, service: Any, deployment: dict, count: int) -> list:
    from moto.ecs.models import Task

    cluster = backend.clusters[service.cluster_name]
    td = backend.describe_task_definition(deployment["taskDefinition"])
    instances = [i for i in backend.container_instances.get(cluster.name, {}).values()
                 if i.status == "ACTIVE"]
    tags = list(service.tags) if service.propagate_tags == "SERVICE" else (
        list(td.tags) if service.propagate_tags == "TASK_DEFINITION" else [])
    started = []
    for n in range(count):
        task = Task(
            cluster, td,
            instances[n % len(instances)].container_instance_arn if (
                instances and service.launch_type == "EC2") else None,
            backend._calculate_task_resource_requirements(td), backend=backend,
            group=f"service:{service.name}", launch_type=service.launch_type or "",
            started_by=deployment["id"], tags=tags,
            networking_configuration=service.network_configuration or None,
            platform_version=service.platform_version,
            capacity_provider_name=_provider_for(service))
        task.enable_execute_command = bool(getattr(service, "enable_execute_command", False))
        backend.tasks.setdefault(cluster.name, {})[task.task_arn] = task
        started.append(task)
    return started


def _stop_tasks(tasks: list, reason: str) -> None:
    from moto.core.utils import utcnow
    now = utcnow()
    for task in tasks:
        task.last_status = "STOPPED"
        task.desired_status = "STOPPED"
        task.stopped_reason = reason
        task.stop_code = "ServiceSchedulerInitiated"
        task.stopping_at = task.stopped_at = task.execution_stopped_at = now


def _task_list(tasks: list) -> str:
    return " ".join(f"(task {t.id})" for t in tasks)


def settle(backend: Any, service: Any) -> None:
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
    cluster = backend.clusters[service.cluster_name]
    running = _service_tasks(backend, service)
    current = [t for t in running if t.started_by == primary["id"]]
    old = [t for t in running if t.started_by != primary["id"]]
    placeable = _can_place(backend, service)
    missing = service.desired_count - len(current)
    if missing > 0 and placeable:
        started = _start_tasks(backend, service, primary, missing)
        current += started
        _event(service, f"has started {len(started)} tasks: {_task_list(started)}.")
    elif missing > 0:
        _event(service, "was unable to place a task because no container instance met all of "
                        "its requirements. Reason: No Container Instances were found in your "
                        "cluster.")
    elif missing < 0:
        extra, current = current[service.desired_count:], current[:service.desired_count]
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
        settle(backend, service)


@after(SERVICE, "StopTask")
def replace_stopped_service_task(req: AwsRequest, status: int, body: bytes) -> None:
    """When a service's task is stopped, the scheduler starts a replacement.

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
    if task is None or not task.group.startswith("service:"):
        return
    service = backend.services.get(f"{cluster.name}:{task.group.split(':', 1)[1]}")
    if service is not None:
        _event(service, f"has stopped 1 running tasks: (task {task.id}).")
        settle(backend, service)


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
