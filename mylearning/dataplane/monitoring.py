"""The AWS endpoints the tasks' telemetry sidecars call: CloudWatch's and X-Ray's.

Two sidecars send what they collect to AWS, signed with their task role:

* the CloudWatch agent (`images.cloudwatch_agent`) calls ``PutMetricData`` on
  ``monitoring.<region>.amazonaws.com`` (https://docs.aws.amazon.com/general/latest/gr/cw_region.html);
* the X-Ray daemon (`images.xray_daemon`) calls ``PutTraceSegments`` on ``xray.<region>.amazonaws.com``
  (https://docs.aws.amazon.com/general/latest/gr/xray.html).

The containers here have no AWS credentials of their own, so the data plane serves those names,
as it serves the App Mesh management service (`mesh_management`): the resolver maps them to this
server, the connection goes through the task's network (its security groups apply), and the call
is judged against the task role's policies before it is made on the embedded AWS, through its
API, as the data plane makes every call.

The protocol is not the services' wire protocol: ``POST /v1/put-metric-data?task=ARN`` with the
PutMetricData parameters as JSON (``Namespace``, ``MetricData``, timestamps as epoch seconds), and
``POST /v1/put-trace-segments?task=ARN`` with ``TraceSegmentDocuments``; 200 with the service's
answer when the call was made, 403 with AWS's AccessDenied text when the role does not allow
the action (``cloudwatch:PutMetricData``, ``xray:PutTraceSegments``), 400 with the service's
error when the call is refused.
"""
from __future__ import annotations

import asyncio
import datetime
import json
import re
from typing import TYPE_CHECKING, Any, Optional

from mylearning.facts.cloudwatch_agent import PUT_ACTION
from mylearning.facts.xray import PUT_ACTION as PUT_TRACES_ACTION

if TYPE_CHECKING:
    from mylearning.dataplane.agent import TaskAgent

_NAME = re.compile(r"^(?:monitoring|xray)\.([a-z]{2}(?:-[a-z]+)+-\d+)\.amazonaws\.com$")


class Monitoring:
    """The endpoint's server (see the module docstring)."""

    def __init__(self, agent: "TaskAgent") -> None:
        from mylearning.dataplane.execution_role import TaskRoles
        self.agent = agent
        self.roles = TaskRoles(lambda region: agent.control.client("iam", region))
        self.address: Optional[tuple[str, int]] = None
        self.counts = {"calls": 0, "denied": 0, "failed": 0, "data": 0, "segments": 0}
        self._runner: Any = None

    async def start(self, host: str = "127.0.0.1") -> tuple[str, int]:
        from aiohttp import web
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_post("/v1/put-metric-data", self._put_metric_data)
        app.router.add_post("/v1/put-trace-segments", self._put_trace_segments)
        from mylearning.dataplane import servers
        self._runner, self.address = await servers.start(app, host)
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

    async def _caller(self, request: Any, endpoint: str, action: str, service: str) -> tuple[Any, Any]:
        """(the calling task's runner, None), or (None, the refusal to answer): a call sent to the
        other service's endpoint name, an unknown task, or a task role that does not allow `action`
        (neither action takes a resource ARN:
        https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html,
        https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsx-ray.html)."""
        from aiohttp import web
        if not request.host.lower().startswith(endpoint + "."):
            return None, web.Response(status=404, text=f"UnknownOperationException: {request.path} is not an "
                                                       f"operation of {request.host}")
        runner = self.agent.runners.get(request.query.get("task", ""))
        if runner is None:
            return None, web.Response(status=403, text=f"Unknown task: only a running task may call {service} here")
        self.counts["calls"] += 1
        refusal = await asyncio.to_thread(self.roles.refusal, runner, action, "*", service)
        if refusal:
            self.counts["denied"] += 1
            return None, web.Response(status=403, text=refusal)
        return runner, None

    async def _put_trace_segments(self, request: Any) -> Any:
        from aiohttp import web
        runner, refusal = await self._caller(request, "xray", PUT_TRACES_ACTION, "X-Ray")
        if refusal is not None:
            return refusal
        try:
            documents = json.loads(await request.read())["TraceSegmentDocuments"]
            if not isinstance(documents, list) or not all(isinstance(d, str) for d in documents):
                raise TypeError("TraceSegmentDocuments must be a list of strings")
        except (ValueError, KeyError, TypeError) as error:
            return web.Response(status=400, text=f"InvalidRequestException: {error}")
        try:
            answer = await self.agent.control.call("xray", runner.region, "put_trace_segments",
                                                   TraceSegmentDocuments=documents)
        except Exception as error:  # X-Ray's own refusal, passed back to the caller
            self.counts["failed"] += 1
            return web.Response(status=400, text=str(error))
        unprocessed = answer.get("UnprocessedTraceSegments") or []
        self.counts["segments"] += len(documents) - len(unprocessed)
        return web.Response(status=200, text=json.dumps({"UnprocessedTraceSegments": unprocessed}))

    async def _put_metric_data(self, request: Any) -> Any:
        from aiohttp import web
        runner, refusal = await self._caller(request, "monitoring", PUT_ACTION, "CloudWatch")
        if refusal is not None:
            return refusal
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
