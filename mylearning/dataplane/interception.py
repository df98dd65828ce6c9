"""A task's App Mesh traffic interception (`proxyConfiguration`), without iptables.

On AWS, a task definition's ``proxyConfiguration`` (type ``APPMESH``) is handed to the
App Mesh CNI plugin, which writes iptables rules into the task's network namespace before
any container starts
(https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ProxyConfiguration.html,
https://docs.aws.amazon.com/app-mesh/latest/userguide/getting-started-ecs.html):

* **Inbound**: TCP traffic arriving from outside the task for one of ``AppPorts`` is
  redirected to ``ProxyIngressPort``, where the proxy (Envoy) listens; the proxy then
  talks to the application on ``localhost:<app port>``.
* **Outbound**: TCP traffic leaving the task is redirected to ``ProxyEgressPort``,
  except traffic of the proxy's own user (``IgnoredUID``) or group (``IgnoredGID``), so
  that the proxy's own connections are not looped back to itself, and except traffic to
  ``EgressIgnoredIPs`` (typically the task metadata and credentials endpoints
  169.254.170.2 and 169.254.169.254) and ``EgressIgnoredPorts``.

The data plane has no network namespace and no iptables, so it puts the same rules where
the connections are made:

* Inbound: whoever opens a connection to a task from outside it -- the edge proxy (for the
  learner's kernel and for other tasks), an ALB forwarding a request or health-checking a
  target -- asks the task agent for the port that really answers (`inbound_port`), which
  for an intercepted app port is the proxy's ingress port. As on AWS, if the proxy is not
  listening yet, the connection is refused: the redirect exists from the moment the
  task's network does.
* Outbound: a container's HTTP client (``TaskHTTP``) sends what leaves the task to the
  proxy's egress listener as an HTTP proxy request (absolute-form, RFC 9112 §3.2.2), which
  carries the original destination the way ``SO_ORIGINAL_DST`` does for Envoy's
  ``original_dst`` listener filter; `egress_proxy` says, per container, where that is.
  The proxy's own container (its ``user`` is ``IgnoredUID``) keeps the data plane's edge,
  as do requests to ignored addresses and ports.
* Traffic inside the task (``localhost``, the task's own address) is never redirected: the
  CNI plugin's rules leave loopback alone, and the proxy reaches the application there.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any, Optional

#: The one proxyConfiguration type ECS knows (API_ProxyConfiguration.html, ``type``).
APPMESH = "APPMESH"


class InterceptionError(ValueError):
    """A proxyConfiguration the CNI plugin could not apply."""


def _ports(text: str, name: str) -> tuple[int, ...]:
    ports = []
    for part in str(text).split(","):
        part = part.strip()
        if not part:
            continue
        try:
            port = int(part)
        except ValueError:
            raise InterceptionError(f"{name}: {part!r} is not a port number") from None
        if not 0 < port < 65536:
            raise InterceptionError(f"{name}: {port} is not a port number (1-65535)")
        ports.append(port)
    return tuple(ports)


def _networks(text: str) -> tuple[Any, ...]:
    networks = []
    for part in str(text).split(","):
        part = part.strip()
        if not part:
            continue
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise InterceptionError(f"EgressIgnoredIPs: {part!r} is not an IP address or CIDR block") from None
    return tuple(networks)


@dataclass(frozen=True)
class Interception:
    """One task's redirect rules, read from its task definition's proxyConfiguration."""

    container: str
    app_ports: tuple[int, ...]
    ingress_port: int
    egress_port: int
    ignored_uid: Optional[str] = None
    ignored_gid: Optional[str] = None
    egress_ignored_ips: tuple[Any, ...] = ()
    egress_ignored_ports: tuple[int, ...] = ()

    @classmethod
    def from_definition(cls, definition: dict) -> Optional["Interception"]:
        """The task definition's interception, or None when it has no APPMESH proxy."""
        config = definition.get("proxyConfiguration") or {}
        if not config or (config.get("type") or APPMESH) != APPMESH:
            return None
        props = {p.get("name"): str(p.get("value", "")) for p in config.get("properties") or []}
        container = config.get("containerName") or ""
        ingress = _ports(props.get("ProxyIngressPort", ""), "ProxyIngressPort")
        egress = _ports(props.get("ProxyEgressPort", ""), "ProxyEgressPort")
        if len(ingress) != 1 or len(egress) != 1:
            raise InterceptionError("ProxyIngressPort and ProxyEgressPort each need one port")
        return cls(container=container, app_ports=_ports(props.get("AppPorts", ""), "AppPorts"),
                   ingress_port=ingress[0], egress_port=egress[0],
                   ignored_uid=props.get("IgnoredUID") or None, ignored_gid=props.get("IgnoredGID") or None,
                   egress_ignored_ips=_networks(props.get("EgressIgnoredIPs", "")),
                   egress_ignored_ports=_ports(props.get("EgressIgnoredPorts", ""), "EgressIgnoredPorts"))

    def inbound_port(self, port: int) -> int:
        """The port that answers a connection from outside the task to `port`."""
        return self.ingress_port if port in self.app_ports else port

    def ignores_user(self, user: Optional[str]) -> bool:
        """True when a container running as `user` ("uid", "uid:gid", as in a container
        definition's ``user``) is the proxy's own, whose traffic is not redirected."""
        if not user:
            return False
        uid, _, gid = str(user).partition(":")
        return (self.ignored_uid is not None and uid == self.ignored_uid) or \
            (self.ignored_gid is not None and gid == self.ignored_gid)

    def ignores_destination(self, host: str, port: int) -> bool:
        """True for a destination whose traffic leaves the task without the proxy."""
        if port in self.egress_ignored_ports:
            return True
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self.egress_ignored_ips)

    def egress_proxy(self, task_address: str) -> str:
        """The proxy's egress listener, as an HTTP proxy URL on the task's address."""
        return f"http://{task_address}:{self.egress_port}"

    def to_dict(self) -> dict:
        """What a container's runtime needs to route its own requests (JSON-able)."""
        return {"egress_port": self.egress_port,
                "egress_ignored_ips": [str(n) for n in self.egress_ignored_ips],
                "egress_ignored_ports": list(self.egress_ignored_ports)}
