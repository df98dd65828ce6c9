"""Metric filters over boto3: the pattern language against a table of events, the API's rules,
and log lines of the course images becoming CloudWatch datapoints."""
from __future__ import annotations

import contextlib
import datetime
import io
import json
import time

import pytest

from mylearning.dataplane.images.container import Container

ERROR = json.dumps({"level": "ERROR", "message": "request", "path": "/courses/7", "status": 503,
                    "latency_ms": 812.5, "tags": ["api", "v2"], "retry": False, "user": None})
OK = json.dumps({"level": "INFO", "message": "request", "path": "/health", "status": 200, "latency_ms": 3})
APACHE = '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 404 1534'
PLAIN = "[ERROR] Exiting: connection refused"

#: pattern -> the events (of ERROR, OK, APACHE, PLAIN) it matches
TABLE = [
    ("", {"ERROR", "OK", "APACHE", "PLAIN"}),
    ("ERROR", {"ERROR", "PLAIN"}),
    ("ERROR Exiting", {"PLAIN"}),
    ('"connection refused"', {"PLAIN"}),
    ("?Exiting ?frank", {"PLAIN", "APACHE"}),
    ("ERROR -Exiting", {"ERROR"}),
    ("%HTTP/1\\.[01]%", {"APACHE"}),
    ('{ $.level = "ERROR" }', {"ERROR"}),
    ("{ $.level = ERROR }", {"ERROR"}),
    ("{ $.status >= 500 }", {"ERROR"}),
    ("{ $.status != 503 }", {"OK"}),
    ('{ $.path = "/courses*" }', {"ERROR"}),
    ("{ $.path = %^/courses/[0-9]+$% }", {"ERROR"}),
    ("{ $.status = 503 && $.latency_ms > 500 }", {"ERROR"}),
    ("{ $.status = 200 || $.latency_ms > 500 }", {"ERROR", "OK"}),
    ("{ ($.status = 200 || $.status = 404) && $.level = INFO }", {"OK"}),
    ("{ $.tags[1] = v2 }", {"ERROR"}),
    ("{ $.user IS NULL }", {"ERROR"}),
    ("{ $.user NOT EXISTS }", {"OK"}),
    ("{ $.retry IS FALSE }", {"ERROR"}),
    ("{ $.latency_ms = * }", {"ERROR", "OK"}),
    ("[ip, user, username, timestamp, request, status_code, bytes]", {"APACHE"}),
    ("[ip, user, username, timestamp, request, status_code = 4*, bytes]", {"APACHE"}),
    ("[..., status_code = 5*, bytes]", set()),
    ("[..., status_code = 4* || status_code = 5*, bytes > 1000]", {"APACHE"}),
    ("[ip = 127.0.0.1, ...]", {"APACHE"}),
    ("[ip, user]", set()),
]
EVENTS = {"ERROR": ERROR, "OK": OK, "APACHE": APACHE, "PLAIN": PLAIN}


@pytest.mark.parametrize("pattern, expected", TABLE, ids=[p or "(empty)" for p, _ in TABLE])
def test_pattern_table(env, pattern, expected):
    names = list(EVENTS)
    matches = env.client("logs").test_metric_filter(filterPattern=pattern,
                                                    logEventMessages=[EVENTS[n] for n in names])["matches"]
    assert {names[m["eventNumber"] - 1] for m in matches} == expected


def test_extracted_values(env):
    logs = env.client("logs")
    json_match = logs.test_metric_filter(filterPattern="{ $.status >= 500 && $.path = * }",
                                         logEventMessages=[ERROR])["matches"][0]
    assert json_match == {"eventNumber": 1, "eventMessage": ERROR,
                          "extractedValues": {"$.status": "503", "$.path": "/courses/7"}}
    space = logs.test_metric_filter(filterPattern="[ip, user, username, timestamp, request, status_code, bytes]",
                                    logEventMessages=[APACHE])["matches"][0]["extractedValues"]
    assert space["$request"] == "GET /apache_pb.gif HTTP/1.0" and space["$timestamp"] == "10/Oct/2000:13:25:15 -0700"
    assert space["$bytes"] == "1534"


@pytest.mark.parametrize("pattern", ["{ $.status = ", '{ $.path > "x" }', "[a, , b]", "{ status = 1 }",
                                     "%a% %b% %c%", '"unterminated'])
def test_invalid_patterns(env, pattern):
    logs = env.client("logs")
    with pytest.raises(logs.exceptions.InvalidParameterException):
        logs.test_metric_filter(filterPattern=pattern, logEventMessages=["x"])


@pytest.fixture
def group(env):
    logs = env.client("logs")
    name = f"/ecs/{env.name('mf')}"
    logs.create_log_group(logGroupName=name)
    logs.create_log_stream(logGroupName=name, logStreamName="s")
    return name


def _transformation(**extra):
    return {"metricName": "Errors", "metricNamespace": "MyLearning/Test", "metricValue": "1", **extra}


def test_put_describe_delete(env, group):
    logs = env.client("logs")
    for name in ("b-errors", "a-errors"):
        logs.put_metric_filter(logGroupName=group, filterName=name, filterPattern='{ $.level = "ERROR" }',
                               metricTransformations=[_transformation(unit="Count")])
    listed = logs.describe_metric_filters(logGroupName=group)["metricFilters"]
    assert [f["filterName"] for f in listed] == ["a-errors", "b-errors"]   # ASCII-sorted
    assert listed[0]["metricTransformations"][0]["unit"] == "Count" and listed[0]["creationTime"] > 0
    assert len(logs.describe_metric_filters(logGroupName=group, filterNamePrefix="a")["metricFilters"]) == 1
    assert len(logs.describe_metric_filters(metricName="Errors", metricNamespace="MyLearning/Test",
                                            logGroupName=group)["metricFilters"]) == 2
    logs.delete_metric_filter(logGroupName=group, filterName="a-errors")
    assert [f["filterName"] for f in logs.describe_metric_filters(logGroupName=group)["metricFilters"]] == ["b-errors"]
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.delete_metric_filter(logGroupName=group, filterName="a-errors")
    with pytest.raises(logs.exceptions.InvalidParameterException):
        logs.describe_metric_filters(metricName="Errors")


def test_put_metric_filter_rules(env, group):
    logs = env.client("logs")

    def put(pattern="ERROR", name="f", **t):
        logs.put_metric_filter(logGroupName=group, filterName=name, filterPattern=pattern,
                               metricTransformations=[_transformation(**t)])
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.put_metric_filter(logGroupName=group + "-missing", filterName="f", filterPattern="",
                               metricTransformations=[_transformation()])
    for bad in ({"metricValue": "lots"}, {"metricValue": "$.latency_ms"},          # field with a terms pattern
                {"dimensions": {"Path": "$.path"}}):                               # dimensions need fields
        with pytest.raises(logs.exceptions.InvalidParameterException):
            put(**bad)
    with pytest.raises(logs.exceptions.InvalidParameterException):
        put("{ $.status = * }", dimensions={"A": "$.a", "B": "$.b", "C": "$.c", "D": "$.d"})
    with pytest.raises(logs.exceptions.InvalidParameterException):
        put("[ip, status]", metricValue="$bytes")                                  # not a field of the pattern
    put("{ $.status = * }", metricValue="$.latency_ms", dimensions={"Path": "$.path"})
    put("[ip, status]", name="g", metricValue="$status")
    for i in range(98):
        put(name=f"n{i:03d}")
    with pytest.raises(logs.exceptions.LimitExceededException):
        put(name="one-too-many")
    put(name="n000", pattern="WARN")   # replacing a filter is not a new one


def _statistics(env, namespace, name, dimensions=(), stat="Sum"):
    end = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=5)
    points = env.client("cloudwatch").get_metric_statistics(
        Namespace=namespace, MetricName=name, Dimensions=list(dimensions), StartTime=end - datetime.timedelta(hours=1),
        EndTime=end, Period=3600, Statistics=[stat])["Datapoints"]
    return sum(p[stat] for p in points)


def _image_lines(entries: list[tuple[str, str, dict]]) -> list[str]:
    """What a course image writes on stdout for each (message, level, fields)."""
    container = Container(name="courses-api", address="127.0.0.1", ports=[8080], env={})
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for message, level, fields in entries:
            container.log(message, level, **fields)
    return out.getvalue().splitlines()


def test_course_image_logs_become_metrics(env, group):
    """put_log_events of the images' JSON request lines -> the errors and latency in CloudWatch."""
    logs = env.client("logs")
    namespace = f"MyLearning/{env.name('app')}"
    logs.put_metric_filter(logGroupName=group, filterName="errors", filterPattern="{ $.status >= 500 }",
                           metricTransformations=[{"metricName": "ServerErrors", "metricNamespace": namespace,
                                                   "metricValue": "1", "unit": "Count",
                                                   "dimensions": {"Path": "$.path"}}])
    logs.put_metric_filter(logGroupName=group, filterName="latency", filterPattern='{ $.message = "request" }',
                           metricTransformations=[{"metricName": "Latency", "metricNamespace": namespace,
                                                   "metricValue": "$.latency_ms", "unit": "Milliseconds"}])
    logs.put_metric_filter(logGroupName=group, filterName="crashes", filterPattern="crashing",
                           metricTransformations=[{"metricName": "Crashes", "metricNamespace": namespace,
                                                   "metricValue": "1", "defaultValue": 0}])
    lines = _image_lines([
        ("request", "INFO", {"method": "GET", "path": "/courses", "status": 200, "latency_ms": 12.0, "version": "1"}),
        ("request", "ERROR", {"method": "GET", "path": "/courses", "status": 503, "latency_ms": 30.0, "version": "1"}),
        ("request", "ERROR", {"method": "POST", "path": "/enroll", "status": 500, "latency_ms": 8.0, "version": "1"}),
        ("request", "ERROR", {"method": "GET", "path": "/courses", "status": 502, "latency_ms": 50.0, "version": "1"}),
        ("listening", "INFO", {"service": "courses-api", "version": "1"}),
    ])
    assert json.loads(lines[1])["status"] == 503
    now = int(time.time() * 1000)
    logs.put_log_events(logGroupName=group, logStreamName="s",
                        logEvents=[{"timestamp": now + i, "message": line} for i, line in enumerate(lines)])
    assert _statistics(env, namespace, "ServerErrors", [{"Name": "Path", "Value": "/courses"}]) == 2
    assert _statistics(env, namespace, "ServerErrors", [{"Name": "Path", "Value": "/enroll"}]) == 1
    assert _statistics(env, namespace, "Latency") == 100.0
    assert _statistics(env, namespace, "Latency", stat="Maximum") == 50.0
    assert _statistics(env, namespace, "Crashes", stat="SampleCount") == 1   # the default value, once a minute
    assert _statistics(env, namespace, "Crashes") == 0


def test_events_before_the_filter_publish_nothing(env, group):
    logs = env.client("logs")
    namespace = f"MyLearning/{env.name('late')}"
    logs.put_log_events(logGroupName=group, logStreamName="s",
                        logEvents=[{"timestamp": int(time.time() * 1000), "message": ERROR}])
    logs.put_metric_filter(logGroupName=group, filterName="errors", filterPattern="{ $.status >= 500 }",
                           metricTransformations=[{"metricName": "E", "metricNamespace": namespace, "metricValue": "1"}])
    assert _statistics(env, namespace, "E") == 0
    logs.put_log_events(logGroupName=group, logStreamName="s",
                        logEvents=[{"timestamp": int(time.time() * 1000), "message": ERROR}])
    assert _statistics(env, namespace, "E") == 1


def test_deleting_the_group_deletes_its_filters(env, group):
    logs = env.client("logs")
    logs.put_metric_filter(logGroupName=group, filterName="f", filterPattern="",
                           metricTransformations=[_transformation()])
    logs.delete_log_group(logGroupName=group)
    logs.create_log_group(logGroupName=group)
    assert logs.describe_metric_filters(logGroupName=group)["metricFilters"] == []
