"""AWS X-Ray: BatchGetTraces answers full traces, compiled as X-Ray compiles them.

"The full trace includes a document for each segment, compiled from all of the segment
documents received with the same trace ID" (https://docs.aws.amazon.com/xray/latest/devguide/xray-api-gettingdata.html),
and X-Ray "uses information in subsegments to generate inferred segments and adds them to
the full trace" (xray-api-segmentdocuments.html). moto 5.2 answers the raw documents as
sent, durations in whole seconds, and no inferred segments. Here a subsegment sent on its
own is placed under its parent, and each downstream call no traced service answered gets
its inferred segment (``graph``).
"""
from __future__ import annotations

import copy
import json
from typing import Any

from mylearning.emulator.fidelity.core import AwsRequest, handler
from mylearning.emulator.fidelity.xray import graph as tracegraph
from mylearning.emulator.fidelity.xray import paging, store
from mylearning.emulator.fidelity.xray.access import SERVICE, invalid_request

#: Fields of a subsegment sent separately that its place under the parent makes redundant.
_SEPARATE_ONLY = ("type", "trace_id", "parent_id")


def compiled_documents(docs: list[dict], inferred: list[dict]) -> list[dict]:
    """The trace's segment documents with their separately sent subsegments placed under
    their parents, then the inferred segments."""
    segments = [copy.deepcopy(d) for d in docs if d.get("type") != "subsegment"]
    loose = [copy.deepcopy(d) for d in docs if d.get("type") == "subsegment"]
    holders: dict[str, dict] = {}
    for seg in segments:
        holders[str(seg.get("id"))] = seg
        for sub in tracegraph.walk(seg):
            holders[str(sub.get("id"))] = sub
    for sub in loose:
        holders.setdefault(str(sub.get("id")), sub)
    left = []
    for sub in loose:
        parent = holders.get(str(sub.get("parent_id")))
        if parent is None or parent is sub:
            left.append(sub)
            continue
        for field in _SEPARATE_ONLY:
            sub.pop(field, None)
        parent.setdefault("subsegments", []).append(sub)
    return segments + left + [copy.deepcopy(d) for d in inferred]


def full_trace(trace: store.Trace) -> dict:
    """A Trace (API_Trace.html): Duration "between the start time of the earliest segment
    that started and the end time of the last segment that completed"."""
    docs = compiled_documents(trace.docs(), trace.graph().inferred_documents())
    spans = [tracegraph.span(d) for d in trace.docs()]
    return {"Id": trace.id, "Duration": round(max(e for _, e in spans) - min(s for s, _ in spans), 6),
            "LimitExceeded": False,
            "Segments": [{"Id": str(d.get("id")), "Document": json.dumps(d, separators=(",", ":"))}
                         for d in docs]}


@handler(SERVICE, "BatchGetTraces")
def batch_get_traces(req: AwsRequest) -> tuple[int, Any]:
    """Full traces for the ids X-Ray holds; the others are listed in UnprocessedTraceIds.

    https://docs.aws.amazon.com/xray/latest/api/API_BatchGetTraces.html: TraceIds required;
    Traces, "Full traces for the specified requests"; UnprocessedTraceIds, "Trace IDs of
    requests that haven't been processed".
    """
    ids = req.params.get("TraceIds")
    if not isinstance(ids, list) or not ids:
        raise invalid_request("TraceIds is required: a list of trace IDs.")
    traces, unprocessed = [], []
    wanted, following = paging.page(list(dict.fromkeys(str(i) for i in ids)), req.params.get("NextToken"),
                                    paging.TRACES_PAGE)
    for trace_id in wanted:
        trace = store.find(req.region, trace_id)
        if trace is None:
            unprocessed.append(trace_id)
        else:
            traces.append(full_trace(trace))
    answer = {"Traces": traces, "UnprocessedTraceIds": unprocessed}
    if following:
        answer["NextToken"] = following
    return 200, answer
