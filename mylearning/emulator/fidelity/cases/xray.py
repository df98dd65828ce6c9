"""X-Ray fidelity cases: segment documents, the service graph, trace summaries with filter
expressions, and sampling rules."""
from __future__ import annotations

import datetime
import json
import time
import uuid
from typing import Any, Callable

from mylearning.emulator.fidelity.cases import OK, BehaviourMismatch, Case, Env

API = "https://docs.aws.amazon.com/xray/latest/api/"


def _trace_id(now: float) -> str:
    return f"1-{int(now):08x}-{uuid.uuid4().hex[:24]}"


def _segment_id() -> str:
    return uuid.uuid4().hex[:16]


def send_two_services(env: Env, front: str, back: str) -> None:
    """A request through `front`, which calls `back` (traced) and DynamoDB (not traced)."""
    now = time.time()
    trace, call_id = _trace_id(now), _segment_id()
    frontend = {"name": front, "id": _segment_id(), "trace_id": trace, "start_time": now - 0.5,
                "end_time": now, "origin": "AWS::ECS::Container", "http": {"response": {"status": 200}},
                "subsegments": [
                    {"name": back, "id": call_id, "start_time": now - 0.4, "end_time": now - 0.1,
                     "namespace": "remote", "http": {"response": {"status": 200}}},
                    {"name": "DynamoDB", "id": _segment_id(), "start_time": now - 0.45,
                     "end_time": now - 0.42, "namespace": "aws"}]}
    backend = {"name": back, "id": _segment_id(), "trace_id": trace, "parent_id": call_id,
               "start_time": now - 0.38, "end_time": now - 0.12, "origin": "AWS::ECS::Container",
               "http": {"response": {"status": 200}}}
    answer = env.client("xray").put_trace_segments(
        TraceSegmentDocuments=[json.dumps(frontend), json.dumps(backend)])
    if answer.get("UnprocessedTraceSegments"):
        raise BehaviourMismatch(f"segments refused: {answer['UnprocessedTraceSegments']}")


def _graph(env: Env, minutes: int = 5, offset: int = 0) -> list[dict]:
    now = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=offset)
    return env.client("xray").get_service_graph(
        StartTime=now - datetime.timedelta(minutes=minutes),
        EndTime=now + datetime.timedelta(minutes=1))["Services"]


def _graph_from_segments(env: Env) -> Any:
    front, back = env.name("frontend"), env.name("catalog")
    send_two_services(env, front, back)
    services = {(s["Name"], s["Type"]): s for s in _graph(env)}
    if (front, "AWS::ECS::Container") not in services or (back, "AWS::ECS::Container") not in services:
        raise BehaviourMismatch(f"graph lacks the traced services: {sorted(services)}")
    caller = services[(front, "AWS::ECS::Container")]
    callee_id = services[(back, "AWS::ECS::Container")]["ReferenceId"]
    if callee_id not in [e["ReferenceId"] for e in caller["Edges"]]:
        raise BehaviourMismatch("no edge from the caller to the service it called")
    if ("DynamoDB", "AWS::DynamoDB") not in services:
        raise BehaviourMismatch("the untraced DynamoDB call has no inferred node")


def _window_before_segments(env: Env) -> Any:
    front, back = env.name("frontend"), env.name("catalog")
    send_two_services(env, front, back)
    names = {s["Name"] for s in _graph(env, minutes=10, offset=-60)}
    if front in names:
        raise BehaviourMismatch("a graph for an earlier window shows later segments")


def _put_segments(env: Env) -> Any:
    send_two_services(env, env.name("frontend"), env.name("catalog"))


SEGMENTS = "https://docs.aws.amazon.com/xray/latest/devguide/xray-api-segmentdocuments.html"
FILTERS = "https://docs.aws.amazon.com/xray/latest/devguide/xray-console-filters.html"
INVALID = "InvalidRequestException"
GROUPS = "https://docs.aws.amazon.com/xray/latest/devguide/xray-console-groups.html"


def _segment(**fields: Any) -> dict:
    now = time.time()
    doc = {"name": "catalog", "id": _segment_id(), "trace_id": _trace_id(now), "start_time": now - 0.2,
           "end_time": now}
    doc.update(fields)
    return {k: v for k, v in doc.items() if v is not None}


def _sent(doc: dict | str, processed: bool) -> Callable[[Env], Any]:
    """Send one document; AWS keeps it (`processed`) or lists it in UnprocessedTraceSegments."""
    def call(env: Env) -> Any:
        text = doc if isinstance(doc, str) else json.dumps(doc)
        unprocessed = env.client("xray").put_trace_segments(TraceSegmentDocuments=[text])["UnprocessedTraceSegments"]
        if processed and unprocessed:
            raise BehaviourMismatch(f"a valid segment was refused: {unprocessed}")
        if not processed and not unprocessed:
            raise BehaviourMismatch("an invalid segment was kept")
    return call


def _summaries(expression: str, find: bool | None = None) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        now = time.time()
        trace, name = _trace_id(now), env.name("checkout")
        env.client("xray").put_trace_segments(TraceSegmentDocuments=[json.dumps({
            "name": name, "id": _segment_id(), "trace_id": trace, "start_time": now - 1, "end_time": now,
            "http": {"request": {"method": "POST", "url": "http://checkout/orders"}, "response": {"status": 503}},
            "fault": True, "annotations": {"order_id": "A-17"}})])
        found = env.client("xray").get_trace_summaries(
            StartTime=datetime.datetime.fromtimestamp(now - 60), EndTime=datetime.datetime.fromtimestamp(now + 60),
            FilterExpression=expression.replace("NAME", name))["TraceSummaries"]
        if find is not None and (trace in [t["Id"] for t in found]) != find:
            raise BehaviourMismatch(f"{expression}: the trace was {'not ' if find else ''}found")
    return call


RULE = {"ResourceARN": "*", "Priority": 100, "FixedRate": 0.5, "ReservoirSize": 2, "ServiceName": "catalog",
        "ServiceType": "*", "Host": "*", "HTTPMethod": "*", "URLPath": "/orders*", "Version": 1}


def _sampling(action: Callable[[Any, dict], Any]) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        xray = env.client("xray")
        record = xray.create_sampling_rule(SamplingRule={**RULE, "RuleName": env.name("orders")})
        return action(xray, record["SamplingRuleRecord"]["SamplingRule"])
    return call


def _rules_listed(env: Env) -> Any:
    xray, name = env.client("xray"), env.name("orders")
    xray.create_sampling_rule(SamplingRule={**RULE, "RuleName": name})
    names = {r["SamplingRule"]["RuleName"] for r in xray.get_sampling_rules()["SamplingRuleRecords"]}
    if not {"Default", name} <= names:
        raise BehaviourMismatch(f"GetSamplingRules lists {sorted(names)}")


def _case(id: str, call: Callable[[Env], Any], expect: str, page: str, kind: str = "behaviour") -> Case:
    return Case(f"xray.{id}", "xray", call, expect, API + page, kind)


CASES = [
    _case("put-trace-segments", _put_segments, OK, "API_PutTraceSegments.html", "validation"),
    _case("service-graph.from-segments", _graph_from_segments, OK, "API_GetServiceGraph.html"),
    _case("service-graph.time-window", _window_before_segments, OK, "API_GetServiceGraph.html"),
    # segment documents
    _case("segments.trace-id-malformed", _sent(_segment(trace_id="1-581cf771"), processed=False), OK, SEGMENTS),
    _case("segments.id-not-16-hex-digits", _sent(_segment(id="70de5b6f19ff9a0"), processed=False), OK, SEGMENTS),
    _case("segments.start-time-a-string", _sent(_segment(start_time="1480615200.010"), processed=False), OK,
          SEGMENTS),
    _case("segments.in-progress-a-string", _sent(_segment(end_time=None, in_progress="true"), processed=False),
          OK, SEGMENTS),
    _case("segments.separate-subsegment-without-parent", _sent(_segment(type="subsegment"), processed=False),
          OK, SEGMENTS),
    _case("segments.embedded-subsegment-bad-id", _sent(_segment(subsegments=[
        {"name": "db", "id": "xyz", "start_time": time.time() - 0.1, "end_time": time.time()}]), processed=False),
        OK, SEGMENTS),
    _case("segments.valid-in-progress", _sent(_segment(end_time=None, in_progress=True), processed=True), OK,
          SEGMENTS),
    _case("segments.valid-separate-subsegment", _sent(_segment(type="subsegment", parent_id=_segment_id()),
                                                      processed=True), OK, SEGMENTS),
    _case("segments.annotation-object-value", _sent(_segment(annotations={"order": {"id": 1}}), processed=False),
          OK, SEGMENTS),
    _case("segments.namespace-not-a-string", _sent(_segment(subsegments=[
        {"name": "db", "id": _segment_id(), "start_time": time.time() - 0.1, "end_time": time.time(),
         "namespace": 7}]), processed=False), OK, SEGMENTS),
    _case("segments.valid-local-namespace", _sent(_segment(subsegments=[
        {"name": "render", "id": _segment_id(), "start_time": time.time() - 0.1, "end_time": time.time(),
         "namespace": "local", "type": "subsegment"}]), processed=True), OK, SEGMENTS),
    _case("segments.fault-a-string", _sent(_segment(fault="true"), processed=False), OK, SEGMENTS),
    _case("segments.http-status-a-string", _sent(_segment(http={"response": {"status": "503"}}), processed=False),
          OK, SEGMENTS),
    _case("segments.valid-annotations-and-origin", _sent(_segment(
        origin="AWS::AppMesh::Proxy", annotations={"route": "/courses", "attempt": 2, "canary": True},
        metadata={"debug": {"pool": [1, 2]}}), processed=True), OK, SEGMENTS),
    # trace summaries
    _case("summaries.filter-unclosed", _summaries('service("NAME"'), INVALID, "API_GetTraceSummaries.html",
          "validation"),
    _case("summaries.filter-unknown-keyword", _summaries("latency > 5"), INVALID, FILTERS, "validation"),
    _case("summaries.valid-service-fault-filter", _summaries('service("NAME") { fault }', find=True), OK, FILTERS),
    _case("summaries.valid-annotation-filter", _summaries('annotation.order_id = "A-17" AND http.status >= 500',
                                                          find=True), OK, FILTERS),
    _case("summaries.valid-filter-excludes", _summaries('service("NAME") AND ok', find=False), OK, FILTERS),
    _case("summaries.end-before-start", lambda env: env.client("xray").get_trace_summaries(
        StartTime=datetime.datetime.fromtimestamp(time.time()),
        EndTime=datetime.datetime.fromtimestamp(time.time() - 600)), INVALID, "API_GetTraceSummaries.html",
        "validation"),
    _case("service-graph.unknown-group", lambda env: env.client("xray").get_service_graph(
        StartTime=datetime.datetime.fromtimestamp(time.time() - 600),
        EndTime=datetime.datetime.fromtimestamp(time.time()), GroupName=env.name("nogroup")), INVALID,
        "API_GetServiceGraph.html", "validation"),
    _case("service-graph.valid-default-group", lambda env: env.client("xray").get_service_graph(
        StartTime=datetime.datetime.fromtimestamp(time.time() - 600),
        EndTime=datetime.datetime.fromtimestamp(time.time()), GroupName="Default"), OK,
        "https://docs.aws.amazon.com/xray/latest/devguide/xray-console-groups.html", "validation"),
    _case("groups.delete-default", lambda env: env.client("xray").delete_group(GroupName="Default"), INVALID,
          GROUPS, "validation"),
    _case("groups.name-with-spaces", lambda env: env.client("xray").create_group(GroupName="slow traces"), INVALID,
          GROUPS, "validation"),
    _case("groups.valid-create", lambda env: env.client("xray").create_group(
        GroupName=env.name("faults"), FilterExpression="fault = true AND responsetime >= 5"), OK, GROUPS,
        "validation"),
    # sampling rules
    _case("sampling.valid-create-and-list", _rules_listed, OK, "API_GetSamplingRules.html"),
    _case("sampling.update-by-name-and-arn", _sampling(lambda x, r: x.update_sampling_rule(SamplingRuleUpdate={
        "RuleName": r["RuleName"], "RuleARN": r["RuleARN"], "FixedRate": 0.1})), INVALID,
        "API_SamplingRuleUpdate.html", "validation"),
    _case("sampling.valid-update-by-arn", _sampling(lambda x, r: x.update_sampling_rule(SamplingRuleUpdate={
        "RuleARN": r["RuleARN"], "FixedRate": 0.1})), OK, "API_SamplingRuleUpdate.html", "validation"),
    _case("sampling.delete-default-rule", lambda env: env.client("xray").delete_sampling_rule(RuleName="Default"),
          INVALID, "https://docs.aws.amazon.com/xray/latest/devguide/xray-api-configuration.html", "validation"),
    _case("sampling.valid-delete-own-rule", _sampling(lambda x, r: x.delete_sampling_rule(RuleName=r["RuleName"])),
          OK, "API_DeleteSamplingRule.html", "validation"),
    _case("sampling.valid-update-default-rate", lambda env: env.client("xray").update_sampling_rule(
        SamplingRuleUpdate={"RuleName": "Default", "FixedRate": 0.1, "ReservoirSize": 0}), OK,
        "https://docs.aws.amazon.com/xray/latest/devguide/xray-api-configuration.html", "validation"),
]
