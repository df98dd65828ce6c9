"""The Event history's store: one ring buffer of compact entries per Region.

The emulator serves hundreds of calls a second, so recording one must cost next to
nothing: an entry is a tuple of what the request already had (its decoded parameters,
the access key, the answer's status, the error answer's bytes), and the record's JSON
is built only when LookupEvents returns it (`entry_record`). Event IDs and request IDs
are derived from the entry's sequence number, so they stay the same from one lookup
to the next without costing a UUID per call.

Event history shows management events only
(https://docs.aws.amazon.com/awscloudtrail/latest/userguide/view-cloudtrail-events.html), so
data events (S3 object calls, ...) go to a second ring buffer per Region, which only trails
read (`delivery`), and only while a trail that logs data events is logging (`DATA_WANTED`):
otherwise nobody could ever see them, and S3 object calls, the hottest path, cost nothing.
"""
from __future__ import annotations

import collections
import hashlib
import itertools
import json
import re
import secrets
import threading
import time
import uuid
from typing import Any, NamedTuple

from mylearning.emulator import auth
from mylearning.emulator.fidelity.iam.enforcement import session_of
from mylearning.emulator.fidelity.core import AwsRequest, after_every, on_reset
from mylearning.facts import cloudtrail as facts

#: Events kept per Region (the oldest go first). About 1 KB each with its parameters,
#: so at most ~20 MB a Region; a lab session makes a few thousand calls.
PER_REGION = 20_000
#: Data events kept per Region until a trail delivers them (the oldest go first).
DATA_PER_REGION = 20_000
#: Whether some logging trail logs data events (set by `delivery`): recorded only then.
DATA_WANTED = [False]

#: Operations whose body the history must not keep: the ingest carries whole records.
_NOT_RECORDED = frozenset({
    ("cloudtrail-data", "PutAuditEvents"),
    # CloudWatch Logs does not log its log-event reads and writes to CloudTrail:
    # https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/logging_cw_api_calls.html
    ("logs", "PutLogEvents"), ("logs", "GetLogEvents"), ("logs", "FilterLogEvents"),
})
#: Requests with a larger body keep no parameters in the record: the history holds up to
#: PER_REGION entries, and a batch of metrics or traces kept 20,000 times would fill memory.
#: (An emulator bound: AWS keeps parameters of every size.)
MAX_PARAMS_BODY = 8 * 1024


class Entry(NamedTuple):
    seq: int
    when: float
    region: str
    service: str            # boto3 client name
    operation: str
    access_key: str
    user_agent: str
    source_ip: str
    status: int
    error: bytes | None     # the error answer, parsed only when looked up
    params: Any             # the decoded request's parameters (not copied)
    record: dict | None     # a whole record handed over by the data plane, else None


_LOCK = threading.Lock()
_BY_REGION: dict[str, collections.deque] = {}
_DATA_BY_REGION: dict[str, collections.deque] = {}
_SEQ = itertools.count(1)
#: Salt of the derived IDs, new for each emulator (and reset), so two runs never collide.
_SALT = [secrets.randbits(64)]
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/")


def _buffer(region: str, data: bool = False) -> collections.deque:
    buffers = _DATA_BY_REGION if data else _BY_REGION
    found = buffers.get(region)
    if found is None:
        with _LOCK:
            found = buffers.setdefault(region, collections.deque(
                maxlen=DATA_PER_REGION if data else PER_REGION))
    return found


def mark() -> int:
    """A sequence number: every entry kept from now on has a larger one."""
    return next(_SEQ)


def regions() -> list[str]:
    """The Regions that have entries of either kind."""
    return sorted(set(_BY_REGION) | set(_DATA_BY_REGION))


@after_every
def recorded(req: AwsRequest, status: int, answer: list) -> None:
    """Keep one call's entry: a management event for Event history, a data event for trails
    (if one would log it), nothing for what neither shows."""
    environ = req.environ
    agent = environ.get("HTTP_USER_AGENT", "")
    key = (req.service, req.operation)
    if key in _NOT_RECORDED:
        return
    data = req.operation in facts.DATA_EVENTS.get(facts.event_source(req.service), ())
    if data and not DATA_WANTED[0]:
        return
    match = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
    access_key = match.group(1) if match else (auth.presented(environ) or "")
    # The data plane's own calls stand for AWS's internals; what it does as a role session
    # (ECS reading a secret with the execution role) is the customer's, as on AWS.
    if facts.DATAPLANE_USER_AGENT in agent and session_of(access_key) is None:
        return
    error = b"".join(answer)[:4096] if status >= 300 else None
    _buffer(req.region, data).append(Entry(
        next(_SEQ), time.time(), req.region, req.service, req.operation, access_key, agent,
        environ.get("REMOTE_ADDR", ""), status, error,
        req.params if len(req.body) <= MAX_PARAMS_BODY else None, None))


def add_record(record: dict) -> Entry:
    """Add a whole record (handed over on the service channel) to its Region's history, or,
    a data event, to its Region's data events for trails."""
    entry = Entry(next(_SEQ), facts.parse_time(record["eventTime"]), record.get("awsRegion") or "us-east-1",
                  "", record.get("eventName", ""), record.get("userIdentity", {}).get("accessKeyId", ""),
                  record.get("userAgent", ""), record.get("sourceIPAddress", ""), 200, None, None, record)
    _buffer(entry.region, record.get("managementEvent") is False).append(entry)
    return entry


def entries(region: str, data: bool = False) -> list[Entry]:
    """The Region's entries (management events, or its data events), a snapshot (the buffer
    may grow while a lookup reads it)."""
    found = (_DATA_BY_REGION if data else _BY_REGION).get(region)
    if not found:
        return []
    while True:
        try:
            return list(found)
        except RuntimeError:  # appended to while copied: copy again
            continue


def event_id(entry: Entry) -> str:
    if entry.record is not None and entry.record.get("eventID"):
        return entry.record["eventID"]
    return _derived(b"event", entry.seq)


def _request_id(entry: Entry) -> str:
    return _derived(b"request", entry.seq)


def _derived(kind: bytes, seq: int) -> str:
    """A random-looking UUID, the same for one entry at every lookup."""
    digest = hashlib.blake2b(kind + seq.to_bytes(8, "big"), digest_size=16,
                             key=_SALT[0].to_bytes(8, "big")).digest()
    return str(uuid.UUID(bytes=digest, version=4))


@on_reset
def _clear() -> None:
    with _LOCK:
        _BY_REGION.clear()
        _DATA_BY_REGION.clear()
    _SALT[0] = secrets.randbits(64)
    from mylearning.emulator.fidelity.cloudtrail import identity
    identity.forget()


# ------------------------------------------------------------------ building records

_JSON_TYPE = re.compile(rb'"__type"\s*:\s*"([^"]*)"')
_XML_CODE = re.compile(rb"<Code>([^<]*)</Code>")
_XML_MESSAGE = re.compile(rb"<Message>([^<]*)</Message>")


def error_of(status: int, body: bytes | None) -> tuple[str | None, str | None]:
    """errorCode and errorMessage of a failed call, read from its answer as a client would."""
    if status < 300:
        return None, None
    body = body or b""
    code = message = None
    try:
        value = json.loads(body)
    except ValueError:
        value = None
    if isinstance(value, dict):
        code = str(value.get("__type") or value.get("code") or value.get("Code") or "")
        message = value.get("message") or value.get("Message")
    else:
        found = _XML_CODE.search(body)
        code = found.group(1).decode(errors="replace") if found else None
        said = _XML_MESSAGE.search(body)
        message = said.group(1).decode(errors="replace") if said else None
    code = (code or "").rsplit("#", 1)[-1].split(":", 1)[0] or f"Http{status}"
    import html
    return code, html.unescape(str(message)) if message else code


def entry_record(entry: Entry, account: str) -> dict:
    """The CloudTrail record of an entry (built now, not when the call was made)."""
    if entry.record is not None:
        return entry.record
    from mylearning.emulator.fidelity.cloudtrail import identity

    source = facts.event_source(entry.service)
    params = entry.params if isinstance(entry.params, dict) else {}
    code, message = error_of(entry.status, entry.error)
    data = facts.is_data_event(source, entry.operation)
    resources = facts.record_resources(
        facts.data_resource(source, params, "aws", entry.region, account), account) if data else None
    return facts.record(
        event_name=entry.operation, event_source=source, region=entry.region, account=account,
        identity=identity.of(entry.access_key, account), event_time=entry.when,
        event_id=event_id(entry), request_id=_request_id(entry), source_ip=entry.source_ip,
        user_agent=entry.user_agent, parameters=facts.request_parameters(params, source=source),
        error_code=code, error_message=message, management=not data, resources=resources)
