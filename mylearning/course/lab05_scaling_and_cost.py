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
    services=("application-autoscaling", "cloudwatch", "ec2", "ecs", "elbv2", "ssm", "sts"),
    concepts=("capacity", "cost", "migrate", "cost_explorer", "answers", "autoscaling", "traffic",
              "loadbalancer"))

#: Steps 5.7 and 5.9: the surge goes to the enrollment service, whose requests-per-target
#: target (140 a minute per task) a laptop can exceed; the courses API's (1,050) would take
#: hundreds of requests a second here. The surge gives each running task SURGE_FACTOR times
#: the target (1.3: the proportional scale-out then lands below the target, not on it), the
#: trickle after it TRICKLE_SHARE of what the minimum takes at the target: low enough for the
#: AlarmLow, never none (without requests the ALB publishes no RequestCountPerTarget, and
#: target tracking "cannot scale your scalable target until new data points are found":
#: https://docs.aws.amazon.com/autoscaling/application/userguide/target-tracking-scaling-policy-overview.html).
SURGE_SERVICE = "enrollment"
SURGE_PATH = "/api/enrollments"
SURGE_FACTOR = 1.3
TRICKLE_SHARE = 0.25
#: How long the watches wait, in alarm minutes (`autoscaling.alarm_minute`: 6 s at scale 10):
#: 3 to scale out plus tasks to start; 15 quiet ones to scale in.
SCALE_OUT_WAIT_MINUTES = 15
SCALE_IN_WAIT_MINUTES = 20
#: Step 5.8: the load test of the courses API. Each task is offered MEASURE_LOAD times what the
#: capacity plan says one serves at 100% CPU, for MEASURE_SECONDS; the plan holds if every task
#: served at least its plan's share, with the p99 TargetResponseTime within LATENCY_TARGET_MS and
#: at most MAX_FAILED_SHARE of the group's requests not answered 2XX by a task.
#: METRICS_SLACK_SECONDS: the load balancer publishes what it served a little after serving it,
#: so the window's metrics are read up to that much after its end.
MEASURED_SERVICE = "courses-api"
MEASURE_PATH = "/api/courses"
MEASURE_LOAD = 1.25
MEASURE_SECONDS = 20
LATENCY_TARGET_MS = 200.0
MAX_FAILED_SHARE = 0.001
METRICS_SLACK_SECONDS = 10
THROUGHPUT_ANSWER = "throughput"



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
