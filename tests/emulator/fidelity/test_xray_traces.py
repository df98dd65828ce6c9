"""X-Ray's read APIs over boto3, on a course-shaped trace set (ALB → gateway → courses-api →
enrollment) sent with PutTraceSegments: the service graph's edges and counts, filter
expressions, summaries, full traces, the trace graph, groups and the errors."""
from __future__ import annotations

import datetime
import json
import time

import pytest
from botocore.exceptions import ClientError

from mylearning.emulator.fidelity.cases.xray_traces import ALB, ECS, PROXY, send_course_traces, services_by_name


@pytest.fixture(scope="module")
def traces(env):
    return send_course_traces(env)


@pytest.fixture(scope="module")
def xray(env):
    return env.client("xray")


@pytest.fixture(scope="module")
def graph(traces, xray):
    return services_by_name(xray.get_service_graph(**traces.window())["Services"])


def _edge(graph, source, target):
    ref = graph[target]["ReferenceId"]
    return next(e for e in graph[source]["Edges"] if e["ReferenceId"] == ref)


def test_service_graph_has_every_hop_of_the_request(traces, graph):
    alb, gateway = (traces.alb, ALB), (traces.gateway, PROXY)
    api, enrollment = (traces.api, ECS), (traces.enrollment, ECS)
    dynamo = ("DynamoDB", "AWS::DynamoDB::Table")
    assert graph[alb]["Root"] is True and graph[gateway]["Root"] is False
    client = graph[(traces.alb, "client")]
    assert [e["ReferenceId"] for e in client["Edges"]] == [graph[alb]["ReferenceId"]]
    assert client["State"] == "unknown" and client["StartTime"] == graph[alb]["StartTime"]
    assert {e["ReferenceId"] for e in graph[alb]["Edges"]} == {graph[gateway]["ReferenceId"]}
    assert {e["ReferenceId"] for e in graph[gateway]["Edges"]} == {graph[api]["ReferenceId"]}
    assert {e["ReferenceId"] for e in graph[api]["Edges"]} == {graph[enrollment]["ReferenceId"],
                                                              graph[dynamo]["ReferenceId"]}
    assert graph[enrollment]["Edges"] == []
    # the calls answered by traced services infer no "remote" node
    assert (traces.api, "remote") not in graph and (traces.enrollment, "remote") not in graph


def test_service_graph_counts_ok_errors_throttles_and_faults(traces, graph):
    alb = graph[(traces.alb, ALB)]["SummaryStatistics"]
    assert alb["TotalCount"] == 5 and alb["OkCount"] == 2
    assert alb["FaultStatistics"] == {"OtherCount": 1, "TotalCount": 1}
    assert alb["ErrorStatistics"] == {"ThrottleCount": 1, "OtherCount": 1, "TotalCount": 2}
    api = graph[(traces.api, ECS)]["SummaryStatistics"]
    assert (api["TotalCount"], api["OkCount"], api["FaultStatistics"]["TotalCount"],
            api["ErrorStatistics"]["TotalCount"]) == (4, 2, 1, 1)
    hop = _edge(graph, (traces.gateway, PROXY), (traces.api, ECS))["SummaryStatistics"]
    assert hop["TotalCount"] == 4 and hop["FaultStatistics"]["TotalCount"] == 1
    call = _edge(graph, (traces.api, ECS), (traces.enrollment, ECS))["SummaryStatistics"]
    assert (call["TotalCount"], call["OkCount"], call["FaultStatistics"]["TotalCount"]) == (2, 1, 1)


def test_histograms_and_response_times_follow_the_segments(traces, graph):
    api = graph[(traces.api, ECS)]
    histogram = api["ResponseTimeHistogram"]
    assert sum(h["Count"] for h in histogram) == api["SummaryStatistics"]["TotalCount"]
    assert max(h["Value"] for h in histogram) == pytest.approx(3.2, abs=0.001)
    assert api["SummaryStatistics"]["TotalResponseTime"] == pytest.approx(0.05 + 0.06 + 3.2 + 0.03, abs=0.001)
    assert api["DurationHistogram"] == histogram
    assert isinstance(api["StartTime"], datetime.datetime) and api["EndTime"] >= api["StartTime"]
    edge = _edge(graph, (traces.api, ECS), (traces.enrollment, ECS))
    assert sum(h["Count"] for h in edge["ResponseTimeHistogram"]) == 2


def test_service_graph_window_leaves_out_segments_outside_it(traces, xray):
    before = datetime.datetime.fromtimestamp(traces.start - 3600, datetime.timezone.utc)
    services = xray.get_service_graph(StartTime=before, EndTime=before + datetime.timedelta(minutes=30))["Services"]
    assert traces.alb not in {s["Name"] for s in services}


# Each expression (the developer guide's syntax, xray-console-filters.html) with the kinds of
# request it must find among the five sent: ok, fault, slow, missing (404), throttled (429).
FILTERS = [
    ('service("{api}")', {"ok", "fault", "slow", "missing"}),
    ('service("{gateway}")', {"ok", "fault", "slow", "missing", "throttled"}),
    ("fault", {"fault"}),
    ("error", {"missing", "throttled"}),
    ("throttle", {"throttled"}),
    ("ok", {"ok", "slow"}),
    ("!ok", {"fault", "missing", "throttled"}),
    ("ok = false", {"fault", "missing", "throttled"}),
    ("responsetime > 3", {"slow"}),
    ("duration >= 3 AND duration < 4", {"slow"}),
    ("http.status = 404", {"missing"}),
    ("http.status >= 500", {"fault"}),
    ('http.url CONTAINS "/enrollments"', {"fault"}),
    ('http.url ENDSWITH "/courses"', {"ok", "throttled"}),
    ('http.method = "POST"', {"fault"}),
    ('annotation.route = "/courses"', {"ok"}),
    ("annotation.attempt > 1", {"fault"}),
    ("annotation.canary = true", {"slow"}),
    ("annotation.canary", {"ok", "fault", "slow"}),
    ('service("{enrollment}") {{ fault }}', {"fault"}),
    ('service("{api}") {{ responsetime > 3 }}', {"slow"}),
    ('edge("{api}", "{enrollment}")', {"ok", "fault"}),
    ('edge("{gateway}", "{api}") {{ error }}', {"missing"}),
    ('edge("{enrollment}", "{api}")', set()),
    ('service(id(name: "{api}", type: "AWS::ECS::Container")) {{ error }}', {"missing"}),
    ('service(id(name: "{api}", type: "AWS::Lambda::Function"))', set()),
    ('service(id(name: "DynamoDB", type: "AWS::DynamoDB::Table")) AND service("{api}")', {"ok", "slow"}),
    ('(fault OR throttle) AND service("{gateway}")', {"fault", "throttled"}),
    ('!service("{enrollment}") AND service("{api}")', {"slow", "missing"}),
    ("ok !partial responsetime < 1", {"ok"}),
]


@pytest.mark.parametrize("expression, kinds", FILTERS, ids=[f[0] for f in FILTERS])
def test_filter_expression_finds_its_traces(traces, xray, expression, kinds):
    text = expression.format(api=traces.api, enrollment=traces.enrollment, gateway=traces.gateway)
    found = {s["Id"] for s in xray.get_trace_summaries(**traces.window(), FilterExpression=text)["TraceSummaries"]}
    mine = {kind for kind, trace in traces.ids.items() if trace in found}
    assert mine == kinds


def _summary(traces, xray, kind):
    found = xray.get_trace_summaries(**traces.window(), FilterExpression=f'service("{traces.alb}")')
    return next(s for s in found["TraceSummaries"] if s["Id"] == traces.ids[kind])


def test_summary_shape(traces, xray):
    missing = _summary(traces, xray, "missing")
    assert missing["HasError"] is True and missing["HasFault"] is False and missing["HasThrottle"] is False
    assert missing["Http"] == {"HttpURL": f"http://{traces.alb}.elb.amazonaws.com/courses/999",
                               "HttpMethod": "GET", "HttpStatus": 404}
    assert missing["EntryPoint"] == {"Name": traces.alb, "Names": [traces.alb], "AccountId": "123456789012",
                                     "Type": ALB}
    assert {(s["Name"], s["Type"]) for s in missing["ServiceIds"]} == {
        (traces.alb, ALB), (traces.gateway, PROXY), (traces.api, ECS)}
    assert missing["Annotations"]["attempt"][0]["AnnotationValue"] == {"NumberValue": 1.0}
    assert missing["Annotations"]["route"][0]["ServiceIds"][0]["Name"] == traces.api
    slow = _summary(traces, xray, "slow")
    assert slow["ResponseTime"] == pytest.approx(3.23, abs=0.001)
    assert slow["Duration"] == pytest.approx(3.23, abs=0.001) and slow["IsPartial"] is False
    assert slow["Annotations"]["canary"][0]["AnnotationValue"] == {"BooleanValue": True}
    fault = _summary(traces, xray, "fault")
    assert fault["HasFault"] is True and fault["Http"]["HttpStatus"] == 503
    assert _summary(traces, xray, "throttled")["HasThrottle"] is True


def test_processed_count_includes_traces_the_filter_left_out(traces, xray):
    answer = xray.get_trace_summaries(**traces.window(), FilterExpression=f'service("{traces.enrollment}")')
    assert answer["TracesProcessedCount"] >= len(traces.ids) > len(answer["TraceSummaries"])


def test_time_range_types(env, xray):
    """TraceId finds a trace by the time in its id, Event by when it was received, Service by
    its segments' end times (API_GetTraceSummaries.html, TimeRangeType)."""
    now = time.time()
    trace = f"1-{int(now - 3600):08x}-{'ab' * 12}"
    xray.put_trace_segments(TraceSegmentDocuments=[json.dumps({
        "name": env.name("late"), "id": "1234abcd1234abcd", "trace_id": trace, "start_time": now - 1,
        "end_time": now})])

    def found(kind, start, end):
        answer = xray.get_trace_summaries(StartTime=datetime.datetime.fromtimestamp(start, datetime.timezone.utc),
                                          EndTime=datetime.datetime.fromtimestamp(end, datetime.timezone.utc),
                                          TimeRangeType=kind)
        return trace in {s["Id"] for s in answer["TraceSummaries"]}

    assert found("TraceId", now - 3700, now - 3500) and not found("TraceId", now - 60, now + 60)
    assert found("Service", now - 60, now + 60) and not found("Service", now - 3700, now - 3500)
    assert found("Event", now - 60, now + 60) and not found("Event", now - 3700, now - 3500)


def test_sampling_keeps_a_fixed_share(traces, xray):
    def ids(value):
        answer = xray.get_trace_summaries(**traces.window(), Sampling=True,
                                          SamplingStrategy={"Name": "FixedRate", "Value": value})
        return {s["Id"] for s in answer["TraceSummaries"]} & set(traces.ids.values())

    assert ids(0.0) == set() and ids(1.0) == set(traces.ids.values())
    assert ids(0.5) <= set(traces.ids.values())


def test_batch_get_traces_compiles_each_trace(traces, xray):
    unknown = "1-5f000000-000000000000000000000000"
    answer = xray.batch_get_traces(TraceIds=[traces.ids["ok"], traces.ids["slow"], unknown])
    assert answer["UnprocessedTraceIds"] == [unknown]
    by_id = {t["Id"]: t for t in answer["Traces"]}
    ok = by_id[traces.ids["ok"]]
    docs = {(d["name"], d.get("inferred", False)): d for d in (json.loads(s["Document"]) for s in ok["Segments"])}
    assert set(docs) == {(traces.alb, False), (traces.gateway, False), (traces.api, False),
                         (traces.enrollment, False), ("DynamoDB", True)}
    assert docs[("DynamoDB", True)]["origin"] == "AWS::DynamoDB::Table"
    # the "render" subsegment, sent on its own, is inside the courses-api segment
    assert "render" in [s["name"] for s in docs[(traces.api, False)]["subsegments"]]
    assert [s["Id"] for s in ok["Segments"]] == [str(json.loads(s["Document"])["id"]) for s in ok["Segments"]]
    assert by_id[traces.ids["slow"]]["Duration"] == pytest.approx(3.23, abs=0.001)


def test_trace_graph_shows_only_the_given_traces(traces, xray):
    services = services_by_name(xray.get_trace_graph(TraceIds=[traces.ids["fault"]])["Services"])
    assert set(services) == {(traces.alb, "client"), (traces.alb, ALB), (traces.gateway, PROXY),
                             (traces.api, ECS), (traces.enrollment, ECS)}
    assert services[(traces.enrollment, ECS)]["SummaryStatistics"]["FaultStatistics"]["TotalCount"] == 1


def test_group_narrows_the_service_graph(traces, xray, env):
    name = env.name("slow")
    xray.create_group(GroupName=name, FilterExpression=f'service("{traces.alb}") AND responsetime > 3')
    assert name in {g["GroupName"] for g in xray.get_groups()["Groups"]}
    arn = xray.get_group(GroupName=name)["Group"]["GroupARN"]
    for key, value in (("GroupName", name), ("GroupARN", arn)):
        services = services_by_name(xray.get_service_graph(**traces.window(), **{key: value})["Services"])
        assert services[(traces.alb, ALB)]["SummaryStatistics"]["TotalCount"] == 1
        assert (traces.enrollment, ECS) not in services
    xray.delete_group(GroupName=name)
    with pytest.raises(ClientError) as info:
        xray.get_service_graph(**traces.window(), GroupName=name)
    assert info.value.response["Error"]["Code"] == "InvalidRequestException"


@pytest.mark.parametrize("call", [
    lambda x: x.create_group(GroupName="slow traces"),      # names: letters, digits and dashes
    lambda x: x.create_group(GroupName="Default"),          # taken
    lambda x: x.delete_group(GroupName="Default"),          # "You can't delete the Default group"
    lambda x: x.get_group(GroupName="no-such-group"),
])
def test_group_errors(xray, call):
    with pytest.raises(ClientError) as info:
        call(xray)
    assert info.value.response["Error"]["Code"] == "InvalidRequestException"


@pytest.mark.parametrize("expression", ['service("a"', "latency > 5", "ok AND", 'http.status = "x"',
                                        'edge("a")', "annotation.x = ", "fault OR"])
def test_bad_filter_expressions_are_invalid_requests(traces, xray, expression):
    with pytest.raises(ClientError) as info:
        xray.get_trace_summaries(**traces.window(), FilterExpression=expression)
    assert info.value.response["Error"]["Code"] == "InvalidRequestException"
    with pytest.raises(ClientError):
        xray.create_group(GroupName="bad-filter", FilterExpression=expression)


def test_window_errors(traces, xray):
    window = traces.window()
    with pytest.raises(ClientError) as info:
        xray.get_service_graph(StartTime=window["EndTime"], EndTime=window["StartTime"])
    assert info.value.response["Error"]["Code"] == "InvalidRequestException"
    with pytest.raises(ClientError) as info:
        xray.get_trace_summaries(StartTime=window["EndTime"], EndTime=window["StartTime"])
    assert info.value.response["Error"]["Code"] == "InvalidRequestException"


GOOD = {"name": "courses-api", "trace_id": "1-581cf771-a006649127e371903a2de979", "start_time": 1.4e9,
        "end_time": 1.4e9 + 0.2}


@pytest.mark.parametrize("change, code", [
    ({"annotations": {"ids": [1, 2]}}, "InvalidParameter"),
    ({"annotations": {"route": "x" * 1001}}, "InvalidParameter"),
    ({"fault": "true"}, "InvalidParameter"),
    ({"http": {"response": {"status": "200"}}}, "InvalidParameter"),
    ({"http": {"request": "GET /"}}, "InvalidParameter"),
    ({"name": "courses api!"}, "InvalidParameter"),
    ({"cause": "short"}, "InvalidParameter"),
    ({"subsegments": [{"id": "ab" * 8, "name": "db", "start_time": 1.4e9, "end_time": 1.4e9,
                       "namespace": 7}]}, "InvalidParameter"),
    ({"subsegments": [{"id": "ab" * 8, "name": "db", "start_time": 1.4e9, "end_time": 1.4e9,
                       "annotations": {"rows": {"n": 1}}}]}, "InvalidParameter"),
    ({"end_time": None}, "MissingParam"),
    ({"annotations": {"route": "/courses", "n": 2, "ok": True}, "metadata": {"any": [{"x": 1}]},
      "origin": "AWS::ElasticLoadBalancing::LoadBalancer", "aws": {"ecs": {"container": "c1"}},
      "http": {"request": {"method": "GET", "x_forwarded_for": True}, "response": {"status": 200}},
      "cause": {"exceptions": [{"id": "cd" * 8, "message": "boom"}]}}, None),
    ({"name": "mesh/gateway: v1 @ us-east-1"}, None),
    # as AWS's X-Ray SDK for Python writes subsegments: namespace "local", type and trace_id kept
    ({"subsegments": [{"id": "ab" * 8, "name": "## render", "start_time": 1.4e9, "end_time": 1.4e9,
                       "namespace": "local", "type": "subsegment", "trace_id": GOOD["trace_id"]}]}, None),
])
def test_put_trace_segments_lists_bad_documents(xray, change, code):
    seg_id = f"{int(time.time() * 1e6) % 16 ** 16:016x}"
    doc = {k: v for k, v in {**GOOD, "id": seg_id, **change}.items() if v is not None}
    good = {**GOOD, "id": "0123456789abcdef"}
    answer = xray.put_trace_segments(TraceSegmentDocuments=[json.dumps(doc), json.dumps(good)])
    unprocessed = answer["UnprocessedTraceSegments"]
    if code is None:
        assert unprocessed == []
    else:
        assert [(u["Id"], u["ErrorCode"]) for u in unprocessed] == [(seg_id, code)]
        assert unprocessed[0]["Message"]


def test_annotation_with_a_key_filters_cannot_use_is_kept_but_not_indexed(env, xray):
    now, trace = time.time(), f"1-{int(time.time()):08x}-{'cd' * 12}"
    name = env.name("keys")
    answer = xray.put_trace_segments(TraceSegmentDocuments=[json.dumps({
        "name": name, "id": "feedfacefeedface", "trace_id": trace, "start_time": now - 0.1, "end_time": now,
        "annotations": {"route-name": "/x", "route_name": "/y"}})])
    assert answer["UnprocessedTraceSegments"] == []
    window = {"StartTime": datetime.datetime.fromtimestamp(now - 60, datetime.timezone.utc),
              "EndTime": datetime.datetime.fromtimestamp(now + 60, datetime.timezone.utc)}
    summary = next(s for s in xray.get_trace_summaries(**window, FilterExpression=f'service("{name}")')[
        "TraceSummaries"] if s["Id"] == trace)
    assert set(summary["Annotations"]) == {"route_name"}


def test_complete_segment_overwrites_its_in_progress_fragment(env, xray):
    """"When the response is sent, send the complete segment to overwrite the in-progress
    segment" (xray-api-segmentdocuments.html); a trace with an in-progress segment is partial."""
    now, trace, name = time.time(), f"1-{int(time.time()):08x}-{'ef' * 12}", env.name("long")
    base = {"name": name, "id": "0ddba11c0ffee000", "trace_id": trace, "start_time": now - 2}
    window = {"StartTime": datetime.datetime.fromtimestamp(now - 60, datetime.timezone.utc),
              "EndTime": datetime.datetime.fromtimestamp(now + 60, datetime.timezone.utc)}

    def summary():
        found = xray.get_trace_summaries(**window, FilterExpression=f'service("{name}") AND partial')
        return next((s for s in found["TraceSummaries"] if s["Id"] == trace), None)

    xray.put_trace_segments(TraceSegmentDocuments=[json.dumps({**base, "in_progress": True})])
    assert summary()["IsPartial"] is True
    xray.put_trace_segments(TraceSegmentDocuments=[json.dumps({**base, "end_time": now})])
    assert summary() is None
    xray.put_trace_segments(TraceSegmentDocuments=[json.dumps({**base, "in_progress": True})])
    assert summary() is None
    [full] = xray.batch_get_traces(TraceIds=[trace])["Traces"]
    assert [json.loads(s["Document"]).get("end_time") for s in full["Segments"]] == [now]


def test_root_causes_name_the_service_the_issue_came_from(traces, xray):
    def names(cause):
        return [s["Name"] for s in cause["Services"]]

    fault = _summary(traces, xray, "fault")
    [cause] = fault["FaultRootCauses"]
    assert names(cause) == [traces.alb, traces.gateway, traces.api, traces.enrollment]
    assert cause["ClientImpacting"] is True and fault["ErrorRootCauses"] == []
    missing = _summary(traces, xray, "missing")
    assert [names(c)[-1] for c in missing["ErrorRootCauses"]] == [traces.api]
    slow = _summary(traces, xray, "slow")
    [late] = slow["ResponseTimeRootCauses"]
    assert names(late)[-1] == traces.api
    assert late["Services"][-1]["EntityPath"][0]["Coverage"] == pytest.approx(3.2 / 3.23, abs=0.01)
    assert _summary(traces, xray, "ok")["FaultRootCauses"] == []
