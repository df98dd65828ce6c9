"""What the AWS Private CA rules share: moto's CAs, algorithm families, templates, validity.

moto is imported lazily, so importing the rules (e.g. for the fidelity table) leaves it
untouched.
"""
from __future__ import annotations

import calendar
import datetime
from typing import Any

from mylearning.emulator.fidelity.core import moto_backend
from mylearning.facts import pca

SERVICE = "acm-pca"
API = "https://docs.aws.amazon.com/privateca/latest/APIReference/"
GUIDE = "https://docs.aws.amazon.com/privateca/latest/userguide/"
#: The templates that issue a root CA's own, self-signed certificate (template-definitions.html).
ROOT_TEMPLATES = pca.ROOT_TEMPLATES


def ca(region: str, arn: Any) -> Any:
    """moto's certificate authority for `arn`, or None (moto then answers ResourceNotFound)."""
    if not isinstance(arn, str):
        return None
    try:
        return moto_backend("acmpca", region).certificate_authorities.get(arn)
    except Exception:
        return None


def key_algorithm(authority: Any) -> str | None:
    config = getattr(authority, "certificate_authority_configuration", None) or {}
    value = config.get("KeyAlgorithm")
    return value if isinstance(value, str) else None


# ---------------------------------------------------------------- algorithm families

def key_family(key_algorithm: Any) -> str | None:
    """RSA, ECDSA, SM2 or ML-DSA for a KeyAlgorithm value; None for one we don't know."""
    if not isinstance(key_algorithm, str):
        return None
    if key_algorithm.startswith("RSA_"):
        return "RSA"
    if key_algorithm.startswith("EC_"):
        return "ECDSA"
    if key_algorithm == "SM2":
        return "SM2"
    if key_algorithm.startswith("ML_DSA_"):
        return "ML-DSA"
    return None


def signing_family(signing_algorithm: Any) -> str | None:
    """RSA, ECDSA, SM2 or ML-DSA for a SigningAlgorithm value; None for one we don't know."""
    if not isinstance(signing_algorithm, str):
        return None
    if "WITHRSA" in signing_algorithm:  # SHA256WITHRSA, SHA256WITHRSA_PSS...
        return "RSA"
    if signing_algorithm.endswith("WITHECDSA"):
        return "ECDSA"
    if signing_algorithm == "SM3WITHSM2":
        return "SM2"
    if signing_algorithm.startswith("ML_DSA_"):
        return "ML-DSA"
    return None


# ---------------------------------------------------------------- validity

def _add_months(moment: datetime.datetime, months: int) -> datetime.datetime:
    month = moment.month - 1 + months
    year, month = moment.year + month // 12, month % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def validity_time(validity: Any, now: datetime.datetime) -> datetime.datetime | None:
    """The moment a Validity structure names (API_Validity.html), in UTC; None if unreadable.

    DAYS, MONTHS and YEARS count from `now`; ABSOLUTE is seconds since the epoch; END_DATE
    is UTCTime (YYMMDDHHMMSS, YY >= 50 meaning 19YY) or GeneralizedTime (YYYYMMDDHHMMSS).
    """
    if not isinstance(validity, dict):
        return None
    value, kind = validity.get("Value"), validity.get("Type")
    try:
        value = int(value)
    except (TypeError, ValueError):
        return None
    try:
        if kind == "DAYS":
            return now + datetime.timedelta(days=value)
        if kind == "MONTHS":
            return _add_months(now, value)
        if kind == "YEARS":
            return _add_months(now, 12 * value)
        if kind == "ABSOLUTE":
            return datetime.datetime.fromtimestamp(value, datetime.timezone.utc)
        if kind == "END_DATE":
            text = str(value)
            if len(text) == 12:
                year = int(text[:2])
                text = ("19" if year >= 50 else "20") + text
            if len(text) != 14:
                return None
            return datetime.datetime.strptime(text, "%Y%m%d%H%M%S").replace(tzinfo=datetime.timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None
    return None


def not_after(authority: Any) -> datetime.datetime | None:
    """The end of the CA certificate's validity, or None while it has no certificate."""
    certificate = getattr(authority, "certificate", None)
    if certificate is None:
        return None
    try:
        return certificate.not_valid_after_utc
    except AttributeError:
        return certificate.not_valid_after.replace(tzinfo=datetime.timezone.utc)
