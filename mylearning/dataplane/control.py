"""The data plane's only way to the control plane: boto3 clients, and the agent endpoints of
ECS (ACS, TCS) and ELB (configuration news, health reports).

boto3 clients block, so the agent calls them through `asyncio.to_thread`; one client per
(service, region, credentials) is made once (making clients is slow and not thread-safe)
and shared (calls on one client are thread-safe).
"""
from __future__ import annotations

import asyncio
import json
import threading
import urllib.request
from typing import Any

#: Role clients kept at once (ControlPlane.client).
ROLE_CLIENTS = 64
#: Connections a role client keeps to the emulator: one task's log shipper or secret reads
#: use it one call at a time, and every pooled connection is one the emulator holds open.
ROLE_POOL = 2
#: The emulator is on loopback: never through a proxy from the environment.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class ControlPlane:
    def __init__(self, endpoint: str) -> None:
        import boto3
        from botocore.config import Config

        from mylearning.emulator import auth
        from mylearning.facts.cloudtrail import DATAPLANE_USER_AGENT

        self.endpoint = endpoint.rstrip("/")
        # The emulator's own credential when it has one (grading), passed down to us.
        self._headers = auth.request_headers(auth.required_token())
        self._session = boto3.session.Session(region_name="us-east-1", **auth.client_credentials())
        # inject_host_prefix=False: operations whose model puts a prefix before the host
        # (Cloud Map's DiscoverInstances goes to "data-servicediscovery...") must reach the
        # emulator's own address, not "data-127.0.0.1".
        self._config = Config(retries={"max_attempts": 2, "mode": "standard"},
                              connect_timeout=5, read_timeout=40, max_pool_connections=20,
                              inject_host_prefix=False,
                              # Names the data plane's calls as AWS's internals: the emulator's
                              # CloudTrail leaves them out of Event history (fidelity/cloudtrail).
                              user_agent_extra=DATAPLANE_USER_AGENT)
        # Role clients: the same, with a small pool (ROLE_POOL).
        self._role_config = self._config.merge(Config(max_pool_connections=ROLE_POOL))
        self._clients: dict[tuple, Any] = {}
        self._lock = threading.Lock()
        self.acs_url: str | None = None
        self.tcs_url: str | None = None

    def client(self, service: str, region: str, credentials: dict | None = None) -> Any:
        """A boto3 client for the emulator; `credentials` (from AssumeRole) sign as a role.

        Role clients come from the one shared session (a session per credential set would load
        every service model again: tens of MB per task, since ECS assumes the execution role per
        task), and at most ROLE_CLIENTS of them are kept, the least recently used dropped and
        its idle connections closed (a task's log shipper keeps its own reference for as long
        as it runs; a closed client opens a connection again on its next call)."""
        key = (service, region, credentials and credentials.get("AccessKeyId"))
        with self._lock:
            found = self._clients.get(key)
            if found is not None:
                if credentials:
                    self._clients[key] = self._clients.pop(key)  # most recently used last
                return found
            extra = {}
            if credentials:
                extra = {"aws_access_key_id": credentials["AccessKeyId"],
                         "aws_secret_access_key": credentials["SecretAccessKey"],
                         "aws_session_token": credentials.get("SessionToken")}
            found = self._clients[key] = self._session.client(
                service, region_name=region, endpoint_url=self.endpoint,
                config=self._role_config if credentials else self._config, **extra)
            if credentials:
                roles = [k for k in self._clients if k[2]]
                for old in roles[:max(0, len(roles) - ROLE_CLIENTS)]:
                    self._clients.pop(old).close()
        return found

    async def call(self, service: str, region: str, operation: str, **params: Any) -> Any:
        client = self.client(service, region)
        return await asyncio.to_thread(getattr(client, operation), **params)

    def discover(self, region: str = "us-east-1") -> None:
        """Ask ECS where ACS and TCS are; this attaches the agent (see fidelity/ecs/acs.py)."""
        answer = self.client("ecs", region).discover_poll_endpoint()
        self.acs_url, self.tcs_url = answer["endpoint"], answer["telemetryEndpoint"]

    def poll(self, since: int, wait: float = 20.0) -> dict:
        """Block until ECS has news for the agent (or `wait` passes): {"version", "regions"}."""
        url = f"{self.acs_url}?since={since}&wait={wait}"
        with _DIRECT.open(urllib.request.Request(url, headers=self._headers), timeout=wait + 10) as resp:
            return json.loads(resp.read())

    def telemetry(self, report: dict) -> None:
        request = urllib.request.Request(self.tcs_url or "", data=json.dumps(report).encode(),
                                         headers={"Content-Type": "application/json", **self._headers},
                                         method="POST")
        with _DIRECT.open(request, timeout=10) as resp:
            resp.read()

    # ELB's stand-ins (see mylearning/emulator/fidelity/elbv2/health.py)

    def elb_poll(self, since: int, wait: float = 20.0) -> dict:
        """Block until load balancer configuration changed (or `wait` passes): {"version"}."""
        url = f"{self.endpoint}/mylearning/elb?since={since}&wait={wait}"
        with _DIRECT.open(urllib.request.Request(url, headers=self._headers), timeout=wait + 10) as resp:
            return json.loads(resp.read())

    def elb_report(self, results: list[dict]) -> None:
        """Tell ELB what the health checks found: [{TargetGroupArn, Id, Port, State, ...}]."""
        request = urllib.request.Request(f"{self.endpoint}/mylearning/elb",
                                         data=json.dumps({"results": results}).encode(),
                                         headers={"Content-Type": "application/json", **self._headers},
                                         method="POST")
        with _DIRECT.open(request, timeout=10) as resp:
            resp.read()
