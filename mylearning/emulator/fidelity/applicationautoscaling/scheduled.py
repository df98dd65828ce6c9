"""Scheduled actions that run: at their time, an action sets its scalable target's minimum and
maximum capacity and moves the capacity inside them.

What AWS does (https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-scheduled-scaling.html
and scheduled-scaling-policy-overview.html): "A scheduled action sets the MinCapacity and
MaxCapacity to what is specified by the scheduled action"; "If current capacity is less than
the specified minimum capacity, Application Auto Scaling scales out (increases capacity) to the
specified minimum capacity. If current capacity is greater than the specified maximum capacity,
Application Auto Scaling scales in (decreases capacity) to the specified maximum capacity." An
ECS service's capacity is its desired count; it changes the way a scaling policy changes it
(`scaling.set_desired_count`, so the ECS scheduler starts or stops the tasks).

Each run leaves the scaling activities AWS shows for it
(https://docs.aws.amazon.com/autoscaling/application/userguide/scheduled-scaling-additional-cli-commands.html):
"Setting min capacity to 15 and max capacity to 20", cause "scheduled action name
my-first-scheduled-action was triggered", and, when the capacity moved, "Setting desired count
to 15." with cause "minimum capacity was set to 15" (or "maximum capacity was set to 10").
(AWS's example sets both bounds; an action with one words only that one, "Setting min capacity
to 15".) A minimum above the maximum the action leaves in place is not applied: a Failed
activity says so (AWS: "you must include both sizes to ensure that the new minimum capacity is
not greater than the maximum capacity"; what it does otherwise is not documented).

When (API_PutScheduledAction.html and scheduled-scaling-using-cron-expressions.html):

* ``at()`` and ``cron()`` are **wall-clock** times in the action's ``Timezone`` (UTC by
  default), as on AWS: the time scale (`mylearning.facts.clock`) does not compress the
  calendar, so ``cron(45 17 ? * MON-FRI *)`` runs at 17:45 on a weekday, whatever the scale.
  An ``at()`` time that has passed when the action is put never runs.
* ``rate()`` is a **wait**: its interval is the AWS duration divided by the time scale
  (``rate(1 minute)`` runs every 6 s at the default scale 10), counted from the moment the
  action was put (its first run is one interval later; putting it again starts over), or from
  its StartTime when that was still ahead. (When AWS runs a rate's first time is not
  documented; this is the emulator's reading.)
* ``StartTime``: "If you specify a start time, Application Auto Scaling performs the action at
  this time, and then performs the action based on the specified recurrence" (a start time
  still ahead when the action is put); no run happens before it. ``EndTime``: "the action stops
  repeating after this time" (recurring schedules; "The date and time for the recurring
  schedule to end, in UTC"). Both are wall-clock times, never scaled.
* ``SuspendedState.ScheduledScalingSuspended``: "while a suspension is in effect, all scaling
  activities that involve scheduled actions are suspended" (API_RegisterScalableTarget.html);
  a run due during the suspension is skipped, not made up later
  (application-auto-scaling-suspend-resume-scaling.html).
* A run that is late (the emulator was busy) happens once, however many were missed.

One daemon thread (started by the first PutScheduledAction) sleeps until the next action is
due, at most `IDLE` seconds, and holds ``core.STATE`` while it reads and runs them. A reset of
the account ends it (its generation is stale); the next PutScheduledAction starts another.
"""
from __future__ import annotations

import datetime
import logging
import math
import threading
import time
from dataclasses import dataclass
from typing import Any

from mylearning.emulator.fidelity.applicationautoscaling import schedules
from mylearning.emulator.fidelity.applicationautoscaling.scaling import (current_desired_count,
                                                                         record_activity,
                                                                         set_desired_count)
from mylearning.emulator.fidelity.core import STATE, AwsRequest, after, moto_backend, on_reset
from mylearning.facts import clock

SERVICE = "application-autoscaling"
#: Real seconds the thread sleeps at most between looks at the actions.
IDLE = 1.0
_WAKE = threading.Condition()
_generation = 0
_thread: threading.Thread | None = None
_log = logging.getLogger("mylearning.emulator")


@dataclass
class Plan:
    """When a scheduled action runs next (epoch seconds; None: never again)."""

    put_at: float
    next: float | None
    ran_start: bool = False


# ---------------------------------------------------------------- when an action runs

def _epoch(value: Any) -> float | None:
    """StartTime/EndTime as moto keeps them (boto3 sends epoch seconds; ISO text accepted)."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        pass
    try:
        moment = datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)  # "in UTC"
    return moment.timestamp()


def next_run(schedule: str, timezone: str | None, start: float | None, end: float | None,
             put_at: float, after: float, ran_start: bool = False) -> float | None:
    """The first run strictly after `after` (epoch seconds) of an action put at `put_at`, or None.

    See the module doc for how each form, the time zone, StartTime and EndTime count."""
    try:
        parsed = schedules.parse(schedule)
        zone = schedules.zone(timezone)
    except schedules.ScheduleError:
        return None
    if isinstance(parsed, schedules.At):
        moment = parsed.moment(zone)
        if moment <= put_at or moment <= after or (start is not None and moment < start):
            return None
        return moment
    # Recurring: the start time itself first, when it was still ahead at put time.
    if start is not None and start > put_at and start > after and not ran_start:
        candidate: float | None = start
    elif isinstance(parsed, schedules.Rate):
        interval = max(clock.wait(parsed.seconds), 0.001)
        origin = start if start is not None and start > put_at else put_at
        k = max(1, math.floor((after - origin) / interval) + 1)
        candidate = origin + k * interval
    else:
        candidate = parsed.next_after(max(after, (start or after) - 1e-6), zone)
    if candidate is not None and end is not None and candidate > end:
        return None
    return candidate


def _plan(action: Any, put_at: float, now: float) -> Plan:
    start, end = _epoch(action.start_time), _epoch(action.end_time)
    return Plan(put_at, next_run(action.schedule or "", action.timezone, start, end, put_at, now))


# ---------------------------------------------------------------- PutScheduledAction

def _find(region: str, params: dict) -> Any:
    backend = moto_backend("applicationautoscaling", region)
    key = tuple(params.get(k) for k in ("ServiceNamespace", "ResourceId", "ScalableDimension",
                                        "ScheduledActionName"))
    return next((a for a in backend.scheduled_actions
                 if (a.service_namespace, a.resource_id, a.scalable_dimension,
                     a.scheduled_action_name) == key), None)


@after(SERVICE, "PutScheduledAction")
def _scheduled_action_put(req: AwsRequest, status: int, body: bytes) -> None:
    """A new or changed action is planned from now (a rate starts over), and the thread wakes."""
    action = _find(req.region, req.params)
    if action is not None:
        now = time.time()
        action._ml_plan = _plan(action, now, now)
    ensure_started()


def ensure_started() -> None:
    global _thread
    with _WAKE:
        if _thread is None or not _thread.is_alive():
            _thread = threading.Thread(target=_run, args=(_generation,), name="scheduled-scaling",
                                       daemon=True)
            _thread.start()
        _WAKE.notify_all()


@on_reset
def _reset() -> None:
    global _generation, _thread
    with _WAKE:
        _generation += 1
        _thread = None
        _WAKE.notify_all()


# ---------------------------------------------------------------- the thread

def _run(generation: int) -> None:
    while True:
        try:
            wait = _tick(generation)
        except Exception:  # one broken action must not stop the others
            _log.exception("scheduled scaling failed")
            wait = IDLE
        with _WAKE:
            if generation != _generation or wait is None:
                return
            _WAKE.wait(max(0.01, min(wait, IDLE)))


def _tick(generation: int) -> float | None:
    """Run the actions that are due; return the real seconds until the next one is."""
    from moto.applicationautoscaling.models import applicationautoscaling_backends
    from moto.core import DEFAULT_ACCOUNT_ID

    with STATE:
        if generation != _generation:
            return None
        now = time.time()
        soonest = now + IDLE
        for region, backend in list(dict.items(applicationautoscaling_backends[DEFAULT_ACCOUNT_ID])):
            for action in list(backend.scheduled_actions):
                plan = getattr(action, "_ml_plan", None)
                if plan is None:  # put some other way (not through the API): plan it from now
                    plan = action._ml_plan = _plan(action, now, now)
                if plan.next is None:
                    continue
                if plan.next <= now:
                    was_start = _epoch(action.start_time) == plan.next
                    _run_action(region, backend, action)
                    plan.ran_start = plan.ran_start or was_start
                    plan.next = next_run(action.schedule or "", action.timezone,
                                         _epoch(action.start_time), _epoch(action.end_time),
                                         plan.put_at, now, plan.ran_start)
                    if plan.next is None:
                        continue
                soonest = min(soonest, plan.next)
    return soonest - time.time()


def _run_action(region: str, backend: Any, action: Any) -> None:
    """One run of `action` (the caller holds STATE)."""
    target = (backend.targets.get(action.scalable_dimension) or {}).get(action.resource_id)
    if target is None:
        return
    if (target.suspended_state or {}).get("ScheduledScalingSuspended"):
        return
    wanted = action.scalable_target_action or {}
    low, high = wanted.get("MinCapacity"), wanted.get("MaxCapacity")
    if low is None and high is None:
        return
    parts = ([f"min capacity to {int(low)}"] if low is not None else []) + (
        [f"max capacity to {int(high)}"] if high is not None else [])
    setting = " and ".join(parts)
    cause = f"scheduled action name {action.scheduled_action_name} was triggered"
    new_low = int(low) if low is not None else target.min_capacity
    new_high = int(high) if high is not None else target.max_capacity
    if new_low is not None and new_high is not None and int(new_low) > int(new_high):
        record_activity(region, target, f"Setting {setting}", cause,
                        f"Failed to set {setting}: the minimum capacity ({new_low}) would be "
                        f"greater than the maximum capacity ({new_high}).", status="Failed",
                        ended=False)
        return
    target.min_capacity, target.max_capacity = new_low, new_high
    record_activity(region, target, f"Setting {setting}", cause, f"Successfully set {setting}",
                    ended=False)
    if target.service_namespace != "ecs":
        return
    current = current_desired_count(region, target.resource_id)
    if current is None:
        return
    if new_low is not None and current < int(new_low):
        capacity, why = int(new_low), f"minimum capacity was set to {int(new_low)}"
    elif new_high is not None and current > int(new_high):
        capacity, why = int(new_high), f"maximum capacity was set to {int(new_high)}"
    else:
        return
    if set_desired_count(region, target.resource_id, capacity):
        record_activity(region, target, f"Setting desired count to {capacity}.", why,
                        f"Successfully set desired count to {capacity}. Change successfully "
                        f"fulfilled by ecs.")
