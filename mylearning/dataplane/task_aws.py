"""The AWS a task reaches: its task role's credentials, and the AWS service endpoints.

Two things ECS and AWS's network give a task on Fargate, served here:

* **The container credentials endpoint.** ECS assumes the task role for the task and serves the
  session's credentials at ``http://169.254.170.2$AWS_CONTAINER_CREDENTIALS_RELATIVE_URI``, the
  variable being set in every container of a task with a task role; the SDKs' container
  credentials provider reads it
  (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html,
  https://docs.aws.amazon.com/sdkref/latest/guide/feature-container-credentials.html). The answer
  is ``{"AccessKeyId", "SecretAccessKey", "Token", "Expiration", "RoleArn"}``; the session is
  named after the task's id, as CloudTrail shows task-role sessions. The role is assumed on
  the first request (AssumeRole through the control plane's STS), and again before the
  credentials expire. A role that does not trust ``ecs-tasks.amazonaws.com`` gets no credentials:
  the endpoint answers with ECS's "unable to assume the role" text and the SDK call fails; the
  task itself keeps running (the app decides what a missing credential means).
* **AWS's public endpoints** (``s3.us-east-1.amazonaws.com``, ``dynamodb.<region>.amazonaws.com``,
  ...: https://docs.aws.amazon.com/general/latest/gr/rande.html). A request to one of them,
  through the task's network (the edge or its App Mesh proxy's egress, so security groups and
  egress filters apply), is passed unchanged to the embedded AWS, signed as the app signed it.
  So IAM judges it there, against the task role (`emulator/fidelity/iam/enforcement.py`), and
  CloudTrail records it for that role session (`emulator/fidelity/cloudtrail`): the data plane
  decides nothing about it. CloudWatch's, X-Ray's and App Mesh's endpoints keep their own servers
  (`monitoring`, `mesh_management`).

Binds to loopback only, like everything in the data plane.
"""
from __future__ import annotations

import asyncio
import datetime
import re
import secrets
import time
from typing import TYPE_CHECKING, Any, Optional

if TYPE_CHECKING:
    from mylearning.dataplane.agent import TaskAgent

#: The link-local address of the credentials endpoint, and its port (task-iam-roles.html).
CREDENTIALS_HOST = "169.254.170.2"
CREDENTIALS_PORT = 80
#: The variable ECS sets in every container of a task with a task role.
RELATIVE_URI_VAR = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"
#: The services whose regional endpoints are passed to the embedded AWS (those the course's
#: apps call, and their neighbours): https://docs.aws.amazon.com/general/latest/gr/rande.html
SERVICES = ("s3", "dynamodb", "sqs", "sns", "secretsmanager", "ssm", "kms", "sts", "logs", "ecs",
            "events", "lambda")
_ENDPOINT = re.compile(r"^(?P<service>[a-z0-9-]+)\.(?P<region>[a-z]{2}(?:-[a-z]+)+-\d+)\.amazonaws\.com$")
#: Re-assume the role when the credentials have less than this left (SDKs refresh at 5-15 min).
REFRESH_SECONDS = 15 * 60
#: Hop-by-hop headers (RFC 9110, 7.6.1) never passed on.
_HOP = {"connection", "keep-alive", "proxy-connection", "proxy-authorization", "te", "trailer",
        "transfer-encoding", "upgrade", "host", "content-length"}


class TaskAws:
    """The server behind both names (module docstring)."""

    def __init__(self, agent: "TaskAgent") -> None:
        self.agent = agent
        self.address: Optional[tuple[str, int]] = None
        #: credentials id -> (task id, task role ARN, region)
        self._ids: dict[str, tuple[str, str, str]] = {}
        self._by_task: dict[str, str] = {}
        self._sessions: dict[str, tuple[float, dict]] = {}
        self.counts = {"credentials": 0, "refused": 0, "calls": 0, "failed": 0}
        self._runner: Any = None
        self._http: Any = None

    # -- the tasks ----------------------------------------------------------------------
    def register(self, task_id: str, role_arn: str, region: str) -> str:
        """The relative URI of `task_id`'s credentials (its containers get it as RELATIVE_URI_VAR)."""
        known = self._by_task.get(task_id)
        if known is None:
            known = self._by_task[task_id] = secrets.token_hex(16)
            self._ids[known] = (task_id, role_arn, region)
        return f"/v2/credentials/{known}"

    def forget(self, task_id: str) -> None:
        """The task stopped: its credentials are no longer served."""
        known = self._by_task.pop(task_id, None)
        if known is not None:
            self._ids.pop(known, None)
            self._sessions.pop(known, None)

    # -- the server ---------------------------------------------------------------------
    async def start(self, host: str = "127.0.0.1") -> tuple[str, int]:
        from aiohttp import web
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._serve)
        from mylearning.dataplane import servers
        self._runner, self.address = await servers.start(app, host)
        return self.address

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def resolve(self, host: str, port: int) -> Optional[tuple[str, int]]:
        if self.address is None:
            return None
        host = host.lower().rstrip(".")
        if host == CREDENTIALS_HOST and port == CREDENTIALS_PORT:
            return self.address
        match = _ENDPOINT.match(host)
        if match and match.group("service") in SERVICES:
            return self.address
        return None

    def stats(self) -> dict:
        return {**self.counts, "tasks": len(self._ids)}

    async def _serve(self, request: Any) -> Any:
        host = (request.host or "").split(":")[0].lower()
        if host == CREDENTIALS_HOST:
            return await self._credentials(request)
        return await self._forward(request)

    # -- credentials --------------------------------------------------------------------
    async def _credentials(self, request: Any) -> Any:
        from aiohttp import web
        known = request.path.removeprefix("/v2/credentials/")
        entry = self._ids.get(known) if request.method == "GET" and request.path.startswith("/v2/credentials/") else None
        if entry is None:
            self.counts["refused"] += 1
            return web.json_response({"code": "InvalidIdInRequest",
                                      "message": "CredentialsV2Request: Credentials not found"}, status=400)
        task_id, role_arn, region = entry
        try:
            found = await asyncio.to_thread(self._session, known, task_id, role_arn, region)
        except Exception as error:  # noqa: BLE001 - the reason goes to the SDK, as ECS's would
            self.counts["refused"] += 1
            return web.json_response({"code": "CredentialsUnavailable", "message": str(error)}, status=500)
        self.counts["credentials"] += 1
        return web.json_response(found)

    def _session(self, known: str, task_id: str, role_arn: str, region: str) -> dict:
        cached = self._sessions.get(known)
        if cached is not None and cached[0] - time.time() > REFRESH_SECONDS:
            return cached[1]
        from mylearning import roles
        from mylearning.dataplane.execution_role import ExecutionRole
        from mylearning.facts.ecs import ECS_TASKS_PRINCIPAL
        iam = self.agent.control.client("iam", region)
        role = ExecutionRole(iam, role_arn, task_id)
        try:
            trusted = ECS_TASKS_PRINCIPAL in roles.trusted_services(iam.get_role(RoleName=role.name)["Role"])
        except iam.exceptions.NoSuchEntityException:
            trusted = False
        if not trusted:
            raise role.unable_to_assume()
        answer = self.agent.control.client("sts", region).assume_role(
            RoleArn=role_arn, RoleSessionName=task_id[:64])["Credentials"]
        expiration = answer["Expiration"]
        if isinstance(expiration, datetime.datetime):
            expires = expiration.timestamp()
            stamp = expiration.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        else:
            stamp = str(expiration)
            expires = datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
        found = {"AccessKeyId": answer["AccessKeyId"], "SecretAccessKey": answer["SecretAccessKey"],
                 "Token": answer["SessionToken"], "Expiration": stamp, "RoleArn": role_arn}
        self._sessions[known] = (expires, found)
        return found

    # -- AWS endpoints ------------------------------------------------------------------
    async def _forward(self, request: Any) -> Any:
        import aiohttp
        from aiohttp import web
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60), auto_decompress=False)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP}
        body = await request.read()
        self.counts["calls"] += 1
        try:
            async with self._http.request(request.method, self.agent.control.endpoint + request.path_qs,
                                          headers=headers, data=body, allow_redirects=False) as answer:
                payload = await answer.read()
                back = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP}
                return web.Response(status=answer.status, headers=back, body=payload)
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as error:
            self.counts["failed"] += 1
            return web.Response(status=503, text=f"ServiceUnavailable: {error}")
