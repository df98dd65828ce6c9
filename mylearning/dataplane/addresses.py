"""Loopback addresses standing for task ENIs' private IPs.

Linux routes all of 127.0.0.0/8 to the loopback interface, so every task can have an
address of its own and its containers can listen on the task definition's ports, as in
awsvpc mode where each task has its own ENI
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-networking-awsvpc.html).

Several emulators may run on one machine (a learner's, test workers', grading workers'),
each with a data plane. Each data plane claims a block 127.B.0.0/16 (B from 128 to 254) by
holding an exclusive lock on a file named for it; the lock goes when the process goes,
however it ends, so a crashed data plane never keeps its block. 127.0.0.0/9 is left
alone: 127.0.0.1 and the addresses tools use, and the unit tests' own task addresses.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

FIRST_BLOCK, LAST_BLOCK = 128, 254


def _lock_dir() -> Path:
    path = Path(tempfile.gettempdir()) / f"mylearning-loopback-{os.getuid() if hasattr(os, 'getuid') else 0}"
    path.mkdir(mode=0o700, exist_ok=True)
    return path


def claim_block(preferred: int | None = None) -> tuple[int, int]:
    """(block, fd): a /16 block no other running data plane holds; keep fd open to keep it."""
    import fcntl

    order = list(range(FIRST_BLOCK, LAST_BLOCK + 1))
    if preferred is not None:
        start = FIRST_BLOCK + preferred % len(order)
        order = order[start - FIRST_BLOCK:] + order[:start - FIRST_BLOCK]
    for block in order:
        fd = os.open(_lock_dir() / f"block-{block}.lock", os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        return block, fd
    raise RuntimeError(f"every loopback block 127.{FIRST_BLOCK}-{LAST_BLOCK}.0.0/16 is held by a "
                       "running data plane")


class AddressPool:
    """The task addresses of one data plane: 127.B.x.y, handed out and given back."""

    def __init__(self, block: int) -> None:
        if not FIRST_BLOCK <= block <= LAST_BLOCK:
            raise ValueError(f"block must be {FIRST_BLOCK}-{LAST_BLOCK}, not {block}")
        self.block = block
        self.prefix = f"127.{block}."
        self._next = 1  # 127.B.0.1 upwards; x.0 and x.255 are skipped
        self._free: list[int] = []
        self._used: dict[str, str] = {}  # address -> owner (task ARN)

    @staticmethod
    def _address(n: int) -> str:
        return f"{n // 254}.{n % 254 + 1}"

    def take(self, owner: str) -> str:
        if self._free:
            n = self._free.pop(0)
        elif self._next < 254 * 256:
            n, self._next = self._next, self._next + 1
        else:
            raise RuntimeError(f"no free loopback address left in {self.prefix}0.0/16")
        address = self.prefix + self._address(n)
        self._used[address] = owner
        return address

    def give_back(self, address: str) -> None:
        if self._used.pop(address, None) is not None:
            high, low = (int(x) for x in address.split(".")[2:])
            self._free.append(high * 254 + low - 1)

    def owns(self, address: str) -> bool:
        return address in self._used

    @property
    def cidr(self) -> str:
        return f"{self.prefix}0.0/16"
