"""STS fidelity: the emulator's caller is an IAM user ARN, as AWS writes one."""
from __future__ import annotations

from mylearning.emulator.fidelity.sts import iam_user_arn


def test_caller_arn_is_an_iam_user(env):
    me = env.client("sts").get_caller_identity()
    assert me["Arn"] == f"arn:aws:iam::{me['Account']}:user/moto"


def test_only_moto_default_arn_is_rewritten():
    assert iam_user_arn("arn:aws:sts::123456789012:user/moto") == "arn:aws:iam::123456789012:user/moto"
    assumed = "arn:aws:sts::123456789012:assumed-role/r/s"
    assert iam_user_arn(assumed) == assumed
