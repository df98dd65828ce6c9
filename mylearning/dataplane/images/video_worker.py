"""video-worker: MyLearning's transcoder, a worker with no port.

It shows what a worker teaches that a web service cannot: a container that needs
scratch space. On a task with readonlyRootFilesystem it can only write to a mounted
volume, so without one its first job fails with EROFS and it exits 1 (lab 03's lesson);
with a bind mount or ephemeral volume at SCRATCH_DIR it works. MAX_JOBS makes it a
batch job that exits 0, for dependsOn SUCCESS/COMPLETE.
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/bind-mounts.html

Having no port, it proves it is alive with a heartbeat file, `$SCRATCH_DIR/heartbeat`,
which lab 03's container health check reads:
``test -n "$(find /scratch/heartbeat -mmin -1)" || exit 1`` (healthy while the file is
less than a minute old). The worker writes it through the container's `write_file`, so a
read-only root and the mounts apply as to its jobs: once before its first job (so the
health check's start period is not spent waiting for it), after every job, and at least
every HEARTBEAT_SECONDS (default 20, well inside the minute) while it waits for the next
job, so a long JOB_INTERVAL_SECONDS does not make a live worker look hung. A heartbeat
that cannot be written is logged, not fatal: noticing it is the health check's job, and
the first job's own write still fails the way lab 03 teaches.
https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_HealthCheck.html
"""
from __future__ import annotations

import hashlib
import signal
import threading
import time

from .container import Container
from .knobs import KnobError, Knobs, start_background

VERSION = "1.0.0"
HEARTBEAT = "heartbeat"
_LESSONS = ("ecs-101", "fargate-201", "appmesh-301", "security-205", "troubleshoot-206")


def _settings(container: Container) -> tuple[str, float, int, int, float]:
    env = container.env
    interval = float(env.get("JOB_INTERVAL_SECONDS", "1"))
    if interval <= 0:
        raise ValueError("JOB_INTERVAL_SECONDS must be > 0")
    beat = float(env.get("HEARTBEAT_SECONDS", "20"))
    if beat <= 0:
        raise ValueError("HEARTBEAT_SECONDS must be > 0")
    return (env.get("SCRATCH_DIR", "/scratch"), interval,
            int(env.get("MAX_JOBS", "0")), int(env.get("JOB_SIZE_KB", "64")), beat)


def heartbeat(container: Container, scratch: str, jobs: int) -> bool:
    """Rewrite the heartbeat file (its mtime is what the health check reads); False if it failed."""
    path = f"{scratch.rstrip('/')}/{HEARTBEAT}"
    try:
        container.write_file(path, f"{time.time():.3f} jobs={jobs}\n")
    except OSError as exc:
        container.log(f"cannot write heartbeat {path}: [Errno {exc.errno}] {exc.strerror}", "WARNING",
                      path=path, errno=exc.errno, version=VERSION)
        return False
    return True


def v1_0_0(container: Container) -> int:
    try:
        knobs = Knobs.from_env(container.env)
        scratch, interval, max_jobs, size_kb, beat = _settings(container)
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
    heartbeat(container, scratch, 0)
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
        heartbeat(container, scratch, job)
        if max_jobs and job >= max_jobs:
            container.log("all jobs done", "INFO", jobs=job, version=VERSION)
            return 0
        next_job = time.monotonic() + interval
        while not stop.wait(min(beat, max(0.0, next_job - time.monotonic()))):
            if time.monotonic() >= next_job:
                break
            heartbeat(container, scratch, job)
    container.log("stopped", "INFO", jobs=job, version=VERSION)
    return 0
