"""The alarm evaluator: a daemon thread that evaluates every metric alarm on its period, from the
datapoints really stored, and changes its state (`evaluation` decides; `composite` records the
change in the history and re-evaluates the composite alarms above; `actions` acts on it).

**Time scale.** The embedded AWS divides every wait by `clock.time_scale()`
(`mylearning.facts.clock`), and an alarm's period is a wait. An alarm whose Period is P AWS
seconds is evaluated every ``clock.wait(P)`` real seconds, and each of its datapoints aggregates
the stored datapoints whose real (wall-clock) timestamps fall in one window of P/scale real
seconds, windows being aligned on multiples of P/scale since the epoch (at scale 1, on the
minute for a 60 s alarm, as CloudWatch's periods are). At the default scale 10 a 60 s alarm
reads 6 s windows, so "3 out of 3" breaches within about 20 s. Every timestamp stays real: a
StateReason stamps each datapoint with its window's real start, StateReasonData and the
history carry the real time of the evaluation, so they agree with each other and with the
datapoints' own timestamps. GetMetricData, a read, is not scaled. The data plane publishes
its ECS metrics at least twice a scaled minute (`mylearning.dataplane.telemetry`), so a 60 s
alarm on them always has data; a high-resolution alarm (10, 20, 30 s) on them sees missing
periods unless the scale is low, as on AWS, where ECS metrics are one-minute metrics and such
an alarm "might often lapse into INSUFFICENT_DATA" (API_PutMetricAlarm.html, Period). With
MYLEARNING_TIME_SCALE=1 this is CloudWatch's own pace.

An alarm is evaluated `EVALUATION_DELAY` AWS seconds after each of its windows closes, over
complete windows only, as CloudWatch does (its StateReasonData for a queryDate of 11:26:05
evaluates the periods up to the one that began at 11:25). SetAlarmState's state "lasts only
until the next alarm comparison occurs" (AlarmThatSendsEmail.html); here that comparison is a
full period after the call, the longest AWS would wait.

The thread starts with the first metric alarm (PutMetricAlarm, or PutScalingPolicy, for which
moto creates target tracking alarms), so an emulator without alarms pays nothing. It holds
``core.STATE`` only to read the alarms and their datapoints and to apply the new states; it
evaluates in between. A reset of the account ends it; the next alarm starts another.
"""
from __future__ import annotations

import json
import logging
import math
import threading
import time
from dataclasses import dataclass
from typing import Any

from mylearning.emulator.fidelity.cloudwatch import actions, composite
from mylearning.emulator.fidelity.cloudwatch.common import LOCK, to_int
from mylearning.emulator.fidelity.cloudwatch.datapoints import MetricIndex, index_for, series
from mylearning.emulator.fidelity.cloudwatch.evaluation import (Outcome, Point, Settings, evaluate,
                                                                range_size)
from mylearning.emulator.fidelity.cloudwatch.metric_math import Context, MathError, evaluate as compute
from mylearning.emulator.fidelity.core import STATE, after, on_reset
from mylearning.facts import clock

#: AWS seconds between the end of a period and its evaluation.
EVALUATION_DELAY = 5.0
#: Real seconds the thread sleeps at most, so alarms moto creates on its own are found too.
IDLE = 1.0
_WAKE = threading.Condition()
_generation = 0
_thread: threading.Thread | None = None
_log = logging.getLogger("mylearning.emulator")


def ensure_started() -> None:
    """Start the evaluator if it does not run (called when an alarm is put)."""
    global _thread
    with _WAKE:
        if _thread is None or not _thread.is_alive():
            _thread = threading.Thread(target=_run, args=(_generation,), name="cloudwatch-alarms",
                                       daemon=True)
            _thread.start()
        _WAKE.notify_all()


def state_was_set(alarm: Any) -> None:
    """SetAlarmState: the alarm is compared again one full period from now (see module doc)."""
    width = _width(_settings(alarm)[0])
    alarm._ml_due = _due_after(time.time() + width, width)
    alarm._ml_evaluated = None  # its actions act on the data SetAlarmState gave


@after("application-autoscaling", "PutScalingPolicy")
def _scaling_policy_put(req: Any, status: int, body: bytes) -> None:
    ensure_started()


@on_reset
def _reset() -> None:
    global _generation, _thread
    with _WAKE:
        _generation += 1
        _thread = None
        _WAKE.notify_all()


# ---------------------------------------------------------------- what an alarm reads

def _settings(alarm: Any) -> tuple[Settings, str | None]:
    queries = alarm.metric_data_queries or []
    periods = [to_int(q.metric_stat.period) for q in queries if q.metric_stat is not None]
    period = min([p for p in periods if p], default=None) if queries else to_int(alarm.period)
    threshold = None if alarm.threshold is None else float(alarm.threshold)
    settings = Settings(
        period=period or 60, evaluation_periods=max(1, to_int(alarm.evaluation_periods) or 1),
        comparison=alarm.comparison_operator, threshold=threshold,
        datapoints_to_alarm=to_int(alarm.datapoints_to_alarm), treat_missing_data=alarm.treat_missing_data,
        statistic=alarm.statistic, extended_statistic=alarm.extended_statistic, unit=alarm.unit,
        low_sample_count=alarm.evaluate_low_sample_count_percentile)
    return settings, None if period else "the alarm's metrics have no period"


def _width(settings: Settings) -> float:
    return clock.wait(settings.period)


def _delay(width: float) -> float:
    return min(clock.wait(EVALUATION_DELAY), width / 4)


def _due_after(moment: float, width: float) -> float:
    """The first evaluation time after `moment`: the end of its window, plus the delay."""
    return (math.floor(moment / width) + 1) * width + _delay(width)


def _metric(stat: Any) -> dict:
    m = stat.metric
    return {"Namespace": m.namespace, "MetricName": m.metric_name, "Dimensions": m.dimensions}


def _points(index: MetricIndex, alarm: Any, settings: Settings, starts: list[float],
            width: float) -> tuple[list[Point], str | None]:
    """The evaluation range's datapoints (its windows start at `starts`), or why there are none."""
    queries = alarm.metric_data_queries or []
    if not queries:
        stat = alarm.extended_statistic or alarm.statistic
        metric = {"Namespace": alarm.namespace, "MetricName": alarm.metric_name,
                  "Dimensions": alarm.dimensions}
        found = series(index, metric, stat, starts, width, alarm.unit)
        return [Point(s, *found.get(s, (None, None))) for s in starts], None
    returned = [q for q in queries if q.return_data in (None, True, "true", "True")]
    if len(returned) != 1 or alarm.threshold_metric_id:
        return [], "anomaly detection bands are not computed by the embedded AWS"
    ctx = Context(grid=starts, seconds_per_unit=clock.time_scale())
    for q in queries:
        if q.metric_stat is not None:
            values = series(index, _metric(q.metric_stat), q.metric_stat.stat, starts, width,
                            q.metric_stat.unit)
            ctx.metrics[q.id] = {t: v for t, (v, _) in values.items()}
            ctx.periods[q.id] = to_int(q.metric_stat.period) or settings.period
        elif q.expression:
            ctx.expressions[q.id] = q.expression
    target = returned[0]
    if target.metric_stat is not None:
        result: Any = ctx.metrics[target.id]
    elif str(target.expression or "").lstrip().upper().startswith("SELECT"):
        return [], "Metrics Insights queries are not computed by the embedded AWS"
    else:
        try:
            result = compute(target.expression or "", ctx)
        except MathError as err:
            return [], f"the expression {target.expression} cannot be computed: {err}"
        if isinstance(result, list) and len(result) == 1:
            result = result[0][1]
        if not isinstance(result, dict):
            return [], f"the expression {target.expression} does not give one time series"
    return [Point(s, result.get(s)) for s in starts], None


# ---------------------------------------------------------------- the thread

def _run(generation: int) -> None:
    while True:
        try:
            wait = _tick(generation)
        except Exception:  # a broken alarm must not stop the others' evaluation
            _log.exception("alarm evaluation failed")
            wait = IDLE
        with _WAKE:
            if generation != _generation:
                return
            if wait is None:
                return
            _WAKE.wait(max(0.01, min(wait, IDLE)))


@dataclass
class _Job:
    """A due alarm, read under the lock; evaluated outside it."""

    region: str
    backend: Any
    alarm: Any
    state: str
    settings: Settings
    points: list[Point]
    unsupported: str | None


def _read(region: str, backend: Any, alarm: Any, index: MetricIndex, now: float) -> _Job:
    settings, why = _settings(alarm)
    width = _width(settings)
    last = math.floor((now - _delay(width)) / width)  # the window still filling up
    starts = [k * width for k in range(last - range_size(settings), last)]
    points: list[Point] = []
    if why is None:
        try:
            points, why = _points(index, alarm, settings, starts, width)
        except Exception as exc:  # say so in the alarm rather than stop evaluating the others
            _log.exception("reading the datapoints of alarm %s failed", alarm.name)
            why = f"the embedded AWS could not read its datapoints ({type(exc).__name__})"
    return _Job(region, backend, alarm, alarm.state_value, settings, points, why)


def _tick(generation: int) -> float | None:
    """Evaluate the alarms that are due; return the real seconds until the next one is."""
    from moto.cloudwatch.models import cloudwatch_backends
    from moto.core import DEFAULT_ACCOUNT_ID

    now = time.time()
    due: list[_Job] = []
    soonest = now + IDLE
    with STATE:
        if generation != _generation:
            return None
        for region, backend in list(dict.items(cloudwatch_backends[DEFAULT_ACCOUNT_ID])):
            index = None
            for alarm in [a for a in list(backend.alarms.values()) if a.rule is None]:
                width = _width(_settings(alarm)[0])
                if getattr(alarm, "_ml_due", None) is None:
                    alarm._ml_due = _due_after(now, width)
                if alarm._ml_due <= now:
                    index = index or index_for(region, backend)
                    due.append(_read(region, backend, alarm, index, now))
                    alarm._ml_due = _due_after(now, width)
                soonest = min(soonest, alarm._ml_due)
    outcomes = [(job, evaluate(job.settings, job.points, job.state, now, job.unsupported)) for job in due]
    if outcomes:
        with STATE, LOCK:
            if generation != _generation:
                return None
            for job, outcome in outcomes:
                _apply(job, outcome)
    return soonest - time.time()


def _apply(job: _Job, outcome: Outcome | None) -> None:
    alarm = job.alarm
    if job.backend.alarms.get(alarm.name) is not alarm or alarm.state_value != job.state:
        return  # deleted, replaced or set (SetAlarmState) since it was read
    if outcome is not None:
        # What this evaluation read, for the Auto Scaling actions it invokes: a repeat acts on the
        # newest datapoints, not on those of the last state change (StateReasonData keeps those).
        alarm._ml_evaluated = outcome.data
    if outcome is None or outcome.state == alarm.state_value:
        if outcome is not None and outcome.reason.startswith("Unchecked:"):
            alarm.state_reason = outcome.reason  # say why it stays INSUFFICIENT_DATA
        actions.repeat(job.region, alarm)
        return
    composite.change_state(job.backend, job.region, alarm, outcome.state, outcome.reason,
                           json.dumps(outcome.data) if outcome.data else "{}")
