"""Envoy's statistics, by Envoy's names, and the admin interface's ``/stats`` and ``/clusters`` texts.

Names (see ``names`` for the cluster and listener names App Mesh uses):

* cluster stats, rooted at ``cluster.<name>.``: ``upstream_rq_total`` (every attempt),
  ``upstream_rq_<code>``, ``upstream_rq_<N>xx`` and ``upstream_rq_completed`` for the final
  response of a request, ``retry.upstream_rq_<code>`` / ``retry.upstream_rq_<N>xx`` for responses
  that were retried instead, ``upstream_rq_retry``, ``upstream_rq_retry_success``,
  ``upstream_rq_retry_limit_exceeded``, ``upstream_rq_timeout``, ``upstream_rq_per_try_timeout``,
  ``upstream_rq_rx_reset``, ``upstream_rq_pending_total``, ``upstream_rq_pending_active``,
  ``upstream_rq_pending_overflow``, ``upstream_rq_active``, ``upstream_cx_total``,
  ``upstream_cx_active``, ``upstream_cx_connect_fail``, ``upstream_cx_overflow``,
  ``upstream_cx_none_healthy``, ``lb_healthy_panic``, ``membership_total``, ``membership_healthy``,
  ``circuit_breakers.default.{cx_open,rq_pending_open,rq_open}`` and
  ``outlier_detection.{ejections_active,ejections_enforced_total,ejections_enforced_consecutive_5xx,
  ejections_detected_consecutive_5xx,ejections_overflow}``
  (https://www.envoyproxy.io/docs/envoy/latest/configuration/upstream/cluster_manager/cluster_stats);
* HTTP connection manager stats, rooted at ``http.ingress.`` / ``http.egress.``:
  ``downstream_cx_total``, ``downstream_cx_active``, ``downstream_rq_total``, ``downstream_rq_active``,
  ``downstream_rq_completed``, ``downstream_rq_<N>xx``, and the router's ``no_route``, ``no_cluster``
  and ``rq_total`` (https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_conn_man/stats,
  .../http/http_filters/router_filter "Statistics");
* listener stats, rooted at ``listener.0.0.0.0_15000.`` / ``..._15001.``: ``downstream_cx_total``,
  ``downstream_cx_active``, ``no_filter_chain_match``
  (https://www.envoyproxy.io/docs/envoy/latest/configuration/listeners/stats).

The App Mesh examples read exactly these: ``cluster.cds_egress_online-store_product-details_http_8080.upstream_rq_2xx``
and ``listener.0.0.0.0_15001.downstream_cx_total``
(https://docs.aws.amazon.com/app-mesh/latest/userguide/envoy-metrics.html),
``cluster.cds_egress_howto-outlier-detection_color-node_http_8080.outlier_detection.ejections_active``
(aws-app-mesh-examples, walkthroughs/howto-outlier-detection), ``http.ingress.downstream_cx_active`` and
``cluster.cds_ingress_cb-mesh_colorteller-white-vn_http_9080.upstream_rq_pending_active``
(walkthroughs/howto-circuit-breakers).

``/stats`` prints ``name: value`` lines sorted by name (https://www.envoyproxy.io/docs/envoy/latest/operations/admin,
GET /stats); histograms (``upstream_rq_time``) are not kept. ``/clusters`` prints
``cluster::host:port::stat::value`` lines, with the per-host stats and health flags that page lists
(``healthy``, ``/failed_outlier_check``, ``/failed_active_hc``) and the circuit-breaker settings,
as the examples show (``cds_egress_..._http_8080::10.100.252.203:8080::health_flags::healthy``).
"""
from __future__ import annotations

import dataclasses
import threading
from typing import Iterable

from mylearning.dataplane.mesh.model import UNLIMITED, PoolLimits
from mylearning.dataplane.mesh.names import http_stat_prefix, listener_stat_prefix

HOST_STATS = ("cx_active", "cx_connect_fail", "cx_total", "rq_active", "rq_error", "rq_success", "rq_timeout",
              "rq_total")


class Stats:
    """Counters and gauges by full name; thread-safe (the sidecar may count from several threads)."""

    def __init__(self) -> None:
        self._values: dict[str, int] = {}
        self._hosts: dict[tuple[str, str], dict[str, int]] = {}
        self._lock = threading.Lock()

    def inc(self, name: str, n: int = 1) -> None:
        with self._lock:
            self._values[name] = self._values.get(name, 0) + n

    def set(self, name: str, value: int) -> None:
        with self._lock:
            self._values[name] = value

    def get(self, name: str) -> int:
        return self._values.get(name, 0)

    def declare(self, *names: str) -> None:
        """Make stats appear with 0, as Envoy lists a cluster's stats before they count."""
        with self._lock:
            for name in names:
                self._values.setdefault(name, 0)

    def cluster(self, name: str) -> "ClusterStats":
        return ClusterStats(self, f"cluster.{name}", name)

    def http(self, direction: str) -> "ScopedStats":
        return ScopedStats(self, http_stat_prefix(direction))

    def listener(self, port: int) -> "ScopedStats":
        return ScopedStats(self, listener_stat_prefix(port))

    def host(self, cluster: str, address: str, stat: str, n: int = 1) -> None:
        with self._lock:
            counters = self._hosts.setdefault((cluster, address), dict.fromkeys(HOST_STATS, 0))
            counters[stat] = counters.get(stat, 0) + n

    def host_stats(self, cluster: str, address: str) -> dict[str, int]:
        return dict(self._hosts.get((cluster, address)) or dict.fromkeys(HOST_STATS, 0))

    def render(self) -> str:
        """The ``/stats`` text: ``name: value`` lines, sorted."""
        with self._lock:
            items = sorted(self._values.items())
        return "".join(f"{name}: {value}\n" for name, value in items)


@dataclasses.dataclass
class ScopedStats:
    stats: Stats
    prefix: str

    def inc(self, stat: str, n: int = 1) -> None:
        self.stats.inc(f"{self.prefix}.{stat}", n)

    def set(self, stat: str, value: int) -> None:
        self.stats.set(f"{self.prefix}.{stat}", value)

    def get(self, stat: str) -> int:
        return self.stats.get(f"{self.prefix}.{stat}")

    def response(self, status: int) -> None:
        """A response sent downstream (HTTP connection manager stats)."""
        self.inc(f"downstream_rq_{status // 100}xx")
        self.inc("downstream_rq_completed")


@dataclasses.dataclass
class ClusterStats(ScopedStats):
    name: str = ""

    def response(self, status: int, *, retried: bool = False) -> None:  # type: ignore[override]
        """An upstream response: the final one, or (``retried``) one that was retried instead."""
        scope = "retry." if retried else ""
        self.inc(f"{scope}upstream_rq_{status}")
        self.inc(f"{scope}upstream_rq_{status // 100}xx")
        if not retried:
            self.inc("upstream_rq_completed")


@dataclasses.dataclass(frozen=True)
class HostView:
    address: str  # ip:port
    health_flags: str = "healthy"
    weight: int = 1
    hostname: str = ""


@dataclasses.dataclass(frozen=True)
class ClusterView:
    name: str
    hosts: tuple[HostView, ...] = ()
    limits: PoolLimits = PoolLimits()
    outlier_detection: bool = False


def render_clusters(stats: Stats, clusters: Iterable[ClusterView]) -> str:
    """The ``/clusters`` text for these clusters, with each host's counters from ``stats``."""
    lines: list[str] = []
    for c in sorted(clusters, key=lambda c: c.name):
        if c.outlier_detection:
            lines += [f"{c.name}::outlier::success_rate_average::-1",
                      f"{c.name}::outlier::success_rate_ejection_threshold::-1",
                      f"{c.name}::outlier::local_origin_success_rate_average::-1",
                      f"{c.name}::outlier::local_origin_success_rate_ejection_threshold::-1"]
        for priority in ("default_priority", "high_priority"):
            lines += [f"{c.name}::{priority}::max_connections::{c.limits.max_connections}",
                      f"{c.name}::{priority}::max_pending_requests::{c.limits.max_pending_requests}",
                      f"{c.name}::{priority}::max_requests::{c.limits.max_requests}",
                      f"{c.name}::{priority}::max_retries::{UNLIMITED}"]
        lines.append(f"{c.name}::added_via_api::true")
        for h in c.hosts:
            counters = stats.host_stats(c.name, h.address)
            prefix = f"{c.name}::{h.address}"
            lines += [f"{prefix}::{k}::{counters[k]}" for k in HOST_STATS]
            lines += [f"{prefix}::hostname::{h.hostname}", f"{prefix}::health_flags::{h.health_flags}",
                      f"{prefix}::weight::{h.weight}", f"{prefix}::region::", f"{prefix}::zone::",
                      f"{prefix}::sub_zone::", f"{prefix}::canary::false", f"{prefix}::priority::0",
                      f"{prefix}::success_rate::-1", f"{prefix}::local_origin_success_rate::-1"]
    return "".join(line + "\n" for line in lines)


def cluster_stat_names() -> tuple[str, ...]:
    """The stats a new cluster lists with 0 (``Stats.declare``)."""
    return ("upstream_cx_active", "upstream_cx_connect_fail", "upstream_cx_overflow", "upstream_cx_total",
            "upstream_rq_active", "upstream_rq_completed", "upstream_rq_pending_active",
            "upstream_rq_pending_overflow", "upstream_rq_pending_total", "upstream_rq_per_try_timeout",
            "upstream_rq_retry", "upstream_rq_retry_limit_exceeded", "upstream_rq_retry_overflow",
            "upstream_rq_retry_success", "upstream_rq_rx_reset", "upstream_rq_timeout", "upstream_rq_total",
            "lb_healthy_panic", "membership_healthy", "membership_total", "upstream_cx_none_healthy",
            "circuit_breakers.default.cx_open", "circuit_breakers.default.rq_open",
            "circuit_breakers.default.rq_pending_open")
