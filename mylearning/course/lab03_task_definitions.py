"""Lab 03, task definitions: its declaration, its end state and its teardown.

The lab writes the courses API's task definition by hand and builds the other two
with `service_specs`; `build` does all of it in one go for the labs after it,
with the same names and settings, so their graders accept it.
"""
from __future__ import annotations

import json
from typing import Any

from mylearning import (identity, lookup, microservices as ms, roles, service_specs, task_roles, tasks,
                        taskdefs)
from mylearning.course import LabInfo
from mylearning.removals import Action, Plan

ABOUT = LabInfo(
    "03", "Task definitions",
    services=("ec2", "ecs", "iam", "logs", "secretsmanager", "ssm", "sts"),
    concepts=("taskdefs", "roles", "microservices", "service_specs", "task_roles", "cost", "tasks",
              "traffic"))

def build(session: Any) -> None:
    """Lab 03's end state: log groups, the database secret, the execution role, one task role
    per service, and the three task definitions (the courses API at revision 2 on ARM64)."""
    lab, ecs = ABOUT.number, session.client("ecs")
    account = lookup.account_id(session)
    for service in ms.SERVICES:
        ensure_log_group(session, lab, service)
    secret = ensure_secret(session, lab)
    execution = ensure_execution_role(session, lab, secret["ARN"])
    for service in ms.SERVICES:
        task_role = ensure_task_role(session, lab, service, account)

        def spec(**changes: Any) -> dict:
            return service_specs.task_definition(session, service, execution_role_arn=execution["Arn"],
                                      task_role_arn=task_role["Arn"], secret_arn=secret["ARN"],
                                      lab=lab, account=account, **changes)
        if service == "courses-api" and not taskdefs.revision_arns(ecs, ms.family(session, service)):
            # The lab registers the x86 version first, then a new revision on ARM64.
            taskdefs.ensure_registered(ecs, spec(version="1.0.0", arch="X86_64"))
        taskdefs.ensure_registered(ecs, spec())
    if not all(app_log_lines(session, service) for service in ms.SERVICES):
        arns = run_each_once(session, lab)
        tasks.watch(session, session.name("cluster"), arns, until=("RUNNING",), out=lambda line: None)
        wait_for_logs(session)
        tasks.stop(session, session.name("cluster"), arns, "Lab 03: each task ran once")


def run_each_once(session: Any, lab: str) -> list[str]:
    """One task of each service's newest revision, in the private subnets (step 3.11)."""
    vpc = lookup.vpc(session, session.name("vpc"))
    subnets = [s["SubnetId"] for s in lookup.subnets(session, vpc["VpcId"], "private")]
    group = lookup.security_group(session, vpc["VpcId"], session.name("tasks-sg"))["GroupId"]
    return [tasks.run_once(session, session.name("cluster"), ms.family(session, service),
                           subnets=subnets, security_groups=[group],
                           started_by=ms.started_by(session, lab),
                           tags=session.tags(lab, style="key"))["taskArn"]
            for service in ms.SERVICES]


def app_log_lines(session: Any, service: str, limit: int = 5) -> list[str]:
    """The newest lines the service's app container wrote, from its newest log stream."""
    logs = session.client("logs")
    group = ms.log_group(session, service)
    try:
        streams = logs.describe_log_streams(logGroupName=group, logStreamNamePrefix=f"{service}/app/",
                                            orderBy="LogStreamName")["logStreams"]
    except logs.exceptions.ResourceNotFoundException:
        return []
    lines: list[str] = []
    for stream in sorted(streams, key=lambda s: s.get("creationTime", 0), reverse=True):
        lines = tasks.log_lines(session, group, stream["logStreamName"], limit)
        if lines:
            break
    return lines


def wait_for_logs(session: Any, timeout: float = 30) -> None:
    """The awslogs driver ships every second or so: wait until each app's lines arrived."""
    import time
    deadline = time.monotonic() + timeout
    while not all(app_log_lines(session, s) for s in ms.SERVICES):
        if time.monotonic() > deadline:
            return
        time.sleep(0.25)


def teardown(session: Any, execute: bool = False) -> Plan:
    """Lab 03's task definitions, roles, secret and log groups (tear down the services first)."""
    ecs, iam, logs = session.client("ecs"), session.client("iam"), session.client("logs")
    sm = session.client("secretsmanager")
    actions: list[Action] = []
    cluster = session.name("cluster")
    if lookup.cluster(session, cluster) is not None:
        mine = ecs.list_tasks(cluster=cluster, startedBy=ms.started_by(session, ABOUT.number),
                              desiredStatus="RUNNING").get("taskArns", [])
        for arn in mine:
            actions.append(Action("running task", arn.rsplit("/", 1)[-1], lambda arn=arn: ecs.stop_task(
                cluster=cluster, task=arn, reason="Lab 03 teardown")))
    for service in ms.SERVICES:
        for arn in taskdefs.revision_arns(ecs, ms.family(session, service)):
            tags = ecs.describe_task_definition(taskDefinition=arn, include=["TAGS"]).get("tags", [])
            if lookup.is_course_tagged({"tags": tags}, session):
                actions.append(Action("task definition", arn.rsplit("/", 1)[-1],
                                      lambda arn=arn: ecs.deregister_task_definition(taskDefinition=arn)))
    role_names = [ms.task_role_name(session, s) for s in ms.SERVICES] + [ms.execution_role_name(session)]
    for role_name in role_names:
        role = lookup.role(iam, role_name)
        if role is None:
            continue
        tags = iam.list_role_tags(RoleName=role_name).get("Tags", [])
        if not lookup.is_course_tagged({"Tags": tags}, session):
            continue
        actions.append(Action("IAM role", role_name, lambda r=role_name: roles.delete_role(iam, r)))
    try:
        secret = sm.describe_secret(SecretId=ms.secret_name(session))
    except sm.exceptions.ResourceNotFoundException:
        secret = None
    if secret is not None and lookup.is_course_tagged(secret, session):
        secret_arn = secret["ARN"]
        actions.append(Action("secret", secret["Name"], lambda: sm.delete_secret(
            SecretId=secret_arn, ForceDeleteWithoutRecovery=True)))
    for service in ms.SERVICES:
        group = ms.log_group(session, service)
        if lookup.log_group(session, group) is not None:
            actions.append(Action("log group", group,
                                  lambda group=group: logs.delete_log_group(logGroupName=group)))
    return Plan(actions).run(execute)


# ------------------------------------------------------ the pieces `build` puts together
def ensure_log_group(session: Any, lab: str, service: str) -> str:
    """The service's log group, created with the course tags and a retention period."""
    logs = session.client("logs")
    name = ms.log_group(session, service)
    if not any(g["logGroupName"] == name
               for g in logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]):
        logs.create_log_group(logGroupName=name, tags=identity.tags(lab, session.learner))
    logs.put_retention_policy(logGroupName=name, retentionInDays=ms.LOG_RETENTION_DAYS)
    return name


def ensure_secret(session: Any, lab: str) -> dict:
    """The database credentials secret (a new random password only when it is first created)."""
    sm = session.client("secretsmanager")
    try:
        return sm.describe_secret(SecretId=ms.secret_name(session))
    except sm.exceptions.ResourceNotFoundException:
        pass
    password = sm.get_random_password(PasswordLength=32, ExcludePunctuation=True)["RandomPassword"]
    sm.create_secret(Name=ms.secret_name(session), Description="MyLearning database credentials",
                     SecretString=json.dumps({"username": "mylearning_app", "password": password}),
                     Tags=session.tags(lab))
    return sm.describe_secret(SecretId=ms.secret_name(session))


def ensure_execution_role(session: Any, lab: str, secret_arn: str) -> dict:
    return roles.ensure_role(
        session, lab, ms.execution_role_name(session), trust=roles.trust_policy(),
        description="ECS pulls images, writes logs and reads the app secret for MyLearning tasks",
        managed=[taskdefs.EXECUTION_POLICY_ARN],
        inline={"read-app-secret": task_roles.execution_permissions(secret_arn)})


def ensure_task_role(session: Any, lab: str, service: str, account: str | None = None) -> dict:
    account = account or lookup.account_id(session)
    return roles.ensure_role(
        session, lab, ms.task_role_name(session, service),
        trust=roles.trust_policy(account=account, region=session.region_name),
        description=f"What MyLearning's {service} code may call",
        inline={"app-permissions": task_roles.app_permissions(session, service, account)})
