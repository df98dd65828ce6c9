"""Fargate task definitions from a few arguments, registered only when something changed.

Lab 03 first writes a task definition as the full JSON that RegisterTaskDefinition
takes, so the learner sees every field; these builders then produce the same shape
for the other services without repeating it. Registering is idempotent here: a
notebook cell run twice finds the revision that already matches instead of adding
a new revision each time, so revision numbers mean "something changed".

Field meanings: "Amazon ECS task definition parameters",
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html
"""
from __future__ import annotations

import re
from typing import Any, Iterable, Mapping

from mylearning.facts.ecs import ECS_TASKS_PRINCIPAL, EXECUTION_POLICY_ARN
from mylearning.facts.fargate import ARCHITECTURES, validate_task_size

#: Environment variable names that should come from `secrets`, never `environment`.
SECRET_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL|SIGNING_?KEY",
                         re.IGNORECASE)
#: A value that names a secret instead of holding it: in `environment`, ECS passes it on as
#: text and does not resolve it (only `secrets` entries are fetched at start-up).
SECRET_ARN = re.compile(r"^arn:aws[\w-]*:(secretsmanager|ssm):")


def check_size(cpu: int | str, memory: int | str) -> tuple[int, int]:
    """The Fargate task size as integers; raises InvalidTaskSize naming the valid choices.

    Uses the course's one copy of the published table (`mylearning.facts.fargate`), so a
    learner sees the fix before ECS answers "No Fargate configuration exists for given values".
    """
    return validate_task_size(cpu, memory)


def awslogs(group: str, region: str, stream_prefix: str) -> dict[str, Any]:
    """A logConfiguration for the awslogs driver (the log group must exist already).

    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html
    """
    return {"logDriver": "awslogs",
            "options": {"awslogs-group": group, "awslogs-region": region,
                        "awslogs-stream-prefix": stream_prefix}}


def http_health_check(port: int, path: str = "/health", *, interval: int = 30, timeout: int = 5,
                      retries: int = 3, start_period: int = 15) -> dict[str, Any]:
    """A container health check that asks the app itself, inside the task.

    Limits (interval 5-300 s, timeout 2-120 s, retries 1-10, startPeriod 0-300 s):
    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_HealthCheck.html
    """
    return command_health_check(f"curl -fs http://localhost:{port}{path} || exit 1",
                                interval=interval, timeout=timeout, retries=retries,
                                start_period=start_period)


def command_health_check(shell: str, *, interval: int = 30, timeout: int = 5, retries: int = 3,
                         start_period: int = 15) -> dict[str, Any]:
    for name, value, low, high in (("interval", interval, 5, 300), ("timeout", timeout, 2, 120),
                                   ("retries", retries, 1, 10), ("start_period", start_period, 0, 300)):
        if not low <= value <= high:
            raise ValueError(f"health check {name} must be {low}-{high}, got {value}")
    return {"command": ["CMD-SHELL", shell], "interval": interval, "timeout": timeout,
            "retries": retries, "startPeriod": start_period}


def container(name: str, image: str, *, log: Mapping[str, Any], port: int | None = None,
              environment: Mapping[str, str] | None = None,
              secrets: Mapping[str, str] | None = None,
              health_check: Mapping[str, Any] | None = None, user: str | None = "1000:1000",
              read_only: bool = True, writable_paths: Mapping[str, str] | None = None,
              depends_on: Mapping[str, str] | None = None, essential: bool = True,
              command: list[str] | None = None) -> dict[str, Any]:
    """One container definition, hardened by default: non-root user, read-only root filesystem.

    `secrets` maps an environment variable name to a Secrets Manager ARN (optionally
    with ":json-key::"); ECS fetches it with the execution role when the task starts.
    `writable_paths` maps a task volume name to the path it is mounted on, for the
    few directories the app must write to. `depends_on` maps a container name to a
    condition (START, COMPLETE, SUCCESS, HEALTHY).
    """
    if environment:
        leaked = [k for k in environment if SECRET_NAME.search(k)]
        if leaked:
            raise ValueError(f"{', '.join(leaked)} look like secrets: pass them in `secrets` "
                             "(Secrets Manager ARNs), not `environment`.")
    if user is not None and user.split(":")[0] in ("0", "root"):
        raise ValueError("user 0/root gives the app root inside the container; use e.g. '1000:1000'.")
    spec: dict[str, Any] = {"name": name, "image": image, "essential": essential}
    if command:
        spec["command"] = list(command)
    if port is not None:
        spec["portMappings"] = [{"containerPort": port, "protocol": "tcp", "name": f"{name}-{port}"}]
    if environment:
        spec["environment"] = [{"name": k, "value": str(v)} for k, v in environment.items()]
    if secrets:
        spec["secrets"] = [{"name": k, "valueFrom": v} for k, v in secrets.items()]
    if depends_on:
        spec["dependsOn"] = [{"containerName": c, "condition": cond} for c, cond in depends_on.items()]
    if user is not None:
        spec["user"] = user
    spec["readonlyRootFilesystem"] = bool(read_only)
    if writable_paths:
        spec["mountPoints"] = [{"sourceVolume": v, "containerPath": p}
                               for v, p in writable_paths.items()]
    if health_check:
        spec["healthCheck"] = dict(health_check)
    spec["logConfiguration"] = dict(log)
    return spec


def fargate_task(family: str, containers: Iterable[Mapping[str, Any]], *, cpu: int | str,
                 memory: int | str, execution_role_arn: str, task_role_arn: str | None,
                 arch: str = "X86_64", volumes: Iterable[str] = (),
                 tags: list[dict] | None = None) -> dict[str, Any]:
    """RegisterTaskDefinition arguments for a Fargate task (awsvpc, Linux, given CPU architecture).

    Refuses the mistakes lab 03 grades: an invalid cpu/memory pair, and one role for
    both jobs (the execution role serves ECS; the task role serves your code).
    """
    cpu_units, memory_mib = check_size(cpu, memory)
    if arch not in ARCHITECTURES:
        raise ValueError(f"arch is one of {ARCHITECTURES}, got {arch!r}")
    if task_role_arn and task_role_arn == execution_role_arn:
        raise ValueError("Use two roles: the execution role (ECS pulls images, writes logs, reads "
                         "secrets) and a task role (what the app itself may call).")
    spec: dict[str, Any] = {
        "family": family,
        "requiresCompatibilities": ["FARGATE"],
        "networkMode": "awsvpc",
        "cpu": str(cpu_units),
        "memory": str(memory_mib),
        "runtimePlatform": {"cpuArchitecture": arch, "operatingSystemFamily": "LINUX"},
        "executionRoleArn": execution_role_arn,
        "containerDefinitions": [dict(c) for c in containers],
    }
    if task_role_arn:
        spec["taskRoleArn"] = task_role_arn
    if volumes:
        spec["volumes"] = [{"name": v} for v in volumes]
    if tags:
        spec["tags"] = list(tags)
    return spec


# ---------------------------------------------------------------- registering and reading

def matches(wanted: Any, actual: Any) -> bool:
    """True when everything `wanted` says is also in `actual` (ECS adds defaults of its own).

    Dicts match key by key (extra keys in `actual` are fine), lists item by item in
    order, and numbers match their string form ("256" == 256), as ECS echoes cpu.
    """
    if isinstance(wanted, Mapping):
        return isinstance(actual, Mapping) and all(
            matches(v, actual.get(k)) for k, v in wanted.items())
    if isinstance(wanted, (list, tuple)):
        return (isinstance(actual, (list, tuple)) and len(wanted) == len(actual)
                and all(matches(w, a) for w, a in zip(wanted, actual)))
    if isinstance(wanted, bool) or isinstance(actual, bool):
        return wanted is actual or wanted == actual
    if isinstance(wanted, (int, float, str)) and isinstance(actual, (int, float, str)):
        return str(wanted) == str(actual)
    return wanted == actual


def family_of(arn_or_name: str) -> str:
    """'arn:...:task-definition/web:3' or 'web:3' -> 'web'."""
    return arn_or_name.rsplit("/", 1)[-1].split(":")[0]


def revision_of(arn: str) -> int:
    return int(arn.rsplit(":", 1)[-1])


def revision_arns(ecs: Any, family: str, status: str = "ACTIVE") -> list[str]:
    """The family's revision ARNs, oldest first (familyPrefix is a prefix, so filter exactly)."""
    arns: list[str] = []
    for page in ecs.get_paginator("list_task_definitions").paginate(
            familyPrefix=family, status=status):
        arns += [a for a in page["taskDefinitionArns"] if family_of(a) == family]
    return sorted(arns, key=revision_of)


def latest(ecs: Any, family: str) -> dict | None:
    """The newest ACTIVE revision of `family` with its tags (key "tags"), or None.

    Found through the list of ACTIVE revisions rather than by describing the bare family
    name: the embedded AWS answers that with the newest revision even when it is INACTIVE.
    """
    arns = revision_arns(ecs, family)
    if not arns:
        return None
    answer = ecs.describe_task_definition(taskDefinition=arns[-1], include=["TAGS"])
    return dict(answer["taskDefinition"], tags=answer.get("tags", []))


def ensure_registered(ecs: Any, spec: Mapping[str, Any]) -> tuple[dict, bool]:
    """(task definition, newly registered?): reuse an ACTIVE revision that matches `spec`.

    Tags are left out of the comparison: they describe the resource, not the task.
    """
    wanted = {k: v for k, v in spec.items() if k != "tags"}
    for arn in reversed(revision_arns(ecs, spec["family"])):
        described = ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]
        if matches(wanted, described):
            return described, False
    return ecs.register_task_definition(**spec)["taskDefinition"], True


def revisions(ecs: Any, family: str) -> list[dict[str, Any]]:
    """One row per ACTIVE revision, oldest first: what changed between them at a glance."""
    rows = []
    for arn in revision_arns(ecs, family):
        td = ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]
        rows.append({
            "revision": td["revision"], "cpu": td.get("cpu"), "memory": td.get("memory"),
            "arch": (td.get("runtimePlatform") or {}).get("cpuArchitecture", "X86_64"),
            "images": ", ".join(c["image"] for c in td["containerDefinitions"]),
        })
    return rows


def format_rows(rows: list[Mapping[str, Any]]) -> str:
    """A plain-text table (works in any notebook front end, and in grading logs)."""
    if not rows:
        return "(none)"
    keys = list(rows[0])
    widths = {k: max(len(str(k)), *(len(str(r.get(k, ""))) for r in rows)) for k in keys}
    lines = ["  ".join(f"{k:{widths[k]}}" for k in keys)]
    lines += ["  ".join(f"{str(r.get(k, '')):{widths[k]}}" for k in keys) for r in rows]
    return "\n".join(lines)


def plain_secrets(container_definition: Mapping[str, Any],
                  secret_values: Iterable[str] = ()) -> list[str]:
    """Environment variables of a container that carry a secret in plain text.

    A name that looks like a secret, a value equal to a known secret value, or a value
    that is a Secrets Manager or SSM ARN (passed on as text, never resolved) counts:
    anyone who can describe the task definition can read `environment`.
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/specifying-sensitive-data.html
    """
    known = {v for v in secret_values if v}
    found = []
    for item in container_definition.get("environment") or []:
        name, value = item.get("name", ""), item.get("value", "")
        if SECRET_NAME.search(name) or value in known or SECRET_ARN.match(str(value)):
            found.append(name)
    return found


#: Fields DescribeTaskDefinition adds that RegisterTaskDefinition does not take.
DESCRIBED_ONLY = ("taskDefinitionArn", "revision", "status", "requiresAttributes", "compatibilities",
                  "registeredAt", "registeredBy", "deregisteredAt")


def as_spec(described: Mapping[str, Any], tags: list[dict] | None = None) -> dict[str, Any]:
    """RegisterTaskDefinition arguments that reproduce a described revision (a deep copy).

    This is how a deployment pipeline makes the next revision: take the running
    one, change the image, register.
    """
    import copy
    spec = {k: copy.deepcopy(v) for k, v in described.items() if k not in DESCRIBED_ONLY + ("tags",)}
    if tags:
        spec["tags"] = list(tags)
    return spec


def with_image(spec: Mapping[str, Any], container_name: str, image: str) -> dict[str, Any]:
    """A copy of `spec` whose container `container_name` runs `image`."""
    import copy
    out = copy.deepcopy(dict(spec))
    names = [c["name"] for c in out["containerDefinitions"]]
    if container_name not in names:
        raise KeyError(f"No container {container_name!r}; the containers are {', '.join(names)}")
    for c in out["containerDefinitions"]:
        if c["name"] == container_name:
            c["image"] = image
    return out
