"""The canary's metrics, read from CloudWatch as the App Mesh metrics extension publishes them.

The callers' proxies count, per target virtual node, ``envoy.appmesh.RequestCountPerTarget``,
``envoy.appmesh.HTTPCode_Target_5XX_Count`` and the timing ``envoy.appmesh.TargetResponseTime``,
with dimensions Mesh, VirtualGateway (or VirtualNode: the caller), TargetVirtualService,
TargetVirtualNode (https://docs.aws.amazon.com/app-mesh/latest/userguide/metrics.html), and the
CloudWatch agent adds ``metric_type`` (aws-app-mesh-examples, howto-metrics-extension-ecs). The
success rate is 100 x (1 - 5xx / requests); the duration is the p99 of the response times.
"""
from __future__ import annotations

import dataclasses
import datetime
import math
from typing import Any, Optional

from mylearning.canary.analysis import DURATION, READ_PERIOD, SUCCESS_RATE
from mylearning.facts.envoy import EXTENSION_PREFIX

REQUESTS = EXTENSION_PREFIX + "RequestCountPerTarget"
ERRORS = EXTENSION_PREFIX + "HTTPCode_Target_5XX_Count"
RESPONSE_TIME = EXTENSION_PREFIX + "TargetResponseTime"


@dataclasses.dataclass(frozen=True)
class Source:
    """Whose requests are measured, and where their proxy publishes: the caller (a virtual gateway
    or node) of `virtual_service`, in CloudWatch `namespace`."""
    namespace: str
    mesh: str
    caller: str
    virtual_service: str
    caller_kind: str = "VirtualGateway"

    def dimensions(self, node: str, metric_type: str) -> list[dict]:
        return [{"Name": "Mesh", "Value": self.mesh}, {"Name": self.caller_kind, "Value": self.caller},
                {"Name": "TargetVirtualService", "Value": self.virtual_service},
                {"Name": "TargetVirtualNode", "Value": node}, {"Name": "metric_type", "Value": metric_type}]


@dataclasses.dataclass(frozen=True)
class Reading:
    """One node's requests over a window, as CloudWatch gives them."""
    node: str
    start: float
    end: float
    requests: float
    errors: float
    p99_ms: Optional[float]

    @property
    def success_rate(self) -> Optional[float]:
        if not self.requests:
            return None
        return 100.0 * (1.0 - self.errors / self.requests)

    def values(self) -> dict[str, Optional[float]]:
        return {SUCCESS_RATE: self.success_rate, DURATION: self.p99_ms if self.requests else None}

    def __str__(self) -> str:
        rate = "no traffic" if self.success_rate is None else f"success {self.success_rate:.1f}%"
        p99 = "" if self.p99_ms is None else f", p99 {self.p99_ms:.1f} ms"
        return f"{self.node}: {self.requests:.0f} requests, {self.errors:.0f} 5xx, {rate}{p99}"


#: How long after a request its count is in CloudWatch: Envoy flushes its stats every 5 s and the
#: course's CloudWatch agent collects every second (`mylearning.mesh.sidecar.with_metrics`), plus
#: a second of margin.
SETTLE_SECONDS = 7


def window(changed_at: float, interval: int, settle: float = SETTLE_SECONDS) -> tuple[float, float]:
    """The 5-second periods that measure a step taken at `changed_at` and baked `interval` seconds:
    what was published from `settle` seconds after the change until `settle` seconds after the
    bake, widened to whole periods (GetMetricData rounds StartTime down to a multiple of the
    period: https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html).
    Widening keeps at least two of Envoy's 5-second flushes in every window; the first period may
    hold a few seconds of traffic sent just before the change."""
    start = math.floor((changed_at + settle) / READ_PERIOD) * READ_PERIOD
    end = math.ceil((changed_at + interval + settle) / READ_PERIOD) * READ_PERIOD
    return start, max(end, start + 2 * READ_PERIOD)


def read(session: Any, source: Source, node: str, start: float, end: float, period: int = READ_PERIOD) -> Reading:
    """`node`'s requests from `source` between `start` and `end` (epoch seconds). The p99 is the
    highest of the periods' p99s: percentiles of separate periods do not combine, and the worst
    one is what a latency check must not miss."""
    def query(qid: str, metric: str, kind: str, stat: str) -> dict:
        return {"Id": qid, "ReturnData": True, "MetricStat": {
            "Metric": {"Namespace": source.namespace, "MetricName": metric,
                       "Dimensions": source.dimensions(node, kind)},
            "Period": period, "Stat": stat}}

    answer = session.client("cloudwatch").get_metric_data(
        StartTime=datetime.datetime.fromtimestamp(start, tz=datetime.timezone.utc),
        EndTime=datetime.datetime.fromtimestamp(end, tz=datetime.timezone.utc),
        MetricDataQueries=[query("requests", REQUESTS, "counter", "Sum"), query("errors", ERRORS, "counter", "Sum"),
                           query("p99", RESPONSE_TIME, "timing", "p99")])
    found = {r["Id"]: r.get("Values") or [] for r in answer["MetricDataResults"]}
    p99 = max(found.get("p99") or [], default=None)
    return Reading(node, start, end, float(sum(found.get("requests", []))), float(sum(found.get("errors", []))), p99)


def alarm_states(session: Any, names: tuple[str, ...]) -> dict[str, str]:
    """Each named CloudWatch alarm's state (metric and composite alarms)."""
    if not names:
        return {}
    answer = session.client("cloudwatch").describe_alarms(AlarmNames=list(names),
                                                          AlarmTypes=["MetricAlarm", "CompositeAlarm"])
    return {a["AlarmName"]: a["StateValue"] for a in answer.get("MetricAlarms", []) + answer.get("CompositeAlarms", [])}
