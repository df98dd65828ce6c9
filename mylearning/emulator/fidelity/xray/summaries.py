"""AWS X-Ray: GetTraceSummaries, with filter expressions, time range types and sampling.

moto 5.2 answers HTTP 500 whenever a FilterExpression is given, and its summaries are
guesses ("ResponseTime": 1, empty Http, Annotations and ServiceIds, whole-second
durations, local time). Here each trace of ``store`` is summarised as API_TraceSummary.html
describes it, from its root segment and all its segments (``graph``), and narrowed by the
expression (``filters``).
"""
from __future__ import annotations

import hashlib
import time
from typing import Any

from mylearning.emulator.fidelity.core import AwsRequest, handler
from mylearning.emulator.fidelity.xray import graph as tracegraph
from mylearning.emulator.fidelity.xray import paging, root_causes, store
from mylearning.emulator.fidelity.xray.access import SERVICE, account, time_window
from mylearning.emulator.fidelity.xray.filters import compile_filter
from mylearning.emulator.fidelity.xray.traces import annotations_of


def _service_id(node: tracegraph.Node, account_id: str) -> dict:
    return {"Name": node.name, "Names": [node.name], "AccountId": account_id, "Type": node.type}


def _annotation_value(value: Any) -> dict:
    if isinstance(value, bool):
        return {"BooleanValue": value}
    if isinstance(value, (int, float)):
        return {"NumberValue": float(value)}
    return {"StringValue": str(value)}


def _http(root: dict) -> dict:
    http = root.get("http") if isinstance(root.get("http"), dict) else {}
    request = http.get("request") if isinstance(http.get("request"), dict) else {}
    out = {key: request[field] for key, field in (("HttpURL", "url"), ("HttpMethod", "method"),
                                                  ("UserAgent", "user_agent"), ("ClientIp", "client_ip"))
           if isinstance(request.get(field), str)}
    status = tracegraph.status_of(root)
    if status is not None:
        out["HttpStatus"] = status
    return out


def summarise(trace: store.Trace, account_id: str) -> dict:
    """One TraceSummary (API_TraceSummary.html): Duration "between the start time of the
    earliest segment that started and the end time of the last segment that completed",
    ResponseTime "between the start and end times of the root segment", HasFault/HasError
    "the root segment document has a 500/400 series error", HasThrottle "one or more of the
    segment documents has a 429", IsPartial "one or more of the segment documents is in progress"."""
    docs = trace.docs()
    g = trace.graph()
    root = g.root
    spans = [tracegraph.span(d) for d in docs]
    first, last = min(s for s, _ in spans), max(e for _, e in spans)
    root_doc = root.doc if root else docs[0]
    root_outcome = tracegraph.outcome(root_doc)
    every = docs + [sub for d in docs for sub in tracegraph.walk(d)]
    service_ids = {n.key: _service_id(n, account_id) for n in g.nodes}
    node_of = {id(n.doc): n for n in g.nodes}

    annotations: dict[str, list[dict]] = {}
    users: dict[str, list[dict]] = {}
    for doc in docs:
        owner = node_of.get(id(doc))
        ids = [service_ids[owner.key]] if owner else []
        for key, value in annotations_of(doc):
            entry = {"AnnotationValue": _annotation_value(value), "ServiceIds": ids}
            if entry not in annotations.setdefault(key, []):
                annotations[key].append(entry)
        if isinstance(doc.get("user"), str):
            known = users.setdefault(doc["user"], [])
            known.extend(i for i in ids if i not in known)
    aws = [d.get("aws") for d in docs if isinstance(d.get("aws"), dict)]
    ec2 = [a["ec2"] for a in aws if isinstance(a.get("ec2"), dict)]
    summary = {
        "Id": trace.id, "StartTime": first, "Duration": round(last - first, 6),
        "ResponseTime": round(tracegraph.duration(root_doc), 6),
        "HasFault": root_outcome == "fault", "HasError": root_outcome in ("error", "throttle"),
        "HasThrottle": any(tracegraph.outcome(d) == "throttle" for d in every),
        "IsPartial": any(d.get("in_progress") is True for d in every),
        "Http": _http(root_doc), "Annotations": annotations,
        "Users": [{"UserName": u, "ServiceIds": ids} for u, ids in users.items()],
        "ServiceIds": list(service_ids.values()),
        "ResourceARNs": [{"ARN": d["resource_arn"]} for d in docs if isinstance(d.get("resource_arn"), str)],
        "InstanceIds": [{"Id": e["instance_id"]} for e in ec2 if isinstance(e.get("instance_id"), str)],
        "AvailabilityZones": [{"Name": e["availability_zone"]} for e in ec2
                              if isinstance(e.get("availability_zone"), str)],
        "FaultRootCauses": root_causes.by_outcome(g, account_id, ("fault",)),
        "ErrorRootCauses": root_causes.by_outcome(g, account_id, ("error", "throttle")),
        "ResponseTimeRootCauses": root_causes.response_time(g, account_id),
        "Revision": trace.revision,
    }
    if root is not None:
        summary["EntryPoint"] = service_ids[root.key]
    return summary


def _trace_time(trace: store.Trace, kind: str) -> list[float]:
    """The times a trace is found by: "TraceId (trace start time), Event (trace update time),
    or Service (trace segment end time)"."""
    if kind == "TraceId":
        return [float(int(trace.id.split("-")[1], 16))]
    if kind == "Event":
        return [trace.updated]
    return [tracegraph.span(d)[1] for d in trace.docs()]


def _sampled(trace_id: str, rate: float) -> bool:
    digest = hashlib.sha256(trace_id.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2 ** 64 < rate


@handler(SERVICE, "GetTraceSummaries")
def get_trace_summaries(req: AwsRequest) -> tuple[int, Any]:
    """The summaries of the traces in the time frame that match the filter expression.

    https://docs.aws.amazon.com/xray/latest/api/API_GetTraceSummaries.html: StartTime and
    EndTime required; TimeRangeType TraceId (the default), Event or Service; Sampling "to get
    summaries for only a subset of available traces", at SamplingStrategy's Value (a fraction,
    clamped to 0..1; without one every trace is kept: AWS states no default rate);
    TracesProcessedCount "the total number of traces processed, including traces that did not
    match the specified filter expression";
    ApproximateTime "the start time of this page of results"; errors InvalidRequestException.
    https://docs.aws.amazon.com/xray/latest/devguide/xray-console-filters.html (the syntax).
    """
    start, end = time_window(req)
    kind = req.params.get("TimeRangeType") or "TraceId"  # its enum is checked by the model
    text = req.params.get("FilterExpression")
    matches = compile_filter(text) if isinstance(text, str) and text.strip() else None
    rate = 1.0
    if req.params.get("Sampling") is True:
        strategy = req.params.get("SamplingStrategy") or {}
        value = tracegraph.number(strategy.get("Value"), None)
        if value is not None:
            rate = min(1.0, max(0.0, value))
    processed, summaries = 0, []
    for trace in store.traces(req.region):
        if not any(start <= t <= end for t in _trace_time(trace, kind)):
            continue
        processed += 1
        if rate < 1 and not _sampled(trace.id, rate):
            continue
        docs = trace.docs()
        if matches is not None and not matches(docs + trace.graph().inferred_documents()):
            continue
        summaries.append(summarise(trace, account()))
    # "The first page contains the most recent results, closest to the end of the time frame."
    summaries.sort(key=lambda s: s["StartTime"], reverse=True)
    shown, following = paging.page(summaries, req.params.get("NextToken"), paging.SUMMARIES_PAGE)
    answer = {"TraceSummaries": shown, "ApproximateTime": time.time(), "TracesProcessedCount": processed}
    if following:
        answer["NextToken"] = following
    return 200, answer
