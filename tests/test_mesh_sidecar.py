"""The Envoy sidecar of a task definition, reading a proxy's stats and access log, and the knobs
command: no AWS needed."""
from __future__ import annotations

import copy

import pytest

from mylearning import knobs, taskdefs
from mylearning.dataplane.images import catalogue
from mylearning.facts import envoy as facts
from mylearning.facts import iam
from mylearning.mesh import admin, sidecar

NODE = "arn:aws:appmesh:us-east-1:123456789012:mesh/ml-t-mesh/virtualNode/courses-api-v1"


def _spec() -> dict:
    log = taskdefs.awslogs("/ecs/ml-t/courses-api", "us-east-1", "courses-api")
    app = taskdefs.container("app", "example/app:1", log=log, port=8080,
                             depends_on={"init": "SUCCESS"})
    return taskdefs.fargate_task("ml-t-courses-api", [app], cpu=512, memory=1024,
                                 execution_role_arn="arn:aws:iam::1:role/exec", task_role_arn="arn:aws:iam::1:role/task")


def test_with_envoy_adds_the_sidecar_the_proxy_configuration_and_the_dependency():
    spec = _spec()
    before = copy.deepcopy(spec)
    meshed = sidecar.with_envoy(spec, NODE)
    assert spec == before  # a copy: the running revision's arguments are not changed
    envoy = sidecar.envoy_of(meshed)
    assert envoy["image"] == facts.IMAGE and envoy["user"] == "1337" and envoy["essential"] is True
    assert sidecar.resource_of(envoy) == NODE
    assert envoy["healthCheck"]["command"] == ["CMD-SHELL", facts.HEALTH_COMMAND]
    assert envoy["logConfiguration"] == spec["containerDefinitions"][0]["logConfiguration"]
    # Hardened like every course container: read-only root, a task volume as its /tmp.
    assert envoy["readonlyRootFilesystem"] is True
    assert envoy["mountPoints"] == [{"sourceVolume": "tmp", "containerPath": "/tmp"}]
    assert {"name": "tmp"} in meshed["volumes"]
    assert sidecar.proxy_properties(meshed) == {
        "IgnoredUID": "1337", "ProxyIngressPort": "15000", "ProxyEgressPort": "15001", "AppPorts": "8080",
        "EgressIgnoredIPs": "169.254.170.2,169.254.169.254"}
    assert meshed["proxyConfiguration"]["containerName"] == "envoy"
    app = meshed["containerDefinitions"][0]
    assert app["dependsOn"] == [{"containerName": "init", "condition": "SUCCESS"},
                                {"containerName": "envoy", "condition": "HEALTHY"}]
    assert sidecar.is_meshed(meshed, NODE) and not sidecar.is_meshed(meshed, NODE + "-other")
    assert not sidecar.is_meshed(spec)
    # Twice gives the same arguments: a pipeline may start from a revision that is meshed already.
    assert sidecar.with_envoy(meshed, NODE) == meshed


def test_stream_permission_names_only_the_resources_given():
    policy = sidecar.stream_permission([NODE])
    (statement,) = policy["Statement"]
    assert statement["Action"] == ["appmesh:StreamAggregatedResources"] and statement["Resource"] == [NODE]


def test_stats_text_and_cluster_names():
    text = ("cluster.cds_egress_m_courses-api-v1_http_8080.upstream_rq_2xx: 7\n"
            "listener.0.0.0.0_15001.no_filter_chain_match: 2\nserver.version_text: 1.29.6\n")
    stats = admin.parse_stats(text)
    assert stats == {"cluster.cds_egress_m_courses-api-v1_http_8080.upstream_rq_2xx": 7,
                     "listener.0.0.0.0_15001.no_filter_chain_match": 2}
    assert admin.egress_cluster("m", "courses-api-v1") == "cds_egress_m_courses-api-v1_http_8080"
    assert admin.egress_listener_stat("no_filter_chain_match") in stats
    assert admin.total([stats, None, {}], "listener.0.0.0.0_15001.no_filter_chain_match") == 2


def test_the_access_log_gives_the_callers_address():
    """The lines the sidecar writes (its format is Envoy's default) are read back field by field."""
    from mylearning.dataplane.images.envoy import ACCESS_LOG
    health = ACCESS_LOG.format(start="2026-01-01T00:00:00.000Z", method="GET", path="/health", protocol="HTTP/1.1",
                               code=200, flags="-", received=0, sent=12, duration=3, upstream_time="-",
                               forwarded="-", agent="ELB-HealthChecker/2.0", request_id="-",
                               authority="10.0.1.5:8080", upstream="10.0.1.5:8080")
    mine = ACCESS_LOG.format(start="2026-01-01T00:00:01.000Z", method="GET", path="/api/courses?x=1",
                             protocol="HTTP/1.1", code=200, flags="-", received=0, sent=99, duration=4,
                             upstream_time="3", forwarded="203.0.113.10, 10.0.0.9", agent="curl/8",
                             request_id="abc", authority="alb", upstream="10.0.1.5:8080")
    lines = ["[2026-01-01 00:00:00.000][1][info][main] starting Envoy", mine.rstrip("\n"), health.rstrip("\n")]
    entries = admin.access_entries(lines)
    assert [e["path"] for e in entries] == ["/api/courses?x=1", "/health"]
    assert admin.caller_address(lines) == "203.0.113.10"
    assert admin.caller_address(lines[:1]) is None


def test_knobs_command_posts_to_every_address_and_stops_at_the_first_refusal():
    argv = knobs.command(["10.0.1.5", "10.0.2.6"], {"ERROR_RATE": 0.3})
    assert argv[:2] == ["sh", "-c"]
    calls = argv[2].split(" && ")
    assert len(calls) == 2 and all("-f -X POST" in c and "/_mylearning/knobs" in c for c in calls)
    assert "'{\"ERROR_RATE\": 0.3}'" in calls[0] and "http://10.0.2.6:8080" in calls[1]
    assert knobs.command([], {"ERROR_RATE": 0}) == ["sh", "-c", "true"]


def test_certificate_files_come_from_a_certs_container_with_keys_from_secrets():
    meshed = sidecar.with_envoy(_spec(), NODE)
    secret = "arn:aws:secretsmanager:us-east-1:1:secret:ml-t/mesh/enrollment/client-certificate-AbCdEf"
    spec = sidecar.with_certificate_files(meshed, files={"ca.pem": "-----BEGIN CERTIFICATE-----\nCA\n"},
                                          secrets={"client.pem": f"{secret}:certificate_chain::",
                                                   "client-key.pem": f"{secret}:private_key::"})
    writer, envoy = spec["containerDefinitions"][0], sidecar.envoy_of(spec)
    assert writer["name"] == "certs" and writer["essential"] is False and writer["readonlyRootFilesystem"] is True
    assert writer["user"] == facts.UID and writer["image"].endswith("busybox:1.36")
    assert {s["valueFrom"] for s in writer["secrets"]} == {f"{secret}:certificate_chain::", f"{secret}:private_key::"}
    assert [e["value"] for e in writer["environment"]] == ["-----BEGIN CERTIFICATE-----\nCA\n"]  # public only
    assert "PRIVATE" not in str(spec)
    assert {"containerName": "certs", "condition": "SUCCESS"} in envoy["dependsOn"]
    assert {"sourceVolume": "certs", "containerPath": "/certs", "readOnly": True} in envoy["mountPoints"]
    assert {"name": "certs"} in spec["volumes"]
    assert sidecar.certificate_files_of(spec) == {"ca.pem": "environment", "client.pem": f"{secret}:certificate_chain::",
                                                  "client-key.pem": f"{secret}:private_key::"}
    assert sidecar.certificate_paths(["ca.pem"]) == {"ca.pem": "/certs/ca.pem"}
    again = sidecar.with_certificate_files(spec, files={"ca.pem": "X"})
    assert [c["name"] for c in again["containerDefinitions"]].count("certs") == 1
    assert sum(m.get("sourceVolume") == "certs" for m in sidecar.envoy_of(again)["mountPoints"]) == 1
    assert sidecar.certificate_files_of(again) == {"ca.pem": "environment"}
    assert sidecar.certificate_files_of(meshed) == {}
    import pytest
    with pytest.raises(ValueError):
        sidecar.with_certificate_files(meshed)
    with pytest.raises(ValueError):
        sidecar.with_certificate_files(meshed, files={"a.pem": "x"}, secrets={"a.pem": secret})
    with pytest.raises(KeyError):
        sidecar.with_certificate_files(_spec(), files={"a.pem": "x"})


def test_tls_permissions_export_the_listeners_certificates_and_read_the_trusted_cas():
    cert, ca = "arn:aws:acm:us-east-1:1:certificate/c", "arn:aws:acm-pca:us-east-1:1:certificate-authority/a"
    policy = sidecar.tls_permissions(certificates=[cert], authorities=[ca])
    assert [(s["Action"], s["Resource"]) for s in policy["Statement"]] == [
        (["acm:ExportCertificate"], [cert]), (["acm-pca:GetCertificateAuthorityCertificate"], [ca])]
    assert [s["Action"] for s in sidecar.tls_permissions(authorities=[ca])["Statement"]] == [
        ["acm-pca:GetCertificateAuthorityCertificate"]]
    import pytest
    with pytest.raises(ValueError):
        sidecar.tls_permissions()


def test_served_serials_are_the_acm_certificates_of_the_proxys_contexts():
    contexts = [{"ca_cert": [{"path": "/certs/ca.pem", "serial_number": "1"}],
                 "cert_chain": [{"path": "<inline>", "serial_number": "ab"}]},
                {"cert_chain": [{"path": "/certs/client.pem", "serial_number": "cd"}]}]
    assert admin.served_serials(contexts) == ["ab"] and admin.served_serials(None) == []


def test_with_xray_adds_the_daemon_and_turns_envoys_tracer_on():
    meshed = sidecar.with_envoy(_spec(), NODE)
    assert not sidecar.traces_to_xray(meshed)
    traced = sidecar.with_xray(meshed, sampling_rate=1.0)
    envoy_env = {e["name"]: e["value"] for e in sidecar.envoy_of(traced)["environment"]}
    assert envoy_env["ENABLE_ENVOY_XRAY_TRACING"] == "1" and envoy_env["XRAY_SAMPLING_RATE"] == "1"
    daemon = next(c for c in traced["containerDefinitions"] if c["name"] == sidecar.XRAY_DAEMON)
    assert catalogue.resolve(daemon["image"]).program.endswith("xray_daemon:main")  # an image that pulls
    assert daemon["portMappings"] == [{"containerPort": 2000, "protocol": "udp"}]
    # Envoy's user, which the proxy configuration ignores: its calls to X-Ray are not intercepted.
    assert daemon["user"] == sidecar.proxy_properties(traced)["IgnoredUID"] and daemon["essential"] is False
    assert daemon["logConfiguration"]["options"]["awslogs-stream-prefix"] == "xray-daemon"
    assert sidecar.traces_to_xray(traced)
    # Twice gives the same arguments; without a rate, App Mesh's default applies (no variable).
    assert sidecar.with_xray(traced, sampling_rate=1.0) == traced
    default = sidecar.with_xray(traced)
    assert "XRAY_SAMPLING_RATE" not in {e["name"] for e in sidecar.envoy_of(default)["environment"]}
    with pytest.raises(ValueError):
        sidecar.with_xray(meshed, sampling_rate=1.5)
    with pytest.raises(KeyError):
        sidecar.with_xray(_spec())


def test_xray_permission_is_the_daemon_write_access_actions_on_any_resource():
    policy = sidecar.xray_permission()
    (statement,) = policy["Statement"]
    assert "xray:PutTraceSegments" in statement["Action"] and statement["Resource"] == "*"
    assert iam.decide([("p", policy)], "xray:PutTraceSegments", "*") == iam.ALLOW
    assert iam.decide([("p", policy)], "xray:DeleteSamplingRule", "*") != iam.ALLOW
