"""video-worker: a worker with scratch files, and lab 03's read-only root lesson."""
from __future__ import annotations

import errno
import os
import signal
from pathlib import Path
from typing import Callable

from .conftest import Running

Launch = Callable[..., Running]
WORKER = "public.ecr.aws/mylearning/video-worker:1.0.0"


def test_read_only_root_without_a_scratch_mount_exits_1(launch: Launch) -> None:
    worker = launch(WORKER, {"JOB_INTERVAL_SECONDS": "0.05"}, readonly_root=True)
    assert worker.wait_exit() == 1
    failure = worker.wait_log("cannot write /scratch/job-00001-ecs-101.mp4: [Errno 30] Read-only file system")
    assert failure["level"] == "ERROR" and failure["errno"] == errno.EROFS


def test_with_a_mount_it_writes_its_jobs_and_finishes_a_batch(launch: Launch, tmp_path: Path) -> None:
    scratch = tmp_path / "scratch-volume"
    worker = launch(WORKER, {"JOB_INTERVAL_SECONDS": "0.02", "MAX_JOBS": "3", "JOB_SIZE_KB": "4"},
                    readonly_root=True, mounts={"/scratch": str(scratch)})
    assert worker.wait_exit() == 0
    files = sorted(p.name for p in scratch.iterdir())
    assert files == ["job-00001-ecs-101.mp4", "job-00002-fargate-201.mp4", "job-00003-appmesh-301.mp4"]
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
