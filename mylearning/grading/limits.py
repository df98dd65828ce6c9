"""The explicit limits every submission runs under (one small module: the CLI reads its defaults)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Per-cell and per-notebook time, printed output, memory, and start-up budgets.

    The defaults are generous for the labs on the embedded AWS (a whole lab
    runs in seconds); an instructor tightens them with `mylearning grade`'s
    options. They are part of a grade's configuration key: grades made under
    other limits are not reused.
    """

    cell_timeout: float = 120.0
    notebook_timeout: float = 600.0
    max_output_bytes: int = 10_000_000
    #: Address space a kernel may use (POSIX); a notebook that allocates more gets a
    #: MemoryError in its cell instead of pushing the grader into the OOM killer.
    max_memory_bytes: int = 4 * 1024 ** 3
    #: Processes a submission may run at once (its kernel and everything it starts).
    max_processes: int = 128
    #: Disk a submission may fill in its scratch folder (its only writable place).
    max_disk_bytes: int = 1024 ** 3
    #: How long an interrupted cell gets to stop before the kernel is killed.
    interrupt_grace: float = 3.0
    startup_timeout: float = 60.0
