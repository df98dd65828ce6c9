"""Lab 04, services: its declaration, its end state and its teardown.

`build` puts the web services behind the load balancer and in Cloud Map, rolls the
courses API out to its new version and records the availability answer, as the
solution does; `teardown` removes them in an order AWS accepts.
"""
from __future__ import annotations

from typing import Any

from mylearning import (availability, cloudmap, loadbalancer, lookup, microservices as ms,
                        service_specs, taskdefs)
from mylearning.answers import record_answer
from mylearning.course import LabInfo
from mylearning.removals import Action, Plan

ABOUT = LabInfo(
    "04", "Services, load balancing and discovery",
    services=("cloudwatch", "ec2", "ecs", "elbv2", "servicediscovery", "ssm", "sts"),
    concepts=("loadbalancer", "cloudmap", "deployments", "microservices", "service_specs",
              "taskdefs", "capacity", "availability", "cost", "tasks", "traffic"))

#: The availability the platform promises, and the answer the lab records for it.
TARGET_AVAILABILITY = 0.9999
DOWNTIME_ANSWER = "downtime-minutes-9999"
#: Step 4.11: requests through the ALB, by path (a path no rule matches gets the listener's
#: 404), and how many CloudWatch must show for the step to pass.
TRAFFIC_PLAN = (("/api/courses", 200), ("/api/enrollments", 100), ("/no-such-page", 10))
TRAFFIC_MINIMUM = 100
#: Step 4.8: the traffic that flows while the courses API rolls out, and how much of it
#: CloudWatch must show in the rollout's minutes for the step to pass.
ROLLOUT_PATH = "/api/courses"
ROLLOUT_RATE = 10
ROLLOUT_MINIMUM = 20
#: Why the learner's chaos test of step 4.10 stopped a task.
CHAOS_REASON = "Lab 04: chaos test, stopped by the learner"
#: Step 4.12: the description of the tasks' group's rule for calls between MyLearning's tasks.
SERVICE_TO_SERVICE = "from the other MyLearning tasks"


def service_to_service_rule(tasks_sg: str) -> dict:
    """The app port, from members of the tasks' own group (a self-referencing rule):
    https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html ("the source
    can be ... the current security group")."""
    return {"IpProtocol": "tcp", "FromPort": ms.APP_PORT, "ToPort": ms.APP_PORT,
            "UserIdGroupPairs": [{"GroupId": tasks_sg, "Description": SERVICE_TO_SERVICE}]}


def _covers_app_port(rule: dict) -> bool:
    if str(rule.get("IpProtocol")) == "-1":
        return True
    return str(rule.get("IpProtocol")) in ("tcp", "6") and \
        int(rule.get("FromPort", -1)) <= ms.APP_PORT <= int(rule.get("ToPort", -1))


def admits_itself(group: dict) -> bool:
    """Whether the group lets its own members reach the app port."""
    return any(_covers_app_port(r) and any(p.get("GroupId") == group["GroupId"]
                                           for p in r.get("UserIdGroupPairs") or [])
               for r in group.get("IpPermissions", []))


def address_ranges_admitted(group: dict) -> list[str]:
    """The CIDR blocks the group lets reach the app port (the course's tasks-sg has none)."""
    return [r["CidrIp"] for rule in group.get("IpPermissions", []) if _covers_app_port(rule)
            for r in rule.get("IpRanges") or [] if r.get("CidrIp")]


def allow_service_to_service(session: Any, tasks_sg: str) -> bool:
    """Add step 4.12's rule unless the group has it; True when it was added."""
    ec2 = session.client("ec2")
    group = ec2.describe_security_groups(GroupIds=[tasks_sg])["SecurityGroups"][0]
    if admits_itself(group):
        return False
    ec2.authorize_security_group_ingress(GroupId=tasks_sg, IpPermissions=[service_to_service_rule(tasks_sg)])
    return True


def enroll(session: Any, base: str, learner: str = "ada", timeout: float = 10.0) -> Any:
    """POST /api/enroll through the load balancer for the catalogue's first course: the
    enrollment service asks the courses API, by its Cloud Map name, whether it exists."""
    import json

    from mylearning import traffic
    catalogue = traffic.get(session, f"{base}/api/courses", timeout=timeout)
    listed = (catalogue.json() or {}).get("courses") if catalogue.status == 200 else None
    if not listed:
        return catalogue  # no catalogue to enroll in: its answer says why
    course = listed[0]["id"]
    return traffic.get(session, f"{base}/api/enroll", method="POST", timeout=timeout,
                       body=json.dumps({"learner": learner, "course": course}).encode(),
                       headers={"Content-Type": "application/json"})


def stopped_by_learner(session: Any, cluster: str, service: str) -> list[dict]:
    """The service's tasks stopped with StopTask (stop code UserInitiated), newest first.

    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Task.html (stopCode)
    """
    from mylearning import tasks

    ecs = session.client("ecs")
    arns = ecs.list_tasks(cluster=cluster, serviceName=service, desiredStatus="STOPPED").get("taskArns", [])
    found = [t for t in tasks.describe(session, cluster, arns) if t.get("stopCode") == "UserInitiated"]
    return sorted(found, key=lambda t: t.get("stoppingAt") or t.get("createdAt"), reverse=True)


def build(session: Any) -> None:
    """Lab 04's end state: the ALB with its target groups and path rules, the Cloud Map
    namespace and services, both web services, the courses API rolled out to 1.2.0, the
    recorded availability answer, step 4.11's requests and step 4.12's service-to-service
    rule."""
    lab, ecs, cluster = ABOUT.number, session.client("ecs"), session.name("cluster")
    vpc = lookup.vpc(session, session.name("vpc"))
    public = [s["SubnetId"] for s in lookup.subnets(session, vpc["VpcId"], "public")]
    private = [s["SubnetId"] for s in lookup.subnets(session, vpc["VpcId"], "private")]
    alb_sg = lookup.security_group(session, vpc["VpcId"], session.name("alb-sg"))["GroupId"]
    tasks_sg = lookup.security_group(session, vpc["VpcId"], session.name("tasks-sg"))["GroupId"]
    alb = loadbalancer.ensure_load_balancer(session, lab, ms.load_balancer_name(session), public, [alb_sg])
    listener = loadbalancer.ensure_listener(session, lab, alb["LoadBalancerArn"])
    namespace = cloudmap.ensure_private_namespace(session, lab, cloudmap.namespace_name(session),
                                                  vpc["VpcId"])
    for service, (pattern, priority, _) in ms.WEB_SERVICES.items():
        tg = loadbalancer.ensure_target_group(session, lab, ms.target_group_name(session, service),
                                              vpc["VpcId"], ms.APP_PORT, ms.HEALTH_PATH)
        loadbalancer.ensure_path_rule(session, lab, listener["ListenerArn"], priority, [pattern],
                                      tg["TargetGroupArn"])
        registry = cloudmap.ensure_service(session, lab, namespace["Id"], service)
        if lookup.ecs_service(session, cluster, ms.service_name(session, service)) is None:
            ecs.create_service(**service_specs.service_spec(
                session, service, cluster=cluster, task_definition=ms.family(session, service),
                subnets=private, security_group=tasks_sg, target_group_arn=tg["TargetGroupArn"],
                registry_arn=registry["Arn"], lab=lab))
    courses = lookup.ecs_service(session, cluster, ms.service_name(session, "courses-api"))
    running = ecs.describe_task_definition(taskDefinition=courses["taskDefinition"])["taskDefinition"]
    image = ms.image(session, "courses-api", ms.ROLLOUT_VERSION)
    stable = {"Delay": 0.5 if session.is_emulator else 15, "MaxAttempts": 240}
    names = [ms.service_name(session, s) for s in ms.WEB_SERVICES]
    if not any(c["image"] == image for c in running["containerDefinitions"]):
        load = rollout_load(session, alb)  # step 4.8 rolls out under load (once the service is steady)
        spec = taskdefs.with_image(taskdefs.as_spec(running, tags=session.tags(lab, style="key")),
                                   "app", image)
        new, _ = taskdefs.ensure_registered(ecs, spec)
        ecs.update_service(cluster=cluster, service=courses["serviceName"],
                           taskDefinition=new["taskDefinitionArn"])
        ecs.get_waiter("services_stable").wait(cluster=cluster, services=names, WaiterConfig=stable)
        sent = load.stop().count
        loadbalancer.wait_served(session, alb["LoadBalancerArn"], min(sent, ROLLOUT_MINIMUM))
    ecs.get_waiter("services_stable").wait(cluster=cluster, services=names, WaiterConfig=stable)
    if not stopped_by_learner(session, cluster, ms.service_name(session, "courses-api")):
        arns = ecs.list_tasks(cluster=cluster, serviceName=ms.service_name(session, "courses-api"),
                              desiredStatus="RUNNING")["taskArns"]
        ecs.stop_task(cluster=cluster, task=arns[0], reason=CHAOS_REASON)
        ecs.get_waiter("services_stable").wait(cluster=cluster, services=names, WaiterConfig=stable)
    record_answer(lab, DOWNTIME_ANSWER, round(availability.allowed_downtime_minutes(TARGET_AVAILABILITY), 2),
                  session=session)
    send_traffic(session, alb)
    allow_service_to_service(session, tasks_sg)


def send_traffic(session: Any, alb: dict, timeout: float = 180.0) -> float:
    """Step 4.11's requests through the ALB (both services' paths, and one no rule matches),
    unless CloudWatch already shows enough; waits for its metrics; returns what it shows."""
    from mylearning import traffic
    arn = alb["LoadBalancerArn"]
    seen = loadbalancer.served(session, arn)
    groups = [lookup.target_group(session, ms.target_group_name(session, s)) for s in ms.WEB_SERVICES]
    if seen >= TRAFFIC_MINIMUM and all(
            g and loadbalancer.served(session, arn, "HTTPCode_Target_2XX_Count", g["TargetGroupArn"]) for g in groups):
        return seen  # what step 4.11 checks is there already (the rollouts' traffic reaches one service only)
    base = f"http://{alb['DNSName']}"
    sent = sum(traffic.send(session, base + path, requests=count, concurrency=10).count
               for path, count in TRAFFIC_PLAN)
    return loadbalancer.wait_served(session, arn, seen + min(sent, TRAFFIC_MINIMUM), timeout)


def rollout_load(session: Any, alb: dict) -> Any:
    """Step 4.8's traffic: `ROLLOUT_RATE` requests a second to the courses API through the
    ALB, in the background, for up to `rollout_seconds` (stop it when the rollout is done).
    It starts once the courses API's targets are all healthy: before that the ALB has
    nothing to send requests to, and the rollout would be blamed for it -- and once the
    service is steady (its tasks' own health checks passed too: ECS replaces tasks that are
    not healthy first, whatever minimumHealthyPercent says)."""
    from mylearning import deployments, traffic
    deployments.wait_steady(session, session.name("cluster"), ms.service_name(session, "courses-api"),
                            timeout=rollout_seconds(session))
    group = lookup.target_group(session, ms.target_group_name(session, "courses-api"))
    if group is not None:
        loadbalancer.wait_healthy(session, group["TargetGroupArn"], ms.DESIRED_COUNT,
                                  timeout=rollout_seconds(session))
    return traffic.start(session, f"http://{alb['DNSName']}{ROLLOUT_PATH}", rate=ROLLOUT_RATE,
                         duration=rollout_seconds(session))


def rollout_seconds(session: Any) -> float:
    """Long enough for a rollout: seconds on the embedded AWS, several minutes on AWS (new
    tasks start and pass health checks, old targets drain for the deregistration delay)."""
    return 180.0 if session.is_emulator else 1200.0


def rollout_window(deployment: dict) -> tuple[Any, Any]:
    """When a deployment ran: created, and last updated (completed, once COMPLETED)."""
    return deployment["createdAt"], deployment.get("updatedAt") or deployment["createdAt"]


def rollout_traffic(session: Any, alb_arn: str, group_arn: str, deployment: dict) -> tuple[float, float]:
    """Requests the courses API's target group got while the deployment ran, and how many of
    all the ALB's requests failed then (its own 5XX answers, the targets' 5XX), from CloudWatch."""
    start, end = rollout_window(deployment)
    requests = loadbalancer.served_between(session, alb_arn, start, end, "RequestCount", group_arn)
    failed = (loadbalancer.served_between(session, alb_arn, start, end, "HTTPCode_ELB_5XX_Count")
              + loadbalancer.served_between(session, alb_arn, start, end, "HTTPCode_Target_5XX_Count", group_arn))
    return requests, failed


def teardown(session: Any, execute: bool = False) -> Plan:
    """Lab 04's services, load balancer, target groups and Cloud Map names.

    Order matters: the ECS services go first (they hold the target groups and Cloud Map
    services), then the Cloud Map services and namespace, then the ALB (its listener and
    rules go with it), then the target groups, which AWS refuses to delete while in use.
    """
    ecs, elb = session.client("ecs"), session.client("elbv2")
    sd = session.client("servicediscovery")
    actions: list[Action] = []
    cluster = session.name("cluster")
    for service in ms.WEB_SERVICES:
        found = lookup.ecs_service(session, cluster, ms.service_name(session, service))
        if found is not None and lookup.is_course_tagged(found, session):
            name = found["serviceName"]
            actions.append(Action("ECS service", name, lambda name=name: (
                ecs.update_service(cluster=cluster, service=name, desiredCount=0),
                ecs.delete_service(cluster=cluster, service=name, force=True))))
    namespace = lookup.namespace(session, cloudmap.namespace_name(session))
    if namespace is not None:
        for service in ms.WEB_SERVICES:
            registry = lookup.discovery_service(session, namespace["Id"], service)
            if registry is not None and lookup.is_course_tagged(registry, session):
                rid = registry["Id"]
                actions.append(Action("Cloud Map service", f"{service}.{namespace['Name']}",
                                      lambda rid=rid: sd.delete_service(Id=rid)))
        nid = namespace["Id"]
        actions.append(Action("Cloud Map namespace", namespace["Name"],
                              lambda: cloudmap.wait_for_operation(
                                  sd, sd.delete_namespace(Id=nid)["OperationId"])))
    alb = lookup.load_balancer(session, ms.load_balancer_name(session))
    if alb is not None:
        arn = alb["LoadBalancerArn"]
        actions.append(Action("load balancer", alb["LoadBalancerName"],
                              lambda: elb.delete_load_balancer(LoadBalancerArn=arn)))
    for service in ms.WEB_SERVICES:
        tg = lookup.target_group(session, ms.target_group_name(session, service))
        if tg is not None:
            tg_arn = tg["TargetGroupArn"]
            actions.append(Action("target group", tg["TargetGroupName"],
                                  lambda tg_arn=tg_arn: elb.delete_target_group(TargetGroupArn=tg_arn)))
    return Plan(actions).run(execute)
