"""What the X-Ray parts share: the service name, the account, AWS's request error.

moto is imported lazily, so importing the package (e.g. for the fidelity table) leaves it
untouched.
"""
from __future__ import annotations

import datetime
from typing import Any

from mylearning.emulator.fidelity.core import AwsError, AwsRequest

SERVICE = "xray"
API = "https://docs.aws.amazon.com/xray/latest/api/"
GUIDE = "https://docs.aws.amazon.com/xray/latest/devguide/"


def account() -> str:
    """The emulator's account id (the AccountId of every service in a graph)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    return DEFAULT_ACCOUNT_ID


def invalid_request(message: str) -> AwsError:
    """X-Ray's InvalidRequestException: "The request is missing required parameters or has
    invalid parameters" (the error of every X-Ray operation)."""
    return AwsError("InvalidRequestException", message, 400)


def _seconds(value: Any, name: str) -> float:
    if isinstance(value, datetime.datetime):
        return value.timestamp()
    try:
        return float(value)
    except (TypeError, ValueError):
        raise invalid_request(f"{name} must be a timestamp.") from None


def time_window(req: AwsRequest) -> tuple[float, float]:
    """StartTime and EndTime, both required (API_GetServiceGraph.html,
    API_GetTraceSummaries.html: "Required: Yes"); the end may not come before the start."""
    if req.params.get("StartTime") is None or req.params.get("EndTime") is None:
        raise invalid_request("StartTime and EndTime are required.")
    start, end = _seconds(req.params["StartTime"], "StartTime"), _seconds(req.params["EndTime"], "EndTime")
    if start > end:
        raise invalid_request("StartTime must be before EndTime.")
    return start, end
