"""Envoy's stat names as App Mesh's examples show them, and the /stats and /clusters texts."""
from __future__ import annotations

import pytest

from mylearning.dataplane.mesh import ClusterView, HostView, Stats, render_clusters
from mylearning.dataplane.mesh import names
from mylearning.dataplane.mesh.model import PoolLimits


@pytest.mark.parametrize("made, example", [
    # https://docs.aws.amazon.com/app-mesh/latest/userguide/envoy-metrics.html
    (names.listener_name("ingress", 15000), "lds_ingress_0.0.0.0_15000"),
    (names.listener_name("egress", 15001), "lds_egress_0.0.0.0_15001"),
    (names.cluster_name("ingress", "my-mesh", "my-virtual-node", "http", 8080),
     "cds_ingress_my-mesh_my-virtual-node_http_8080"),
    (names.cluster_name("egress", "online-store", "product-details", "http", 8080),
     "cds_egress_online-store_product-details_http_8080"),
    (names.aws_cluster("howto-outlier-detection"), "cds_egress_howto-outlier-detection_amazonaws"),
    # troubleshooting-connectivity.html: cluster.cds_egress_*_mesh-allow-all
    (names.allow_all_cluster("appmesh"), "cds_egress_appmesh_mesh-allow-all"),
    (names.listener_stat_prefix(15000) + ".downstream_cx_total", "listener.0.0.0.0_15000.downstream_cx_total"),
    (names.http_stat_prefix("egress") + ".downstream_rq_2xx", "http.egress.downstream_rq_2xx"),
])
def test_names_match_the_app_mesh_examples(made, example):
    assert made == example


def test_stats_text_is_sorted_name_value_lines():
    stats = Stats()
    c = stats.cluster("cds_egress_online-store_product-details_http_8080")
    c.response(200)
    c.response(503, retried=True)
    c.inc("upstream_rq_total", 2)
    stats.http("egress").response(200)
    stats.listener(15001).inc("downstream_cx_total")
    stats.declare("cluster_manager.active_clusters")
    assert stats.render() == (
        "cluster.cds_egress_online-store_product-details_http_8080.retry.upstream_rq_503: 1\n"
        "cluster.cds_egress_online-store_product-details_http_8080.retry.upstream_rq_5xx: 1\n"
        "cluster.cds_egress_online-store_product-details_http_8080.upstream_rq_200: 1\n"
        "cluster.cds_egress_online-store_product-details_http_8080.upstream_rq_2xx: 1\n"
        "cluster.cds_egress_online-store_product-details_http_8080.upstream_rq_completed: 1\n"
        "cluster.cds_egress_online-store_product-details_http_8080.upstream_rq_total: 2\n"
        "cluster_manager.active_clusters: 0\n"
        "http.egress.downstream_rq_2xx: 1\n"
        "http.egress.downstream_rq_completed: 1\n"
        "listener.0.0.0.0_15001.downstream_cx_total: 1\n")


def test_clusters_text_has_circuit_breakers_and_per_host_lines():
    stats = Stats()
    name = "cds_egress_howto-k8s-mtls-file-based_blue_howto-k8s-mtls-file-based_http_8080"
    stats.host(name, "10.100.252.203:8080", "rq_total", 3)
    stats.host(name, "10.100.252.203:8080", "rq_success", 3)
    text = render_clusters(stats, [ClusterView(name, (HostView("10.100.252.203:8080"),
                                                      HostView("10.100.75.104:8080", "/failed_outlier_check")),
                                               PoolLimits(max_connections=10), outlier_detection=True)])
    lines = text.splitlines()
    assert f"{name}::default_priority::max_connections::10" in lines
    assert f"{name}::default_priority::max_pending_requests::2147483647" in lines
    assert f"{name}::added_via_api::true" in lines
    assert f"{name}::outlier::success_rate_average::-1" in lines
    # as in aws-app-mesh-examples walkthroughs/howto-k8s-mtls-file-based
    assert f"{name}::10.100.252.203:8080::health_flags::healthy" in lines
    assert f"{name}::10.100.75.104:8080::health_flags::/failed_outlier_check" in lines
    assert f"{name}::10.100.252.203:8080::rq_total::3" in lines
    assert f"{name}::10.100.75.104:8080::rq_total::0" in lines
    assert f"{name}::10.100.252.203:8080::weight::1" in lines
