"""The App Mesh Envoy management service: where the course's sidecar proxies get their
configuration.

On AWS, the Envoy of a meshed task does not read the App Mesh API itself: it opens an xDS
stream (``StreamAggregatedResources``) to ``appmesh-envoy-management.<region>.amazonaws.com``
on port 443, signed with the task role's credentials, and App Mesh pushes it the
configuration of its virtual node or virtual gateway
(https://docs.aws.amazon.com/app-mesh/latest/userguide/envoy.html, "Envoy image";
https://docs.aws.amazon.com/app-mesh/latest/userguide/proxy-authorization.html: the
role needs ``appmesh:StreamAggregatedResources`` on the node's or gateway's ARN, and
without it "the Envoy proxy will fail to connect to App Mesh's management server").

Here that service lives in the data plane process, a client of the embedded AWS like the
rest of it:

* It reads each proxy's configuration through the App Mesh API (``mesh.ConfigPoller``: one
  poller per virtual node or gateway, shared by every task that runs it, polled every
  `POLL_SECONDS` while some proxy waits on it), so an ``update_route`` reaches the proxies
  within about a second.
* Before it answers, it checks the task role of the asking task the way IAM would
  (``execution_role.ExecutionRole.refusal``: the role's policies, read through IAM; a task
  without a task role has no credentials at all). Policies are read again after
  `ROLE_SECONDS`, so a permission the learner adds is seen by the next attempt.
* The proxies reach it by its AWS name through the data plane's edge, as Envoy reaches it
  through the task's ENI: the resolver maps ``appmesh-envoy-management.<region>.amazonaws.com``
  to this server, and the task's security groups apply to the connection. The protocol is
  not gRPC: a long poll, ``GET /v1/resources?task=ARN&resource=ARN&version=V&wait=S``,
  answered with the configuration when it differs from version V (200), else 304 when the
  wait is over; 403 and AWS's AccessDenied text when the role does not allow the stream;
  404 when the node or gateway does not exist. The body is the proxy's ``Snapshot`` pickled:
  both ends are this package, on loopback.
* ``GET /v1/secrets?task=ARN&resource=ARN&version=V&wait=S`` gives the proxy its TLS material
  from ACM and AWS Private CA, as App Mesh delivers it to Envoy over SDS, once the task role
  allows ``acm:ExportCertificate`` / ``acm-pca:GetCertificateAuthorityCertificate``
  (`mylearning.dataplane.mesh_secrets`).
* ``GET /v1/endpoints?name=...`` answers a DNS name's addresses and
  ``/v1/endpoints?namespace=...&service=...`` a Cloud Map service's instances (the resolver's
  job for everything else in the data plane), for the proxies' service discovery.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import pickle
import re
import time
from typing import TYPE_CHECKING, Any, Optional

if TYPE_CHECKING:
    from mylearning.dataplane.agent import TaskAgent

#: How often a proxy's configuration is read while a proxy waits for it.
POLL_SECONDS = 0.5
#: How long the task role's policies are trusted before they are read again.
ROLE_SECONDS = 2.0
#: The longest a proxy's long poll is held open.
MAX_WAIT = 20.0
#: The stream's action (proxy-authorization.html).
STREAM_ACTION = "appmesh:StreamAggregatedResources"
#: The management service's host name in a region (envoy.html).
_NAME = re.compile(r"^appmesh-envoy-management\.([a-z]{2}(?:-[a-z]+)+-\d+)\.amazonaws\.com$")


def management_host(region: str) -> str:
    return f"appmesh-envoy-management.{region}.amazonaws.com"


class _Watched:
    """One proxy resource's poller, its latest snapshot, and who waits for a change."""

    def __init__(self, client: Any, resource: str) -> None:
        from mylearning.dataplane.mesh import ConfigPoller
        self.poller = ConfigPoller(client, resource)
        self.snapshot: Any = None
        self.error: Optional[BaseException] = None
        self.changed = asyncio.Event()
        self.waiters = 0
        self.last_wanted = time.monotonic()
        self.task: Optional[asyncio.Task] = None

    async def run(self) -> None:
        while True:
            try:
                result = await asyncio.to_thread(self.poller.poll_once)
                fresh = self.snapshot is None or result.changed or self.error is not None
                self.snapshot, self.error = result.snapshot, None
            except Exception as error:  # missing resource, or the API failing: tell the proxies
                fresh = self.error is None or type(error) is not type(self.error)
                self.error = error
            if fresh:
                self.changed.set()
                self.changed = asyncio.Event()
            if not self.waiters and time.monotonic() - self.last_wanted > MAX_WAIT * 2:
                return  # nobody has asked for a while: stop reading the API for it
            await asyncio.sleep(POLL_SECONDS)


class MeshManagement:
    """The management service's server and its pollers (see the module docstring)."""

    def __init__(self, agent: "TaskAgent", resolver: Any = None) -> None:
        self.agent = agent
        #: The data plane's resolver (`resolver.Resolver`): DNS names of Cloud Map namespaces.
        self.resolver = resolver
        self._watched: dict[tuple[str, str], _Watched] = {}
        from mylearning.dataplane.execution_role import TaskRoles
        self.roles = TaskRoles(lambda region: self.agent.control.client("iam", region), ttl=ROLE_SECONDS)
        self._runner: Any = None
        self.address: Optional[tuple[str, int]] = None
        self.counts = {"streams": 0, "denied": 0, "answers": 0}
        from mylearning.dataplane.mesh_secrets import MeshSecrets
        self.secrets = MeshSecrets(lambda service, region: self.agent.control.client(service, region),
                                   lambda runner, action, arn: self._refusal(runner, arn, action))

    # ------------------------------------------------------------ serving

    async def start(self, host: str = "127.0.0.1") -> tuple[str, int]:
        from aiohttp import web
        app = web.Application()
        app.router.add_get("/v1/resources", self._resources)
        app.router.add_get("/v1/endpoints", self._endpoints)
        app.router.add_get("/v1/secrets", self._secrets)
        from mylearning.dataplane import servers
        self._runner, self.address = await servers.start(app, host)
        return self.address

    async def close(self) -> None:
        for watched in self._watched.values():
            if watched.task is not None:
                watched.task.cancel()
        if self._runner is not None:
            await self._runner.cleanup()

    def resolve(self, host: str, port: int) -> Optional[tuple[str, int]]:
        """This server's address for the management service's name in any region."""
        if self.address is not None and _NAME.match(host.lower().rstrip(".")):
            return self.address
        return None

    def stats(self) -> dict:
        return {**self.counts, "watched": len(self._watched)}

    # ------------------------------------------------------------ the stream

    def _refusal(self, runner: Any, resource: str, action: str = STREAM_ACTION) -> Optional[str]:
        """Why the task's role may not do `action` (by default: stream `resource`), or None
        (blocking: IAM reads)."""
        return self.roles.refusal(runner, action, resource, "the App Mesh Envoy management service")

    def _watch(self, region: str, resource: str) -> _Watched:
        key = (region, resource)
        watched = self._watched.get(key)
        if watched is None or watched.task is None or watched.task.done():
            watched = _Watched(self.agent.control.client("appmesh", region), resource)
            watched.task = asyncio.create_task(watched.run())
            self._watched[key] = watched
        watched.last_wanted = time.monotonic()
        return watched

    def _caller(self, query: Any) -> Any:
        """The asking task's runner, region and proxy resource ARN, or the answer refusing it."""
        from aiohttp import web
        from mylearning.dataplane.mesh import parse_resource

        runner = self.agent.runners.get(query.get("task", ""))
        if runner is None:
            return web.Response(status=403, text="Unknown task: only a running task's proxy may connect")
        resource = query.get("resource", "")
        try:
            parsed = parse_resource(resource)
        except ValueError as error:
            return web.Response(status=400, text=str(error))
        region = parsed.region or runner.region
        arn = resource if resource.startswith("arn:") else (
            f"arn:aws:appmesh:{region}:{runner.arn.split(':')[4]}:{resource}")
        return runner, region, arn

    async def _resources(self, request: Any) -> Any:
        from aiohttp import web
        from mylearning.dataplane.mesh import MeshResourceNotFound

        query = request.query
        caller = self._caller(query)
        if isinstance(caller, web.Response):
            return caller
        runner, region, arn = caller
        self.counts["streams"] += 1
        refusal = await asyncio.to_thread(self._refusal, runner, arn)
        if refusal:
            self.counts["denied"] += 1
            return web.Response(status=403, text=refusal)
        wait = min(MAX_WAIT, max(0.0, float(query.get("wait", "0") or 0)))
        known = query.get("version", "")
        watched = self._watch(region, arn)
        watched.waiters += 1
        try:
            deadline = time.monotonic() + wait
            while True:
                if watched.error is not None:
                    status = 404 if isinstance(watched.error, MeshResourceNotFound) else 503
                    if status == 404 or watched.snapshot is None:
                        return web.Response(status=status, text=str(watched.error))
                snapshot = watched.snapshot
                if snapshot is not None and snapshot.version != known:
                    self.counts["answers"] += 1
                    return web.Response(body=pickle.dumps(snapshot), headers={"X-Version": snapshot.version},
                                        content_type="application/octet-stream")
                left = deadline - time.monotonic()
                if left <= 0:
                    return web.Response(status=304)
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(watched.changed.wait(), left)
        finally:
            watched.waiters -= 1
            watched.last_wanted = time.monotonic()

    # ------------------------------------------------------------ secrets

    async def _secrets(self, request: Any) -> Any:
        """The proxy's ACM and Private CA material (`mesh_secrets`), for the same task and
        resource as its configuration stream, and on the same authorization."""
        from aiohttp import web

        query = request.query
        caller = self._caller(query)
        if isinstance(caller, web.Response):
            return caller
        runner, region, arn = caller
        refusal = await asyncio.to_thread(self._refusal, runner, arn)
        if refusal:
            return web.Response(status=403, text=refusal)
        watched = self._watch(region, arn)
        watched.waiters += 1
        try:
            wait = min(MAX_WAIT, max(0.0, float(query.get("wait", "0") or 0)))
            body = await self.secrets.serve(runner, lambda: watched.snapshot, region, query.get("version", ""), wait)
        finally:
            watched.waiters -= 1
            watched.last_wanted = time.monotonic()
        if body is None:
            return web.Response(status=304)
        return web.json_response(body, headers={"X-Version": body["version"]})

    # ------------------------------------------------------------ endpoints

    async def _endpoints(self, request: Any) -> Any:
        """A DNS name's or a Cloud Map service's private IPs, healthy ones first as Route 53
        and DiscoverInstances answer (HEALTHY_OR_ELSE_ALL)."""
        from aiohttp import web
        query = request.query
        runner = self.agent.runners.get(query.get("task", ""))
        region = runner.region if runner is not None else "us-east-1"
        if "name" in query:
            name = query["name"].lower().rstrip(".")
            addresses = await self.resolver.discover(name) if self.resolver is not None else []
            return web.json_response({"addresses": addresses})
        namespace, service = query.get("namespace", ""), query.get("service", "")
        if not namespace or not service:
            return web.Response(status=400, text="name, or namespace and service, are required")
        params: dict[str, Any] = {"NamespaceName": namespace, "ServiceName": service,
                                  "HealthStatus": "HEALTHY_OR_ELSE_ALL"}
        attributes = json.loads(query.get("attributes") or "{}")
        if attributes:
            params["QueryParameters"] = attributes
        try:
            answer = await self.agent.control.call("servicediscovery", region, "discover_instances", **params)
        except Exception as error:
            return web.json_response({"addresses": [], "error": str(error)})
        addresses = [i.get("Attributes", {}).get("AWS_INSTANCE_IPV4") for i in answer.get("Instances", [])]
        return web.json_response({"addresses": [a for a in addresses if a]})
