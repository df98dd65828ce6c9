"""The knobs a lab turns on a course image: faults it injects into a running service.

They come from the task definition's `environment` (as any twelve-factor setting does)
and, on the HTTP images, live from `POST /_mylearning/knobs`, so a lab can break a task
that is already serving and watch ECS and the load balancer react. Memory growth really
allocates and touches pages, so RSS grows and the agent's memory limit really trips
(as a container's hard `memory` limit does on ECS: the container is killed, exit 137).
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#container_definition_memory
"""
from __future__ import annotations

import os
import random
import sys
import threading
import time
from dataclasses import asdict, dataclass, fields
from typing import Any, Callable, Mapping

_TRUE = {"1", "true", "yes", "on"}


class KnobError(ValueError):
    """A knob value a lab sent that the image refuses (answered 400, or fails the start)."""


@dataclass
class Knobs:
    error_rate: float = 0.0  # share of API requests answered 500
    latency_ms: float = 0.0  # added to every API request
    memory_growth_mb_per_s: float = 0.0
    crash_after_seconds: float = 0.0  # 0: never
    exit_code: int = 1  # the exit code of that crash
    health: str = "ok"  # "fail" makes /health answer 503
    unhealthy_after_seconds: float = 0.0  # 0: never
    ignore_sigterm: bool = False
    random_seed: int | None = None  # makes error injection reproducible

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "Knobs":
        knobs = cls()
        knobs.update({f.name: env[f.name.upper()] for f in fields(cls) if f.name.upper() in env})
        return knobs

    def update(self, values: Mapping[str, Any]) -> list[str]:
        """Set knobs from env-style or snake_case names; refuse unknown names and bad values."""
        changed = []
        names = {f.name: f for f in fields(self)}
        for key, raw in values.items():
            name = str(key).lower()
            if name not in names:
                raise KnobError(f"unknown knob {key!r}; knobs: {', '.join(n.upper() for n in names)}")
            setattr(self, name, _convert(name, raw))
            changed.append(name)
        return changed

    def as_dict(self) -> dict[str, Any]:
        return {k.upper(): v for k, v in asdict(self).items()}


def _convert(name: str, raw: Any) -> Any:
    try:
        if name in ("ignore_sigterm",):
            return raw if isinstance(raw, bool) else str(raw).strip().lower() in _TRUE
        if name == "health":
            value = str(raw).strip().lower()
            if value not in ("ok", "fail"):
                raise KnobError("HEALTH must be ok or fail")
            return value
        if name in ("exit_code",):
            value = int(raw)
            if not 0 <= value <= 255:
                raise KnobError("EXIT_CODE must be 0..255")
            return value
        if name == "random_seed":
            return None if raw in (None, "") else int(raw)
        value = float(raw)
    except (TypeError, ValueError) as exc:
        if isinstance(exc, KnobError):
            raise
        raise KnobError(f"{name.upper()}={raw!r} is not a valid value") from exc
    if value < 0 or (name == "error_rate" and value > 1):
        raise KnobError(f"{name.upper()} must be {'between 0 and 1' if name == 'error_rate' else '>= 0'}")
    return value


def rng(knobs: Knobs) -> random.Random:
    """One random source per container; seeded by RANDOM_SEED so a test can replay it."""
    return random.Random(knobs.random_seed)


class MemoryGrowth(threading.Thread):
    """Allocate MEMORY_GROWTH_MB_PER_S and touch every page, as a leak does.

    Untouched allocations stay virtual; writing one byte per 4 KiB page makes the kernel
    back them, so RSS (what cgroups and the agent measure) really grows.
    """

    STEP_SECONDS = 0.1

    def __init__(self, knobs: Knobs) -> None:
        super().__init__(name="memory-growth", daemon=True)
        self.knobs = knobs
        self.held: list[bytearray] = []

    def run(self) -> None:
        while True:
            rate = self.knobs.memory_growth_mb_per_s
            if rate > 0:
                block = bytearray(int(rate * self.STEP_SECONDS * 1024 * 1024))
                for offset in range(0, len(block), 4096):
                    block[offset] = 1
                self.held.append(block)
            time.sleep(self.STEP_SECONDS)


class CrashTimer(threading.Thread):
    """Exit abruptly with EXIT_CODE after CRASH_AFTER_SECONDS: the bug that kills a task."""

    def __init__(self, knobs: Knobs, started: float, log: Callable[..., None]) -> None:
        super().__init__(name="crash-timer", daemon=True)
        self.knobs, self.started, self.log = knobs, started, log

    def run(self) -> None:
        while True:
            after = self.knobs.crash_after_seconds
            if after > 0 and time.monotonic() - self.started >= after:
                self.log("fatal error: crashing", "ERROR", exit_code=self.knobs.exit_code,
                         crash_after_seconds=after)
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(self.knobs.exit_code)
            time.sleep(0.05)


def start_background(knobs: Knobs, started: float, log: Callable[..., None]) -> None:
    """Start the threads that make memory growth and crashes happen, live-adjustable."""
    MemoryGrowth(knobs).start()
    CrashTimer(knobs, started, log).start()
