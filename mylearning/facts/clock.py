"""How fast the embedded AWS runs its waits.

On AWS a container health check runs every 30 s by default, a service ignores failing
health checks for its grace period, and the scheduler backs off between failed launches
for minutes. A lab that waited for all of that in real time would take an hour. The
embedded AWS (control plane and data plane alike) therefore divides every *wait* by
`time_scale()`: health-check intervals and start periods, health-check grace periods,
launch back-off, CloudWatch alarm periods (an alarm with a 60 s period is evaluated every
6 s, over 6 s windows of datapoints: see `mylearning.emulator.fidelity.cloudwatch.evaluator`),
the intervals of scheduled scaling's ``rate()`` expressions (``at()`` and ``cron()`` stay
wall-clock times, as on AWS: see `mylearning.emulator.fidelity.applicationautoscaling.scheduled`),
and the minutes of ECS's blue/green, linear and canary deployments -- bake times, and how long a
PAUSE lifecycle hook waits for a person before its timeout action (a wait for someone, not a
measure of how fast a process answers: see `mylearning.emulator.fidelity.ecs.blue_green`),
and CloudTrail's delivery of log files (every 5 AWS minutes, capped at 5 real seconds: see
`mylearning.emulator.fidelity.cloudtrail.delivery`).
It never scales a *timeout* (a health check's timeout, a container's stopTimeout): those
measure how fast real processes answer, and a faster clock would make a healthy app look
broken. Labs say so where a learner sees a wait.

The scale comes from ``MYLEARNING_TIME_SCALE`` (default 10; 1 is AWS's own pace); the
emulator passes its environment to its data plane, so both agree.
"""
from __future__ import annotations

import os

DEFAULT_TIME_SCALE = 10.0
ENV = "MYLEARNING_TIME_SCALE"


def time_scale() -> float:
    """The divisor applied to waits (>= 1; a bad value falls back to the default)."""
    try:
        value = float(os.environ.get(ENV, DEFAULT_TIME_SCALE))
    except ValueError:
        return DEFAULT_TIME_SCALE
    return value if value >= 1 else DEFAULT_TIME_SCALE


def wait(seconds: float) -> float:
    """`seconds` of AWS time, in seconds of this machine's time."""
    return max(0.0, float(seconds)) / time_scale()
