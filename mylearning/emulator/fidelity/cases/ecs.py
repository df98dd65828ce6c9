"""Amazon ECS fidelity cases: what a learner sends, and what AWS answers.

Validation cases expect an error code (or "ok" for a valid spelling that must
keep working); behaviour cases check that a valid call does what ECS does
(tasks run, services stabilise, deployments roll, parameters round-trip).
"""
from __future__ import annotations

import re

from typing import Any, Callable

from mylearning.emulator.fidelity.cases import OK, BehaviourMismatch, Case, Env

API = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/"
GUIDE = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/"
DOC_SIZE = GUIDE + "task-cpu-memory-error.html"
DOC_REGISTER = API + "API_RegisterTaskDefinition.html"
DOC_CREATE_SERVICE = API + "API_CreateService.html"
DOC_EVENTS = GUIDE + "service-event-messages-list.html"

EXECUTION_ROLE = "arn:aws:iam::123456789012:role/ecsTaskExecutionRole"


# ---------------------------------------------------------------- set-up helpers

def network(env: Env, dns_hostnames: bool = True) -> dict[str, Any]:
    """A VPC with two subnets in two AZs and a security group, made once per Env."""
    key = f"_ecs_network_{dns_hostnames}"
    if not hasattr(env, key):
        ec2 = env.client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
        if dns_hostnames:
            ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
        subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.40.{i}.0/24",
                                     AvailabilityZone=f"{env.region}{zone}")["Subnet"]["SubnetId"]
                   for i, zone in enumerate("ab")]
        group = ec2.create_security_group(GroupName=env.name("tasks-sg"), Description="fidelity",
                                          VpcId=vpc)["GroupId"]
        # Security groups are enforced: the cases' load balancers (in the VPC) must reach the tasks.
        ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[{
            "IpProtocol": "tcp", "FromPort": 0, "ToPort": 65535, "IpRanges": [{"CidrIp": "10.40.0.0/16"}]}])
        setattr(env, key, {"vpc": vpc, "subnets": subnets, "group": group})
    return getattr(env, key)


def awsvpc(env: Env, groups: bool = True, dns_hostnames: bool = True) -> dict:
    net = network(env, dns_hostnames)
    conf: dict[str, Any] = {"subnets": net["subnets"]}
    if groups:
        conf["securityGroups"] = [net["group"]]
    return {"awsvpcConfiguration": conf}


def cluster(env: Env, **kwargs: Any) -> str:
    name = env.name("cluster")
    kwargs.setdefault("capacityProviders", ["FARGATE", "FARGATE_SPOT"])
    env.client("ecs").create_cluster(clusterName=name, **kwargs)
    return name


#: An image the data plane runs (the course's front end: no secrets needed), so service and
#: task cases see real task lifecycles; an image outside the course catalogue fails to pull.
IMAGE = "public.ecr.aws/mylearning/web:1.0.0"


def container(name: str = "web", **extra: Any) -> dict:
    """The course's web image, listening (PORT) on the port its mapping declares, so a load
    balancer's health checks reach it as they would on AWS."""
    return {"name": name, "image": IMAGE, "environment": [{"name": "PORT", "value": "80"}],
            "portMappings": [{"containerPort": 80, "protocol": "tcp"}], **extra}


def settled(env: Env, c: str, name: str, timeout: float = 20.0) -> dict:
    """The service once its newest deployment completed and it runs its desired count.

    With the data plane a rollout takes real (scaled) time; the last description is
    returned after `timeout` either way, for the case to judge.
    """
    import time
    deadline = time.monotonic() + timeout
    while True:
        svc = describe_service(env, c, name)
        deployments = svc.get("deployments") or []
        if (len(deployments) == 1 and deployments[0].get("rolloutState") == "COMPLETED"
                and svc.get("runningCount") == svc.get("desiredCount")) or time.monotonic() > deadline:
            return svc
        time.sleep(0.1)


def running(env: Env, c: str, arns: list[str], status: str = "RUNNING", timeout: float = 60.0) -> list[dict]:
    """The tasks once every one reached `status` (or the last description after `timeout`)."""
    import time
    deadline = time.monotonic() + timeout
    while True:
        tasks = env.client("ecs").describe_tasks(cluster=c, tasks=arns)["tasks"]
        if all(t["lastStatus"] == status for t in tasks) or time.monotonic() > deadline:
            return tasks
        time.sleep(0.05)


def fargate_td(env: Env, cpu: str = "256", memory: str = "512", family: str | None = None,
               containers: list[dict] | None = None, **extra: Any) -> str:
    """Register the usual Fargate shape: task-level cpu/memory only, no container cpu."""
    return env.client("ecs").register_task_definition(
        family=family or env.name("web"), requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc", cpu=cpu, memory=memory,
        containerDefinitions=containers or [container()], **extra,
    )["taskDefinition"]["taskDefinitionArn"]


def register(cpu: str | None, memory: str | None, **extra: Any) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        args: dict[str, Any] = {"family": env.name("td"), "requiresCompatibilities": ["FARGATE"],
                                "networkMode": "awsvpc",
                                "containerDefinitions": [container()]}
        if cpu is not None:
            args["cpu"] = cpu
        if memory is not None:
            args["memory"] = memory
        args.update(extra)
        return env.client("ecs").register_task_definition(**args)
    return call


def service(env: Env, desired: int = 2, td: str | None = None, **extra: Any) -> tuple[str, str, str]:
    """A Fargate service on a fresh cluster; returns (cluster, service, task definition)."""
    c = cluster(env)
    td = td or fargate_td(env)
    name = env.name("svc")
    extra.setdefault("launchType", "FARGATE")
    extra = {k: v for k, v in extra.items() if v is not None}
    env.client("ecs").create_service(cluster=c, serviceName=name, taskDefinition=td,
                                     desiredCount=desired, networkConfiguration=awsvpc(env),
                                     **extra)
    return c, name, td


def describe_service(env: Env, c: str, name: str) -> dict:
    return env.client("ecs").describe_services(cluster=c, services=[name])["services"][0]


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise BehaviourMismatch(message)


# ---------------------------------------------------------------- validation: task definitions

def _with_logs(options: dict | None, role: bool = True) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        log: dict[str, Any] = {"logDriver": "awslogs"}
        if options is not None:
            log["options"] = options
        extra = {"executionRoleArn": EXECUTION_ROLE} if role else {}
        return fargate_td(env, containers=[container(logConfiguration=log)], **extra)
    return call


_LOGS = {"awslogs-group": "/ecs/web", "awslogs-region": "us-east-1",
         "awslogs-stream-prefix": "web"}


def _proxy(name: str) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        return fargate_td(env, cpu="512", memory="1024", containers=[
            container(), container("envoy", image="public.ecr.aws/appmesh/aws-appmesh-envoy:v1.29",
                                   portMappings=[], user="1337")],
            proxyConfiguration={"type": "APPMESH", "containerName": name, "properties": [
                {"name": "IgnoredUID", "value": "1337"},
                {"name": "ProxyIngressPort", "value": "15000"},
                {"name": "ProxyEgressPort", "value": "15001"},
                {"name": "AppPorts", "value": "80"},
                {"name": "EgressIgnoredIPs", "value": "169.254.170.2,169.254.169.254"}]})
    return call


def _depends(target: str, condition: str = "HEALTHY") -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        return fargate_td(env, containers=[
            container(dependsOn=[{"containerName": target, "condition": condition}]),
            container("envoy", image="public.ecr.aws/appmesh/aws-appmesh-envoy:v1.29",
                      portMappings=[])])
    return call


def _ec2_td(env: Env) -> Any:
    return env.client("ecs").register_task_definition(
        family=env.name("ec2"), cpu="999", memory="700",
        containerDefinitions=[container()])


def _no_essential(env: Env) -> Any:
    return fargate_td(env, containers=[container(essential=False)])


def _host_port(host: int, mode: str = "awsvpc") -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        web = container(memory=256, portMappings=[{"containerPort": 80, "hostPort": host}])
        if mode == "awsvpc":
            return fargate_td(env, containers=[web])
        return env.client("ecs").register_task_definition(
            family=env.name("bridge"), networkMode=mode, containerDefinitions=[web])
    return call


def _sizes(containers: list[dict], cpu: str = "256", memory: str = "512") -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        return fargate_td(env, cpu=cpu, memory=memory,
                          containers=[container(f"c{i}", **c) for i, c in enumerate(containers)])
    return call


TASK_DEFINITION_CASES = [
    Case("ecs-td-fargate-256-with-4096", "ecs", register("256", "4096"), "ClientException", DOC_SIZE),
    Case("ecs-td-fargate-cpu-999", "ecs", register("999", "2048"), "ClientException", DOC_SIZE),
    Case("ecs-td-fargate-8vcpu-18gb", "ecs", register("8192", "18432"), "ClientException", DOC_SIZE),
    Case("ecs-td-fargate-16vcpu-36gb", "ecs", register("16384", "36864"), "ClientException", DOC_SIZE),
    Case("ecs-td-fargate-4vcpu-31gb", "ecs", register("4096", "31744"), "ClientException", DOC_SIZE),
    Case("ecs-td-fargate-no-cpu", "ecs", register(None, "512"), "ClientException", DOC_SIZE),
    Case("ecs-td-fargate-no-memory", "ecs", register("256", None), "ClientException", DOC_SIZE),
    Case("ecs-td-cpu-not-a-number", "ecs", register("lots", "512"), "ClientException", DOC_SIZE),
    Case("ecs-td-valid-256-512", "ecs", register("256", "512"), OK, DOC_SIZE),
    Case("ecs-td-valid-256-2048", "ecs", register("256", "2048"), OK, DOC_SIZE),
    Case("ecs-td-valid-512-3072", "ecs", register("512", "3072"), OK, DOC_SIZE),
    Case("ecs-td-valid-vcpu-gb-forms", "ecs", register("1 vCPU", "2 GB"), OK, DOC_REGISTER),
    Case("ecs-td-valid-lowercase-vcpu-gb", "ecs", register("0.25 vcpu", "1GB"), OK, DOC_REGISTER),
    Case("ecs-td-valid-2048-16384", "ecs", register("2048", "16384"), OK, DOC_SIZE),
    Case("ecs-td-valid-4096-30720", "ecs", register("4096", "30720"), OK, DOC_SIZE),
    Case("ecs-td-valid-8vcpu-20gb", "ecs", register("8192", "20480"), OK, DOC_SIZE),
    Case("ecs-td-valid-16vcpu-120gb", "ecs", register("16384", "122880"), OK, DOC_SIZE),
    Case("ecs-td-fargate-bridge", "ecs", register("256", "512", networkMode="bridge"),
         "ClientException", GUIDE + "fargate-task-networking.html"),
    Case("ecs-td-valid-ec2-any-cpu", "ecs", _ec2_td, OK, DOC_REGISTER),
    Case("ecs-td-awslogs-no-options", "ecs", _with_logs(None), "ClientException",
         API + "API_LogConfiguration.html"),
    Case("ecs-td-awslogs-no-group", "ecs", _with_logs({"awslogs-region": "us-east-1"}),
         "ClientException", API + "API_LogConfiguration.html"),
    Case("ecs-td-awslogs-fargate-no-execution-role", "ecs", _with_logs(_LOGS, role=False),
         "ClientException", GUIDE + "task_execution_IAM_role.html"),
    Case("ecs-td-valid-awslogs", "ecs", _with_logs(_LOGS), OK, API + "API_LogConfiguration.html"),
    Case("ecs-td-proxy-unknown-container", "ecs", _proxy("sidecar"), "ClientException",
         API + "API_ProxyConfiguration.html"),
    Case("ecs-td-valid-proxy-envoy", "ecs", _proxy("envoy"), OK, API + "API_ProxyConfiguration.html"),
    Case("ecs-td-depends-on-unknown-container", "ecs", _depends("envoyy"), "ClientException",
         API + "API_ContainerDependency.html"),
    Case("ecs-td-depends-on-bad-condition", "ecs", _depends("envoy", "READY"), "ClientException",
         API + "API_ContainerDependency.html"),
    Case("ecs-td-valid-depends-on", "ecs", _depends("envoy"), OK, API + "API_ContainerDependency.html"),
    Case("ecs-td-no-essential-container", "ecs", _no_essential, "ClientException",
         GUIDE + "task_definition_parameters.html"),
    Case("ecs-td-awsvpc-host-port-differs", "ecs", _host_port(8080), "ClientException",
         API + "API_PortMapping.html"),
    Case("ecs-td-valid-awsvpc-host-port-same", "ecs", _host_port(80), OK,
         API + "API_PortMapping.html"),
    Case("ecs-td-valid-bridge-host-port-differs", "ecs", _host_port(8080, "bridge"), OK,
         API + "API_PortMapping.html"),
    Case("ecs-td-reservation-above-memory", "ecs",
         _sizes([{"memory": 256, "memoryReservation": 384}]), "ClientException",
         API + "API_ContainerDefinition.html"),
    Case("ecs-td-containers-exceed-task-memory", "ecs",
         _sizes([{"memory": 384}, {"memoryReservation": 256}]), "ClientException",
         API + "API_ContainerDefinition.html"),
    Case("ecs-td-containers-exceed-task-cpu", "ecs", _sizes([{"cpu": 256}, {"cpu": 128}]),
         "ClientException", API + "API_ContainerDefinition.html"),
    Case("ecs-td-valid-containers-fill-task", "ecs",
         _sizes([{"cpu": 128, "memory": 256}, {"cpu": 128, "memoryReservation": 256,
                                                "memory": 512}]), OK,
         API + "API_ContainerDefinition.html"),
]


# ---------------------------------------------------------------- validation: clusters, providers

def _cluster_with_default(provider: str) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        return cluster(env, defaultCapacityProviderStrategy=[
            {"capacityProvider": provider, "weight": 1}])
    return call


def _put_providers(env: Env) -> Any:
    c = cluster(env)
    return env.client("ecs").put_cluster_capacity_providers(
        cluster=c, capacityProviders=["FARGATE"],
        defaultCapacityProviderStrategy=[{"capacityProvider": "FARGATE_SPOT", "weight": 1}])


def _two_bases(env: Env) -> Any:
    return cluster(env, defaultCapacityProviderStrategy=[
        {"capacityProvider": "FARGATE", "weight": 1, "base": 1},
        {"capacityProvider": "FARGATE_SPOT", "weight": 3, "base": 1}])


def _capacity_provider(arn: str, name: str | None = None) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        return env.client("ecs").create_capacity_provider(
            name=name or env.name("cp"), autoScalingGroupProvider={"autoScalingGroupArn": arn})
    return call


_ASG_ARN = ("arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:"
            "7d1b4c2e-0f3a-4e5b-9c6d-1a2b3c4d5e6f:autoScalingGroupName/ecs-asg")


def _capacity_provider_without_infrastructure(env: Env) -> Any:
    return env.client("ecs").create_capacity_provider(name=env.name("cp"))


def _delete_capacity_provider(existing: bool, name: str | None = None) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        ecs = env.client("ecs")
        provider = name or env.name("cp")
        if existing:
            ecs.create_capacity_provider(name=provider,
                                         autoScalingGroupProvider={"autoScalingGroupArn": _ASG_ARN})
        return ecs.delete_capacity_provider(capacityProvider=provider)
    return call


def _describe_all_capacity_providers(env: Env) -> None:
    ecs = env.client("ecs")
    provider = env.name("cp")
    ecs.create_capacity_provider(name=provider, autoScalingGroupProvider={"autoScalingGroupArn": _ASG_ARN})
    names = [p["name"] for p in ecs.describe_capacity_providers()["capacityProviders"]]
    if provider not in names:
        raise BehaviourMismatch(f"DescribeCapacityProviders without names omits {provider}: {names}")

CLUSTER_CASES = [
    Case("ecs-cluster-default-strategy-unknown-provider", "ecs", _cluster_with_default("my-asg-cp"),
         "InvalidParameterException", API + "API_CreateCluster.html"),
    Case("ecs-cluster-valid-default-strategy", "ecs", _cluster_with_default("FARGATE_SPOT"), OK,
         API + "API_CreateCluster.html"),
    Case("ecs-put-providers-default-not-associated", "ecs", _put_providers,
         "InvalidParameterException", API + "API_PutClusterCapacityProviders.html"),
    Case("ecs-strategy-two-bases", "ecs", _two_bases, "InvalidParameterException",
         API + "API_CapacityProviderStrategyItem.html"),
    Case("ecs-capacity-provider-malformed-asg-arn", "ecs",
         _capacity_provider("arn:aws:autoscaling:us-east-1:123:asg/ecs-asg"), "ClientException",
         API + "API_AutoScalingGroupProvider.html"),
    Case("ecs-capacity-provider-valid-asg-arn", "ecs", _capacity_provider(_ASG_ARN), OK,
         API + "API_AutoScalingGroupProvider.html"),
    Case("ecs-capacity-provider-valid-asg-name", "ecs", _capacity_provider("ecs-asg"), OK,
         API + "API_AutoScalingGroupProvider.html"),
    Case("ecs-capacity-provider-reserved-prefix", "ecs", _capacity_provider(_ASG_ARN, "fargate-mine"),
         "ClientException", API + "API_CreateCapacityProvider.html"),
    Case("ecs-capacity-provider-without-infrastructure", "ecs", _capacity_provider_without_infrastructure,
         "InvalidParameterException", API + "API_CreateCapacityProvider.html"),
    Case("ecs-delete-capacity-provider-valid", "ecs", _delete_capacity_provider(True), OK,
         API + "API_DeleteCapacityProvider.html"),
    Case("ecs-delete-capacity-provider-missing", "ecs", _delete_capacity_provider(False), "ClientException",
         API + "API_DeleteCapacityProvider.html"),
    Case("ecs-delete-capacity-provider-fargate", "ecs", _delete_capacity_provider(False, "FARGATE"),
         "ClientException", API + "API_DeleteCapacityProvider.html"),
    Case("ecs-describe-all-capacity-providers", "ecs", _describe_all_capacity_providers, OK,
         API + "API_DescribeCapacityProviders.html", "behaviour"),
]


# ---------------------------------------------------------------- validation: services, tasks, task sets

def _service_call(**overrides: Any) -> Callable[[Env], Any]:
    """CreateService with the usual Fargate arguments, with some replaced (None drops one)."""
    def call(env: Env) -> Any:
        c = cluster(env)
        args: dict[str, Any] = {"cluster": c, "serviceName": env.name("svc"),
                                "taskDefinition": fargate_td(env), "desiredCount": 1,
                                "launchType": "FARGATE", "networkConfiguration": awsvpc(env)}
        for key, value in overrides.items():
            value = value(env) if callable(value) else value
            if value is None:
                args.pop(key, None)
            else:
                args[key] = value
        return env.client("ecs").create_service(**args)
    return call


def _target_group(env: Env, listener: bool = True) -> str:
    """A target group for ip targets, behind an ALB listener unless listener=False."""
    elb, net = env.client("elbv2"), network(env)
    arn = elb.create_target_group(
        Name=env.name("tg"), Protocol="HTTP", Port=80, VpcId=net["vpc"],
        TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
    if listener:
        lb = elb.create_load_balancer(Name=env.name("alb"), Subnets=net["subnets"],
                                      )["LoadBalancers"][0]["LoadBalancerArn"]
        elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80,
                            DefaultActions=[{"Type": "forward", "TargetGroupArn": arn}])
    return arn


def _lb(container_name: str, port: int = 80, listener: bool = True) -> Callable[[Env], Any]:
    def value(env: Env) -> list[dict]:
        return [{"targetGroupArn": _target_group(env, listener), "containerName": container_name,
                 "containerPort": port}]
    return value


def _ec2_only_td(env: Env) -> str:
    return env.client("ecs").register_task_definition(
        family=env.name("ec2"), networkMode="awsvpc", requiresCompatibilities=["EC2"],
        containerDefinitions=[container(memory=256)])["taskDefinition"]["taskDefinitionArn"]


def _fargate_shaped_td(env: Env) -> str:
    """No requiresCompatibilities, but awsvpc and a Fargate size: ECS finds it Fargate-compatible."""
    return env.client("ecs").register_task_definition(
        family=env.name("any"), networkMode="awsvpc", cpu="256", memory="512",
        containerDefinitions=[container()])["taskDefinition"]["taskDefinitionArn"]


def _task_set(controller: str) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        c = cluster(env)
        name = env.name("svc")
        ecs = env.client("ecs")
        td = fargate_td(env)
        kwargs: dict[str, Any] = {"deploymentController": {"type": controller}}
        if controller == "ECS":
            kwargs.update(taskDefinition=td, launchType="FARGATE", networkConfiguration=awsvpc(env))
        ecs.create_service(cluster=c, serviceName=name, desiredCount=2, **kwargs)
        return ecs.create_task_set(cluster=c, service=name, taskDefinition=td,
                                   launchType="FARGATE", networkConfiguration=awsvpc(env),
                                   scale={"value": 100.0, "unit": "PERCENT"})
    return call


def _run_ec2_without_instances(env: Env) -> Any:
    c = cluster(env)
    td = env.client("ecs").register_task_definition(
        family=env.name("ec2"), containerDefinitions=[container(memory=256)],
    )["taskDefinition"]["taskDefinitionArn"]
    return env.client("ecs").run_task(cluster=c, taskDefinition=td, launchType="EC2")


def _stop_unknown_task(env: Env) -> Any:
    c = cluster(env)
    return env.client("ecs").stop_task(cluster=c, task="0123456789abcdef0123456789abcdef")


def _run_eleven(env: Env) -> Any:
    return env.client("ecs").run_task(cluster=cluster(env), taskDefinition=fargate_td(env),
                                      launchType="FARGATE", count=11,
                                      networkConfiguration=awsvpc(env))


def _delete_cluster(with_service: bool = False, with_task: bool = False) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        ecs = env.client("ecs")
        c = cluster(env)
        if with_service:
            ecs.create_service(cluster=c, serviceName="web", taskDefinition=fargate_td(env),
                               desiredCount=1, launchType="FARGATE",
                               networkConfiguration=awsvpc(env))
        if with_task:
            ecs.run_task(cluster=c, taskDefinition=fargate_td(env), launchType="FARGATE",
                         networkConfiguration=awsvpc(env))
        return ecs.delete_cluster(cluster=c)
    return call


def _create_twice(desired_again: int) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        ecs = env.client("ecs")
        c, td = cluster(env), fargate_td(env)
        args = {"cluster": c, "serviceName": "web", "taskDefinition": td, "launchType": "FARGATE",
                "networkConfiguration": awsvpc(env)}
        ecs.create_service(desiredCount=1, **args)
        return ecs.create_service(desiredCount=desired_again, **args)
    return call


def _update_deleted(env: Env) -> Any:
    ecs = env.client("ecs")
    c, name, _ = service(env, desired=1)
    ecs.delete_service(cluster=c, service=name, force=True)
    return ecs.update_service(cluster=c, service=name, desiredCount=2)


SERVICE_CASES = [
    Case("ecs-service-valid-fargate", "ecs", _service_call(), OK, DOC_CREATE_SERVICE),
    Case("ecs-service-awsvpc-without-network", "ecs", _service_call(networkConfiguration=None),
         "InvalidParameterException", DOC_CREATE_SERVICE),
    Case("ecs-service-launch-type-and-strategy", "ecs",
         _service_call(capacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1}]),
         "InvalidParameterException", DOC_CREATE_SERVICE),
    Case("ecs-service-strategy-provider-not-on-cluster", "ecs",
         _service_call(launchType=None, capacityProviderStrategy=[
             {"capacityProvider": "my-asg-cp", "weight": 1}]),
         "InvalidParameterException", API + "API_CapacityProviderStrategyItem.html"),
    Case("ecs-service-valid-strategy", "ecs",
         _service_call(launchType=None, capacityProviderStrategy=[
             {"capacityProvider": "FARGATE", "weight": 1, "base": 1},
             {"capacityProvider": "FARGATE_SPOT", "weight": 3}]), OK, DOC_CREATE_SERVICE),
    Case("ecs-service-lb-unknown-container", "ecs", _service_call(loadBalancers=_lb("app")),
         "InvalidParameterException", API + "API_LoadBalancer.html"),
    Case("ecs-service-lb-unknown-port", "ecs", _service_call(loadBalancers=_lb("web", 8080)),
         "InvalidParameterException", API + "API_LoadBalancer.html"),
    Case("ecs-service-valid-lb", "ecs", _service_call(loadBalancers=_lb("web")), OK,
         API + "API_LoadBalancer.html"),
    Case("ecs-service-target-group-without-load-balancer", "ecs",
         _service_call(loadBalancers=_lb("web", listener=False)), "InvalidParameterException",
         GUIDE + "alb.html"),
    Case("ecs-service-created-again-with-other-settings", "ecs", _create_twice(3),
         "InvalidParameterException", DOC_CREATE_SERVICE),
    Case("ecs-service-valid-created-again-same", "ecs", _create_twice(1), OK, DOC_CREATE_SERVICE),
    Case("ecs-update-deleted-service", "ecs", _update_deleted, "ServiceNotActiveException",
         API + "API_UpdateService.html"),
    Case("ecs-service-fargate-with-ec2-task-definition", "ecs",
         _service_call(taskDefinition=_ec2_only_td), "InvalidParameterException",
         API + "API_TaskDefinition.html"),
    Case("ecs-service-valid-fargate-compatible-td", "ecs",
         _service_call(taskDefinition=_fargate_shaped_td), OK, API + "API_TaskDefinition.html"),
    Case("ecs-task-set-on-ecs-controller", "ecs", _task_set("ECS"), "InvalidParameterException",
         API + "API_CreateTaskSet.html"),
    Case("ecs-task-set-valid-external", "ecs", _task_set("EXTERNAL"), OK,
         API + "API_CreateTaskSet.html"),
    Case("ecs-run-task-ec2-without-instances", "ecs", _run_ec2_without_instances,
         "InvalidParameterException", GUIDE + "troubleshoot-service-event-messages.html"),
    Case("ecs-run-task-count-11", "ecs", _run_eleven, "InvalidParameterException",
         API + "API_RunTask.html"),
    Case("ecs-stop-unknown-task", "ecs", _stop_unknown_task, "InvalidParameterException",
         API + "API_StopTask.html"),
    Case("ecs-delete-cluster-with-service", "ecs", _delete_cluster(with_service=True),
         "ClusterContainsServicesException", API + "API_DeleteCluster.html"),
    Case("ecs-delete-cluster-with-running-task", "ecs", _delete_cluster(with_task=True),
         "ClusterContainsTasksException", API + "API_DeleteCluster.html"),
    Case("ecs-delete-cluster-valid-empty", "ecs", _delete_cluster(), OK,
         API + "API_DeleteCluster.html"),
]


# ---------------------------------------------------------------- behaviour

def _run_task(groups: bool = True, dns_hostnames: bool = True) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        c = cluster(env)
        tasks = env.client("ecs").run_task(
            cluster=c, taskDefinition=fargate_td(env), launchType="FARGATE",
            networkConfiguration=awsvpc(env, groups=groups, dns_hostnames=dns_hostnames))["tasks"]
        expect(len(tasks) == 1, f"run_task started {len(tasks)} tasks, expected 1")
    return call


def _run_task_default_strategy(env: Env) -> None:
    c = cluster(env, defaultCapacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1}])
    tasks = env.client("ecs").run_task(cluster=c, taskDefinition=fargate_td(env),
                                       networkConfiguration=awsvpc(env))["tasks"]
    expect(tasks and tasks[0].get("capacityProviderName") == "FARGATE",
           "run_task did not use the cluster's default capacity provider strategy")


def _describe_tasks_stay_running(env: Env) -> None:
    ecs = env.client("ecs")
    c = cluster(env)
    arn = ecs.run_task(cluster=c, taskDefinition=fargate_td(env), launchType="FARGATE",
                       networkConfiguration=awsvpc(env))["tasks"][0]["taskArn"]
    running(env, c, [arn])
    for _ in range(3):
        status = ecs.describe_tasks(cluster=c, tasks=[arn])["tasks"][0]["lastStatus"]
        expect(status == "RUNNING", f"task went to {status} on describe_tasks")
    ecs.stop_task(cluster=c, task=arn, reason="done")
    status = running(env, c, [arn], "STOPPED")[0]["lastStatus"]
    expect(status == "STOPPED", f"stopped task is {status}")


def _service_stable(env: Env) -> None:
    c, name, _ = service(env)
    env.client("ecs").get_waiter("services_stable").wait(
        cluster=c, services=[name], WaiterConfig={"Delay": 0.5, "MaxAttempts": 40})
    svc = settled(env, c, name)
    expect(svc["runningCount"] == svc["desiredCount"] == 2,
           f"runningCount {svc['runningCount']} != desiredCount {svc['desiredCount']}")
    (dep,) = svc["deployments"]
    expect(dep["status"] == "PRIMARY" and dep["rolloutState"] == "COMPLETED",
           f"deployment {dep['status']}/{dep['rolloutState']}")
    messages = [e["message"] for e in svc["events"]]
    expect(any("has reached a steady state" in m for m in messages), f"events: {messages}")


def _service_tasks_running(env: Env) -> None:
    ecs = env.client("ecs")
    c, name, td = service(env, desired=3)
    arns = ecs.list_tasks(cluster=c, serviceName=name)["taskArns"]
    expect(len(arns) == 3, f"list_tasks(serviceName) gave {len(arns)} tasks, expected 3")
    running(env, c, arns)
    for _ in range(2):
        tasks = ecs.describe_tasks(cluster=c, tasks=arns)["tasks"]
        states = {t["lastStatus"] for t in tasks}
        expect(states == {"RUNNING"}, f"service tasks are {states}")
    expect(all(t["group"] == f"service:{name}" and t["taskDefinitionArn"] == td for t in tasks),
           "service tasks have the wrong group or task definition")
    expect(all(t.get("cpu") == "256" and t.get("memory") == "512" for t in tasks),
           "tasks do not report the task definition's cpu/memory")


def _service_rolls(env: Env) -> None:
    ecs = env.client("ecs")
    c, name, td1 = service(env)
    family = td1.split("/")[-1].split(":")[0]
    settled(env, c, name)
    old_tasks = ecs.list_tasks(cluster=c, serviceName=name)["taskArns"]
    td2 = fargate_td(env, family=family, cpu="512", memory="1024")
    answer = ecs.update_service(cluster=c, service=name, taskDefinition=f"{family}:2")["service"]
    statuses = [(d["status"], d["taskDefinition"]) for d in answer["deployments"]]
    expect(statuses == [("PRIMARY", td2), ("ACTIVE", td1)],
           f"update_service answer shows deployments {statuses}")
    ecs.get_waiter("services_stable").wait(cluster=c, services=[name],
                                           WaiterConfig={"Delay": 0.5, "MaxAttempts": 40})
    svc = settled(env, c, name)
    running(env, c, old_tasks, "STOPPED")
    expect(svc["taskDefinition"] == td2, f"service task definition {svc['taskDefinition']}")
    (dep,) = svc["deployments"]
    expect(dep["taskDefinition"] == td2 and dep["rolloutState"] == "COMPLETED",
           "the new deployment did not complete")
    new_tasks = ecs.list_tasks(cluster=c, serviceName=name)["taskArns"]
    expect(len(new_tasks) == 2 and not set(new_tasks) & set(old_tasks),
           "old tasks were not replaced by new ones")
    stopped = ecs.describe_tasks(cluster=c, tasks=old_tasks)["tasks"]
    expect({t["lastStatus"] for t in stopped} == {"STOPPED"}, "old tasks are not STOPPED")
    messages = [e["message"] for e in svc["events"]]
    stopped = sum(int(re.search(r"has stopped (\d+) running tasks", m).group(1))
                  for m in messages if "has stopped" in m)
    expect(stopped == 2 and any("deployment completed" in m for m in messages), f"events: {messages}")


def _service_scales(env: Env) -> None:
    ecs = env.client("ecs")
    c, name, _ = service(env, desired=1)
    ecs.update_service(cluster=c, service=name, desiredCount=4)
    svc = settled(env, c, name)
    count = len(ecs.list_tasks(cluster=c, serviceName=name)["taskArns"])
    expect(svc["runningCount"] == 4 == count and len(svc["deployments"]) == 1,
           f"scaled to 4: runningCount {svc['runningCount']}, tasks {count}")
    ecs.update_service(cluster=c, service=name, desiredCount=0)
    svc = settled(env, c, name)
    expect(svc["runningCount"] == 0, f"scaled to 0: runningCount {svc['runningCount']}")


def _agent_reports_unknown_task(env: Env) -> Any:
    return env.client("ecs").submit_task_state_change(
        cluster=cluster(env), task="arn:aws:ecs:us-east-1:123456789012:task/nowhere/0123456789abcdef",
        status="RUNNING")


def _agent_reports_bad_status(env: Env) -> Any:
    ecs = env.client("ecs")
    c = cluster(env)
    arn = ecs.run_task(cluster=c, taskDefinition=fargate_td(env), launchType="FARGATE",
                       networkConfiguration=awsvpc(env))["tasks"][0]["taskArn"]
    return ecs.submit_task_state_change(cluster=c, task=arn, status="SLEEPING")


def _agent_poll_endpoint(env: Env) -> None:
    answer = env.client("ecs").discover_poll_endpoint()
    expect(answer["endpoint"].startswith(env.endpoint) and answer["telemetryEndpoint"].startswith(env.endpoint),
           f"poll endpoints {answer['endpoint']} / {answer['telemetryEndpoint']} are not this endpoint")


def _stopped_task_says_why(env: Env) -> None:
    ecs = env.client("ecs")
    c = cluster(env)
    td = fargate_td(env, containers=[container(image="public.ecr.aws/mylearning/no-such-image:1")])
    arn = ecs.run_task(cluster=c, taskDefinition=td, launchType="FARGATE",
                       networkConfiguration=awsvpc(env))["tasks"][0]["taskArn"]
    task = running(env, c, [arn], "STOPPED")[0]
    expect(task["lastStatus"] == "STOPPED" and task.get("stopCode") == "TaskFailedToStart"
           and str(task.get("stoppedReason", "")).startswith("CannotPullContainerError"),
           f"task {task['lastStatus']} stopCode {task.get('stopCode')} reason {task.get('stoppedReason')!r}")


def _service_keeps_parameters(env: Env) -> None:
    strategy = [{"capacityProvider": "FARGATE", "weight": 1, "base": 1},
                {"capacityProvider": "FARGATE_SPOT", "weight": 3, "base": 0}]
    deployment = {"deploymentCircuitBreaker": {"enable": True, "rollback": True},
                  "maximumPercent": 200, "minimumHealthyPercent": 50}
    namespace = f"{env.name('ns')}.local"  # Service Connect joins an existing namespace
    env.client("servicediscovery").create_http_namespace(Name=namespace)
    connect = {"enabled": True, "namespace": namespace}
    c, name, _ = service(env, launchType=None, capacityProviderStrategy=strategy,
                         deploymentConfiguration=deployment, enableExecuteCommand=True,
                         healthCheckGracePeriodSeconds=60, serviceConnectConfiguration=connect)
    svc = describe_service(env, c, name)
    expect(svc.get("capacityProviderStrategy") == strategy,
           f"capacityProviderStrategy {svc.get('capacityProviderStrategy')}")
    expect(svc.get("deploymentConfiguration") == deployment,
           f"deploymentConfiguration {svc.get('deploymentConfiguration')}")
    expect(svc.get("enableExecuteCommand") is True, "enableExecuteCommand lost")
    expect(svc.get("healthCheckGracePeriodSeconds") == 60, "healthCheckGracePeriodSeconds lost")
    expect(svc["deployments"][0].get("serviceConnectConfiguration") == connect,
           "serviceConnectConfiguration lost")
    expect("launchType" not in svc, f"launchType {svc.get('launchType')} with a strategy")


def _service_launch_types(env: Env) -> None:
    c, name, _ = service(env)
    svc = describe_service(env, c, name)
    expect(svc.get("launchType") == "FARGATE", f"launchType {svc.get('launchType')}")
    ecs = env.client("ecs")
    c2 = cluster(env, defaultCapacityProviderStrategy=[{"capacityProvider": "FARGATE_SPOT",
                                                        "weight": 1}])
    name2 = env.name("svc")
    ecs.create_service(cluster=c2, serviceName=name2, taskDefinition=fargate_td(env),
                       desiredCount=1, networkConfiguration=awsvpc(env))
    svc2 = describe_service(env, c2, name2)
    expect("launchType" not in svc2 and svc2.get("capacityProviderStrategy", [{}])[0].get(
        "capacityProvider") == "FARGATE_SPOT",
        "the cluster default strategy was not applied")


def _task_set_fargate(env: Env) -> None:
    c = cluster(env)
    ecs = env.client("ecs")
    name = env.name("svc")
    ecs.create_service(cluster=c, serviceName=name, desiredCount=2,
                       deploymentController={"type": "EXTERNAL"})
    ecs.create_task_set(cluster=c, service=name, taskDefinition=fargate_td(env),
                        capacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1}],
                        networkConfiguration=awsvpc(env, groups=False),
                        scale={"value": 50.0, "unit": "PERCENT"})


def _asg_provider_cluster(env: Env) -> tuple[str, str]:
    ecs = env.client("ecs")
    provider = env.name("cp")
    ecs.create_capacity_provider(name=provider, autoScalingGroupProvider={
        "autoScalingGroupArn": "ecs-asg", "managedScaling": {"status": "ENABLED"}})
    c = cluster(env, capacityProviders=[provider],
                defaultCapacityProviderStrategy=[{"capacityProvider": provider, "weight": 1}])
    return c, provider


def _run_task_on_asg_provider(env: Env) -> None:
    c, provider = _asg_provider_cluster(env)
    td = env.client("ecs").register_task_definition(
        family=env.name("ec2"), containerDefinitions=[container(memory=256)],
    )["taskDefinition"]["taskDefinitionArn"]
    tasks = env.client("ecs").run_task(cluster=c, taskDefinition=td)["tasks"]
    expect(len(tasks) == 1 and tasks[0].get("capacityProviderName") == provider,
           f"run_task on the Auto Scaling provider gave {tasks}")


def _ec2_service_cannot_place(env: Env) -> None:
    ecs = env.client("ecs")
    c = cluster(env)
    td = ecs.register_task_definition(
        family=env.name("ec2"), containerDefinitions=[container(memory=256)],
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(cluster=c, serviceName="web", taskDefinition=td, desiredCount=1,
                       launchType="EC2")
    svc = describe_service(env, c, "web")
    expect(svc["runningCount"] == 0, f"runningCount {svc['runningCount']} without instances")
    expect(any("unable to place a task" in e["message"] for e in svc["events"]),
           f"events: {[e['message'] for e in svc['events']]}")


def _task_set_ec2_without_instances(env: Env) -> None:
    ecs = env.client("ecs")
    c = cluster(env)
    ecs.create_service(cluster=c, serviceName="web", desiredCount=1,
                       deploymentController={"type": "EXTERNAL"})
    td = ecs.register_task_definition(
        family=env.name("ec2"), containerDefinitions=[container(memory=256)],
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.create_task_set(cluster=c, service="web", taskDefinition=td, launchType="EC2",
                        scale={"value": 100.0, "unit": "PERCENT"})


BEHAVIOUR_CASES = [
    Case("ecs-run-task-fargate-task-level-size", "ecs", _run_task(), OK,
         GUIDE + "fargate-tasks-services.html", "behaviour"),
    Case("ecs-run-task-without-security-groups", "ecs", _run_task(groups=False), OK,
         API + "API_AwsVpcConfiguration.html", "behaviour"),
    Case("ecs-run-task-vpc-without-dns-hostnames", "ecs", _run_task(dns_hostnames=False), OK,
         "https://docs.aws.amazon.com/vpc/latest/userguide/vpc-dns.html", "behaviour"),
    Case("ecs-run-task-cluster-default-strategy", "ecs", _run_task_default_strategy, OK,
         API + "API_RunTask.html", "behaviour"),
    Case("ecs-describe-tasks-keeps-running", "ecs", _describe_tasks_stay_running, OK,
         GUIDE + "task-lifecycle-explanation.html", "behaviour"),
    Case("ecs-task-set-fargate-strategy", "ecs", _task_set_fargate, OK,
         API + "API_CreateTaskSet.html", "behaviour"),
    Case("ecs-task-set-ec2-without-instances", "ecs", _task_set_ec2_without_instances, OK,
         API + "API_CreateTaskSet.html", "behaviour"),
    Case("ecs-run-task-auto-scaling-provider", "ecs", _run_task_on_asg_provider, OK,
         GUIDE + "asg-capacity-providers.html", "behaviour"),
    Case("ecs-service-ec2-without-instances-waits", "ecs", _ec2_service_cannot_place, OK,
         GUIDE + "troubleshoot-service-event-messages.html", "behaviour"),
    Case("ecs-service-reaches-steady-state", "ecs", _service_stable, OK, DOC_EVENTS, "behaviour"),
    Case("ecs-service-tasks-running", "ecs", _service_tasks_running, OK,
         API + "API_ListTasks.html", "behaviour"),
    Case("ecs-service-rolling-deployment", "ecs", _service_rolls, OK,
         GUIDE + "deployment-type-ecs.html", "behaviour"),
    Case("ecs-service-scales", "ecs", _service_scales, OK, API + "API_UpdateService.html",
         "behaviour"),
    Case("ecs-service-keeps-parameters", "ecs", _service_keeps_parameters, OK,
         API + "API_Service.html", "behaviour"),
    Case("ecs-service-launch-type", "ecs", _service_launch_types, OK, DOC_CREATE_SERVICE,
         "behaviour"),
    Case("ecs-agent-report-unknown-task", "ecs", _agent_reports_unknown_task, "InvalidParameterException",
         API + "API_SubmitTaskStateChange.html"),
    Case("ecs-agent-report-bad-status", "ecs", _agent_reports_bad_status, "InvalidParameterException",
         API + "API_SubmitTaskStateChange.html"),
    Case("ecs-agent-poll-endpoint", "ecs", _agent_poll_endpoint, OK,
         API + "API_DiscoverPollEndpoint.html", "behaviour"),
    Case("ecs-task-missing-image-stops", "ecs", _stopped_task_says_why, OK,
         GUIDE + "task_cannot_pull_image.html", "behaviour"),
]



# ---------------------------------------------------------------- list pages

def _list_services_pages(env: Env) -> Any:
    """Twelve services list as a page of 10 with a nextToken, then a last page of 2 without one."""
    ecs, name = env.client("ecs"), cluster(env)
    family = ecs.register_task_definition(family=env.name("paged"), requiresCompatibilities=["EC2"],
                                          containerDefinitions=[{"name": "app", "image": "busybox", "memory": 64}])
    for i in range(12):
        ecs.create_service(cluster=name, serviceName=env.name(f"paged-{i}"), desiredCount=0, launchType="EC2",
                           taskDefinition=family["taskDefinition"]["taskDefinitionArn"])
    first = ecs.list_services(cluster=name)
    if len(first["serviceArns"]) != 10 or not first.get("nextToken"):
        raise BehaviourMismatch(f"first page: {len(first['serviceArns'])} services, token {first.get('nextToken')!r}")
    last = ecs.list_services(cluster=name, nextToken=first["nextToken"])
    if len(last["serviceArns"]) != 2 or last.get("nextToken"):
        raise BehaviourMismatch(f"last page: {len(last['serviceArns'])} services, token {last.get('nextToken')!r}")
    if set(first["serviceArns"]) & set(last["serviceArns"]):
        raise BehaviourMismatch("a service is listed on both pages")
    return {"pages": 2}


def _list_active_families(env: Env) -> Any:
    """A family whose every revision is deregistered is INACTIVE: status=ACTIVE leaves it out."""
    ecs, family = env.client("ecs"), env.name("gone")
    arn = ecs.register_task_definition(family=family, containerDefinitions=[
        {"name": "app", "image": "busybox", "memory": 64}])["taskDefinition"]["taskDefinitionArn"]
    ecs.deregister_task_definition(taskDefinition=arn)
    active = ecs.list_task_definition_families(familyPrefix=family, status="ACTIVE")["families"]
    inactive = ecs.list_task_definition_families(familyPrefix=family, status="INACTIVE")["families"]
    if active or inactive != [family]:
        raise BehaviourMismatch(f"ACTIVE lists {active}, INACTIVE lists {inactive}")
    return {"families": inactive}


PAGE_CASES = [
    Case("ecs-list-services-pages-of-10", "ecs", _list_services_pages, OK, API + "API_ListServices.html",
         "behaviour"),
    Case("ecs-list-families-by-status", "ecs", _list_active_families, OK,
         API + "API_ListTaskDefinitionFamilies.html", "behaviour"),
]

CASES = TASK_DEFINITION_CASES + CLUSTER_CASES + SERVICE_CASES + BEHAVIOUR_CASES + PAGE_CASES
