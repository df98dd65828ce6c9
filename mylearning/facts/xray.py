"""AWS X-Ray facts, one copy of each: what a segment document may hold, how X-Ray classifies
a response, and how a trace travels between X-Ray's clients (the tracing header, the daemon,
the senders' defaults). No I/O.

The embedded AWS (``mylearning.emulator.fidelity.xray``) enforces the document rules; the data
plane's images (the daemon, the sidecar proxy, the course's services) and the course's task
definitions (`mylearning.mesh.sidecar`) read the header, daemon, SDK and Envoy facts. Both meet
at the same trace and segment ids, the same 64 kB, the same error flags.
"""
from __future__ import annotations

import re
from typing import NamedTuple, Optional

GUIDE = "https://docs.aws.amazon.com/xray/latest/devguide/"
API = "https://docs.aws.amazon.com/xray/latest/api/"
SEGMENT_DOCUMENTS = GUIDE + "xray-api-segmentdocuments.html"
FILTER_EXPRESSIONS = GUIDE + "xray-console-filters.html"

# ---------------------------------------------------------------- segment documents (SEGMENT_DOCUMENTS)

#: "A trace_id consists of three numbers separated by hyphens": the version 1, the time of
#: the original request in 8 hexadecimal digits, a 96-bit identifier in 24 hexadecimal digits.
TRACE_ID = re.compile(r"1-[0-9a-fA-F]{8}-[0-9a-fA-F]{24}")
#: "id – A 64-bit identifier ... in 16 hexadecimal digits" (segments, subsegments, exceptions).
SEGMENT_ID = re.compile(r"[0-9a-fA-F]{16}")
#: "A segment document can be up to 64 kB".
MAX_DOCUMENT_BYTES = 64 * 1024
#: A segment's name: "up to 200 characters ... Unicode letters, numbers, and whitespace, and
#: the following symbols: _, ., :, /, %, &, #, =, +, \\, -, @".
MAX_NAME = 200
NAME = re.compile(r"[\w\s.:/%&#=+\\\-@]+")
#: The error flags: "error – boolean indicating that a client error occurred (4XX)",
#: "throttle – ... (429 Too Many Requests)", "fault – ... a server error (5XX)".
ERROR_FLAGS = ("error", "throttle", "fault")
#: A subsegment's namespace: "aws for AWS SDK calls; remote for other downstream calls" (the
#: calls X-Ray infers services from). AWS's own X-Ray SDK for Python sends "local" for its
#: other subsegments (aws_xray_sdk.core.models.subsegment: "Currently support aws, remote and
#: local"), so a namespace is any string.
NAMESPACES = ("aws", "remote")
#: Annotations: "Fields can have string, number, or Boolean values (no objects or arrays)";
#: "Keys must be alphanumeric in order to work with filters. Underscore is allowed."
ANNOTATION_KEY = re.compile(r"[A-Za-z0-9_]+")
#: The SDK pages' annotation requirements: keys "up to 500 alphanumeric characters", values
#: "up to 1,000 Unicode characters" (GUIDE + "xray-sdk-ruby-segment.html"; the same page's
#: "up to 50 annotations per trace" is not enforced here: a document cannot see its trace's).
MAX_ANNOTATION_KEY = 500
MAX_ANNOTATION_VALUE = 1000
#: ``origin``, "the type of AWS resource running your application": the segment reference
#: lists AWS::EC2::Instance, AWS::ECS::Container and AWS::ElasticBeanstalk::Environment; App
#: Mesh's Envoy writes AWS::AppMesh::Proxy (Envoy's XRayConfig.SegmentFields, "The type of AWS
#: resource, e.g. AWS::AppMesh::Proxy",
#: https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/trace/v3/xray.proto). X-Ray
#: refuses no origin string: these are the ones the course's services send.
ORIGINS = ("AWS::EC2::Instance", "AWS::ECS::Container", "AWS::ElasticBeanstalk::Environment",
           "AWS::AppMesh::Proxy")

# ---------------------------------------------------------------- groups (GUIDE + "xray-console-groups.html")

#: "A group name can have a maximum of 32 characters, and contain alphanumeric characters and
#: dashes. Group names are case sensitive."
GROUP_NAME = re.compile(r"[A-Za-z0-9-]{1,32}")
#: Every account's group of all traces: "You can't delete the Default group."
DEFAULT_GROUP = "Default"

# ---------------------------------------------------------------- responses

#: What X-Ray counts a segment as, from its flags or else its HTTP status, as the
#: "Errors and exceptions" section pairs them: fault 5XX, throttle 429 (an error too), error 4XX.
THROTTLE_STATUS = 429


def status_class(status: int | None, flags: dict) -> str:
    """"fault", "throttle", "error" or "ok": the one bucket a segment's response falls in
    (ServiceStatistics / ErrorStatistics / FaultStatistics, API + "API_ServiceStatistics.html")."""
    if flags.get("fault") is True or (status is not None and status >= 500):
        return "fault"
    if flags.get("throttle") is True or status == THROTTLE_STATUS:
        return "throttle"
    if flags.get("error") is True or (status is not None and 400 <= status < 500):
        return "error"
    return "ok"


#: The service graph's histograms pair a Value with its Count (API + "API_HistogramEntry.html");
#: AWS doesn't say how it buckets values: here durations are rounded to the millisecond.
HISTOGRAM_PRECISION = 3


# ---------------------------------------------------------------- the tracing header
#: "X-Ray ... adds a tracing header named X-Amzn-Trace-Id" carrying ``Root`` (the trace id),
#: ``Parent`` (the segment or subsegment that made the call) and ``Sampled`` (1, 0, or ``?`` to
#: let the receiver decide) (GUIDE + "xray-concepts.html#xray-concepts-tracingheader").
#: HTTP field names are case-insensitive (RFC 9110 §5.1).
HEADER = "X-Amzn-Trace-Id"


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
            root = field if TRACE_ID.fullmatch(field) else None
        elif name == "parent":
            parent = field if SEGMENT_ID.fullmatch(field) else None
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
#: A UDP datagram holds at most 64 KB, the size of the largest segment document X-Ray takes.
MAX_DATAGRAM = MAX_DOCUMENT_BYTES
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
    """The flags a sender writes of a response: "error – boolean indicating that a client error
    occurred (response status code was 4XX Client Error)", "throttle – ... (429 Too Many
    Requests)", "fault – ... server error (5XX)" (SEGMENT_DOCUMENTS, "Errors and exceptions").
    A throttle is an error too; `status_class` reads them back."""
    return {"fault": {"fault": True}, "throttle": {"error": True, "throttle": True},
            "error": {"error": True}, "ok": {}}[status_class(status, {})]
