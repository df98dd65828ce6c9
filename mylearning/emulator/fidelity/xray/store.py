"""The segments an account sent, kept parsed and grouped by trace.

moto 5.2 keeps each document as raw text in a list per trace and re-reads nothing of it, so
every read API would parse every document again (10,000 traces for one service graph). Here
each accepted document is parsed once. X-Ray's own rule for repeated documents is kept: "the
complete segment overwrites the in-progress segment", and a document sent again with the same
id replaces the earlier one (https://docs.aws.amazon.com/xray/latest/devguide/xray-api-segmentdocuments.html).
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Iterator

from mylearning.emulator.fidelity.core import on_reset
from mylearning.emulator.fidelity.xray import graph as tracegraph


@dataclass
class Trace:
    """One trace: its documents by segment id, in the order they first arrived."""

    id: str
    documents: dict[str, dict] = field(default_factory=dict)
    #: When X-Ray last received a document of this trace (TimeRangeType "Event").
    updated: float = 0.0
    revision: int = 0
    _graph: tuple[int, tracegraph.TraceGraph] | None = field(default=None, repr=False)

    def docs(self) -> list[dict]:
        return list(self.documents.values())

    def graph(self) -> tracegraph.TraceGraph:
        """The trace's services and calls, built once per revision: a service graph over
        10,000 traces reads them all on every call."""
        cached = self._graph
        if cached is None or cached[0] != self.revision:
            cached = self._graph = (self.revision, tracegraph.build(self.docs()))
        return cached[1]


_LOCK = threading.Lock()
_TRACES: dict[str, dict[str, Trace]] = {}


def put(region: str, document: dict) -> None:
    """Keep an accepted document (a complete one replaces its in-progress fragment)."""
    trace_id, seg_id = str(document["trace_id"]), str(document["id"])
    with _LOCK:
        traces = _TRACES.setdefault(region, {})
        trace = traces.get(trace_id)
        if trace is None:
            trace = traces[trace_id] = Trace(trace_id)
        earlier = trace.documents.get(seg_id)
        if earlier is not None and document.get("in_progress") is True and "end_time" in earlier:
            return  # a late in-progress fragment never hides the complete segment
        trace.documents[seg_id] = document
        trace.updated = time.time()
        trace.revision += 1


def traces(region: str) -> list[Trace]:
    with _LOCK:
        return list(_TRACES.get(region, {}).values())


def find(region: str, trace_id: str) -> Trace | None:
    with _LOCK:
        return _TRACES.get(region, {}).get(trace_id)


def all_documents(region: str) -> Iterator[dict]:
    for trace in traces(region):
        yield from trace.docs()


@on_reset
def _forget() -> None:
    with _LOCK:
        _TRACES.clear()
