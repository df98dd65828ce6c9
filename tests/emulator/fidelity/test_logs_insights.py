"""Logs Insights over boto3: each command, function and aggregation against hand-made events."""
from __future__ import annotations

import json
import time

import pytest

NOW = int(time.time()) // 300 * 300 - 600   # a 5-minute boundary, ten minutes ago
ROUTES = ["/courses", "/enroll", "/courses", "/health", "/enroll", "/courses"]


def _events() -> list[dict]:
    """Twelve request lines as the course images log them, one every 30 s, and two plain lines."""
    out = []
    for i in range(12):
        status = 503 if i % 4 == 0 else 200
        record = {"time": "t", "level": "ERROR" if status >= 500 else "INFO", "message": "request",
                  "method": "GET", "path": ROUTES[i % len(ROUTES)], "status": status,
                  "latency_ms": float(10 * (i + 1)), "version": "1.0", "http": {"route": ROUTES[i % 6]},
                  "tags": ["a", f"t{i}"]}
        out.append({"timestamp": (NOW + 30 * i) * 1000, "message": json.dumps(record)})
    out.append({"timestamp": (NOW + 400) * 1000, "message": "user=alice, method:GET, latency := 42"})
    out.append({"timestamp": (NOW + 401) * 1000, "message": "[WARN] disk almost full"})
    return out


@pytest.fixture(scope="module")
def group(env):
    logs = env.client("logs")
    name = f"/ecs/{env.name('insights')}"
    logs.create_log_group(logGroupName=name)
    logs.create_log_stream(logGroupName=name, logStreamName="web/app/1")
    logs.put_log_events(logGroupName=name, logStreamName="web/app/1", logEvents=_events())
    return name


def query(env, group, text, **extra):
    logs = env.client("logs")
    args = {"logGroupName": group, "startTime": NOW - 60, "endTime": NOW + 3600, "queryString": text}
    args.update(extra)
    query_id = logs.start_query(**args)["queryId"]
    answer = logs.get_query_results(queryId=query_id)
    assert answer["status"] == "Complete"
    return answer


def rows(env, group, text, **extra) -> list[dict]:
    return [{c["field"]: c["value"] for c in row} for row in query(env, group, text, **extra)["results"]]


def test_fields_with_expressions_and_ptr(env, group):
    found = rows(env, group, "filter ispresent(status) | fields @timestamp, status, latency_ms * 2 as double, "
                             "http.route | limit 2")
    assert len(found) == 2
    first = found[0]
    assert set(first) == {"@timestamp", "status", "double", "http.route", "@ptr"}
    assert first["@timestamp"].endswith(".000") and first["@timestamp"][4] == "-"
    assert first["double"] == "240"      # newest first: latency 120
    assert first["http.route"] == "/courses"


def test_default_sort_is_newest_first_and_ptr_reads_back(env, group):
    found = rows(env, group, "fields @timestamp, @message")
    stamps = [r["@timestamp"] for r in found]
    assert stamps == sorted(stamps, reverse=True) and len(found) == 14
    record = env.client("logs").get_log_record(logRecordPointer=found[-1]["@ptr"])["logRecord"]
    assert record["path"] == "/courses" and record["@logStream"] == "web/app/1"


def test_json_fields_are_discovered_and_flattened(env, group):
    found = rows(env, group, "filter ispresent(tags.1) | fields tags.0, tags.1, http.route | limit 1")
    assert found[0]["tags.0"] == "a" and found[0]["tags.1"] == "t11" and found[0]["http.route"]


def test_system_fields(env, group):
    found = rows(env, group, "fields @log, @logStream, @ingestionTime | limit 1")[0]
    assert found["@log"].endswith(":" + group) and found["@logStream"] == "web/app/1"
    assert found["@ingestionTime"][:2] == "20"


def test_no_fields_returns_every_field(env, group):
    found = rows(env, group, "filter status = 503 | limit 1")[0]
    assert {"@timestamp", "@message", "path", "status", "latency_ms", "http.route", "@ptr"} <= set(found)


@pytest.mark.parametrize("condition, count", [
    ("status = 503", 3), ("status != 503", 9), ("status >= 500", 3), ("status < 500", 9),
    ("latency_ms > 50 and latency_ms <= 100", 5), ("path = '/health' or path = '/enroll'", 6),
    ("not path = '/courses'", 6), ("path like 'cour'", 6), ("path like /^\\/(health|enroll)$/", 6),
    ("path =~ /enr/", 4), ("path in ['/health', '/enroll']", 6), ("path not in ['/health']", 10),
    ("@message like 'WARN'", 1), ("@message not like /request/", 2),
    ("strlen(path) = 7", 6), ("tolower(level) = 'error'", 3), ("toupper(method) = 'GET'", 12),
    ("concat(method, ' ', path) = 'GET /health'", 2), ("abs(-latency_ms) = 30", 1),
    ("floor(latency_ms / 25) = 2", 3), ("ceil(latency_ms / 25) = 2", 3), ("latency_ms % 40 = 0", 3),
    ("isempty(path)", 2), ("ispresent(path)", 12), ("not ispresent(status)", 2),
    ("status = '503'", 3), ("(status = 503 or path = '/health') and latency_ms > 20", 4),
])
def test_filter_operators_and_functions(env, group, condition, count):
    assert len(rows(env, group, f"filter {condition}")) == count


def test_stats_count_by_field_sorted(env, group):
    found = rows(env, group, "filter status >= 500 | stats count(*) as errors by path | sort errors desc")
    assert found[0] == {"path": "/courses", "errors": "2"}
    assert {r["path"] for r in found} == {"/courses", "/enroll"}
    assert all("@ptr" not in r for r in found)


def test_stats_aggregations(env, group):
    found = rows(env, group, "filter ispresent(latency_ms) | stats count(*), count(status), "
                             "count_distinct(path) as routes, sum(latency_ms) as total, avg(latency_ms) as mean, "
                             "min(latency_ms) as low, max(latency_ms) as high, pct(latency_ms, 90) as p90, "
                             "stddev(latency_ms) as sd, earliest(latency_ms) as first, latest(latency_ms) as last")
    assert found == [{"count(*)": "12", "count(status)": "12", "routes": "3", "total": "780", "mean": "65",
                      "low": "10", "high": "120", "p90": "110", "sd": found[0]["sd"], "first": "10", "last": "120"}]
    assert abs(float(found[0]["sd"]) - 36.0555) < 0.001   # the sample standard deviation of 10..120


def test_stats_by_bin_counts_each_five_minutes(env, group):
    found = rows(env, group, "filter ispresent(status) | stats count(*) as n by bin(5m) as slot | sort slot asc")
    assert [r["n"] for r in found] == ["10", "2"]
    assert found[0]["slot"].endswith(":00.000")


def test_stats_by_bin_without_alias_is_named_as_written(env, group):
    found = rows(env, group, "stats count(*) by bin(1h)")
    # The 14 events span seven minutes, which may straddle an hour: one or two hourly bins.
    assert 1 <= len(found) <= 2 and all(r["bin(1h)"].endswith(":00:00.000") for r in found)
    assert sum(int(r["count(*)"]) for r in found) == 14


def test_parse_glob(env, group):
    found = rows(env, group, 'parse @message "user=*, method:*, latency := *" as user, verb, latency '
                             "| filter ispresent(user) | display user, verb, latency")
    assert found == [{"user": "alice", "verb": "GET", "latency": "42", "@ptr": found[0]["@ptr"]}]


def test_parse_regex_named_groups(env, group):
    found = rows(env, group, r'parse @message /\[(?<severity>[A-Z]+)\] (?<text>.*)/ | filter ispresent(severity) '
                             "| fields severity, text")
    assert len(found) == 1 and found[0]["severity"] == "WARN" and found[0]["text"] == "disk almost full"


def test_parse_keeps_unmatched_events(env, group):
    assert len(rows(env, group, 'parse @message "user=*," as user | fields user')) == 14


def test_sort_and_limit(env, group):
    found = rows(env, group, "filter ispresent(latency_ms) | sort latency_ms asc | limit 3 | fields latency_ms")
    assert [r["latency_ms"] for r in found] == ["10", "20", "30"]


def test_dedup(env, group):
    found = rows(env, group, "filter ispresent(path) | dedup path | fields path")
    assert sorted(r["path"] for r in found) == ["/courses", "/enroll", "/health"]


def test_comments_and_keyword_case(env, group):
    found = rows(env, group, "FILTER status = 503 # errors only\n| STATS count(*) AS n")
    assert found == [{"n": "3"}]


def test_statistics(env, group):
    answer = query(env, group, "filter status = 503")
    stats = answer["statistics"]
    assert stats["recordsScanned"] == 14 and stats["recordsMatched"] == 3 and stats["bytesScanned"] > 1000


def test_time_range_is_inclusive_and_limits_apply(env, group):
    assert len(rows(env, group, "fields @timestamp", startTime=NOW, endTime=NOW + 30)) == 2
    assert len(rows(env, group, "fields @timestamp", limit=5)) == 5


def test_query_by_identifiers_and_names(env, group):
    logs = env.client("logs")
    arn = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["arn"]
    for args in ({"logGroupIdentifiers": [arn.removesuffix(":*")]}, {"logGroupNames": [group]}):
        query_id = logs.start_query(startTime=NOW - 60, endTime=NOW + 3600, queryString="stats count(*)", **args)["queryId"]
        assert logs.get_query_results(queryId=query_id)["results"][0][0]["value"] == "14"


def test_describe_and_stop_queries(env, group):
    logs = env.client("logs")
    query_id = logs.start_query(logGroupName=group, startTime=NOW, endTime=NOW + 3600,
                                queryString="fields @message")["queryId"]
    listed = logs.describe_queries(logGroupName=group)["queries"]
    assert listed[0]["queryId"] == query_id and listed[0]["status"] == "Complete"
    assert listed[0]["logGroupName"] == group
    assert logs.stop_query(queryId=query_id)["success"] is False   # nothing left to stop


@pytest.mark.parametrize("text", [
    "", "fields", "filter status >", "stats avg(latency_ms) by", "parse @message 'a*b*' as one",
    "limit 0", "frobnicate x", "fields a | | limit 2", "stats latency_ms", "filter nosuch(x) = 1",
    "stats pct(latency_ms) as p", "filter path like /[/", "limit 100001",
])
def test_malformed_queries(env, group, text):
    logs = env.client("logs")
    with pytest.raises(logs.exceptions.MalformedQueryException) as info:
        logs.start_query(logGroupName=group, startTime=NOW, endTime=NOW + 60, queryString=text)
    assert "position" in info.value.response["Error"]["Message"]


def test_parameter_errors(env, group):
    logs = env.client("logs")
    base = {"startTime": NOW, "endTime": NOW + 60, "queryString": "fields @message"}
    with pytest.raises(logs.exceptions.InvalidParameterException):
        logs.start_query(logGroupName=group, logGroupNames=[group], **base)
    with pytest.raises(logs.exceptions.InvalidParameterException):
        logs.start_query(**base)
    with pytest.raises(logs.exceptions.InvalidParameterException):
        logs.start_query(logGroupName=group, startTime=NOW + 60, endTime=NOW, queryString="fields @message")
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.start_query(logGroupName=group + "-missing", **base)
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.get_query_results(queryId="00000000-0000-0000-0000-000000000000")
