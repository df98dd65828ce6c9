"""What the Parameter Store rules share: the service's names, errors and moto's parameters.

SSM speaks JSON 1.1, so ``req.params`` carries the API reference's names (``Name``,
``Value``, ``Tier``...). moto is imported lazily, so importing the rules (e.g. for the
fidelity table) leaves it untouched.
"""
from __future__ import annotations

from typing import Any

from mylearning.emulator.fidelity.core import AwsError, AwsRequest, moto_backend

SERVICE = "ssm"
API = "https://docs.aws.amazon.com/systems-manager/latest/APIReference/"
DOC_PUT = API + "API_PutParameter.html"


def validation(message: str) -> AwsError:
    return AwsError("ValidationException", message, 400)


def name_of(req: AwsRequest) -> str | None:
    name = req.params.get("Name")
    # "The service removes any spaces specified for the beginning or end of a parameter name."
    return name.strip() if isinstance(name, str) else None


def backend(region: str) -> Any:
    return moto_backend("ssm", region)


def parameter(region: str, name: str | None) -> Any:
    """moto's latest version of the parameter `name`, or None."""
    if not name:
        return None
    try:
        return backend(region).get_parameter(name)
    except Exception:
        return None
