"""CloudWatch's endpoint as the tasks reach it: ``monitoring.<region>.amazonaws.com``.

A container that publishes metrics (the CloudWatch agent sidecar, `images.cloudwatch_agent`)
calls ``PutMetricData`` on CloudWatch's regional endpoint, signed with its task role
(https://docs.aws.amazon.com/general/latest/gr/cw_region.html: ``monitoring.<region>.amazonaws.com``).
The containers here have no AWS credentials of their own, so the data plane serves that name,
as it serves the App Mesh management service (`mesh_management`): the resolver maps
``monitoring.<region>.amazonaws.com`` to this server, the connection goes through the task's
network (its security groups apply), and the call is judged against the task role's policies
before it is made on the embedded AWS, through its API, as the data plane makes every call.

The protocol is not CloudWatch's wire protocol: ``POST /v1/put-metric-data?task=ARN`` with the
PutMetricData parameters as JSON (``Namespace``, ``MetricData``, timestamps as epoch seconds);
200 when stored, 403 with AWS's AccessDenied text when the role does not allow
``cloudwatch:PutMetricData``, 400 with CloudWatch's error when the call is refused.
"""
from __future__ import annotations

import asyncio
import datetime
import json
import re
from typing import TYPE_CHECKING, Any, Optional

from mylearning.facts.cloudwatch_agent import PUT_ACTION

if TYPE_CHECKING:
    from mylearning.dataplane.agent import TaskAgent

_NAME = re.compile(r"^monitoring\.([a-z]{2}(?:-[a-z]+)+-\d+)\.amazonaws\.com$")


class Monitoring:
    """The endpoint's server (see the module docstring)."""

    def __init__(self, agent: "TaskAgent") -> None:
        from mylearning.dataplane.execution_role import TaskRoles
        self.agent = agent
        self.roles = TaskRoles(lambda region: agent.control.client("iam", region))
        self.address: Optional[tuple[str, int]] = None
        self.counts = {"calls": 0, "denied": 0, "failed": 0, "data": 0}
        self._runner: Any = None

    async def start(self, host: str = "127.0.0.1") -> tuple[str, int]:
        from aiohttp import web
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_post("/v1/put-metric-data", self._put_metric_data)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, 0)
        await site.start()
        self.address = site._server.sockets[0].getsockname()[:2]  # type: ignore[union-attr]
        return self.address

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def resolve(self, host: str, port: int) -> Optional[tuple[str, int]]:
        if self.address is not None and _NAME.match(host.lower().rstrip(".")):
            return self.address
        return None

    def stats(self) -> dict:
        return dict(self.counts)

    async def _put_metric_data(self, request: Any) -> Any:
        from aiohttp import web
        runner = self.agent.runners.get(request.query.get("task", ""))
        if runner is None:
            return web.Response(status=403, text="Unknown task: only a running task may call CloudWatch here")
        self.counts["calls"] += 1
        refusal = await asyncio.to_thread(self.roles.refusal, runner, PUT_ACTION, "*", "CloudWatch")
        if refusal:
            self.counts["denied"] += 1
            return web.Response(status=403, text=refusal)
        try:
            body = json.loads(await request.read())
            params = {"Namespace": str(body["Namespace"]), "MetricData": [_datum(d) for d in body["MetricData"]]}
        except (ValueError, KeyError, TypeError) as error:
            return web.Response(status=400, text=f"InvalidParameterValue: {error}")
        if not params["MetricData"]:
            return web.Response(status=200, text="{}")
        try:
            await self.agent.control.call("cloudwatch", runner.region, "put_metric_data", **params)
        except Exception as error:  # CloudWatch's own refusal, passed back to the caller
            self.counts["failed"] += 1
            return web.Response(status=400, text=str(error))
        self.counts["data"] += len(params["MetricData"])
        return web.Response(status=200, text="{}")


def _datum(datum: dict) -> dict:
    out = dict(datum)
    if isinstance(out.get("Timestamp"), (int, float)):
        out["Timestamp"] = datetime.datetime.fromtimestamp(out["Timestamp"], tz=datetime.timezone.utc)
    return out
