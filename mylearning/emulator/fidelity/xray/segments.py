"""AWS X-Ray: PutTraceSegments keeps only the segment documents the schema allows.

X-Ray doesn't refuse the call for a bad document: it answers 200 and lists the document
in ``UnprocessedTraceSegments`` (API_PutTraceSegments.html, response), keeping the good
ones. moto 5.2 checks only that the required fields are present (and counts
``"in_progress": "false"``, a string, as false); it stores a segment whose trace_id or id
has the wrong format, or whose start_time is not a number. Here each document, and each
subsegment in it, is checked against the segment document reference
(https://docs.aws.amazon.com/xray/latest/devguide/xray-api-segmentdocuments.html) and kept
in ``store``. The ErrorCode of an unprocessed segment is not documented by AWS; moto's
(MissingParam, JSONFormatError) is kept, and InvalidParameter names a format violation.
"""
from __future__ import annotations

import json
from typing import Any

from mylearning.emulator.fidelity.core import AwsRequest, handler
from mylearning.emulator.fidelity.xray import store
from mylearning.emulator.fidelity.xray.access import SERVICE, invalid_request
from mylearning.facts import xray as facts

TRACE_ID = facts.TRACE_ID
SEGMENT_ID = facts.SEGMENT_ID


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _timing_problem(doc: dict, what: str) -> tuple[str, str] | None:
    """start_time a number; "Specify either an end_time or in_progress" (a boolean true)."""
    if "start_time" not in doc:
        return "MissingParam", f"Missing start_time in {what}"
    if not _number(doc["start_time"]):
        return "InvalidParameter", f"start_time of {what} must be a number of seconds since the epoch"
    if "end_time" in doc:
        if not _number(doc["end_time"]):
            return "InvalidParameter", f"end_time of {what} must be a number of seconds since the epoch"
    elif doc.get("in_progress") is not True:
        return "MissingParam", f"Missing end_time or in_progress (true) in {what}"
    if "in_progress" in doc and not isinstance(doc["in_progress"], bool):
        return "InvalidParameter", f"in_progress of {what} must be a boolean"
    return None


def _object(doc: dict, field: str, what: str) -> tuple[str, str] | None:
    if field in doc and not isinstance(doc[field], dict):
        return "InvalidParameter", f"{field} of {what} must be an object"
    return None


def _http_problem(doc: dict, what: str) -> tuple[str, str] | None:
    """http.request and http.response are objects; status and content_length are numbers."""
    problem = _object(doc, "http", what)
    if problem or "http" not in doc:
        return problem
    http = doc["http"]
    for part in ("request", "response"):
        problem = _object(http, part, f"http of {what}")
        if problem:
            return problem
    response = http.get("response") or {}
    for field in ("status", "content_length"):
        if field in response and not _number(response[field]):
            return "InvalidParameter", f"http.response.{field} of {what} must be a number"
    request = http.get("request") or {}
    for field in ("x_forwarded_for", "traced"):
        if field in request and not isinstance(request[field], bool):
            return "InvalidParameter", f"http.request.{field} of {what} must be a boolean"
    return None


def _annotations_problem(doc: dict, what: str) -> tuple[str, str] | None:
    """Annotation values are strings, numbers or booleans, "no objects or arrays"; a value is
    up to 1,000 characters. (A key outside [A-Za-z0-9_] is kept but not indexed: "Keys must
    be alphanumeric in order to work with filters", see ``traces.annotations_of``.)"""
    problem = _object(doc, "annotations", what)
    if problem or "annotations" not in doc:
        return problem
    for key, value in doc["annotations"].items():
        if len(key) > facts.MAX_ANNOTATION_KEY:
            return "InvalidParameter", (f"Annotation key {key[:20]}... of {what} is over "
                                        f"{facts.MAX_ANNOTATION_KEY} characters")
        if isinstance(value, (dict, list)) or value is None:
            return "InvalidParameter", (f"Annotation {key} of {what} must be a string, number or boolean, "
                                        "not an object or array")
        if isinstance(value, str) and len(value) > facts.MAX_ANNOTATION_VALUE:
            return "InvalidParameter", (f"Annotation {key} of {what} is over "
                                        f"{facts.MAX_ANNOTATION_VALUE} characters")
    return None


def _cause_problem(doc: dict, what: str) -> tuple[str, str] | None:
    """"A cause can be either a 16 character exception ID or an object"; each exception needs
    an id of 16 hexadecimal digits."""
    if "cause" not in doc:
        return None
    cause = doc["cause"]
    if isinstance(cause, str):
        if len(cause) != 16:
            return "InvalidParameter", f"cause of {what} must be a 16-character exception ID"
        return None
    if not isinstance(cause, dict):
        return "InvalidParameter", f"cause of {what} must be an exception ID or an object"
    exceptions = cause.get("exceptions") or []
    if not isinstance(exceptions, list):
        return "InvalidParameter", f"exceptions in the cause of {what} must be an array"
    for exception in exceptions:
        if not isinstance(exception, dict) or not SEGMENT_ID.fullmatch(str(exception.get("id", ""))):
            return "InvalidParameter", f"Each exception in the cause of {what} needs an id of 16 hexadecimal digits"
    return None


def _fields_problem(doc: dict, what: str) -> tuple[str, str] | None:
    """The optional fields every segment and subsegment shares."""
    for flag in facts.ERROR_FLAGS:
        if flag in doc and not isinstance(doc[flag], bool):
            return "InvalidParameter", f"{flag} of {what} must be a boolean"
    for field in ("aws", "metadata", "service", "sql"):
        problem = _object(doc, field, what)
        if problem:
            return problem
    for field in ("origin", "user", "namespace"):
        if field in doc and not isinstance(doc[field], str):
            return "InvalidParameter", f"{field} of {what} must be a string"
    if "subsegments" in doc and not isinstance(doc["subsegments"], list):
        return "InvalidParameter", f"subsegments of {what} must be an array"
    return _http_problem(doc, what) or _annotations_problem(doc, what) or _cause_problem(doc, what)


def _subsegments_problem(doc: dict) -> tuple[str, str] | None:
    for sub in doc.get("subsegments") or []:
        if not isinstance(sub, dict):
            return "InvalidParameter", "Each subsegment must be an object"
        if "id" not in sub or "name" not in sub:
            return "MissingParam", "Missing id or name in a subsegment"
        if not SEGMENT_ID.fullmatch(str(sub["id"])):
            return "InvalidParameter", f"Subsegment id {sub['id']!r} is not 16 hexadecimal digits"
        what = f"subsegment {sub['id']}"
        problem = _timing_problem(sub, what) or _fields_problem(sub, what) or _subsegments_problem(sub)
        if problem:
            return problem
    return None


def parse(text: Any) -> tuple[dict | None, tuple[str | None, str, str] | None]:
    """(document, None) for a document X-Ray keeps, or (None, (segment id, ErrorCode, Message))."""
    if not isinstance(text, str):
        return None, (None, "InvalidParameter", "A segment document is a string of JSON")
    if len(text.encode()) > facts.MAX_DOCUMENT_BYTES:
        return None, (None, "InvalidParameter", "A segment document can be up to 64 kB")
    try:
        doc = json.loads(text)
    except ValueError:
        return None, (None, "JSONFormatError", "Bad JSON data")
    if not isinstance(doc, dict):
        return None, (None, "InvalidParameter", "A segment document is a JSON object")
    seg_id = doc.get("id")
    if seg_id is None:
        return None, (None, "MissingParam", "Missing segment ID")
    seg_id = str(seg_id)
    problem = _document_problem(doc, seg_id)
    return (None, (seg_id, *problem)) if problem else (doc, None)


def _document_problem(doc: dict, seg_id: str) -> tuple[str, str] | None:
    if not SEGMENT_ID.fullmatch(seg_id):
        return "InvalidParameter", "Segment id must be 16 hexadecimal digits"
    for field in ("name", "trace_id"):
        if field not in doc:
            return "MissingParam", f"Missing {field}"
    if not TRACE_ID.fullmatch(str(doc["trace_id"])):
        return "InvalidParameter", ("trace_id must be 1-<8 hexadecimal digits>-<24 hexadecimal "
                                    "digits>, e.g. 1-58406520-a006649127e371903a2de979")
    name = doc["name"]
    if not isinstance(name, str) or not name or len(name) > facts.MAX_NAME:
        return "InvalidParameter", f"name must be a string of 1 to {facts.MAX_NAME} characters"
    separate = doc.get("type") == "subsegment"
    if not separate and not facts.NAME.fullmatch(name):
        return "InvalidParameter", ("A segment's name may hold Unicode letters, numbers, whitespace "
                                    "and _ . : / % & # = + \\ - @")
    if separate and doc.get("parent_id") is None:
        return "MissingParam", "Missing parent_id in a subsegment sent separately"
    parent = doc.get("parent_id")
    if parent is not None and not SEGMENT_ID.fullmatch(str(parent)):
        return "InvalidParameter", "parent_id must be 16 hexadecimal digits"
    what = f"{'subsegment' if separate else 'segment'} {seg_id}"
    return _timing_problem(doc, what) or _fields_problem(doc, what) or _subsegments_problem(doc)


def segment_problem(text: Any) -> tuple[str | None, str, str] | None:
    """(segment id, ErrorCode, Message) for a document X-Ray would not process, or None."""
    return parse(text)[1]


@handler(SERVICE, "PutTraceSegments")
def put_trace_segments(req: AwsRequest) -> tuple[int, Any]:
    """Stores the documents the schema allows; lists the others as UnprocessedTraceSegments.

    https://docs.aws.amazon.com/xray/latest/api/API_PutTraceSegments.html (required fields:
    name, id "in 16 hexadecimal digits", trace_id "three numbers separated by hyphens",
    start_time, "Specify either an end_time or in_progress"; response:
    UnprocessedTraceSegments, "Segments that failed processing");
    https://docs.aws.amazon.com/xray/latest/devguide/xray-api-segmentdocuments.html (number
    and boolean field types, 64 kB per document, 200-character names of the allowed
    characters, subsegments sent separately need type "subsegment" and parent_id, http,
    annotations, error flags, cause).
    """
    documents = req.params.get("TraceSegmentDocuments")
    if not isinstance(documents, list):
        raise invalid_request("TraceSegmentDocuments is required: a list of segment documents.")
    unprocessed: list[dict] = []
    for text in documents:
        doc, problem = parse(text)
        if problem is None:
            store.put(req.region, doc)
            continue
        seg_id, code, message = problem
        item = {"ErrorCode": code, "Message": message}
        if seg_id is not None:
            item["Id"] = seg_id
        unprocessed.append(item)
    return 200, {"UnprocessedTraceSegments": unprocessed}
