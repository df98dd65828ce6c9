"""What X-Ray's filter expressions see of a trace: its root segment's status, times, HTTP
request, users, names and types, as the developer guide's keywords describe them
(https://docs.aws.amazon.com/xray/latest/devguide/xray-console-filters.html). "Simple
keywords and operators find issues only at the trace level": they read the root segment.
"""
from __future__ import annotations

from typing import Any, Iterator

from mylearning.facts import xray as facts

Trace = list  # the segment documents of one trace


def segments_of(trace: Trace) -> list[dict]:
    return [s for s in trace if isinstance(s, dict)]


def annotations_of(segment: dict) -> Iterator[tuple[str, Any]]:
    """The indexed annotations of a segment and its subsegments: "Segments and subsegments
    can include an annotations object"; only keys of letters, digits and underscores "work
    with filters" (xray-api-segmentdocuments.html#api-segmentdocuments-annotations)."""
    stack = [segment]
    while stack:
        doc = stack.pop()
        for key, value in (doc.get("annotations") or {}).items():
            if facts.ANNOTATION_KEY.fullmatch(str(key)) and not isinstance(value, (dict, list)):
                yield str(key), value
        stack.extend(s for s in reversed(doc.get("subsegments") or []) if isinstance(s, dict))


def _root(trace: Trace) -> dict:
    """The trace's first segment: the earliest one whose parent is not in the trace (the
    trace may lack the caller's segment, an ALB's say)."""
    segments = segments_of(trace)
    ids = {str(s.get("id")) for s in segments}
    for s in segments:
        stack = list(s.get("subsegments") or [])
        while stack:
            sub = stack.pop()
            if isinstance(sub, dict):
                ids.add(str(sub.get("id")))
                stack.extend(sub.get("subsegments") or [])
    roots = [s for s in segments if s.get("type") != "subsegment" and not s.get("inferred")
             and str(s.get("parent_id") or "") not in ids]
    if not roots:
        return segments[0] if segments else {}
    return min(roots, key=lambda s: s.get("start_time") if isinstance(s.get("start_time"), (int, float)) else 0)


def _status(segment: dict) -> int | None:
    try:
        return int(((segment.get("http") or {}).get("response") or {}).get("status"))
    except (TypeError, ValueError):
        return None


def boolean_fact(keyword: str, trace: Trace) -> bool | None:
    root = _root(trace)
    status = _status(root)
    if keyword == "ok":
        return (status is None or 200 <= status < 300) and not any(root.get(f) for f in ("error", "fault", "throttle"))
    if keyword == "error":
        return bool(root.get("error")) or (status is not None and 400 <= status < 500)
    if keyword == "throttle":
        return bool(root.get("throttle")) or status == 429
    if keyword == "fault":
        return bool(root.get("fault")) or (status is not None and status >= 500)
    if keyword == "partial":  # "Request has incomplete segments"
        return any(s.get("in_progress") is True for s in segments_of(trace))
    if keyword == "inferred":
        return bool(root.get("inferred"))
    if keyword == "root":  # "Service is the entry point or root segment of a trace"
        return bool(root) and not root.get("parent_id")
    return None


def _times(segment: dict) -> tuple[float, float] | None:
    try:
        start = float(segment["start_time"])
        return start, float(segment.get("end_time", start))
    except (KeyError, TypeError, ValueError):
        return None


def number_fact(keyword: str, trace: Trace) -> float | None:
    if keyword == "responsetime":
        times = _times(_root(trace))
        return times[1] - times[0] if times else None
    if keyword == "duration":
        spans = [t for t in map(_times, segments_of(trace)) if t]
        return max(e for _, e in spans) - min(s for s, _ in spans) if spans else None
    if keyword == "http.status":
        return _status(_root(trace))
    return None


def string_facts(keyword: str, trace: Trace) -> list[str] | None:
    root = _root(trace)
    request = ((root.get("http") or {}).get("request") or {})
    if keyword.startswith("http."):
        field = {"http.url": "url", "http.method": "method", "http.useragent": "user_agent",
                 "http.clientip": "client_ip"}[keyword]
        return [str(request[field])] if field in request else []
    field = {"user": "user", "name": "name", "type": "origin"}.get(keyword)
    if field is None:
        return None
    return [str(s[field]) for s in segments_of(trace) if s.get(field) is not None]


def compare(left: Any, op: str, right: Any) -> bool:
    if op in ("=", "!="):
        same = str(left) == str(right) if isinstance(right, str) else left == right
        return same if op == "=" else not same
    if op in ("CONTAINS", "BEGINSWITH", "ENDSWITH"):
        left, right = str(left), str(right)
        return {"CONTAINS": right in left, "BEGINSWITH": left.startswith(right),
                "ENDSWITH": left.endswith(right)}[op]
    try:
        left, right = float(left), float(right)
    except (TypeError, ValueError):
        return False
    return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[op]
