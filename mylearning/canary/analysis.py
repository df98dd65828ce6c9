"""A canary analysis's settings and decisions, without I/O: what Flagger decides, step by step.

Vocabulary and rules from Flagger's documentation (https://docs.flagger.app/usage/how-it-works,
"Canary analysis"; https://docs.flagger.app/usage/deployment-strategies, "Canary Release"):

* ``interval``: how long each step bakes before its metrics are checked;
* ``stepWeight`` and ``maxWeight``: the canary's share of traffic grows by ``stepWeight`` up to
  ``maxWeight``; or ``stepWeights``, the list of shares in order;
* ``threshold``: "number of failed metric checks before rollback"; failed checks add up over the
  whole analysis (they are not reset by a passing check);
* metric checks with a ``thresholdRange`` (``min`` for the request success rate in percent,
  ``max`` for the request duration in milliseconds), and alarms: a check with no data ("no
  values found", the canary received no traffic) halts advancement like a failed check;
* at weight 0 the first step is taken without a check (nothing has reached the canary yet); once
  the last weight has baked and passed, the canary is promoted (all traffic to it); when failed
  checks reach the threshold, all traffic goes back to the primary and the analysis fails.

Phases as Flagger names them: Initializing, Progressing, Promoting, Succeeded, Failed.
"""
from __future__ import annotations

import dataclasses
import time
from typing import Iterable, Mapping, Optional

PHASES = ("Initializing", "Progressing", "Promoting", "Succeeded", "Failed")
SUCCESS_RATE, DURATION = "request-success-rate", "request-duration"
#: The canary's metrics are read in 5-second periods, a period CloudWatch accepts for
#: high-resolution metrics (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricStat.html,
#: Period: 1, 5, 10, 30 or a multiple of 60), so an interval is a whole number of them.
READ_PERIOD = 5


@dataclasses.dataclass(frozen=True)
class MetricCheck:
    """One metric of the canary and the range it must stay in (Flagger's ``thresholdRange``)."""
    name: str
    min: Optional[float] = None
    max: Optional[float] = None

    def __post_init__(self) -> None:
        if self.name not in (SUCCESS_RATE, DURATION):
            raise ValueError(f"metric {self.name!r}: the analysis reads {SUCCESS_RATE!r} and {DURATION!r}")
        if self.min is None and self.max is None:
            raise ValueError(f"metric {self.name}: give its thresholdRange, min or max")

    def failure(self, value: Optional[float]) -> Optional[str]:
        """Why `value` fails the check (None when it passes)."""
        label = "success rate" if self.name == SUCCESS_RATE else "p99 latency"
        unit = "%" if self.name == SUCCESS_RATE else " ms"
        if value is None:
            return f"no values found for {self.name}: is the canary receiving traffic?"
        if self.min is not None and value < self.min:
            return f"{label} {value:.1f}{unit} < {self.min:g}{unit}"
        if self.max is not None and value > self.max:
            return f"{label} {value:.1f}{unit} > {self.max:g}{unit}"
        return None


def request_success_rate(minimum: float = 99.0) -> MetricCheck:
    """The share of the canary's requests that did not end in a 5xx, in percent, at least `minimum`."""
    return MetricCheck(SUCCESS_RATE, min=minimum)


def request_duration(maximum_ms: float = 500.0) -> MetricCheck:
    """The canary's p99 response time, in milliseconds, at most `maximum_ms`."""
    return MetricCheck(DURATION, max=maximum_ms)


@dataclasses.dataclass(frozen=True)
class Analysis:
    """Flagger's ``analysis`` block (interval in seconds)."""
    interval: int = 10
    threshold: int = 2
    max_weight: int = 50
    step_weight: int = 10
    step_weights: Optional[tuple[int, ...]] = None
    metrics: tuple[MetricCheck, ...] = (request_success_rate(99.0), request_duration(500.0))
    alarms: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.interval < READ_PERIOD or self.interval % READ_PERIOD:
            raise ValueError(f"interval {self.interval} s: each step is measured in {READ_PERIOD}-second "
                             f"CloudWatch periods, so use a multiple of {READ_PERIOD} s")
        if self.threshold < 1:
            raise ValueError("threshold: the number of failed checks before rollback is at least 1")
        if self.step_weights is not None:
            weights = tuple(self.step_weights)
            if not weights or any(not 0 < w <= 100 for w in weights) or list(weights) != sorted(set(weights)):
                raise ValueError(f"stepWeights {list(weights)}: increasing weights between 1 and 100")
            object.__setattr__(self, "step_weights", weights)
        elif not (0 < self.step_weight <= self.max_weight <= 100):
            raise ValueError(f"stepWeight {self.step_weight} and maxWeight {self.max_weight}: "
                             "0 < stepWeight <= maxWeight <= 100")
        object.__setattr__(self, "metrics", tuple(self.metrics))
        object.__setattr__(self, "alarms", tuple(self.alarms))

    def weights(self) -> list[int]:
        """The canary's weights, step by step."""
        if self.step_weights is not None:
            return list(self.step_weights)
        steps = list(range(self.step_weight, self.max_weight + 1, self.step_weight))
        return steps if steps[-1] == self.max_weight else steps + [self.max_weight]

    def longest_run(self) -> int:
        """Seconds the analysis takes when every check passes (each weight bakes one interval before
        its check), the time a learner plans traffic for."""
        return self.interval * len(self.weights())

    def rollback_bound(self) -> int:
        """Seconds from the first canary step to the rollback when every check fails: one interval
        per failed check (``interval x threshold``)."""
        return self.interval * self.threshold


@dataclasses.dataclass(frozen=True)
class Measurement:
    """What one interval's checks read: metric name -> value (None: no data), alarm -> state."""
    values: Mapping[str, Optional[float]]
    alarms: Mapping[str, str] = dataclasses.field(default_factory=dict)
    requests: Optional[float] = None


@dataclasses.dataclass(frozen=True)
class Event:
    at: float
    phase: str
    weight: int
    message: str


class Machine:
    """The analysis's state: phase, canary weight, failed checks, and the events so far."""

    def __init__(self, analysis: Analysis, clock=time.time) -> None:
        self.analysis = analysis
        self.clock = clock
        self.phase = "Initializing"
        self.weight = 0
        self.failed_checks = 0
        self.events: list[Event] = []
        self._steps = analysis.weights()
        self._next = 0

    @property
    def done(self) -> bool:
        return self.phase in ("Succeeded", "Failed")

    def _event(self, message: str) -> None:
        self.events.append(Event(self.clock(), self.phase, self.weight, message))

    def start(self) -> int:
        """The weight to begin with: the first step, taken without a check."""
        if self.phase != "Initializing":
            raise RuntimeError(f"the analysis already started (phase {self.phase})")
        self._event("Starting canary analysis")
        self.phase = "Progressing"
        return self._advance()

    def _advance(self) -> int:
        self.weight = self._steps[self._next]
        self._next += 1
        self._event(f"Advance canary weight {self.weight}")
        return self.weight

    def failures(self, measurement: Measurement) -> list[str]:
        reasons = [why for check in self.analysis.metrics
                   if (why := check.failure(measurement.values.get(check.name))) is not None]
        for alarm in self.analysis.alarms:
            state = measurement.alarms.get(alarm)
            if state == "ALARM":
                reasons.append(f"alarm {alarm} is in ALARM")
            elif state is None:
                reasons.append(f"alarm {alarm} not found")
        return reasons

    def observe(self, measurement: Measurement) -> int:
        """One interval's checks; returns the canary weight to set now."""
        if self.phase != "Progressing":
            raise RuntimeError(f"nothing to check in phase {self.phase}")
        reasons = self.failures(measurement)
        if reasons:
            self.failed_checks += 1
            self._event("Halt advancement: " + "; ".join(reasons))
            if self.failed_checks >= self.analysis.threshold:
                self._event(f"Rolling back: failed checks threshold reached {self.failed_checks}")
                self.phase, self.weight = "Failed", 0
                self._event("Canary failed! All traffic is back on the primary")
            return self.weight
        if self._next < len(self._steps):
            return self._advance()
        self.phase = "Promoting"
        self.weight = 100
        self._event("Promoting: routing all traffic to the canary")
        self.phase = "Succeeded"
        self._event("Promotion completed! The canary is the new primary")
        return self.weight


def replay(analysis: Analysis, measurements: Iterable[Measurement]) -> Machine:
    """The machine after `measurements`, one per interval (no I/O, no waiting): how a learner or a
    test sees what an analysis would decide from a series of readings."""
    machine = Machine(analysis, clock=iter(range(10**9)).__next__)
    machine.start()
    for measurement in measurements:
        if machine.done:
            break
        machine.observe(measurement)
    return machine
