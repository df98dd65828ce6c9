"""One trace as X-Ray reads it: the services it passed through and the calls between them.

X-Ray's concepts (https://docs.aws.amazon.com/xray/latest/devguide/xray-concepts.html):
a *segment* is the work one service did for the request; a segment whose ``parent_id``
names a subsegment (or a segment) of another service was called by that service; a
subsegment with ``namespace`` ``remote`` or ``aws`` records a downstream call, and when no
traced segment answered it X-Ray "uses the subsegment to generate an inferred segment"
(https://docs.aws.amazon.com/xray/latest/devguide/xray-api-segmentdocuments.html#api-segmentdocuments-http)
for the service it called. Everything the read APIs say about a trace (service graph,
trace graph, summaries, filter expressions) is built from these nodes and calls.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

from mylearning.facts import xray as facts


def number(value: Any, default: float | None = 0.0) -> float | None:
    if isinstance(value, bool):
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def status_of(doc: dict) -> int | None:
    response = ((doc.get("http") or {}).get("response") or {}) if isinstance(doc.get("http"), dict) else {}
    value = number(response.get("status") if isinstance(response, dict) else None, None)
    return int(value) if value is not None else None


def outcome(doc: dict) -> str:
    """"ok", "error", "throttle" or "fault" for one segment or subsegment."""
    return facts.status_class(status_of(doc), doc)


def span(doc: dict) -> tuple[float, float]:
    """(start, end) of a document; an in-progress one ends where it started."""
    start = number(doc.get("start_time")) or 0.0
    end = number(doc.get("end_time"), None)
    return start, end if end is not None else start


def duration(doc: dict) -> float:
    start, end = span(doc)
    return max(0.0, end - start)


def walk(doc: dict) -> Iterator[dict]:
    """Every subsegment nested in `doc`, depth first."""
    for sub in doc.get("subsegments") or []:
        if isinstance(sub, dict):
            yield sub
            yield from walk(sub)


def service_type(doc: dict) -> str:
    """A traced service's Type: its ``origin`` (AWS::ECS::Container...), else a plain service."""
    origin = doc.get("origin")
    return origin if isinstance(origin, str) and origin else "service"


def inferred_type(sub: dict) -> str:
    """The Type of a service only a subsegment saw: "AWS::DynamoDB::Table" for a table,
    "AWS::<name>" for another AWS service, "remote" for anything else (API_Service.html)."""
    if sub.get("namespace") == "aws":
        if isinstance(sub.get("aws"), dict) and sub["aws"].get("table_name"):
            return f"AWS::{sub.get('name')}::Table"
        return f"AWS::{sub.get('name')}"
    return "remote"


@dataclass(frozen=True)
class Measure:
    """What the graph counts of one segment: its span and its outcome (read once)."""

    start: float
    end: float
    outcome: str
    took: float
    #: The duration as the histograms bucket it (facts.xray.HISTOGRAM_PRECISION).
    bucket: float

    @classmethod
    def of(cls, doc: dict) -> "Measure":
        start, end = span(doc)
        took = max(0.0, end - start)
        return cls(start, end, outcome(doc), took, round(took, facts.HISTOGRAM_PRECISION))


@dataclass
class Node:
    """A service in one trace: a segment it sent, or one X-Ray inferred from a subsegment."""

    name: str
    type: str
    doc: dict
    inferred: bool = False
    root: bool = False
    measure: Measure = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.measure is None:
            self.measure = Measure.of(self.doc)

    @property
    def key(self) -> tuple[str, str]:
        return self.name, self.type


@dataclass
class Call:
    """A request from one service to another; `doc` is what the callee recorded of it."""

    caller: Node
    callee: Node
    doc: dict
    measure: Measure = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.measure is None:
            self.measure = self.callee.measure if self.doc is self.callee.doc else Measure.of(self.doc)


@dataclass
class TraceGraph:
    nodes: list[Node] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)

    @property
    def root(self) -> Node | None:
        roots = [n for n in self.nodes if n.root]
        return min(roots, key=lambda n: span(n.doc)[0]) if roots else None

    def inferred_documents(self) -> list[dict]:
        """The inferred segments X-Ray adds to the full trace ("inferred": true)."""
        return [n.doc for n in self.nodes if n.inferred]


def _inferred_doc(sub: dict, trace_id: str) -> dict:
    doc = {k: sub[k] for k in ("id", "name", "start_time", "end_time", "http", "aws", *facts.ERROR_FLAGS)
           if k in sub}
    doc.update({"trace_id": trace_id, "parent_id": sub.get("id"), "origin": inferred_type(sub),
                "inferred": True, "id": _inferred_id(str(sub.get("id")))})
    return doc


def _inferred_id(sub_id: str) -> str:
    """A 16-hex-digit id for the inferred segment, stable for one subsegment."""
    return format(int(sub_id, 16) ^ 0xFFFFFFFFFFFFFFFF, "016x") if facts.SEGMENT_ID.fullmatch(sub_id) else sub_id


def build(docs: list[dict]) -> TraceGraph:
    """The services of one trace (its documents as sent) and the calls between them."""
    segments = [d for d in docs if d.get("type") != "subsegment" and not d.get("inferred")]
    loose = [d for d in docs if d.get("type") == "subsegment"]
    owner: dict[str, dict] = {}  # segment or subsegment id -> the segment it belongs to
    for seg in segments:
        owner[str(seg.get("id"))] = seg
        for sub in walk(seg):
            owner[str(sub.get("id"))] = seg
    pending = list(loose)
    while pending:  # a subsegment sent on its own may hang under another one sent on its own
        placed = [s for s in pending if str(s.get("parent_id")) in owner]
        if not placed:
            break
        for sub in placed:
            parent = owner[str(sub.get("parent_id"))]
            for item in (sub, *walk(sub)):
                owner[str(item.get("id"))] = parent
            pending.remove(sub)

    graph = TraceGraph()
    by_segment: dict[int, Node] = {}
    for seg in segments:
        node = Node(str(seg.get("name")), service_type(seg), seg)
        by_segment[id(seg)] = node
        graph.nodes.append(node)
    answered: set[str] = set()
    for seg in segments:
        node = by_segment[id(seg)]
        parent = str(seg.get("parent_id")) if seg.get("parent_id") else None
        caller_seg = owner.get(parent) if parent else None
        if caller_seg is None or caller_seg is seg:
            node.root = True
            continue
        answered.add(parent)
        graph.calls.append(Call(by_segment[id(caller_seg)], node, seg))

    subsegments = [(seg, sub) for seg in segments for sub in walk(seg)]
    for sub in loose:
        seg = owner.get(str(sub.get("id")))
        if seg is not None:
            subsegments += [(seg, s) for s in (sub, *walk(sub))]
    trace_id = str(next((d.get("trace_id") for d in docs if d.get("trace_id")), ""))
    for seg, sub in subsegments:
        if sub.get("namespace") not in facts.NAMESPACES or str(sub.get("id")) in answered:
            continue
        target = Node(str(sub.get("name")), inferred_type(sub), _inferred_doc(sub, trace_id), inferred=True)
        graph.nodes.append(target)
        graph.calls.append(Call(by_segment[id(seg)], target, sub))
    return graph
