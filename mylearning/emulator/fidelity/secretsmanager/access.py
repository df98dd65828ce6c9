"""What the Secrets Manager rules share: moto's secrets and AWS's error answers.

Secrets Manager speaks JSON 1.1, so ``req.params`` carries the API reference's names
(``SecretId``, ``RotationRules``...). moto is imported lazily, so importing the rules
(e.g. for the fidelity table) leaves it untouched.
"""
from __future__ import annotations

from typing import Any

from mylearning.emulator.fidelity.core import AwsError, moto_backend

SERVICE = "secretsmanager"
API = "https://docs.aws.amazon.com/secretsmanager/latest/apireference/"


def invalid_parameter(message: str) -> AwsError:
    return AwsError("InvalidParameterException", message, 400)


def invalid_request(message: str) -> AwsError:
    return AwsError("InvalidRequestException", message, 400)


def validation(message: str) -> AwsError:
    return AwsError("ValidationException", message, 400)


def secret(region: str, secret_id: Any) -> Any:
    """moto's secret for a name or ARN, or None (moto then answers ResourceNotFound itself)."""
    if not isinstance(secret_id, str) or not secret_id:
        return None
    try:
        return moto_backend("secretsmanager", region).secrets.get(secret_id)
    except Exception:
        return None


def scheduled_for_deletion(found: Any) -> bool:
    is_deleted = getattr(found, "is_deleted", None)
    return bool(is_deleted()) if callable(is_deleted) else False


def stages(found: Any) -> dict[str, list[str]]:
    """Version id -> staging labels of a moto secret."""
    versions = getattr(found, "versions", None) or {}
    return {vid: list(v.get("version_stages") or []) for vid, v in list(versions.items())}
