"""mylearning.taskdefs: the builders refuse the usual task-definition mistakes, and
registering is idempotent (a revision is added only when something changed)."""
from __future__ import annotations

import copy

import pytest

from mylearning import taskdefs
from mylearning.cost import InvalidTaskSize

LOG = taskdefs.awslogs("/ecs/ml-x/app", "us-east-1", "app")


def _task(**changes):
    app = taskdefs.container("app", "repo/app:1", log=LOG, port=8080,
                             health_check=taskdefs.http_health_check(8080))
    args = dict(cpu=256, memory=512, execution_role_arn="arn:exec", task_role_arn="arn:task")
    args.update(changes)
    return taskdefs.fargate_task("ml-x-app", [app], **args)


def test_fargate_task_has_the_fargate_shape():
    spec = _task(arch="ARM64", volumes=["tmp"])
    assert spec["requiresCompatibilities"] == ["FARGATE"] and spec["networkMode"] == "awsvpc"
    assert (spec["cpu"], spec["memory"]) == ("256", "512")
    assert spec["runtimePlatform"] == {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"}
    assert spec["volumes"] == [{"name": "tmp"}]
    app = spec["containerDefinitions"][0]
    assert app["user"] == "1000:1000" and app["readonlyRootFilesystem"] is True
    assert app["healthCheck"]["command"] == ["CMD-SHELL", "curl -fs http://localhost:8080/health || exit 1"]
    assert app["logConfiguration"]["options"]["awslogs-stream-prefix"] == "app"


@pytest.mark.parametrize("cpu, memory", [(256, 4096), (512, 512), (1000, 2048), ("1 vCPU", 2048)])
def test_invalid_sizes_are_refused_with_the_choices(cpu, memory):
    with pytest.raises(InvalidTaskSize):
        _task(cpu=cpu, memory=memory)


def test_one_role_for_both_is_refused():
    with pytest.raises(ValueError, match="two roles"):
        _task(task_role_arn="arn:exec")


def test_unknown_architecture_is_refused():
    with pytest.raises(ValueError):
        _task(arch="arm")


def test_container_refuses_secrets_in_environment_and_root():
    with pytest.raises(ValueError, match="secrets"):
        taskdefs.container("app", "i", log=LOG, environment={"DB_PASSWORD": "hunter2"})
    with pytest.raises(ValueError, match="root"):
        taskdefs.container("app", "i", log=LOG, user="0:0")
    app = taskdefs.container("app", "i", log=LOG, secrets={"DB_PASSWORD": "arn:s:password::"},
                             depends_on={"init": "SUCCESS"}, writable_paths={"tmp": "/tmp"})
    assert app["secrets"] == [{"name": "DB_PASSWORD", "valueFrom": "arn:s:password::"}]
    assert app["dependsOn"] == [{"containerName": "init", "condition": "SUCCESS"}]
    assert app["mountPoints"] == [{"sourceVolume": "tmp", "containerPath": "/tmp"}]


def test_health_check_limits():
    assert taskdefs.command_health_check("true", interval=5, timeout=2, retries=10, start_period=300)
    for bad in ({"interval": 4}, {"timeout": 121}, {"retries": 0}, {"start_period": 301}):
        with pytest.raises(ValueError):
            taskdefs.command_health_check("true", **bad)


def test_matches_ignores_added_defaults_but_not_changes():
    spec = _task()
    described = copy.deepcopy(spec)
    described["containerDefinitions"][0]["portMappings"][0]["hostPort"] = 8080
    described["containerDefinitions"][0]["volumesFrom"] = []
    described.update(revision=3, status="ACTIVE", cpu=256)
    assert taskdefs.matches(spec, described)
    changed = copy.deepcopy(described)
    changed["containerDefinitions"][0]["image"] = "repo/app:2"
    assert not taskdefs.matches(spec, changed)
    assert not taskdefs.matches({"essential": True}, {"essential": "True"})
    assert not taskdefs.matches([1, 2], [1])


def test_plain_secrets_by_name_and_by_value():
    c = {"environment": [{"name": "API_TOKEN", "value": "x"}, {"name": "DB_HOST", "value": "s3cr3t"},
                         {"name": "PORT", "value": "8080"}]}
    assert taskdefs.plain_secrets(c, ["s3cr3t"]) == ["API_TOKEN", "DB_HOST"]
    assert taskdefs.plain_secrets({"environment": [{"name": "PORT", "value": "1"}]}) == []


def test_arn_helpers_and_new_revision_from_described():
    assert taskdefs.family_of("arn:aws:ecs:us-east-1:1:task-definition/web:12") == "web"
    assert taskdefs.revision_of("arn:aws:ecs:us-east-1:1:task-definition/web:12") == 12
    described = dict(_task(), taskDefinitionArn="arn:...:web:1", revision=1, status="ACTIVE",
                     compatibilities=["EC2", "FARGATE"], registeredAt="now")
    spec = taskdefs.as_spec(described, tags=[{"key": "a", "value": "b"}])
    assert "revision" not in spec and "compatibilities" not in spec and spec["tags"]
    newer = taskdefs.with_image(spec, "app", "repo/app:2")
    assert newer["containerDefinitions"][0]["image"] == "repo/app:2"
    assert spec["containerDefinitions"][0]["image"] == "repo/app:1"  # a copy
    with pytest.raises(KeyError):
        taskdefs.with_image(spec, "nope", "x")


def test_format_rows():
    text = taskdefs.format_rows([{"a": 1, "bb": "x"}, {"a": 22, "bb": "yy"}])
    assert text.splitlines()[0].split() == ["a", "bb"] and "22" in text
    assert taskdefs.format_rows([]) == "(none)"


# ---------------------------------------------------------------- against the emulator

def test_ensure_registered_adds_a_revision_only_for_a_change(session):
    ecs = session.client("ecs")
    spec = _task(tags=session.tags("99", style="key"))
    spec["family"] = session.name("unit")
    first, new = taskdefs.ensure_registered(ecs, spec)
    again, new_again = taskdefs.ensure_registered(ecs, spec)
    assert new and not new_again and again["revision"] == first["revision"] == 1
    changed = taskdefs.with_image(spec, "app", "repo/app:2")
    second, new = taskdefs.ensure_registered(ecs, changed)
    assert new and second["revision"] == 2
    # Going back to the first content reuses revision 1 instead of adding a third.
    back, new = taskdefs.ensure_registered(ecs, spec)
    assert not new and back["revision"] == 1
    assert [r["revision"] for r in taskdefs.revisions(ecs, spec["family"])] == [1, 2]
    assert taskdefs.latest(ecs, spec["family"])["revision"] == 2
    ecs.deregister_task_definition(taskDefinition=f"{spec['family']}:2")
    assert taskdefs.latest(ecs, spec["family"])["revision"] == 1
    ecs.deregister_task_definition(taskDefinition=f"{spec['family']}:1")
    assert taskdefs.latest(ecs, spec["family"]) is None
