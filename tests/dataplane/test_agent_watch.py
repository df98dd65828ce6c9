"""The agent's ACS loop on its own: news it could not act on is not lost."""
from __future__ import annotations

import asyncio
import time

from mylearning.dataplane import agent as agent_module
from mylearning.dataplane.agent import TaskAgent


class FlakyControl:
    """ECS whose first ListTasks fails (as a request racing the scheduler once did); its
    ACS announces one change, then holds every later poll for its full wait."""

    def __init__(self) -> None:
        self.polls: list[float] = []
        self.listed = 0

    def poll(self, since: int, wait: float) -> dict:
        self.polls.append(wait)
        if since < 1:
            return {"version": 1, "regions": ["us-east-1"], "clusters": [["us-east-1", "c"]]}
        time.sleep(min(wait, 0.05))  # stands for a poll held open for `wait` (kept short)
        return {"version": 1, "regions": ["us-east-1"]}

    async def call(self, service: str, region: str, operation: str, **params) -> dict:
        if operation == "list_clusters":  # a full look
            return {"clusterArns": ["arn:aws:ecs:us-east-1:123456789012:cluster/c"]}
        assert operation == "list_tasks", operation
        self.listed += 1
        if self.listed == 1:
            raise RuntimeError("dictionary changed size during iteration")
        return {"taskArns": []}


def _watch(agent: TaskAgent, seconds: float) -> None:
    async def run() -> None:
        task = asyncio.create_task(agent.watch())
        await asyncio.sleep(seconds)
        task.cancel()

    asyncio.run(run())


def test_a_look_that_failed_is_repeated_soon_not_at_the_next_poll_timeout():
    control = FlakyControl()
    _watch(TaskAgent(control, addresses=None, scratch=None), 0.3)
    assert control.listed >= 2, "the cluster that changed was never listed again"
    # The poll after the failed look waits only RETRY_SECONDS; once caught up, the usual 20 s.
    assert control.polls[1] == agent_module.RETRY_SECONDS
    assert control.polls[-1] == 20.0


def test_a_crash_while_reconciling_does_not_stop_the_agent(monkeypatch):
    control = FlakyControl()
    calls = []

    async def broken(regions, clusters=None):
        calls.append(clusters)
        if len(calls) == 1:
            raise KeyError("taskDefinitionArn")
        return True

    agent = TaskAgent(control, addresses=None, scratch=None)
    monkeypatch.setattr(agent, "reconcile", broken)
    _watch(agent, 0.3)
    assert len(calls) >= 2 and calls[1] is None, calls  # looked again, everywhere
