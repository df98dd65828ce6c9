"""AWS X-Ray: PutTraceSegments keeps only the segment documents the schema allows.

X-Ray doesn't refuse the call for a bad document: it answers 200 and lists the document
in ``UnprocessedTraceSegments`` (API_PutTraceSegments.html, response), keeping the good
ones. moto 5.2 checks only that the required fields are present (and counts
``"in_progress": "false"``, a string, as false); it stores a segment whose trace_id or id
has the wrong format, or whose start_time is not a number. Here each document is checked
against the segment document reference
(https://docs.aws.amazon.com/xray/latest/devguide/xray-api-segmentdocuments.html) before
moto stores it. The ErrorCode of an unprocessed segment is not documented by AWS; moto's
(MissingParam, JSONFormatError) is kept, and InvalidParameter names a format violation.
"""
from __future__ import annotations

import json
import re
from typing import Any

from mylearning.emulator.fidelity.core import AwsRequest, handler
from mylearning.emulator.fidelity.xray.access import SERVICE, backend, invalid_request

#: "A trace_id consists of three numbers separated by hyphens": the version 1, the request
#: time in 8 hexadecimal digits, a 96-bit identifier in 24 hexadecimal digits.
TRACE_ID = re.compile(r"1-[0-9a-fA-F]{8}-[0-9a-fA-F]{24}")
#: "id – A 64-bit identifier ... in 16 hexadecimal digits" (segments and subsegments alike).
SEGMENT_ID = re.compile(r"[0-9a-fA-F]{16}")
#: "A segment document can be up to 64 kB".
MAX_DOCUMENT = 64 * 1024
#: A segment's name: "up to 200 characters".
MAX_NAME = 200


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _timing_problem(doc: dict, what: str) -> tuple[str, str] | None:
    if "start_time" not in doc:
        return "MissingParam", f"Missing start_time in {what}"
    if not _number(doc["start_time"]):
        return "InvalidParameter", f"start_time of {what} must be a number of seconds since the epoch"
    if "end_time" in doc:
        if not _number(doc["end_time"]):
            return "InvalidParameter", f"end_time of {what} must be a number of seconds since the epoch"
    elif doc.get("in_progress") is not True:
        return "MissingParam", f"Missing end_time or in_progress (true) in {what}"
    return None


def _subsegments_problem(doc: dict) -> tuple[str, str] | None:
    for sub in doc.get("subsegments") or []:
        if not isinstance(sub, dict):
            return "InvalidParameter", "Each subsegment must be an object"
        if "id" not in sub or "name" not in sub:
            return "MissingParam", "Missing id or name in a subsegment"
        if not SEGMENT_ID.fullmatch(str(sub["id"])):
            return "InvalidParameter", f"Subsegment id {sub['id']!r} is not 16 hexadecimal digits"
        problem = _timing_problem(sub, f"subsegment {sub['id']}") or _subsegments_problem(sub)
        if problem:
            return problem
    return None


def segment_problem(text: Any) -> tuple[str | None, str, str] | None:
    """(segment id, ErrorCode, Message) for a document X-Ray would not process, or None."""
    if not isinstance(text, str):
        return None, "InvalidParameter", "A segment document is a string of JSON"
    if len(text.encode()) > MAX_DOCUMENT:
        return None, "InvalidParameter", "A segment document can be up to 64 kB"
    try:
        doc = json.loads(text)
    except ValueError:
        return None, "JSONFormatError", "Bad JSON data"
    if not isinstance(doc, dict):
        return None, "InvalidParameter", "A segment document is a JSON object"
    seg_id = doc.get("id")
    if seg_id is None:
        return None, "MissingParam", "Missing segment ID"
    seg_id = str(seg_id)
    if not SEGMENT_ID.fullmatch(seg_id):
        return seg_id, "InvalidParameter", "Segment id must be 16 hexadecimal digits"
    for field in ("name", "trace_id"):
        if field not in doc:
            return seg_id, "MissingParam", f"Missing {field}"
    if not TRACE_ID.fullmatch(str(doc["trace_id"])):
        return seg_id, "InvalidParameter", ("trace_id must be 1-<8 hexadecimal digits>-<24 hexadecimal "
                                            "digits>, e.g. 1-58406520-a006649127e371903a2de979")
    if not isinstance(doc["name"], str) or not doc["name"] or len(doc["name"]) > MAX_NAME:
        return seg_id, "InvalidParameter", f"name must be a string of 1 to {MAX_NAME} characters"
    if doc.get("type") == "subsegment":
        parent = doc.get("parent_id")
        if parent is None:
            return seg_id, "MissingParam", "Missing parent_id in a subsegment sent separately"
    parent = doc.get("parent_id")
    if parent is not None and not SEGMENT_ID.fullmatch(str(parent)):
        return seg_id, "InvalidParameter", "parent_id must be 16 hexadecimal digits"
    problem = _timing_problem(doc, f"segment {seg_id}") or _subsegments_problem(doc)
    return (seg_id, *problem) if problem else None


@handler(SERVICE, "PutTraceSegments")
def put_trace_segments(req: AwsRequest) -> tuple[int, Any]:
    """Stores the documents the schema allows; lists the others as UnprocessedTraceSegments.

    https://docs.aws.amazon.com/xray/latest/api/API_PutTraceSegments.html (required fields:
    name, id "in 16 hexadecimal digits", trace_id "three numbers separated by hyphens",
    start_time, "Specify either an end_time or in_progress"; response:
    UnprocessedTraceSegments, "Segments that failed processing");
    https://docs.aws.amazon.com/xray/latest/devguide/xray-api-segmentdocuments.html (number
    and boolean field types, 64 kB per document, 200-character names, subsegments sent
    separately need type "subsegment" and parent_id).
    """
    from moto.xray.exceptions import BadSegmentException

    documents = req.params.get("TraceSegmentDocuments")
    if not isinstance(documents, list):
        raise invalid_request("TraceSegmentDocuments is required: a list of segment documents.")
    unprocessed: list[dict] = []
    store = backend(req.region)
    for text in documents:
        problem = segment_problem(text)
        if problem is None:
            try:
                store.process_segment(text)
                continue
            except BadSegmentException as bad:
                problem = (bad.id, bad.code or "InvalidParameter", bad.message or "Bad segment")
        seg_id, code, message = problem
        item = {"ErrorCode": code, "Message": message}
        if seg_id is not None:
            item["Id"] = seg_id
        unprocessed.append(item)
    return 200, {"UnprocessedTraceSegments": unprocessed}
