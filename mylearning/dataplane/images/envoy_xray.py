"""The sidecar's X-Ray tracer: a segment per request the proxy handles, to the task's daemon.

With ``ENABLE_ENVOY_XRAY_TRACING=1`` App Mesh configures Envoy's X-Ray tracer
(https://docs.aws.amazon.com/app-mesh/latest/userguide/envoy-config.html, "Tracing variables";
https://docs.aws.amazon.com/xray/latest/devguide/xray-services-appmesh.html):

* The proxy joins the trace of the incoming ``X-Amzn-Trace-Id`` (Root, Parent, Sampled) or starts
  one, and passes it on to the upstream with its own segment id as Parent and its decision as
  Sampled, so the next hop's segment names this one as its parent
  (https://docs.aws.amazon.com/xray/latest/devguide/xray-concepts.html#xray-concepts-tracingheader).
* Sampling: a decision in the incoming header is followed; without one the proxy samples at
  ``XRAY_SAMPLING_RATE`` (default 0.05), a fixed rate, not X-Ray's sampling rules.
* The segment: name ``<mesh>/<virtual node or gateway>`` (``XRAY_SEGMENT_NAME`` overrides it),
  ``origin`` ``AWS::AppMesh::Proxy`` (Envoy's SegmentFields), the HTTP request and response, and
  the error/throttle/fault flags of its status (`mylearning.facts.xray.error_flags`). It goes to
  the daemon at 127.0.0.1:``XRAY_DAEMON_PORT`` (2000), the task's own address here.

Where this differs from Envoy: the ``aws.app_mesh`` metadata App Mesh adds is not documented
and is left out; a request the proxy refuses before routing (no filter chain) is not traced.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from aiohttp import web

from mylearning.facts import xray as facts

from .tracing import Emitter, Sampler, http_block, new_id, new_trace_id

#: Where a request's span is kept on the aiohttp request while the proxy handles it.
SPAN: Any = (web.RequestKey("mylearning.xray", object) if hasattr(web, "RequestKey")  # aiohttp >= 3.12
             else "mylearning.xray")
_HEADER = facts.HEADER.lower()


@dataclass
class _Span:
    trace_id: str
    id: str
    parent: Optional[str]
    sampled: bool
    start: float
    url: str


def enabled(env: Any) -> bool:
    return str(env.get(facts.ENVOY_TRACING_VARIABLE, "")).strip() == "1"


class ProxyTracer:
    """The tracer of one sidecar (`envoy.Sidecar`): begin, inject, end, per request."""

    def __init__(self, name: str, emitter: Emitter, sampler: Sampler) -> None:
        self.name = name
        self.emitter = emitter
        self.sampler = sampler

    def begin(self, request: Any, started: float) -> None:
        incoming = facts.parse_header(request.headers.get(facts.HEADER))
        host = request.headers.get("Host") or ""
        path = request.raw_path if request.raw_path.startswith("/") else request.url.raw_path_qs
        request[SPAN] = _Span(incoming.root or new_trace_id(started), new_id(), incoming.parent,
                              self.sampler.decide(incoming.sampled), started, f"http://{host}{path}")

    def inject(self, request: Any, headers: dict) -> None:
        """Put the trace header the upstream receives in `headers` (a copy of the request's)."""
        span: Optional[_Span] = request.get(SPAN)
        if span is None:
            return
        for key in [k for k in headers if k.lower() == _HEADER]:
            del headers[key]
        headers[facts.HEADER] = facts.render_header(span.trace_id, span.id, span.sampled)

    def end(self, request: Any, status: int, sent: int, now: float) -> None:
        span: Optional[_Span] = request.pop(SPAN, None)
        if span is None or not span.sampled or not status:
            return
        forwarded = request.headers.get("X-Forwarded-For", "")
        client = forwarded.split(",")[0].strip() if forwarded else (request.remote or "")
        document = {"name": self.name, "id": span.id, "trace_id": span.trace_id, "start_time": span.start,
                    "end_time": max(now, span.start), "origin": facts.ENVOY_ORIGIN,
                    "http": http_block(request.method, span.url, status, client_ip=client,
                                       forwarded=bool(forwarded), length=sent,
                                       user_agent=request.headers.get("User-Agent", "")),
                    **facts.error_flags(status)}
        if span.parent:
            document["parent_id"] = span.parent
        self.emitter.send(document)


def wire(sidecar: Any) -> Optional[ProxyTracer]:
    """The tracer for `sidecar`, or None when ENABLE_ENVOY_XRAY_TRACING is not 1."""
    env = sidecar.container.env
    if not enabled(env):
        return None
    try:
        port = int(env.get(facts.ENVOY_DAEMON_PORT_VARIABLE) or facts.DAEMON_PORT)
        rate = float(env.get(facts.ENVOY_SAMPLING_RATE_VARIABLE) or facts.ENVOY_SAMPLING_RATE)
    except ValueError as error:
        sidecar.log("warning", "tracing", f"X-Ray tracing variables not understood ({error}): using the defaults")
        port, rate = facts.DAEMON_PORT, facts.ENVOY_SAMPLING_RATE
    name = env.get(facts.ENVOY_SEGMENT_NAME_VARIABLE) or facts.envoy_segment_name(
        sidecar.resource.mesh, sidecar.resource.name)
    sidecar.log("info", "tracing", f"X-Ray tracer: segments named {name} to 127.0.0.1:{port}, sampling rate {rate:g}")
    return ProxyTracer(name, Emitter((sidecar.address, port), sidecar.address), Sampler(rate))
