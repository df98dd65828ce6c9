"""The root causes a trace summary names: which service a fault, an error or the response
time came from (API_TraceSummary.html: FaultRootCauses, ErrorRootCauses,
ResponseTimeRootCauses; shapes API_FaultRootCause.html, API_ErrorRootCause.html,
API_ResponseTimeRootCause.html).

X-Ray doesn't document its algorithm; the console's analytics describe a root cause as the
service "the issue originated from" (https://docs.aws.amazon.com/xray/latest/devguide/xray-console-analytics.html).
Here, as the simplest reading of that: a fault (or error) root cause is a service whose
segment faulted while none of the services it called did, given as the path of services
from the trace's entry point down to it; the response-time root cause is found by following
the slowest call from the entry point for as long as the callee took longer than the
caller's own work, and its Coverage is its share of the entry point's response time.
"""
from __future__ import annotations

from mylearning.emulator.fidelity.xray import graph as tracegraph


def _service(node: tracegraph.Node, account_id: str, entity: dict) -> dict:
    return {"Name": node.name, "Names": [node.name], "Type": node.type, "AccountId": account_id,
            "EntityPath": [entity], "Inferred": node.inferred}


def _exceptions(doc: dict) -> list[dict]:
    cause = doc.get("cause") if isinstance(doc.get("cause"), dict) else {}
    return [{"Name": str(e.get("type", "")), "Message": str(e.get("message", ""))}
            for e in cause.get("exceptions") or [] if isinstance(e, dict)]


def _paths(g: tracegraph.TraceGraph) -> dict[int, list[tracegraph.Node]]:
    """Each node's path from its trace's entry point (itself included)."""
    calls: dict[int, list[tracegraph.Node]] = {}
    for call in g.calls:
        calls.setdefault(id(call.caller), []).append(call.callee)
    paths: dict[int, list[tracegraph.Node]] = {}
    stack = [(n, [n]) for n in g.nodes if n.root]
    while stack:
        node, path = stack.pop()
        if id(node) in paths:
            continue
        paths[id(node)] = path
        stack.extend((child, [*path, child]) for child in calls.get(id(node), []))
    return paths


def by_outcome(g: tracegraph.TraceGraph, account_id: str, outcomes: tuple[str, ...]) -> list[dict]:
    """FaultRootCauses (outcomes "fault",) or ErrorRootCauses ("error", "throttle")."""
    callees: dict[int, list[tracegraph.Node]] = {}
    for call in g.calls:
        callees.setdefault(id(call.caller), []).append(call.callee)
    paths = _paths(g)
    causes = []
    for node in g.nodes:
        if node.measure.outcome not in outcomes:
            continue
        if any(c.measure.outcome in outcomes for c in callees.get(id(node), [])):
            continue
        path = paths.get(id(node), [node])
        services = [_service(n, account_id, {"Name": n.name, "Exceptions": _exceptions(n.doc) if n is node else [],
                                             "Remote": n.inferred}) for n in path]
        causes.append({"Services": services, "ClientImpacting": path[0].measure.outcome in outcomes})
    return causes


def response_time(g: tracegraph.TraceGraph, account_id: str) -> list[dict]:
    """ResponseTimeRootCauses: the service the slowest chain of calls ends at."""
    root = g.root
    if root is None:
        return []
    calls: dict[int, list[tracegraph.Call]] = {}
    for call in g.calls:
        calls.setdefault(id(call.caller), []).append(call)
    path, node = [root], root
    while calls.get(id(node)):
        slowest = max(calls[id(node)], key=lambda c: c.measure.took)
        own = node.measure.took - slowest.measure.took
        if slowest.callee.measure.took <= own or any(slowest.callee is n for n in path):
            break
        node = slowest.callee
        path.append(node)
    total = root.measure.took or 1.0
    services = [_service(n, account_id, {"Name": n.name, "Coverage": round(n.measure.took / total, 6),
                                         "Remote": n.inferred}) for n in path]
    return [{"Services": services, "ClientImpacting": True}]
