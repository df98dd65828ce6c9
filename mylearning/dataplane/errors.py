"""The one way a task fails before its containers start: TaskStartError.

On AWS, what the agent must set up before a container runs (its log stream, its
secrets, its image) either works or stops the task with a `stoppedReason` such as
"ResourceInitializationError: ..." and stop code TaskFailedToStart.
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stopped-task-error-codes.html
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/resource-initialization-error.html
Every preparation step (awslogs, secrets) raises this one type, so the task agent has
one thing to catch and reports `reason` as the task's stoppedReason verbatim.
"""
from __future__ import annotations

#: The stop code ECS gives a task that could not start.
#: https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Task.html (stopCode)
TASK_FAILED_TO_START = "TaskFailedToStart"


class TaskStartError(Exception):
    """A task cannot start; `reason` is exactly its stoppedReason text."""

    def __init__(self, reason: str, *, stop_code: str = TASK_FAILED_TO_START):
        super().__init__(reason)
        self.reason = reason
        self.stop_code = stop_code
