"""The App Mesh sidecar's decision core (issue 12): what the course's stand-in for the
aws-appmesh-envoy image decides, without any socket.

The proxy learns its configuration from the App Mesh API, as Envoy is told it by App Mesh, and
decides per request as App Mesh configures Envoy to. The network integration (listeners on the
task's loopback address, upstream connections, the admin port) calls this API:

Configuration (``config``)
    ``poller = ConfigPoller(appmesh_client, os.environ["APPMESH_RESOURCE_ARN"])`` (or the older
    ``mesh/M/virtualNode/N`` form); ``result = poller.poll_once()`` every second or less:
    ``result.snapshot`` (an immutable ``Snapshot``), ``result.changed``, ``result.calls``.
    ``read_snapshot(client, resource)`` reads once. ``MeshResourceNotFound`` when the mesh or the
    proxy's node/gateway does not exist.

Routing (``routing``, ``gateway``)
    ``table = table_for(snapshot, rng=random.Random(), stats=stats)``, rebuilt when the snapshot
    changes. On the egress listener: ``table.listener_protocol(port)`` says whether to read HTTP;
    ``table.route(host, port, method, path, headers, query=None, scheme="http")`` for HTTP,
    ``table.route_tcp(host, port)`` for TCP. Each gives one of

    * ``RouteDecision``: virtual service, virtual router and route (or gateway route), the chosen
      ``target_node`` and ``target_port``, ``cluster`` (its Envoy name), ``discovery`` (the node's
      DNS or Cloud Map spec, for the resolver), ``retry_policy``, ``timeouts``, the ``path`` and
      ``host`` to send upstream, the target listener's ``outlier`` spec and ``health_check``, and
      the backend's TLS ``client_policy``;
    * ``PassThrough``: send as addressed (``*.amazonaws.com``, or anything under ALLOW_ALL);
    * ``Refusal``: answer ``status`` (404 no route, 503 no cluster) with ``flags``, or close the
      connection when ``status`` is None (no filter chain on that port).

    On the ingress listener: ``table.ingress(port)`` gives an ``IngressDecision`` (the local app's
    ``cds_ingress_...`` cluster, the listener's timeouts and connection pool) or a ``Refusal``.
    A gateway's ``table.route(...)`` matches gateway routes, rewrites host and path, then routes to
    the target virtual service.

Per request (``retry``, ``pool``, ``outlier``)
    ``state = RetryState(decision.retry_policy, decision.timeouts.per_request, clock=..., rng=...,
    stats=stats.cluster(decision.cluster))``; for each attempt ``state.begin()``, bound it by
    ``state.attempt_timeout()``, then ``verdict = state.decide(Outcome.response(status) or
    Outcome.failed(CONNECT_FAILURE | RESET | REFUSED_STREAM | PER_TRY_TIMEOUT | TIMEOUT))``: retry
    after ``verdict.backoff`` seconds, or send ``verdict.status`` (and ``verdict.body`` when the
    proxy answers for the upstream).
    ``ConnectionPool(listener.protocol, ingress.pool, stats=...)``: ``request()`` -> DISPATCH,
    QUEUED or OVERFLOW (503 UO, ``x-envoy-overloaded``); ``finish(ticket)``, ``cancel(ticket)``.
    ``OutlierDetector(decision.outlier, hosts, clock=..., stats=...)``: ``report(host, outcome)``,
    ``available()`` -> (hosts to balance over, panic), ``set_hosts(...)`` when discovery changes.

Stats (``stats``, ``names``)
    ``Stats()``: ``stats.cluster(name)``, ``stats.http("egress")``, ``stats.listener(15001)``;
    ``stats.render()`` is ``/stats``; ``render_clusters(stats, views)`` is ``/clusters``. Names are
    Envoy's, with App Mesh's cluster and listener names.

How this differs from Envoy in App Mesh (each module says more where it decides):

* configuration is polled through the public API, not pushed over xDS;
* no HTTP parsing, TLS, health checking or load balancing here: the integration does them with
  what the decisions give it (endpoints come from the resolver, by ``discovery``);
* regular expressions are Python's ``re``, not RE2; path normalization covers merge_slashes and
  dot segments, not percent-decoding;
* TCP traffic finds its virtual service by name (or the port's only TCP service), not by the
  destination IP a DNS answer gave;
* ALLOW_ALL passes through whatever no backend takes, without App Mesh's port-sharing quirk;
* histograms (``upstream_rq_time``) are not kept.
"""
from __future__ import annotations

from mylearning.dataplane.mesh.config import (ConfigPoller, MeshConfigError, MeshResourceNotFound, PollResult,
                                              ProxyResource, parse_resource, read_snapshot)
from mylearning.dataplane.mesh.gateway import GatewayTable
from mylearning.dataplane.mesh.model import Snapshot
from mylearning.dataplane.mesh.outlier import OutlierDetector
from mylearning.dataplane.mesh.pool import DISPATCH, OVERFLOW, QUEUED, ConnectionPool
from mylearning.dataplane.mesh.retry import (CONNECT_FAILURE, DEFAULT_RETRY_POLICY, PER_TRY_TIMEOUT, REFUSED_STREAM,
                                             RESET, TIMEOUT, Outcome, RetryPolicy, RetryState, Verdict)
from mylearning.dataplane.mesh.routing import (IngressDecision, PassThrough, Refusal, RouteDecision, RouteTable,
                                               pick_weighted)
from mylearning.dataplane.mesh.stats import ClusterView, HostView, Stats, render_clusters


def table_for(snapshot: Snapshot, **kwargs) -> RouteTable:
    """The routing table of a node's or a gateway's snapshot."""
    return GatewayTable(snapshot, **kwargs) if snapshot.is_gateway else RouteTable(snapshot, **kwargs)


__all__ = ["CONNECT_FAILURE", "ClusterView", "ConfigPoller", "ConnectionPool", "DEFAULT_RETRY_POLICY", "DISPATCH",
           "GatewayTable", "HostView", "IngressDecision", "MeshConfigError", "MeshResourceNotFound", "OVERFLOW",
           "Outcome", "OutlierDetector", "PER_TRY_TIMEOUT", "PassThrough", "PollResult", "ProxyResource", "QUEUED",
           "REFUSED_STREAM", "RESET", "Refusal", "RetryPolicy", "RetryState", "RouteDecision", "RouteTable",
           "Snapshot", "Stats", "TIMEOUT", "Verdict", "parse_resource", "pick_weighted", "read_snapshot",
           "render_clusters", "table_for"]
