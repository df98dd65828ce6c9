"""mylearning.facts.securityhub: the control table is complete, cited and self-consistent."""
from __future__ import annotations

import pytest

from mylearning.facts import securityhub as sh

#: The ECS controls the Security Hub user guide lists (ecs-controls.html).
LISTED = [1, 2, 3, 4, 5, 8, 9, 10, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21]


def test_every_listed_ecs_control_is_in_the_table_with_its_page():
    assert [c.id for c in sh.ECS_CONTROLS] == [f"ECS.{n}" for n in LISTED]
    for c in sh.ECS_CONTROLS:
        assert c.page == f"{sh.PAGE}#ecs-{c.id.split('.')[1]}"
        assert c.resource_type.startswith("AWS::ECS::") and c.config_rule and not c.own
        assert c.severity in sh.SEVERITIES and c.why.endswith(".") and c.fix


def test_severities_as_security_hub_states_them():
    high = {"ECS.1", "ECS.2", "ECS.3", "ECS.4", "ECS.5", "ECS.8", "ECS.9", "ECS.16"}
    low = {"ECS.13", "ECS.14", "ECS.15"}
    for c in sh.ECS_CONTROLS:
        assert c.severity == ("HIGH" if c.id in high else "LOW" if c.id in low else "MEDIUM"), c.id
    assert sh.control("ECS.1").retired and not sh.control("ECS.17").retired


def test_course_controls_are_marked_as_the_courses():
    own = [c for c in sh.CONTROLS.values() if c.own]
    assert {c.id for c in own} == {"MYL.IAM.1", "MYL.IAM.2", "MYL.IAM.3", "MYL.NET.1", "MYL.NET.2"}
    assert all(c.page.startswith("https://docs.aws.amazon.com/") and not c.config_rule for c in own)


def test_lookup_and_order():
    assert sh.control("MYL.NET.1").severity == sh.HIGH
    with pytest.raises(KeyError, match="ECS.2"):
        sh.control("ECS.6")
    assert sorted(sh.SEVERITIES, key=sh.severity_rank) == ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL"]
