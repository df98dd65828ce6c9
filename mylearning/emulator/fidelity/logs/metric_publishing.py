"""Log events become CloudWatch metrics: each PutLogEvents through the group's metric filters.

"CloudWatch Logs uses these metric filters to turn log data into numerical CloudWatch
metrics that you can graph or set an alarm on"; "Filters do not retroactively filter data"
(MonitoringLogData.html). For each accepted event a filter matches, one datapoint of the
transformation's metric: its ``metricValue`` (a number, or the extracted field, skipped when
that is not a number), at the event's timestamp, with its ``unit`` and the ``dimensions``
taken from extracted fields (an event that lacks one publishes nothing: a metric's
dimensions are part of its identity). The ``defaultValue`` is "The value reported to the
metric filter during a period when logs are ingested but no matching logs are found"
(MonitoringLogData.html): here, one datapoint for each minute of the batch's events in which
the filter matched none.

The datapoints go to the emulator's own CloudWatch (moto's store, which the alarm evaluator
and GetMetricData read), in process: both are the control plane. Events PutLogEvents
rejects as too old, too new or expired (``rejectedLogEventsInfo``) publish nothing.
"""
from __future__ import annotations

import datetime
import json
from typing import Any

from mylearning.emulator.fidelity.core import AwsRequest, after, moto_backend
from mylearning.emulator.fidelity.logs.access import SERVICE, backend, group_name
from mylearning.emulator.fidelity.logs.filter_patterns import MISSING, select
from mylearning.emulator.fidelity.logs.metric_filters import filters_of

MINUTE = 60_000


def _accepted(events: list[dict], body: bytes) -> list[dict]:
    try:
        rejected = json.loads(body or b"{}").get("rejectedLogEventsInfo") or {}
    except ValueError:
        rejected = {}
    low = max(rejected.get("tooOldLogEventEndIndex", -1), rejected.get("expiredLogEventEndIndex", -1))
    high = rejected.get("tooNewLogEventStartIndex", len(events))
    return [e for i, e in enumerate(events) if low < i < high]


def field_value(reference: str, message: str, extracted: dict[str, str]) -> Any:
    """A ``$.selector`` from the event's JSON, or a ``$name`` a space-delimited pattern extracted."""
    if reference.startswith("$."):
        try:
            document = json.loads(message)
        except ValueError:
            return None
        found = select(document, reference)
        return None if found is MISSING else found
    return extracted.get(reference)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _datum(t: dict, value: float, ms: int, dimensions: list[dict] | None = None) -> dict:
    datum: dict[str, Any] = {"MetricName": t["metricName"], "Value": value,
                             # naive UTC, as moto keeps the datums PutMetricData stores
                             "Timestamp": datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc)
                             .replace(tzinfo=None),
                             "Dimensions": dimensions or []}
    if t.get("unit"):
        datum["Unit"] = t["unit"]
    return datum


def datapoints(f: dict, events: list[dict]) -> dict[str, list[dict]]:
    """namespace -> the datums one filter makes of a batch of events."""
    out: dict[str, list[dict]] = {}
    pattern = f["pattern"]
    matched_minutes: set[int] = set()
    minutes: set[int] = set()
    for event in events:
        message, ms = str(event.get("message", "")), int(event.get("timestamp", 0))
        minutes.add(ms // MINUTE)
        extracted = pattern.match(message)
        if extracted is None:
            continue
        matched_minutes.add(ms // MINUTE)
        for t in f["metricTransformations"]:
            raw = t.get("metricValue", "1")
            value = _number(field_value(raw, message, extracted)) if str(raw).startswith("$") else _number(raw)
            if value is None:
                continue
            dimensions = []
            for name, reference in (t.get("dimensions") or {}).items():
                found = field_value(str(reference), message, extracted)
                if found is None or isinstance(found, (dict, list)):
                    break
                dimensions.append({"Name": name, "Value": str(found)})
            else:
                out.setdefault(t["metricNamespace"], []).append(_datum(t, value, ms, dimensions))
    for t in f["metricTransformations"]:
        if t.get("defaultValue") is None:
            continue
        for minute in sorted(minutes - matched_minutes):
            out.setdefault(t["metricNamespace"], []).append(_datum(t, float(t["defaultValue"]), minute * MINUTE))
    return out


@after(SERVICE, "PutLogEvents")
def publish(req: AwsRequest, status: int, body: bytes) -> None:
    name = req.params.get("logGroupName") or group_name(str(req.params.get("logGroupIdentifier", "")))
    group = backend(req.region).groups.get(name)
    if group is None or not filters_of(group):
        return
    events = _accepted(list(req.params.get("logEvents") or []), body)
    if not events:
        return
    cloudwatch = moto_backend("cloudwatch", req.region)
    for f in list(filters_of(group).values()):
        for namespace, data in datapoints(f, events).items():
            cloudwatch.put_metric_data(namespace, data)
