"""App Mesh's Envoy in an ECS task: its image, user, ports, permission and names. No I/O.

What the App Mesh user guide states about running Envoy beside an application, once, for the
course's task definitions (`mylearning.mesh.sidecar`) and for reading a proxy's admin
interface (`mylearning.mesh.admin`). The data plane's sidecar stand-in follows the same pages
(`mylearning.dataplane.mesh.names` states the names it gives).
"""
from __future__ import annotations

#: The Envoy image the course runs: App Mesh's image from its public ECR repository
#: (https://docs.aws.amazon.com/app-mesh/latest/userguide/envoy.html, "Envoy image variants").
IMAGE = "public.ecr.aws/appmesh/aws-appmesh-envoy:v1.29.6.0-prod"
#: Envoy's user in the App Mesh examples, given to the proxy configuration as IgnoredUID so
#: that the proxy's own outbound traffic is not redirected back to it
#: (https://docs.aws.amazon.com/app-mesh/latest/userguide/getting-started-ecs.html).
UID = "1337"
#: Where the proxy configuration sends inbound and outbound traffic (getting-started-ecs.html:
#: ProxyIngressPort 15000, ProxyEgressPort 15001), and Envoy's administration port
#: (https://docs.aws.amazon.com/app-mesh/latest/userguide/envoy-config.html, ENVOY_ADMIN_ACCESS_PORT,
#: default 9901).
INGRESS_PORT = 15000
EGRESS_PORT = 15001
ADMIN_PORT = 9901
#: The task metadata endpoint and the instance metadata service, which must not be sent
#: through the proxy (getting-started-ecs.html, EgressIgnoredIPs).
EGRESS_IGNORED_IPS = ("169.254.170.2", "169.254.169.254")
#: The container health check the App Mesh guide gives Envoy: its state is LIVE once App
#: Mesh has sent it its configuration (getting-started-ecs.html).
HEALTH_COMMAND = "curl -s http://localhost:9901/server_info | grep state | grep -q LIVE"
#: The environment variable naming the virtual node or gateway the proxy stands for (envoy-config.html).
RESOURCE_VARIABLE = "APPMESH_RESOURCE_ARN"
#: What the task role must allow, on that resource, for Envoy to receive its configuration
#: (https://docs.aws.amazon.com/app-mesh/latest/userguide/proxy-authorization.html).
STREAM_ACTION = "appmesh:StreamAggregatedResources"
#: The type of a task definition's proxy configuration
#: (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ProxyConfiguration.html).
PROXY_TYPE = "APPMESH"


def cluster_name(direction: str, mesh: str, node: str, protocol: str, port: int) -> str:
    """The Envoy cluster App Mesh makes for a virtual node's listener:
    ``cds_egress_<mesh>_<node>_<protocol>_<port>`` in a caller's proxy, ``cds_ingress_...`` for
    the local app (https://docs.aws.amazon.com/app-mesh/latest/userguide/envoy-metrics.html,
    "Cluster names")."""
    return f"cds_{direction}_{mesh}_{node}_{protocol}_{port}"


def listener_stat_prefix(port: int) -> str:
    """Where Envoy roots a listener's stats: ``listener.0.0.0.0_15001`` (envoy-metrics.html)."""
    return f"listener.0.0.0.0_{port}"


#: The App Mesh metrics extension: with ``APPMESH_METRIC_EXTENSION_VERSION=1`` the proxy emits a
#: small set of metrics named after the mesh's own resources, prefixed ``envoy.appmesh.`` when
#: exported (https://docs.aws.amazon.com/app-mesh/latest/userguide/metrics.html, "Metrics
#: extension for App Mesh"; aws-app-mesh-examples, walkthroughs/howto-metrics-extension-ecs).
METRIC_EXTENSION_VARIABLE = "APPMESH_METRIC_EXTENSION_VERSION"
EXTENSION_PREFIX = "envoy.appmesh."
#: Inbound metrics, with dimensions Mesh and VirtualNode (or VirtualGateway) (metrics.html).
INBOUND_METRICS = ("ActiveConnectionCount", "NewConnectionCount", "ProcessedBytes", "RequestCount",
                   "GrpcRequestCount")
#: Outbound metrics, with dimensions Mesh, VirtualNode (or VirtualGateway), TargetVirtualService,
#: TargetVirtualNode (metrics.html). TargetResponseTime is a timing in milliseconds.
OUTBOUND_METRICS = ("TargetProcessedBytes", "HTTPCode_Target_2XX_Count", "HTTPCode_Target_3XX_Count",
                    "HTTPCode_Target_4XX_Count", "HTTPCode_Target_5XX_Count", "RequestCountPerTarget",
                    "TargetResponseTime")
#: DogStatsD export (https://docs.aws.amazon.com/app-mesh/latest/userguide/envoy-config.html,
#: "Stats variables"): ``ENABLE_ENVOY_DOG_STATSD=1`` sends the proxy's stats to
#: ``STATSD_ADDRESS:STATSD_PORT`` (default 127.0.0.1:8125) over UDP.
STATSD_VARIABLE = "ENABLE_ENVOY_DOG_STATSD"
STATSD_ADDRESS = "127.0.0.1"
STATSD_PORT = 8125
#: Envoy flushes its counters and gauges to its stats sinks every 5 s by default
#: (https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/bootstrap/v3/bootstrap.proto,
#: ``stats_flush_interval``).
STATS_FLUSH_SECONDS = 5.0
