"""The busybox image's program: the container's command, run by the data plane's shell.

`docker/library/busybox` is the course's utility image: one-off commands, sidecars that
wait or poll (`sh -c "while true; do wget -q -O - http://localhost:8080/health; sleep 5; done"`)
and scratch work on a volume. Its ENTRYPOINT is empty and its CMD is `sh`, so the task
definition's `command` (after any `entryPoint`) is what runs.
https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html
(entryPoint, command)
The shell is mylearning.dataplane.shell (no program is ever started); output streams to
stdout as it comes, which the runtime has made the container's log; the shell's exit
status is the container's exit code.

Differences from a real busybox container: as PID 1 a real `sh` ignores SIGTERM, so ECS
stops it only with SIGKILL after stopTimeout (exit code 137); here SIGTERM ends the
process at once (143) unless the runtime decides otherwise.
"""
from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from mylearning.dataplane import shell

DEFAULT_COMMAND = ["sh"]


def _argv(container: Any) -> list[str]:
    argv = getattr(container, "argv", None)
    if argv:
        return list(argv)
    entry = list(getattr(container, "entry_point", None) or [])
    command = list(getattr(container, "command", None) or [])
    return entry + command or list(DEFAULT_COMMAND)


def _write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def main(container: Any) -> int:
    """Run the container's command; its exit code (0-255)."""
    env = getattr(container, "env", None)
    if env is None:
        env = getattr(container, "environment", None) or {}
    root = getattr(container, "root", None)
    mounts = {target: Path(host) for target, host in (getattr(container, "mounts", None) or {}).items()}
    result = asyncio.run(shell.run(
        _argv(container), env=dict(env), address=getattr(container, "address", None) or "127.0.0.1",
        root=Path(root) if root else None, readonly_root=bool(getattr(container, "readonly_root", False)),
        mounts=mounts, proxy=getattr(container, "proxy", None), stdout=_write))
    return result.exit_code & 0xFF
