"""What the X-Ray parts share: the service name, moto's X-Ray state, AWS's request error.

moto is imported lazily, so importing the package (e.g. for the fidelity table) leaves it
untouched.
"""
from __future__ import annotations

from typing import Any

from mylearning.emulator.fidelity.core import AwsError, moto_backend

SERVICE = "xray"
API = "https://docs.aws.amazon.com/xray/latest/api/"
GUIDE = "https://docs.aws.amazon.com/xray/latest/devguide/"


def backend(region: str) -> Any:
    return moto_backend("xray", region)


def invalid_request(message: str) -> AwsError:
    """X-Ray's InvalidRequestException: "The request is missing required parameters or has
    invalid parameters" (the error of every X-Ray operation)."""
    return AwsError("InvalidRequestException", message, 400)
