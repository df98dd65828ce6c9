"""The X-Ray SDK as the course's services are instrumented with it: a segment per request, a
subsegment per call.

What the SDKs document and the MyLearning images do (https://docs.aws.amazon.com/xray/latest/devguide/xray-sdk-python.html,
xray-sdk-python-middleware.html, xray-sdk-python-httpclients.html, xray-sdk-python-configuration.html):

* **When**: an instrumented service always records; there is no "is a daemon running" check. It
  sends each segment over UDP to ``AWS_XRAY_DAEMON_ADDRESS``, by default 127.0.0.1:2000; when no
  daemon listens there the datagrams are lost. ``AWS_XRAY_SDK_ENABLED=false`` turns the SDK off.
* **Incoming requests** (the middleware): the trace of the incoming ``X-Amzn-Trace-Id`` is joined
  (Root, Parent as the segment's ``parent_id``) or a new one started; its sampling decision is
  followed, else the default rule applies (the first request each second and 5% of the others).
  The segment is named ``AWS_XRAY_TRACING_NAME`` or the service's name, with the request's
  method, URL, client and status and the error/throttle/fault flags of the status; the ECS
  plugin's ``origin`` ``AWS::ECS::Container``. The response carries ``X-Amzn-Trace-Id: Root=...``.
* **Outgoing calls** (the patched HTTP client): each call is a subsegment named after the host
  called, ``namespace`` ``remote``, with its request and response; the call carries the trace
  header with the subsegment's id as Parent, so the callee's segment is its child.

Where this differs: the services leave ``/health`` and ``/_mylearning/`` untraced (what a sampling
rule excluding them would do), and sampling rules are not fetched from X-Ray (the SDK's fallback,
its default local rule, is used).
"""
from __future__ import annotations

import contextvars
import time
from dataclasses import dataclass, field
from typing import Any, Optional
from urllib.parse import urlsplit

from mylearning.facts import xray as facts

from .tracing import Emitter, Sampler, daemon_address, http_block, new_id, new_trace_id

_HEADER = facts.HEADER.lower()


@dataclass
class Segment:
    """The segment of the request being served (while it is served)."""

    trace_id: str
    id: str
    parent: Optional[str]
    sampled: bool
    start: float
    subsegments: list = field(default_factory=list)

    def header_for(self, parent: str) -> str:
        return facts.render_header(self.trace_id, parent, self.sampled)


#: The segment of the request the current task serves (copied into tasks it starts, so calls
#: made with asyncio.gather are recorded too).
CURRENT: contextvars.ContextVar[Optional[Segment]] = contextvars.ContextVar("xray_segment", default=None)


def enabled(env: Any) -> bool:
    return str(env.get(facts.SDK_ENABLED_VARIABLE, "true")).strip().lower() != "false"


class Recorder:
    """The SDK's recorder for one service: begins and ends segments, wraps its HTTP client."""

    def __init__(self, name: str, emitter: Emitter, sampler: Sampler, container_name: str = "") -> None:
        self.name = name
        self.emitter = emitter
        self.sampler = sampler
        self.container_name = container_name

    @classmethod
    def for_container(cls, container: Any, service: str) -> Optional["Recorder"]:
        env = container.env
        if not enabled(env):
            return None
        return cls(env.get(facts.SDK_NAME_VARIABLE) or service,
                   Emitter(daemon_address(env, container.address), container.address),
                   Sampler(facts.SDK_FIXED_RATE, facts.SDK_RESERVOIR_PER_SECOND), env.get("HOSTNAME", ""))

    def begin(self, header: Optional[str]) -> Segment:
        incoming = facts.parse_header(header)
        now = time.time()
        segment = Segment(incoming.root or new_trace_id(now), new_id(), incoming.parent,
                          self.sampler.decide(incoming.sampled), now)
        CURRENT.set(segment)
        return segment

    def end(self, segment: Segment, request: Any, status: int) -> None:
        """Send `segment` (when sampled) for the answer `status` to `request` (an aiohttp request)."""
        CURRENT.set(None)  # a kept-alive connection serves its next request in the same task
        if not segment.sampled:
            return
        forwarded = request.headers.get("X-Forwarded-For", "")
        client = forwarded.split(",")[0].strip() if forwarded else (request.remote or "")
        url = f"{request.scheme}://{request.host}{request.path_qs}"
        document: dict[str, Any] = {
            "name": self.name, "id": segment.id, "trace_id": segment.trace_id, "start_time": segment.start,
            "end_time": time.time(), "origin": facts.ECS_ORIGIN,
            "http": http_block(request.method, url, status, user_agent=request.headers.get("User-Agent", ""),
                               client_ip=client, forwarded=bool(forwarded)),
            **facts.error_flags(status)}
        if segment.parent:
            document["parent_id"] = segment.parent
        if self.container_name:
            document["aws"] = {"ecs": {"container": self.container_name}}
        if segment.subsegments:
            document["subsegments"] = segment.subsegments
        self.emitter.send(document)


class TracedHTTP:
    """A task HTTP client (`Container.http`) whose calls are subsegments of the current segment."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def request(self, method: str, url: str, **kwargs: Any) -> "_Call":
        return _Call(self.inner, method, url, kwargs)

    def get(self, url: str, **kwargs: Any) -> "_Call":
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> "_Call":
        return self.request("POST", url, **kwargs)

    async def close(self) -> None:
        await self.inner.close()


class _Call:
    def __init__(self, inner: Any, method: str, url: str, kwargs: dict) -> None:
        self.inner, self.method, self.url, self.kwargs = inner, method, url, kwargs
        self.segment = CURRENT.get()
        self.id = new_id()
        self.start = 0.0
        self._cm: Any = None

    async def __aenter__(self) -> Any:
        self.start = time.time()
        if self.segment is not None:
            headers = {k: v for k, v in dict(self.kwargs.get("headers") or {}).items() if k.lower() != _HEADER}
            headers[facts.HEADER] = self.segment.header_for(self.id)
            self.kwargs["headers"] = headers
        self._cm = self.inner.request(self.method, self.url, **self.kwargs)
        try:
            answer = await self._cm.__aenter__()
        except BaseException:
            self._record(None)
            raise
        self._status = answer.status
        return answer

    async def __aexit__(self, *exc: Any) -> Any:
        try:
            return await self._cm.__aexit__(*exc)
        finally:
            self._record(self._status)

    def _record(self, status: Optional[int]) -> None:
        segment = self.segment
        if segment is None or not segment.sampled:
            return
        sub: dict[str, Any] = {"id": self.id, "name": urlsplit(self.url).hostname or self.url,
                               "start_time": self.start, "end_time": time.time(), "namespace": "remote"}
        if status is None:
            sub["http"] = {"request": {"method": self.method, "url": self.url}}
            sub["fault"] = True  # no answer: the call failed on the caller's side of the wire
        else:
            sub["http"] = http_block(self.method, self.url, status)
            sub.update(facts.error_flags(status))
        segment.subsegments.append(sub)
