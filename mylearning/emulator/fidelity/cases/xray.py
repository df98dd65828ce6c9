"""X-Ray fidelity cases: the service graph shows what the segments describe."""
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


def _case(id: str, call: Callable[[Env], Any], expect: str, page: str, kind: str = "behaviour") -> Case:
    return Case(f"xray.{id}", "xray", call, expect, API + page, kind)


CASES = [
    _case("put-trace-segments", _put_segments, OK, "API_PutTraceSegments.html", "validation"),
    _case("service-graph.from-segments", _graph_from_segments, OK, "API_GetServiceGraph.html"),
    _case("service-graph.time-window", _window_before_segments, OK, "API_GetServiceGraph.html"),
]
