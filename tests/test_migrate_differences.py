"""migrate.differences: what a registered definition lacks compared with a mapping (lab 01)."""
from __future__ import annotations

from mylearning import migrate


def test_defaults_aws_adds_are_not_differences():
    registered = {"cpu": "1024", "containerDefinitions": [
        {"name": "app", "portMappings": [{"containerPort": 8080, "hostPort": 8080, "protocol": "tcp"}],
         "mountPoints": [], "cpu": 0}]}
    wanted = {"cpu": 1024, "containerDefinitions": [
        {"name": "app", "portMappings": [{"containerPort": 8080, "protocol": "tcp"}]}]}
    assert migrate.differences(registered, wanted) == []


def test_missing_changed_and_list_length_are_reported_with_paths():
    registered = {"family": "a", "containerDefinitions": [{"environment": [{"name": "X", "value": "1"}]}]}
    wanted = {"family": "b", "runtimePlatform": {"cpuArchitecture": "ARM64"},
              "containerDefinitions": [{"environment": [{"name": "X", "value": "2"}, {"name": "Y"}]}]}
    found = migrate.differences(registered, wanted)
    assert found[0] == 'family: "a" instead of "b"'
    assert found[1].startswith("runtimePlatform: missing")
    assert found[2].startswith("containerDefinitions[0].environment: ")
    assert len(found) == 3


def test_a_hand_mapping_compared_with_migrate():
    sample = migrate.load_sample()
    td = migrate.task_definition(sample, execution_role_arn="arn:aws:iam::1:role/x")
    same = migrate.differences(td, td)
    assert same == []
    mine = dict(td)
    mine.pop("runtimePlatform")
    assert migrate.differences(mine, td) == [
        'runtimePlatform: missing (expected {"cpuArchitecture": "X86_64", "operatingSystemFamily": "LINUX"})']


def test_long_values_are_shortened():
    found = migrate.differences({"a": "x" * 200}, {"a": "y"})
    assert len(found[0]) < 120 and found[0].endswith('instead of "y"')
