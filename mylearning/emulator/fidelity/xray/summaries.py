"""AWS X-Ray: GetTraceSummaries with a FilterExpression (moto 5.2: HTTP 500 for any filter).

The traces moto summarises for the time frame are narrowed by the expression
(``filters``); an expression that doesn't parse is InvalidRequestException.
"""
from __future__ import annotations

import datetime
import json
from typing import Any

from mylearning.emulator.fidelity.core import AwsRequest, handler
from mylearning.emulator.fidelity.xray.access import SERVICE, backend, invalid_request
from mylearning.emulator.fidelity.xray.filters import compile_filter


def _documents(trace: dict) -> list[dict]:
    docs = []
    for segment in list(trace.get("segments") or []):
        try:
            doc = json.loads(segment.raw)
        except (TypeError, ValueError):
            continue
        if isinstance(doc, dict):
            docs.append(doc)
    return docs


@handler(SERVICE, "GetTraceSummaries")
def get_trace_summaries(req: AwsRequest) -> tuple[int, Any]:
    """The summaries of the traces in the time frame that match the filter expression.

    https://docs.aws.amazon.com/xray/latest/api/API_GetTraceSummaries.html (FilterExpression;
    TracesProcessedCount: "The total number of traces processed, including traces that did
    not match the specified filter expression"; Errors: InvalidRequestException);
    https://docs.aws.amazon.com/xray/latest/devguide/xray-console-filters.html (the syntax).
    """
    start, end = req.params.get("StartTime"), req.params.get("EndTime")
    if start is None or end is None:
        raise invalid_request("StartTime and EndTime are required.")
    text = req.params.get("FilterExpression")
    matches = compile_filter(text) if isinstance(text, str) and text.strip() else None
    try:  # as moto reads them: whole seconds, local time
        start_dt = datetime.datetime.fromtimestamp(int(float(start)))
        end_dt = datetime.datetime.fromtimestamp(int(float(end)))
    except (TypeError, ValueError, OverflowError, OSError):
        raise invalid_request("StartTime and EndTime must be timestamps.") from None
    collection = backend(req.region)._segment_collection
    result = collection.summary(start_dt, end_dt, None)
    if matches is not None:
        traces = collection._traces
        result["TraceSummaries"] = [s for s in result["TraceSummaries"]
                                    if matches(_documents(traces.get(s["Id"]) or {}))]
    return 200, result
