"""CloudWatch dashboards and metric widget images: the limits and vocabularies AWS states.

Both the embedded AWS (to refuse a body or a widget as CloudWatch does) and the course's
helpers (to build one that CloudWatch accepts) read them here.

Pages:
* BODY = the API reference's "Dashboard Body Structure and Syntax"
* WIDGET = "GetMetricWidgetImage: Metric Widget Structure and Syntax"
* IMAGE = API_GetMetricWidgetImage.html
"""
from __future__ import annotations

import re

BODY = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html"
WIDGET = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Metric-Widget-Structure.html"
IMAGE = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricWidgetImage.html"
PUT = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutDashboard.html"
LIST = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_ListDashboards.html"
DELETE = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DeleteDashboards.html"

# ---------------------------------------------------------------- dashboard bodies (BODY)

#: "It can include an array of between 0 and 500 widget objects"; "The dashboard must
#: include a widgets array, but that array can be empty."
MAX_WIDGETS = 500
#: The widget types the page documents (metric, text, log, alarm, explorer, custom widgets and
#: the newer chart widget).
WIDGET_TYPES = ("alarm", "chart", "custom", "explorer", "log", "metric", "text")
#: x: "Valid Values: 0–23"; y: "Any integer, 0 or higher"; width "1–24"; height "1–1000"
#: (grid units, each optional: the default is the next free place and a 6 x 6 widget).
GRID = {"x": (0, 23), "y": (0, None), "width": (1, 24), "height": (1, 1000)}
#: A metric widget's view.
METRIC_VIEWS = ("timeSeries", "singleValue", "gauge", "bar", "pie", "table")
#: A log widget's view.
LOG_VIEWS = ("table", "timeSeries", "bar", "pie")
#: legend.position.
LEGEND_POSITIONS = ("bottom", "right", "hidden")
#: A text widget's background.
TEXT_BACKGROUNDS = ("transparent", "solid")
#: An alarm status widget's sortBy.
ALARM_SORTS = ("default", "stateUpdatedTimestamp", "timestamp")
#: An alarm status widget lists 1 to 100 alarms.
MAX_WIDGET_ALARMS = 100
#: periodOverride at the top of the body.
PERIOD_OVERRIDES = ("auto", "inherit")

#: The members a metric's rendering-properties object (the last element of a metrics row)
#: may hold; any other makes CloudWatch refuse the row.
RENDERING_KEYS = ("accountId", "color", "expression", "id", "label", "period", "region",
                  "stat", "visible", "yAxis", "returnData", "unit")
#: "The color ... in hex format" ("#d62728"); a color name is refused (aws/aws-cdk#5026).
COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
#: "..." repeats every field of the previous row; "." repeats the field in the same place.
REPEAT_ALL, REPEAT_ONE = "...", "."
#: yAxis of a metric, or a horizontal annotation.
Y_AXES = ("left", "right")
#: fill of a horizontal annotation, and of a vertical one.
HORIZONTAL_FILLS = ("above", "below", "between")
VERTICAL_FILLS = ("before", "after")

# ---------------------------------------------------------------- metric widget images (WIDGET)

#: "One metrics array can include 1–100 metrics and expressions."
MAX_IMAGE_METRICS = 100
#: width: "The default is 600. Valid Values: 1–2000"; height: "The default is 400.
#: Valid Values: 1–2000" (pixels).
IMAGE_WIDTH, IMAGE_HEIGHT, IMAGE_MAX_SIDE = 600, 400, 2000
#: start: "The default is -PT3H"; end: "the default of -PT0H (the current time)".
DEFAULT_START, DEFAULT_END = "-PT3H", "-PT0H"
#: period: "The default is 300"; stat: "The default is Average".
DEFAULT_PERIOD, DEFAULT_STAT = 300, "Average"
#: The views an image draws.
IMAGE_VIEWS = ("timeSeries", "singleValue", "bar", "pie", "gauge")
#: OutputFormat: "Only PNG images are supported. The default is png"; "image/png" answers
#: the image itself, for custom HTTP requests (IMAGE).
OUTPUT_FORMATS = ("png", "image/png")
#: timezone: "+" or "-" followed by four digits, hours and minutes ("+0130"), or "local".
TIMEZONE = re.compile(r"^[+-](\d\d)(\d\d)$")


def valid_period(value: object) -> bool:
    """period: "Valid Values: 1, 5, 10, 30, 60, and any multiple of 60" (BODY, WIDGET)."""
    return (isinstance(value, int) and not isinstance(value, bool)
            and (value in (1, 5, 10, 30) or (value > 0 and value % 60 == 0)))


_DURATION = re.compile(r"^-P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")


def relative_seconds(text: str) -> float | None:
    """Seconds before now of a relative time (ISO 8601 duration with a minus sign, "-PT3H",
    "-P1D", "-PT15M"), as start and end accept it; None if it is not one."""
    m = _DURATION.match(text.strip()) if isinstance(text, str) else None
    if not m or not any(m.groups()) or text.strip().endswith(("P", "T")):
        return None
    weeks, days, hours, minutes, seconds = (int(g or 0) for g in m.groups())
    return float((((weeks * 7 + days) * 24 + hours) * 60 + minutes) * 60 + seconds)
