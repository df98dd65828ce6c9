"""What the IAM rules share: the service name and moto's IAM state (one, global, per account).

moto is imported lazily, so importing the rules (e.g. for the fidelity table) leaves it
untouched.
"""
from __future__ import annotations

import re
import urllib.parse
from typing import Any

from mylearning.emulator.fidelity.core import moto_backend

SERVICE = "iam"
AWS_POLICY_PREFIX = "arn:aws:iam::aws:policy/"
_WHITESPACE = re.compile(r"\s+")


def iam_backend() -> Any:
    return moto_backend("iam", "global")


def policy_size(document: Any) -> int:
    """A policy's size as IAM counts it: "IAM does not count white space when calculating the
    size of a policy" (reference_iam-quotas.html). moto may keep a document URL-encoded."""
    if not isinstance(document, str):
        return 0
    if "%" in document and "{" not in document:
        document = urllib.parse.unquote(document)
    return len(_WHITESPACE.sub("", document))


def entity(kind: str, name: Any) -> Any:
    """moto's role, user or group named `name`, or None."""
    if not isinstance(name, str):
        return None
    backend = iam_backend()
    items = {"role": backend.roles, "user": backend.users, "group": backend.groups}[kind]
    return next((item for item in list(items.values()) if getattr(item, "name", None) == name), None)
