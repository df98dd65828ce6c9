"""GetMetricWidgetImage, which moto 5.2 lacks (NotImplementedError): a PNG of the widget's
metrics drawn from the embedded AWS's own datapoints.

The widget is the JSON of "GetMetricWidgetImage: Metric Widget Structure and Syntax"
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Metric-Widget-Structure.html):
``metrics`` (required, 1–100 rows, with the dashboards' shorthand, `widget_metrics`), and
optionally ``stat`` (default Average), ``period`` (default 300), ``start`` (default -PT3H)
and ``end`` (default -PT0H) as relative durations or ISO 8601 times, ``width`` (default 600)
and ``height`` (default 400) in pixels, 1–2000 each, ``title``, ``view``, ``stacked``,
``yAxis``, ``annotations``, ``legend`` and ``timezone`` (+HHMM / -HHMM); ``region`` defaults
to the Region called. Each row's own stat, period, label, color, yAxis, id and visible win
over the widget's. Expressions are computed by the metric math GetMetricData uses
(`metric_data.compute`), so a widget graphs exactly what GetMetricData answers.

A metric without datapoints is no error: the image is still drawn, an empty graph, as
CloudWatch does for a metric that has no data in the time range (boto/boto3#1744).

The image is drawn by `widget_render` (matplotlib, imported on the first image, so the
emulator's start is not slowed by it). ``OutputFormat``: "Only PNG images are supported. The
default is png" (API_GetMetricWidgetImage.html); ``image/png`` is accepted and answered in the
same JSON shape (it is meant for custom HTTP requests, which SDKs never make).

Widget errors are answered as PutDashboard answers a body (`dashboards.invalid_body`), the data
paths rooted at the widget ("/metrics/0/2"); that AWS answers them in this shape for images
too is what its shared validator suggests, not a page's statement.
"""
from __future__ import annotations

import base64
import datetime
import json
import math
import time
from typing import Any

from mylearning.emulator.fidelity.cloudwatch import widget_metrics
from mylearning.emulator.fidelity.cloudwatch.common import SERVICE, backend, params
from mylearning.emulator.fidelity.cloudwatch.dashboard_body import Checker, check_display
from mylearning.emulator.fidelity.cloudwatch.dashboards import invalid_body
from mylearning.emulator.fidelity.core import AwsError, AwsRequest, handler
from mylearning.facts.cloudwatch import (DEFAULT_END, DEFAULT_PERIOD, DEFAULT_START, DEFAULT_STAT,
                                         IMAGE_HEIGHT, IMAGE_MAX_SIDE, IMAGE_WIDTH,
                                         MAX_IMAGE_METRICS, METRIC_VIEWS, OUTPUT_FORMATS, TIMEZONE,
                                         relative_seconds)


def moment(text: Any, now: float) -> float | None:
    """Epoch seconds of a start or end: relative ("-PT3H") or absolute ISO 8601."""
    if not isinstance(text, str):
        return None
    ago = relative_seconds(text)
    if ago is not None:
        return now - ago
    try:
        parsed = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed.timestamp()


def check_widget(widget: Any, now: float) -> tuple[list, list[tuple[str, str]]]:
    """The widget's rows and every (DataPath, Message) for what the page refuses."""
    check = Checker()
    if not isinstance(widget, dict):
        check.add("", "Should be object")
        return [], check.messages
    rows: list = []
    if check.required(widget, "metrics", ""):
        rows, messages = widget_metrics.read(widget["metrics"], "/metrics")
        check.messages += messages
        if isinstance(widget["metrics"], list):
            if not widget["metrics"]:
                check.add("/metrics", "Should NOT have fewer than 1 items")
            elif len(widget["metrics"]) > MAX_IMAGE_METRICS:
                check.add("/metrics", f"Should NOT have more than {MAX_IMAGE_METRICS} items")
    for key in ("width", "height"):
        check.bounded(widget, key, 1, IMAGE_MAX_SIDE, "")
    check_display(check, widget, "", METRIC_VIEWS)
    for key in ("start", "end"):
        if isinstance(widget.get(key), str) and moment(widget[key], now) is None:
            check.add(f"/{key}", "Should be a relative time such as -PT3H or an ISO 8601 date and time")
    zone = widget.get("timezone")
    if isinstance(zone, str) and zone != "local" and not TIMEZONE.match(zone):
        check.add("/timezone", "Should match the format +HHMM or -HHMM")
    return rows, check.messages


def _queries(rows: list, widget: dict, span: float) -> tuple[list[dict], dict[str, dict]]:
    """GetMetricData queries for the rows, and each query id's rendering options."""
    stat, period = widget.get("stat") or DEFAULT_STAT, widget.get("period") or DEFAULT_PERIOD
    if widget.get("setPeriodToTimeRange"):
        period = max(60, math.ceil(span / 60) * 60)
    queries, options = [], {}
    for i, row in enumerate(rows):
        query_id = row.options.get("id") or f"_r{i}"
        visible = row.options.get("visible", True) and row.options.get("returnData", True)
        if row.expression is not None:
            query = {"Id": query_id, "Expression": row.expression,
                     "Label": row.options.get("label") or row.expression}
        else:
            metric = {"Namespace": row.namespace, "MetricName": row.name, "Dimensions": row.dimensions}
            query = {"Id": query_id, "Label": row.options.get("label") or row.name, "MetricStat": {
                "Metric": metric, "Period": row.options.get("period") or period,
                "Stat": row.options.get("stat") or stat}}
        query["ReturnData"] = bool(visible)
        queries.append(query)
        options[query_id] = row.options
    return queries, options


@handler(SERVICE, "GetMetricWidgetImage")
def get_metric_widget_image(req: AwsRequest) -> tuple[int, Any]:
    """https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricWidgetImage.html"""
    from moto.cloudwatch.exceptions import ValidationError

    from mylearning.emulator.fidelity.cloudwatch.metric_data import compute
    from mylearning.emulator.fidelity.cloudwatch.widget_render import Series, render

    p = params(req)
    output = p.get("OutputFormat") or "png"
    if output not in OUTPUT_FORMATS:
        raise AwsError("InvalidParameterValue", f"The value {output} for parameter OutputFormat is "
                       "invalid: only png images are supported.", 400)
    text = p.get("MetricWidget") or ""
    try:
        widget = json.loads(text)
    except ValueError as err:
        raise invalid_body([("", f"Invalid JSON: {err.msg} at position {err.pos}")], "metric widget") from None
    now = time.time()
    rows, messages = check_widget(widget, now)
    if messages:
        raise invalid_body(messages, "metric widget")
    start = moment(widget.get("start") or DEFAULT_START, now)
    end = moment(widget.get("end") or DEFAULT_END, now)
    if start >= end:
        raise invalid_body([("/start", "The start time must be before the end time")], "metric widget")
    queries, options = _queries(rows, widget, end - start)
    try:
        results = compute(backend(widget.get("region") or req.region), queries, start, end,
                          "TimestampAscending")
    except ValidationError as err:
        raise invalid_body([("/metrics", err.message)], "metric widget") from None
    series = [Series(label=r["label"], times=[t.timestamp() for t in r["timestamps"]],
                     values=list(r["values"]), color=options.get(r["id"], {}).get("color"),
                     y_axis=options.get(r["id"], {}).get("yAxis", "left")) for r in results]
    png = render(widget, series, start, end,
                 int(widget.get("width") or IMAGE_WIDTH), int(widget.get("height") or IMAGE_HEIGHT))
    return 200, {"MetricWidgetImage": base64.b64encode(png).decode()}
