"""Canary releases that decide for themselves, on App Mesh weighted routes.

A release is shifted to a little traffic, measured, and either advanced, promoted or rolled back,
with Flagger's vocabulary (`analysis`: interval, stepWeight/stepWeights, maxWeight, threshold,
metric checks and alarms), the canary's metrics read from CloudWatch where the proxies publish
them (`metrics`), and the decisions shown as they are made (`run`, `view`):

    analysis = canary.Analysis(interval=10, step_weight=10, max_weight=50, threshold=2,
                               metrics=(canary.request_success_rate(99), canary.request_duration(500)))
    report = canary.Canary(session, route, source, analysis).run()

`replay` shows what an analysis would decide from a series of readings, without waiting.
"""
from mylearning.canary.analysis import (DURATION, PHASES, SUCCESS_RATE, Analysis, Event, Machine, Measurement,
                                        MetricCheck, replay, request_duration, request_success_rate)
from mylearning.canary.metrics import SETTLE_SECONDS, Reading, Source, alarm_states, read, window
from mylearning.canary.run import Canary, Report, Route

__all__ = ["Analysis", "Canary", "DURATION", "Event", "Machine", "Measurement", "MetricCheck", "PHASES",
           "Reading", "Report", "Route", "SETTLE_SECONDS", "SUCCESS_RATE", "Source", "alarm_states", "read", "window",
           "replay", "request_duration", "request_success_rate"]
