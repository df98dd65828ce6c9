"""CloudWatch Logs fidelity: retention periods, names and tags refused with InvalidParameterException."""
from __future__ import annotations

import pytest

from mylearning.emulator.fidelity.logs.groups import RETENTION_DAYS, _tag_text_ok


def test_retention_outside_the_list_is_invalid_parameter_exception(env):
    logs = env.client("logs")
    name = f"/ecs/{env.name('t')}/catalog"
    logs.create_log_group(logGroupName=name)
    with pytest.raises(logs.exceptions.InvalidParameterException) as info:
        logs.put_retention_policy(logGroupName=name, retentionInDays=31)
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "3653" in info.value.response["Error"]["Message"]
    logs.put_retention_policy(logGroupName=name, retentionInDays=30)
    assert logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"][0]["retentionInDays"] == 30


def test_retention_list_is_the_documented_one():
    assert len(RETENTION_DAYS) == 22 and 30 in RETENTION_DAYS and 1096 in RETENTION_DAYS


def test_tag_text_allows_letters_spaces_numbers_and_documented_symbols():
    assert _tag_text_ok("Platform Team: ops/infra=1+2@x_y.z-w")
    assert _tag_text_ok("équipe")  # \p{L} is any letter, not only ASCII
    assert not _tag_text_ok("a!b") and not _tag_text_ok("it's")
