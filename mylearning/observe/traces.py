"""X-Ray in a notebook: the service map (GetServiceGraph), slow traces (GetTraceSummaries with a
filter expression) and where one trace's time went (BatchGetTraces).

The service graph's nodes are the services that sent segments (here each proxy, as
``mesh/node``, and each instrumented service) and the clients that called them; each node's
``SummaryStatistics`` counts its requests (ok, errors 4xx, faults 5xx) and their total response time;
each edge the same for the calls from one node to the next
(https://docs.aws.amazon.com/xray/latest/api/API_GetServiceGraph.html,
https://docs.aws.amazon.com/xray/latest/devguide/xray-console-servicemap.html). The filter
expressions are X-Ray's (https://docs.aws.amazon.com/xray/latest/devguide/xray-console-filters.html).
"""
from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional

from mylearning.observe import shown
from mylearning.observe.table import Table

#: BatchGetTraces takes "up to 5 trace IDs" a call (API_BatchGetTraces.html).
BATCH = 5


def _time(epoch: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc)


@dataclass
class Node:
    name: str
    type: str
    requests: int = 0
    faults: int = 0
    errors: int = 0
    total_seconds: float = 0.0
    edges: dict[str, "Edge"] = field(default_factory=dict)

    @property
    def mean_ms(self) -> Optional[float]:
        return 1000 * self.total_seconds / self.requests if self.requests else None

    @property
    def fault_percent(self) -> float:
        return 100 * self.faults / self.requests if self.requests else 0.0


@dataclass
class Edge:
    target: str
    requests: int
    faults: int
    total_seconds: float

    @property
    def mean_ms(self) -> Optional[float]:
        return 1000 * self.total_seconds / self.requests if self.requests else None


def _counts(stats: dict) -> tuple[int, int, int, float]:
    return (int(stats.get("TotalCount") or 0), int((stats.get("FaultStatistics") or {}).get("TotalCount") or 0),
            int((stats.get("ErrorStatistics") or {}).get("TotalCount") or 0), float(stats.get("TotalResponseTime") or 0))


class ServiceMap:
    """The service graph as nodes and edges, drawn as a picture in Jupyter (matplotlib). Nodes are
    keyed by their ReferenceId: a client node may carry the name of the service it stands in for."""

    def __init__(self, services: list[dict]) -> None:
        self.raw = services
        self.nodes: dict[int, Node] = {}
        for s in services:
            requests, faults, errors, total = _counts(s.get("SummaryStatistics") or {})
            kind = s.get("Type") or ""
            name = "client" if kind == "client" else (s.get("Name") or f"#{s['ReferenceId']}")
            self.nodes[s["ReferenceId"]] = Node(name, kind, requests, faults, errors, total)
        for s in services:
            for e in s.get("Edges") or []:
                if e.get("ReferenceId") in self.nodes:
                    n, f, _, t = _counts(e.get("SummaryStatistics") or {})
                    self.nodes[s["ReferenceId"]].edges[e["ReferenceId"]] = Edge(self.nodes[e["ReferenceId"]].name, n, f, t)

    def services(self) -> list[Node]:
        return [n for n in self.nodes.values() if n.type != "client"]

    def table(self) -> Table:
        """One row a service: requests, faults, mean response time (the numbers on the map)."""
        rows = [{"service": n.name, "type": n.type, "requests": n.requests, "faults (5xx)": n.faults,
                 "fault %": round(n.fault_percent, 2), "mean ms": round(n.mean_ms, 1) if n.mean_ms is not None else None,
                 "calls": ", ".join(sorted(e.target for e in n.edges.values()))} for n in self.services()]
        return Table(sorted(rows, key=lambda r: -(r["mean ms"] or 0)), title="X-Ray service graph")

    def edges(self) -> list[tuple[str, str]]:
        """(caller, callee) names of the edges between services (clients left out)."""
        return sorted({(n.name, e.target) for n in self.services() for e in n.edges.values()})

    def slowest(self) -> Optional[str]:
        """The service with the highest mean response time."""
        ranked = [n for n in self.services() if n.mean_ms is not None]
        return max(ranked, key=lambda n: n.mean_ms).name if ranked else None

    def _layers(self) -> dict[int, int]:
        """Columns for the drawing: hops from the busiest client (breadth first, so the cycle a
        proxy makes with its own service, in and out, does not push the service further right);
        other clients stand just left of what they call."""
        clients = [ref for ref, n in self.nodes.items() if n.type == "client"]
        root = max(clients, key=lambda r: sum(e.requests for e in self.nodes[r].edges.values()), default=None)
        start = root if root is not None else min(self.nodes)
        depth, frontier = {start: 0}, [start]
        while frontier:
            following = []
            for ref in frontier:
                for target in self.nodes[ref].edges:
                    if target not in depth and self.nodes[target].type != "client":
                        depth[target] = depth[ref] + 1
                        following.append(target)
            frontier = following
        for ref in self.nodes:
            if ref not in depth:
                targets = [depth[t] for t in self.nodes[ref].edges if t in depth]
                depth[ref] = max(min(targets) - 1, 0) if targets else max(depth.values()) + 1
        return depth

    def figure(self) -> Any:
        from mylearning.traffic.plot import ERROR_COLOUR, Chart
        if not self.nodes:
            figure = Chart(figsize=(6, 1.2))
            ax = figure.add_subplot(1, 1, 1)
            ax.set_axis_off()
            ax.text(0.5, 0.5, "No traces in this time range: is tracing on, and did traffic flow?", ha="center",
                    va="center", fontsize=9)
            return figure
        depth = self._layers()
        columns: dict[int, list[int]] = {}
        for ref in sorted(self.nodes, key=lambda r: self.nodes[r].name):
            columns.setdefault(depth[ref], []).append(ref)
        width = max(columns, default=0) + 1
        height = max((len(v) for v in columns.values()), default=1)
        figure = Chart(figsize=(2.8 * width + 1, 1.5 * height + 1))
        ax = figure.add_subplot(1, 1, 1)
        ax.set_axis_off()
        where = {ref: (col, (len(refs) - 1) / 2 - row) for col, refs in columns.items() for row, ref in enumerate(refs)}
        for ref, node in self.nodes.items():
            for target, edge in node.edges.items():
                (x0, y0), (x1, y1) = where[ref], where[target]
                bad = edge.requests and edge.faults / edge.requests > 0.01
                ax.annotate("", xy=(x1 - 0.22, y1), xytext=(x0 + 0.22, y0),
                            arrowprops={"arrowstyle": "->", "color": ERROR_COLOUR if bad else "#607d8b",
                                        "lw": 1 + min(3.0, edge.requests / 200)})
                if edge.mean_ms is not None:
                    ax.text(x0 + 0.4 * (x1 - x0), y0 + 0.4 * (y1 - y0) + 0.08, f"{edge.requests} · {edge.mean_ms:.0f} ms",
                            ha="center", fontsize=7, color="#37474f")
        slowest = self.slowest()
        for ref, (x, y) in where.items():
            node = self.nodes[ref]
            colour = "#eceff1" if node.type == "client" else ("#ffcdd2" if node.fault_percent > 1 else "#e8f5e9")
            outline = ERROR_COLOUR if node.name == slowest and node.type != "client" else "#2e7d32"
            ax.scatter([x], [y], s=1800, color=colour, edgecolors=outline, linewidths=2, zorder=3)
            label = f"{node.name.split('/', 1)[1]} (Envoy)" if "/" in node.name else node.name
            words = label if node.type == "client" or node.mean_ms is None else (
                f"{label}\n{node.mean_ms:.0f} ms · {node.fault_percent:.1f}% 5xx")
            ax.text(x, y - 0.32, words, ha="center", va="top", fontsize=8, zorder=4)
        ax.set_xlim(-0.6, width - 0.4)
        ax.set_ylim(-height / 2 - 0.4, height / 2 + 0.3)
        ax.set_title("X-Ray service map: requests · mean time on each edge; the slowest service outlined red",
                     fontsize=9)
        return figure

    def _repr_png_(self) -> bytes:
        from mylearning.traffic.plot import png
        return png(self.figure())

    def __repr__(self) -> str:
        return str(self.table())


def service_map(session: Any, start: float, end: float, *, show: bool = True) -> ServiceMap:
    """X-Ray's service graph between `start` and `end` (epoch seconds), every page."""
    services: list[dict] = []
    for page in shown.pages(session.client("xray"), "get_service_graph", show, StartTime=_time(start), EndTime=_time(end)):
        services += page.get("Services", [])
    return ServiceMap(services)


def slow(session: Any, start: float, end: float, *, seconds: float = 1.0, extra: str = "",
         limit: int = 20, show: bool = True) -> Table:
    """Traces between `start` and `end` slower than `seconds` (``responsetime > seconds``, and
    `extra`, e.g. ``service("enrollment")``), slowest first: id, response time, status, URL, services."""
    expression = f"responsetime > {seconds:g}" + (f" AND {extra}" if extra else "")
    found: list[dict] = []
    for page in shown.pages(session.client("xray"), "get_trace_summaries", show, StartTime=_time(start),
                            EndTime=_time(end), FilterExpression=expression):
        found += page.get("TraceSummaries", [])
        if len(found) >= 1000:
            break
    found.sort(key=lambda s: -(s.get("ResponseTime") or s.get("Duration") or 0))
    rows = [{"trace": s["Id"], "response s": round(float(s.get("ResponseTime") or 0), 3),
             "status": (s.get("Http") or {}).get("HttpStatus"), "url": (s.get("Http") or {}).get("HttpURL"),
             "services": ", ".join(sorted({i.get("Name", "") for i in s.get("ServiceIds", [])}))}
            for s in found[:limit]]
    return Table(rows, title=f"{len(found)} traces with {expression}")


def segments(session: Any, trace_ids: Iterable[str], *, show: bool = True) -> dict[str, list[dict]]:
    """Each trace's segment documents (parsed), BatchGetTraces five ids at a time."""
    xray = session.client("xray")
    ids = list(dict.fromkeys(trace_ids))
    out: dict[str, list[dict]] = {}
    for i in range(0, len(ids), BATCH):
        page = shown.call(xray, "batch_get_traces", show and i == 0, TraceIds=ids[i:i + BATCH])
        for trace in page.get("Traces", []):
            out[trace["Id"]] = [json.loads(s["Document"]) for s in trace.get("Segments", [])]
    return out


def _ids(document: dict) -> set[str]:
    """A segment's id and its subsegments' (recursively): what a child's ``parent_id`` may name."""
    found = {document.get("id", "")}
    for sub in document.get("subsegments") or []:
        found |= _ids(sub)
    return found


def _remote(document: dict) -> list[dict]:
    out = []
    for sub in document.get("subsegments") or []:
        out += [sub] if sub.get("namespace") == "remote" else _remote(sub)
    return out


def _spent(document: dict) -> float:
    return float(document["end_time"]) - float(document["start_time"])


def _waiting(document: dict, trace: list[dict]) -> float:
    """Seconds a segment spent waiting on others: its child segments (their ``parent_id`` is it or
    one of its subsegments), and its remote calls that reached no traced service."""
    ids = _ids(document)
    children = [d for d in trace if d is not document and d.get("parent_id") in ids and d.get("end_time")]
    answered = {d.get("parent_id") for d in children}
    return sum(_spent(d) for d in children) + sum(
        _spent(s) for s in _remote(document) if s.get("end_time") and s.get("id") not in answered)


def time_by_service(session: Any, trace_ids: Iterable[str], *, show: bool = True) -> Table:
    """Where the traces' time went: per segment name, the mean time spent in it, the mean time it
    waited on the services it called, and the difference (its own time), largest own time first."""
    per: dict[str, list[tuple[float, float]]] = {}
    for docs in segments(session, trace_ids, show=show).values():
        for doc in docs:
            if doc.get("end_time"):
                per.setdefault(doc.get("name", "?"), []).append((_spent(doc), _waiting(doc, docs)))
    rows = []
    for name, values in per.items():
        spent = sum(v[0] for v in values) / len(values)
        calls = sum(v[1] for v in values) / len(values)
        rows.append({"segment": name, "segments": len(values), "mean ms": round(1000 * spent, 1),
                     "waiting ms": round(1000 * calls, 1), "own ms": round(1000 * (spent - calls), 1)})
    return Table(sorted(rows, key=lambda r: -r["own ms"]), title="where the time went (X-Ray segments)")
