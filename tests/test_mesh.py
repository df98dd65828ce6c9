"""mesh: App Mesh specs and their checks."""
from __future__ import annotations

import pytest

from mylearning import mesh
from mylearning.mesh import MeshSpecError

CERT = ("/keys/courses-api_cert_chain.pem", "/keys/courses-api_key.pem")
CA = "/keys/ca_cert.pem"


# ---------------------------------------------------------------- specs and their checks

def test_specs_are_the_api_json():
    assert mesh.mesh_spec() == {"egressFilter": {"type": "DROP_ALL"}}
    assert mesh.route_spec({"a": 90, "b": 10}, prefix="/api", retry_policy=mesh.retry_policy(
        3, 0.5, http_events=["server-error"], tcp_events=None), priority=5) == {
        "httpRoute": {"action": {"weightedTargets": [{"virtualNode": "a", "weight": 90},
                                                     {"virtualNode": "b", "weight": 10}]},
                      "match": {"prefix": "/api"},
                      "retryPolicy": {"maxRetries": 3, "perRetryTimeout": {"unit": "ms", "value": 500},
                                      "httpRetryEvents": ["server-error"]}},
        "priority": 5}
    assert mesh.route_spec({"a": 1}, protocol="tcp", timeout=60) == {
        "tcpRoute": {"action": {"weightedTargets": [{"virtualNode": "a", "weight": 1}]},
                     "timeout": {"idle": {"unit": "s", "value": 60}}}}
    assert mesh.virtual_node_spec(port=None, backends={"a.local": mesh.client_policy("arn:aws:acm-pca:x")},
                                  access_log=None) == {
        "backends": [{"virtualService": {"virtualServiceName": "a.local", "clientPolicy": {"tls": {
            "validation": {"trust": {"acm": {"certificateAuthorityArns": ["arn:aws:acm-pca:x"]}}}}}}}]}
    assert mesh.listener_tls("arn:aws:acm:us-east-1:1:certificate/c", mode="PERMISSIVE") == {
        "mode": "PERMISSIVE", "certificate": {"acm": {"certificateArn": "arn:aws:acm:us-east-1:1:certificate/c"}}}
    assert mesh.client_policy(CA, certificate={"sds": {"secretName": "spiffe://x"}}, subject_alternative_names=[
        "courses-api.ml-a.internal"], ports=[8080], enforce=True) == {"tls": {
            "validation": {"trust": {"file": {"certificateChain": CA}},
                           "subjectAlternativeNames": {"match": {"exact": ["courses-api.ml-a.internal"]}}},
            "certificate": {"sds": {"secretName": "spiffe://x"}}, "ports": [8080], "enforce": True}}
    assert mesh.virtual_service_spec() == {}
    assert mesh.gateway_route_spec("s.local", prefix="/api/", rewrite_prefix="/v2/") == {"httpRoute": {
        "match": {"prefix": "/api/"},
        "action": {"target": {"virtualService": {"virtualServiceName": "s.local"}},
                   "rewrite": {"prefix": {"value": "/v2/"}}}}}
    assert mesh.health_check(protocol="tcp") == {"protocol": "tcp", "intervalMillis": 5000, "timeoutMillis": 2000,
                                                 "healthyThreshold": 2, "unhealthyThreshold": 2}


@pytest.mark.parametrize("call, message", [
    (lambda: mesh.weighted_targets({"a": 50.0}), "whole number"),
    (lambda: mesh.weighted_targets({"a": True}), "whole number"),
    (lambda: mesh.weighted_targets({"a": "50"}), "whole number"),
    (lambda: mesh.weighted_targets({"a": -1}), "from 0 to 100"),
    (lambda: mesh.weighted_targets({"a": 101}), "from 0 to 100"),
    (lambda: mesh.weighted_targets({"a": 60, "b": 41}), "add up to 101"),
    (lambda: mesh.weighted_targets({}), "1 to 10 weighted targets"),
    (lambda: mesh.weighted_targets({f"n{i}": 1 for i in range(11)}), "1 to 10 weighted targets"),
    (lambda: mesh.virtual_router_spec(protocol="udp"), "'udp' is not one App Mesh knows"),
    (lambda: mesh.virtual_gateway_spec(protocol="tcp"), "API_VirtualGatewayPortMapping"),
    (lambda: mesh.virtual_router_spec(port=0), "from 1 to 65535"),
    (lambda: mesh.mesh_spec("DENY"), "API_EgressFilter"),
    (lambda: mesh.virtual_node_spec(), "needs service discovery"),
    (lambda: mesh.virtual_node_spec(port=None, tls=mesh.listener_tls(CERT)), "give the node a port"),
    (lambda: mesh.virtual_node_spec(discovery="a.local", backends="b.local"), "list of virtual service names"),
    (lambda: mesh.listener_tls(CERT, mode="ON"), "STRICT, PERMISSIVE, DISABLED"),
    (lambda: mesh.listener_tls("not-a-certificate"), "ACM certificate ARN"),
    (lambda: mesh.listener_tls(CERT, trust="arn:aws:acm-pca:x"), "files or SDS"),
    (lambda: mesh.client_policy(CA, certificate="arn:aws:acm:x"), "mutual TLS takes its material from files or SDS"),
    (lambda: mesh.client_policy(["arn:aws:acm-pca:a"] * 4), "1 to 3"),
    (lambda: mesh.retry_policy(http_events=["5xx"]), "'5xx' is not one App Mesh knows"),
    (lambda: mesh.retry_policy(http_events=None, tcp_events=None), "at least one retry event"),
    (lambda: mesh.retry_policy(-1), "0 or more"),
    (lambda: mesh.health_check(interval_ms=1000), "intervalMillis must be from 5000 to 300000"),
    (lambda: mesh.health_check(healthy_threshold=1), "from 2 to 10"),
    (lambda: mesh.route_spec({"a": 1}, prefix="api"), "must always start with /"),
    (lambda: mesh.route_spec({"a": 1}, priority=1001), "from 0 to 1000"),
    (lambda: mesh.route_spec({"a": 1}, headers={f"h{i}": "x" for i in range(11)}), "1 to 10 headers"),
    (lambda: mesh.route_spec({"a": 1}, headers={"x": {"glob": "*"}}), "one match method"),
    (lambda: mesh.route_spec({"a": 1}, protocol="tcp", headers={"x": "y"}), "matches only a port"),
    (lambda: mesh.route_spec({"a": 1}, timeout=-1), "seconds"),
    (lambda: mesh.virtual_service_spec(provider_node="a", provider_router="b"), "not both"),
    (lambda: mesh.gateway_route_spec("s", prefix="/aws-appmesh/x"), "reserved"),
    (lambda: mesh.gateway_route_spec("s", path="/x", keep_prefix=True), "goes with a prefix match"),
])
def test_bad_arguments_are_refused_with_the_rule(call, message):
    with pytest.raises(MeshSpecError, match=message) as refused:
        call()
    assert "https://docs.aws.amazon.com/app-mesh/latest/" in str(refused.value), "every refusal cites its page"
