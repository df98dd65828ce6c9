"""AWS X-Ray: a service graph built from the segments the account received.

moto 5.2 stores segments sent with PutTraceSegments but answers GetServiceGraph
with an empty graph, so a learner who instruments services sees nothing. This
handler builds the graph X-Ray documents (API_GetServiceGraph.html, shapes
API_Service.html and API_Edge.html; concepts in the X-Ray developer guide,
https://docs.aws.amazon.com/xray/latest/devguide/xray-concepts.html#xray-concepts-servicegraph):

* one node per service that sent segments (name and ``origin`` type), ``Root``
  when it received requests from outside the traced services;
* one ``client`` node in front of each root service;
* an edge from caller to callee when a segment's ``parent_id`` names a
  subsegment of another service's segment;
* an inferred node (type ``remote``, or ``AWS::<name>`` for AWS calls) for each
  downstream call a subsegment records that no traced service answered.

Counts follow the segment flags (``error``, ``fault``, ``throttle``) and the
HTTP status, as the segment document reference describes
(https://docs.aws.amazon.com/xray/latest/devguide/xray-api-segmentdocuments.html#api-segmentdocuments-errors).
"""
from __future__ import annotations

import json
from collections import defaultdict
from typing import Any, Iterator

from mylearning.emulator.fidelity.core import AwsError, AwsRequest, handler
from mylearning.emulator.fidelity.xray.access import SERVICE, backend as _backend


def _documents(region: str) -> Iterator[dict]:
    for trace in list(_backend(region)._segment_collection._traces.values()):
        for segment in list(trace["segments"]):
            try:
                doc = json.loads(segment.raw)
            except (TypeError, ValueError):
                continue
            if isinstance(doc, dict):
                yield doc


def _walk_subsegments(doc: dict) -> Iterator[dict]:
    for sub in doc.get("subsegments") or []:
        if isinstance(sub, dict):
            yield sub
            yield from _walk_subsegments(sub)


def _number(value: Any, default: float = 0.0) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def _status(doc: dict) -> int | None:
    response = ((doc.get("http") or {}).get("response") or {})
    try:
        return int(response.get("status"))
    except (TypeError, ValueError):
        return None


class _Stats:
    """Request counts and times for a node or an edge (API_ServiceStatistics.html,
    API_EdgeStatistics.html)."""

    def __init__(self) -> None:
        self.ok = self.throttle = self.error = self.fault = self.total = 0
        self.response_time = 0.0
        self.durations: list[float] = []
        self.start: float | None = None
        self.end: float | None = None

    def add(self, doc: dict) -> None:
        start, end = _number(doc.get("start_time")), _number(doc.get("end_time"), None)
        status = _status(doc)
        duration = max(0.0, (end if end is not None else start) - start)
        self.total += 1
        self.response_time += duration
        self.durations.append(round(duration, 3))
        if doc.get("fault") or (status is not None and status >= 500):
            self.fault += 1
        elif doc.get("throttle") or status == 429:
            self.throttle += 1
            self.error += 1
        elif doc.get("error") or (status is not None and 400 <= status < 500):
            self.error += 1
        else:
            self.ok += 1
        self.start = start if self.start is None else min(self.start, start)
        stop = end if end is not None else start
        self.end = stop if self.end is None else max(self.end, stop)

    def summary(self, kind: str) -> dict:
        errors = {"ThrottleCount": self.throttle, "OtherCount": self.error - self.throttle,
                  "TotalCount": self.error}
        faults = {"OtherCount": self.fault, "TotalCount": self.fault}
        out = {"OkCount": self.ok, "ErrorStatistics": errors, "FaultStatistics": faults,
               "TotalCount": self.total, "TotalResponseTime": round(self.response_time, 6)}
        if kind == "service":
            out["NoFaultCount"] = self.total - self.fault
        return out

    def histogram(self) -> list[dict]:
        counts: dict[float, int] = defaultdict(int)
        for value in self.durations:
            counts[value] += 1
        return [{"Value": v, "Count": n} for v, n in sorted(counts.items())]


def build_service_graph(docs: list[dict], start: float, end: float, account: str) -> list[dict]:
    """The Services list of GetServiceGraph for the segments that overlap [start, end]."""
    docs = [d for d in docs if _number(d.get("start_time")) <= end
            and _number(d.get("end_time"), _number(d.get("start_time"))) >= start]
    segments = [d for d in docs if d.get("type") != "subsegment"]
    loose = [d for d in docs if d.get("type") == "subsegment"]

    owner: dict[str, dict] = {}  # subsegment id -> the segment it belongs to
    for seg in segments:
        for sub in _walk_subsegments(seg):
            owner[str(sub.get("id"))] = seg
    for sub in loose:  # subsegments sent on their own point at their parent
        parent = owner.get(str(sub.get("parent_id"))) or next(
            (s for s in segments if str(s.get("id")) == str(sub.get("parent_id"))), None)
        if parent is not None:
            for item in [sub, *_walk_subsegments(sub)]:
                owner[str(item.get("id"))] = parent

    nodes: dict[tuple[str, str], dict] = {}

    def node(name: str, kind: str) -> dict:
        key = (name, kind)
        if key not in nodes:
            nodes[key] = {"name": name, "type": kind, "root": False, "stats": _Stats(),
                          "edges": defaultdict(_Stats)}
        return nodes[key]

    def service_key(seg: dict) -> tuple[str, str]:
        return str(seg.get("name")), str(seg.get("origin") or "service")

    answered: set[str] = set()
    for seg in segments:
        me = node(*service_key(seg))
        me["stats"].add(seg)
        caller = owner.get(str(seg.get("parent_id"))) if seg.get("parent_id") else None
        if caller is not None:
            answered.add(str(seg.get("parent_id")))
            node(*service_key(caller))["edges"][service_key(seg)].add(seg)
        else:
            me["root"] = True
            client = node(me["name"], "client")
            client["edges"][service_key(seg)].add(seg)

    calls = [(owner[str(s.get("id"))], s) for s in loose if str(s.get("id")) in owner]
    for seg in segments:
        calls += [(seg, sub) for sub in _walk_subsegments(seg)]
    for seg, sub in calls:
        namespace = sub.get("namespace")
        if namespace not in ("remote", "aws") or str(sub.get("id")) in answered:
            continue
        kind = f"AWS::{sub.get('name')}" if namespace == "aws" else "remote"
        target = node(str(sub.get("name")), kind)
        target["stats"].add(sub)
        node(*service_key(seg))["edges"][(target["name"], kind)].add(sub)

    ids = {key: i for i, key in enumerate(nodes)}
    services = []
    for key, item in nodes.items():
        stats = item["stats"]
        edges = []
        for target, edge in item["edges"].items():
            edges.append({"ReferenceId": ids[target], "StartTime": edge.start, "EndTime": edge.end,
                          "SummaryStatistics": edge.summary("edge"),
                          "ResponseTimeHistogram": edge.histogram(), "Aliases": []})
        service: dict[str, Any] = {
            "ReferenceId": ids[key], "Name": item["name"], "Names": [item["name"]],
            "Root": item["root"], "Type": item["type"], "Edges": edges,
            "State": "unknown" if item["type"] == "client" else "active",
        }
        if item["type"] not in ("client",):
            service["AccountId"] = account
        if stats.total:
            service.update({"StartTime": stats.start, "EndTime": stats.end,
                            "SummaryStatistics": stats.summary("service"),
                            "DurationHistogram": stats.histogram(),
                            "ResponseTimeHistogram": stats.histogram()})
        services.append(service)
    return services


@handler(SERVICE, "GetServiceGraph")
def get_service_graph(req: AwsRequest) -> tuple[int, Any]:
    """API_GetServiceGraph.html: StartTime and EndTime required, answers Services."""
    from moto.core import DEFAULT_ACCOUNT_ID

    if req.params.get("StartTime") is None or req.params.get("EndTime") is None:
        raise AwsError("InvalidRequestException", "StartTime and EndTime are required.", 400)
    start, end = _number(req.params["StartTime"]), _number(req.params["EndTime"])
    if start > end:
        raise AwsError("InvalidRequestException", "StartTime must be before EndTime.", 400)
    services = build_service_graph(list(_documents(req.region)), start, end, DEFAULT_ACCOUNT_ID)
    return 200, {"StartTime": start, "EndTime": end, "Services": services,
                 "ContainsOldGroupVersions": False}
