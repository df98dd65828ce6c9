"""X-Ray fidelity cases over a course-shaped trace set: ALB → gateway → courses-api →
enrollment, as the data plane will send it, with one 5xx fault, one slow request, a 404 and
a throttled request. Plain moto answers an empty service graph, HTTP 500 for any filter
expression and summaries without Http or ServiceIds; the cases say what X-Ray answers."""
from __future__ import annotations

import datetime
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

from mylearning.emulator.fidelity.cases import OK, BehaviourMismatch, Case, Env

API = "https://docs.aws.amazon.com/xray/latest/api/"
GUIDE = "https://docs.aws.amazon.com/xray/latest/devguide/"
ALB, PROXY, ECS = "AWS::ElasticLoadBalancing::LoadBalancer", "AWS::AppMesh::Proxy", "AWS::ECS::Container"


def _id() -> str:
    return uuid.uuid4().hex[:16]


@dataclass
class TraceSet:
    """The names of the services and the ids of the traces sent, by what happened."""

    alb: str
    gateway: str
    api: str
    enrollment: str
    ids: dict[str, str] = field(default_factory=dict)  # ok, slow, fault, missing, throttled, listed
    start: float = 0.0

    def window(self) -> dict[str, datetime.datetime]:
        return {"StartTime": datetime.datetime.fromtimestamp(self.start - 60, datetime.timezone.utc),
                "EndTime": datetime.datetime.fromtimestamp(time.time() + 60, datetime.timezone.utc)}


def _segment(name: str, origin: str, trace: str, start: float, took: float, status: int, url: str,
             method: str = "GET", parent: str | None = None, **extra: Any) -> dict:
    doc = {"name": name, "id": _id(), "trace_id": trace, "start_time": start, "end_time": start + took,
           "origin": origin, "http": {"request": {"method": method, "url": url}, "response": {"status": status}}}
    if parent:
        doc["parent_id"] = parent
    if status >= 500:
        doc["fault"] = True
    elif status == 429:
        doc.update(error=True, throttle=True)
    elif status >= 400:
        doc["error"] = True
    doc.update(extra)
    return doc


def _call(name: str, start: float, took: float, status: int, **extra: Any) -> dict:
    sub = {"name": name, "id": _id(), "start_time": start, "end_time": start + took, "namespace": "remote",
           "http": {"request": {"method": "GET", "traced": True}, "response": {"status": status}}}
    if status >= 500:
        sub["fault"] = True
    sub.update(extra)
    return sub


def send_course_traces(env: Env) -> TraceSet:
    """Five requests through the course's services, sent as the data plane sends them:
    each service its own segment, calls as subsegments, children by parent_id."""
    names = TraceSet(env.name("alb"), env.name("gateway"), env.name("courses-api"), env.name("enrollment"))
    now = names.start = time.time()
    documents: list[dict] = []

    def request(kind: str, path: str, status: int, api_took: float, *, method: str = "GET",
                enrollment: int | None = None, dynamo: bool = False, reach_api: bool = True,
                annotations: dict | None = None) -> None:
        trace = f"1-{int(now):08x}-{uuid.uuid4().hex[:24]}"
        names.ids[kind] = trace
        url = f"http://{names.alb}.elb.amazonaws.com{path}"
        total = api_took + 0.02
        alb = _segment(names.alb, ALB, trace, now, total + 0.01, status, url, method)
        gateway = _segment(names.gateway, PROXY, trace, now + 0.002, total, status, url, method, parent=alb["id"])
        documents.extend([alb, gateway])
        if not reach_api:
            return
        hop = _call(names.api, now + 0.004, api_took + 0.01, status)
        gateway["subsegments"] = [hop]
        api = _segment(names.api, ECS, trace, now + 0.005, api_took, status, f"http://{names.api}:8080{path}",
                       method, parent=hop["id"], annotations=annotations or {})
        subs = []
        if enrollment is not None:
            call = _call(names.enrollment, now + 0.006, 0.01, enrollment)
            subs.append(call)
            documents.append(_segment(names.enrollment, ECS, trace, now + 0.007, 0.008, enrollment,
                                      f"http://{names.enrollment}:8080/enrollments", method, parent=call["id"]))
        if dynamo:
            subs.append({"name": "DynamoDB", "id": _id(), "start_time": now + 0.02, "end_time": now + 0.03,
                         "namespace": "aws", "aws": {"table_name": "courses", "operation": "Query"},
                         "http": {"response": {"status": 200}}})
        api["subsegments"] = subs
        documents.append(api)
        if kind == "ok":  # a subsegment sent on its own, after its parent segment
            documents.append({"name": "render", "id": _id(), "trace_id": trace, "type": "subsegment",
                              "parent_id": api["id"], "start_time": now + 0.03, "end_time": now + 0.035})

    request("ok", "/courses", 200, 0.05, enrollment=200, dynamo=True,
            annotations={"route": "/courses", "attempt": 1, "canary": False})
    request("fault", "/enrollments", 503, 0.06, method="POST", enrollment=500,
            annotations={"route": "/enrollments", "attempt": 2, "canary": False})
    request("slow", "/courses/42", 200, 3.2, dynamo=True,
            annotations={"route": "/courses/{id}", "attempt": 1, "canary": True})
    request("missing", "/courses/999", 404, 0.03, annotations={"route": "/courses/{id}", "attempt": 1})
    request("throttled", "/courses", 429, 0.0, reach_api=False)
    answer = env.client("xray").put_trace_segments(TraceSegmentDocuments=[json.dumps(d) for d in documents])
    if answer.get("UnprocessedTraceSegments"):
        raise BehaviourMismatch(f"segments refused: {answer['UnprocessedTraceSegments']}")
    return names


def services_by_name(services: list[dict]) -> dict[tuple[str, str], dict]:
    return {(s.get("Name"), s.get("Type")): s for s in services}


def _graph_edges(env: Env) -> Any:
    names = send_course_traces(env)
    services = services_by_name(env.client("xray").get_service_graph(**names.window())["Services"])
    api = services.get((names.api, ECS))
    enrollment = services.get((names.enrollment, ECS))
    if api is None or enrollment is None:
        raise BehaviourMismatch(f"the graph lacks the traced services: {sorted(services)[:6]}")
    edge = next((e for e in api["Edges"] if e["ReferenceId"] == enrollment["ReferenceId"]), None)
    if edge is None or edge["SummaryStatistics"]["FaultStatistics"]["TotalCount"] != 1:
        raise BehaviourMismatch("no edge courses-api → enrollment with its one fault")


def _filtered(expression: str, expect: set[str]) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        names = send_course_traces(env)
        text = expression.format(api=names.api, enrollment=names.enrollment, gateway=names.gateway)
        found = {s["Id"] for s in env.client("xray").get_trace_summaries(
            **names.window(), FilterExpression=text)["TraceSummaries"]} & set(names.ids.values())
        if found != {names.ids[k] for k in expect}:
            raise BehaviourMismatch(f"{text}: found {sorted(k for k, v in names.ids.items() if v in found)}")
    return call


def _full_trace(env: Env) -> Any:
    names = send_course_traces(env)
    trace = env.client("xray").batch_get_traces(TraceIds=[names.ids["ok"]])["Traces"][0]
    docs = [json.loads(s["Document"]) for s in trace["Segments"]]
    if not any(d.get("inferred") and d.get("name") == "DynamoDB" for d in docs):
        raise BehaviourMismatch("the full trace lacks the inferred DynamoDB segment")
    if any(d.get("type") == "subsegment" for d in docs):
        raise BehaviourMismatch("a separately sent subsegment was not placed under its parent")


def _trace_graph(env: Env) -> Any:
    names = send_course_traces(env)
    services = services_by_name(env.client("xray").get_trace_graph(TraceIds=[names.ids["fault"]])["Services"])
    if (names.enrollment, ECS) not in services or ("DynamoDB", "AWS::DynamoDB::Table") in services:
        raise BehaviourMismatch(f"the trace graph is not the fault trace's services: {sorted(services)[:6]}")


def _case(id: str, call: Callable[[Env], Any], expect: str, page: str, kind: str = "behaviour") -> Case:
    return Case(f"xray.{id}", "xray", call, expect, page, kind)


CASES = [
    _case("service-graph.course-edges", _graph_edges, OK, API + "API_GetServiceGraph.html"),
    _case("summaries.valid-edge-fault", _filtered('edge("{api}", "{enrollment}") {{ fault }}', {"fault"}), OK,
          GUIDE + "xray-console-filters.html"),
    _case("summaries.valid-slow-responsetime", _filtered('service("{gateway}") AND responsetime > 3', {"slow"}),
          OK, GUIDE + "xray-console-filters.html"),
    _case("summaries.valid-annotation-boolean", _filtered('service("{api}") AND annotation.canary = true',
                                                          {"slow"}), OK, GUIDE + "xray-console-filters.html"),
    _case("trace-graph.one-trace", _trace_graph, OK, API + "API_GetTraceGraph.html"),
    _case("batch-get-traces.compiled", _full_trace, OK, GUIDE + "xray-api-gettingdata.html"),
]
