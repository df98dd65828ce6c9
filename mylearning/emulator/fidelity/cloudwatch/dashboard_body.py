"""PutDashboard's DashboardBody, checked as CloudWatch checks it (Dashboard Body Structure and
Syntax, https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html).

CloudWatch validates the body against a JSON schema and answers every failure at once, each
with the JSON pointer of the field (``/widgets/3/properties/metrics/0``) and its validator's
message ("Should have required property 'metrics'", "Should NOT have more than 2 items",
"Should be <= 24"); the messages here are in that wording. What the page marks required or
bounds is refused; what it does not mention (a member this layer does not know) is kept, as
CloudWatch keeps it: over-strict would refuse dashboards AWS accepts.

* The body is a JSON object with a ``widgets`` array of at most 500 widgets; ``start``,
  ``end``, ``periodOverride`` (auto | inherit) and ``variables`` beside it.
* Each widget: ``type`` (metric, text, log, alarm, explorer, custom, chart) and ``properties``
  required; ``x`` 0–23, ``y`` 0 or more, ``width`` 1–24, ``height`` 1–1000, integers, each
  optional.
* metric: ``metrics`` (`widget_metrics`) or an alarm annotation, and a ``region`` ("The metric
  widget should have specified a region and a data source or an alarm annotation"); ``view``
  timeSeries | singleValue | gauge | bar | pie | table; ``stacked``, ``liveData``,
  ``setPeriodToTimeRange``, ``sparkline``, ``singleValueFullPrecision`` booleans; ``period``
  1, 5, 10, 30 or a multiple of 60; ``stat``, ``title``, ``start``, ``end``, ``timezone``
  strings; ``yAxis`` {left, right: {min, max, label, showUnits}}; ``annotations``
  horizontal (value required), vertical (value required), alarms; ``legend.position``
  bottom | right | hidden.
* text: ``markdown`` (a string) required, ``background`` transparent | solid.
* alarm: ``alarms``, 1 to 100 alarm ARNs, required; ``sortBy`` default |
  stateUpdatedTimestamp | timestamp; ``states`` an array.
* log: ``query`` and ``region`` required; ``view`` table | timeSeries | bar | pie.
"""
from __future__ import annotations

import json
from typing import Any

from mylearning.emulator.fidelity.cloudwatch import widget_metrics
from mylearning.facts.cloudwatch import (ALARM_SORTS, GRID, HORIZONTAL_FILLS, LEGEND_POSITIONS,
                                         LOG_VIEWS, MAX_WIDGET_ALARMS, MAX_WIDGETS, METRIC_VIEWS,
                                         PERIOD_OVERRIDES, TEXT_BACKGROUNDS, VERTICAL_FILLS,
                                         WIDGET_TYPES, Y_AXES, valid_period)

Message = tuple[str, str]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_TYPES = {"string": lambda v: isinstance(v, str), "boolean": lambda v: isinstance(v, bool),
          "object": lambda v: isinstance(v, dict), "array": lambda v: isinstance(v, list),
          "integer": _is_int, "number": _is_number}


class Checker:
    """Collects messages in the validator's wording as it walks the body."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    def add(self, path: str, message: str) -> None:
        self.messages.append((path, message))

    def typed(self, obj: dict, key: str, kind: str, path: str) -> bool:
        """True when `key` is absent or of `kind`; a message when it is present and is not."""
        if key in obj and not _TYPES[kind](obj[key]):
            self.add(f"{path}/{key}", f"Should be {kind}")
            return False
        return True

    def one_of(self, obj: dict, key: str, allowed: tuple, path: str) -> None:
        if key in obj and obj[key] not in allowed:
            self.add(f"{path}/{key}", "Should be equal to one of the allowed values")

    def bounded(self, obj: dict, key: str, low: int | None, high: int | None, path: str) -> None:
        if key not in obj:
            return
        if not self.typed(obj, key, "integer", path):
            return
        if low is not None and obj[key] < low:
            self.add(f"{path}/{key}", f"Should be >= {low}")
        elif high is not None and obj[key] > high:
            self.add(f"{path}/{key}", f"Should be <= {high}")

    def required(self, obj: dict, key: str, path: str) -> bool:
        if key not in obj:
            self.add(path, f"Should have required property '{key}'")
            return False
        return True


def validate(body: Any) -> list[Message]:
    """Every (DataPath, Message) CloudWatch answers for a DashboardBody string; [] when valid."""
    check = Checker()
    try:
        document = json.loads(body) if isinstance(body, str) else body
    except ValueError as err:
        check.add("", f"Invalid JSON: {err.msg} at position {err.pos}")
        return check.messages
    if not isinstance(document, dict):
        check.add("", "Should be object")
        return check.messages
    if check.required(document, "widgets", "") and check.typed(document, "widgets", "array", ""):
        widgets = document["widgets"]
        if len(widgets) > MAX_WIDGETS:
            check.add("/widgets", f"Should NOT have more than {MAX_WIDGETS} items")
        for i, widget in enumerate(widgets):
            _widget(check, widget, f"/widgets/{i}")
    check.one_of(document, "periodOverride", PERIOD_OVERRIDES, "")
    check.typed(document, "start", "string", "")
    check.typed(document, "end", "string", "")
    check.typed(document, "variables", "array", "")
    return check.messages


def _widget(check: Checker, widget: Any, path: str) -> None:
    if not isinstance(widget, dict):
        check.add(path, "Should be object")
        return
    has_type = check.required(widget, "type", path)
    has_properties = check.required(widget, "properties", path)
    for key, (low, high) in GRID.items():
        check.bounded(widget, key, low, high, path)
    if has_type and widget["type"] not in WIDGET_TYPES:
        check.add(f"{path}/type", "Should be equal to one of the allowed values")
        return
    if not (has_type and has_properties) or not check.typed(widget, "properties", "object", path):
        return
    properties, where = widget["properties"], f"{path}/properties"
    kind = widget["type"]
    if kind == "metric":
        _metric(check, properties, where)
    elif kind == "text":
        if check.required(properties, "markdown", where):
            check.typed(properties, "markdown", "string", where)
        check.one_of(properties, "background", TEXT_BACKGROUNDS, where)
    elif kind == "alarm":
        _alarm(check, properties, where)
    elif kind == "log":
        for key in ("query", "region"):
            if check.required(properties, key, where):
                check.typed(properties, key, "string", where)
        check.one_of(properties, "view", LOG_VIEWS, where)
        check.typed(properties, "title", "string", where)
        check.typed(properties, "stacked", "boolean", where)


def _metric(check: Checker, properties: dict, path: str) -> None:
    annotations = properties.get("annotations")
    alarm_annotation = isinstance(annotations, dict) and bool(annotations.get("alarms"))
    if "metrics" not in properties and not alarm_annotation:
        check.add(path, "Should have required property 'metrics'")
        check.add(path, "The metric widget should have specified a region and a data source or an "
                        "alarm annotation")
        check.add(path, "Should have required property 'annotations'")
    elif "region" not in properties and not alarm_annotation:
        check.add(path, "The metric widget should have specified a region and a data source or an "
                        "alarm annotation")
    if "metrics" in properties:
        check.messages += widget_metrics.read(properties["metrics"], f"{path}/metrics")[1]
    check_display(check, properties, path, METRIC_VIEWS)


def check_display(check: Checker, properties: dict, path: str, views: tuple) -> None:
    """How a metric graph is drawn, shared by dashboard metric widgets and GetMetricWidgetImage
    (whose page documents the same view, stat, period, yAxis, legend and annotations)."""
    annotations = properties.get("annotations")
    check.one_of(properties, "view", views, path)
    for key in ("stacked", "liveData", "setPeriodToTimeRange", "sparkline", "singleValueFullPrecision"):
        check.typed(properties, key, "boolean", path)
    for key in ("region", "stat", "title", "start", "end", "timezone", "accountId"):
        check.typed(properties, key, "string", path)
    if "period" in properties and not valid_period(properties["period"]):
        check.add(f"{path}/period", "Should be equal to one of the allowed values")
    if check.typed(properties, "yAxis", "object", path) and "yAxis" in properties:
        for side in Y_AXES:
            if side in properties["yAxis"] and check.typed(properties["yAxis"], side, "object", f"{path}/yAxis"):
                axis = properties["yAxis"][side]
                for key in ("min", "max"):
                    check.typed(axis, key, "number", f"{path}/yAxis/{side}")
                check.typed(axis, "label", "string", f"{path}/yAxis/{side}")
                check.typed(axis, "showUnits", "boolean", f"{path}/yAxis/{side}")
    if check.typed(properties, "legend", "object", path) and "legend" in properties:
        check.one_of(properties["legend"], "position", LEGEND_POSITIONS, f"{path}/legend")
    if check.typed(properties, "annotations", "object", path) and isinstance(annotations, dict):
        _annotations(check, annotations, f"{path}/annotations")


def _annotations(check: Checker, annotations: dict, path: str) -> None:
    """horizontal: objects (or pairs of objects, a band) with a numeric ``value``; vertical:
    objects with a ``value`` timestamp string; alarms: an array of alarm ARNs."""
    for kind, fills in (("horizontal", HORIZONTAL_FILLS), ("vertical", VERTICAL_FILLS)):
        if not check.typed(annotations, kind, "array", path) or kind not in annotations:
            continue
        for i, item in enumerate(annotations[kind]):
            where = f"{path}/{kind}/{i}"
            for j, one in enumerate(item if isinstance(item, list) else [item]):
                spot = f"{where}/{j}" if isinstance(item, list) else where
                if not isinstance(one, dict):
                    check.add(spot, "Should be object")
                    continue
                if check.required(one, "value", spot):
                    check.typed(one, "value", "number" if kind == "horizontal" else "string", spot)
                check.one_of(one, "fill", fills, spot)
                check.typed(one, "label", "string", spot)
                check.typed(one, "visible", "boolean", spot)
                if kind == "horizontal":
                    check.one_of(one, "yAxis", Y_AXES, spot)
    check.typed(annotations, "alarms", "array", path)


def _alarm(check: Checker, properties: dict, path: str) -> None:
    if check.required(properties, "alarms", path) and check.typed(properties, "alarms", "array", path):
        alarms = properties["alarms"]
        if not alarms:
            check.add(f"{path}/alarms", "Should NOT have fewer than 1 items")
        elif len(alarms) > MAX_WIDGET_ALARMS:
            check.add(f"{path}/alarms", f"Should NOT have more than {MAX_WIDGET_ALARMS} items")
        for i, arn in enumerate(alarms):
            if not isinstance(arn, str):
                check.add(f"{path}/alarms/{i}", "Should be string")
    check.one_of(properties, "sortBy", ALARM_SORTS, path)
    check.typed(properties, "states", "array", path)
    check.typed(properties, "title", "string", path)
