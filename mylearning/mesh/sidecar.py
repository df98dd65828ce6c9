"""The Envoy sidecar in an ECS task definition: what puts a task on the mesh.

Three changes make a task a member of a virtual node
(https://docs.aws.amazon.com/app-mesh/latest/userguide/getting-started-ecs.html,
"Step 3: Update your services"):

* the **envoy container** (`envoy_container`): App Mesh's image, essential, running as its
  own user, told which virtual node or gateway it stands for in ``APPMESH_RESOURCE_ARN``,
  with the documented health check that passes once App Mesh has sent its configuration;
* the **proxy configuration** (`proxy_configuration`), type APPMESH: ECS redirects the
  task's inbound traffic to the app ports through Envoy's ingress port and its outbound
  traffic through Envoy's egress port, except Envoy's own and the metadata endpoints'
  (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ProxyConfiguration.html);
* the **app waits** for Envoy to be HEALTHY (``dependsOn``), so its first outbound call finds
  the proxy ready, and the **task role** allows ``appmesh:StreamAggregatedResources`` on the
  node (`stream_permission`), without which Envoy never receives its configuration
  (https://docs.aws.amazon.com/app-mesh/latest/userguide/proxy-authorization.html).

`with_envoy(spec, node_arn)` makes those changes to a task definition's arguments (from
`mylearning.taskdefs.as_spec`); `is_meshed` says whether a described revision has them. A
virtual gateway's task is Envoy alone, without a proxy configuration: it is the destination of
its traffic, not a sidecar (https://docs.aws.amazon.com/app-mesh/latest/userguide/virtual_gateways.html).
"""
from __future__ import annotations

import copy
from typing import Any, Iterable, Mapping

from mylearning.facts import envoy as facts

ENVOY = "envoy"


def proxy_configuration(app_ports: Iterable[int] = (8080,), *, container: str = ENVOY) -> dict:
    """A task definition's ``proxyConfiguration`` for App Mesh."""
    props = {"IgnoredUID": facts.UID, "ProxyIngressPort": str(facts.INGRESS_PORT),
             "ProxyEgressPort": str(facts.EGRESS_PORT), "AppPorts": ",".join(str(p) for p in app_ports),
             "EgressIgnoredIPs": ",".join(facts.EGRESS_IGNORED_IPS)}
    return {"type": facts.PROXY_TYPE, "containerName": container,
            "properties": [{"name": k, "value": v} for k, v in props.items()]}


#: The task volume mounted at the envoy container's /tmp: its root filesystem is read-only, as
#: the course hardens every container (lab 03), and /tmp is where it may write.
SCRATCH_VOLUME = "tmp"


def envoy_container(resource_arn: str, log: Mapping[str, Any], *, ports: Iterable[int] = (facts.ADMIN_PORT,),
                    image: str = facts.IMAGE, scratch_volume: str | None = SCRATCH_VOLUME) -> dict:
    """The envoy container definition for the virtual node or gateway `resource_arn`, logging
    as `log` says (an awslogs configuration: its access log is its standard output). Like
    every course container it runs as a non-root user with a read-only root filesystem
    (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/security-tasks-containers.html),
    with the task volume `scratch_volume` as its writable /tmp."""
    container = {"name": ENVOY, "image": image, "essential": True, "user": facts.UID,
                 "environment": [{"name": facts.RESOURCE_VARIABLE, "value": resource_arn}],
                 "portMappings": [{"containerPort": p, "protocol": "tcp"} for p in ports],
                 "healthCheck": {"command": ["CMD-SHELL", facts.HEALTH_COMMAND], "interval": 5, "timeout": 2,
                                 "retries": 3, "startPeriod": 10},
                 "readonlyRootFilesystem": scratch_volume is not None,
                 "logConfiguration": copy.deepcopy(dict(log))}
    if scratch_volume is not None:
        container["mountPoints"] = [{"sourceVolume": scratch_volume, "containerPath": "/tmp"}]
    return container


def scratch_volumes(spec: Mapping[str, Any], volume: str = SCRATCH_VOLUME) -> list[dict]:
    """The task definition's volumes, with `volume` among them."""
    volumes = [dict(v) for v in spec.get("volumes") or []]
    return volumes if any(v.get("name") == volume for v in volumes) else volumes + [{"name": volume}]


def with_envoy(spec: Mapping[str, Any], node_arn: str, *, app: str = "app", app_ports: Iterable[int] = (8080,),
               log_stream_prefix: str | None = None) -> dict:
    """A copy of RegisterTaskDefinition arguments with the Envoy sidecar for `node_arn`: the
    envoy container (logging where container `app` logs), the proxy configuration, and `app`
    depending on envoy HEALTHY. Running it twice gives the same result."""
    out = copy.deepcopy(dict(spec))
    containers = [c for c in out["containerDefinitions"] if c["name"] != ENVOY]
    names = [c["name"] for c in containers]
    if app not in names:
        raise KeyError(f"No container {app!r}; the containers are {', '.join(names)}")
    main = next(c for c in containers if c["name"] == app)
    main["dependsOn"] = [d for d in main.get("dependsOn", []) if d.get("containerName") != ENVOY] + \
        [{"containerName": ENVOY, "condition": "HEALTHY"}]
    log = copy.deepcopy(main.get("logConfiguration") or {})
    if log_stream_prefix and log.get("options"):
        log["options"]["awslogs-stream-prefix"] = log_stream_prefix
    out["containerDefinitions"] = containers + [envoy_container(node_arn, log)]
    out["volumes"] = scratch_volumes(out)
    out["proxyConfiguration"] = proxy_configuration(app_ports)
    return out


def envoy_of(td: Mapping[str, Any]) -> dict | None:
    """The task definition's envoy container (by its image or its name), or None."""
    for c in td.get("containerDefinitions", []):
        if "aws-appmesh-envoy" in str(c.get("image", "")) or c.get("name") == ENVOY:
            return c
    return None


def resource_of(container: Mapping[str, Any] | None) -> str | None:
    """The APPMESH_RESOURCE_ARN an envoy container stands for."""
    env = {e.get("name"): e.get("value") for e in (container or {}).get("environment", [])}
    return env.get(facts.RESOURCE_VARIABLE)


def proxy_properties(td: Mapping[str, Any]) -> dict[str, str]:
    """The proxy configuration's properties, by name ({} when there is none)."""
    config = td.get("proxyConfiguration") or {}
    return {p.get("name"): str(p.get("value")) for p in config.get("properties", [])}


def is_meshed(td: Mapping[str, Any], resource_arn: str | None = None) -> bool:
    """Whether a described task definition runs Envoy as an App Mesh sidecar (for `resource_arn`)."""
    container = envoy_of(td)
    if container is None or (td.get("proxyConfiguration") or {}).get("type") != facts.PROXY_TYPE:
        return False
    return resource_arn is None or resource_of(container) == resource_arn


def stream_permission(resource_arns: Iterable[str]) -> dict:
    """The task role policy that lets Envoy receive the configuration of these virtual nodes
    or gateways, and nothing else (proxy-authorization.html)."""
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "EnvoyConfiguration", "Effect": "Allow", "Action": [facts.STREAM_ACTION],
        "Resource": list(resource_arns)}]}


# ---------------------------------------------------------------- certificates as files
#: Where the envoy container finds certificate files, and the task volume that holds them.
CERTS_DIRECTORY, CERTS_VOLUME, CERTS_CONTAINER = "/certs", "certs", "certs"
#: The image of the container that writes them (a shell and printf are all it needs).
CERTS_IMAGE = "public.ecr.aws/docker/library/busybox:1.36"


def certificate_paths(names: Iterable[str], directory: str = CERTS_DIRECTORY) -> dict[str, str]:
    """File name -> its path in the envoy container."""
    return {name: f"{directory}/{name}" for name in names}


def with_certificate_files(spec: Mapping[str, Any], *, files: Mapping[str, str] | None = None,
                           secrets: Mapping[str, str] | None = None, log: Mapping[str, Any] | None = None,
                           directory: str = CERTS_DIRECTORY) -> dict:
    """A copy of RegisterTaskDefinition arguments whose envoy container reads certificate
    files from `directory`, as App Mesh's file-provided TLS needs: the file's path is in the
    proxy's own filesystem (https://docs.aws.amazon.com/app-mesh/latest/userguide/tls.html).

    A short-lived ``certs`` container (not essential) writes them into a task volume before
    Envoy starts (envoy depends on it with SUCCESS): `files` maps a file name to public
    material (a certificate chain, a CA bundle), passed as an environment variable; `secrets`
    maps a file name to a Secrets Manager secret ARN (a private key), which ECS injects with
    the execution role's permission, so no key is ever in the task definition
    (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html).
    Envoy mounts the volume read-only. Like every course container, the writer runs as a
    non-root user with a read-only root filesystem. Running it twice gives the same result."""
    files, secrets = dict(files or {}), dict(secrets or {})
    if not files and not secrets:
        raise ValueError("with_certificate_files needs at least one file or secret")
    both = set(files) & set(secrets)
    if both:
        raise ValueError(f"{', '.join(sorted(both))}: a file comes from files or from secrets, not both")
    out = copy.deepcopy(dict(spec))
    containers = [c for c in out["containerDefinitions"] if c["name"] != CERTS_CONTAINER]
    envoy = next((c for c in containers if c["name"] == ENVOY), None)
    if envoy is None:
        raise KeyError("No envoy container: add the sidecar first (with_envoy)")
    variables = {f"CERT_FILE_{n}": name for n, name in enumerate(sorted({**files, **secrets}))}
    script = " && ".join(f'printf "%s\\n" "${var}" > {directory}/{name}' for var, name in variables.items())
    writer: dict[str, Any] = {
        "name": CERTS_CONTAINER, "image": CERTS_IMAGE, "essential": False, "user": facts.UID,
        "readonlyRootFilesystem": True, "command": ["sh", "-c", script],
        "environment": [{"name": var, "value": files[name]} for var, name in variables.items() if name in files],
        "secrets": [{"name": var, "valueFrom": secrets[name]} for var, name in variables.items() if name in secrets],
        "mountPoints": [{"sourceVolume": CERTS_VOLUME, "containerPath": directory}]}
    log = log if log is not None else envoy.get("logConfiguration")
    if log:
        writer["logConfiguration"] = copy.deepcopy(dict(log))
    envoy["dependsOn"] = [d for d in envoy.get("dependsOn", []) if d.get("containerName") != CERTS_CONTAINER] + \
        [{"containerName": CERTS_CONTAINER, "condition": "SUCCESS"}]
    envoy["mountPoints"] = [m for m in envoy.get("mountPoints", []) if m.get("sourceVolume") != CERTS_VOLUME] + \
        [{"sourceVolume": CERTS_VOLUME, "containerPath": directory, "readOnly": True}]
    out["containerDefinitions"] = [writer] + containers
    out["volumes"] = scratch_volumes(out, CERTS_VOLUME)
    return out


def certificate_files_of(td: Mapping[str, Any]) -> dict[str, str]:
    """The file names a task definition's ``certs`` container writes, with where each comes
    from: "environment" or the secret's ARN ({} when it has none)."""
    writer = next((c for c in td.get("containerDefinitions", []) if c.get("name") == CERTS_CONTAINER), None)
    if writer is None:
        return {}
    script = " ".join(writer.get("command") or [])
    sources = {e["name"]: "environment" for e in writer.get("environment", [])}
    sources.update({s["name"]: s.get("valueFrom", "") for s in writer.get("secrets", [])})
    found = {}
    for var, source in sources.items():
        marker = f'"${var}" > '
        if marker in script:
            found[script.split(marker, 1)[1].split()[0].rsplit("/", 1)[-1]] = source
    return found


def tls_permissions(*, certificates: Iterable[str] = (), authorities: Iterable[str] = ()) -> dict:
    """The task role policy Envoy needs for ACM-based TLS (userguide/tls.html, "Enabling TLS
    for a virtual node"): ``acm:ExportCertificate`` on the listener's certificates, and
    ``acm-pca:GetCertificateAuthorityCertificate`` on the CAs a client policy trusts."""
    statements = []
    certificates, authorities = list(certificates), list(authorities)
    if certificates:
        statements.append({"Sid": "ExportListenerCertificate", "Effect": "Allow",
                           "Action": ["acm:ExportCertificate"], "Resource": certificates})
    if authorities:
        statements.append({"Sid": "ReadTrustedAuthority", "Effect": "Allow",
                           "Action": ["acm-pca:GetCertificateAuthorityCertificate"], "Resource": authorities})
    if not statements:
        raise ValueError("tls_permissions needs a certificate or an authority")
    return {"Version": "2012-10-17", "Statement": statements}


# ---------------------------------------------------------------- the proxies' metrics in CloudWatch
#: The CloudWatch agent container's name in the course's task definitions.
CLOUDWATCH_AGENT = "cwagent"


def statsd_agent_config(namespace: str, *, collection_seconds: int = 1, aggregation_seconds: int = 0) -> str:
    """The CloudWatch agent's JSON configuration: a StatsD listener on 8125 whose metrics go to
    `namespace` (CloudWatch-Agent-custom-metrics-statsd.html). The course collects every second and
    does not aggregate (0), so a canary step reads its metrics within seconds; the agent's
    defaults are 10 s and 60 s."""
    import json
    from mylearning.facts import cloudwatch_agent as cw
    return json.dumps({"metrics": {"namespace": namespace, "metrics_collected": {"statsd": {
        "service_address": cw.STATSD_SERVICE_ADDRESS, "metrics_collection_interval": collection_seconds,
        "metrics_aggregation_interval": aggregation_seconds}}}}, separators=(",", ":"))


def with_metrics(spec: Mapping[str, Any], namespace: str, *, collection_seconds: int = 1) -> dict:
    """A copy of meshed RegisterTaskDefinition arguments whose Envoy publishes the App Mesh metrics
    extension's metrics to CloudWatch `namespace`: the extension and DogStatsD turned on in the
    envoy container (envoy-config.html; metrics.html) and a CloudWatch agent container beside it
    (aws-app-mesh-examples, howto-metrics-extension-ecs). The task role also needs
    `metrics_permission`. Running it twice gives the same result."""
    from mylearning.facts import cloudwatch_agent as cw
    out = copy.deepcopy(dict(spec))
    envoy = envoy_of(out)
    if envoy is None:
        raise KeyError("The task definition has no envoy container: put it on the mesh first (with_envoy)")
    wanted = {facts.METRIC_EXTENSION_VARIABLE: "1", facts.STATSD_VARIABLE: "1"}
    envoy["environment"] = [e for e in envoy.get("environment", []) if e.get("name") not in wanted] + \
        [{"name": k, "value": v} for k, v in wanted.items()]
    log = copy.deepcopy(envoy.get("logConfiguration") or {})
    if log.get("options"):
        log["options"]["awslogs-stream-prefix"] = CLOUDWATCH_AGENT
    agent = {"name": CLOUDWATCH_AGENT, "image": cw.IMAGE, "essential": False, "user": facts.UID,
             "readonlyRootFilesystem": True,
             "environment": [{"name": cw.CONFIG_VARIABLE,
                              "value": statsd_agent_config(namespace, collection_seconds=collection_seconds)}],
             "logConfiguration": log}
    out["containerDefinitions"] = [c for c in out["containerDefinitions"] if c["name"] != CLOUDWATCH_AGENT] + [agent]
    return out


def publishes_metrics(td: Mapping[str, Any]) -> str | None:
    """The CloudWatch namespace a described task definition's proxy metrics go to, or None when
    its Envoy does not send the metrics extension's metrics to a CloudWatch agent in the task."""
    import json
    from mylearning.facts import cloudwatch_agent as cw
    envoy = envoy_of(td)
    env = {e.get("name"): e.get("value") for e in (envoy or {}).get("environment", [])}
    if env.get(facts.METRIC_EXTENSION_VARIABLE) != "1" or env.get(facts.STATSD_VARIABLE) != "1":
        return None
    for container in td.get("containerDefinitions", []):
        if "cloudwatch-agent" not in str(container.get("image", "")):
            continue
        config = {e.get("name"): e.get("value") for e in container.get("environment", [])}.get(cw.CONFIG_VARIABLE)
        try:
            metrics = json.loads(config or "").get("metrics") or {}
        except ValueError:
            return None
        if "statsd" in (metrics.get("metrics_collected") or {}):
            return metrics.get("namespace") or cw.DEFAULT_NAMESPACE
    return None


def metrics_permission() -> dict:
    """The task role policy the CloudWatch agent needs to publish (PutMetricData takes no resource
    ARN, so the resource is ``*``: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html)."""
    from mylearning.facts import cloudwatch_agent as cw
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "ProxyMetrics", "Effect": "Allow", "Action": [cw.PUT_ACTION], "Resource": "*"}]}


# ---------------------------------------------------------------- the proxies' traces in X-Ray
#: The X-Ray daemon container's name in the course's task definitions.
XRAY_DAEMON = "xray-daemon"


def xray_daemon_container(log: Mapping[str, Any] | None = None) -> dict:
    """The X-Ray daemon sidecar: AWS's image listening on UDP 2000 in the task's network
    (https://docs.aws.amazon.com/xray/latest/devguide/xray-daemon-ecs.html). It runs as Envoy's
    user, the proxy configuration's IgnoredUID, so its calls to X-Ray are not sent through the
    proxy's egress (getting-started-ecs.html); like every course container, with a read-only root."""
    from mylearning.facts import xray as tracing
    container: dict[str, Any] = {
        "name": XRAY_DAEMON, "image": tracing.DAEMON_IMAGE, "essential": False, "user": facts.UID,
        "readonlyRootFilesystem": True,
        "portMappings": [{"containerPort": tracing.DAEMON_PORT, "protocol": "udp"}]}
    if log:
        container["logConfiguration"] = copy.deepcopy(dict(log))
    return container


def with_xray(spec: Mapping[str, Any], *, sampling_rate: float | None = None) -> dict:
    """A copy of meshed RegisterTaskDefinition arguments whose Envoy sends a segment to X-Ray for
    each request it samples: ``ENABLE_ENVOY_XRAY_TRACING=1`` in the envoy container (with
    ``XRAY_SAMPLING_RATE`` when `sampling_rate` is given; App Mesh's default is 0.05:
    https://docs.aws.amazon.com/app-mesh/latest/userguide/envoy-config.html) and the X-Ray daemon
    beside it, logging where Envoy logs (https://docs.aws.amazon.com/xray/latest/devguide/xray-services-appmesh.html).
    The task role also needs `xray_permission`. Running it twice gives the same result."""
    from mylearning.facts import xray as tracing
    if sampling_rate is not None and not 0 <= sampling_rate <= 1:
        raise ValueError(f"sampling_rate must be between 0 and 1.00, not {sampling_rate}")
    out = copy.deepcopy(dict(spec))
    envoy = envoy_of(out)
    if envoy is None:
        raise KeyError("The task definition has no envoy container: put it on the mesh first (with_envoy)")
    wanted = {tracing.ENVOY_TRACING_VARIABLE: "1"}
    if sampling_rate is not None:
        wanted[tracing.ENVOY_SAMPLING_RATE_VARIABLE] = f"{sampling_rate:g}"
    names = set(wanted) | {tracing.ENVOY_SAMPLING_RATE_VARIABLE}
    envoy["environment"] = [e for e in envoy.get("environment", []) if e.get("name") not in names] + \
        [{"name": k, "value": v} for k, v in wanted.items()]
    log = copy.deepcopy(envoy.get("logConfiguration") or {})
    if log.get("options"):
        log["options"]["awslogs-stream-prefix"] = XRAY_DAEMON
    out["containerDefinitions"] = [c for c in out["containerDefinitions"] if c["name"] != XRAY_DAEMON] + \
        [xray_daemon_container(log)]
    return out


def traces_to_xray(td: Mapping[str, Any]) -> bool:
    """Whether a described task definition's Envoy sends X-Ray segments to a daemon in the task."""
    from mylearning.facts import xray as tracing
    envoy = envoy_of(td)
    env = {e.get("name"): e.get("value") for e in (envoy or {}).get("environment", [])}
    if env.get(tracing.ENVOY_TRACING_VARIABLE) != "1":
        return False
    return any(tracing.DAEMON_REPOSITORY in str(c.get("image", "")) for c in td.get("containerDefinitions", []))


def xray_permission() -> dict:
    """The task role policy the X-Ray daemon needs: the AWSXRayDaemonWriteAccess managed policy's
    actions (PutTraceSegments takes no resource ARN, so the resource is ``*``:
    https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsx-ray.html)."""
    from mylearning.facts import xray as tracing
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "ProxyTraces", "Effect": "Allow", "Action": list(tracing.DAEMON_ACTIONS), "Resource": "*"}]}
