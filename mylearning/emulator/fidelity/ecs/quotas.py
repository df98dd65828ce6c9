"""Fargate's concurrent vCPU quotas, as a new account has them.

An account may run only so many Fargate vCPUs at once in a Region, counted separately for
On-Demand and Spot ("Fargate On-Demand vCPU resource count", "Fargate Spot vCPU resource
count": https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-quotas.html and
https://aws.amazon.com/blogs/containers/migrating-fargate-service-quotas-to-vcpu-based-quotas/).
A task counts with its task-level ``cpu`` from provisioning until it is stopped. When a
service cannot start a task within the quota it starts what fits and says, in its events,
"was unable to place a task. Reason: You've reached the limit on the number of vCPUs you
can run concurrently" (the message AWS gives; service-event-messages-list.html); it tries
again whenever the service settles.

"New AWS accounts might have initial lower quotas that can increase over time" (the quotas
page): the embedded AWS is such an account, with `DEFAULT_VCPUS` of each kind, enough for
every lab with room to spare and few enough that a scaling policy or a scheduled action
with a production-sized minimum cannot start hundreds of task processes on the learner's
machine. ``MYLEARNING_FARGATE_VCPU_QUOTA`` changes it (vCPUs of each kind).
"""
from __future__ import annotations

import os
from typing import Any

DEFAULT_VCPUS = 16
MESSAGE = ("was unable to place a task. Reason: You've reached the limit on the number of vCPUs "
           "you can run concurrently. For more information, see the Troubleshooting section.")


def limit() -> float:
    try:
        return max(0.0, float(os.environ.get("MYLEARNING_FARGATE_VCPU_QUOTA", DEFAULT_VCPUS)))
    except ValueError:
        return float(DEFAULT_VCPUS)


def _is_spot(task: Any) -> bool:
    return getattr(task, "capacity_provider_name", None) == "FARGATE_SPOT"


def _on_fargate(task: Any) -> bool:
    provider = getattr(task, "capacity_provider_name", None)
    return provider in ("FARGATE", "FARGATE_SPOT") or (not provider and getattr(task, "launch_type", "") == "FARGATE")


def vcpus(backend: Any, task_definition_arn: str) -> float:
    try:
        cpu = backend.describe_task_definition(task_definition_arn).cpu
        return int(cpu) / 1024 if cpu else 0.25
    except Exception:
        return 0.25


def in_use(backend: Any, spot: bool) -> float:
    """vCPUs of the Region's Fargate tasks of one kind that are not stopped."""
    total = 0.0
    for tasks in backend.tasks.values():
        for task in tasks.values():
            if task.last_status != "STOPPED" and _on_fargate(task) and _is_spot(task) == spot:
                total += vcpus(backend, task.task_definition_arn)
    return total


class Budget:
    """What is left of both quotas while one placement decides its tasks."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend
        self.left = {spot: limit() - in_use(backend, spot) for spot in (False, True)}

    def take(self, provider: str | None, launch_type: str, cpu: float) -> bool:
        if provider not in ("FARGATE", "FARGATE_SPOT") and not (not provider and launch_type == "FARGATE"):
            return True  # EC2 capacity is the instances', not a Fargate quota
        spot = provider == "FARGATE_SPOT"
        if self.left[spot] + 1e-9 < cpu:
            return False
        self.left[spot] -= cpu
        return True
