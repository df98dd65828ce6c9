"""video-worker: a worker with scratch files, and lab 03's read-only root lesson."""
from __future__ import annotations

import asyncio
import errno
import os
import signal
import time
from pathlib import Path
from typing import Callable

from mylearning.dataplane import shell

from .conftest import Running

Launch = Callable[..., Running]
WORKER = "public.ecr.aws/mylearning/video-worker:1.0.0"
#: Lab 03's health check for the worker (mylearning/service_specs.py), run by the data plane's shell.
HEALTH_CHECK = ["CMD-SHELL", "test -n \"$(find /scratch/heartbeat -mmin -1)\" || exit 1"]


def health(worker: Running) -> int:
    """The health check's exit code, run against the worker's own root and mounts."""
    spec = worker.spec
    return asyncio.run(shell.run(HEALTH_CHECK, env={}, address=spec.address, root=Path(spec.root),
                                 readonly_root=spec.readonly_root, timeout=5,
                                 mounts={target: Path(host) for target, host in spec.mounts.items()})).exit_code


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition never held"
        time.sleep(0.02)


def test_read_only_root_without_a_scratch_mount_exits_1(launch: Launch) -> None:
    worker = launch(WORKER, {"JOB_INTERVAL_SECONDS": "0.05"}, readonly_root=True)
    assert worker.wait_exit() == 1
    failure = worker.wait_log("cannot write /scratch/job-00001-ecs-101.mp4: [Errno 30] Read-only file system")
    assert failure["level"] == "ERROR" and failure["errno"] == errno.EROFS
    # The heartbeat failed first, but only the job's failure ends the worker.
    beat = worker.wait_log("cannot write heartbeat /scratch/heartbeat: [Errno 30] Read-only file system")
    assert beat["level"] == "WARNING"
    assert health(worker) == 1


def test_with_a_mount_it_writes_its_jobs_and_finishes_a_batch(launch: Launch, tmp_path: Path) -> None:
    scratch = tmp_path / "scratch-volume"
    worker = launch(WORKER, {"JOB_INTERVAL_SECONDS": "0.02", "MAX_JOBS": "3", "JOB_SIZE_KB": "4"},
                    readonly_root=True, mounts={"/scratch": str(scratch)})
    assert worker.wait_exit() == 0
    files = sorted(p.name for p in scratch.iterdir() if p.name != "heartbeat")
    assert files == ["job-00001-ecs-101.mp4", "job-00002-fargate-201.mp4", "job-00003-appmesh-301.mp4"]
    assert (scratch / "heartbeat").read_text().endswith(" jobs=3\n")
    assert (scratch / files[0]).stat().st_size == 4 * 1024
    done = [line for line in worker.logs() if line["message"] == "job done"]
    assert [line["job"] for line in done] == [1, 2, 3]
    assert not os.path.exists(os.path.join(worker.spec.root, "scratch"))  # nothing landed on the root


def test_writable_root_keeps_scratch_in_the_container_root(launch: Launch) -> None:
    worker = launch(WORKER, {"JOB_INTERVAL_SECONDS": "0.02", "MAX_JOBS": "1", "SCRATCH_DIR": "/tmp/work"})
    assert worker.wait_exit() == 0
    assert (Path(worker.spec.root) / "tmp" / "work" / "job-00001-ecs-101.mp4").exists()


def test_sigterm_stops_the_worker_cleanly(launch: Launch, tmp_path: Path) -> None:
    worker = launch(WORKER, {"JOB_INTERVAL_SECONDS": "0.05"}, mounts={"/scratch": str(tmp_path / "s")})
    worker.wait_log("job done")
    os.kill(worker.process.pid, signal.SIGTERM)
    assert worker.wait_exit() == 0
    assert worker.wait_log("shutting down")["signal"] == "SIGTERM"


def test_the_heartbeat_keeps_lab03s_health_check_passing_while_the_worker_lives(
        launch: Launch, tmp_path: Path) -> None:
    scratch = tmp_path / "scratch-volume"
    heartbeat = scratch / "heartbeat"
    # A long job interval: the first beat must not wait for a job, and the wait between jobs
    # still beats (HEARTBEAT_SECONDS).
    worker = launch(WORKER, {"JOB_INTERVAL_SECONDS": "60", "HEARTBEAT_SECONDS": "0.1", "JOB_SIZE_KB": "1"},
                    readonly_root=True, mounts={"/scratch": str(scratch)})
    worker.wait_log("worker started")
    assert heartbeat.exists()  # written before the worker says it started
    worker.wait_log("job done")
    wait_for(lambda: heartbeat.read_text().endswith(" jobs=1\n"))
    assert health(worker) == 0
    first = heartbeat.stat().st_mtime_ns
    wait_for(lambda: heartbeat.stat().st_mtime_ns > first)  # beats again with no new job
    assert [line["job"] for line in worker.logs() if line["message"] == "job done"] == [1]
    assert not os.path.exists(os.path.join(worker.spec.root, "scratch"))  # through the mount only

    os.kill(worker.process.pid, signal.SIGTERM)
    assert worker.wait_exit() == 0
    assert health(worker) == 0  # the last beat is still under a minute old
    stale = time.time() - 61
    os.utime(heartbeat, (stale, stale))  # a minute passes with no worker
    assert health(worker) == 1


def test_every_job_refreshes_the_heartbeat(launch: Launch, tmp_path: Path) -> None:
    scratch = tmp_path / "s"
    worker = launch(WORKER, {"JOB_INTERVAL_SECONDS": "0.05", "JOB_SIZE_KB": "1"},
                    mounts={"/scratch": str(scratch)})
    worker.wait_log("job done")
    wait_for(lambda: int((scratch / "heartbeat").read_text().split("jobs=")[1]) >= 3)
    assert health(worker) == 0


def test_a_bad_heartbeat_period_is_a_configuration_error(launch: Launch) -> None:
    worker = launch(WORKER, {"HEARTBEAT_SECONDS": "0"})
    assert worker.wait_exit() == 1
    assert worker.wait_log("invalid configuration: HEARTBEAT_SECONDS must be > 0")["level"] == "ERROR"
