"""X-Ray fidelity: the service graph is built from the segments sent."""
from __future__ import annotations

from mylearning.emulator.fidelity.cases.xray import send_two_services
from mylearning.emulator.fidelity.xray import build_service_graph


def test_service_graph_shape(env):
    import datetime

    front, back = env.name("web"), env.name("api")
    send_two_services(env, front, back)
    now = datetime.datetime.now(datetime.timezone.utc)
    graph = env.client("xray").get_service_graph(StartTime=now - datetime.timedelta(minutes=5), EndTime=now)
    services = {(s["Name"], s["Type"]): s for s in graph["Services"]}
    web = services[(front, "AWS::ECS::Container")]
    assert web["Root"] is True and web["State"] == "active"
    assert web["SummaryStatistics"]["TotalCount"] >= 1 and web["SummaryStatistics"]["OkCount"] >= 1
    client = services[(front, "client")]
    assert web["ReferenceId"] in [e["ReferenceId"] for e in client["Edges"]]
    edge = next(e for e in web["Edges"] if e["ReferenceId"] == services[(back, "AWS::ECS::Container")]["ReferenceId"])
    assert edge["SummaryStatistics"]["TotalCount"] == 1
    assert isinstance(edge["StartTime"], datetime.datetime)


def test_graph_counts_errors_faults_and_throttles():
    base = {"trace_id": "1-00000000-000000000000000000000000", "start_time": 100.0, "end_time": 101.0}
    docs = [{**base, "name": "svc", "id": "1", "http": {"response": {"status": 200}}},
            {**base, "name": "svc", "id": "2", "http": {"response": {"status": 404}}},
            {**base, "name": "svc", "id": "3", "fault": True},
            {**base, "name": "svc", "id": "4", "http": {"response": {"status": 429}}}]
    services = build_service_graph(docs, 0, 200, "123456789012")
    svc = next(s for s in services if s["Type"] == "service")
    stats = svc["SummaryStatistics"]
    assert stats["TotalCount"] == 4 and stats["OkCount"] == 1
    assert stats["ErrorStatistics"] == {"ThrottleCount": 1, "OtherCount": 1, "TotalCount": 2}
    assert stats["FaultStatistics"]["TotalCount"] == 1
    assert build_service_graph(docs, 500, 600, "123456789012") == []


import json  # noqa: E402

import pytest  # noqa: E402

from mylearning.emulator.fidelity.core import AwsError  # noqa: E402
from mylearning.emulator.fidelity.xray.filters import compile_filter  # noqa: E402
from mylearning.emulator.fidelity.xray.segments import segment_problem  # noqa: E402

TRACE = [{"name": "web", "id": "a" * 16, "start_time": 0, "end_time": 6, "user": "alice",
          "http": {"request": {"url": "http://api.example.com/v2/x", "method": "GET"},
                   "response": {"status": 200}},
          "annotations": {"gameid": "817DL6VO", "age": 30},
          "subsegments": [{"id": "b" * 16, "name": "catalog", "namespace": "remote"}]},
         {"name": "catalog", "id": "c" * 16, "parent_id": "b" * 16, "start_time": 1, "end_time": 2,
          "fault": True, "origin": "AWS::ECS::Container"}]


@pytest.mark.parametrize("expression, matches", [
    # the developer guide's examples (xray-console-filters.html)
    ("responsetime > 5", True), ("duration >= 5 AND duration <= 8", True), ("ok", True), ("!ok", False),
    ('service("catalog") { fault }', True), ("service() { fault }", True), ('service("web") { fault }', False),
    ('edge("web", "catalog") { fault }', True), ('edge("catalog", "web")', False),
    ('http.url BEGINSWITH "http://api.example.com/" AND http.url CONTAINS "/v2/" AND !service("api.example.com")', True),
    ("http.url AND responseTime > 2", True), ('annotation.gameid = "817DL6VO"', True), ("annotation.age", True),
    ("!annotation.age", False), ("annotation.age > 29", True), ('user = "bob"', False),
    ('group.name = "high_response_time" AND user = "alice"', True),
    ('rootcause.json = #[{ "Services": [ { "Name": "GetWeatherData" } ] }]', True),
    ('service(id(name: "catalog", type: "AWS::ECS::Container")) { fault }', True),
    ('service(id(type: "AWS::Lambda::Function")) { error }', False), ("(ok OR fault) AND !throttle", True),
    ("ok !partial duration <8", True), ("ok !partial duration <3", False),
])
def test_filter_expressions_follow_the_developer_guide(expression, matches):
    assert compile_filter(expression)(TRACE) is matches


@pytest.mark.parametrize("expression", ['service("svc"', "foo = 1", 'responsetime > "x"', "AND ok",
                                        "http.url > 5", '"x"', "ok AND", 'edge("a")', "ok OR OR fault"])
def test_malformed_filter_expressions_are_invalid_requests(expression):
    with pytest.raises(AwsError) as info:
        compile_filter(expression)
    assert info.value.code == "InvalidRequestException"


GOOD = {"name": "web", "id": "70de5b6f19ff9a0a", "trace_id": "1-581cf771-a006649127e371903a2de979",
        "start_time": 1.478293361271E9, "end_time": 1.478293361449E9}


@pytest.mark.parametrize("change, problem", [
    ({}, None), ({"end_time": None, "in_progress": True}, None),
    ({"type": "subsegment", "parent_id": "defdfd9912dc5a56"}, None),
    ({"trace_id": "1-581cf771-a006649127e3"}, "InvalidParameter"), ({"id": "70de5b6f"}, "InvalidParameter"),
    ({"start_time": None}, "MissingParam"), ({"end_time": None}, "MissingParam"),
    ({"end_time": None, "in_progress": "true"}, "MissingParam"), ({"type": "subsegment"}, "MissingParam"),
    ({"name": "x" * 201}, "InvalidParameter"),
])
def test_segment_documents_checked_against_the_schema(change, problem):
    doc = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    found = segment_problem(json.dumps(doc))
    assert (found[1] if found else None) == problem
