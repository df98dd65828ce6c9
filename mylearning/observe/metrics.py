"""CloudWatch metrics in a notebook: CloudWatch's own graph of them (GetMetricWidgetImage, a PNG:
https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricWidgetImage.html and
the widget syntax of CloudWatch-Metric-Widget-Structure.html), a dashboard's widgets drawn one by one,
and the numbers themselves (GetMetricData)."""
from __future__ import annotations

import datetime
import json
import time
from typing import Any, Iterable, Mapping

from mylearning.observe import shown


class Png(bytes):
    """PNG bytes that Jupyter shows as the image."""

    def _repr_png_(self) -> bytes:
        return bytes(self)


def image(session: Any, widget: Mapping[str, Any], *, show: bool = True) -> Png:
    """The PNG CloudWatch draws for a metric widget (a dashboard widget's ``properties``, with
    ``metrics``, ``view``, ``stat``, ``period``, ``start`` ...)."""
    cw = session.client("cloudwatch")
    answer = shown.call(cw, "get_metric_widget_image", show, MetricWidget=json.dumps(dict(widget)), OutputFormat="png")
    return Png(answer["MetricWidgetImage"])


def widget(metrics: list[list], *, title: str, stat: str = "Sum", period: int = 60, minutes: int = 15,
           region: str | None = None, **extra: Any) -> dict:
    """A time-series widget's properties: `metrics` in the widget syntax
    (``[namespace, name, dim, value, ..., {options}]``) over the last `minutes`."""
    found = {"metrics": metrics, "view": "timeSeries", "stat": stat, "period": period, "title": title,
             "start": f"-PT{int(minutes)}M", **extra}
    if region:
        found["region"] = region
    return found


def dashboard_widgets(session: Any, name: str, *, show: bool = True) -> list[dict]:
    """The metric widgets' properties of dashboard `name` (GetDashboard), in their order."""
    body = shown.call(session.client("cloudwatch"), "get_dashboard", show, DashboardName=name)["DashboardBody"]
    return [w.get("properties") or {} for w in json.loads(body).get("widgets", []) if w.get("type") == "metric"]


def dashboard_images(session: Any, name: str, *, minutes: int | None = None, show: bool = True) -> list[Png]:
    """Each metric widget of dashboard `name` drawn by CloudWatch (the last `minutes` if given, else
    the widget's own time range), as a list of PNGs; a notebook shows each with IPython's display."""
    images = []
    for i, properties in enumerate(dashboard_widgets(session, name, show=show)):
        if minutes is not None:
            properties = {k: v for k, v in properties.items() if k != "end"}
            properties["start"] = f"-PT{int(minutes)}M"
        properties.setdefault("region", session.region_name)
        images.append(image(session, properties, show=show and i == 0))
    return images


def series(session: Any, queries: Iterable[Mapping[str, Any]], start: float, end: float | None = None, *,
           show: bool = True) -> dict[str, list[tuple[float, float]]]:
    """GetMetricData's answer for `queries` (MetricDataQuery dicts) between `start` and `end` (epoch
    seconds): query id -> [(epoch seconds, value)], oldest first, over every page."""
    cw = session.client("cloudwatch")
    arguments: dict[str, Any] = {
        "MetricDataQueries": list(queries),
        "StartTime": datetime.datetime.fromtimestamp(start, datetime.timezone.utc),
        "EndTime": datetime.datetime.fromtimestamp(end if end is not None else time.time(), datetime.timezone.utc),
        "ScanBy": "TimestampAscending"}
    out: dict[str, list[tuple[float, float]]] = {}
    for page in shown.pages(cw, "get_metric_data", show, **arguments):
        for result in page.get("MetricDataResults", []):
            points = out.setdefault(result["Id"], [])
            points += [(t.timestamp(), v) for t, v in zip(result.get("Timestamps", []), result.get("Values", []))]
    return {k: sorted(v) for k, v in out.items()}
