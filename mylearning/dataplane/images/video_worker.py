"""video-worker: MyLearning's transcoder, a worker with no port.

It shows what a worker teaches that a web service cannot: a container that needs
scratch space. On a task with readonlyRootFilesystem it can only write to a mounted
volume, so without one its first job fails with EROFS and it exits 1 (lab 03's lesson);
with a bind mount or ephemeral volume at SCRATCH_DIR it works. MAX_JOBS makes it a
batch job that exits 0, for dependsOn SUCCESS/COMPLETE.
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/bind-mounts.html
"""
from __future__ import annotations

import hashlib
import signal
import threading
import time

from .container import Container
from .knobs import KnobError, Knobs, start_background

VERSION = "1.0.0"
_LESSONS = ("ecs-101", "fargate-201", "appmesh-301", "security-205", "troubleshoot-206")


def _settings(container: Container) -> tuple[str, float, int, int]:
    env = container.env
    interval = float(env.get("JOB_INTERVAL_SECONDS", "1"))
    if interval <= 0:
        raise ValueError("JOB_INTERVAL_SECONDS must be > 0")
    return (env.get("SCRATCH_DIR", "/scratch"), interval,
            int(env.get("MAX_JOBS", "0")), int(env.get("JOB_SIZE_KB", "64")))


def v1_0_0(container: Container) -> int:
    try:
        knobs = Knobs.from_env(container.env)
        scratch, interval, max_jobs, size_kb = _settings(container)
    except (KnobError, ValueError) as exc:
        container.log(f"invalid configuration: {exc}", "ERROR", version=VERSION)
        return 1
    stop = threading.Event()

    def on_sigterm(signum: int, frame: object) -> None:
        if knobs.ignore_sigterm:
            container.log("SIGTERM ignored (IGNORE_SIGTERM=true)", "WARNING")
            return
        container.log("shutting down", "INFO", signal="SIGTERM")
        stop.set()

    signal.signal(signal.SIGTERM, on_sigterm)
    signal.signal(signal.SIGINT, on_sigterm)
    start_background(knobs, time.monotonic(), container.log)
    container.log("worker started", "INFO", version=VERSION, scratch_dir=scratch, interval_seconds=interval)
    job = 0
    while not stop.is_set():
        job += 1
        lesson = _LESSONS[(job - 1) % len(_LESSONS)]
        path = f"{scratch.rstrip('/')}/job-{job:05d}-{lesson}.mp4"
        container.log("processing job", "INFO", job=job, lesson=lesson, version=VERSION)
        began = time.perf_counter()
        data = hashlib.sha256(f"{lesson}:{job}".encode()).digest() * (size_kb * 32)
        try:
            container.write_file(path, data)
        except OSError as exc:
            container.log(f"cannot write {path}: [Errno {exc.errno}] {exc.strerror}", "ERROR",
                          job=job, path=path, errno=exc.errno, version=VERSION)
            return 1
        container.log("job done", "INFO", job=job, path=path, bytes=len(data),
                      latency_ms=round((time.perf_counter() - began) * 1000, 2), version=VERSION)
        if max_jobs and job >= max_jobs:
            container.log("all jobs done", "INFO", jobs=job, version=VERSION)
            return 0
        stop.wait(interval)
    container.log("stopped", "INFO", jobs=job, version=VERSION)
    return 0
