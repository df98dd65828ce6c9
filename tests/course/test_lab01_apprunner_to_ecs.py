"""Lab 01's teardown: the migrated service and everything it needs, tagged for this learner only."""
from __future__ import annotations

import json

from mylearning import lookup, migrate, prepare, teardown
from mylearning.answers import record_answer
from mylearning.course import lab01_apprunner_to_ecs as lab01
from mylearning.facts.ecs import DESIRED_COUNT_DIMENSION, ECS_TASKS_PRINCIPAL

TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                 "Principal": {"Service": ECS_TASKS_PRINCIPAL}}]}


def _migrated(session) -> str:
    """What the solution builds: two roles, a log group, a task definition, a service, a target."""
    lab = lab01.ABOUT.number
    iam, ecs = session.client("iam"), session.client("ecs")
    arns = [iam.create_role(RoleName=session.name(name), AssumeRolePolicyDocument=json.dumps(TRUST),
                            Tags=session.tags(lab))["Role"]["Arn"] for name in (lab01.EXECUTION_ROLE, lab01.TASK_ROLE)]
    iam.put_role_policy(RoleName=session.name(lab01.EXECUTION_ROLE), PolicyName="secrets",
                        PolicyDocument=json.dumps(migrate.secrets_policy(migrate.load_sample())))
    session.client("logs").create_log_group(logGroupName=lab01.log_group(session),
                                            tags={t["Key"]: t["Value"] for t in session.tags(lab)})
    td = migrate.task_definition(migrate.load_sample(), execution_role_arn=arns[0], task_role_arn=arns[1],
                                 family=session.name(lab01.SERVICE), container_name=lab01.CONTAINER)
    td_arn = ecs.register_task_definition(**td, tags=session.tags(lab, style="key"))["taskDefinition"]
    prepare.foundation(session)
    vpc = lookup.vpc(session, session.name("vpc"))
    private = [s["SubnetId"] for s in lookup.subnets(session, vpc["VpcId"], "private")]
    group = lookup.security_group(session, vpc["VpcId"], session.name("tasks-sg"))["GroupId"]
    ecs.create_service(cluster=session.name("cluster"), serviceName=session.name(lab01.SERVICE),
                       taskDefinition=td_arn["taskDefinitionArn"], desiredCount=1, launchType="FARGATE",
                       networkConfiguration={"awsvpcConfiguration": {
                           "subnets": private, "securityGroups": [group], "assignPublicIp": "DISABLED"}},
                       tags=session.tags(lab, style="key"))
    resource = f"service/{session.name('cluster')}/{session.name(lab01.SERVICE)}"
    session.client("application-autoscaling").register_scalable_target(
        ResourceId=resource, MinCapacity=1, MaxCapacity=4, **DESIRED_COUNT_DIMENSION)
    record_answer(lab, "limitations", {"sidecars": "C"}, session=session)
    return resource


def test_teardown_plans_in_order_then_removes_everything_of_the_lab(session):
    resource = _migrated(session)
    plan = teardown.plan(session, lab01.ABOUT.number)
    kinds = [a.kind for a in plan.actions]
    assert not plan.executed
    assert kinds[:2] == ["scalable target", "ECS service"]  # the target goes before its service
    assert {"task definition", "log group", "IAM role", "recorded answer"} <= set(kinds)
    assert kinds.count("IAM role") == 2
    done = teardown.plan(session, lab01.ABOUT.number, execute=True)
    assert all(a.status == "deleted" for a in done.actions), str(done)
    aas = session.client("application-autoscaling")
    assert not aas.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[resource])["ScalableTargets"]
    assert "Nothing to remove" in str(teardown.plan(session, lab01.ABOUT.number))


def test_teardown_leaves_same_named_resources_the_course_did_not_tag(session):
    iam = session.client("iam")
    iam.create_role(RoleName=session.name(lab01.EXECUTION_ROLE), AssumeRolePolicyDocument=json.dumps(TRUST))
    plan = teardown.plan(session, lab01.ABOUT.number)
    assert [a for a in plan.actions if a.kind == "IAM role"] == []
