"""Application Load Balancer listeners, served on loopback, forwarding to healthy targets.

Each ALB gets a loopback address of the data plane's block, and each of its HTTP listeners
listens there on its own port (or, where the OS keeps ports under 1024 for root, on a free
port that the edge maps the listener's port to). The edge resolves the balancer's DNS name
to it (DESIGN.md, interface 6), so ``curl -x $PROXY http://my-alb-123.us-east-1.elb.amazonaws.com/``
reaches it as it would on AWS.

A request is routed as the ALB routes it
(https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-listeners.html):
the listener's rules in priority order (`rules`), then the action of the rule that matched:
a fixed response, a redirect, or a forward to one of its (weighted) target groups, and in
the group to a healthy registered target (round robin or least outstanding requests,
sticky when the group says so). Draining targets get no new requests. When every
registered target of the group is unhealthy the ALB "fails open" and uses them all
(target-group-health-checks.html).

What the target receives (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/x-forwarded-headers.html,
load-balancer-request-tracing.html): ``X-Forwarded-For`` with the client's address appended,
``X-Forwarded-Proto``, ``X-Forwarded-Port``, and ``X-Amzn-Trace-Id`` (``Root=1-<8 hex
seconds>-<24 hex>`` added when absent; with one present, ``Self=`` is added and the
``Root`` kept).

The ALB's own answers (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-troubleshooting.html):
502 when the target refuses or resets the connection or answers something that is not
HTTP; 503 when the target group has no registered target; 504 when the target does not
connect within 10 s or does not answer within the balancer's ``idle_timeout.timeout_seconds``
(default 60; a timeout, so not scaled). They come with ``Server: awselb/2.0``.

The client's address is the TCP peer: the edge keeps a task's own loopback address as its
source, which maps back to its private IP; anything else (the learner's kernel through the
edge) is a client on the internet, `INTERNET_CLIENT`.

What they served is published as ``AWS/ApplicationELB`` metrics (`alb.metrics`).

Not served (yet): HTTPS listeners (no certificates in the data plane), authenticate actions,
Lambda and instance targets.
"""
from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
import urllib.parse
from typing import Any, Optional

from mylearning.dataplane.alb import rules
from mylearning.dataplane.alb.checks import HealthChecker
from mylearning.dataplane.alb.config import RESYNC, LoadBalancer, RegionConfig, TargetGroup, read_region
from mylearning.dataplane.alb.metrics import NAMESPACE, AlbMetrics

from mylearning.dataplane.security import INTERNET as INTERNET_CLIENT
#: "the load balancer failed to establish a connection to the target before the connection
#: timeout expired (10 seconds)" (load-balancer-troubleshooting.html, HTTP 504).
CONNECT_TIMEOUT = 10.0
#: Request headers the ALB does not pass on (hop-by-hop, RFC 9110 section 7.6.1) and those it sets.
_HOP = {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding",
        "upgrade", "proxy-authorization", "proxy-authenticate", "host", "content-length"}
_REASONS = {502: "Bad Gateway", 503: "Service Temporarily Unavailable", 504: "Gateway Time-out"}


def error_page(status: int) -> bytes:
    title = f"{status} {_REASONS.get(status, 'Error')}"
    return (f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1>"
            f"</center>\r\n</body>\r\n</html>\r\n").encode()


def trace_id(incoming: Optional[str], now: Optional[float] = None) -> str:
    stamp = f"{int(now if now is not None else time.time()):08x}"
    fresh = f"1-{stamp}-{secrets.token_hex(12)}"
    if incoming and "Root=" in incoming:
        parts = [p for p in incoming.split(";") if not p.strip().startswith("Self=")]
        return ";".join([f"Self={fresh}"] + parts)
    return f"Root={fresh}"


class _Served:
    """One listener's server: the socket's server, aiohttp's, and the port it listens on."""

    def __init__(self, server: asyncio.AbstractServer, web_server: Any, port: int) -> None:
        self.server, self.web_server, self.port = server, web_server, port

    async def close(self) -> None:
        self.server.close()
        with contextlib.suppress(Exception):
            await self.web_server.shutdown(1.0)


class Balancers:
    """Every ALB of the account, kept in step with ELB (`config`), with their health checks."""

    def __init__(self, agent: Any) -> None:
        self.agent = agent
        self.configs: dict[str, RegionConfig] = {}
        self.addresses: dict[str, str] = {}          # ALB ARN -> loopback address
        self.served: dict[tuple[str, int], _Served] = {}  # (ALB ARN, listener port) -> server
        self.balancers: dict[str, LoadBalancer] = {}  # ARN -> balancer, every region
        self.by_name: dict[str, LoadBalancer] = {}
        self.groups: dict[str, TargetGroup] = {}
        #: Security groups (`mylearning.dataplane.security.SecurityGroups`); None: all open.
        self.security: Any = None
        self.checker = HealthChecker(self._locate, self._report, self._may_check,
                                     inbound=self.agent.inbound_port)
        self.choosers = rules.ForwardChooser()
        self.picker = rules.TargetPicker()
        self.outstanding: dict[str, int] = {}
        self._session: Any = None
        self.metrics = AlbMetrics()
        self.counts: dict[str, int] = {"requests": 0, "2xx": 0, "3xx": 0, "4xx": 0, "5xx": 0, "elb_5xx": 0}

    # ------------------------------------------------------------ keeping in step with ELB

    async def watch(self) -> None:
        """Read the configuration whenever ELB's news says it changed (and every RESYNC s)."""
        since, behind = -1, True
        while True:
            groups = None
            try:
                news = await asyncio.to_thread(self.agent.control.elb_poll, since,
                                               0.5 if behind else RESYNC)
                if news.get("version", since) != since and not behind:
                    groups = news.get("groups")
                since = news.get("version", since)
            except Exception as exc:
                self.agent.log(f"ELB poll failed: {exc}")
                await asyncio.sleep(1.0)
            try:
                if groups and await self.refresh(groups):
                    await self.apply()
                else:
                    await self.sync()
                behind = False
            except Exception as exc:  # soon again, with a full read (the news is consumed)
                self.agent.log(f"could not read the load balancers: {type(exc).__name__}: {exc}")
                behind = True

    async def refresh(self, group_arns: list[str]) -> bool:
        """Re-read only these groups' targets; False when one is unknown (read everything)."""
        from mylearning.dataplane.alb.config import read_targets
        found = [self.groups.get(arn) for arn in group_arns]
        if any(group is None for group in found):
            return False
        await asyncio.gather(*(read_targets(self.agent.control.call, arn.split(":")[3], group)
                               for arn, group in zip(group_arns, found) if group.in_use))
        return True

    async def sync(self) -> None:
        for region in sorted(self.agent.regions):
            self.configs[region] = await read_region(self.agent.control.call, region)
        await self.apply()

    async def apply(self) -> None:
        self.balancers = balancers = {arn: lb for c in self.configs.values()
                                      for arn, lb in c.balancers.items()}
        self.groups = {arn: g for c in self.configs.values() for arn, g in c.groups.items()}
        self.by_name = {lb.dns: lb for lb in balancers.values()}
        wanted_servers = {(arn, listener.port): listener for arn, lb in balancers.items()
                          for listener in lb.listeners if listener.protocol == "HTTP"}
        for key in [k for k in self.served if k not in wanted_servers]:
            await self.served.pop(key).close()
        for arn in [a for a in self.addresses if a not in balancers]:
            self.agent.addresses.give_back(self.addresses.pop(arn))
        for (arn, port), listener in wanted_servers.items():
            if (arn, port) not in self.served:
                address = self.addresses.get(arn) or self.addresses.setdefault(
                    arn, self.agent.addresses.take(f"alb:{arn}"))
                self.served[(arn, port)] = await self._listen(arn, address, port)
        # Health checks: every registered target of every group a listener uses.
        wanted, said = {}, {}
        for group in self.groups.values():
            if group.in_use:
                for target in group.registered():
                    wanted[(group.arn, target.id, target.port)] = group.health
                    said[(group.arn, target.id, target.port)] = target.state
        self.checker.update(wanted)
        self.checker.reconcile(said)

    async def _listen(self, arn: str, address: str, port: int) -> _Served:
        """aiohttp's low-level server for one listener (its handler gets every request)."""
        from aiohttp import web

        async def handler(request: Any) -> Any:
            return await self.handle(arn, port, request)
        loop = asyncio.get_running_loop()
        factory = web.Server(handler, access_log=None)
        try:
            server = await loop.create_server(factory, address, port, reuse_address=True)
        except PermissionError:  # ports under 1024 need root: the edge maps the port
            server = await loop.create_server(factory, address, 0, reuse_address=True)
        return _Served(server, factory, server.sockets[0].getsockname()[1])

    # ------------------------------------------------------------ what the edge asks

    def resolve(self, host: str, port: int) -> Optional[tuple[str, int]]:
        """The loopback address and port serving ``host:port`` if host is an ALB's DNS name."""
        lb = self.by_name.get(host.lower().rstrip("."))
        if lb is None:
            return None
        served = self.served.get((lb.arn, port))
        address = self.addresses.get(lb.arn)
        if served is None or address is None:
            return None
        return address, served.port

    # ------------------------------------------------------------ health

    def _locate(self, ip: str) -> Optional[str]:
        return self.agent.routes.get(ip)

    async def _may_check(self, group_arn: str, target_ip: str, port: int) -> bool:
        """Health checks come from the load balancer's nodes, so its security groups and the
        target's decide whether they arrive (a check that is dropped times out)."""
        group = self.groups.get(group_arn)
        if self.security is None or group is None or not group.load_balancers:
            return True
        for arn in group.load_balancers:
            if await self.security.balancer_may_reach(arn, target_ip, port):
                return True
        return False

    async def _report(self, results: list[dict]) -> None:
        await asyncio.to_thread(self.agent.control.elb_report, results)

    def healthy_targets(self, group: TargetGroup) -> list[str]:
        registered = group.registered()
        states = {t.key: self.checker.state(group.arn, t.id, t.port) for t in registered}
        healthy = [k for k, s in states.items() if s == "healthy"]
        if healthy:
            return healthy
        unhealthy = [k for k, s in states.items() if s == "unhealthy"]
        return unhealthy  # fail open: all unhealthy, so all are used

    # ------------------------------------------------------------ one request

    def client_ip(self, peer: Optional[str]) -> str:
        if peer:
            for private, loopback in self.agent.routes.items():
                if loopback == peer and private != loopback:
                    return private
        return INTERNET_CLIENT

    async def handle(self, arn: str, port: int, request: Any) -> Any:
        from aiohttp import web
        self.counts["requests"] += 1
        lb = self.balancers.get(arn)
        listener = next((li for li in (lb.listeners if lb else []) if li.port == port), None)
        if lb is None or listener is None:
            return self._elb_error(503)
        peer = request.transport.get_extra_info("peername") if request.transport else None
        source = self.client_ip(peer[0] if peer else None)
        query = tuple(urllib.parse.parse_qsl(request.query_string, keep_blank_values=True))
        wanted = rules.Request(method=request.method, path=request.raw_path.split("?", 1)[0],
                               query=query, headers=tuple(request.headers.items()),
                               source_ip=source, protocol=listener.protocol, port=port,
                               raw_query=request.query_string)
        try:
            action = rules.routing_action(rules.select(listener.rules, wanted))
        except (rules.Unroutable, ValueError):
            return self._elb_error(503, arn)
        kind = action.get("Type")
        if kind == "fixed-response":
            status, content_type, body = rules.fixed_response(action)
            self.metrics.record(arn, None, status, from_target=False)
            return self._count(web.Response(status=status, body=body,
                                            headers={"Content-Type": content_type, "Server": "awselb/2.0"}))
        if kind == "redirect":
            status, location = rules.redirect(action, wanted)
            self.metrics.record(arn, None, status, from_target=False)
            return self._count(web.Response(status=status, headers={"Location": location,
                                                                    "Server": "awselb/2.0"}))
        if kind != "forward":
            return self._elb_error(503, arn)
        try:
            group_arn, cookies = self.choosers.choose(action, wanted)
        except Exception:
            return self._elb_error(503, arn)
        group = self.groups.get(group_arn)
        if group is None:
            return self._elb_error(503, arn)
        try:
            key, more = self.picker.pick(group.arn, self.healthy_targets(group), group.attributes,
                                         wanted, self.outstanding)
        except rules.NoHealthyTarget:
            return self._elb_error(503, arn, group.arn)
        body = await request.read()
        response = await self._forward(lb, group.arn, listener.protocol, port, key, request, body, source)
        # Application-cookie stickiness follows the cookie the target itself set.
        more += self.picker.after_response(group.arn, key, group.attributes, wanted,
                                           response.headers.getall("Set-Cookie", []))
        for value in cookies + more:
            response.headers.add("Set-Cookie", value)
        return self._count(response)

    async def _forward(self, lb: LoadBalancer, group: str, protocol: str, port: int, key: str,
                       request: Any, body: bytes, source: str) -> Any:
        import aiohttp
        from aiohttp import web
        ip, _, target_port = key.rpartition(":")
        address = self.agent.routes.get(ip)
        if address is None:
            return self._elb_error(504, lb.arn, group)
        if self.security is not None and not await self.security.balancer_may_reach(lb.arn, ip, int(target_port)):
            # The target's security group drops the balancer's connection: the ALB waits for
            # its connection timeout, then answers 504 (load-balancer-troubleshooting.html).
            await asyncio.sleep(CONNECT_TIMEOUT)
            return self._elb_error(504, lb.arn, group)
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in _HOP
                   and k.lower() not in ("x-forwarded-for", "x-forwarded-proto", "x-forwarded-port",
                                         "x-amzn-trace-id")]
        forwarded = request.headers.get("X-Forwarded-For")
        headers += [("Host", request.headers.get("Host", lb.dns)),
                    ("X-Forwarded-For", f"{forwarded}, {source}" if forwarded else source),
                    ("X-Forwarded-Proto", protocol.lower()), ("X-Forwarded-Port", str(port)),
                    ("X-Amzn-Trace-Id", trace_id(request.headers.get("X-Amzn-Trace-Id")))]
        idle = lb.attribute("idle_timeout.timeout_seconds", 60.0)
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=CONNECT_TIMEOUT, sock_read=idle)
        # An App Mesh task's app port is answered by its proxy's ingress (interception.py).
        url = f"http://{address}:{self.agent.inbound_port(address, int(target_port))}{request.raw_path}"
        self.outstanding[key] = self.outstanding.get(key, 0) + 1
        sent = time.perf_counter()
        try:
            async with self._client().request(request.method, url, headers=headers, data=body or None,
                                               timeout=timeout, allow_redirects=False,
                                               auto_decompress=False) as answer:
                self.metrics.record(lb.arn, group, answer.status, from_target=True,
                                    seconds=time.perf_counter() - sent)
                payload = await answer.read()
                out = web.Response(status=answer.status, body=payload)
                for name, value in answer.headers.items():
                    if name.lower() not in _HOP:
                        out.headers.add(name, value)
                return out
        except (aiohttp.ServerTimeoutError, asyncio.TimeoutError):
            return self._elb_error(504, lb.arn, group)
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, aiohttp.ClientResponseError):
            return self._elb_error(502, lb.arn, group)
        finally:
            self.outstanding[key] -= 1

    def _client(self) -> Any:
        import aiohttp
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0, ttl_dns_cache=None), trust_env=False,
                skip_auto_headers=("User-Agent", "Accept-Encoding", "Accept"))
        return self._session

    def _elb_error(self, status: int, lb: str | None = None, group: str | None = None) -> Any:
        from aiohttp import web
        self.counts["elb_5xx"] += 1
        if lb is not None:
            self.metrics.record(lb, group, status, from_target=False)
        return self._count(web.Response(status=status, body=error_page(status),
                                        headers={"Content-Type": "text/html", "Server": "awselb/2.0"}))

    def _count(self, response: Any) -> Any:
        bucket = f"{response.status // 100}xx"
        if bucket in self.counts:
            self.counts[bucket] += 1
        return response

    async def publish(self) -> None:
        """Send the ALB metrics every publication interval (see `alb.metrics`)."""
        import datetime

        from mylearning.dataplane.telemetry import publish_interval
        while True:
            await asyncio.sleep(publish_interval())
            now = datetime.datetime.now(datetime.timezone.utc)
            healthy = {}
            for group in self.groups.values():
                states = [self.checker.state(group.arn, t.id, t.port) for t in group.registered()]
                healthy[group.arn] = (states.count("healthy"), states.count("unhealthy"))
            data = self.metrics.metric_data(list(self.groups.values()), healthy, now)
            by_region: dict[str, list[dict]] = {}
            for item in data:
                region = self._region_of(item)
                if region:
                    by_region.setdefault(region, []).append(item)
            for region, items in by_region.items():
                for start in range(0, len(items), 200):
                    try:
                        await self.agent.control.call("cloudwatch", region, "put_metric_data",
                                                      Namespace=NAMESPACE, MetricData=items[start:start + 200])
                    except Exception as exc:
                        self.agent.log(f"publishing ALB metrics failed: {exc}")

    def _region_of(self, item: dict) -> str | None:
        from mylearning.dataplane.alb.metrics import dimension
        names = {d["Name"]: d["Value"] for d in item["Dimensions"]}
        for region, config in self.configs.items():
            if any(dimension(arn) == names.get("LoadBalancer") for arn in config.balancers) or \
                    any(dimension(arn) == names.get("TargetGroup") for arn in config.groups):
                return region
        return None

    def stats(self) -> dict[str, Any]:
        return {"balancers": len(self.addresses), "listeners": len(self.served),
                "targets_checked": len(self.checker.watching()), **self.counts,
                **({"security_groups": dict(self.security.counts)} if self.security else {})}

    async def close(self) -> None:
        self.checker.close()
        for served in self.served.values():
            await served.close()
        self.served.clear()
        if self._session is not None:
            with contextlib.suppress(Exception):
                await self._session.close()
        for address in self.addresses.values():
            with contextlib.suppress(Exception):
                self.agent.addresses.give_back(address)
        self.addresses.clear()

