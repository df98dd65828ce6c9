"""AWS X-Ray facts: what a segment document may hold, and how X-Ray classifies a response.

No I/O: the embedded AWS (``mylearning.emulator.fidelity.xray``) enforces them, and the
course's tracing helpers may explain them before X-Ray refuses a document.
"""
from __future__ import annotations

import re

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
