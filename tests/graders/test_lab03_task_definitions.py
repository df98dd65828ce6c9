"""Lab 03's checks catch the usual task-definition mistakes and say how to fix them."""
from __future__ import annotations

import copy

from mylearning import course
from mylearning import microservices, prepare, record_answer, taskdefs


def _step(session, step_id):
    return course.lab_of_step(step_id).evaluate(session, [step_id]).results[0]


def _courses_spec(session):
    ecs = session.client("ecs")
    latest = taskdefs.latest(ecs, microservices.family(session, "courses-api"))
    return taskdefs.as_spec(latest, tags=session.tags("03", style="key"))


def test_lab03_mistakes_get_named(session):
    prepare.up_to(session, "03", quiet=True)
    course.builder("03")(session)
    ecs = session.client("ecs")
    good = _courses_spec(session)
    assert _step(session, "3.5").passed and _step(session, "3.6").passed

    one_role = copy.deepcopy(good)
    one_role["taskRoleArn"] = one_role["executionRoleArn"]
    ecs.register_task_definition(**one_role)
    result = _step(session, "3.5")
    assert not result.passed and "both" in result.message and "taskRoleArn" in result.hint

    leaked = copy.deepcopy(good)
    leaked["containerDefinitions"][0]["environment"].append({"name": "DB_PASSWORD", "value": "x" * 20})
    ecs.register_task_definition(**leaked)
    result = _step(session, "3.6")
    assert not result.passed and "DB_PASSWORD" in result.message and "secrets" in result.hint

    no_logs = copy.deepcopy(good)
    del no_logs["containerDefinitions"][0]["logConfiguration"]
    ecs.register_task_definition(**no_logs)
    result = _step(session, "3.6")
    assert not result.passed and "logConfiguration" in result.message and "awslogs" in result.hint

    rooted = copy.deepcopy(good)
    rooted["containerDefinitions"][0].pop("user")
    ecs.register_task_definition(**rooted)
    assert "root" in _step(session, "3.7").message

    # Invalid sizes never reach the account; the hint for a missing definition explains them.
    family = microservices.family(session, "courses-api")
    for arn in taskdefs.revision_arns(ecs, family):
        ecs.deregister_task_definition(taskDefinition=arn)
    result = _step(session, "3.5")
    assert not result.passed and "No Fargate configuration exists" in result.hint
