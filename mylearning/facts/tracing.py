"""How a trace travels between X-Ray's clients: the tracing header, the daemon, the senders' defaults. No I/O.

The X-Ray daemon, App Mesh's Envoy and the X-Ray SDKs meet at two interfaces: the
``X-Amzn-Trace-Id`` HTTP header that carries a request's trace from one service to the next,
and the daemon's UDP port that takes segment documents. The data plane's images (the daemon,
the sidecar proxy, the course's services) and the course's task definitions
(`mylearning.mesh.sidecar`) read these facts from here. What a segment document may hold is
X-Ray's own rule (`mylearning.facts.xray` where the control plane checks it).
"""
from __future__ import annotations

import re
from typing import NamedTuple, Optional

GUIDE = "https://docs.aws.amazon.com/xray/latest/devguide/"

# ---------------------------------------------------------------- the tracing header
#: "X-Ray ... adds a tracing header named X-Amzn-Trace-Id" carrying ``Root`` (the trace id),
#: ``Parent`` (the segment or subsegment that made the call) and ``Sampled`` (1, 0, or ``?`` to
#: let the receiver decide) (GUIDE + "xray-concepts.html#xray-concepts-tracingheader").
#: HTTP field names are case-insensitive (RFC 9110 §5.1).
HEADER = "X-Amzn-Trace-Id"
_TRACE_ID = re.compile(r"1-[0-9a-fA-F]{8}-[0-9a-fA-F]{24}")
_SEGMENT_ID = re.compile(r"[0-9a-fA-F]{16}")


class TraceHeader(NamedTuple):
    """One ``X-Amzn-Trace-Id`` value. `sampled` is True, False, or None (no decision yet, or ``?``).

    Fields the header carries that are not Root, Parent or Sampled (the ALB's ``Self``, a
    customer's own ``key=value``) are kept in `extra` and passed on: the ALB "preserves" fields it
    does not know (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-request-tracing.html).
    """

    root: Optional[str] = None
    parent: Optional[str] = None
    sampled: Optional[bool] = None
    extra: tuple[tuple[str, str], ...] = ()

    def render(self) -> str:
        return render_header(self.root, self.parent, self.sampled, self.extra)


def render_header(root: Optional[str], parent: Optional[str] = None, sampled: Optional[bool] = None,
                  extra: tuple[tuple[str, str], ...] = ()) -> str:
    """The header's text: ``Root=...;Parent=...;Sampled=1`` (the ALB's ``Self`` is not passed on)."""
    parts = []
    if root:
        parts.append(f"Root={root}")
    if parent:
        parts.append(f"Parent={parent}")
    if sampled is not None:
        parts.append("Sampled=1" if sampled else "Sampled=0")
    parts += [f"{k}={v}" for k, v in extra if k.lower() != "self"]
    return ";".join(parts)


def parse_header(value: Optional[str]) -> TraceHeader:
    """The header's fields; a malformed Root or Parent is dropped (the receiver then starts a
    trace of its own, as the SDKs do with a header they cannot read)."""
    if not value:
        return TraceHeader()
    root = parent = None
    sampled: Optional[bool] = None
    extra = []
    for part in value.split(";"):
        key, sep, field = part.strip().partition("=")
        if not sep:
            continue
        name = key.strip().lower()
        field = field.strip()
        if name == "root":
            root = field if _TRACE_ID.fullmatch(field) else None
        elif name == "parent":
            parent = field if _SEGMENT_ID.fullmatch(field) else None
        elif name == "sampled":
            sampled = {"1": True, "0": False}.get(field)
        else:
            extra.append((key.strip(), field))
    return TraceHeader(root, parent if root else None, sampled, tuple(extra))


# ---------------------------------------------------------------- the daemon
#: The daemon's image on ECR Public (GUIDE + "xray-daemon-ecs.html"), its tags, and the port it
#: listens on for segments, UDP 2000 by default (``-b``/``--bind``; GUIDE + "xray-daemon-configuration.html").
DAEMON_IMAGE = "public.ecr.aws/xray/aws-xray-daemon:3.3.13"
DAEMON_REPOSITORY = "xray/aws-xray-daemon"
DAEMON_TAGS = ("3.3.13",)
DAEMON_PORT = 2000
#: "AWS_XRAY_DAEMON_ADDRESS – Set the host and port of the X-Ray daemon listener. By default, the
#: SDK uses 127.0.0.1:2000" (GUIDE + "xray-sdk-python-configuration.html#xray-sdk-python-configuration-envvars");
#: in an awsvpc task 127.0.0.1 is the task's own network namespace (GUIDE + "xray-daemon-ecs.html").
ADDRESS_VARIABLE = "AWS_XRAY_DAEMON_ADDRESS"
DEFAULT_ADDRESS = ("127.0.0.1", DAEMON_PORT)
#: Each datagram is a header line, then one segment document: ``{"format": "json", "version": 1}\\n{...}``
#: (GUIDE + "xray-api-sendingdata.html#xray-api-daemon").
DATAGRAM_HEADER = '{"format": "json", "version": 1}'
#: A UDP datagram holds at most 64 KB, the size of the largest segment document X-Ray takes
#: (GUIDE + "xray-api-segmentdocuments.html": "A segment document can be up to 64 kB").
MAX_DATAGRAM = 64 * 1024
#: What the daemon's role must allow: the AWSXRayDaemonWriteAccess managed policy's actions
#: (https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSXRayDaemonWriteAccess.html).
PUT_ACTION = "xray:PutTraceSegments"
DAEMON_ACTIONS = ("xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules",
                  "xray:GetSamplingTargets", "xray:GetSamplingStatisticSummaries")

# ---------------------------------------------------------------- the SDKs
#: "AWS_XRAY_SDK_ENABLED – When set to false, disables the SDK"; "AWS_XRAY_TRACING_NAME – Set a
#: service name that the SDK uses for segments" (GUIDE + "xray-sdk-python-configuration.html").
SDK_ENABLED_VARIABLE = "AWS_XRAY_SDK_ENABLED"
SDK_NAME_VARIABLE = "AWS_XRAY_TRACING_NAME"
#: "By default, the X-Ray SDK records the first request each second, and five percent of any
#: additional requests" (GUIDE + "xray-console-sampling.html").
SDK_RESERVOIR_PER_SECOND = 1
SDK_FIXED_RATE = 0.05
#: The origin the SDKs' ECS plugin gives a container's segments (GUIDE + "xray-api-segmentdocuments.html", origin).
ECS_ORIGIN = "AWS::ECS::Container"

# ---------------------------------------------------------------- App Mesh's Envoy
#: https://docs.aws.amazon.com/app-mesh/latest/userguide/envoy-config.html, "Tracing variables":
#: ``ENABLE_ENVOY_XRAY_TRACING=1`` turns X-Ray tracing on with 127.0.0.1:2000 as the daemon,
#: ``XRAY_DAEMON_PORT`` changes the port, ``XRAY_SAMPLING_RATE`` (0 to 1.00, default 0.05) is the
#: rate, ``XRAY_SEGMENT_NAME`` overrides the segment name, "mesh/resourceName" by default.
#: "The App Mesh version of Envoy does not currently send traces based on configured sampling
#: rules. Instead, it uses a fixed sampling rate of 5%" (GUIDE + "xray-services-appmesh.html").
ENVOY_TRACING_VARIABLE = "ENABLE_ENVOY_XRAY_TRACING"
ENVOY_DAEMON_PORT_VARIABLE = "XRAY_DAEMON_PORT"
ENVOY_SAMPLING_RATE_VARIABLE = "XRAY_SAMPLING_RATE"
ENVOY_SEGMENT_NAME_VARIABLE = "XRAY_SEGMENT_NAME"
ENVOY_SAMPLING_RATE = 0.05
#: The origin Envoy gives its segments when App Mesh configures its X-Ray tracer
#: (https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/trace/v3/xray.proto, SegmentFields:
#: origin, "e.g. AWS::AppMesh::Proxy").
ENVOY_ORIGIN = "AWS::AppMesh::Proxy"


def envoy_segment_name(mesh: str, resource: str) -> str:
    """The name of a proxy's segments: ``<mesh>/<virtual node or gateway>`` (envoy-config.html,
    XRAY_SEGMENT_NAME's default)."""
    return f"{mesh}/{resource}"


def error_flags(status: int) -> dict:
    """The flags X-Ray reads of a response: "error – boolean indicating that a client error
    occurred (response status code was 4XX Client Error)", "throttle – ... (429 Too Many
    Requests)", "fault – ... server error (5XX)" (GUIDE + "xray-api-segmentdocuments.html#api-segmentdocuments-errors")."""
    if status >= 500:
        return {"fault": True}
    if status == 429:
        return {"error": True, "throttle": True}
    if 400 <= status < 500:
        return {"error": True}
    return {}
