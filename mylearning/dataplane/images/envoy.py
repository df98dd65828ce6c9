"""aws-appmesh-envoy: the course's App Mesh sidecar proxy, for virtual nodes and gateways.

There is no Envoy binary here (DESIGN.md, "Facts"), so this program stands in for the App
Mesh Envoy image. It behaves as App Mesh configures Envoy to, at the interfaces a learner
and an operator touch; the decisions (routes, weights, retries, timeouts, outlier
detection, connection pools, the egress filter, stat names) are `mylearning.dataplane.mesh`'s,
each with its documentation; this module is the network around them.

Bootstrap (https://docs.aws.amazon.com/app-mesh/latest/userguide/envoy-config.html):

* ``APPMESH_RESOURCE_ARN`` names the virtual node or virtual gateway (``APPMESH_VIRTUAL_NODE_NAME``,
  ``mesh/M/virtualNode/N``, for images before 1.15); without either the proxy cannot start
  and exits 1.
* ``ENVOY_ADMIN_ACCESS_PORT`` (default 9901) is the admin interface: ``/stats`` (Envoy's
  stat names), ``/clusters``, ``/config_dump``, ``/server_info`` and ``/ready`` (state
  ``PRE_INITIALIZING``, then ``LIVE`` once its first configuration is applied: what the
  documented container health check greps for), ``/listeners``.
* ``ENVOY_LOG_LEVEL`` (default info) filters its own log lines, in Envoy's format.
* ``ENVOY_INITIAL_FETCH_TIMEOUT`` (default 0, no timeout): seconds to wait for the first
  configuration before the listeners start without it.

Configuration comes from the App Mesh Envoy management service
(``appmesh-envoy-management.<region>.amazonaws.com``, see
`mylearning.dataplane.mesh_management`), reached through the task's network like any
other outbound connection of the proxy's user; it is refused unless the task role allows
``appmesh:StreamAggregatedResources`` on the resource, and then the proxy never becomes
ready (https://docs.aws.amazon.com/app-mesh/latest/userguide/proxy-authorization.html).
A change is applied within about a second.

Listeners (``lds_ingress_0.0.0.0_15000``, ``lds_egress_0.0.0.0_15001``, App Mesh's own names
and ports; https://docs.aws.amazon.com/app-mesh/latest/userguide/envoy.html):

* A virtual node's proxy listens on 15000 (ingress: traffic to the task's app ports is
  redirected there, see `mylearning.dataplane.interception`) and forwards to the app on
  ``localhost:<listener port>``; and on 15001 (egress: the app's outbound HTTP requests,
  carrying their original destination as an HTTP proxy request does).
* A virtual gateway's proxy listens on each of the gateway's listener ports itself.
* Listeners exist only once the first configuration arrived, as Envoy's come from LDS:
  before that, a connection to them is refused.

Upstream requests go through the task's network (the data plane's edge, which applies the
security groups) to the endpoints the target node's service discovery gives (Cloud Map or
DNS, asked of the management service), one chosen round robin among the hosts outlier
detection has not ejected (Envoy's default load balancing, ROUND_ROBIN).

TLS and mutual TLS (listener ``tls``, client policies, ACM, file and SDS certificates, the
``ssl.*`` stats and ``/certs``) are `mylearning.dataplane.images.envoy_tls`'s.

Traces: with ``ENABLE_ENVOY_XRAY_TRACING=1`` a segment per request goes to the task's X-Ray
daemon, and the trace header is passed on upstream (`envoy_xray`).

Metrics: with ``APPMESH_METRIC_EXTENSION_VERSION=1`` the proxy counts the App Mesh metrics
extension's metrics (`mylearning.dataplane.mesh.extension`), and with ``ENABLE_ENVOY_DOG_STATSD=1``
sends them to the task's StatsD daemon, the CloudWatch agent sidecar (`envoy_statsd`).

Where this differs from Envoy: HTTP/1.1 only (no HTTP/2 or gRPC framing, no TCP proxying
yet), no active health checks, no histograms; bodies are read whole, not streamed.
"""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import json
import os
import pickle
import random
import sys
import time
import uuid
from typing import Any, Optional

import aiohttp
from aiohttp import web

from .container import Container

INGRESS_PORT = 15000
EGRESS_PORT = 15001
DEFAULT_ADMIN_PORT = 9901
#: How long one long poll of the management service may wait for a change.
POLL_WAIT = 15.0
#: Seconds before a failed management call is tried again.
RETRY_SECONDS = 1.0
#: How long an endpoint answer is kept (a short DNS TTL, as the data plane's resolver keeps).
ENDPOINT_TTL = 1.0
#: Envoy's levels, most verbose first (ENVOY_LOG_LEVEL).
LEVELS = ("trace", "debug", "info", "warning", "error", "critical", "off")
#: Request and response fields that describe one connection, not the message (RFC 9110 §7.6.1).
HOP_BY_HOP = frozenset({"connection", "proxy-connection", "keep-alive", "te", "trailer", "transfer-encoding",
                        "upgrade", "proxy-authorization", "proxy-authenticate", "content-length", "host"})
#: What the edge answers when it could not reach a destination (edge.py), as the kind of
#: failure the proxy saw.
_EDGE_FAILURES = {"refused": "connect_failure", "timeout": "connect_failure", "no-route": "connect_failure",
                  "upstream-reset": "reset"}
#: Envoy's default access log format
#: (https://www.envoyproxy.io/docs/envoy/latest/configuration/observability/access_log/usage#default-format-string).
ACCESS_LOG = ('[{start}] "{method} {path} {protocol}" {code} {flags} {received} {sent} {duration} '
              '{upstream_time} "{forwarded}" "{agent}" "{request_id}" "{authority}" "{upstream}"\n')


def _now_text(at: Optional[float] = None) -> str:
    at = time.time() if at is None else at
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at)) + f".{int(at * 1000) % 1000:03d}Z"


def _image_version(image: str) -> str:
    """``v1.29.6.0-prod`` -> ``1.29.6``: the Envoy release an App Mesh image carries."""
    tag = image.rpartition(":")[2] if ":" in image.rpartition("/")[2] else ""
    parts = tag.lstrip("v").split("-")[0].split(".")
    return ".".join(parts[:3]) if len(parts) >= 3 else "1.29.6"


@dataclasses.dataclass
class _Upstream:
    """One egress cluster's hosts, their outlier detection, and the round-robin position."""
    hosts: list[str]
    detector: Any = None
    turn: Any = dataclasses.field(default_factory=itertools.count)
    resolved_at: float = 0.0
    discovery: Any = None
    #: The resolution under way, if any (`Sidecar._endpoints`).
    refresh: Optional[asyncio.Future] = None


class _Gate:
    """A connection pool's admissions as awaitables: queued requests wait for a slot."""

    def __init__(self, pool: Any) -> None:
        self.pool = pool
        self.waiting: dict[int, asyncio.Future] = {}

    async def enter(self, timeout: Optional[float]) -> tuple[str, int]:
        from mylearning.dataplane.mesh import OVERFLOW, QUEUED
        admission = self.pool.request()
        if admission.state == QUEUED:
            future = asyncio.get_running_loop().create_future()
            self.waiting[admission.ticket] = future
            try:
                await asyncio.wait_for(future, timeout)
            except asyncio.TimeoutError:
                self.waiting.pop(admission.ticket, None)
                self.pool.cancel(admission.ticket)
                return "timeout", admission.ticket
        return ("overflow" if admission.state == OVERFLOW else "go"), admission.ticket

    def leave(self, ticket: int) -> None:
        handed = self.pool.finish(ticket)
        if handed is not None:
            future = self.waiting.pop(handed, None)
            if future is not None and not future.done():
                future.set_result(None)


class Sidecar:
    def __init__(self, container: Container) -> None:
        from mylearning.dataplane.mesh import Stats, parse_resource

        self.container = container
        env = container.env
        self.resource_text = env.get("APPMESH_RESOURCE_ARN") or env.get("APPMESH_VIRTUAL_NODE_NAME") or ""
        self.resource = parse_resource(self.resource_text)
        region = self.resource.region or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
        if not region and container.task_arn.startswith("arn:"):
            region = container.task_arn.split(":")[3]
        self.region = region or "us-east-1"
        self.admin_port = int(env.get("ENVOY_ADMIN_ACCESS_PORT") or DEFAULT_ADMIN_PORT)
        level = (env.get("ENVOY_LOG_LEVEL") or "info").lower()
        self.log_level = LEVELS.index(level) if level in LEVELS else LEVELS.index("info")
        self.initial_fetch_timeout = float(env.get("ENVOY_INITIAL_FETCH_TIMEOUT") or 0)
        self.version = _image_version(container.image)
        self.stats = Stats()
        self.rng = random.Random()
        self.state = "PRE_INITIALIZING"
        self.started = time.time()
        self.snapshot: Any = None
        self.access_log_path: Optional[str] = None  # the spec's logging.accessLog.file.path
        self.table: Any = None
        self.applied_at: Optional[float] = None
        self.upstreams: dict[str, _Upstream] = {}
        self.gates: dict[str, _Gate] = {}
        self.servers: dict[int, Any] = {}
        self.address = container.address
        from .envoy_tls import SidecarTls
        self.tls = SidecarTls(self)
        from mylearning.dataplane.mesh.extension import Extension, enabled
        kind = "VirtualGateway" if self.resource.kind == "virtualGateway" else "VirtualNode"
        self.extension = Extension(self.resource.mesh, kind, self.resource.name) if enabled(dict(env)) else None
        self.statsd: Any = None
        from .envoy_xray import wire as xray
        self.xray = xray(self)  # ENABLE_ENVOY_XRAY_TRACING (envoy_xray)

    # -------------------------------------------------------------- logging

    def log(self, level: str, component: str, message: str) -> None:
        """One line in Envoy's format: [time][pid][level][component] message."""
        if LEVELS.index(level) < self.log_level:
            return
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()) + f".{int(time.time() * 1000) % 1000:03d}"
        sys.stderr.write(f"[{stamp}][{os.getpid()}][{level}][{component}] {message}\n")
        sys.stderr.flush()

    def access_log(self, **fields: Any) -> None:
        """The virtual node's or gateway's access log (its spec's logging.accessLog.file.path)."""
        path = self.access_log_path
        if not path:
            return
        line = ACCESS_LOG.format(**fields)
        if path in ("/dev/stdout", "/dev/stderr"):
            stream = sys.stdout if path == "/dev/stdout" else sys.stderr
            stream.write(line)
            stream.flush()
            return
        with contextlib.suppress(OSError):
            target = self.container.host_path(path)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "a") as handle:
                handle.write(line)

    # -------------------------------------------------------------- running

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        import signal
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        connector = aiohttp.TCPConnector(local_addr=(self.address, 0), limit=0, ttl_dns_cache=None)
        # Upstream traffic leaves by the task's network (the edge): the proxy's own user is
        # not redirected to itself (interception.py).
        self.upstream_http = aiohttp.ClientSession(connector=connector, trust_env=False, auto_decompress=False,
                                                   timeout=aiohttp.ClientTimeout(total=None))
        self.local_http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0), trust_env=False, auto_decompress=False,
            timeout=aiohttp.ClientTimeout(total=None))
        admin = await self._serve(self.admin_port, self._admin)
        from .envoy_statsd import wire
        self.statsd = wire(self)
        self.log("info", "main", f"starting Envoy {self.version} (aws-appmesh-envoy) for {self.resource_text}; "
                 f"admin address: {self.address}:{self.admin_port}")
        watcher = asyncio.create_task(self._watch_config())
        if self.initial_fetch_timeout > 0:
            asyncio.get_running_loop().call_later(self.initial_fetch_timeout, self._fetch_timed_out)
        await stop.wait()
        self.log("warning", "main", "caught SIGTERM")
        watcher.cancel()
        if self.statsd is not None:
            await self.statsd.close()
        if self.xray is not None:
            self.xray.emitter.close()
        await self.tls.close()
        for server in [admin, *self.servers.values()]:
            with contextlib.suppress(Exception):
                await server.cleanup()
        await self.upstream_http.close()
        await self.local_http.close()
        return 0

    def _fetch_timed_out(self) -> None:
        if self.state != "LIVE":
            self.log("warning", "config", "initial fetch timed out: starting without a configuration")

    async def _serve(self, port: int, handler: Any) -> Any:
        runner = web.ServerRunner(web.Server(handler, access_log=None))
        await runner.setup()
        site = web.TCPSite(runner, self.address, port, reuse_address=True)
        await site.start()
        return runner

    # -------------------------------------------------------------- configuration

    def _management_url(self, version: str) -> str:
        from urllib.parse import urlencode
        from mylearning.dataplane.mesh_management import management_host
        query = urlencode({"task": self.container.task_arn, "resource": self.resource_text,
                           "version": version, "wait": POLL_WAIT})
        return f"http://{management_host(self.region)}:443/v1/resources?{query}"

    async def _watch_config(self) -> None:
        version = ""
        failures = 0
        while True:
            try:
                async with self.upstream_http.get(self._management_url(version), proxy=self.container.proxy,
                                                  timeout=aiohttp.ClientTimeout(total=POLL_WAIT + 10)) as answer:
                    body = await answer.read()
                    status = answer.status
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as error:
                status, body = 0, str(error).encode()
            if status == 200:
                snapshot = pickle.loads(body)
                version = snapshot.version
                await self._apply(snapshot)
                failures = 0
                continue
            if status == 304:
                continue
            failures += 1
            reason = body.decode(errors="replace").strip()[:500]
            code = {403: 7, 404: 5}.get(status, 14)  # gRPC PERMISSION_DENIED, NOT_FOUND, UNAVAILABLE
            if failures == 1 or failures % 30 == 0:
                self.log("warning", "config", f"StreamAggregatedResources gRPC config stream to "
                         f"appmesh-envoy-management.{self.region}.amazonaws.com:443 closed: {code}, {reason}")
            await asyncio.sleep(RETRY_SECONDS)

    async def _apply(self, snapshot: Any) -> None:
        from mylearning.dataplane.mesh import table_for
        first = self.snapshot is None
        self.table = table_for(snapshot, rng=self.rng, stats=self.stats)
        self.snapshot = snapshot
        logging = snapshot.proxy.logging or {}
        self.access_log_path = (((logging.get("accessLog") or {}).get("file")) or {}).get("path")
        self.applied_at = time.time()
        # Clusters whose target changed are read again; their outlier state starts afresh.
        self.upstreams.clear()
        self.gates.clear()
        self.stats.inc("cluster_manager.cds.update_success")
        self.stats.inc("listener_manager.lds.update_success")
        await self.tls.configure(snapshot, first)
        await self._listen()
        if first:
            self.state = "LIVE"
            self.log("info", "main", "all clusters initialized. initializing init manager")
            self.log("info", "config", "all dependencies initialized. starting workers")
        clusters = len(self.table.egress_clusters()) if not snapshot.is_gateway else 0
        self.log("info", "upstream", f"cds: add {clusters} cluster(s), remove 0 cluster(s) "
                 f"(configuration version {snapshot.version})")

    async def _listen(self) -> None:
        """Open the listeners the configuration asks for (ports stay open across updates)."""
        if self.snapshot.is_gateway:
            wanted = {li.port: self._gateway for li in self.snapshot.proxy.listeners}
        else:
            wanted = {INGRESS_PORT: self._ingress, EGRESS_PORT: self._egress}
        for port in list(self.servers):
            if port not in wanted:
                await self.servers.pop(port).cleanup()
        for port, handler in wanted.items():
            if port not in self.servers:
                try:
                    self.servers[port] = await self.tls.serve(port, handler)
                except OSError as error:
                    self.log("critical", "config", f"listener 0.0.0.0:{port}: cannot bind: {error}")

    # -------------------------------------------------------------- admin

    async def _admin(self, request: web.BaseRequest) -> web.StreamResponse:
        from mylearning.dataplane.mesh import render_clusters
        path = request.path
        if path == "/stats" or path == "/stats/":
            text = self.stats.render()
            if request.query.get("filter"):
                import re
                try:
                    pattern = re.compile(request.query["filter"])
                except re.error as error:
                    return web.Response(status=400, text=f"Invalid regex: {error}\n")
                text = "".join(line + "\n" for line in text.splitlines() if pattern.search(line.partition(":")[0]))
            if request.query.get("format") == "json":
                stats = [{"name": n, "value": int(v)} for n, _, v in
                         (line.partition(": ") for line in text.splitlines()) if v.strip().lstrip("-").isdigit()]
                return web.json_response({"stats": stats})
            return web.Response(text=text)
        if path == "/clusters":
            return web.Response(text=render_clusters(self.stats, self._cluster_views()))
        if path == "/server_info":
            return web.json_response({
                "version": f"{self.version}/Clean/RELEASE/BoringSSL (aws-appmesh-envoy, mylearning)",
                "state": self.state, "uptime_current_epoch": f"{int(time.time() - self.started)}s",
                "uptime_all_epochs": f"{int(time.time() - self.started)}s",
                "command_line_options": {"concurrency": 1, "admin_address_path": "",
                                         "service_node": self.resource.name,
                                         "service_cluster": self.resource.name}})
        if path == "/ready":
            return web.Response(status=200 if self.state == "LIVE" else 503, text=self.state + "\n")
        if path == "/certs":
            return web.json_response(self.tls.certs(), dumps=lambda v: json.dumps(v, indent=2))
        if path == "/config_dump":
            return web.json_response(self._config_dump(), dumps=lambda v: json.dumps(v, indent=2, default=str))
        if path == "/listeners":
            names = [f"lds_{'ingress' if p == INGRESS_PORT else 'egress' if p == EGRESS_PORT else 'ingress'}"
                     f"_0.0.0.0_{p}::0.0.0.0:{p}" for p in sorted(self.servers)]
            return web.Response(text="".join(n + "\n" for n in names))
        if path in ("/", "/help"):
            return web.Response(text="admin commands are:\n  /certs\n  /clusters\n  /config_dump\n  /listeners\n"
                                     "  /ready\n  /server_info\n  /stats\n")
        return web.Response(status=404, text="invalid path. admin commands are: /certs /clusters /config_dump "
                                             "/listeners /ready /server_info /stats\n")

    def _cluster_views(self) -> list:
        from mylearning.dataplane.mesh import ClusterView, HostView
        views = []
        if self.table is None:
            return views
        clusters = {} if self.snapshot.is_gateway else self.table.egress_clusters()
        for name, (node, listener) in sorted(clusters.items()):
            upstream = self.upstreams.get(name)
            hosts = []
            for host in (upstream.hosts if upstream else []):
                flags = upstream.detector.health_flags(host) if upstream and upstream.detector else "healthy"
                hosts.append(HostView(address=f"{host}:{listener.port}", health_flags=flags))
            views.append(ClusterView(name=name, hosts=tuple(hosts), limits=listener.pool,
                                     outlier_detection=listener.outlier is not None))
        return views

    def _config_dump(self) -> dict:
        from mylearning.dataplane.mesh.model import thaw
        if self.snapshot is None:
            return {"configs": [], "state": self.state}
        return {"configs": [{"@type": "type.mylearning/appmesh.Snapshot", "version_info": self.snapshot.version,
                             "last_updated": _now_text(self.applied_at),
                             "mesh": self.snapshot.mesh, "egress_filter": self.snapshot.egress_filter,
                             "proxy": thaw(dataclasses.asdict(self.snapshot.proxy)),
                             "services": thaw({k: dataclasses.asdict(v) for k, v in self.snapshot.services.items()}),
                             "routers": thaw({k: dataclasses.asdict(v) for k, v in self.snapshot.routers.items()}),
                             "nodes": thaw({k: dataclasses.asdict(v) for k, v in self.snapshot.nodes.items()})},
                            self.tls.config_dump()],
                "state": self.state}

    # -------------------------------------------------------------- ingress

    def _ingress_port(self, request: web.BaseRequest) -> int:
        """Which of the node's listeners a redirected connection was for: the only one, or
        the one the Host header names (the redirect does not carry the original port here)."""
        listeners = self.snapshot.proxy.listeners
        if len(listeners) == 1:
            return listeners[0].port
        _, _, port = (request.headers.get("Host") or "").rpartition(":")
        ports = {li.port for li in listeners}
        return int(port) if port.isdigit() and int(port) in ports else (listeners[0].port if listeners else 0)

    async def _ingress(self, request: web.BaseRequest) -> web.StreamResponse:
        from mylearning.dataplane.mesh import Refusal
        started = time.time()
        if self.xray is not None:
            self.xray.begin(request, started)
        http = self.stats.http("ingress")
        http.inc("downstream_rq_total")
        if self.extension is not None:
            self.extension.inbound_request()
        decision = self.table.ingress(self._ingress_port(request))
        if isinstance(decision, Refusal):
            return self._refuse(request, decision, http, started)
        gate = self.gates.get(decision.cluster)
        if gate is None:
            from mylearning.dataplane.mesh import ConnectionPool
            gate = self.gates[decision.cluster] = _Gate(ConnectionPool(
                decision.listener.protocol, decision.pool, stats=self.stats.cluster(decision.cluster)))
        verdict, ticket = await gate.enter(decision.timeouts.per_request)
        if verdict != "go":
            return self._overflow(request, http, started, timeout=verdict == "timeout")
        cluster = self.stats.cluster(decision.cluster)
        try:
            body = await request.read()
            url = f"http://{self.address}:{decision.listener.port}{request.raw_path}"
            headers = self._upstream_headers(request, decision.timeouts.per_request)
            cluster.inc("upstream_rq_total")
            try:
                async with self.local_http.request(request.method, url, headers=headers, data=body or None,
                                                   allow_redirects=False,
                                                   timeout=aiohttp.ClientTimeout(
                                                       total=decision.timeouts.per_request)) as answer:
                    payload = await answer.read()
                    status, upstream_headers = answer.status, answer.headers
            except asyncio.TimeoutError:
                cluster.inc("upstream_rq_timeout")
                return self._local(request, 504, "upstream request timeout", "UT", http, started, cluster)
            except aiohttp.ClientConnectorError:
                cluster.inc("upstream_cx_connect_fail")
                return self._local(request, 503, "upstream connect error or disconnect/reset before headers. "
                                   "reset reason: connection failure", "UF", http, started, cluster)
            except (aiohttp.ClientError, OSError):
                cluster.inc("upstream_rq_rx_reset")
                return self._local(request, 503, "upstream connect error or disconnect/reset before headers. "
                                   "reset reason: connection termination", "UC", http, started, cluster)
            cluster.response(status)
            http.response(status)
            return self._respond(request, status, upstream_headers, payload, started, "-",
                                 f"{self.address}:{decision.listener.port}")
        finally:
            gate.leave(ticket)

    # -------------------------------------------------------------- egress and gateway

    async def _egress(self, request: web.BaseRequest) -> web.StreamResponse:
        http = self.stats.http("egress")
        target = request.url if request.url.is_absolute() else None
        host = request.headers.get("Host") or (target.raw_authority if target else "")
        port = (target.port if target is not None else None) or _port_of(host) or 80
        return await self._route(request, http, host, port)

    async def _gateway(self, request: web.BaseRequest) -> web.StreamResponse:
        from .envoy_tls import LISTENER_PORT
        port = request.get(LISTENER_PORT) or (request.transport.get_extra_info("sockname")[1] if request.transport else 0)
        http = self.stats.http("ingress")
        if self.extension is not None:
            self.extension.inbound_request()
        return await self._route(request, http, request.headers.get("Host") or "", port)

    async def _route(self, request: web.BaseRequest, http: Any, host: str, port: int) -> web.StreamResponse:
        from mylearning.dataplane.mesh import PassThrough, Refusal
        started = time.time()
        if self.xray is not None:
            self.xray.begin(request, started)
        http.inc("downstream_rq_total")
        decision = self.table.route(host, port, request.method, _origin_form(request),
                                    list(request.headers.items()))
        if isinstance(decision, Refusal):
            return self._refuse(request, decision, http, started)
        body = await request.read()
        if isinstance(decision, PassThrough):
            return await self._pass_through(request, decision, body, http, started)
        response = await self._send(request, decision, body, http, started)
        if self.extension is not None:  # the metrics extension's outbound metrics (extension.py)
            self.extension.outbound(decision.virtual_service, decision.target_node, response.status,
                                    (time.time() - started) * 1000)
        return response

    async def _pass_through(self, request: web.BaseRequest, decision: Any, body: bytes, http: Any,
                            started: float) -> web.StreamResponse:
        cluster = self.stats.cluster(decision.cluster)
        cluster.inc("upstream_rq_total")
        url = f"http://{decision.host}:{decision.port}{_origin_form(request)}"
        try:
            async with self.upstream_http.request(request.method, url, headers=self._upstream_headers(request, None),
                                                  data=body or None, proxy=self.container.proxy,
                                                  allow_redirects=False) as answer:
                payload = await answer.read()
                status, headers = answer.status, answer.headers
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError):
            return self._local(request, 503, "upstream connect error or disconnect/reset before headers. "
                               "reset reason: connection failure", "UF", http, started, cluster)
        cluster.response(status)
        http.response(status)
        return self._respond(request, status, headers, payload, started, "-", f"{decision.host}:{decision.port}")

    async def _endpoints(self, decision: Any) -> _Upstream:
        """The target node's hosts from its service discovery, resolved again once `ENDPOINT_TTL`
        has passed. A request never waits for that: "Envoy never synchronously resolves DNS in the
        forwarding path. At the expense of eventual consistency, there is never a worry of blocking
        on a long running DNS query" (https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/service_discovery,
        "Strict DNS"); the stale list serves while the new one is read. Only a cluster that has no
        host yet (its first resolution, or an empty answer) waits for the resolution under way."""
        from mylearning.dataplane.mesh import OutlierDetector
        upstream = self.upstreams.get(decision.cluster)
        if upstream is None:
            upstream = _Upstream(hosts=[], discovery=decision.discovery)
            if decision.outlier is not None:
                upstream.detector = OutlierDetector(decision.outlier, [], stats=self.stats.cluster(decision.cluster))
            self.upstreams[decision.cluster] = upstream
        if upstream.refresh is None and time.monotonic() - upstream.resolved_at >= ENDPOINT_TTL:
            upstream.refresh = asyncio.ensure_future(self._resolve(decision.cluster, upstream))
        if not upstream.hosts and upstream.refresh is not None:
            await asyncio.shield(upstream.refresh)  # a cancelled request leaves the resolution running
        return upstream

    async def _resolve(self, cluster: str, upstream: _Upstream) -> None:
        """Read `upstream`'s hosts from the management service (its last list if that fails)."""
        from urllib.parse import urlencode
        from mylearning.dataplane.mesh_management import management_host
        try:
            discovery = upstream.discovery
            hosts: list[str] = []
            if discovery is not None:
                query: dict[str, str] = {"task": self.container.task_arn}
                if discovery.kind == "dns":
                    query["name"] = discovery.hostname or ""
                else:
                    query.update(namespace=discovery.namespace or "", service=discovery.service or "",
                                 attributes=json.dumps(dict(discovery.attributes)))
                url = f"http://{management_host(self.region)}:443/v1/endpoints?{urlencode(query)}"
                try:
                    async with self.upstream_http.get(url, proxy=self.container.proxy,
                                                      timeout=aiohttp.ClientTimeout(total=5)) as answer:
                        hosts = (await answer.json()).get("addresses", []) if answer.status == 200 else []
                except (aiohttp.ClientError, asyncio.TimeoutError, OSError, ValueError):
                    hosts = upstream.hosts
            upstream.hosts = hosts
            if upstream.detector is not None:
                upstream.detector.set_hosts(hosts)
            upstream.resolved_at = time.monotonic()
            self.stats.cluster(cluster).set("membership_total", len(hosts))
        finally:
            upstream.refresh = None

    def _pick(self, upstream: _Upstream) -> Optional[str]:
        hosts = upstream.hosts
        if upstream.detector is not None:
            hosts, _panic = upstream.detector.available()
        if not hosts:
            return None
        return hosts[next(upstream.turn) % len(hosts)]

    async def _send(self, request: web.BaseRequest, decision: Any, body: bytes, http: Any,
                    started: float) -> web.StreamResponse:
        from mylearning.dataplane.mesh import CONNECT_FAILURE, PER_TRY_TIMEOUT, RESET, TIMEOUT, Outcome, RetryState
        cluster = self.stats.cluster(decision.cluster)
        state = RetryState(decision.retry_policy, decision.timeouts.per_request, rng=self.rng, stats=cluster)
        upstream = await self._endpoints(decision)
        headers = self._upstream_headers(request, decision.timeouts.per_request, host=decision.host)
        from .envoy_tls import UpstreamTlsFailure
        send = self.tls.requester(decision) or self.upstream_http.request  # TLS, or plaintext by the edge
        tls_failure = None
        while True:
            host = self._pick(upstream)
            if host is None:
                cluster.inc("upstream_cx_none_healthy")
                return self._local(request, 503, "no healthy upstream", "UH", http, started, cluster)
            limit = state.attempt_timeout()
            state.begin()
            if limit is not None and limit <= 0:
                verdict = state.decide(Outcome.failed(TIMEOUT))
            else:
                url = f"http://{host}:{decision.target_port}{decision.path}"
                payload, answer_headers = b"", None
                attempt_started = time.monotonic()
                try:
                    async with send(
                            request.method, url, headers=headers, data=body or None, proxy=self.container.proxy,
                            allow_redirects=False, timeout=aiohttp.ClientTimeout(total=limit)) as answer:
                        payload = await answer.read()
                        failure = _EDGE_FAILURES.get(answer.headers.get("X-MyLearning-Edge", ""))
                        if failure is None:
                            outcome = Outcome.response(answer.status)
                            answer_headers = answer.headers
                        else:
                            outcome = Outcome.failed(CONNECT_FAILURE if failure == "connect_failure" else RESET)
                except asyncio.TimeoutError:
                    whole = state.remaining()
                    outcome = Outcome.failed(TIMEOUT if whole is not None and whole <= 0 else PER_TRY_TIMEOUT)
                except UpstreamTlsFailure as failure:
                    outcome, tls_failure = Outcome.failed(CONNECT_FAILURE), failure
                except (aiohttp.ClientError, OSError):
                    outcome = Outcome.failed(RESET)
                if upstream.detector is not None:
                    upstream.detector.report(host, outcome)
                address = f"{host}:{decision.target_port}"
                self.stats.host(decision.cluster, address, "rq_total")
                failed = outcome.error is not None or (outcome.status or 0) >= 500
                self.stats.host(decision.cluster, address, "rq_error" if failed else "rq_success")
                if outcome.error in (PER_TRY_TIMEOUT, TIMEOUT):
                    self.stats.host(decision.cluster, address, "rq_timeout")
                verdict = state.decide(outcome)
                if not verdict.retry and verdict.body is None and answer_headers is not None:
                    http.response(verdict.status)
                    upstream_ms = int((time.monotonic() - attempt_started) * 1000)
                    return self._respond(request, verdict.status, answer_headers, payload, started,
                                         str(upstream_ms), f"{host}:{decision.target_port}", flags=verdict.flags)
            if verdict.retry:
                await asyncio.sleep(verdict.backoff)
                continue
            http.response(verdict.status)
            body_text = self.tls.failure_body(verdict.body or "", tls_failure if verdict.reason == CONNECT_FAILURE else None)
            return self._reply(request, verdict.status, body_text, verdict.flags, started)

    # -------------------------------------------------------------- answers

    def _upstream_headers(self, request: web.BaseRequest, timeout: Optional[float], host: Optional[str] = None) -> dict:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        headers.setdefault("x-request-id", str(uuid.uuid4()))
        headers.setdefault("x-forwarded-proto", "http")
        if timeout:
            headers["x-envoy-expected-rq-timeout-ms"] = str(int(timeout * 1000))
        headers["Host"] = host or request.headers.get("Host", "")
        if self.xray is not None:
            self.xray.inject(request, headers)
        return headers

    def _respond(self, request: web.BaseRequest, status: int, upstream_headers: Any, payload: bytes,
                 started: float, upstream_ms: str, upstream_host: str, flags: str = "") -> web.Response:
        response = web.Response(status=status, body=payload)
        for key, value in upstream_headers.items():
            if key.lower() not in HOP_BY_HOP and key.lower() not in ("server", "date"):
                response.headers.add(key, value)
        response.headers["server"] = "envoy"  # Envoy overwrites Server by default
        if upstream_ms != "-":
            response.headers["x-envoy-upstream-service-time"] = upstream_ms
        self._log_request(request, status, flags or "-", len(payload), started, upstream_ms, upstream_host)
        return response

    def _reply(self, request: web.BaseRequest, status: int, body: str, flags: str, started: float,
               headers: tuple = ()) -> web.Response:
        """An answer of the proxy's own (Envoy's local reply: text/plain, server envoy)."""
        response = web.Response(status=status, text=body, headers={"server": "envoy", **dict(headers)})
        self._log_request(request, status, flags or "-", len(body), started, "-", "-")
        return response

    def _local(self, request: web.BaseRequest, status: int, body: str, flags: str, http: Any, started: float,
               cluster: Any = None) -> web.Response:
        if cluster is not None:
            cluster.response(status)
        http.response(status)
        return self._reply(request, status, body, flags, started)

    def _refuse(self, request: web.BaseRequest, refusal: Any, http: Any, started: float) -> web.StreamResponse:
        if refusal.status is None:  # no filter chain: Envoy closes the connection
            self._log_request(request, 0, refusal.flags or "NR", 0, started, "-", "-")
            if request.transport is not None:
                request.transport.close()
            raise ConnectionResetError(refusal.reason)
        http.response(refusal.status)
        return self._reply(request, refusal.status, refusal.body, refusal.flags, started, refusal.headers)

    def _overflow(self, request: web.BaseRequest, http: Any, started: float, timeout: bool) -> web.Response:
        if timeout:
            http.response(504)
            return self._reply(request, 504, "upstream request timeout", "UT", started)
        http.response(503)
        return self._reply(request, 503, "upstream connect error or disconnect/reset before headers. "
                           "reset reason: overflow", "UO", started, (("x-envoy-overloaded", "true"),))

    def _log_request(self, request: web.BaseRequest, status: int, flags: str, sent: int, started: float,
                     upstream_ms: str, upstream_host: str) -> None:
        if self.xray is not None:
            self.xray.end(request, status, sent, time.time())
        if not self.access_log_path:  # no access log: nothing to format
            return
        headers = request.headers
        self.access_log(start=_now_text(started), method=request.method, path=_origin_form(request),
                        protocol=f"HTTP/{request.version.major}.{request.version.minor}", code=status, flags=flags,
                        received=request.content_length or 0, sent=sent,
                        duration=int((time.time() - started) * 1000), upstream_time=upstream_ms,
                        forwarded=headers.get("X-Forwarded-For", "-"), agent=headers.get("User-Agent", "-"),
                        request_id=headers.get("x-request-id", "-"), authority=headers.get("Host", "-"),
                        upstream=upstream_host)


def _origin_form(request: web.BaseRequest) -> str:
    """The request's path and query, also for an absolute-form request (what the app's HTTP
    client sends to the egress listener, as to a proxy: RFC 9112 §3.2.2)."""
    raw = request.raw_path
    return request.url.raw_path_qs if not raw.startswith("/") else raw


def _port_of(authority: str) -> Optional[int]:
    if not authority or authority.endswith("]"):
        return None
    _, sep, port = authority.rpartition(":")
    return int(port) if sep and port.isdigit() else None


def main(container: Container) -> int:
    """The image's entry point."""
    if not (container.env.get("APPMESH_RESOURCE_ARN") or container.env.get("APPMESH_VIRTUAL_NODE_NAME")):
        print("[critical][main] APPMESH_RESOURCE_ARN (or APPMESH_VIRTUAL_NODE_NAME) must be set: the proxy "
              "cannot tell which virtual node or virtual gateway it is", file=sys.stderr)
        return 1
    try:
        sidecar = Sidecar(container)
    except ValueError as error:
        print(f"[critical][main] {error}", file=sys.stderr)
        return 1
    return asyncio.run(sidecar.run())
