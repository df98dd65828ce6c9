"""What the CloudWatch Logs parts share: the service name, AWS's errors, moto's log groups.

State of our own (queries, metric filters) is kept as attributes of moto's objects (the
backend, a log group), so moto's reset and DeleteLogGroup drop it with what it belongs to:
"Deleting a log group ... permanently deletes all the archived log events associated with
the log group" and its metric filters with it (API_DeleteLogGroup.html).
moto is imported lazily: importing this module leaves moto untouched.
"""
from __future__ import annotations

import re
from typing import Any, Iterator

from mylearning.emulator.fidelity.core import AwsError, moto_backend

SERVICE = "logs"
API = "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/"
GUIDE = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/"

_GROUP_ARN = re.compile(r"^arn:[^:]+:logs:[^:]*:\d*:log-group:([^:]+)(:\*)?$")


def invalid(message: str) -> AwsError:
    """InvalidParameterException: "A parameter is specified incorrectly" (every operation's page)."""
    return AwsError("InvalidParameterException", message, 400)


def not_found(message: str) -> AwsError:
    """ResourceNotFoundException: "The specified resource does not exist"."""
    return AwsError("ResourceNotFoundException", message, 400)


def backend(region: str) -> Any:
    return moto_backend("logs", region)


def group_name(identifier: str) -> str:
    """A log group's name from its name or ARN (logGroupIdentifiers take either)."""
    m = _GROUP_ARN.match(identifier)
    return m.group(1) if m else identifier


def find_group(region: str, identifier: str) -> Any:
    """moto's log group, named or by ARN; ResourceNotFoundException as AWS words it."""
    found = backend(region).groups.get(group_name(identifier))
    if found is None:
        raise not_found("The specified log group does not exist.")
    return found


def events(group: Any, start_ms: int | None = None, end_ms: int | None = None) -> Iterator[tuple[Any, Any]]:
    """(stream, event) for each event of a group with start_ms <= timestamp <= end_ms."""
    for stream in list(group.streams.values()):
        for event in stream.events:
            if start_ms is not None and event.timestamp < start_ms:
                continue
            if end_ms is not None and event.timestamp > end_ms:
                continue
            yield stream, event
