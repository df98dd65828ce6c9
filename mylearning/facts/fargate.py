"""Fargate task sizes and CPU architectures: the published table, and how ECS spells them.

The one copy of these facts in the course. Pure data and arithmetic, no I/O, so the
embedded AWS (which refuses a size as ECS does), the task-definition builders (which
refuse it before ECS would, naming the fix) and the cost model (which prices it) all
read the same table.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Mapping

X86_64 = "X86_64"
ARM64 = "ARM64"
ARCHITECTURES = (X86_64, ARM64)  # the values of runtimePlatform.cpuArchitecture in ECS

_ARCH_ALIASES = {
    "x86_64": X86_64, "x86": X86_64, "amd64": X86_64, "x64": X86_64, "intel": X86_64,
    "arm64": ARM64, "arm": ARM64, "aarch64": ARM64, "graviton": ARM64,
}


def normalize_arch(arch: str) -> str:
    """Return the ECS spelling (X86_64 or ARM64) of an architecture name.

    Learners write "arm", "graviton", "x86"...; ECS accepts only X86_64 and ARM64, so
    everything downstream uses those two.
    """
    key = str(arch).strip().lower()
    if key in _ARCH_ALIASES:
        return _ARCH_ALIASES[key]
    raise ValueError(
        f"Unknown CPU architecture {arch!r}: Fargate runs X86_64 or ARM64 (Graviton)."
    )


# The valid task-level cpu/memory pairs for Fargate (Linux, x86 and ARM), from
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html
# ("Task size") and .../task-cpu-memory-error.html. cpu is in CPU units (1024 = 1 vCPU),
# memory in MiB. 8 and 16 vCPU need Linux platform version 1.4.0 or later.
def _steps(low: int, high: int, step: int) -> tuple[int, ...]:
    return tuple(range(low, high + 1, step))


FARGATE_MEMORY_BY_CPU: Mapping[int, tuple[int, ...]] = MappingProxyType({
    256: (512, 1024, 2048),
    512: _steps(1024, 4096, 1024),
    1024: _steps(2048, 8192, 1024),
    2048: _steps(4096, 16384, 1024),
    4096: _steps(8192, 30720, 1024),
    8192: _steps(16384, 61440, 4096),
    16384: _steps(32768, 122880, 8192),
})


class InvalidTaskSize(ValueError):
    """A cpu/memory pair that Fargate would refuse to run."""


def _describe_memory_options(cpu: int) -> str:
    options = FARGATE_MEMORY_BY_CPU[cpu]
    if len(options) <= 4:
        return ", ".join(str(m) for m in options[:-1]) + f" or {options[-1]} MiB"
    step = options[1] - options[0]
    return f"between {options[0]} and {options[-1]} MiB in steps of {step}"


def _as_int(value: object, what: str) -> int:
    if isinstance(value, bool):
        raise InvalidTaskSize(f"{what} must be a number, not {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise InvalidTaskSize(
        f"{what} must be a whole number ({'CPU units, 1024 = 1 vCPU' if what == 'cpu' else 'MiB'}), "
        f"got {value!r}"
    )


def validate_task_size(cpu: int | str, memory: int | str) -> tuple[int, int]:
    """Check a Fargate cpu/memory pair and return it as integers.

    Raises InvalidTaskSize with the valid choices, so a learner sees how to fix the
    value before ECS answers "Invalid 'cpu' setting for task".
    """
    cpu_units = _as_int(cpu, "cpu")
    memory_mib = _as_int(memory, "memory")
    if cpu_units not in FARGATE_MEMORY_BY_CPU:
        valid = ", ".join(str(c) for c in FARGATE_MEMORY_BY_CPU)
        hint = " (cpu is in CPU units: 1 vCPU = 1024)" if 0 < cpu_units <= 16 else ""
        raise InvalidTaskSize(
            f"Fargate has no task size with cpu={cpu_units}{hint}. Valid cpu values: {valid}."
        )
    if memory_mib not in FARGATE_MEMORY_BY_CPU[cpu_units]:
        hint = " (memory is in MiB: 1 GB = 1024)" if 0 < memory_mib <= 120 else ""
        raise InvalidTaskSize(
            f"Fargate cannot pair cpu={cpu_units} ({cpu_units / 1024:g} vCPU) with "
            f"memory={memory_mib} MiB{hint}. With cpu={cpu_units}, memory must be "
            f"{_describe_memory_options(cpu_units)}."
        )
    return cpu_units, memory_mib


@dataclass(frozen=True, order=True)
class TaskSize:
    """A valid Fargate task size, in the units of the task definition's cpu and memory.

    Construction validates the pair, so a TaskSize that exists can always be registered.
    Build one from ECS units, TaskSize(512, 1024), or from vCPU and GB,
    TaskSize.of(0.5, 1).
    """

    cpu: int
    memory: int

    def __post_init__(self) -> None:
        cpu, memory = validate_task_size(self.cpu, self.memory)
        object.__setattr__(self, "cpu", cpu)
        object.__setattr__(self, "memory", memory)

    @classmethod
    def of(cls, vcpu: float, memory_gb: float) -> "TaskSize":
        """The size with `vcpu` vCPUs and `memory_gb` GB (e.g. TaskSize.of(0.25, 0.5))."""
        return cls(_scaled(vcpu, "vcpu"), _scaled(memory_gb, "memory_gb"))

    @property
    def vcpu(self) -> float:
        return self.cpu / 1024

    @property
    def memory_gb(self) -> float:
        return self.memory / 1024

    @property
    def label(self) -> str:
        return f"{self.vcpu:g} vCPU / {self.memory_gb:g} GB"

    def for_task_definition(self) -> dict[str, str]:
        """The `cpu` and `memory` fields as RegisterTaskDefinition expects them (strings)."""
        return {"cpu": str(self.cpu), "memory": str(self.memory)}

    def __str__(self) -> str:
        return self.label


def _scaled(value: float, what: str) -> int:
    units = float(value) * 1024
    if not units.is_integer():
        raise InvalidTaskSize(f"{what}={value!r} is not a Fargate size")
    return int(units)


def valid_task_sizes() -> list[TaskSize]:
    """Every Fargate task size, smallest first (74 pairs, x86 and ARM alike)."""
    return [TaskSize(cpu, mem) for cpu, mems in FARGATE_MEMORY_BY_CPU.items() for mem in mems]


def memory_options(cpu: int) -> tuple[int, ...]:
    """The memory values (MiB) Fargate allows with `cpu` CPU units."""
    cpu_units = _as_int(cpu, "cpu")
    if cpu_units not in FARGATE_MEMORY_BY_CPU:
        validate_task_size(cpu_units, 0)  # raises with the list of valid cpu values
    return FARGATE_MEMORY_BY_CPU[cpu_units]


# ---------------------------------------------------------------------------
# The forms RegisterTaskDefinition accepts for cpu and memory
# ---------------------------------------------------------------------------
_CPU = re.compile(r"^\s*(\d+(?:\.\d+)?|\.\d+)\s*(vcpu)?\s*$", re.IGNORECASE)
_MEMORY = re.compile(r"^\s*(\d+(?:\.\d+)?|\.\d+)\s*(gb)?\s*$", re.IGNORECASE)


def cpu_units(value: Any) -> int | None:
    """'1024', '1 vCPU', '0.25 vcpu' -> CPU units; None when not a valid form.

    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RegisterTaskDefinition.html
    ("cpu ... expressed as an integer using CPU units (for example, 1024) or as a
    string using vCPUs (for example, 1 vCPU or 1 vcpu)").
    """
    match = _CPU.match(str(value))
    if not match:
        return None
    number, unit = float(match.group(1)), match.group(2)
    units = number * 1024 if unit else number
    return int(units) if units == int(units) else None


def memory_mib(value: Any) -> int | None:
    """'2048', '2GB', '2 GB', '0.5GB' -> MiB; None when not a valid form (same page as cpu)."""
    match = _MEMORY.match(str(value))
    if not match:
        return None
    number, unit = float(match.group(1)), match.group(2)
    mib = number * 1024 if unit else number
    return int(mib) if mib == int(mib) else None
