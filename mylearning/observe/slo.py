"""Service level objectives as CloudWatch alarms: the error budget of a target, and multi-window,
multi-burn-rate alerts over load balancer metrics.

* The **error budget** is what the target leaves: a 99.99% SLO over 30 days allows 0.01% of the
  requests (or of the minutes) to be bad, 4.32 minutes.
* The **burn rate** is how fast the budget goes: 1 spends it exactly over the SLO's period; 14.4
  spends 2% of a 30-day budget in one hour. Alerting on SLOs (Google's SRE workbook,
  https://sre.google/workbook/alerting-on-slos/) pages when the budget burns at 14.4 over the last
  hour *and* the last 5 minutes (the short window makes the alert stop soon after the problem does),
  or at 6 over 6 hours and 30 minutes.
* Each window is a **metric math alarm** (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Create-alarm-on-metric-math-expression.html):
  the bad share of requests over the window, compared with burn rate x (1 - target). For
  availability the bad requests are the targets' 5xx (``HTTPCode_Target_5XX_Count`` over
  ``RequestCount``); for latency they are the requests slower than the objective, from the
  percentile rank ``PR(:seconds)`` of ``TargetResponseTime`` (the percentage of requests at or
  under it: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Statistics-definitions.html).
* A **composite alarm** joins the windows: ``(ALARM(long) AND ALARM(short)) OR ...``
  (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Create_Composite_Alarm.html).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Sequence

ALB_NAMESPACE = "AWS/ApplicationELB"
DAY_SECONDS = 86400


@dataclass(frozen=True)
class Window:
    """A burn-rate alert: `burn_rate` over both `long_seconds` and `short_seconds`."""
    long_seconds: int
    short_seconds: int
    burn_rate: float

    def budget_share(self, period_days: float) -> float:
        """The share of the period's error budget this alert lets burn in its long window."""
        return self.burn_rate * self.long_seconds / (period_days * DAY_SECONDS)


#: The SRE workbook's two paging alerts for a 30-day SLO: 2% of the budget in 1 h, 5% in 6 h.
PAGE_WINDOWS = (Window(3600, 300, 14.4), Window(21600, 1800, 6.0))


@dataclass(frozen=True)
class Objective:
    """An SLO: `target` percent of requests good over `period_days`."""
    name: str
    target: float
    period_days: float = 30.0

    def __post_init__(self) -> None:
        if not 0 < self.target < 100:
            raise ValueError(f"An SLO target is a percentage between 0 and 100 (exclusive), not {self.target}")
        if self.period_days <= 0:
            raise ValueError("An SLO's period must be positive")

    @property
    def budget(self) -> float:
        """The bad share allowed, 0..1 (0.0001 for 99.99%)."""
        return round(1 - self.target / 100, 12)

    def budget_minutes(self) -> float:
        """The minutes of full outage the budget allows over the period."""
        return self.budget * self.period_days * 24 * 60

    def budget_requests(self, requests: int) -> float:
        """The bad requests the budget allows out of `requests` over the period."""
        return self.budget * requests

    def threshold(self, window: Window) -> float:
        """The bad share (0..1) above which `window`'s alarms fire: burn rate x budget."""
        return window.burn_rate * self.budget


def _label(seconds: int) -> str:
    return f"{seconds // 3600}h" if seconds % 3600 == 0 else f"{seconds // 60}m"


def alarm_name(prefix: str, objective: Objective, seconds: int) -> str:
    return f"{prefix}-slo-{objective.name}-{_label(seconds)}"


def bad_share_queries(kind: str, load_balancer: str, period: int, *, latency_seconds: float = 1.0) -> list[dict]:
    """The metric math (MetricDataQuery dicts) whose ``bad`` expression is the share of bad
    requests over `period` at `load_balancer` (its ``app/name/id``): ``availability`` or ``latency``."""
    dims = [{"Name": "LoadBalancer", "Value": load_balancer}]

    def stat(ident: str, metric: str, statistic: str) -> dict:
        return {"Id": ident, "ReturnData": False, "MetricStat": {
            "Metric": {"Namespace": ALB_NAMESPACE, "MetricName": metric, "Dimensions": dims},
            "Period": period, "Stat": statistic}}

    if kind == "availability":
        return [stat("errors", "HTTPCode_Target_5XX_Count", "Sum"), stat("requests", "RequestCount", "Sum"),
                {"Id": "bad", "Expression": "FILL(errors, 0) / requests", "Label": "5xx share", "ReturnData": True}]
    if kind == "latency":
        return [stat("fast", "TargetResponseTime", f"PR(:{latency_seconds:g})"),
                {"Id": "bad", "Expression": "(100 - fast) / 100",
                 "Label": f"share slower than {latency_seconds:g} s", "ReturnData": True}]
    raise ValueError(f"kind is 'availability' or 'latency', not {kind!r}")


def burn_rate_alarms(prefix: str, objective: Objective, kind: str, load_balancer: str, *,
                     windows: Sequence[Window] = PAGE_WINDOWS, latency_seconds: float = 1.0,
                     tags: Iterable[dict] = ()) -> list[dict]:
    """PutMetricAlarm arguments, one per window length, for `objective` measured as `kind`."""
    out = []
    for window in windows:
        threshold = objective.threshold(window)
        for seconds in (window.long_seconds, window.short_seconds):
            out.append({
                "AlarmName": alarm_name(prefix, objective, seconds),
                "AlarmDescription": (f"{objective.name}: the {kind} SLO ({objective.target:g}% over "
                                     f"{objective.period_days:g} days) burns its budget at {window.burn_rate:g}x "
                                     f"or faster over {_label(seconds)}"),
                "Metrics": bad_share_queries(kind, load_balancer, seconds, latency_seconds=latency_seconds),
                "EvaluationPeriods": 1, "DatapointsToAlarm": 1, "Threshold": threshold,
                "ComparisonOperator": "GreaterThanThreshold", "TreatMissingData": "notBreaching",
                "Tags": list(tags)})
    return out


def composite_rule(prefix: str, objective: Objective, windows: Sequence[Window] = PAGE_WINDOWS) -> str:
    """``(ALARM(long) AND ALARM(short)) OR ...`` over `objective`'s window alarms."""
    return " OR ".join(f"(ALARM(\"{alarm_name(prefix, objective, w.long_seconds)}\") AND "
                       f"ALARM(\"{alarm_name(prefix, objective, w.short_seconds)}\"))" for w in windows)


def bad_share(session: Any, kind: str, load_balancer: str, start: float, end: float, *,
              latency_seconds: float = 1.0, period: int = 10, show: bool = True) -> float | None:
    """The worst `period`'s bad share of requests between `start` and `end` (epoch seconds; the
    periods wholly inside them), or None when no request was served then. A short period shows a
    fix at once, where a window alarm keeps the bad minutes in its window until they age out."""
    from mylearning.observe import metrics
    begin = -(-start // period) * period
    found = metrics.series(session, bad_share_queries(kind, load_balancer, period, latency_seconds=latency_seconds),
                           begin, max(end, begin + period), show=show)
    values = [v for t, v in found.get("bad", []) if t + period <= end + 1]
    return max(values) if values else None
