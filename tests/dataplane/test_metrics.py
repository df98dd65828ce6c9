"""ECS telemetry: psutil samples of real processes, and the metrics published from samples.

``sample`` is tested on real child processes. The publisher is tested against moto's
CloudWatch (in-process ``mock_aws``, enough for a unit of the data plane), with usage
readings given by the test through the publisher's ``sampler`` and ``clock`` instruments,
so that every published value can be computed by hand from the AWS definitions.
"""
from __future__ import annotations

import asyncio
import datetime
import os
import subprocess
import sys
import time
from typing import Iterable, Optional

import boto3
import psutil
import pytest
from moto import mock_aws

from mylearning.dataplane.metrics import (MAX_METRICS_PER_CALL, MIB, MetricsPublisher,
                                          RunningTask, Usage, sample)

PY = sys.executable


def spawn(code: str) -> subprocess.Popen:
    return subprocess.Popen([PY, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)


def stop(*procs: subprocess.Popen) -> None:
    for proc in procs:
        for child in psutil.Process(proc.pid).children(recursive=True) if proc.poll() is None else []:
            child.kill()
        proc.kill()
        proc.wait()
        for pipe in (proc.stdin, proc.stdout):
            if pipe is not None:
                pipe.close()


def wait_until(condition, deadline: float = 20.0) -> None:
    """Poll until the condition holds (not a timing assertion: a bound against hanging)."""
    end = time.monotonic() + deadline
    while not condition():
        assert time.monotonic() < end, "condition never held"
        time.sleep(0.05)


# -- sample() on real processes ------------------------------------------------------

def test_busy_process_uses_cpu() -> None:
    busy = spawn("while True: pass")
    try:
        first = sample([busy.pid])
        wait_until(lambda: sample([busy.pid]).cpu_seconds > first.cpu_seconds + 0.2)
    finally:
        stop(busy)


def test_children_count_with_their_container() -> None:
    """The main process sleeps; its child burns CPU; the container's usage is both."""
    parent = spawn("import subprocess, sys, time\n"
                   f"subprocess.Popen([{PY!r}, '-c', 'while True: pass'])\n"
                   "print('started', flush=True)\n"
                   "time.sleep(600)")
    try:
        assert parent.stdout.readline().strip() == "started"
        own = psutil.Process(parent.pid).cpu_times()
        first = sample([parent.pid])
        wait_until(lambda: sample([parent.pid]).cpu_seconds > first.cpu_seconds + 0.2)
        later = psutil.Process(parent.pid).cpu_times()
        assert later.user + later.system - own.user - own.system < 0.2  # it was the child
        child = psutil.Process(parent.pid).children()[0].pid
        # Listing the child too does not count it twice.
        both, alone = sample([parent.pid, child]), sample([parent.pid])
        assert abs(both.rss_bytes - alone.rss_bytes) < 4 * MIB
    finally:
        stop(parent)


def test_allocating_process_grows_rss() -> None:
    grower = spawn("import sys\n"
                   "print('ready', flush=True); sys.stdin.readline()\n"
                   "block = bytearray(120 * 1024 * 1024)\n"
                   "for i in range(0, len(block), 4096): block[i] = 1\n"
                   "print('grown', flush=True); sys.stdin.readline()")
    try:
        assert grower.stdout.readline().strip() == "ready"
        before = sample([grower.pid]).rss_bytes
        grower.stdin.write("\n")
        grower.stdin.flush()
        assert grower.stdout.readline().strip() == "grown"
        after = sample([grower.pid]).rss_bytes
        assert after - before >= 100 * MIB
    finally:
        stop(grower)


def test_missing_processes_are_tolerated() -> None:
    gone = spawn("pass")
    stop(gone)
    live = spawn("import time; time.sleep(600)")
    try:
        assert sample([]) == Usage(0.0, 0)
        assert sample([gone.pid]) == Usage(0.0, 0)
        mixed = sample([gone.pid, live.pid])
        assert mixed.rss_bytes > 0
        assert sample([live.pid]).rss_bytes > 0
    finally:
        stop(live)


# -- the publisher, from given samples ------------------------------------------------

class Readings:
    """Usage readings and a clock that the test sets, per container pid."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.usage: dict[int, Usage] = {}

    def clock(self) -> float:
        return self.now

    def sampler(self, pids: Iterable[int]) -> Usage:
        picked = [self.usage[pid] for pid in pids]
        return Usage(sum(u.cpu_seconds for u in picked), sum(u.rss_bytes for u in picked))


def task(task_id: str, pid: int, *, cluster: str = "mylearning",
         service: Optional[str] = "courses-api", family: str = "courses-api",
         cpu: int = 256, memory: int = 512, region: str = "us-east-1") -> RunningTask:
    arn = f"arn:aws:ecs:{region}:123456789012:task/{cluster}/{task_id}"
    return RunningTask(region=region, cluster=cluster, service=service, family=family,
                       task_id=task_id, task_arn=arn, cpu_units=cpu, memory_mib=memory,
                       container_pids={"app": pid}, started=time.time())


def stats(cw, namespace: str, name: str, dims: dict[str, str]) -> dict:
    now = datetime.datetime.now(datetime.timezone.utc)
    points = cw.get_metric_statistics(
        Namespace=namespace, MetricName=name,
        Dimensions=[{"Name": k, "Value": v} for k, v in dims.items()],
        StartTime=now - datetime.timedelta(minutes=10), EndTime=now + datetime.timedelta(minutes=10),
        Period=3600, Statistics=["Sum", "SampleCount", "Minimum", "Maximum", "Average"])["Datapoints"]
    assert len(points) == 1, (name, dims, points)
    return points[0]


def metric_set(cw, namespace: str) -> set[tuple[str, frozenset]]:
    names = set()
    for page in cw.get_paginator("list_metrics").paginate(Namespace=namespace):
        for metric in page["Metrics"]:
            names.add((metric["MetricName"],
                       frozenset((d["Name"], d["Value"]) for d in metric["Dimensions"])))
    return names


def scenario(readings: Readings) -> list[RunningTask]:
    """Two service tasks and one standalone task in an Insights cluster, one service task
    in a cluster without Insights, sampled twice 10 s apart."""
    tasks = [task("a", 1), task("b", 2),
             task("m", 3, service=None, family="migrate", cpu=512, memory=1024),
             task("p", 4, cluster="plain", service="web", family="web", cpu=1024, memory=2048)]
    readings.usage = {1: Usage(1.0, 128 * MIB), 2: Usage(2.0, 256 * MIB),
                      3: Usage(0.0, 300 * MIB), 4: Usage(10.0, 1024 * MIB)}
    return tasks


def second_sample(readings: Readings) -> None:
    readings.now += 10.0
    readings.usage = {1: Usage(1.5, 128 * MIB),   # 0.05 vCPU = 51.2 units = 20 % of 256
                      2: Usage(3.0, 128 * MIB),   # 0.1 vCPU = 102.4 units = 40 % of 256
                      3: Usage(5.0, 300 * MIB),   # 0.5 vCPU = 512 units
                      4: Usage(12.5, 1024 * MIB)}  # 0.25 vCPU = 256 units = 25 % of 1024


def test_ecs_service_utilisation_follows_the_aws_formula() -> None:
    readings = Readings()
    with mock_aws():
        cw = boto3.client("cloudwatch", region_name="us-east-1")
        publisher = MetricsPublisher(lambda region: cw, lambda r, c: c == "mylearning",
                                     sampler=readings.sampler, clock=readings.clock)
        tasks = scenario(readings)
        publisher.record(tasks)
        second_sample(readings)
        publisher.record(tasks)
        calls = asyncio.run(publisher.publish({
            ("us-east-1", "mylearning", "courses-api"): (2, 2, 0),
            ("us-east-1", "mylearning", "enrollment"): (1, 0, 1),
            ("us-east-1", "plain", "web"): (1, 1, 0)}))
        assert calls == 2  # one per namespace

        service = {"ClusterName": "mylearning", "ServiceName": "courses-api"}
        cpu = stats(cw, "AWS/ECS", "CPUUtilization", service)
        # (51.2 + 102.4) x 100 / (256 x 2) = 30 %; least and most loaded task 20 % and 40 %.
        assert cpu["Average"] == pytest.approx(30.0) and cpu["SampleCount"] == 2
        assert cpu["Minimum"] == pytest.approx(20.0) and cpu["Maximum"] == pytest.approx(40.0)
        assert cpu["Unit"] == "Percent"
        memory = stats(cw, "AWS/ECS", "MemoryUtilization", service)
        # a: 128 MiB of 512 = 25 %; b: mean of 256 and 128 = 192 MiB of 512 = 37.5 %.
        assert memory["Average"] == pytest.approx(31.25)
        assert memory["Minimum"] == pytest.approx(25.0) and memory["Maximum"] == pytest.approx(37.5)
        plain = stats(cw, "AWS/ECS", "CPUUtilization", {"ClusterName": "plain", "ServiceName": "web"})
        assert plain["Average"] == pytest.approx(25.0)
        # No container instances: no cluster-level AWS/ECS metric (EC2-only, AWS says).
        assert {dims for _, dims in metric_set(cw, "AWS/ECS")} == {
            frozenset(service.items()), frozenset({("ClusterName", "plain"), ("ServiceName", "web")})}


def test_container_insights_metrics_dimensions_units_and_values() -> None:
    readings = Readings()
    with mock_aws():
        cw = boto3.client("cloudwatch", region_name="us-east-1")
        publisher = MetricsPublisher(lambda region: cw, lambda r, c: c == "mylearning",
                                     sampler=readings.sampler, clock=readings.clock)
        tasks = scenario(readings)
        publisher.record(tasks)
        second_sample(readings)
        publisher.record(tasks)
        counts = {("us-east-1", "mylearning", "courses-api"): (3, 2, 1),
                  ("us-east-1", "mylearning", "enrollment"): (1, 0, 1),
                  ("us-east-1", "plain", "web"): (1, 1, 0)}
        data = publisher.metric_data(counts)["us-east-1"]
        insights = [d for d in data if d["Namespace"] == "ECS/ContainerInsights"]
        units = {d["MetricName"]: d["Unit"] for d in insights}
        assert units == {"CpuUtilized": "None", "CpuReserved": "None",
                         "MemoryUtilized": "Megabytes", "MemoryReserved": "Megabytes",
                         "TaskCount": "Count", "ServiceCount": "Count",
                         "DesiredTaskCount": "Count", "RunningTaskCount": "Count",
                         "PendingTaskCount": "Count"}
        assert all(d["StorageResolution"] == 1 for d in data)  # 10 s period: high resolution
        publisher.put({"us-east-1": data})

        cluster = {"ClusterName": "mylearning"}
        svc = {"ClusterName": "mylearning", "ServiceName": "courses-api"}
        fam = {"ClusterName": "mylearning", "TaskDefinitionFamily": "migrate"}

        def sent(name: str, dims: dict[str, str]) -> dict:
            """The datum as sent. moto's GetMetricStatistics matches any metric whose
            dimensions include the asked ones (CloudWatch matches the exact set), so the
            ClusterName-only figures are read from what was sent."""
            wanted = [{"Name": k, "Value": v} for k, v in dims.items()]
            [match] = [d for d in insights if d["MetricName"] == name and d["Dimensions"] == wanted]
            return match.get("StatisticValues") or {"Sum": match["Value"]}

        assert sent("CpuUtilized", cluster)["Sum"] == pytest.approx(665.6)  # 51.2+102.4+512
        assert sent("CpuUtilized", cluster)["SampleCount"] == 3
        assert sent("CpuReserved", cluster)["Sum"] == 1024
        assert sent("MemoryUtilized", cluster)["Sum"] == pytest.approx(620)  # 128+192+300
        assert sent("TaskCount", cluster)["Sum"] == 3
        assert sent("ServiceCount", cluster)["Sum"] == 2  # courses-api and enrollment
        assert stats(cw, "ECS/ContainerInsights", "CpuUtilized", svc)["Sum"] == pytest.approx(153.6)
        assert stats(cw, "ECS/ContainerInsights", "CpuUtilized", svc)["Average"] == pytest.approx(76.8)
        assert stats(cw, "ECS/ContainerInsights", "CpuUtilized", fam)["Sum"] == pytest.approx(512)
        assert stats(cw, "ECS/ContainerInsights", "MemoryReserved", svc)["Sum"] == 1024
        assert stats(cw, "ECS/ContainerInsights", "MemoryUtilized", fam)["Unit"] == "Megabytes"
        assert stats(cw, "ECS/ContainerInsights", "DesiredTaskCount", svc)["Sum"] == 3
        assert stats(cw, "ECS/ContainerInsights", "RunningTaskCount", svc)["Sum"] == 2
        assert stats(cw, "ECS/ContainerInsights", "PendingTaskCount", svc)["Sum"] == 1

        published = metric_set(cw, "ECS/ContainerInsights")
        dimension_sets = {dims for _, dims in published}
        assert dimension_sets == {
            frozenset(cluster.items()), frozenset(svc.items()),
            frozenset({("ClusterName", "mylearning"), ("TaskDefinitionFamily", "courses-api")}),
            frozenset(fam.items())}
        # Insights gating: nothing for the cluster without it, nothing for a service
        # without a running task.
        assert not any(("ClusterName", "plain") in dims for dims in dimension_sets)
        assert not any(("ServiceName", "enrollment") in dims for dims in dimension_sets)


def test_first_sample_is_a_baseline_and_cpu_resets_are_not_negative() -> None:
    readings = Readings()
    with mock_aws():
        cw = boto3.client("cloudwatch", region_name="us-east-1")
        publisher = MetricsPublisher(lambda region: cw, lambda r, c: True,
                                     sampler=readings.sampler, clock=readings.clock)
        one = [task("a", 1)]
        readings.usage = {1: Usage(50.0, 64 * MIB)}  # CPU used before the task was RUNNING
        publisher.record(one)
        data = publisher.metric_data({})["us-east-1"]
        names = {d["MetricName"] for d in data}
        assert "CPUUtilization" not in names and "CpuUtilized" not in names
        assert "MemoryUtilization" in names and "MemoryUtilized" in names
        # Next period: the container was replaced, its CPU counter starts again.
        readings.now += 5
        readings.usage = {1: Usage(0.5, 64 * MIB)}
        publisher.record(one)
        readings.now += 5
        readings.usage = {1: Usage(1.0, 64 * MIB)}  # 0.5 s in 5 s = 0.1 vCPU
        publisher.record(one)
        data = publisher.metric_data({})["us-east-1"]
        cpu = next(d for d in data if d["MetricName"] == "CPUUtilization")
        # Intervals: reset (counted as 0 over 5 s) then 0.5 s over 5 s: 0.5/10 vCPU.
        assert cpu["StatisticValues"]["Sum"] == pytest.approx(0.05 * 1024 * 100 / 256)


def test_stopped_task_counts_for_its_period_and_zero_reservation_is_left_out() -> None:
    readings = Readings()
    publisher = MetricsPublisher(lambda region: None, lambda r, c: True,
                                 sampler=readings.sampler, clock=readings.clock)
    tasks = [task("a", 1), task("z", 2, cpu=0, memory=0)]
    readings.usage = {1: Usage(0.0, 100 * MIB), 2: Usage(0.0, 10 * MIB)}
    publisher.record(tasks)
    readings.now += 10
    readings.usage = {1: Usage(1.0, 100 * MIB), 2: Usage(1.0, 10 * MIB)}
    publisher.record(tasks)
    publisher.record([])  # both stopped before the period ended
    data = publisher.metric_data({("us-east-1", "mylearning", "courses-api"): (2, 0, 0)})
    by_key = {(d["MetricName"], tuple(x["Value"] for x in d["Dimensions"])): d
              for d in data["us-east-1"]}
    cpu = by_key[("CPUUtilization", ("mylearning", "courses-api"))]["StatisticValues"]
    assert cpu["SampleCount"] == 1  # the task without a CPU reservation is not in it
    assert cpu["Sum"] == pytest.approx(0.1 * 1024 * 100 / 256)
    reserved = by_key[("CpuReserved", ("mylearning",))]["StatisticValues"]
    assert reserved["Sum"] == 256
    assert by_key[("TaskCount", ("mylearning",))]["Value"] == 2
    assert by_key[("RunningTaskCount", ("mylearning", "courses-api"))]["Value"] == 0
    # The next period has no task at all: nothing to publish.
    assert publisher.metric_data({}) == {}


def test_cluster_level_utilisation_against_registered_capacity() -> None:
    readings = Readings()
    publisher = MetricsPublisher(lambda region: None, lambda r, c: False,
                                 cluster_capacity=lambda r, c: (2048, 4096),
                                 sampler=readings.sampler, clock=readings.clock)
    tasks = scenario(readings)
    publisher.record(tasks)
    second_sample(readings)
    publisher.record(tasks)
    data = publisher.metric_data({})["us-east-1"]
    cluster = [d for d in data if d["Dimensions"] == [{"Name": "ClusterName", "Value": "mylearning"}]]
    values = {d["MetricName"]: d["Value"] for d in cluster}
    assert values["CPUUtilization"] == pytest.approx(665.6 * 100 / 2048)
    assert values["MemoryUtilization"] == pytest.approx(620 * 100 / 4096)
    assert all(d["Namespace"] == "AWS/ECS" for d in data)  # Insights off everywhere


def test_batches_stay_within_1000_metrics_per_call() -> None:
    readings = Readings()
    with mock_aws():
        cw = boto3.client("cloudwatch", region_name="eu-west-1")
        sizes: list[int] = []
        cw.meta.events.register("before-parameter-build.cloudwatch.PutMetricData",
                                lambda params, **_: sizes.append(len(params["MetricData"])))
        publisher = MetricsPublisher(lambda region: cw, lambda r, c: True,
                                     sampler=readings.sampler, clock=readings.clock)
        tasks = [task(f"t{i}", i, service=f"svc-{i}", family=f"fam-{i}", region="eu-west-1")
                 for i in range(300)]
        readings.usage = {i: Usage(0.0, 64 * MIB) for i in range(300)}
        publisher.record(tasks)
        readings.now += 10
        readings.usage = {i: Usage(0.1 * i / 300, 64 * MIB) for i in range(300)}
        publisher.record(tasks)
        counts = {("eu-west-1", "mylearning", f"svc-{i}"): (1, 1, 0) for i in range(300)}
        data = publisher.metric_data(counts)
        total = len(data["eu-west-1"])
        # 300 x (2 AWS/ECS + 4 per service + 4 per family + 3 counts) + 6 cluster-wide.
        assert total == 300 * 13 + 6
        calls = publisher.put(data)
        assert calls == len(sizes) and max(sizes) <= MAX_METRICS_PER_CALL
        assert sum(sizes) == total and calls == 1 + 4  # AWS/ECS 600; Insights 3306
        assert len(metric_set(cw, "ECS/ContainerInsights")) == 300 * 11 + 6


def test_real_processes_end_to_end() -> None:
    """The real sampler and clock: a busy container shows up as CPU use in CloudWatch."""
    busy = spawn("while True: pass")
    idle = spawn("import time; time.sleep(600)")
    try:
        with mock_aws():
            cw = boto3.client("cloudwatch", region_name="us-east-1")
            publisher = MetricsPublisher(lambda region: cw, lambda r, c: False)
            tasks = [task("busy", busy.pid, service="api", cpu=1024, memory=512),
                     task("idle", idle.pid, service="api", cpu=1024, memory=512)]
            publisher.record(tasks)
            first = sample([busy.pid]).cpu_seconds
            wait_until(lambda: sample([busy.pid]).cpu_seconds > first + 0.2)
            publisher.record(tasks)
            asyncio.run(publisher.publish({("us-east-1", "mylearning", "api"): (2, 2, 0)}))
            cpu = stats(cw, "AWS/ECS", "CPUUtilization",
                        {"ClusterName": "mylearning", "ServiceName": "api"})
            assert cpu["SampleCount"] == 2 and cpu["Maximum"] > 0
            assert cpu["Minimum"] < cpu["Maximum"]  # the idle task used (next to) nothing
            memory = stats(cw, "AWS/ECS", "MemoryUtilization",
                           {"ClusterName": "mylearning", "ServiceName": "api"})
            assert memory["Minimum"] > 0
    finally:
        stop(busy, idle)
