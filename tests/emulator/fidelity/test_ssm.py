"""SSM fidelity: parameter names, hierarchy depth and value sizes; the course's answer names still pass."""
from __future__ import annotations

import pytest

from mylearning.answers import parameter_name


def test_course_answer_names_are_accepted(env):
    ssm = env.client("ssm")
    name = parameter_name(env.name("t"), "99", "identity")
    ssm.put_parameter(Name=name, Value='{"account": "123456789012"}', Type="String",
                      Tags=[{"Key": "course", "Value": "mylearning"}])
    ssm.put_parameter(Name=name, Value='{"account": "123456789012", "region": "us-east-1"}',
                      Type="String", Overwrite=True)
    assert ssm.get_parameter(Name=name)["Parameter"]["Value"].endswith('"us-east-1"}')


def test_sixteen_levels_is_hierarchy_level_limit_exceeded(env):
    ssm = env.client("ssm")
    with pytest.raises(ssm.exceptions.HierarchyLevelLimitExceededException) as info:
        ssm.put_parameter(Name="/" + "/".join(f"l{i}" for i in range(16)), Value="x", Type="String")
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_large_standard_value_points_at_the_advanced_tier(env):
    ssm = env.client("ssm")
    with pytest.raises(ssm.exceptions.ClientError) as info:
        ssm.put_parameter(Name=f"/mylearning/{env.name('t')}/big", Value="a" * 4097, Type="String")
    assert info.value.response["Error"]["Code"] == "ValidationException"
    assert "advanced-parameter tier" in info.value.response["Error"]["Message"]
