"""GetMetricWidgetImage against the embedded AWS: a real PNG of the stored datapoints, sized
and drawn as the widget asks (CloudWatch-Metric-Widget-Structure.html,
API_GetMetricWidgetImage.html)."""
from __future__ import annotations

import datetime
import io
import json
import struct
import uuid

import pytest
from botocore.exceptions import ClientError

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def cw(env):
    return env.client("cloudwatch")


@pytest.fixture
def namespace():
    return f"MyLearning/W{uuid.uuid4().hex[:8]}"


def size(png: bytes) -> tuple[int, int]:
    """Width and height from the PNG's IHDR chunk."""
    assert png[:8] == PNG
    return struct.unpack(">II", png[16:24])


def pixels(png: bytes):
    from PIL import Image
    return Image.open(io.BytesIO(png)).convert("RGB")


def publish(cw, namespace, name, values, dims=None):
    now = datetime.datetime.now(datetime.timezone.utc)
    cw.put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": name, "Value": float(v), "Dimensions": dims or [],
         "Timestamp": now - datetime.timedelta(minutes=len(values) - i)} for i, v in enumerate(values)])


def image(cw, **widget) -> bytes:
    return cw.get_metric_widget_image(MetricWidget=json.dumps(widget))["MetricWidgetImage"]


def test_png_of_the_default_size(cw, namespace):
    publish(cw, namespace, "Latency", [10, 20, 30, 20, 10])
    png = image(cw, metrics=[[namespace, "Latency"]], period=60)
    assert size(png) == (600, 400)   # "The default is 600" / "The default is 400"


def test_width_and_height_in_pixels(cw, namespace):
    png = image(cw, metrics=[[namespace, "Latency"]], width=320, height=200)
    assert size(png) == (320, 200)


def test_the_image_depends_on_the_data(cw, namespace):
    publish(cw, namespace, "Up", [1, 2, 3, 4, 5, 6])
    publish(cw, namespace, "Down", [6, 5, 4, 3, 2, 1])
    common = {"period": 60, "start": "-PT10M", "end": "-PT0H", "legend": {"position": "hidden"}}
    up = image(cw, metrics=[[namespace, "Up", {"label": "x"}]], **common)
    down = image(cw, metrics=[[namespace, "Down", {"label": "x"}]], **common)
    again = image(cw, metrics=[[namespace, "Up", {"label": "x"}]], **common)
    assert up != down
    assert list(pixels(up).getdata()) != list(pixels(down).getdata())
    assert pixels(up).size == pixels(again).size


def test_a_metric_without_data_still_renders(cw, namespace):
    empty = image(cw, metrics=[[namespace, "NeverPublished"]], width=400, height=300)
    assert size(empty) == (400, 300)
    publish(cw, namespace, "Busy", [5, 9, 7])
    busy = image(cw, metrics=[[namespace, "Busy"]], width=400, height=300, period=60)
    assert empty != busy


def test_a_series_color_is_drawn(cw, namespace):
    publish(cw, namespace, "Red", [3, 3, 3, 3])
    png = image(cw, metrics=[[namespace, "Red", {"color": "#ff0000"}]], period=60, start="-PT10M",
                legend={"position": "hidden"})
    colors = {c for _, c in pixels(png).getcolors(maxcolors=1 << 20)}
    assert (255, 0, 0) in colors
    plain = image(cw, metrics=[[namespace, "Red", {"color": "#00ff00"}]], period=60, start="-PT10M",
                  legend={"position": "hidden"})
    assert (255, 0, 0) not in {c for _, c in pixels(plain).getcolors(maxcolors=1 << 20)}


def test_an_expression_is_drawn_from_metric_math(cw, namespace):
    publish(cw, namespace, "Errors", [1, 1, 1, 1])
    publish(cw, namespace, "Requests", [100, 100, 100, 100])
    widget = {"period": 60, "start": "-PT10M", "legend": {"position": "hidden"}, "metrics": [
        [namespace, "Errors", {"id": "e", "visible": False, "stat": "Sum"}],
        [".", "Requests", {"id": "r", "visible": False, "stat": "Sum"}],
        [{"expression": "100 * e / r", "label": "Error rate", "color": "#0000ff"}]]}
    png = image(cw, **widget)
    assert (0, 0, 255) in {c for _, c in pixels(png).getcolors(maxcolors=1 << 20)}
    hidden = image(cw, **{**widget, "metrics": widget["metrics"][:2]})
    assert (0, 0, 255) not in {c for _, c in pixels(hidden).getcolors(maxcolors=1 << 20)}


@pytest.mark.parametrize("view", ["singleValue", "bar", "pie", "gauge"])
def test_other_views(cw, namespace, view):
    publish(cw, namespace, "Value", [4, 8])
    png = image(cw, metrics=[[namespace, "Value"]], view=view, period=60, title="Now", width=300, height=200)
    assert size(png) == (300, 200)
    assert png != image(cw, metrics=[[namespace, "Value"]], period=60, title="Now", width=300, height=200)


def test_annotations_y_axis_and_timezone_change_the_drawing(cw, namespace):
    publish(cw, namespace, "Load", [40, 50, 60])
    base = {"metrics": [[namespace, "Load"]], "period": 60, "start": "-PT10M", "legend": {"position": "hidden"}}
    plain = image(cw, **base)
    annotated = image(cw, **base, annotations={"horizontal": [{"value": 55, "label": "SLO", "color": "#00ff00"}]})
    assert (0, 255, 0) in {c for _, c in pixels(annotated).getcolors(maxcolors=1 << 20)}
    assert plain != image(cw, **base, yAxis={"left": {"min": 0, "max": 1000}})
    assert plain != image(cw, **base, timezone="+0530")
    assert plain != image(cw, **base, title="Catalog load")


@pytest.mark.parametrize("widget, path, message", [
    ({}, "", "Should have required property 'metrics'"),
    ({"metrics": []}, "/metrics", "Should NOT have fewer than 1 items"),
    ({"metrics": [["N", "M"]] * 101}, "/metrics", "Should NOT have more than 100 items"),
    ({"metrics": [["N", "M"]], "width": 2001}, "/width", "Should be <= 2000"),
    ({"metrics": [["N", "M"]], "height": 0}, "/height", "Should be >= 1"),
    ({"metrics": [["N", "M", {"color": "blue"}]]}, "/metrics/0", "Should NOT have more than 2 items"),
    ({"metrics": [["N", "M"]], "start": "three hours ago"}, "/start",
     "Should be a relative time such as -PT3H or an ISO 8601 date and time"),
    ({"metrics": [["N", "M"]], "view": "line"}, "/view", "Should be equal to one of the allowed values"),
    ({"metrics": [["N", "M"]], "timezone": "CET"}, "/timezone", "Should match the format +HHMM or -HHMM"),
])
def test_widget_errors(cw, widget, path, message):
    with pytest.raises(ClientError) as info:
        cw.get_metric_widget_image(MetricWidget=json.dumps(widget))
    error = info.value.response
    assert error["Error"]["Code"] == "InvalidParameterInput"
    assert error["Error"]["Message"].startswith("The metric widget is invalid, there are 1 validation errors:")
    assert [(m["DataPath"], m["Message"]) for m in error["dashboardValidationMessages"]] == [(path, message)]


def test_an_expression_naming_an_unknown_id(cw, namespace):
    with pytest.raises(ClientError) as info:
        image(cw, metrics=[[namespace, "A", {"id": "a"}], [{"expression": "a + b"}]])
    assert info.value.response["Error"]["Code"] == "InvalidParameterInput"
    assert "Unknown metric or expression id b" in info.value.response["Error"]["Message"]


def test_output_format(cw, namespace):
    widget = json.dumps({"metrics": [[namespace, "A"]]})
    assert cw.get_metric_widget_image(MetricWidget=widget, OutputFormat="png")["MetricWidgetImage"][:8] == PNG
    with pytest.raises(ClientError) as info:
        cw.get_metric_widget_image(MetricWidget=widget, OutputFormat="jpeg")
    assert info.value.response["Error"]["Code"] == "InvalidParameterValue"


def test_matplotlib_waits_for_the_first_image():
    """The emulator's start does not pay for matplotlib: loading CloudWatch's rules leaves it out."""
    import subprocess
    import sys
    code = ("import sys, mylearning.emulator.fidelity.cloudwatch as c; "
            "print('matplotlib' in sys.modules, 'PIL' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
