"""The names App Mesh gives the Envoy resources it configures, stated once.

The stats and ``/clusters`` texts are keyed by these names, and a learner's check reads them
the way the App Mesh walkthroughs do (``curl localhost:9901/stats | grep cds_egress``), so
they follow the App Mesh user guide exactly:

* listeners ``lds_<direction>_<ip>_<port>``; the ones every proxy has are
  ``lds_ingress_0.0.0.0_15000`` and ``lds_egress_0.0.0.0_15001``, and their stats are rooted at
  ``listener.0.0.0.0_15000.`` / ``listener.0.0.0.0_15001.``
  (https://docs.aws.amazon.com/app-mesh/latest/userguide/envoy-metrics.html, "Listener names",
  "Example listener metrics");
* clusters ``cds_<direction>_<mesh>_<virtual node>_<protocol>_<port>``, e.g.
  ``cds_ingress_my-mesh_my-virtual-node_http_8080`` for the local app and
  ``cds_egress_online-store_cart_http_8080`` for a backend's node; the special clusters
  ``cds_egress_<mesh>_amazonaws`` (AWS APIs) and, under ALLOW_ALL, ``cds_egress_<mesh>_mesh-allow-all``
  (envoy-metrics.html, "Cluster names";
  https://docs.aws.amazon.com/app-mesh/latest/userguide/troubleshooting-connectivity.html, which
  names ``cluster.cds_egress_*_mesh-allow-all``);
* the HTTP connection managers' stat prefixes ``ingress`` and ``egress``: ``http.ingress.*`` and
  ``http.egress.*`` (https://docs.aws.amazon.com/app-mesh/latest/userguide/metrics.html, the
  single-listener column; the App Mesh best-practices page "Monitoring and failure resolution"
  shows ``http.egress.downstream_rq_2xx`` and ``http.ingress.downstream_rq_5xx``).

The multiple-listener prefixes (``http.ingress.http.5555.*``, metrics.html) are the newer
images' form; we give the single-listener form, which the examples show.
"""
from __future__ import annotations

#: The ports App Mesh's proxy configuration sends inbound and outbound traffic to
#: (https://docs.aws.amazon.com/app-mesh/latest/userguide/getting-started-ecs.html:
#: APPMESH_ENVOY_INGRESS_PORT 15000, APPMESH_ENVOY_EGRESS_PORT 15001).
INGRESS_PORT = 15000
EGRESS_PORT = 15001
#: Envoy's administration port in App Mesh (metrics.html: "typically 9901").
ADMIN_PORT = 9901

INGRESS = "ingress"
EGRESS = "egress"


def listener_name(direction: str, port: int, address: str = "0.0.0.0") -> str:
    """``lds_ingress_0.0.0.0_15000``."""
    return f"lds_{direction}_{address}_{port}"


def listener_stat_prefix(port: int, address: str = "0.0.0.0") -> str:
    """``listener.0.0.0.0_15000``: Envoy roots a listener's stats at its address."""
    return f"listener.{address}_{port}"


def http_stat_prefix(direction: str) -> str:
    """``http.ingress`` / ``http.egress``."""
    return f"http.{direction}"


def cluster_name(direction: str, mesh: str, node: str, protocol: str, port: int) -> str:
    """``cds_egress_<mesh>_<virtual node>_<protocol>_<port>``."""
    return f"cds_{direction}_{mesh}_{node}_{protocol}_{port}"


def aws_cluster(mesh: str) -> str:
    """``cds_egress_<mesh>_amazonaws``: the cluster that reaches AWS APIs from any mesh."""
    return f"cds_egress_{mesh}_amazonaws"


def allow_all_cluster(mesh: str) -> str:
    """``cds_egress_<mesh>_mesh-allow-all``: the pass-through cluster of an ALLOW_ALL mesh."""
    return f"cds_egress_{mesh}_mesh-allow-all"
