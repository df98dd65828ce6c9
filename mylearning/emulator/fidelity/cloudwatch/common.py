"""Shared by the CloudWatch modules: errors as CloudWatch answers them, request parameters in
one shape whatever the protocol, and lazy access to moto's CloudWatch backend."""
from __future__ import annotations

import re
import threading
from typing import Any

from mylearning.emulator.fidelity.core import AwsError, AwsRequest, MODELS, moto_backend

SERVICE = "cloudwatch"
API = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference"

#: Composite alarms and the alarm history change together; one lock keeps them consistent
#: across the server's threads.
LOCK = threading.RLock()


def validation(message: str) -> AwsError:
    return AwsError("ValidationError", message, 400)


def invalid_value(message: str) -> AwsError:
    return AwsError("InvalidParameterValue", message, 400)


def enum(shape: str) -> list[str]:
    model = MODELS.get(SERVICE)
    return list(model.shape_for(shape).enum) if model else []


def to_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def to_bool(value: Any, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, str):
        return value.lower() == "true"
    return bool(value)


def params(req: AwsRequest) -> dict[str, Any]:
    """The request's parameters as the API reference nests them, whatever the protocol."""
    from mylearning.emulator.fidelity.validation import structured
    return structured(req)


def listed(value: Any) -> list:
    return value if isinstance(value, list) else []


# ---------------------------------------------------------------- moto access

def backend(region: str) -> Any:
    return moto_backend("cloudwatch", region)


_ALARM_ARN = re.compile(r"^arn:[^:]+:cloudwatch:[^:]*:\d*:alarm:(.+)$")


def alarm_name(reference: str) -> str:
    """An alarm's name from its name or ARN (a composite rule may use either)."""
    m = _ALARM_ARN.match(reference)
    return m.group(1) if m else reference
