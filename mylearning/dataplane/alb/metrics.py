"""``AWS/ApplicationELB`` metrics from what the data plane's load balancers really served.

Every request a listener answers is recorded; every publication interval (the one the task
metrics use, `telemetry.publish_interval`, so an alarm's scaled window is always supplied)
the period's figures go to CloudWatch through PutMetricData, as the ALB publishes them
(https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html):

* ``RequestCount`` (Sum), by ``LoadBalancer`` and by ``TargetGroup, LoadBalancer``;
* ``HTTPCode_Target_2XX_Count`` ... ``5XX`` (answers of targets), ``HTTPCode_ELB_3XX_Count``
  (redirects), ``HTTPCode_ELB_4XX_Count`` / ``HTTPCode_ELB_5XX_Count`` (fixed responses and
  the ALB's own errors) with ``HTTPCode_ELB_502/503/504_Count``;
* ``TargetResponseTime`` in seconds, from the request leaving the ALB to the target's
  response headers, sent as the period's values (``Values``/``Counts``, rounded to 0.1 ms)
  so averages and percentiles (p50, p99) are CloudWatch's own;
* ``RequestCountPerTarget`` (Sum), by ``TargetGroup`` and ``TargetGroup, LoadBalancer``: the
  group's requests divided by its healthy targets -- what target tracking's
  ``ALBRequestCountPerTarget`` follows;
* ``HealthyHostCount`` / ``UnHealthyHostCount``, by ``TargetGroup, LoadBalancer``, every period
  for each group a listener uses.

Dimension values are the ARN suffixes AWS uses (``app/name/id``, ``targetgroup/name/id``).
Request metrics are sent only for periods with requests, as the ALB reports "only when
requests flow"; Availability Zone dimensions are not published.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable

from mylearning.facts.elbv2 import metric_dimension

NAMESPACE = "AWS/ApplicationELB"
#: "Values ... up to 150 unique values in each PutMetricData action" (API_MetricDatum.html).
MAX_VALUES = 150


dimension = metric_dimension  # ``app/name/id`` of a load balancer, ``targetgroup/name/id`` of a group


@dataclass
class _Window:
    counts: Counter = field(default_factory=Counter)                 # (lb, tg or None, metric) -> n
    times: dict = field(default_factory=lambda: defaultdict(Counter))  # (lb, tg or None) -> {seconds: n}


class AlbMetrics:
    """The current period's requests; `metric_data` closes it."""

    def __init__(self) -> None:
        self._window = _Window()

    def record(self, lb: str, group: str | None, status: int, from_target: bool,
               seconds: float | None = None) -> None:
        counts = self._window.counts
        keys = [(lb, None)] + ([(lb, group)] if group else [])
        for key in keys:
            counts[key + ("RequestCount",)] += 1
        bucket = f"{status // 100}XX"
        if from_target:
            for key in keys:
                counts[key + (f"HTTPCode_Target_{bucket}_Count",)] += 1
                if seconds is not None:
                    self._window.times[key][round(seconds, 4)] += 1
        else:
            counts[(lb, None, f"HTTPCode_ELB_{bucket}_Count")] += 1
            if status in (502, 503, 504):
                counts[(lb, None, f"HTTPCode_ELB_{status}_Count")] += 1

    def metric_data(self, groups: Iterable[Any], healthy: dict[str, tuple[int, int]],
                    timestamp: Any) -> list[dict]:
        """The period's MetricData entries; `groups` are the config's target groups and
        `healthy` their (healthy, unhealthy) counts, by ARN."""
        window, self._window = self._window, _Window()
        data: list[dict] = []

        def datum(name: str, dims: list[tuple[str, str]], unit: str, **value: Any) -> None:
            data.append({"MetricName": name, "Unit": unit, "Timestamp": timestamp,
                         "Dimensions": [{"Name": k, "Value": v} for k, v in dims], **value})

        def dims(lb: str, group: str | None) -> list[tuple[str, str]]:
            return ([("TargetGroup", dimension(group))] if group else []) + [("LoadBalancer", dimension(lb))]

        for (lb, group, name), count in sorted(window.counts.items(), key=str):
            datum(name, dims(lb, group), "Count", Value=float(count))
        for (lb, group), seen in sorted(window.times.items(), key=str):
            values = sorted(seen.items())
            for start in range(0, len(values), MAX_VALUES):
                part = values[start:start + MAX_VALUES]
                datum("TargetResponseTime", dims(lb, group), "Seconds",
                      Values=[v for v, _ in part], Counts=[float(n) for _, n in part])
        for group in groups:
            if not group.in_use:
                continue
            up, down = healthy.get(group.arn, (0, 0))
            total = 0
            for lb in group.load_balancers:
                datum("HealthyHostCount", dims(lb, group.arn), "Count", Value=float(up))
                datum("UnHealthyHostCount", dims(lb, group.arn), "Count", Value=float(down))
                requests = window.counts.get((lb, group.arn, "RequestCount"), 0)
                total += requests
                if requests:
                    datum("RequestCountPerTarget", dims(lb, group.arn), "Count", Value=requests / max(1, up))
            if total:
                datum("RequestCountPerTarget", [("TargetGroup", dimension(group.arn))], "Count",
                      Value=total / max(1, up))
        return data
