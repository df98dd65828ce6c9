"""ECS telemetry from what the tasks' processes really use, published to CloudWatch.

The course's checks and Application Auto Scaling read behaviour from CloudWatch (DESIGN.md,
interface 5), so the numbers must come from real usage: each container is an OS process,
and psutil measures its CPU time and resident memory (children included). The publisher
turns those samples into the metrics ECS publishes, through CloudWatch's API only.

Definitions followed:

* ``AWS/ECS`` ``CPUUtilization`` / ``MemoryUtilization`` with ``ClusterName, ServiceName``:
  the CPU units (memory MiB) used by the service's tasks, as a percentage of what the task
  definition reserves, "Average" being total used x 100 / (reserved x number of tasks) and
  Minimum/Maximum the least and most loaded task --
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service_utilization.html.
  Each period publishes one statistic set whose samples are the tasks (one value per
  task, averaged over the period), so Average, Minimum, Maximum and SampleCount mean what
  that page says. 1 vCPU is 1024 CPU units
  (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#task_size).
* ``AWS/ECS`` with ``ClusterName`` alone measures against the CPU and memory *registered by
  container instances* and exists only for EC2 capacity --
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/cluster_utilization.html.
  The data plane has no container instances unless told otherwise, so it is published only
  for clusters for which ``cluster_capacity`` answers (CPU units, MiB) registered.
* ``ECS/ContainerInsights``, only for clusters with Container Insights enabled --
  https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Container-Insights-metrics-ECS.html:
  ``CpuUtilized``/``CpuReserved`` (CPU units, Unit None), ``MemoryUtilized``/
  ``MemoryReserved`` (Unit Megabytes), each with ``ClusterName``, ``ClusterName,
  ServiceName`` and ``ClusterName, TaskDefinitionFamily`` (one sample per task, so Sum is the
  resource's total and Average the per-task mean); ``RunningTaskCount``,
  ``PendingTaskCount``, ``DesiredTaskCount`` (``ClusterName, ServiceName``, Count);
  ``TaskCount`` and ``ServiceCount`` (``ClusterName``, Count). CPU and memory metrics are
  collected "only for tasks that have a defined CPU [memory] reservation", so a task with
  0 reserved is left out of them.
* Metrics exist only for resources with tasks RUNNING in the period
  (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/available-metrics.html):
  a service with no running task publishes nothing.

Not published, and why: ``NetworkRxBytes``/``NetworkTxBytes`` (the OS keeps no per-process
byte counts on loopback; the edge and load balancers could count them later),
``StorageReadBytes``/``StorageWriteBytes``, ``DeploymentCount``, ``TaskSetCount``,
``ContainerInstanceCount``, ``EphemeralStorage*`` (nothing here measures or knows them yet).

Where it differs from AWS, on purpose: AWS aggregates to one-minute data points; the data
plane publishes every ``period`` seconds (10 s by default; the agent's telemetry follows the
embedded clock's scale, see `telemetry.publish_interval`) with ``StorageResolution=1`` when
the period is under a minute, so that alarms and target tracking react within a lesson
instead of after several minutes. Processes are not confined to
their task size, so utilisation can exceed 100 % (on Fargate the task size caps it).
"""
from __future__ import annotations

import asyncio
import datetime
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Optional

import psutil

#: CPU units per vCPU (ECS task size).
CPU_UNITS_PER_VCPU = 1024
MIB = 1024 * 1024
#: PutMetricData accepts up to 1000 metrics per call
#: (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html).
MAX_METRICS_PER_CALL = 1000
ECS_NAMESPACE = "AWS/ECS"
INSIGHTS_NAMESPACE = "ECS/ContainerInsights"

ServiceKey = tuple[str, str, str]  # (region, cluster name, service name)
Counts = dict[ServiceKey, tuple[int, int, int]]  # (desired, running, pending)


@dataclass(frozen=True)
class Usage:
    """CPU time (user + system) and resident memory of a set of processes."""

    cpu_seconds: float
    rss_bytes: int


def _tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
        return []


def sample(pids: Iterable[int]) -> Usage:
    """Usage of these processes and all their descendants.

    A container is its main process and whatever it started (a health-check ``curl``, a
    shell's children), as a container's cgroup counts them all. CPU time of children that
    have already exited and been waited for is included (``children_user``/
    ``children_system``), so short-lived children are not lost between samples. Processes
    that are gone (or become zombies) while being read count as using nothing.
    """
    seen: set[int] = set()
    cpu = 0.0
    rss = 0
    for pid in pids:
        for proc in _tree(pid):
            if proc.pid in seen:
                continue
            seen.add(proc.pid)
            try:
                with proc.oneshot():
                    times = proc.cpu_times()
                    memory = proc.memory_info()
            except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
                continue
            cpu += times.user + times.system + times.children_user + times.children_system
            rss += memory.rss
    return Usage(cpu_seconds=cpu, rss_bytes=rss)


@dataclass
class RunningTask:
    """What the agent knows of a RUNNING task, enough to measure and attribute it.

    ``cpu_units`` and ``memory_mib`` are the task's reservation as ECS counts it: the task
    size, or on EC2 without one the containers' sum (``memoryReservation`` where given,
    else ``memory`` -- service_utilization.html). ``started`` is the wall-clock time
    (``time.time()``) the task reached RUNNING, as ``startedAt``.
    """

    region: str
    cluster: str
    service: Optional[str]
    family: str
    task_id: str
    task_arn: str
    cpu_units: int
    memory_mib: int
    container_pids: dict[str, int]
    started: float


@dataclass
class _TaskWindow:
    """One task's usage in the current publishing period."""

    task: RunningTask
    cpu_seconds: float = 0.0  # CPU time used across the period's sample intervals
    interval: float = 0.0  # wall time those intervals cover
    rss_total: int = 0
    rss_samples: int = 0

    def cpu_units_used(self) -> Optional[float]:
        if self.interval <= 0:
            return None
        return self.cpu_seconds / self.interval * CPU_UNITS_PER_VCPU

    def memory_mib_used(self) -> Optional[float]:
        if not self.rss_samples:
            return None
        return self.rss_total / self.rss_samples / MIB


@dataclass
class _Stats:
    """A CloudWatch statistic set over per-task values."""

    values: list[float] = field(default_factory=list)

    def add(self, value: float) -> None:
        self.values.append(value)

    def statistic_values(self) -> dict[str, float]:
        return {"SampleCount": float(len(self.values)), "Sum": float(sum(self.values)),
                "Minimum": float(min(self.values)), "Maximum": float(max(self.values))}


class MetricsPublisher:
    """Samples the tasks' processes (``record``) and publishes ECS metrics (``publish``).

    ``cloudwatch_for_region(region)`` gives a boto3 CloudWatch client for that region;
    ``insights_enabled(region, cluster)`` says whether the cluster's ``containerInsights``
    setting is on (``enabled`` or ``enhanced``). ``period`` is how often the agent
    publishes. ``sampler`` and ``clock`` are the measuring instruments (psutil and the
    monotonic clock unless a caller has better ones).
    """

    def __init__(self, cloudwatch_for_region: Callable[[str], Any],
                 insights_enabled: Callable[[str, str], bool], period: float = 10.0, *,
                 cluster_capacity: Optional[Callable[[str, str], Optional[tuple[int, int]]]] = None,
                 sampler: Callable[[Iterable[int]], Usage] = sample,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._cloudwatch_for_region = cloudwatch_for_region
        self._insights_enabled = insights_enabled
        self._cluster_capacity = cluster_capacity
        self.period = period
        self._sampler = sampler
        self._clock = clock
        self._last: dict[str, tuple[float, float]] = {}  # task ARN -> (time, cpu seconds)
        self._windows: dict[str, _TaskWindow] = {}

    # -- measuring -----------------------------------------------------------------

    def record(self, tasks: list[RunningTask]) -> None:
        """Take one usage sample of each running task.

        CPU utilisation is a rate, so it comes from the difference between two samples of
        the same task: a task's first sample is only a baseline (its processes may have
        been pre-loaded before the task started, and that CPU is not the task's). Tasks
        absent from ``tasks`` have stopped; what they used earlier in the period still
        counts, since they ran in it.
        """
        now = self._clock()
        present = set()
        for task in tasks:
            present.add(task.task_arn)
            usage = self._sampler(list(task.container_pids.values()))
            window = self._windows.get(task.task_arn)
            if window is None:
                window = self._windows[task.task_arn] = _TaskWindow(task)
            window.task = task
            window.rss_total += usage.rss_bytes
            window.rss_samples += 1
            previous = self._last.get(task.task_arn)
            if previous is not None and now > previous[0]:
                # CPU time only grows; a smaller reading means a container was replaced.
                window.cpu_seconds += max(0.0, usage.cpu_seconds - previous[1])
                window.interval += now - previous[0]
            self._last[task.task_arn] = (now, usage.cpu_seconds)
        for arn in list(self._last):
            if arn not in present:
                del self._last[arn]

    # -- publishing ----------------------------------------------------------------

    def metric_data(self, counts: Counts) -> dict[str, list[dict]]:
        """Close the period; its metrics per region, each a PutMetricData ``MetricData``
        entry with its ``Namespace`` added. Blocking (``insights_enabled`` may call AWS)."""
        windows, self._windows = self._windows, {}
        return self._build(windows, counts)

    def _build(self, windows: dict[str, _TaskWindow], counts: Counts) -> dict[str, list[dict]]:
        timestamp = datetime.datetime.now(datetime.timezone.utc)
        resolution = 1 if self.period < 60 else 60
        out: dict[str, list[dict]] = {}

        def datum(region: str, namespace: str, name: str, dims: list[tuple[str, str]],
                  unit: str, value: Optional[float] = None,
                  stats: Optional[_Stats] = None) -> None:
            entry: dict[str, Any] = {
                "MetricName": name, "Unit": unit, "Timestamp": timestamp,
                "StorageResolution": resolution,
                "Dimensions": [{"Name": k, "Value": v} for k, v in dims]}
            if stats is not None:
                entry["StatisticValues"] = stats.statistic_values()
            else:
                entry["Value"] = float(value or 0)
            out.setdefault(region, []).append({"Namespace": namespace, **entry})

        # Group the tasks that ran in the period.
        by_service: dict[ServiceKey, list[_TaskWindow]] = {}
        by_cluster: dict[tuple[str, str], list[_TaskWindow]] = {}
        by_family: dict[tuple[str, str, str], list[_TaskWindow]] = {}
        for window in windows.values():
            task = window.task
            by_cluster.setdefault((task.region, task.cluster), []).append(window)
            by_family.setdefault((task.region, task.cluster, task.family), []).append(window)
            if task.service:
                by_service.setdefault((task.region, task.cluster, task.service), []).append(window)

        # AWS/ECS, per service: percent of the reservation, one sample per task.
        for (region, cluster, service), group in sorted(by_service.items()):
            cpu, memory = _Stats(), _Stats()
            for window in group:
                used = window.cpu_units_used()
                if used is not None and window.task.cpu_units > 0:
                    cpu.add(used * 100.0 / window.task.cpu_units)
                mib = window.memory_mib_used()
                if mib is not None and window.task.memory_mib > 0:
                    memory.add(mib * 100.0 / window.task.memory_mib)
            dims = [("ClusterName", cluster), ("ServiceName", service)]
            if cpu.values:
                datum(region, ECS_NAMESPACE, "CPUUtilization", dims, "Percent", stats=cpu)
            if memory.values:
                datum(region, ECS_NAMESPACE, "MemoryUtilization", dims, "Percent", stats=memory)

        # AWS/ECS, per cluster: only against registered container-instance capacity.
        if self._cluster_capacity is not None:
            for (region, cluster), group in sorted(by_cluster.items()):
                capacity = self._cluster_capacity(region, cluster)
                if not capacity:
                    continue
                cpu_used = [u for w in group if (u := w.cpu_units_used()) is not None]
                mem_used = [m for w in group if (m := w.memory_mib_used()) is not None]
                dims = [("ClusterName", cluster)]
                if cpu_used and capacity[0] > 0:
                    datum(region, ECS_NAMESPACE, "CPUUtilization", dims, "Percent",
                          sum(cpu_used) * 100.0 / capacity[0])
                if mem_used and capacity[1] > 0:
                    datum(region, ECS_NAMESPACE, "MemoryUtilization", dims, "Percent",
                          sum(mem_used) * 100.0 / capacity[1])

        # ECS/ContainerInsights, for clusters that have it on.
        insights: dict[tuple[str, str], bool] = {}

        def enabled(region: str, cluster: str) -> bool:
            if (region, cluster) not in insights:
                insights[(region, cluster)] = bool(self._insights_enabled(region, cluster))
            return insights[(region, cluster)]

        def resource_usage(region: str, dims: list[tuple[str, str]],
                           group: list[_TaskWindow]) -> None:
            cpu_used, cpu_reserved, mem_used, mem_reserved = _Stats(), _Stats(), _Stats(), _Stats()
            for window in group:
                if window.task.cpu_units > 0:
                    cpu_reserved.add(window.task.cpu_units)
                    used = window.cpu_units_used()
                    if used is not None:
                        cpu_used.add(used)
                if window.task.memory_mib > 0:
                    mem_reserved.add(window.task.memory_mib)
                    mib = window.memory_mib_used()
                    if mib is not None:
                        mem_used.add(mib)
            for name, unit, stats in (("CpuUtilized", "None", cpu_used),
                                      ("CpuReserved", "None", cpu_reserved),
                                      ("MemoryUtilized", "Megabytes", mem_used),
                                      ("MemoryReserved", "Megabytes", mem_reserved)):
                if stats.values:
                    datum(region, INSIGHTS_NAMESPACE, name, dims, unit, stats=stats)

        for (region, cluster), group in sorted(by_cluster.items()):
            if not enabled(region, cluster):
                continue
            resource_usage(region, [("ClusterName", cluster)], group)
            datum(region, INSIGHTS_NAMESPACE, "TaskCount", [("ClusterName", cluster)],
                  "Count", len(group))
            services = {key[2] for key in counts if key[:2] == (region, cluster)}
            services |= {key[2] for key in by_service if key[:2] == (region, cluster)}
            datum(region, INSIGHTS_NAMESPACE, "ServiceCount", [("ClusterName", cluster)],
                  "Count", len(services))
        for (region, cluster, service), group in sorted(by_service.items()):
            if enabled(region, cluster):
                resource_usage(region, [("ClusterName", cluster), ("ServiceName", service)],
                               group)
        for (region, cluster, family), group in sorted(by_family.items()):
            if enabled(region, cluster):
                resource_usage(region, [("ClusterName", cluster),
                                        ("TaskDefinitionFamily", family)], group)
        for (region, cluster, service), (desired, running, pending) in sorted(counts.items()):
            ran = (region, cluster, service) in by_service
            if not (running or ran) or not enabled(region, cluster):
                continue  # no RUNNING task in the period: nothing is reported for it
            dims = [("ClusterName", cluster), ("ServiceName", service)]
            datum(region, INSIGHTS_NAMESPACE, "DesiredTaskCount", dims, "Count", desired)
            datum(region, INSIGHTS_NAMESPACE, "RunningTaskCount", dims, "Count", running)
            datum(region, INSIGHTS_NAMESPACE, "PendingTaskCount", dims, "Count", pending)
        return out

    def put(self, data: dict[str, list[dict]]) -> int:
        """Send the metrics with PutMetricData, one namespace per call and at most 1000
        metrics each; return the number of calls. Blocking (boto3)."""
        calls = 0
        for region, entries in data.items():
            client = self._cloudwatch_for_region(region)
            by_namespace: dict[str, list[dict]] = {}
            for entry in entries:
                entry = dict(entry)
                by_namespace.setdefault(entry.pop("Namespace"), []).append(entry)
            for namespace, metrics in by_namespace.items():
                for start in range(0, len(metrics), MAX_METRICS_PER_CALL):
                    client.put_metric_data(Namespace=namespace,
                                           MetricData=metrics[start:start + MAX_METRICS_PER_CALL])
                    calls += 1
        return calls

    async def publish(self, counts: Counts) -> int:
        """Publish the period's metrics and start a new period; return PutMetricData calls.

        The period is closed at once (in the event loop, so no ``record`` interleaves);
        the Container Insights look-ups and the blocking boto3 calls run in a thread.
        """
        windows, self._windows = self._windows, {}
        return await asyncio.to_thread(lambda: self.put(self._build(windows, counts)))
