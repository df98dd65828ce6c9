"""Shared by the ECS modules: AWS-style errors and lazy access to moto's ECS and EC2 state."""
from __future__ import annotations

from typing import Any

from mylearning.emulator.fidelity.core import AwsError, moto_backend

SERVICE = "ecs"
FARGATE_PROVIDERS = ("FARGATE", "FARGATE_SPOT")


def client_error(message: str) -> AwsError:
    return AwsError("ClientException", message, 400)


def invalid_parameter(message: str) -> AwsError:
    return AwsError("InvalidParameterException", message, 400)


# ---------------------------------------------------------------- moto access

def _backend(region: str) -> Any:
    return moto_backend("ecs", region)


def _ec2(region: str) -> Any:
    return moto_backend("ec2", region)


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
