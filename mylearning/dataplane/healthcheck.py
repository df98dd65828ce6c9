"""Container health checks as ECS runs them, and the task health they add up to.

A container definition's `healthCheck` is a command with four timings.
https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_HealthCheck.html
- interval: 5-300 seconds between checks, default 30;
- timeout: 2-60 seconds for one check to succeed before it counts as a failure, default 5;
- retries: 1-10 consecutive failures before the container is UNHEALTHY, default 3;
- startPeriod: 0-300 seconds of grace, off by default, in which failures do not count;
  "If a health check succeeds within the startPeriod, then the container is considered
  healthy and any subsequent failures count toward the maximum number of retries."
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/healthcheck.html
A container's status is UNKNOWN while its check is being evaluated (or it has none),
HEALTHY once a check passes (exit code 0), UNHEALTHY after `retries` failures in a row.

ECS hands the check to the container runtime, which runs it as Docker's HEALTHCHECK does:
the first check runs one interval after the container starts, the next one interval after
each check ends, and during the start period a failure only counts once a check has passed.
https://docs.docker.com/reference/dockerfile/#healthcheck
("The health check will first run interval seconds after the container is started, and
then again interval seconds after each previous check completes.")

Time scale. The embedded AWS runs waits faster so that labs finish in minutes:
HealthMonitor divides the interval and the start period by `time_scale` (a 30 s interval
at time_scale=10 is 3 s). It never scales the timeout: a timeout measures the real
latency of the application's answer, which is the same whatever the clock speed, so a
slow endpoint fails its check here exactly as it would on AWS.
"""
from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Iterable, Mapping

HEALTHY = "HEALTHY"
UNHEALTHY = "UNHEALTHY"
UNKNOWN = "UNKNOWN"

#: (minimum, maximum, default) of each timing, from API_HealthCheck.html.
BOUNDS: dict[str, tuple[int, int, int]] = {
    "interval": (5, 300, 30),
    "timeout": (2, 60, 5),
    "retries": (1, 10, 3),
    "startPeriod": (0, 300, 0),
}
#: How many results a container keeps, as Docker keeps its last five.
HISTORY = 5


@dataclass(frozen=True)
class HealthCheckConfig:
    command: tuple[str, ...]
    interval: float = 30
    timeout: float = 5
    retries: int = 3
    start_period: float = 0

    @classmethod
    def from_definition(cls, d: Mapping[str, Any]) -> "HealthCheckConfig":
        """A container definition's healthCheck with AWS's defaults; ValueError when AWS
        would refuse it (RegisterTaskDefinition answers ClientException)."""
        command = d.get("command")
        if not isinstance(command, (list, tuple)) or not command or not all(
                isinstance(c, str) for c in command):
            raise ValueError("healthCheck.command must be a non-empty list of strings")
        if command[0] not in ("CMD", "CMD-SHELL"):
            raise ValueError("healthCheck.command must start with CMD or CMD-SHELL "
                             f"(got {command[0]!r})")
        if len(command) < 2:
            raise ValueError(f"healthCheck.command {command[0]} needs a command to run")
        values: dict[str, int] = {}
        for name, (low, high, default) in BOUNDS.items():
            value = d.get(name, default)
            if value is None:
                value = default
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"healthCheck.{name} must be an integer")
            if not low <= value <= high:
                unit = "" if name == "retries" else " seconds"
                raise ValueError(f"healthCheck.{name} must be between {low} and {high}{unit} "
                                 f"(got {value})")
            values[name] = value
        return cls(tuple(command), values["interval"], values["timeout"], values["retries"],
                   values["startPeriod"])


Probe = Callable[[], Awaitable[int]]


class HealthMonitor:
    """Runs a container's health check for as long as it runs (an asyncio task).

    `probe` runs the check command once and returns its exit code (0 is healthy);
    `on_change(status)` is called on each change of status, the first being from UNKNOWN.
    """

    def __init__(self, config: HealthCheckConfig, probe: Probe, on_change: Callable[[str], Any],
                 time_scale: float = 1.0):
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        self.config = config
        self.probe = probe
        self.on_change = on_change
        self.time_scale = time_scale
        self.status = UNKNOWN
        self.failing_streak = 0
        self.results: deque[int] = deque(maxlen=HISTORY)
        self._task: asyncio.Task | None = None

    def start(self) -> asyncio.Task:
        """Start checking (the container has just started); the running task."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self.run(), name="healthcheck")
        return self._task

    async def stop(self) -> None:
        """Stop checking (the container stopped); the status stays as it was."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    async def run(self) -> None:
        started = time.monotonic()
        while True:
            await asyncio.sleep(self.config.interval / self.time_scale)
            check_started = time.monotonic()
            code = await self._check()
            in_start_period = (check_started - started) * self.time_scale < self.config.start_period
            self.record(code, in_start_period)

    async def _check(self) -> int:
        try:
            return await asyncio.wait_for(self.probe(), self.config.timeout)
        except asyncio.TimeoutError:
            return -1  # Docker's ExitCode for "Health check exceeded timeout"
        except asyncio.CancelledError:
            raise
        except Exception:
            return -1

    def record(self, code: int, in_start_period: bool = False) -> None:
        """Apply one check's result (also usable without the loop, e.g. by tests)."""
        self.results.append(code)
        if code == 0:
            self.failing_streak = 0
            self._set(HEALTHY)
            return
        if in_start_period and self.status != HEALTHY:
            return  # grace: failures before the first success in the start period do not count
        self.failing_streak += 1
        if self.failing_streak >= self.config.retries:
            self._set(UNHEALTHY)

    def _set(self, status: str) -> None:
        if status != self.status:
            self.status = status
            self.on_change(status)


def _field(container: Any, *names: str, default: Any = None) -> Any:
    for name in names:
        if isinstance(container, Mapping):
            if name in container:
                return container[name]
        elif hasattr(container, name):
            return getattr(container, name)
    return default


def task_health(containers: Iterable[Any]) -> str:
    """The task's healthStatus from its containers' health, by ECS's rule.

    "Only essential containers that have a health check command in the task definition
    are considered when determining the task health", and then, in order: any such
    container UNHEALTHY makes the task UNHEALTHY; otherwise any UNKNOWN makes it UNKNOWN;
    otherwise (all HEALTHY) it is HEALTHY. With none to consider, it is UNKNOWN.
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/healthcheck.html
    ("How Amazon ECS determines task health")
    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_HealthCheck.html

    Each container is a mapping or object with `essential` (default True, as in a
    container definition), `healthCheck` or `has_health_check` (whether it has a check),
    and `healthStatus` or `health_status`.
    """
    considered = [
        _field(c, "healthStatus", "health_status", default=UNKNOWN) or UNKNOWN
        for c in containers
        if _field(c, "essential", default=True) is not False
        and _field(c, "has_health_check", "healthCheck", "health_check", default=None)
    ]
    if not considered:
        return UNKNOWN
    if UNHEALTHY in considered:
        return UNHEALTHY
    if all(status == HEALTHY for status in considered):
        return HEALTHY
    return UNKNOWN
