"""How a metric alarm's state follows its datapoints: the CloudWatch User Guide's "Evaluating an
alarm" and "Configuring how CloudWatch alarms treat missing data"
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-evaluation.html,
AlarmThatSendsEmail.html#alarms-evaluating-missing-data). Pure: `evaluate` takes the
datapoints of the evaluation range and gives the new state; `evaluator` feeds it.

* **Datapoints**: one per period, the alarm's Statistic (SampleCount, Sum, Average, Minimum,
  Maximum) or ExtendedStatistic (pNN, tmNN, wmNN, tcNN, tsNN, also with bounds, IQM, and the
  percentile rank PR) of the stored values (`datapoints`), or of its Metrics' expression.
* **M out of N**: the N (EvaluationPeriods) most recent datapoints are evaluated; M
  (DatapointsToAlarm, N when not set) or more breaching is ALARM, fewer is OK.
* **Evaluation range**: CloudWatch "attempts to retrieve a higher number of data points than
  specified by Evaluation Periods" without saying how many; its examples retrieve 5 for N = 3,
  so the range here is N + 2 periods (`range_size`).
* **Missing data**: with N or more real datapoints in the range, the N most recent real ones
  are evaluated and TreatMissingData does not matter. With fewer, every real one is evaluated
  and the most recent missing periods fill up to N: ``breaching`` counts them breaching,
  ``notBreaching`` not. With ``missing`` and ``ignore`` they count as neither: ALARM if the real
  ones alone make M, else OK if any real one is not breaching; otherwise (all real ones
  breaching, too few) ``ignore`` keeps the state and ``missing`` gives ALARM when the oldest
  evaluated datapoint is real and INSUFFICIENT_DATA when it is missing. With no real datapoint
  at all: INSUFFICIENT_DATA, the same state, ALARM, OK. This reproduces every row of the
  guide's two example tables (tests/emulator/fidelity/test_alarm_evaluation.py).
* **Low sample counts**: with EvaluateLowSampleCountPercentile ``ignore``, a percentile alarm
  whose evaluated periods hold fewer than 10/(1-p) samples (p >= 0.5) or 10/p (p < 0.5) keeps
  its state ("Percentile-based alarms and low data samples").
* Anomaly-detection operators need a model the embedded AWS does not have: such an alarm, and
  one whose expression cannot be computed, goes to INSUFFICIENT_DATA and says why.

StateReason and StateReasonData are worded as CloudWatch words them ("Threshold Crossed: 1
datapoint [85.3 (01/12/26 14:31:00)] was greater than the threshold (70.0)."; the datapoints
newest first, stamped dd/mm/yy in UTC).
"""
from __future__ import annotations

import datetime
import operator
import re
import time
from dataclasses import dataclass
from typing import Any, Callable

from mylearning.emulator.fidelity.cloudwatch.history import iso

ALARM, OK, INSUFFICIENT = "ALARM", "OK", "INSUFFICIENT_DATA"
OPERATORS: dict[str, tuple[Callable[[float, float], bool], str]] = {
    "GreaterThanOrEqualToThreshold": (operator.ge, "greater than or equal to"),
    "GreaterThanThreshold": (operator.gt, "greater than"),
    "LessThanThreshold": (operator.lt, "less than"),
    "LessThanOrEqualToThreshold": (operator.le, "less than or equal to")}
TREATMENTS = ("missing", "ignore", "breaching", "notBreaching")


@dataclass(frozen=True)
class Settings:
    """What of an alarm decides its state (the PutMetricAlarm members of the same names)."""

    period: int
    evaluation_periods: int
    comparison: str
    threshold: float | None
    datapoints_to_alarm: int | None = None
    treat_missing_data: str | None = None
    statistic: str | None = None
    extended_statistic: str | None = None
    unit: str | None = None
    low_sample_count: str | None = None  # EvaluateLowSampleCountPercentile

    @property
    def m(self) -> int:
        return min(self.datapoints_to_alarm or self.evaluation_periods, self.evaluation_periods)

    @property
    def treatment(self) -> str:
        return self.treat_missing_data if self.treat_missing_data in TREATMENTS else "missing"


@dataclass(frozen=True)
class Point:
    """One period of the evaluation range: its start (epoch seconds) and value, if any."""

    start: float
    value: float | None
    samples: float | None = None


@dataclass(frozen=True)
class Outcome:
    state: str
    reason: str
    data: dict | None = None


def range_size(settings: Settings) -> int:
    return settings.evaluation_periods + 2


def stamp(start: float) -> str:
    return time.strftime("%d/%m/%y %H:%M:%S", time.gmtime(start))


def _iso(moment: float) -> str:
    return iso(datetime.datetime.fromtimestamp(moment, datetime.timezone.utc))


def _number(value: float) -> str:
    return repr(float(value))


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def evaluate(settings: Settings, points: list[Point], state: str, now: float,
             unsupported: str | None = None) -> Outcome | None:
    """The alarm's state after this evaluation (None: it keeps its state and reason).
    `points` is the evaluation range, oldest first; `unsupported` says why it cannot be computed."""
    if unsupported is None and settings.comparison not in OPERATORS:
        unsupported = (f"the {settings.comparison} operator needs an anomaly detection model, "
                       "which the embedded AWS does not have")
    if unsupported is None and settings.threshold is None:
        unsupported = "the alarm has no threshold"
    if unsupported is not None:
        return Outcome(INSUFFICIENT, f"Unchecked: {unsupported}.")
    n, m, how = settings.evaluation_periods, settings.m, settings.treatment
    compare, words = OPERATORS[settings.comparison]
    threshold = float(settings.threshold)

    def breach(point: Point) -> bool:
        return compare(float(point.value or 0.0), threshold)
    real = [p for p in points if p.value is not None]
    if _low_samples(settings, real[-n:]):
        return None
    breaches = [p for p in real if breach(p)]
    if not real:
        if how == "ignore":
            return None
        if how == "missing":
            return Outcome(INSUFFICIENT, f"Insufficient Data: {_plural(n, 'datapoint')} "
                                         f"{'was' if n == 1 else 'were'} unknown.", _data(settings, [], now))
        new = ALARM if how == "breaching" else OK
        treated = "Breaching" if how == "breaching" else "NonBreaching"
        return Outcome(new, f"Threshold Crossed: no datapoints were received for {_plural(n, 'period')} "
                            f"and {_plural(n, 'missing datapoint')} {'was' if n == 1 else 'were'} "
                            f"treated as [{treated}].", _data(settings, [], now))
    if len(real) >= n:
        evaluated, filled = real[-n:], 0
        breaching = sum(breach(p) for p in evaluated)
    else:
        evaluated, filled = real, n - len(real)
        breaching = len(breaches) + (filled if how == "breaching" else 0)
        if how in ("missing", "ignore") and breaching < m and len(breaches) == len(real):
            if how == "ignore":
                return None
            missing_starts = [p.start for p in points if p.value is None][-filled:]
            if min(missing_starts) < real[0].start:
                return Outcome(INSUFFICIENT, f"Insufficient Data: {_plural(filled, 'datapoint')} "
                                             f"{'was' if filled == 1 else 'were'} unknown.",
                               _data(settings, evaluated, now))
            breaching = m  # the oldest evaluated datapoint breaches and none does not
    new = ALARM if breaching >= m else OK
    shown = [p for p in evaluated if breach(p) == (new == ALARM)]
    return Outcome(new, _reason(settings, new, state, shown, filled if how in ("breaching", "notBreaching") else 0,
                                words), _data(settings, evaluated, now))


def _low_samples(settings: Settings, evaluated: list[Point]) -> bool:
    if settings.low_sample_count != "ignore" or not settings.extended_statistic:
        return False
    m = re.fullmatch(r"p(\d+(?:\.\d+)?)", settings.extended_statistic)
    if not m or not 0 < float(m.group(1)) < 100:
        return False
    p = float(m.group(1)) / 100
    needed = 10 / (1 - p) if p >= 0.5 else 10 / p
    return any((point.samples or 0) < needed for point in evaluated)


def _reason(settings: Settings, new: str, old: str, shown: list[Point], filled: int, words: str) -> str:
    n, k, threshold = settings.evaluation_periods, len(shown), float(settings.threshold or 0.0)
    listed = ", ".join(f"{_number(p.value or 0.0)} ({stamp(p.start)})" for p in reversed(shown))
    verb = "was" if k == 1 else "were"
    op = words if new == ALARM else f"not {words}"
    need = settings.m if new == ALARM else n - settings.m + 1
    if k == n and settings.m == n and not filled:
        return (f"Threshold Crossed: {_plural(k, 'datapoint')} [{listed}] {verb} {op} the threshold "
                f"({_number(threshold)}).")
    text = (f"Threshold Crossed: {k} out of the last {n} datapoints [{listed}] {verb} {op} the "
            f"threshold ({_number(threshold)})")
    if filled:
        treated = "Breaching" if settings.treatment == "breaching" else "NonBreaching"
        text += (f" and {_plural(filled, 'missing datapoint')} {'was' if filled == 1 else 'were'} "
                 f"treated as [{treated}]")
    return text + f" (minimum {_plural(need, 'datapoint')} for {old} -> {new} transition)."


def _data(settings: Settings, evaluated: list[Point], now: float) -> dict[str, Any]:
    """StateReasonData, as CloudWatch writes it for a metric alarm."""
    data: dict[str, Any] = {"version": "1.0", "queryDate": _iso(now)}
    if evaluated:
        data["startDate"] = _iso(evaluated[0].start)
    if settings.statistic:
        data["statistic"] = settings.statistic
    if settings.extended_statistic:
        data["extendedStatistic"] = settings.extended_statistic
    if settings.unit:
        data["unit"] = settings.unit
    data.update({"period": settings.period, "recentDatapoints": [p.value for p in evaluated],
                 "threshold": settings.threshold,
                 "evaluatedDatapoints": [
                     {"timestamp": _iso(p.start), **({"sampleCount": float(p.samples)} if p.samples else {}),
                      "value": p.value} for p in reversed(evaluated)]})
    return data
