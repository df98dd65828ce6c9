"""Who signed a call: the principal behind an access key id, as CloudTrail's userIdentity names it.

The same answer GetCallerIdentity gives (see `fidelity.sts`): credentials STS issued
through AssumeRole are that role's session (type AssumedRole, the role as
``sessionContext.sessionIssuer``); keys made with IAM CreateAccessKey are their user's;
every other key (the emulator's dummy credentials, a grading emulator's token) is the
account's IAM user ``moto``, as GetCallerIdentity names it
(https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html).
Resolved when a lookup first needs a key, then kept until reset.
"""
from __future__ import annotations

import re
import threading
import time

from mylearning.emulator.fidelity.core import AwsRequest, after
from mylearning.facts import cloudtrail as facts

DEFAULT_USER = "moto"

_KNOWN: dict[str, dict] = {}
#: When STS issued each session's access key (moto keeps only the expiration).
_ISSUED: dict[str, float] = {}
_LOCK = threading.Lock()


def forget() -> None:
    with _LOCK:
        _KNOWN.clear()
        _ISSUED.clear()


@after("sts", "AssumeRole", "AssumeRoleWithWebIdentity")
def _issued(req: AwsRequest, status: int, body: bytes) -> None:
    """Note when the session began: userIdentity's sessionContext.attributes.creationDate."""
    match = re.search(rb"<AccessKeyId>([A-Za-z0-9]+)</AccessKeyId>", body)
    if match:
        _ISSUED[match.group(1).decode()] = time.time()


def of(access_key: str, account: str) -> dict:
    """The userIdentity element for calls signed with `access_key`."""
    found = _KNOWN.get(access_key)
    if found is None:
        found = _resolve(access_key, account)
        with _LOCK:
            _KNOWN[access_key] = found
    return found


def _resolve(access_key: str, account: str) -> dict:
    from moto.iam.models import iam_backends
    from moto.sts.models import sts_backends

    for partition in ("aws",):
        role = sts_backends[account][partition].get_assumed_role_from_access_key(access_key)
        if role is not None:
            role_id = role.user_id.split(":", 1)[0]
            issued = _ISSUED.get(access_key) or time.time()
            return facts.assumed_role(account, role.role_arn, role_id, role.session_name,
                                      access_key, issued)
        user = iam_backends[account][partition].get_user_from_access_key_id(access_key)
        if user is not None:
            return facts.iam_user(account, user.name, user.id, access_key)
    # Keys moto did not issue: the principal GetCallerIdentity names for them (moto's default).
    user_id = sts_backends[account]["aws"].get_caller_identity(access_key, "us-east-1")[0]
    return facts.iam_user(account, DEFAULT_USER, user_id, access_key)

