"""ECS services and their rolling deployments: find them, watch them, reason about them.

A rolling update replaces tasks of the old revision with tasks of the new one,
within two bounds from the service's deploymentConfiguration:
minimumHealthyPercent (how many must stay running) and maximumPercent (how many
may run at once). The deployment circuit breaker stops a rollout whose tasks
keep failing and, with rollback on, returns to the last completed deployment.
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-ecs.html
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-circuit-breaker.html
"""
from __future__ import annotations

import math
import time
from typing import Any, Callable


def rolling_bounds(desired: int, minimum_healthy_percent: int, maximum_percent: int) -> tuple[int, int]:
    """(fewest running, most running) tasks during a rolling update of `desired` tasks.

    ECS rounds the lower limit up and the upper limit down (deployment-type-ecs.html).
    """
    if desired < 0 or minimum_healthy_percent < 0 or maximum_percent < minimum_healthy_percent:
        raise ValueError("need desired >= 0 and 0 <= minimumHealthyPercent <= maximumPercent")
    low = math.ceil(desired * minimum_healthy_percent / 100 - 1e-9)
    high = math.floor(desired * maximum_percent / 100 + 1e-9)
    return low, high


def short_revision(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def deployment_rows(service: dict) -> list[dict]:
    return [{"status": d.get("status"), "rollout": d.get("rolloutState", ""),
             "revision": short_revision(d.get("taskDefinition", "")),
             "desired": d.get("desiredCount"), "running": d.get("runningCount"),
             "pending": d.get("pendingCount"), "failed": d.get("failedTasks", 0)}
            for d in service.get("deployments", [])]


def event_lines(service: dict, limit: int = 8) -> list[str]:
    """The newest events, oldest first, as 'HH:MM:SS message'."""
    items = list(service.get("events", []))[:limit]
    lines = []
    for event in reversed(items):
        when = event.get("createdAt")
        stamp = when.strftime("%H:%M:%S") if hasattr(when, "strftime") else str(when)[11:19]
        lines.append(f"{stamp} {event.get('message', '')}")
    return lines


def _task_lines(ecs: Any, cluster: str, name: str) -> dict[str, str]:
    """Each task of the service that ECS still wants running: one line (see `tasks.row`)."""
    from mylearning import tasks

    arns = ecs.list_tasks(cluster=cluster, serviceName=name, desiredStatus="RUNNING").get("taskArns", [])
    return {t["taskArn"]: tasks.row(t) for t in tasks.describe_client(ecs, cluster, arns)}


def wait_steady(session: Any, cluster: str, name: str, timeout: float = 600, delay: float = 1.0) -> dict | None:
    """Wait, quietly, until the service's only deployment is COMPLETED: its tasks run and
    have stayed healthy (their container health checks and their load balancer targets),
    the "steady state" of its events. The ``services_stable`` waiter asks less: that the
    tasks run. Returns the service (None if it does not exist)."""
    import time

    ecs = session.client("ecs")
    deadline = time.monotonic() + timeout
    while True:
        found = ecs.describe_services(cluster=cluster, services=[name])["services"]
        service = found[0] if found and found[0].get("status") == "ACTIVE" else None
        current = (service or {}).get("deployments", [])
        if service is None or (len(current) == 1 and current[0].get("rolloutState") == "COMPLETED") \
                or time.monotonic() >= deadline:
            return service
        time.sleep(delay)


def watch(session: Any, cluster: str, name: str, *, timeout: float = 1800, delay: float = 15,
          out: Callable[[str], None] = print, show_tasks: bool = True) -> dict:
    """Print the deployments, new events and (with `show_tasks`) each task's changes until the
    newest deployment completes or fails.

    Returns the last description. On real AWS a rollout takes minutes (start tasks, pass
    health checks, drain the old ones); the embedded AWS runs it for real too, with its
    waits scaled (`mylearning.facts.clock`).
    """
    ecs = session.client("ecs")
    seen: set[str] = set()
    shown: dict[str, str] = {}
    last_summary = ""
    deadline = time.monotonic() + timeout
    t0 = time.monotonic()
    while True:
        service = ecs.describe_services(cluster=cluster, services=[name])["services"][0]
        primary = next((d for d in service["deployments"] if d["status"] == "PRIMARY"), {})
        since = primary.get("createdAt")
        for event in reversed(service.get("events", [])[:50]):
            if event["id"] in seen or (since is not None and event["createdAt"] < since):
                continue
            seen.add(event["id"])
            out(f"{time.monotonic() - t0:6.1f}s event: {event['message']}")
        if show_tasks:
            lines = _task_lines(ecs, cluster, name)
            for arn, line in lines.items():
                if shown.get(arn) != line:
                    out(f"{time.monotonic() - t0:6.1f}s task  {line}")
            for arn in set(shown) - set(lines):
                out(f"{time.monotonic() - t0:6.1f}s task  {arn.rsplit('/', 1)[-1][:8]} no longer wanted: stopping")
            shown = lines
        state = primary.get("rolloutState")
        summary = (f"{len(service['deployments'])} deployment(s); PRIMARY "
                   f"{short_revision(primary.get('taskDefinition', ''))} {state}: "
                   f"{primary.get('runningCount')}/{primary.get('desiredCount')} running")
        if summary != last_summary:
            out(f"{time.monotonic() - t0:6.1f}s {summary}")
            last_summary = summary
        if state == "FAILED" or (state == "COMPLETED" and len(service["deployments"]) == 1):
            return service
        if time.monotonic() > deadline:
            raise TimeoutError(f"{name} is still deploying after {timeout:.0f} s")
        time.sleep(delay)
