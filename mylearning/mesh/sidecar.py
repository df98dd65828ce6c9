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
