"""Tasks that run: start one, watch it through its lifecycle, read its logs, find its address.

A task moves PROVISIONING -> PENDING -> (ACTIVATING) -> RUNNING, and on its way out
DEACTIVATING -> STOPPING -> STOPPED with a stop code and reason that say why
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-lifecycle-explanation.html,
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stopped-task-error-codes.html).
These helpers show that as it happens, the way `aws ecs describe-tasks` and the console
do, from the ECS and CloudWatch Logs APIs only, so they work on the embedded AWS and on a
real account alike.
"""
from __future__ import annotations

import time
from typing import Any, Callable, Iterable

from mylearning.facts.ecs import task_private_ip

#: Where a task's life ends; a watch stops when every task reached one of `until`.
FINAL = "STOPPED"


def private_ip(task: dict) -> str | None:
    """The task's ENI address (awsvpc), as describe_tasks reports it."""
    return task_private_ip(task)


def task_id(task: dict | str) -> str:
    arn = task if isinstance(task, str) else task["taskArn"]
    return arn.rsplit("/", 1)[-1]


def run_once(session: Any, cluster: str, family: str, *, subnets: list[str],
             security_groups: list[str], started_by: str, tags: list[dict] | None = None) -> dict:
    """Run one Fargate task of `family` in private subnets (no public IP)."""
    ecs = session.client("ecs")
    params: dict[str, Any] = dict(
        cluster=cluster, taskDefinition=family, count=1, launchType="FARGATE",
        startedBy=started_by[:128],
        networkConfiguration={"awsvpcConfiguration": {
            "subnets": subnets, "securityGroups": security_groups, "assignPublicIp": "DISABLED"}})
    if tags:  # the course's tags, so its teardown may stop the task
        params.update(tags=tags, enableECSManagedTags=True)
    answer = ecs.run_task(**params)
    if answer.get("failures"):
        failure = answer["failures"][0]
        raise RuntimeError(f"RunTask placed nothing: {failure.get('reason')} {failure.get('detail', '')}")
    return answer["tasks"][0]


def running_by(session: Any, cluster: str, started_by: str) -> dict[str, dict]:
    """Tasks not yet stopped that `started_by` started, by task definition family."""
    ecs = session.client("ecs")
    arns = ecs.list_tasks(cluster=cluster, startedBy=started_by[:128], desiredStatus="RUNNING").get("taskArns", [])
    found = {}
    for task in describe(session, cluster, arns):
        family = task.get("taskDefinitionArn", "").rsplit("/", 1)[-1].split(":")[0]
        found[family] = task
    return found


def describe(session: Any, cluster: str, arns: Iterable[str]) -> list[dict]:
    return describe_client(session.client("ecs"), cluster, arns)


def describe_client(ecs: Any, cluster: str, arns: Iterable[str]) -> list[dict]:
    """describe_tasks in batches of 100 (its limit), in the order given."""
    arns = list(arns)
    found: list[dict] = []
    for start in range(0, len(arns), 100):
        found += ecs.describe_tasks(cluster=cluster, tasks=arns[start:start + 100])["tasks"]
    return found


def row(task: dict) -> str:
    """One line: id, family, status, health, containers and, once stopped, why."""
    family = task.get("taskDefinitionArn", "").rsplit("/", 1)[-1]
    containers = " ".join(
        f"{c['name']}={c.get('lastStatus')}"
        + (f"({c['exitCode']})" if c.get("exitCode") is not None else "")
        + (f"[{c['healthStatus']}]" if c.get("healthStatus") not in (None, "UNKNOWN") else "")
        for c in task.get("containers", []))
    line = (f"{task_id(task)[:8]} {family:28} {task.get('lastStatus', ''):12} "
            f"health={task.get('healthStatus', 'UNKNOWN'):9} {containers}")
    if task.get("lastStatus") == FINAL:
        line += f"  stopCode={task.get('stopCode')} reason={task.get('stoppedReason')!r}"
    return line


def watch(session: Any, cluster: str, arns: Iterable[str], *, until: Iterable[str] = ("RUNNING",),
          health: bool = False, timeout: float = 300, delay: float = 0.25,
          out: Callable[[str], None] = print) -> list[dict]:
    """Print each change of the tasks' states until every one reached a state in `until`
    (and, with `health`, its health check has given a verdict: HEALTHY or UNHEALTHY) or
    STOPPED; returns the last descriptions. Use `health` only for tasks with a health check."""
    arns = list(arns)
    wanted = set(until)
    seen: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    t0 = time.monotonic()
    while True:
        tasks = describe(session, cluster, arns)
        for task in tasks:
            line = row(task)
            if seen.get(task["taskArn"]) != line:
                seen[task["taskArn"]] = line
                out(f"{time.monotonic() - t0:6.2f}s  {line}")

        def arrived(task: dict) -> bool:
            if task.get("lastStatus") == FINAL:
                return True
            return task.get("lastStatus") in wanted and (
                not health or task.get("healthStatus") in ("HEALTHY", "UNHEALTHY"))

        if tasks and all(arrived(t) for t in tasks):
            return tasks
        if time.monotonic() > deadline:
            raise TimeoutError(f"tasks still on their way after {timeout:.0f} s: "
                               + ", ".join(f"{task_id(t)[:8]}={t.get('lastStatus')}" for t in tasks))
        time.sleep(delay)


def stop(session: Any, cluster: str, arns: Iterable[str], reason: str) -> None:
    ecs = session.client("ecs")
    for arn in arns:
        ecs.stop_task(cluster=cluster, task=arn, reason=reason[:255])


def log_stream(prefix: str, container: str, task: dict | str) -> str:
    """The awslogs stream of a container: prefix/container-name/task-id.

    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html
    """
    return f"{prefix}/{container}/{task_id(task)}"


def log_lines(session: Any, group: str, stream: str, limit: int = 20) -> list[str]:
    """The last `limit` lines a container wrote (empty while nothing arrived)."""
    logs = session.client("logs")
    try:
        events = logs.get_log_events(logGroupName=group, logStreamName=stream, limit=limit,
                                     startFromHead=False)["events"]
    except logs.exceptions.ResourceNotFoundException:
        return []
    return [e["message"] for e in events]
