"""CloudTrail Data's PutAuditEvents on the one channel the emulator has: the AWS services'.

The data plane stands for AWS's services (ECS's agent, the tasks' AWS SDK calls as the
services see them); it reaches the control plane only through the AWS API, so what
those services would record for calls tasks make with their task roles is handed over
here, each event a whole CloudTrail record built with `mylearning.facts.cloudtrail.record`.
Management events among them join the Event history of the record's Region.

As the API reference answers
(https://docs.aws.amazon.com/awscloudtrail-data/latest/APIReference/API_PutAuditEvents.html):
1 to 100 events a call; ``successful`` lists each ingested event's id with the eventID
CloudTrail gave it, ``failed`` each refused one with its errorCode (InvalidData for an
eventData that is not a JSON record, FieldNotFound for a record without a required field,
InvalidRecipient for another account's record); two events with one id are
DuplicatedAuditEventId; a channel ARN that is no channel ARN is InvalidChannelARN, and
any channel but `SERVICE_CHANNEL` is ChannelNotFound (the emulator has no other).
"""
from __future__ import annotations

import json
import re
import uuid

from mylearning.emulator.fidelity.cloudtrail import history
from mylearning.emulator.fidelity.core import AwsError, AwsRequest, handler
from mylearning.facts import cloudtrail as facts

API = "https://docs.aws.amazon.com/awscloudtrail-data/latest/APIReference/API_PutAuditEvents.html"
#: The most events one PutAuditEvents takes (API_PutAuditEvents.html: "up to 100").
MAX_EVENTS = 100
#: What a record must carry to be shown in Event history.
REQUIRED = ("eventName", "eventSource", "eventTime", "userIdentity", "awsRegion")
_CHANNEL = re.compile(r"arn:aws[\w-]*:cloudtrail:([a-z0-9-]+):(\d{12}):channel/(.+)")


def _channel_ok(req: AwsRequest, channel: str, account: str) -> None:
    if channel == facts.SERVICE_CHANNEL:  # "The ARN or ID (the ARN suffix) of a channel"
        return
    found = _CHANNEL.fullmatch(channel)
    if found is None:
        raise AwsError("InvalidChannelARN", f"The channel ARN {channel} is not a valid channel ARN.")
    region, owner, name = found.groups()
    if name != facts.SERVICE_CHANNEL or region != req.region:
        raise AwsError("ChannelNotFound", f"The channel {channel} could not be found.")
    if owner != account:
        raise AwsError("ChannelInsufficientPermission", "The caller's account ID must be the same "
                       "as the channel owner's account ID.")


def _refusal(event_id: str, code: str, message: str) -> dict:
    return {"id": event_id, "errorCode": code, "errorMessage": message}


@handler("cloudtrail-data", "PutAuditEvents")
def put_audit_events(req: AwsRequest) -> tuple[int, dict]:
    from moto.core import DEFAULT_ACCOUNT_ID as account

    channel = req.params.get("channelArn")
    events = req.params.get("auditEvents")
    if not isinstance(channel, str) or not channel:
        raise AwsError("ValidationException", "The request must contain the parameter channelArn.")
    _channel_ok(req, channel, account)
    if not isinstance(events, list) or not 1 <= len(events) <= MAX_EVENTS:
        raise AwsError("ValidationException", f"auditEvents must hold 1 to {MAX_EVENTS} events.")
    ids = [e.get("id") if isinstance(e, dict) else None for e in events]
    if len(set(ids)) != len(ids):
        raise AwsError("DuplicatedAuditEventId", "Two or more entries in the request have the same event ID.")
    successful, failed = [], []
    for given_id, event in zip(ids, events):
        if not isinstance(given_id, str) or not given_id or not isinstance(event, dict):
            raise AwsError("ValidationException", "Each audit event needs an id and eventData.")
        try:
            record = json.loads(event.get("eventData") or "")
        except (TypeError, ValueError):
            failed.append(_refusal(given_id, "InvalidData", "eventData is not valid JSON."))
            continue
        if not isinstance(record, dict):
            failed.append(_refusal(given_id, "InvalidData", "eventData is not a JSON object."))
            continue
        missing = [name for name in REQUIRED if not record.get(name)]
        if missing:
            failed.append(_refusal(given_id, "FieldNotFound", f"eventData lacks {', '.join(missing)}."))
            continue
        if str(record.get("recipientAccountId", account)) != account:
            failed.append(_refusal(given_id, "InvalidRecipient",
                                   f"The record is for account {record['recipientAccountId']}."))
            continue
        try:
            facts.parse_time(str(record["eventTime"]))
        except ValueError:
            failed.append(_refusal(given_id, "InvalidData", "eventTime is not an ISO 8601 time."))
            continue
        record.setdefault("eventID", str(uuid.uuid4()))
        record.setdefault("recipientAccountId", account)
        if "managementEvent" not in record:
            record["managementEvent"] = not facts.is_data_event(record["eventSource"], record["eventName"])
        # Data events never join Event history; trails that log them get them (`delivery`).
        if record["managementEvent"] or history.DATA_WANTED[0]:
            history.add_record(record)
        successful.append({"id": given_id, "eventID": record["eventID"]})
    return 200, {"successful": successful, "failed": failed}
