"""Why a task could not start, in the words ECS uses for it."""
from __future__ import annotations


class TaskStartError(Exception):
    """A task that cannot start; `reason` is its stoppedReason, exactly as ECS words it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
