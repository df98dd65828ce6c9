"""Lab 01, from App Runner to ECS: its declaration, its names and its teardown.

Nothing later labs need comes from here (labs 03 and 04 build the course API again,
properly), so the lab has no builder. It keeps its own names, under the learner's
prefix, so that rebuilding the course API later never touches this service.
"""
from __future__ import annotations

from typing import Any

from mylearning import lookup, roles, taskdefs
from mylearning.course import LabInfo
from mylearning.facts.ecs import DESIRED_COUNT_DIMENSION as DIMENSION
from mylearning.removals import Action, Plan

ABOUT = LabInfo(
    "01", "From App Runner to ECS",
    services=("application-autoscaling", "ec2", "ecs", "iam", "logs", "ssm", "sts"),
    concepts=("migrate", "cost", "lookup", "answers"))

#: The migrated service, its task definition family, its container and its two roles.
SERVICE = "course-api-migrated"
CONTAINER = "course-api"
EXECUTION_ROLE = "course-api-migrated-execution"
TASK_ROLE = "course-api-migrated-task"


def log_group(session: Any) -> str:
    return f"/ecs/{session.name(SERVICE)}"


def teardown(session: Any, execute: bool = False) -> Plan:
    """The scalable target, the service, its task definitions, its log group and its two roles.

    Deregistering the scalable target first also deletes its scaling policies (as
    DeregisterScalableTarget does), and the service goes before the revisions it runs.
    Only what carries the course tags for this learner is listed.
    """
    ecs, iam, logs = session.client("ecs"), session.client("iam"), session.client("logs")
    aas = session.client("application-autoscaling")
    cluster, name = session.name("cluster"), session.name(SERVICE)
    actions: list[Action] = []
    service = lookup.ecs_service(session, cluster, name)
    if service is not None and lookup.is_course_tagged(service, session):
        resource = f"service/{cluster}/{name}"
        if aas.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[resource])["ScalableTargets"]:
            actions.append(Action("scalable target", resource, lambda: aas.deregister_scalable_target(
                ResourceId=resource, **DIMENSION)))
        actions.append(Action("ECS service", name, lambda: (
            ecs.update_service(cluster=cluster, service=name, desiredCount=0),
            ecs.delete_service(cluster=cluster, service=name, force=True))))
    for arn in taskdefs.revision_arns(ecs, name):
        tags = ecs.describe_task_definition(taskDefinition=arn, include=["TAGS"]).get("tags", [])
        if lookup.is_course_tagged({"tags": tags}, session):
            actions.append(Action("task definition", arn.rsplit("/", 1)[-1],
                                  lambda arn=arn: ecs.deregister_task_definition(taskDefinition=arn)))
    group = log_group(session)
    if lookup.log_group(session, group) is not None:
        actions.append(Action("log group", group, lambda: logs.delete_log_group(logGroupName=group)))
    for role_name in (session.name(EXECUTION_ROLE), session.name(TASK_ROLE)):
        if lookup.role(iam, role_name) is None:
            continue
        if lookup.is_course_tagged({"Tags": iam.list_role_tags(RoleName=role_name).get("Tags", [])}, session):
            actions.append(Action("IAM role", role_name, lambda r=role_name: roles.delete_role(iam, r)))
    return Plan(actions).run(execute)
