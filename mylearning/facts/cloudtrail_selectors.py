"""Which events a trail logs: its basic event selectors or its advanced event selectors.

A trail logs an event when one of its selectors selects it; no I/O here, so the emulator's
delivery (`mylearning.emulator.fidelity.cloudtrail.delivery`) and the course's helpers agree.

* Basic selectors (PutEventSelectors' EventSelectors, up to 5): ``ReadWriteType`` (All,
  ReadOnly, WriteOnly; default All) applies to the management and the data events the selector
  logs; ``IncludeManagementEvents`` (default true) and ``ExcludeManagementEventSources`` decide
  on management events; ``DataResources`` on data events: ``{"Type": "AWS::S3::Object",
  "Values": ["arn:aws:s3"]}`` logs every bucket's objects, ``"arn:aws:s3:::bucket/"`` a bucket's
  objects, ``"arn:aws:s3:::bucket/prefix"`` the objects under a prefix; for Lambda functions and
  DynamoDB tables ``arn:aws:lambda`` / ``arn:aws:dynamodb`` log all of them, a function's or
  table's ARN that one.
  https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_EventSelector.html
  https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_DataResource.html
  https://docs.aws.amazon.com/awscloudtrail/latest/userguide/logging-data-events-with-cloudtrail.html
* A trail without selectors logs every management event, read and write, and no data event
  ("By default, trails ... log all management events and don't include data events",
  https://docs.aws.amazon.com/awscloudtrail/latest/userguide/logging-management-events-with-cloudtrail.html).
* Advanced selectors (AdvancedEventSelectors): a selector selects an event when every one of its
  field selectors holds; a field selector holds when the event's field equals (starts with, ends
  with) one of the values of each positive operator and none of each negative one (NotEquals,
  NotStartsWith, NotEndsWith). Fields: eventCategory (Management, Data), eventSource, eventName,
  readOnly ("true"/"false"), eventType, resources.type, resources.ARN, userIdentity.arn.
  https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_AdvancedFieldSelector.html
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence


@dataclass(frozen=True)
class Event:
    """What a selector looks at in one event."""

    category: str                       # "Management" or "Data"
    source: str                         # eventSource
    name: str                           # eventName
    read_only: bool
    #: (type, ARN) of the data event's resource, e.g. ("AWS::S3::Object", "arn:aws:s3:::b/k")
    resource: tuple[str, str] | None = None
    event_type: str = "AwsApiCall"
    user_arn: str = ""


def _read_write_ok(read_write: str | None, read_only: bool) -> bool:
    if read_write == "ReadOnly":
        return read_only
    if read_write == "WriteOnly":
        return not read_only
    return True


def _data_value_ok(kind: str, arn: str, value: str) -> bool:
    parts = value.split(":")
    if len(parts) <= 3 or (len(parts) == 6 and parts[5] == "" and parts[3] == parts[4] == ""):
        # "arn:aws:s3" / "arn:aws:s3:::" / "arn:aws:lambda": every resource of that service
        return arn.split(":")[:3] == parts[:3]
    if kind == "AWS::S3::Object":
        return arn.startswith(value)  # "bucket/" or "bucket/prefix"
    return arn == value


def basic_selects(selectors: Sequence[Mapping[str, Any]], event: Event) -> bool:
    if not selectors:
        return event.category == "Management"
    for selector in selectors:
        if not _read_write_ok(selector.get("ReadWriteType"), event.read_only):
            continue
        if event.category == "Management":
            if selector.get("IncludeManagementEvents", True) in (False, "false", "False"):
                continue
            if event.source in (selector.get("ExcludeManagementEventSources") or ()):
                continue
            return True
        if event.resource is None:
            continue
        kind, arn = event.resource
        for resource in selector.get("DataResources") or ():
            if resource.get("Type") == kind and any(
                    _data_value_ok(kind, arn, str(v)) for v in resource.get("Values") or ()):
                return True
    return False


_POSITIVE = {"Equals": lambda a, b: a == b, "StartsWith": str.startswith, "EndsWith": str.endswith}
_NEGATIVE = {"NotEquals": lambda a, b: a == b, "NotStartsWith": str.startswith,
             "NotEndsWith": str.endswith}


def _field(event: Event, name: str) -> str | None:
    if name == "eventCategory":
        return event.category
    if name == "eventSource":
        return event.source
    if name == "eventName":
        return event.name
    if name == "readOnly":
        return "true" if event.read_only else "false"
    if name == "eventType":
        return event.event_type
    if name == "userIdentity.arn":
        return event.user_arn
    if name == "resources.type":
        return event.resource[0] if event.resource else None
    if name == "resources.ARN":
        return event.resource[1] if event.resource else None
    return None


def _field_holds(field_selector: Mapping[str, Any], event: Event) -> bool:
    value = _field(event, str(field_selector.get("Field", "")))
    if value is None:
        return False
    for op, test in _POSITIVE.items():
        wanted = field_selector.get(op)
        if wanted and not any(test(value, str(w)) for w in wanted):
            return False
    for op, test in _NEGATIVE.items():
        wanted = field_selector.get(op)
        if wanted and any(test(value, str(w)) for w in wanted):
            return False
    return True


def advanced_selects(selectors: Sequence[Mapping[str, Any]], event: Event) -> bool:
    for selector in selectors:
        fields = selector.get("FieldSelectors") or ()
        if fields and all(_field_holds(f, event) for f in fields):
            return True
    return False


def selects(basic: Sequence[Mapping[str, Any]], advanced: Sequence[Mapping[str, Any]], event: Event) -> bool:
    """Whether a trail with these selectors logs `event` (a trail has basic or advanced ones)."""
    if advanced and not basic:
        return advanced_selects(advanced, event)
    return basic_selects(basic, event)


def logs_data_events(basic: Sequence[Mapping[str, Any]], advanced: Sequence[Mapping[str, Any]]) -> bool:
    """Whether the selectors can select any data event at all."""
    if advanced and not basic:
        return any(f.get("Field") == "eventCategory" and "Data" in (f.get("Equals") or ())
                   for s in advanced for f in s.get("FieldSelectors") or ())
    return any(s.get("DataResources") for s in basic)
