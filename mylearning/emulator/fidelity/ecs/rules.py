"""ECS requests AWS rejects and moto accepts, answered with AWS's error code (one rule each)."""
from __future__ import annotations

import re
from typing import Any

from mylearning.emulator.fidelity.core import AwsError, AwsRequest, moto_backend, rule
from mylearning.facts.fargate import FARGATE_MEMORY_BY_CPU as FARGATE_SIZES, cpu_units, memory_mib
from mylearning.emulator.fidelity.ecs.access import (FARGATE_PROVIDERS, SERVICE, _backend, _cluster,
                                                     _task_definition, client_error, invalid_parameter)

# ---------------------------------------------------------------- task definitions

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
    if mib not in FARGATE_SIZES.get(units, ()):
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


@rule(SERVICE, "CreateCapacityProvider")
def capacity_provider_has_infrastructure(req: AwsRequest) -> None:
    """A capacity provider is for Auto Scaling group instances or ECS Managed Instances: "You can
    create capacity providers for Amazon ECS Managed Instances and EC2 instances"
    (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateCapacityProvider.html),
    so it names one of autoScalingGroupProvider and managedInstancesProvider. moto 5.2 crashed
    (HTTP 500) on a request with neither; the error code AWS gives is not documented, and
    InvalidParameterException is ECS's answer to a parameter it cannot use.
    """
    p = req.params
    if not p.get("autoScalingGroupProvider") and not p.get("managedInstancesProvider"):
        raise invalid_parameter("A capacity provider needs an autoScalingGroupProvider or a "
                                "managedInstancesProvider.")


@rule(SERVICE, "DeleteCapacityProvider")
def capacity_provider_to_delete_exists(req: AwsRequest) -> None:
    """Only an existing capacity provider can be deleted, and "The FARGATE and FARGATE_SPOT
    capacity providers are reserved and can't be deleted"
    (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeleteCapacityProvider.html);
    AWS answers an unknown one with ClientException, "The specified capacity provider does not
    exist. Specify a valid name or ARN and try again." moto 5.2 crashed (HTTP 500) on both.
    """
    name = str(req.params.get("capacityProvider") or "")
    if name.split("/")[-1] in FARGATE_PROVIDERS:
        raise client_error(f"The {name} capacity provider is reserved and can't be deleted.")
    if _backend(req.region)._get_provider(name) is None:
        raise client_error("The specified capacity provider does not exist. Specify a valid name "
                           "or ARN and try again.")


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
    size = FARGATE_SIZES.get(cpu_units(td.cpu) if td.cpu else None, ())
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

    backend = moto_backend("elbv2", region)
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

    known = moto_backend("elbv2", req.region).target_groups
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
