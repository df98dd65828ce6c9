"""The agent's metrics loop: sample what the tasks use, publish it as ECS would.

Every second each running task's processes are sampled (CPU time; private memory, as a
cgroup would charge a container, see `containers.private_memory`), and every
`publish_interval()` seconds `metrics.MetricsPublisher` sends `AWS/ECS` and, where the
cluster's ``containerInsights`` setting is on, `ECS/ContainerInsights` to CloudWatch.

The interval follows the embedded clock (`mylearning.facts.clock`): CloudWatch alarms there
read a period of P seconds from windows of P / scale real seconds, so a one-minute alarm (a
target tracking alarm's period) reads 6 s windows at the default scale 10. Publishing at least
twice per scaled minute, and never more than every `PERIOD` seconds apart, keeps every such
window supplied: 10 s at scale 1 to 6, 3 s at scale 10, one sample (1 s) from scale 60 on. Whether
Container Insights is on is read from the cluster
(https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ClusterSetting.html) and
kept for `SETTINGS_TTL` seconds.
"""
from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING, Iterable

from mylearning.dataplane import metrics
from mylearning.dataplane.containers import private_memory
from mylearning.facts import clock

if TYPE_CHECKING:
    from mylearning.dataplane.agent import TaskAgent

PERIOD = 10.0
SAMPLE_EVERY = 1.0
SETTINGS_TTL = 10.0


def publish_interval() -> float:
    """Real seconds between publications: at most `PERIOD`, at least twice a scaled minute."""
    return max(SAMPLE_EVERY, min(PERIOD, clock.wait(60) / 2))


def _usage(pids: Iterable[int]) -> metrics.Usage:
    pids = list(pids)
    cpu = metrics.sample(pids).cpu_seconds
    return metrics.Usage(cpu, sum(private_memory(pid) for pid in pids))


class Telemetry:
    def __init__(self, agent: "TaskAgent", period: float | None = None) -> None:
        self.agent = agent
        self._settings: dict[tuple[str, str], tuple[float, bool]] = {}
        self.publisher = metrics.MetricsPublisher(
            lambda region: agent.control.client("cloudwatch", region), self._insights,
            period=publish_interval() if period is None else period, sampler=_usage)
        self.published = 0

    def _insights(self, region: str, cluster: str) -> bool:
        cached = self._settings.get((region, cluster))
        if cached and cached[0] > time.monotonic():
            return cached[1]
        on = False
        with contextlib.suppress(Exception):
            answer = self.agent.control.client("ecs", region).describe_clusters(
                clusters=[cluster], include=["SETTINGS"])
            for found in answer.get("clusters", []):
                on = any(s.get("name") == "containerInsights" and s.get("value") in ("enabled", "enhanced")
                         for s in found.get("settings") or [])
        self._settings[(region, cluster)] = (time.monotonic() + SETTINGS_TTL, on)
        return on

    def running(self) -> list[metrics.RunningTask]:
        from mylearning.facts.fargate import cpu_units, memory_mib

        found = []
        for runner in list(self.agent.runners.values()):
            pids = runner.pids()
            if not pids or not runner.reported_running:
                continue
            group = runner.task.get("group") or ""
            found.append(metrics.RunningTask(
                region=runner.region, cluster=runner.cluster.rsplit("/", 1)[-1],
                service=group.split(":", 1)[1] if group.startswith("service:") else None,
                family=runner.definition.get("family", ""), task_id=runner.id, task_arn=runner.arn,
                cpu_units=int(cpu_units(runner.definition.get("cpu") or 0) or 0),
                memory_mib=int(memory_mib(runner.definition.get("memory") or 0) or 0),
                container_pids=pids, started=runner.started_wall or time.time()))
        return found

    async def counts(self) -> dict:
        """(desired, running, pending) of each service that has tasks on this data plane."""
        wanted: dict[tuple[str, str], set[str]] = {}
        for task in self.running():
            if task.service:
                wanted.setdefault((task.region, task.cluster), set()).add(task.service)
        result = {}
        for (region, cluster), names in wanted.items():
            names_list = sorted(names)
            for start in range(0, len(names_list), 10):
                with contextlib.suppress(Exception):
                    answer = await self.agent.control.call("ecs", region, "describe_services",
                                                           cluster=cluster, services=names_list[start:start + 10])
                    for s in answer.get("services", []):
                        result[(region, cluster, s["serviceName"])] = (
                            s.get("desiredCount", 0), s.get("runningCount", 0), s.get("pendingCount", 0))
        return result

    async def run(self) -> None:
        elapsed = 0.0
        while True:
            await asyncio.sleep(SAMPLE_EVERY)
            with contextlib.suppress(Exception):
                tasks = self.running()
                await asyncio.to_thread(self.publisher.record, tasks)
            elapsed += SAMPLE_EVERY
            if elapsed >= self.publisher.period:
                elapsed = 0.0
                try:
                    self.published += await self.publisher.publish(await self.counts())
                except Exception as exc:
                    self.agent.log(f"publishing metrics failed: {exc}")
