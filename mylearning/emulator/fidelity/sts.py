"""AWS STS: GetCallerIdentity as the labs use it; moto matches AWS on all but the caller's ARN.

Lab 00 asks STS who the learner is and records the account id; lab 03 and
``lookup.account_id`` read the account from GetCallerIdentity. Probing moto
5.2 found it right on what the labs use: the account id is the one in every
ARN the emulator hands out (IAM roles, ECS clusters), and credentials from
AssumeRole come back as the ``arn:aws:sts::<account>:assumed-role/<role>/<session>``
the API reference shows. The table pins both.

One gap, fixed here: a call with credentials moto never issued (the emulator's
dummy keys) is answered as ``arn:aws:sts::<account>:user/moto``, an ARN form
AWS never returns. An IAM user's calls come back as
``arn:aws:iam::<account>:user/<name>`` (API_GetCallerIdentity.html, "Example 1 -
Called by an IAM user": ``arn:aws:iam::123456789012:user/Alice``). The fix
rewrites only that default answer, in the response moto builds for
GetCallerIdentity; moto's backend (which App Mesh reads for mesh owners) is
untouched. UserId stays the access-key-like value, as in AWS's own example.
"""
from __future__ import annotations

import re

from mylearning.emulator.fidelity.core import AwsRequest, after, moto_fixes

SERVICE = "sts"
API = "https://docs.aws.amazon.com/STS/latest/APIReference/"
#: moto's answer for credentials it did not issue (moto/sts/models.py, get_caller_identity).
_MOTO_DEFAULT = re.compile(r"arn:(aws[\w-]*):sts::(\d{12}):user/moto")


def iam_user_arn(arn: str) -> str:
    """moto's ``arn:aws:sts::<acct>:user/moto`` as AWS writes an IAM user: ``arn:aws:iam::<acct>:user/moto``."""
    m = _MOTO_DEFAULT.fullmatch(arn)
    return f"arn:{m.group(1)}:iam::{m.group(2)}:user/moto" if m else arn


def _caller_arn_is_an_iam_user() -> None:
    """GetCallerIdentity for the emulator's own credentials names an IAM user, as AWS does.

    https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
    (Example 1 - Called by an IAM user: Arn ``arn:aws:iam::123456789012:user/Alice``).
    """
    from moto.sts.responses import TokenResponse

    original = TokenResponse.get_caller_identity
    if getattr(original, "_mylearning_iam_arn", False):
        return

    def get_caller_identity(self):
        result = original(self)
        body = getattr(result, "result", None)
        if isinstance(body, dict) and isinstance(body.get("Arn"), str):
            body["Arn"] = iam_user_arn(body["Arn"])
        return result

    get_caller_identity._mylearning_iam_arn = True
    TokenResponse.get_caller_identity = get_caller_identity


moto_fixes(SERVICE, _caller_arn_is_an_iam_user, operations=("GetCallerIdentity",))


@after(SERVICE, "AssumeRole")
def accept_issued_credentials(req: AwsRequest, status: int, body: bytes) -> None:
    """Credentials STS issued are valid for the emulator's other services, as on AWS
    (only an authenticated caller reaches STS on an emulator with a credential)."""
    from mylearning.emulator import auth

    match = re.search(rb"<AccessKeyId>([A-Z0-9]+)</AccessKeyId>", body)
    if match:
        auth.issued(match.group(1).decode())
