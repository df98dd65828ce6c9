"""AWS X-Ray: GetServiceGraph and GetTraceGraph built from the segments the account received.

moto 5.2 stores segments but answers GetServiceGraph with an empty graph (and GetTraceGraph
likewise), so a learner who instruments services sees nothing. Here the graph is what
X-Ray documents (API_GetServiceGraph.html, API_GetTraceGraph.html; shapes API_Service.html,
API_Edge.html, API_ServiceStatistics.html, API_EdgeStatistics.html, API_HistogramEntry.html;
concepts in https://docs.aws.amazon.com/xray/latest/devguide/xray-concepts.html#xray-concepts-servicegraph):

* one node per service (its name and type) that sent segments or that a subsegment called
  (``graph``: inferred nodes, ``remote`` or ``AWS::...``), ``Root`` for a trace's first service;
* one ``client`` node in front of each root service, "the clients that sent requests";
* an edge from caller to callee, its statistics and histogram from the callee's segments;
* counts from the segment flags and HTTP status (``facts.xray.status_class``).
"""
from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any, Iterable

from mylearning.emulator.fidelity.core import AwsRequest, handler
from mylearning.emulator.fidelity.xray import graph as tracegraph
from mylearning.emulator.fidelity.xray import paging, store
from mylearning.emulator.fidelity.xray.access import SERVICE, account, invalid_request, time_window
from mylearning.emulator.fidelity.xray.groups import group_filter


class _Stats:
    """Request counts and times of a node or an edge, over the segments added to it."""

    def __init__(self) -> None:
        self.measures: list[tracegraph.Measure] = []

    def add(self, measure: tracegraph.Measure) -> None:
        self.measures.append(measure)

    @property
    def total(self) -> int:
        return len(self.measures)

    @property
    def start(self) -> float:
        return min(m.start for m in self.measures)

    @property
    def end(self) -> float:
        return max(m.end for m in self.measures)

    def summary(self) -> dict:
        c = Counter(m.outcome for m in self.measures)
        return {"OkCount": c["ok"],
                "ErrorStatistics": {"ThrottleCount": c["throttle"], "OtherCount": c["error"],
                                    "TotalCount": c["error"] + c["throttle"]},
                "FaultStatistics": {"OtherCount": c["fault"], "TotalCount": c["fault"]},
                "TotalCount": self.total, "TotalResponseTime": round(sum(m.took for m in self.measures), 6)}

    def histogram(self) -> list[dict]:
        counts = Counter(m.bucket for m in self.measures)
        return [{"Value": v, "Count": n} for v, n in sorted(counts.items())]


def build_services(graphs: Iterable[tracegraph.TraceGraph], account_id: str,
                   window: tuple[float, float] | None = None) -> list[dict]:
    """The Services list of a service graph over the traces' graphs (segments outside the
    window, when one is given, are left out)."""
    nodes: dict[tuple[str, str], dict] = {}

    def node(key: tuple[str, str]) -> dict:
        if key not in nodes:
            nodes[key] = {"root": False, "stats": _Stats(), "edges": defaultdict(_Stats)}
        return nodes[key]

    first, last = window if window is not None else (float("-inf"), float("inf"))

    def kept(m: tracegraph.Measure) -> bool:
        """Segments that overlap the window."""
        return m.start <= last and m.end >= first

    for g in graphs:
        for n in g.nodes:
            if not kept(n.measure):
                continue
            me = node(n.key)
            me["stats"].add(n.measure)
            if n.root:
                me["root"] = True
                node((n.name, "client"))["edges"][n.key].add(n.measure)
        for call in g.calls:
            if kept(call.measure) and kept(call.callee.measure):
                node(call.caller.key)["edges"][call.callee.key].add(call.measure)

    ids = {key: i for i, key in enumerate(nodes)}
    services = []
    for key, item in nodes.items():
        name, kind = key
        edges = [{"ReferenceId": ids[target], "StartTime": edge.start, "EndTime": edge.end,
                  "SummaryStatistics": edge.summary(), "ResponseTimeHistogram": edge.histogram(),
                  "Aliases": []}
                 for target, edge in item["edges"].items()]
        service: dict[str, Any] = {"ReferenceId": ids[key], "Name": name, "Names": [name],
                                   "Root": item["root"], "Type": kind, "Edges": edges,
                                   "State": "unknown" if kind == "client" else "active"}
        if kind != "client":
            service["AccountId"] = account_id
        elif item["edges"]:  # the client's times are its requests' (xray-api-gettingdata.html example)
            service["StartTime"] = min(e.start for e in item["edges"].values())
            service["EndTime"] = max(e.end for e in item["edges"].values())
        stats = item["stats"]
        if stats.total:
            service.update({"StartTime": stats.start, "EndTime": stats.end,
                            "SummaryStatistics": stats.summary(),
                            "DurationHistogram": stats.histogram(),
                            "ResponseTimeHistogram": stats.histogram()})
        services.append(service)
    return services


def build_service_graph(docs: list[dict], start: float, end: float, account_id: str) -> list[dict]:
    """The Services of GetServiceGraph for documents of one or more traces, in [start, end]."""
    by_trace: dict[str, list[dict]] = defaultdict(list)
    for doc in docs:
        by_trace[str(doc.get("trace_id"))].append(doc)
    graphs = [tracegraph.build(d) for d in by_trace.values()]
    return build_services(graphs, account_id, (start, end))


@handler(SERVICE, "GetServiceGraph")
def get_service_graph(req: AwsRequest) -> tuple[int, Any]:
    """The services that processed requests in the window, and their downstream calls.

    https://docs.aws.amazon.com/xray/latest/api/API_GetServiceGraph.html: StartTime and
    EndTime required; GroupName or GroupARN narrow the graph to the traces that match the
    group's filter expression; the answer has StartTime, EndTime, Services and
    ContainsOldGroupVersions.
    """
    start, end = time_window(req)
    matches = group_filter(req.region, req.params.get("GroupName"), req.params.get("GroupARN"))
    graphs = []
    for trace in store.traces(req.region):
        g = trace.graph()
        if matches is None or matches(trace.docs() + g.inferred_documents()):
            graphs.append(g)
    services = build_services(graphs, account(), (start, end))
    shown, following = paging.page(services, req.params.get("NextToken"), paging.SERVICES_PAGE)
    answer = {"StartTime": start, "EndTime": end, "Services": shown, "ContainsOldGroupVersions": False}
    if following:
        answer["NextToken"] = following
    return 200, answer


@handler(SERVICE, "GetTraceGraph")
def get_trace_graph(req: AwsRequest) -> tuple[int, Any]:
    """The services of the given traces only, with no time window.

    https://docs.aws.amazon.com/xray/latest/api/API_GetTraceGraph.html: "Retrieves a service
    graph for one or more specific trace IDs"; TraceIds is required. Unknown ids add nothing.
    """
    ids = req.params.get("TraceIds")
    if not isinstance(ids, list) or not ids:
        raise invalid_request("TraceIds is required: a list of trace IDs.")
    graphs = []
    for trace_id in dict.fromkeys(str(i) for i in ids):
        trace = store.find(req.region, trace_id)
        if trace is not None:
            graphs.append(trace.graph())
    shown, following = paging.page(build_services(graphs, account()), req.params.get("NextToken"),
                                   paging.SERVICES_PAGE)
    answer: dict[str, Any] = {"Services": shown}
    if following:
        answer["NextToken"] = following
    return 200, answer
