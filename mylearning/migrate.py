"""Map an App Runner service onto ECS on Fargate (lab 01).

MyLearning's course API ran on App Runner. Lab 01 has the learner read the service's
`aws apprunner describe-service` output and rebuild it on ECS by hand; this module then
does the mechanical part, so the learner can compare, and later labs can prepare the
same starting point in one call.

Every field mapping below cites the AWS page that defines both sides. The results are
plain dicts shaped as the ECS and Application Auto Scaling APIs take them:
`ecs.register_task_definition(**td)`, `aas.register_scalable_target(**target)`,
`aas.put_scaling_policy(**policy)`.

App Runner itself: "AWS App Runner will no longer be open to new customers starting
April 30, 2026. Existing customers can continue to use the service as normal."
(https://docs.aws.amazon.com/apprunner/latest/dg/apprunner-availability-change.html)
"""
from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Mapping

from mylearning.cost import X86_64, InvalidTaskSize, TaskSize, normalize_arch
from mylearning.facts.ecs import DESIRED_COUNT

SAMPLE_SERVICE = "apprunner_course_api.json"
SAMPLE_AUTOSCALING = "apprunner_course_api_autoscaling.json"


def load_sample(name: str = SAMPLE_SERVICE) -> dict[str, Any]:
    """The shipped App Runner description of MyLearning's course API, as describe-service returns it.

    `load_sample(SAMPLE_AUTOSCALING)` gives the matching describe-auto-scaling-configuration
    output: describe-service only names the auto scaling configuration, its MinSize, MaxSize
    and MaxConcurrency come from that second call.
    """
    text = (resources.files("mylearning") / "data" / name).read_text(encoding="utf-8")
    return json.loads(text)


def _service(description: Mapping[str, Any]) -> Mapping[str, Any]:
    """Accept either the whole describe-service answer or its "Service" member."""
    return description.get("Service", description)


# ---------------------------------------------------------------------------
# CPU and memory
# ---------------------------------------------------------------------------
# App Runner's InstanceConfiguration takes Cpu as "256|512|1024|2048|4096" or
# "(0.25|0.5|1|2|4) vCPU", and Memory as MB ("512" ... "12288") or "(0.5 ... 12) GB"
# (https://docs.aws.amazon.com/apprunner/latest/api/API_InstanceConfiguration.html).
# ECS wants CPU units and MiB; App Runner's "2 GB" is its "2048", so GB here is 1024 MiB.
_CPU_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(vcpus?|units?)?\s*$", re.IGNORECASE)
_MEM_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(gb|gib|g|mb|mib|m)?\s*$", re.IGNORECASE)


def parse_cpu(value: str | int | float) -> int:
    """CPU units (1024 = 1 vCPU) from an App Runner Cpu value: "1 vCPU", "0.25 vCPU", "1024", 1024.

    A bare small number ("1", "2") is refused: App Runner would read "1024" as units and
    "1 vCPU" as vCPUs, and guessing wrong would give a task 1/1024 of the CPU intended.
    """
    if isinstance(value, bool):
        raise ValueError(f"Cpu must be like '1 vCPU' or '1024', got {value!r}")
    match = _CPU_RE.match(str(value))
    if not match:
        raise ValueError(f"Cpu must be like '1 vCPU' or '1024' (CPU units), got {value!r}")
    number, unit = float(match.group(1)), (match.group(2) or "").lower()
    if unit.startswith("vcpu"):
        units = number * 1024
    elif number < 128:
        raise ValueError(
            f"Cpu {value!r} is ambiguous: write '{match.group(1)} vCPU' for vCPUs or give CPU units "
            f"(1 vCPU = 1024)."
        )
    else:
        units = number
    if not units.is_integer() or units <= 0:
        raise ValueError(f"Cpu {value!r} is not a whole number of CPU units")
    return int(units)


def parse_memory(value: str | int | float) -> int:
    """MiB from an App Runner Memory value: "2 GB", "0.5 GB", "2048", "2048 MB", 2048.

    A bare small number ("2") is refused as ambiguous, for the same reason as parse_cpu.
    """
    if isinstance(value, bool):
        raise ValueError(f"Memory must be like '2 GB' or '2048', got {value!r}")
    match = _MEM_RE.match(str(value))
    if not match:
        raise ValueError(f"Memory must be like '2 GB' or '2048' (MB), got {value!r}")
    number, unit = float(match.group(1)), (match.group(2) or "").lower()
    if unit.startswith("g"):
        mib = number * 1024
    elif not unit and number < 128:
        raise ValueError(
            f"Memory {value!r} is ambiguous: write '{match.group(1)} GB' or give MiB (1 GB = 1024)."
        )
    else:
        mib = number
    if not mib.is_integer() or mib <= 0:
        raise ValueError(f"Memory {value!r} is not a whole number of MiB")
    return int(mib)


def fargate_size(description: Mapping[str, Any]) -> TaskSize:
    """The Fargate task size matching the service's InstanceConfiguration (defaults 1 vCPU / 2 GB).

    Every App Runner size is a valid Fargate size, so this only fails on malformed input.
    """
    config = _service(description).get("InstanceConfiguration") or {}
    cpu = parse_cpu(config.get("Cpu", "1 vCPU"))
    memory = parse_memory(config.get("Memory", "2 GB"))
    try:
        return TaskSize(cpu, memory)
    except InvalidTaskSize as err:
        raise InvalidTaskSize(f"App Runner size {config.get('Cpu')} / {config.get('Memory')}: {err}") from None


# ---------------------------------------------------------------------------
# Health checks
# ---------------------------------------------------------------------------
# App Runner defaults: TCP, path "/", interval 5 s, timeout 2 s, healthy threshold 1,
# unhealthy threshold 5; each number 1-20.
# (https://docs.aws.amazon.com/apprunner/latest/api/API_HealthCheckConfiguration.html)
_APP_RUNNER_HEALTH_DEFAULTS = {"Protocol": "TCP", "Path": "/", "Interval": 5, "Timeout": 2,
                               "HealthyThreshold": 1, "UnhealthyThreshold": 5}

# ECS container health check ranges: interval 5-300 s, timeout 2-60 s, retries 1-10,
# startPeriod 0-300 s. The command runs inside the container, so the image must contain
# the probe tool. (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_HealthCheck.html)
_PROBES = {
    "curl": "curl -fsS -o /dev/null http://localhost:{port}{path} || exit 1",
    "wget": "wget -q -O /dev/null http://localhost:{port}{path} || exit 1",
}
_TCP_PROBE = "nc -z localhost {port} || exit 1"


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, int(value)))


def _health_config(description: Mapping[str, Any]) -> dict[str, Any]:
    given = _service(description).get("HealthCheckConfiguration") or {}
    return {**_APP_RUNNER_HEALTH_DEFAULTS, **{k: v for k, v in given.items() if v is not None}}


def container_health_check(
    description: Mapping[str, Any],
    *,
    probe: str = "curl",
    start_period: int | None = None,
) -> dict[str, Any]:
    """The container healthCheck that probes what App Runner probed.

    HTTP checks become `curl -f` (or `wget`) against localhost:port/path; TCP checks
    become `nc -z`. Interval, timeout and unhealthy threshold are carried over and
    clamped into ECS's ranges; App Runner's HealthyThreshold has no container-level
    equivalent (it maps to the target group, see target_group_health_check).
    """
    config = _health_config(description)
    port = container_port(description)
    if str(config["Protocol"]).upper() == "HTTP":
        if probe not in _PROBES:
            raise ValueError(f"probe is one of {sorted(_PROBES)}, got {probe!r}")
        path = config["Path"] if str(config["Path"]).startswith("/") else "/" + str(config["Path"])
        command = _PROBES[probe].format(port=port, path=path)
    else:
        command = _TCP_PROBE.format(port=port)
    check: dict[str, Any] = {
        "command": ["CMD-SHELL", command],
        "interval": _clamp(config["Interval"], 5, 300),
        "timeout": _clamp(config["Timeout"], 2, 60),
        "retries": _clamp(config["UnhealthyThreshold"], 1, 10),
    }
    if start_period is not None:
        check["startPeriod"] = _clamp(start_period, 0, 300)
    return check


def target_group_health_check(description: Mapping[str, Any]) -> dict[str, Any]:
    """Health-check arguments for elbv2.create_target_group, carried over from App Runner.

    ALB target groups speak HTTP(S) only ("The TCP protocol is not supported for health
    checks if the protocol of the target group is HTTP or HTTPS", CreateTargetGroup API),
    so an App Runner TCP check becomes an HTTP check of "/". Thresholds are 2-10, interval
    5-300 s, timeout 2-120 s and shorter than the interval.
    """
    config = _health_config(description)
    interval = _clamp(config["Interval"], 5, 300)
    timeout = min(_clamp(config["Timeout"], 2, 120), interval - 1)
    path = config["Path"] if str(config["Protocol"]).upper() == "HTTP" else "/"
    return {
        "HealthCheckProtocol": "HTTP",
        "HealthCheckPath": path,
        "HealthCheckIntervalSeconds": interval,
        "HealthCheckTimeoutSeconds": timeout,
        "HealthyThresholdCount": _clamp(config["HealthyThreshold"], 2, 10),
        "UnhealthyThresholdCount": _clamp(config["UnhealthyThreshold"], 2, 10),
    }


def _health_notes(description: Mapping[str, Any]) -> list[str]:
    config = _health_config(description)
    notes = []
    for key, low, high, ecs_name in (("Interval", 5, 300, "interval"), ("Timeout", 2, 60, "timeout"),
                                     ("UnhealthyThreshold", 1, 10, "retries")):
        if not low <= int(config[key]) <= high:
            notes.append(f"HealthCheck {key}={config[key]} is outside ECS's {ecs_name} range "
                         f"{low}-{high}; used {_clamp(config[key], low, high)}.")
    notes.append(f"HealthyThreshold={config['HealthyThreshold']} has no container-level equivalent; it "
                 "becomes the target group's HealthyThresholdCount (minimum 2).")
    return notes


# ---------------------------------------------------------------------------
# Task definition
# ---------------------------------------------------------------------------
def _image_repository(description: Mapping[str, Any]) -> Mapping[str, Any]:
    source = _service(description).get("SourceConfiguration") or {}
    repo = source.get("ImageRepository")
    if not repo:
        raise ValueError(
            "This App Runner service builds from source code (CodeRepository); ECS runs images. "
            "Build and push an image first, then map that."
        )
    return repo


def _image_configuration(description: Mapping[str, Any]) -> Mapping[str, Any]:
    return _image_repository(description).get("ImageConfiguration") or {}


def container_port(description: Mapping[str, Any]) -> int:
    """The port the application listens on (App Runner's default is 8080)."""
    port = str(_image_configuration(description).get("Port") or "8080")
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"ImageConfiguration.Port must be a port number, got {port!r}")
    return int(port)


def environment_and_secrets(description: Mapping[str, Any]) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """ECS `environment` and `secrets` lists from RuntimeEnvironmentVariables and ...Secrets.

    Secrets stay references: each becomes {"name", "valueFrom"} with the Secrets Manager
    or SSM Parameter Store ARN (or same-Region parameter name) App Runner held, which is
    what ECS's `secrets` accepts (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Secret.html).
    A secret never lands in `environment`, where DescribeTaskDefinition would show its
    value to anyone with read access.
    """
    config = _image_configuration(description)
    variables = config.get("RuntimeEnvironmentVariables") or {}
    secrets = config.get("RuntimeEnvironmentSecrets") or {}
    both = sorted(set(variables) & set(secrets))
    if both:
        raise ValueError(f"{', '.join(both)} set both as a plain variable and as a secret; keep only the secret.")
    environment = [{"name": k, "value": str(v)} for k, v in sorted(variables.items())]
    secret_refs = [{"name": k, "valueFrom": str(v)} for k, v in sorted(secrets.items())]
    return environment, secret_refs


def _region(description: Mapping[str, Any]) -> str | None:
    arn = str(_service(description).get("ServiceArn", ""))
    parts = arn.split(":")
    return parts[3] if len(parts) > 5 and parts[3] else None


def task_definition(
    description: Mapping[str, Any],
    *,
    execution_role_arn: str,
    task_role_arn: str | None = None,
    family: str | None = None,
    container_name: str | None = None,
    arch: str = X86_64,
    log_group: str | None = None,
    log_region: str | None = None,
    log_stream_prefix: str = "ecs",
    probe: str = "curl",
    start_period: int | None = None,
) -> dict[str, Any]:
    """RegisterTaskDefinition arguments for running the App Runner service on Fargate.

    - size: InstanceConfiguration -> task `cpu`/`memory` (fargate_size).
    - image and port: ImageIdentifier -> `image`; Port -> an awsvpc port mapping.
    - configuration: variables -> `environment`, secrets -> `secrets` (valueFrom).
    - health: HealthCheckConfiguration -> container `healthCheck`.
    - logs: App Runner ships logs to CloudWatch for you; on ECS the awslogs driver does,
      into `log_group` (default /ecs/<family>) in `log_region` (default: the service's Region).
    - roles: InstanceRoleArn (what the code may call) -> `taskRoleArn` unless
      `task_role_arn` is given; its trust policy must name ecs-tasks.amazonaws.com.
      The execution role (image pull, logs, secrets) has no App Runner counterpart
      (App Runner's access role is assumed by build.apprunner.amazonaws.com), so it is
      required here.
    """
    service = _service(description)
    repo = _image_repository(service)
    family = family or service["ServiceName"]
    container_name = container_name or family
    size = fargate_size(service)
    port = container_port(service)
    environment, secrets = environment_and_secrets(service)
    region = log_region or _region(service)
    if not region:
        raise ValueError("No Region in the ServiceArn: pass log_region")
    if not execution_role_arn:
        raise ValueError("execution_role_arn is required: ECS pulls the image and reads secrets with it")
    container: dict[str, Any] = {
        "name": container_name,
        "image": repo["ImageIdentifier"],
        "essential": True,
        "portMappings": [{"containerPort": port, "protocol": "tcp",
                          "name": f"{container_name}-{port}", "appProtocol": "http"}],
        "environment": environment,
        "secrets": secrets,
        "healthCheck": container_health_check(service, probe=probe, start_period=start_period),
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": log_group or f"/ecs/{family}",
                "awslogs-region": region,
                "awslogs-stream-prefix": log_stream_prefix,
            },
        },
    }
    start_command = (repo.get("ImageConfiguration") or {}).get("StartCommand")
    if start_command:
        container["command"] = shlex.split(start_command)
    definition: dict[str, Any] = {
        "family": family,
        "requiresCompatibilities": ["FARGATE"],
        "networkMode": "awsvpc",
        **size.for_task_definition(),
        "runtimePlatform": {"cpuArchitecture": normalize_arch(arch), "operatingSystemFamily": "LINUX"},
        "executionRoleArn": execution_role_arn,
        "containerDefinitions": [container],
    }
    role = task_role_arn or (service.get("InstanceConfiguration") or {}).get("InstanceRoleArn")
    if role:
        definition["taskRoleArn"] = role
    return definition


def plain_secrets(definition: Mapping[str, Any]) -> list[str]:
    """``container: NAME`` for every `environment` entry of a task definition that holds a secret.

    The per-container rule is `taskdefs.plain_secrets` (one copy of what looks like a
    secret); this applies it to a whole migrated definition, for the lab's hints. An
    empty list means nothing looks wrong.
    """
    from mylearning import taskdefs
    return [f"{container.get('name', '?')}: {name}"
            for container in definition.get("containerDefinitions", [])
            for name in taskdefs.plain_secrets(container)]


def _secret_resource(value_from: str, region: str | None, account: str | None) -> tuple[str, str]:
    """(service, resource ARN) an execution role must be allowed to read for one secret."""
    if value_from.startswith("arn:"):
        parts = value_from.split(":")
        if parts[2] == "secretsmanager":
            # A JSON-key reference (…:secret:name-AbCdEf:key::) is still read as the whole secret.
            return "secretsmanager", ":".join(parts[:7])
        return parts[2], value_from
    if not (region and account):
        raise ValueError(f"Cannot turn parameter name {value_from!r} into an ARN without Region and account")
    name = value_from if value_from.startswith("/") else "/" + value_from
    return "ssm", f"arn:aws:ssm:{region}:{account}:parameter{name}"


def secrets_policy(description: Mapping[str, Any]) -> dict[str, Any]:
    """A least-privilege IAM policy letting the task execution role read exactly these secrets.

    ECS fetches `secrets` with the execution role, which needs secretsmanager:GetSecretValue
    and/or ssm:GetParameters on each one
    (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html,
    .../secrets-envvar-secrets-manager.html). Secrets encrypted
    with a customer managed KMS key also need kms:Decrypt on that key, which App Runner's
    description does not reveal.
    """
    service = _service(description)
    arn_parts = str(service.get("ServiceArn", "")).split(":")
    region, account = (arn_parts[3], arn_parts[4]) if len(arn_parts) > 5 else (None, None)
    _, secrets = environment_and_secrets(service)
    by_service: dict[str, list[str]] = {}
    for secret in secrets:
        kind, arn = _secret_resource(secret["valueFrom"], region, account)
        by_service.setdefault(kind, [])
        if arn not in by_service[kind]:
            by_service[kind].append(arn)
    actions = {"secretsmanager": "secretsmanager:GetSecretValue", "ssm": "ssm:GetParameters"}
    statements = [
        {"Sid": f"Read{kind.capitalize()}Secrets", "Effect": "Allow", "Action": [actions[kind]],
         "Resource": sorted(arns)}
        for kind, arns in sorted(by_service.items()) if kind in actions
    ]
    return {"Version": "2012-10-17", "Statement": statements}


# ---------------------------------------------------------------------------
# Auto scaling
# ---------------------------------------------------------------------------
# App Runner scales on concurrent requests per instance between MinSize and MaxSize
# (MaxConcurrency 1-200, default 100; MinSize 1-25, default 1; MaxSize default 25;
# https://docs.aws.amazon.com/apprunner/latest/api/API_CreateAutoScalingConfiguration.html).
# ECS services scale through Application Auto
# Scaling: a scalable target on ecs:service:DesiredCount and target-tracking policies
# (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-autoscaling-targettracking.html).
_AUTOSCALING_DEFAULTS = {"MinSize": 1, "MaxSize": 25, "MaxConcurrency": 100}


def _autoscaling(config: Mapping[str, Any] | None) -> dict[str, int]:
    given = (config or {}).get("AutoScalingConfiguration", config or {})
    merged = {k: int(given.get(k, v)) for k, v in _AUTOSCALING_DEFAULTS.items()}
    if merged["MinSize"] < 1 or merged["MaxSize"] < merged["MinSize"]:
        raise ValueError(f"Need 1 <= MinSize <= MaxSize, got {merged['MinSize']} and {merged['MaxSize']}")
    return merged


def scalable_target(
    autoscaling: Mapping[str, Any] | None,
    cluster: str,
    service_name: str,
    *,
    min_capacity: int | None = None,
) -> dict[str, Any]:
    """RegisterScalableTarget arguments with App Runner's MinSize/MaxSize as the task range.

    Pass min_capacity to raise the floor: App Runner's idle instances cost memory only,
    while every running ECS task is billed in full, but a 99.99% target wants a task in
    each Availability Zone at all times.
    """
    config = _autoscaling(autoscaling)
    low = config["MinSize"] if min_capacity is None else int(min_capacity)
    if not 0 <= low <= config["MaxSize"]:
        raise ValueError(f"min_capacity must be between 0 and MaxSize={config['MaxSize']}, got {low}")
    return {
        "ServiceNamespace": "ecs",
        "ResourceId": f"service/{cluster}/{service_name}",
        "ScalableDimension": DESIRED_COUNT,
        "MinCapacity": low,
        "MaxCapacity": config["MaxSize"],
    }


def requests_per_target_per_minute(max_concurrency: int, mean_latency_s: float,
                                   target_utilization: float = 0.7) -> float:
    """Request rate per task that matches App Runner's concurrency limit, by Little's law.

    Concurrency = arrival rate x time in system, so a task holding `max_concurrency`
    requests that each take `mean_latency_s` completes max_concurrency / mean_latency_s
    requests a second. ALBRequestCountPerTarget counts requests per target per minute.
    """
    if mean_latency_s <= 0:
        raise ValueError("mean_latency_s must be positive (measure it, e.g. the ALB's TargetResponseTime)")
    if not 0 < target_utilization <= 1:
        raise ValueError("target_utilization is a fraction between 0 and 1")
    return max_concurrency / mean_latency_s * 60.0 * target_utilization


def target_tracking_policy(
    autoscaling: Mapping[str, Any] | None,
    cluster: str,
    service_name: str,
    *,
    resource_label: str | None = None,
    mean_latency_s: float | None = None,
    target_utilization: float = 0.7,
    cpu_target: float = 70.0,
    scale_out_cooldown: int = 60,
    scale_in_cooldown: int = 300,
) -> dict[str, Any]:
    """PutScalingPolicy arguments for a target-tracking policy that stands in for App Runner's.

    With an ALB (`resource_label` "app/<alb>/<id>/targetgroup/<tg>/<id>") and a measured
    `mean_latency_s`, it tracks ALBRequestCountPerTarget at the rate that keeps each task
    at `target_utilization` of App Runner's MaxConcurrency. Without them it tracks
    average CPU at `cpu_target` percent, a signal every ECS service has. The cooldowns
    (scale out fast, scale in slowly) are this course's choice, not App Runner's.
    """
    config = _autoscaling(autoscaling)
    if resource_label and mean_latency_s:
        target = round(requests_per_target_per_minute(config["MaxConcurrency"], mean_latency_s,
                                                      target_utilization), 1)
        metric = {"PredefinedMetricType": "ALBRequestCountPerTarget", "ResourceLabel": resource_label}
        suffix = "requests"
    elif resource_label or mean_latency_s:
        raise ValueError("Request-count tracking needs both resource_label and mean_latency_s")
    else:
        target = float(cpu_target)
        metric = {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"}
        suffix = "cpu"
    return {
        "PolicyName": f"{service_name}-{suffix}-target-tracking",
        "ServiceNamespace": "ecs",
        "ResourceId": f"service/{cluster}/{service_name}",
        "ScalableDimension": DESIRED_COUNT,
        "PolicyType": "TargetTrackingScaling",
        "TargetTrackingScalingPolicyConfiguration": {
            "TargetValue": target,
            "PredefinedMetricSpecification": metric,
            "ScaleOutCooldown": int(scale_out_cooldown),
            "ScaleInCooldown": int(scale_in_cooldown),
        },
    }


# ---------------------------------------------------------------------------
# All of it at once
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Migration:
    """Everything migrate() derives, plus notes on what did not carry over one to one."""

    task_definition: dict[str, Any]
    scalable_target: dict[str, Any]
    scaling_policy: dict[str, Any]
    target_group_health_check: dict[str, Any]
    secrets_policy: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        td, target = self.task_definition, self.scalable_target
        tracking = self.scaling_policy["TargetTrackingScalingPolicyConfiguration"]
        metric = tracking["PredefinedMetricSpecification"]["PredefinedMetricType"]
        lines = [f"Task definition {td['family']}: {td['cpu']} CPU units / {td['memory']} MiB, "
                 f"{td['runtimePlatform']['cpuArchitecture']}",
                 f"Scaling {target['MinCapacity']}-{target['MaxCapacity']} tasks, "
                 f"tracking {metric} at {tracking['TargetValue']:g}"]
        lines += [f"- {note}" for note in self.notes]
        return "\n".join(lines)


def migrate(
    description: Mapping[str, Any],
    autoscaling: Mapping[str, Any] | None,
    *,
    cluster: str,
    execution_role_arn: str,
    service_name: str | None = None,
    resource_label: str | None = None,
    mean_latency_s: float | None = None,
    min_capacity: int | None = None,
    **task_definition_options: Any,
) -> Migration:
    """Map an App Runner service (and its auto scaling configuration) to ECS in one call."""
    service = _service(description)
    name = service_name or service["ServiceName"]
    td = task_definition(service, execution_role_arn=execution_role_arn, **task_definition_options)
    target = scalable_target(autoscaling, cluster, name, min_capacity=min_capacity)
    policy = target_tracking_policy(autoscaling, cluster, name, resource_label=resource_label,
                                    mean_latency_s=mean_latency_s)
    notes = _health_notes(service)
    if target["MinCapacity"] < 2:
        notes.append("MinCapacity below 2 leaves one Availability Zone without a task; "
                     "a 99.99% target needs at least one task per AZ.")
    source = service.get("SourceConfiguration") or {}
    if source.get("AutoDeploymentsEnabled"):
        notes.append("App Runner redeployed on every image push; on ECS a pipeline registers a new "
                     "task definition revision and updates the service.")
    egress = ((service.get("NetworkConfiguration") or {}).get("EgressConfiguration") or {})
    if egress.get("EgressType") == "VPC":
        notes.append("The VPC connector goes away: awsvpc tasks get their own ENI and security group "
                     "in your private subnets.")
    if td["runtimePlatform"]["cpuArchitecture"] != X86_64:
        notes.append("ARM64 needs an image built for linux/arm64 (or a multi-arch image).")
    if td.get("taskRoleArn") == (service.get("InstanceConfiguration") or {}).get("InstanceRoleArn"):
        notes.append("taskRoleArn reuses the App Runner instance role: its trust policy must allow "
                     "ecs-tasks.amazonaws.com instead of tasks.apprunner.amazonaws.com.")
    return Migration(td, target, policy, target_group_health_check(service), secrets_policy(service), notes)


# ---------------------------------------------------------------------------
# Why MyLearning left App Runner
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Limitation:
    """One thing App Runner could not do that MyLearning needed, and how ECS does it."""

    need: str
    app_runner: str
    ecs: str
    source: str


APP_RUNNER_LIMITATIONS: tuple[Limitation, ...] = (
    Limitation(
        "Sidecars",
        "One container image per service: no Envoy proxy, log router or agent beside the app "
        "(SourceConfiguration holds a single ImageRepository).",
        "A task definition lists several containers that share the task's network and can wait "
        "for each other with dependsOn.",
        "https://docs.aws.amazon.com/apprunner/latest/api/API_SourceConfiguration.html ; "
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html",
    ),
    Limitation(
        "Custom networking (awsvpc)",
        "Instances run in an AWS-managed VPC; a VPC connector carries outbound traffic only, and "
        "private inbound traffic needs a VPC interface endpoint.",
        "awsvpc gives every task its own ENI in your subnets, with your security groups, in and out.",
        "https://docs.aws.amazon.com/apprunner/latest/api/API_EgressConfiguration.html ; "
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-task-networking.html",
    ),
    Limitation(
        "Service mesh",
        "No sidecar, so no App Mesh Envoy, mTLS between services or weighted routes.",
        "App Mesh via proxyConfiguration (ended 2026-09-30), and ECS Service Connect, which AWS "
        "recommends instead.",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-connect.html",
    ),
    Limitation(
        "Spot capacity",
        "On-demand only; idle instances are billed for memory, active ones for vCPU and memory.",
        "The FARGATE_SPOT capacity provider runs interruption-tolerant tasks at up to 70% off.",
        "https://aws.amazon.com/apprunner/pricing/ ; https://aws.amazon.com/fargate/pricing/",
    ),
    Limitation(
        "Advanced deployments",
        "App Runner replaces the running version itself; no control of batch size, canary or "
        "linear traffic shifting.",
        "Rolling updates with minimumHealthyPercent/maximumPercent and a circuit breaker with "
        "rollback, or BLUE_GREEN, LINEAR and CANARY deployment strategies.",
        "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentConfiguration.html",
    ),
    Limitation(
        "Scaling signals",
        "Scales only on concurrent requests per instance (MaxConcurrency 1-200), at most 25 "
        "instances by default.",
        "Target tracking on CPU, memory, ALB requests per target or custom metrics, plus step and "
        "scheduled scaling.",
        "https://docs.aws.amazon.com/apprunner/latest/api/API_CreateAutoScalingConfiguration.html ; "
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-auto-scaling.html",
    ),
    Limitation(
        "Task size and workers",
        "HTTP services only, up to 4 vCPU / 12 GB per instance.",
        "Any container, including queue workers with no port (the video worker), up to 16 vCPU / 120 GB.",
        "https://docs.aws.amazon.com/apprunner/latest/api/API_InstanceConfiguration.html ; "
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html",
    ),
    Limitation(
        "Future of the service",
        "Closed to new customers from April 30, 2026; no new features planned.",
        "AWS points App Runner users to ECS (Express Mode for the simplest path).",
        "https://docs.aws.amazon.com/apprunner/latest/dg/apprunner-availability-change.html",
    ),
)


def limitations_table() -> list[dict[str, str]]:
    """The limitations as rows (need, App Runner, ECS, source), ready for a DataFrame or Markdown."""
    return [{"need": l.need, "App Runner": l.app_runner, "ECS": l.ecs, "source": l.source}
            for l in APP_RUNNER_LIMITATIONS]


# ---------------------------------------------------------------------------
# Comparing a registered definition with a mapping
# ---------------------------------------------------------------------------
_MISSING = object()


def differences(actual: Any, expected: Any, path: str = "") -> list[str]:
    """Where `actual` (as AWS returns it) falls short of `expected`; [] when it has all of it.

    Only what `expected` sets is compared: AWS fills in defaults on registration
    (hostPort, cpu 0, empty mountPoints...), and those are not differences. Lab 01
    uses this to compare the learner's hand-made task definition with migrate()'s,
    and to register a new revision only when something really changed.
    """
    where = path or "(top)"
    if isinstance(expected, Mapping):
        if not isinstance(actual, Mapping):
            return [f"{where}: {_short(actual)} instead of {_short(expected)}"]
        found = []
        for key, value in expected.items():
            sub = f"{path}.{key}" if path else str(key)
            if actual.get(key, _MISSING) is _MISSING:
                found.append(f"{sub}: missing (expected {_short(value)})")
            else:
                found += differences(actual[key], value, sub)
        return found
    if isinstance(expected, (list, tuple)):
        if not isinstance(actual, (list, tuple)) or len(actual) != len(expected):
            return [f"{where}: {_short(actual)} instead of {_short(expected)}"]
        found = []
        for index, (have, want) in enumerate(zip(actual, expected)):
            found += differences(have, want, f"{path}[{index}]")
        return found
    if actual != expected and str(actual) != str(expected):
        return [f"{where}: {_short(actual)} instead of {_short(expected)}"]
    return []


def _short(value: Any, limit: int = 70) -> str:
    text = "missing" if value is _MISSING else json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."
