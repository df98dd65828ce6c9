"""Lab 05, auto scaling and cost: its declaration and its teardown.

Later labs need nothing of this one (their services keep the desired count they
have), so the lab has no builder. Its teardown matters on a real account: left in
place, the evening schedule raises the courses API to its evening minimum every weekday.
"""
from __future__ import annotations

from typing import Any

from mylearning import lookup, microservices as ms
from mylearning.course import LabInfo
from mylearning.facts.ecs import DESIRED_COUNT_DIMENSION as DIMENSION
from mylearning.removals import Action, Plan

ABOUT = LabInfo(
    "05", "Auto scaling and cost optimization",
    services=("application-autoscaling", "ec2", "ecs", "elbv2", "ssm", "sts"),
    concepts=("capacity", "cost", "migrate", "cost_explorer", "answers"))



def teardown(session: Any, execute: bool = False) -> Plan:
    """Each web service's scaling policies, scheduled actions and scalable target.

    DeregisterScalableTarget deletes the target's policies and scheduled actions too
    (https://docs.aws.amazon.com/autoscaling/application/APIReference/API_DeregisterScalableTarget.html);
    they are listed one by one first so the plan shows everything that goes. Only the
    targets of this learner's course-tagged services are touched; the services stay.
    """
    aas = session.client("application-autoscaling")
    cluster = session.name("cluster")
    actions: list[Action] = []
    for service in ms.WEB_SERVICES:
        found = lookup.ecs_service(session, cluster, ms.service_name(session, service))
        if found is None or not lookup.is_course_tagged(found, session):
            continue
        rid = f"service/{cluster}/{found['serviceName']}"
        for policy in aas.describe_scaling_policies(ServiceNamespace="ecs", ResourceId=rid)["ScalingPolicies"]:
            name = policy["PolicyName"]
            actions.append(Action("scaling policy", name, lambda name=name, rid=rid: aas.delete_scaling_policy(
                PolicyName=name, ResourceId=rid, **DIMENSION)))
        for action in aas.describe_scheduled_actions(ServiceNamespace="ecs", ResourceId=rid)["ScheduledActions"]:
            name = action["ScheduledActionName"]
            actions.append(Action("scheduled action", name, lambda name=name, rid=rid: aas.delete_scheduled_action(
                ScheduledActionName=name, ResourceId=rid, **DIMENSION)))
        if aas.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[rid])["ScalableTargets"]:
            actions.append(Action("scalable target", rid, lambda rid=rid: aas.deregister_scalable_target(
                ResourceId=rid, **DIMENSION)))
    return Plan(actions).run(execute)
