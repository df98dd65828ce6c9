"""Crashes and dropped values in moto 5.2.x's ECS, patched once on the first ECS call.

Where it can, a fix lets moto try first and steps in only where moto fails or
leaves a value unset, so a moto that closes a gap upstream is left alone.
"""
from __future__ import annotations

import copy
import uuid
from typing import Any

from mylearning.emulator.fidelity.core import moto_fixes
from mylearning.emulator.fidelity.ecs.access import FARGATE_PROVIDERS, SERVICE, _ec2
from mylearning.emulator.fidelity.ecs.rules import cpu_units, memory_mib
from mylearning.emulator.fidelity.ecs.scheduler import (_fix_create_service_parameters,
                                                        _fix_stop_task_waits_for_agent,
                                                        _fix_update_service_deployments)
from mylearning.emulator.fidelity.ecs.placement import (_fix_run_task_capacity_providers,
                                                        _fix_task_placement)
from mylearning.emulator.fidelity.ecs.pagination import _fix_list_pagination
from mylearning.emulator.fidelity.ecs.revisions import (_fix_family_means_latest_active,
                                                        _fix_list_task_definitions_sort)

# ================================================================ moto fixes

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


class TaskContainer:
    """One container of a task, as describe_tasks shows it (moto kept only the first).

    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Container.html
    The agent's SubmitTaskStateChange / SubmitContainerStateChange reports fill in
    lastStatus, exitCode, reason, runtimeId and networkBindings.
    """

    def __init__(self, task_arn: str, definition: dict, running: bool) -> None:
        self.container_arn = f"{task_arn.replace(':task/', ':container/')}/{uuid.uuid4()}"
        self.task_arn = task_arn
        self.name = definition.get("name")
        self.image = definition.get("image")
        self.last_status = "RUNNING" if running else "PENDING"
        self.exit_code = None
        self.reason = None
        self.runtime_id = None
        self.image_digest = None
        self.network_bindings: list[dict] = []
        self.network_interfaces: list[dict] = []
        self.health_status = "UNKNOWN"
        self.cpu = str(definition.get("cpu") or 0)
        self.memory = str(definition["memory"]) if definition.get("memory") else None
        self.memory_reservation = (str(definition["memoryReservation"])
                                   if definition.get("memoryReservation") else None)
        self.essential = definition.get("essential", True)


def _fix_tasks_keep_running() -> None:
    """describe_tasks moved tasks towards STOPPED on every call; ECS tasks keep running until stopped.

    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-lifecycle-explanation.html
    Also fills the task fields describe_tasks shows (cpu, memory, times, launch type) and
    one container per container definition. With a task agent attached (the data plane),
    a task starts in PROVISIONING and the agent's reports move it on; without one it is
    RUNNING when placed.
    """
    from moto.core.utils import utcnow
    from moto.ecs.models import Task

    from mylearning.emulator.fidelity.ecs import acs

    task_init = Task.__init__

    def init(self: Any, cluster: Any, task_definition: Any, *args: Any, **kwargs: Any) -> None:
        task_init(self, cluster, task_definition, *args, **kwargs)
        # Stop the automatic walk away from RUNNING; stop_task still sets STOPPED itself.
        self._transitions = [t for t in self._transitions if t[0] != "RUNNING"]
        live = acs.attached()
        now = utcnow()
        times = () if live else (("started_at", now), ("pull_started_at", now),
                                 ("pull_stopped_at", now))
        for attr, value in (("cpu", task_definition.cpu), ("memory", task_definition.memory),
                            ("created_at", now), *times, ("connectivity", "CONNECTED"),
                            ("connectivity_at", now), ("health_status", "UNKNOWN")):
            if getattr(self, attr, None) is None:
                setattr(self, attr, value)
        if live:
            # Only the agent's reports move a task on; moto's automatic walk never does.
            self._transitions = []
            self.last_status = "PROVISIONING"
        self.containers = [TaskContainer(self.task_arn, d, running=not live)
                           for d in task_definition.container_definitions]
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


def _fix_describe_all_capacity_providers() -> None:
    """DescribeCapacityProviders without capacityProviders (all optional: "Describes one or more
    of your capacity providers", API_DescribeCapacityProviders.html) crashed moto 5.2 (HTTP 500):
    describe the account's capacity providers."""
    from moto.ecs.models import EC2ContainerServiceBackend as B

    original = B.describe_capacity_providers
    if getattr(original, "_mylearning", False):
        return

    def describe_capacity_providers(self, names: Any = None, *args: Any, **kwargs: Any):
        if names is None:
            names = [p.name for p in self.capacity_providers.values()]
        return original(self, names, *args, **kwargs)

    describe_capacity_providers._mylearning = True  # type: ignore[attr-defined]
    B.describe_capacity_providers = describe_capacity_providers


# Patched once, before the first ECS call reaches moto. Order matters: the last
# four wrap what the Task and run_task fixes before them installed.
moto_fixes(
    SERVICE,
    _fix_task_resources,
    _fix_eni_without_dns_hostnames,
    _fix_tasks_without_security_groups,
    _fix_tasks_keep_running,
    _fix_task_size_forms,
    _fix_run_task_on_auto_scaling_provider,
    _fix_task_set_launch_type,
    _fix_list_tasks_filters,
    _fix_create_service_parameters,
    _fix_update_service_deployments,
    _fix_task_placement,
    _fix_run_task_capacity_providers,
    _fix_family_means_latest_active,
    _fix_list_task_definitions_sort,
    _fix_list_pagination,
    _fix_describe_all_capacity_providers,
    _fix_stop_task_waits_for_agent,
)
