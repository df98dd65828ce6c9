"""LookupEvents, answered from the Event history the emulator records (see `history`).

As the API reference documents it
(https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html):
at most one lookup attribute (InvalidLookupAttributesException otherwise), StartTime not
after EndTime (InvalidTimeRangeException), MaxResults 1 through 50, default 50
(InvalidMaxResultsException), a NextToken valid only with the parameters it came with
(InvalidNextTokenException), the most recent event first, in the Region called. Insights
events are returned only when EventCategory is ``insight``; the emulator makes none, so
that lookup finds nothing (any other category is InvalidEventCategoryException).
"""
from __future__ import annotations

import base64
import datetime
import hashlib
import json
from typing import Any

from mylearning.emulator.fidelity.cloudtrail import history
from mylearning.emulator.fidelity.core import AwsError, AwsRequest, handler
from mylearning.emulator.fidelity.validation import structured
from mylearning.facts import cloudtrail as facts

API = "https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html"


def _account() -> str:
    from moto.core import DEFAULT_ACCOUNT_ID
    return DEFAULT_ACCOUNT_ID


def _time(value: Any, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return value.timestamp()
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        pass
    try:
        return facts.parse_time(str(value))
    except ValueError:
        raise AwsError("InvalidTimeRangeException", f"{name} is not a valid time: {value}") from None


def _attribute(params: dict) -> tuple[str, str] | None:
    given = params.get("LookupAttributes")
    if not given:
        return None
    if not isinstance(given, list) or len(given) != 1:
        raise AwsError("InvalidLookupAttributesException",
                       "You can specify only one lookup attribute per request.")
    item = given[0] if isinstance(given[0], dict) else {}
    key, value = item.get("AttributeKey"), item.get("AttributeValue")
    if key not in facts.LOOKUP_ATTRIBUTES:
        raise AwsError("InvalidLookupAttributesException",
                       f"Invalid AttributeKey {key!r}; valid keys: {', '.join(facts.LOOKUP_ATTRIBUTES)}")
    if not isinstance(value, str) or not value:
        raise AwsError("InvalidLookupAttributesException", f"AttributeValue for {key} is missing.")
    if key == "ReadOnly" and value not in ("true", "false"):
        raise AwsError("InvalidLookupAttributesException",
                       f"AttributeValue for ReadOnly must be true or false, not {value!r}.")
    return key, value


def _matches(attribute: tuple[str, str] | None, event: dict) -> bool:
    if attribute is None:
        return True
    key, value = attribute
    if key in ("ResourceType", "ResourceName"):
        return any(r.get(key) == value for r in event["Resources"])
    return event.get(key) == value


def _may_match(attribute: tuple[str, str] | None, entry: history.Entry) -> bool:
    """A cheap first test on the entry itself, before its record is built."""
    if attribute is None or entry.record is not None:
        return True
    key, value = attribute
    if key == "EventName":
        return entry.operation == value
    if key == "EventSource":
        return facts.event_source(entry.service) == value
    if key == "AccessKeyId":
        return entry.access_key == value
    if key == "ReadOnly":
        return facts.is_read_only(entry.operation) == (value == "true")
    return True


def _event(entry: history.Entry, account: str) -> tuple[dict, dict]:
    """The Event LookupEvents returns: the record's lookup fields and its JSON."""
    record = history.entry_record(entry, account)
    identity = record.get("userIdentity") or {}
    params = record.get("requestParameters") or {}
    if entry.record is None and isinstance(entry.params, dict):
        params = entry.params
    resources = facts.lookup_resources(record.get("eventSource", ""), params)
    for known in record.get("resources") or ():
        if known.get("ARN"):
            resources.append({"ResourceType": known.get("type"), "ResourceName": known["ARN"]})
    event = {"EventId": record.get("eventID"), "EventName": record.get("eventName"),
             "ReadOnly": "true" if record.get("readOnly") else "false",
             "AccessKeyId": identity.get("accessKeyId", ""), "EventTime": float(int(entry.when)),
             "EventSource": record.get("eventSource"), "Username": facts.username(identity),
             "Resources": resources}
    return event, record


def _fingerprint(params: dict) -> str:
    same = {k: params.get(k) for k in ("LookupAttributes", "StartTime", "EndTime", "EventCategory")}
    return hashlib.sha256(json.dumps(same, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _token(when: float, seq: int, fingerprint: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([when, seq, fingerprint]).encode()).decode()


def _cursor(token: Any, fingerprint: str) -> tuple[float, int]:
    try:
        when, seq, mark = json.loads(base64.urlsafe_b64decode(str(token).encode()))
        if mark != fingerprint:
            raise ValueError
        return float(when), int(seq)
    except (ValueError, TypeError):
        raise AwsError("InvalidNextTokenException", "Invalid NextToken: it is malformed, or it "
                       "came with other parameters than this request's.") from None


@handler("cloudtrail", "LookupEvents")
def lookup_events(req: AwsRequest) -> tuple[int, dict]:
    params = structured(req)
    attribute = _attribute(params)
    start, end = _time(params.get("StartTime"), "StartTime"), _time(params.get("EndTime"), "EndTime")
    if start is not None and end is not None and start > end:
        raise AwsError("InvalidTimeRangeException", "Start time must be before end time.")
    limit = params.get("MaxResults", facts.MAX_RESULTS)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= facts.MAX_RESULTS:
        raise AwsError("InvalidMaxResultsException",
                       f"MaxResults must be between 1 and {facts.MAX_RESULTS}, not {limit}.")
    category = params.get("EventCategory")
    if category is not None and category != "insight":
        raise AwsError("InvalidEventCategoryException", f"Invalid EventCategory {category!r}: "
                       "the valid value is insight.")
    fingerprint = _fingerprint(params)
    cursor = _cursor(params["NextToken"], fingerprint) if params.get("NextToken") else None
    if category == "insight":  # Insights events only: the emulator analyses no call rates.
        return 200, {"Events": []}
    account = _account()
    found: list[dict] = []
    more = None
    # Newest first: by time, then by arrival (the data plane's records carry their own times).
    ordered = sorted(history.entries(req.region), key=lambda e: (e.when, e.seq), reverse=True)
    seen: list[history.Entry] = []
    for entry in ordered:
        if cursor is not None and (entry.when, entry.seq) >= cursor:
            continue
        second = int(entry.when)  # records tell time to the second
        if (start is not None and second < start) or (end is not None and second > end):
            continue
        if not _may_match(attribute, entry):
            continue
        event, record = _event(entry, account)
        if not record.get("managementEvent", True) or not _matches(attribute, event):
            continue
        if len(found) == limit:
            last = seen[-1]
            more = _token(last.when, last.seq, fingerprint)
            break
        event["CloudTrailEvent"] = json.dumps(record)
        found.append(event)
        seen.append(entry)
    answer: dict = {"Events": found}
    if more:
        answer["NextToken"] = more
    return 200, answer
