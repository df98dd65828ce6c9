"""CloudWatch dashboards against the embedded AWS: bodies CloudWatch accepts and refuses (with
the DataPath and Message it answers), and the shapes of Get/List/DeleteDashboards
(CloudWatch-Dashboard-Body-Structure.html, API_PutDashboard.html, API_ListDashboards.html,
API_DeleteDashboards.html)."""
from __future__ import annotations

import datetime
import json
import uuid

import pytest
from botocore.exceptions import ClientError

from mylearning.emulator.fidelity.cloudwatch.widget_metrics import read

EC2 = ["AWS/EC2", "CPUUtilization", "InstanceId", "i-012345"]


def metric_widget(**properties) -> dict:
    return {"type": "metric", "x": 0, "y": 0, "width": 12, "height": 6,
            "properties": {"metrics": [EC2], "region": "us-east-1", **properties}}


def body(*widgets, **top) -> str:
    return json.dumps({"widgets": list(widgets), **top})


@pytest.fixture
def cw(env):
    return env.client("cloudwatch")


@pytest.fixture
def name():
    return f"dash-{uuid.uuid4().hex[:8]}"


ACCEPTED = {
    "page example": body(metric_widget(period=300, stat="Average", title="EC2 Instance CPU",
                                       liveData=False, legend={"position": "right"}),
                         {"type": "text", "x": 0, "y": 7, "width": 3, "height": 3,
                          "properties": {"markdown": "Hello world"}},
                         start="-PT6H", periodOverride="inherit"),
    "empty widgets array": body(),
    "no position or size (defaults)": body({"type": "text", "properties": {"markdown": "# hi"}}),
    "shorthand rows": body(metric_widget(metrics=[EC2, ["...", "i-6789"], [".", "NetworkIn", ".", "."]])),
    "expression and rendering options": body(metric_widget(metrics=[
        ["AWS/ApplicationELB", "RequestCount", "LoadBalancer", "app/lb/1", {"id": "m1", "stat": "Sum",
                                                                           "visible": False}],
        [{"expression": "m1 * 2", "label": "Doubled", "id": "e1", "color": "#d62728", "yAxis": "right"}]],
        view="timeSeries", stacked=True, yAxis={"left": {"min": 0, "max": 100}},
        annotations={"horizontal": [{"value": 80, "label": "SLO", "fill": "above"}],
                     "vertical": [{"value": "2026-01-01T00:00:00Z", "label": "deploy"}]},
        setPeriodToTimeRange=True, start="-PT3H", end="-PT0H")),
    "every metric view": body(*[metric_widget(view=v) for v in
                                ("timeSeries", "singleValue", "gauge", "bar", "pie", "table")]),
    "alarm annotation without metrics": body({"type": "metric", "properties": {
        "annotations": {"alarms": ["arn:aws:cloudwatch:us-east-1:123456789012:alarm:a"]}}}),
    "alarm widget": body({"type": "alarm", "properties": {
        "alarms": ["arn:aws:cloudwatch:us-east-1:123456789012:alarm:a"], "sortBy": "stateUpdatedTimestamp"}}),
    "log widget": body({"type": "log", "properties": {
        "query": "SOURCE '/ecs/catalog' | fields @timestamp, @message", "region": "us-east-1",
        "view": "table"}}),
    "explorer widget": body({"type": "explorer", "properties": {"metrics": [{"metricName": "CPUUtilization"}]}}),
    "unknown member kept": body(metric_widget(mylearningNote="kept")),
    "width 24 height 1000 x 23": body({"type": "text", "x": 23, "y": 0, "width": 24, "height": 1000,
                                       "properties": {"markdown": "x"}}),
}

REFUSED = {
    "a list": ("[]", [("", "Should be object")]),
    "no widgets": ("{}", [("", "Should have required property 'widgets'")]),
    "widgets not an array": ('{"widgets": {}}', [("/widgets", "Should be array")]),
    "unknown type": (body({"type": "graph", "properties": {}}),
                     [("/widgets/0/type", "Should be equal to one of the allowed values")]),
    "no type, no properties": (body({"x": 0}), [("/widgets/0", "Should have required property 'type'"),
                                               ("/widgets/0", "Should have required property 'properties'")]),
    "width 25": (body({"type": "text", "width": 25, "properties": {"markdown": "x"}}),
                 [("/widgets/0/width", "Should be <= 24")]),
    "width 0": (body({"type": "text", "width": 0, "properties": {"markdown": "x"}}),
                [("/widgets/0/width", "Should be >= 1")]),
    "height 1001": (body({"type": "text", "height": 1001, "properties": {"markdown": "x"}}),
                    [("/widgets/0/height", "Should be <= 1000")]),
    "x 24": (body({"type": "text", "x": 24, "properties": {"markdown": "x"}}), [("/widgets/0/x", "Should be <= 23")]),
    "y negative": (body({"type": "text", "y": -1, "properties": {"markdown": "x"}}),
                   [("/widgets/0/y", "Should be >= 0")]),
    "width a string": (body({"type": "text", "width": "6", "properties": {"markdown": "x"}}),
                       [("/widgets/0/width", "Should be integer")]),
    "text without markdown": (body({"type": "text", "properties": {}}),
                              [("/widgets/0/properties", "Should have required property 'markdown'")]),
    "metric widget without metrics": (body({"type": "metric", "properties": {"region": "us-east-1"}}), [
        ("/widgets/0/properties", "Should have required property 'metrics'"),
        ("/widgets/0/properties", "The metric widget should have specified a region and a data source or an alarm annotation"),
        ("/widgets/0/properties", "Should have required property 'annotations'")]),
    "metric widget without region": (body({"type": "metric", "properties": {"metrics": [EC2]}}), [
        ("/widgets/0/properties", "The metric widget should have specified a region and a data source or an alarm annotation")]),
    "dimensions as an object": (body(metric_widget(metrics=[["AWS/Lambda", "Invocations", {"stat": "Sum",
                                                                "dimensions": {"FunctionName": "f"}}]])),
                                [("/widgets/0/properties/metrics/0", "Should NOT have more than 2 items")]),
    "color by name": (body(metric_widget(metrics=[["ECSLogs", "Errors", {"color": "red"}]])),
                      [("/widgets/0/properties/metrics/0", "Should NOT have more than 2 items")]),
    "object before the last field": (body(metric_widget(metrics=[["AWS/Lambda", "Invocations", {"stat": "Sum"},
                                                                 {"FunctionName": "f"}]])),
                                     [("/widgets/0/properties/metrics/0/2",
                                       'Invalid metric field type, only "String" type is allowed')]),
    "repeat marker past the previous row": (body(metric_widget(metrics=[["AWS/EC2", "CPUUtilization"],
                                                                        [".", "NetworkIn", ".", "."]])),
                                            [("/widgets/0/properties/metrics/1/2",
                                              'Repeat marker "." used but not enough fields in previous metric')]),
    "unknown view": (body(metric_widget(view="line")),
                     [("/widgets/0/properties/view", "Should be equal to one of the allowed values")]),
    "period 45": (body(metric_widget(period=45)),
                  [("/widgets/0/properties/period", "Should be equal to one of the allowed values")]),
    "horizontal annotation without value": (body(metric_widget(annotations={"horizontal": [{"label": "x"}]})),
                                            [("/widgets/0/properties/annotations/horizontal/0",
                                              "Should have required property 'value'")]),
    "alarm widget without alarms": (body({"type": "alarm", "properties": {}}),
                                    [("/widgets/0/properties", "Should have required property 'alarms'")]),
    "log widget without query or region": (body({"type": "log", "properties": {}}), [
        ("/widgets/0/properties", "Should have required property 'query'"),
        ("/widgets/0/properties", "Should have required property 'region'")]),
    "501 widgets": (body(*[{"type": "text", "properties": {"markdown": "x"}}] * 501),
                    [("/widgets", "Should NOT have more than 500 items")]),
}


@pytest.mark.parametrize("case", sorted(ACCEPTED))
def test_bodies_cloudwatch_accepts(cw, name, case):
    answer = cw.put_dashboard(DashboardName=name, DashboardBody=ACCEPTED[case])
    assert answer["DashboardValidationMessages"] == []
    assert cw.get_dashboard(DashboardName=name)["DashboardBody"] == ACCEPTED[case]


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_bodies_cloudwatch_refuses(cw, name, case):
    text, expected = REFUSED[case]
    with pytest.raises(ClientError) as info:
        cw.put_dashboard(DashboardName=name, DashboardBody=text)
    error = info.value.response
    assert error["Error"]["Code"] == "InvalidParameterInput"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert [(m["DataPath"], m["Message"]) for m in error["dashboardValidationMessages"]] == expected
    assert error["Error"]["Message"].startswith(
        f"The dashboard body is invalid, there are {len(expected)} validation errors:")
    assert json.loads(error["Error"]["Message"].split(":", 1)[1]) == [
        {"dataPath": p, "message": m} for p, m in expected]
    with pytest.raises(ClientError) as missing:  # nothing was stored
        cw.get_dashboard(DashboardName=name)
    assert missing.value.response["Error"]["Code"] == "ResourceNotFound"


def test_body_that_is_not_json(cw, name):
    with pytest.raises(ClientError) as info:
        cw.put_dashboard(DashboardName=name, DashboardBody='{"widgets": [')
    messages = info.value.response["dashboardValidationMessages"]
    assert len(messages) == 1 and messages[0]["DataPath"] == "" and "Invalid JSON" in messages[0]["Message"]


def test_dashboard_name_characters(cw):
    with pytest.raises(ClientError) as info:
        cw.put_dashboard(DashboardName="my dashboard", DashboardBody=body())
    assert info.value.response["Error"]["Code"] == "InvalidParameterInput"
    assert "alphanumerics, dash (-) and underscore (_)" in info.value.response["Error"]["Message"]
    assert cw.put_dashboard(DashboardName="golden_signals-1", DashboardBody=body())["DashboardValidationMessages"] == []


def test_get_list_and_delete_shapes(cw, name):
    text = body(metric_widget())
    before = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=5)
    cw.put_dashboard(DashboardName=name, DashboardBody=text)
    cw.put_dashboard(DashboardName=f"{name}-b", DashboardBody=body())
    got = cw.get_dashboard(DashboardName=name)
    assert got["DashboardName"] == name and got["DashboardBody"] == text
    assert got["DashboardArn"].endswith(f":dashboard/{name}")
    assert got["DashboardArn"].startswith("arn:aws:cloudwatch::")   # no Region: dashboards are global
    entries = cw.list_dashboards(DashboardNamePrefix=name)["DashboardEntries"]
    assert [e["DashboardName"] for e in entries] == [name, f"{name}-b"]
    first = entries[0]
    assert first["DashboardArn"] == got["DashboardArn"]
    assert first["Size"] == len(text.encode())
    assert first["LastModified"] >= before
    assert cw.list_dashboards(DashboardNamePrefix=f"{name}-")["DashboardEntries"][0]["DashboardName"] == f"{name}-b"
    cw.delete_dashboards(DashboardNames=[name, f"{name}-b"])
    assert cw.list_dashboards(DashboardNamePrefix=name)["DashboardEntries"] == []


def test_dashboards_are_global(env, name):
    env.client("cloudwatch").put_dashboard(DashboardName=name, DashboardBody=body())
    from mylearning.emulator.fidelity.cases import Env
    elsewhere = Env(env.endpoint, region="eu-west-1").client("cloudwatch")
    assert [e["DashboardName"] for e in elsewhere.list_dashboards(DashboardNamePrefix=name)["DashboardEntries"]] == [name]
    elsewhere.delete_dashboards(DashboardNames=[name])


def test_delete_with_a_missing_name_deletes_the_others(cw, name):
    cw.put_dashboard(DashboardName=name, DashboardBody=body())
    with pytest.raises(ClientError) as info:
        cw.delete_dashboards(DashboardNames=[name, f"{name}-missing"])
    assert info.value.response["Error"]["Code"] == "ResourceNotFound"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert f"{name}-missing" in info.value.response["Error"]["Message"]
    assert cw.list_dashboards(DashboardNamePrefix=name)["DashboardEntries"] == []


def test_update_replaces_the_body(cw, name):
    cw.put_dashboard(DashboardName=name, DashboardBody=body())
    cw.put_dashboard(DashboardName=name, DashboardBody=body(metric_widget()))
    assert json.loads(cw.get_dashboard(DashboardName=name)["DashboardBody"])["widgets"][0]["type"] == "metric"
    assert len(cw.list_dashboards(DashboardNamePrefix=name)["DashboardEntries"]) == 1


def test_list_pages_by_1000(cw):
    prefix = f"page{uuid.uuid4().hex[:6]}"
    for i in range(1001):
        cw.put_dashboard(DashboardName=f"{prefix}-{i:04d}", DashboardBody='{"widgets": []}')
    first = cw.list_dashboards(DashboardNamePrefix=prefix)
    assert len(first["DashboardEntries"]) == 1000 and first["NextToken"]
    rest = cw.list_dashboards(DashboardNamePrefix=prefix, NextToken=first["NextToken"])
    assert [e["DashboardName"] for e in rest["DashboardEntries"]] == [f"{prefix}-1000"]
    assert "NextToken" not in rest
    for chunk in range(0, 1001, 100):  # at most 100 a call (API_DeleteDashboards.html)
        cw.delete_dashboards(DashboardNames=[f"{prefix}-{i:04d}" for i in range(chunk, min(chunk + 100, 1001))])


# ---------------------------------------------------------------- the metrics array, offline

def test_shorthand_expands_from_the_previous_row():
    rows, messages = read([EC2, ["...", "i-6789"], [".", "NetworkIn", ".", "."],
                           [{"expression": "SUM(METRICS())"}]], "/metrics")
    assert messages == []
    assert rows[1].fields == ["AWS/EC2", "CPUUtilization", "InstanceId", "i-6789"]
    assert rows[2].fields == ["AWS/EC2", "NetworkIn", "InstanceId", "i-6789"]
    assert rows[2].dimensions == [{"Name": "InstanceId", "Value": "i-6789"}]
    assert rows[3].expression == "SUM(METRICS())" and rows[3].fields == []


def test_fuzzed_dashboard_and_image_requests_hold_to_the_model(env):
    """Requests built from the model, each breaking one constraint: refused with a 4xx, never a 5xx."""
    from mylearning.emulator.fidelity.validation import fuzz
    operations = {"cloudwatch": {"PutDashboard", "GetDashboard", "ListDashboards", "DeleteDashboards",
                                 "GetMetricWidgetImage"}}
    report = fuzz.run(env.endpoint, operations, seed=7)
    assert report.server_errors == 0, "\n".join(report.failures)
    assert not report.failures, report.line() + "\n" + "\n".join(report.failures[:30])
    assert report.refused_correctly > 0 and report.accepted_correctly > 0, report.line()
