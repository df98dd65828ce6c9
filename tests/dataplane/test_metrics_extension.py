"""The metrics extension's counters, the DogStatsD lines Envoy sends and the CloudWatch agent reads."""
from __future__ import annotations

import json

import pytest

from mylearning.dataplane.images import cloudwatch_agent as agent
from mylearning.dataplane.mesh.extension import Extension, dogstatsd_lines, enabled
from mylearning.mesh import sidecar


def test_outbound_requests_count_by_target_and_status_class_and_reset_at_each_drain():
    ext = Extension("shop", "VirtualGateway", "front")
    ext.outbound("courses.shop.local", "courses-v2", 200, 3.0)
    ext.outbound("courses.shop.local", "courses-v2", 503, 12.5)
    ext.outbound("courses.shop.local", "courses-v1", 200, 1.0)
    ext.inbound_request()
    samples = {(s.name, dict(s.dimensions).get("TargetVirtualNode")): s for s in ext.drain()}
    assert samples[("envoy.appmesh.RequestCountPerTarget", "courses-v2")].values == (2.0,)
    assert samples[("envoy.appmesh.HTTPCode_Target_5XX_Count", "courses-v2")].values == (1.0,)
    assert ("envoy.appmesh.HTTPCode_Target_5XX_Count", "courses-v1") not in samples
    assert samples[("envoy.appmesh.TargetResponseTime", "courses-v2")].values == (3.0, 12.5)
    assert dict(samples[("envoy.appmesh.RequestCount", None)].dimensions) == {"Mesh": "shop", "VirtualGateway": "front"}
    assert ext.drain() == []


def test_new_connections_are_the_growth_of_the_listeners_total():
    ext = Extension("shop", "VirtualNode", "courses")
    ext.connections(total=3, active=2)
    ext.connections(total=5, active=1)
    by_name = {s.name: s.values for s in ext.drain()}
    assert by_name["envoy.appmesh.NewConnectionCount"] == (5.0,)
    assert by_name["envoy.appmesh.ActiveConnectionCount"] == (1.0,)


def test_the_lines_envoy_sends_are_the_lines_the_agent_reads():
    ext = Extension("shop", "VirtualNode", "web")
    ext.outbound("courses.shop.local", "courses-v1", 200, 4.25)
    ext.outbound("courses.shop.local", "courses-v1", 200, 4.25)
    lines = dogstatsd_lines(ext.drain())
    assert "envoy.appmesh.RequestCountPerTarget:2|c|#Mesh:shop,VirtualNode:web,TargetVirtualService:" \
           "courses.shop.local,TargetVirtualNode:courses-v1" in lines
    collector = agent.Collector()
    collector.add("\n".join(lines).encode())
    data = {d["MetricName"]: d for d in collector.take(resolution=1)}
    count = data["envoy.appmesh.RequestCountPerTarget"]
    assert count["Value"] == 2 and {"Name": "metric_type", "Value": "counter"} in count["Dimensions"]
    assert {"Name": "TargetVirtualNode", "Value": "courses-v1"} in count["Dimensions"]
    timing = data["envoy.appmesh.TargetResponseTime"]
    assert timing["Values"] == [4.2] or timing["Values"] == [4.3]  # one distinct value, counted twice
    assert timing["Counts"] == [2.0] and timing["Unit"] == "Milliseconds"
    assert collector.take(resolution=1) == []


@pytest.mark.parametrize("line, parsed", [
    ("a.b:3|c", ("a.b", "counter", 3.0, ())),
    ("a.b:3|c|@0.5", ("a.b", "counter", 6.0, ())),
    ("lat:12.5|ms|#k:v,x:y", ("lat", "timing", 12.5, (("k", "v"), ("x", "y")))),
    ("g:7|g", ("g", "gauge", 7.0, ())),
    ("nonsense", None), ("a:x|c", None), ("a:1|zz", None)])
def test_statsd_lines_parse_as_the_agent_reads_them(line, parsed):
    assert agent.parse_line(line) == parsed


def test_the_agent_needs_a_json_configuration():
    with pytest.raises(agent.ConfigError, match="CW_CONFIG_CONTENT"):
        agent.read_config(None)
    with pytest.raises(agent.ConfigError, match="not valid JSON"):
        agent.read_config("{nope")
    settings = agent.read_config(json.dumps({"metrics": {"metrics_collected": {"statsd": {}}}}))
    assert settings == {"namespace": "CWAgent", "statsd": {"port": 8125, "collection": 10.0, "aggregation": 60.0}}


def test_with_metrics_turns_the_extension_on_and_adds_the_agent_once():
    spec = {"family": "web", "containerDefinitions": [{"name": "app", "image": "x", "logConfiguration": {
        "logDriver": "awslogs", "options": {"awslogs-group": "/g", "awslogs-region": "us-east-1",
                                            "awslogs-stream-prefix": "app"}}}]}
    meshed = sidecar.with_envoy(spec, "arn:aws:appmesh:us-east-1:123456789012:mesh/m/virtualNode/web")
    assert sidecar.publishes_metrics(meshed) is None
    once = sidecar.with_metrics(meshed, "mylearning/mesh")
    twice = sidecar.with_metrics(once, "mylearning/mesh")
    assert once == twice
    assert [c["name"] for c in once["containerDefinitions"]].count(sidecar.CLOUDWATCH_AGENT) == 1
    assert sidecar.publishes_metrics(once) == "mylearning/mesh"
    assert enabled({e["name"]: e["value"] for e in sidecar.envoy_of(once)["environment"]})
    with pytest.raises(KeyError, match="no envoy container"):
        sidecar.with_metrics(spec, "ns")
