"""What a program sees of its container: identity, environment, logs, filesystem, network.

The programs never touch the host directly; they go through this object, so the
container's rules hold for them as Docker's do for a real process: a read-only root
refuses writes outside its mounts, `localhost` is the task's own address (containers of
an awsvpc task share a network namespace), and everything else is reached through the
data plane's edge proxy, the way a task reaches the world through its ENI.
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-networking-awsvpc.html
"""
from __future__ import annotations

import errno
import ipaddress
import json
import os
import posixpath
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Mapping
from urllib.parse import urlsplit, urlunsplit

import aiohttp

LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "WARN": 30, "ERROR": 40, "CRITICAL": 50}
_LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1", "[::1]"}


def _timestamp() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"


@dataclass
class Container:
    """The running container, handed to the image's program as its only argument."""

    name: str
    address: str
    ports: list[int]
    env: Mapping[str, str]
    argv: list[str] = field(default_factory=list)
    root: str = "/"
    mounts: Mapping[str, str] = field(default_factory=dict)
    readonly_root: bool = False
    user: str | None = None
    proxy: str | None = None
    #: Where the App Mesh proxy's egress listener takes this container's outbound requests
    #: (mylearning.dataplane.interception): ``egress_port``, ``egress_ignored_ips``,
    #: ``egress_ignored_ports``. None: no interception, everything leaves by `proxy`.
    egress: Mapping[str, Any] | None = None
    task_arn: str = ""
    task_id: str = ""
    image: str = ""

    # -- logs -----------------------------------------------------------------
    def log(self, message: str, level: str = "INFO", **fields: Any) -> None:
        """Write one JSON object per line on stdout: what awslogs ships and Logs Insights parses.

        https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_AnalyzeLogData-discoverable-fields.html
        """
        level = level.upper()
        threshold = LEVELS.get(self.env.get("LOG_LEVEL", "INFO").upper(), 20)
        if LEVELS.get(level, 20) < threshold:
            return
        record = {"time": _timestamp(), "level": level, "message": message, **fields}
        sys.stdout.write(json.dumps(record, default=str) + "\n")
        sys.stdout.flush()

    # -- filesystem -------------------------------------------------------------
    def _resolve(self, path: str) -> tuple[str, bool]:
        """Host path for a container path, and whether it lies on the root filesystem."""
        inside = posixpath.normpath(posixpath.join("/", path))
        mounts = {posixpath.normpath(posixpath.join("/", target)): host for target, host in self.mounts.items()}
        for target in sorted(mounts, key=len, reverse=True):  # the deepest mount point wins
            if inside == target or inside.startswith(target.rstrip("/") + "/"):
                rest = posixpath.relpath(inside, target)
                return (mounts[target] if rest == "." else os.path.join(mounts[target], rest)), False
        return os.path.join(self.root, inside.lstrip("/")), True

    def host_path(self, path: str) -> str:
        """Where a container path is on the host (to read it; writes go through write_file)."""
        return self._resolve(path)[0]

    def write_file(self, path: str, data: bytes | str) -> str:
        """Write a file as the container would, honouring readonlyRootFilesystem and mounts.

        With a read-only root, only mounted volumes are writable, and a write elsewhere
        fails with EROFS, exactly the error a real app logs.
        https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html#ECS-Type-ContainerDefinition-readonlyRootFilesystem
        """
        host, on_root = self._resolve(path)
        if on_root and self.readonly_root:
            raise OSError(errno.EROFS, "Read-only file system", path)
        os.makedirs(os.path.dirname(host), exist_ok=True)
        # Written aside, then renamed: a reader (a health check, a sibling container) sees the
        # old file or the new one, never a half-written one.
        partial = f"{host}.{os.getpid()}.partial"
        with open(partial, "wb") as handle:
            handle.write(data.encode() if isinstance(data, str) else data)
        os.replace(partial, host)
        return host

    # -- network ----------------------------------------------------------------
    def is_local(self, url: str) -> bool:
        """True for URLs that stay inside the task: localhost or the task's own address."""
        host = (urlsplit(url).hostname or "").lower()
        return host in _LOOPBACK_NAMES or host == self.address

    def url(self, for_url: str) -> str:
        """`for_url` with localhost mapped to the task's address, where its sibling containers listen."""
        parts = urlsplit(for_url)
        host = (parts.hostname or "").lower()
        if host not in _LOOPBACK_NAMES:
            return for_url
        netloc = self.address + (f":{parts.port}" if parts.port else "")
        if parts.username:
            netloc = f"{parts.username}{':' + parts.password if parts.password else ''}@{netloc}"
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))

    def proxy_for(self, url: str) -> str | None:
        """The HTTP proxy a request to `url` leaves the task through: none inside the task,
        the App Mesh proxy's egress listener when the task intercepts this container's
        traffic (unless the destination is one it ignores), else the data plane's edge."""
        if self.is_local(url):
            return None
        if self.egress:
            parts = urlsplit(url)
            port = parts.port or (443 if parts.scheme == "https" else 80)
            host = parts.hostname or ""
            if not _egress_ignores(self.egress, host, port):
                return f"http://{self.address}:{self.egress['egress_port']}"
        return self.proxy

    def http(self, timeout: float = 5.0) -> "TaskHTTP":
        """An HTTP client with the task's routing: own task direct, the rest through the proxy."""
        return TaskHTTP(self, timeout)


def _egress_ignores(egress: Mapping[str, Any], host: str, port: int) -> bool:
    """EgressIgnoredPorts and EgressIgnoredIPs (interception.Interception.ignores_destination)."""
    if port in (egress.get("egress_ignored_ports") or ()):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(n, strict=False) for n in egress.get("egress_ignored_ips") or ())


def _is_ipv4(text: str) -> bool:
    try:
        ipaddress.IPv4Address(text)
    except ValueError:
        return False
    return True


class TaskHTTP:
    """An aiohttp ClientSession wrapped so each request takes the task's route.

    aiohttp has one default proxy per session and no per-request way back to "direct",
    so the route is chosen here, per URL: inside the task directly, outside through the
    data plane's edge proxy (or directly when the spec has none, as in unit tests).
    """

    def __init__(self, container: Container, timeout: float = 5.0) -> None:
        self.container = container
        # Connections leave from the task's own address (to the edge too), so the security
        # groups of whatever it calls see this task as the source.
        local = (container.address, 0) if _is_ipv4(container.address) else None
        self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout), trust_env=False,
                                             connector=aiohttp.TCPConnector(local_addr=local))

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        target = self.container.url(url)
        proxy = self.container.proxy_for(target)
        if proxy:
            kwargs.setdefault("proxy", proxy)
        return self.session.request(method, target, **kwargs)

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Any:
        return self.request("POST", url, **kwargs)

    async def close(self) -> None:
        await self.session.close()

    async def __aenter__(self) -> "TaskHTTP":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
