"""Lab 06, App Mesh: its declaration, the mesh it builds, its end state and its teardown.

MyLearning's two web services move onto an AWS App Mesh mesh: a virtual node per service
(found through the Cloud Map names lab 04 registered), a virtual router for the courses API,
a virtual service per service named as the callers already call it, the Envoy sidecar in
every task, and a virtual gateway behind the ALB as the mesh's front door. Then the mesh
shows what it is for: DROP_ALL refuses a backend the caller did not declare, and a retry
policy hides a flaky backend.

App Mesh reached end of support on 2026-09-30
(https://docs.aws.amazon.com/app-mesh/latest/userguide/what-is-app-mesh.html): the lab runs on
the embedded AWS only, and `unavailable_reason` says so plainly on a real account, where
every cell, check and `build` stops before its first App Mesh call.

What any mesh lab may use lives in the concept modules: the App Mesh JSON and builders
(`mylearning.mesh`), the Envoy sidecar of a task definition (`mylearning.mesh.sidecar`),
reading a proxy (`mylearning.mesh.admin`), faults injected into running tasks
(`mylearning.knobs`). What this lab's notebook, grader and `build` share lives here, once:
the names, the gateway's ECS side, the security group rules of the Envoy admin port, the
steps as `build` runs them, and the measurements.
"""
from __future__ import annotations

import json
import time
from typing import Any, Iterable

from mylearning import cloudmap, deployments, knobs, loadbalancer, lookup, mesh, microservices as ms, roles, taskdefs
from mylearning.facts import envoy as envoy_facts
from mylearning.mesh import admin, sidecar
from mylearning.answers import read_answer, record_answer
from mylearning.course import LabInfo
from mylearning.removals import Action, Plan

ABOUT = LabInfo(
    "06", "App Mesh",
    services=("appmesh", "cloudwatch", "ec2", "ecs", "elbv2", "iam", "logs", "servicediscovery", "ssm", "sts"),
    concepts=("mesh", "taskdefs", "roles", "loadbalancer", "cloudmap", "deployments", "microservices",
              "knobs", "tasks", "traffic", "answers"))

# ---------------------------------------------------------------- why it cannot run on AWS
END_OF_SUPPORT = "2026-09-30"
UNAVAILABLE = (
    f"AWS App Mesh reached end of support on {END_OF_SUPPORT}: its API and console are no longer "
    "available to AWS accounts, so this lab cannot create a mesh on a real account "
    "(https://docs.aws.amazon.com/app-mesh/latest/userguide/what-is-app-mesh.html). It runs on the "
    "embedded AWS: connect without MYLEARNING_BACKEND=aws (the default). The course's last lab moves "
    "MyLearning to ECS Service Connect, which AWS recommends instead of App Mesh.")


def unavailable_reason(session: Any) -> str | None:
    """Why the lab cannot run against this session (a real account), or None (the embedded AWS)."""
    return None if session.is_emulator else UNAVAILABLE


# ---------------------------------------------------------------- names
#: The services the lab meshes: ECS service -> its virtual node.
NODES = {"courses-api": "courses-api-v1", "enrollment": "enrollment"}
#: The courses API's virtual router and its one route (lab 07 adds a second version to it).
ROUTER, ROUTE = "courses-api-router", "courses"
#: The virtual gateway and its gateway routes: path prefix -> service, the paths the ALB
#: rules of lab 04 used, now matched inside the mesh.
GATEWAY = "ingress"
GATEWAY_ROUTES = {"courses": ("/api/courses", "courses-api"), "enroll": ("/api/enroll", "enrollment")}
#: The ALB listener rule that hands every API path to the gateway: before lab 04's rules. It
#: is created after them (priority 30: it takes only API paths no service rule takes), since
#: ECS wants a target group in use by the load balancer before a service may register with
#: it, and moves before them once the gateway's targets are healthy.
GATEWAY_RULE_PRIORITY, GATEWAY_STAGING_PRIORITY = 5, 30
GATEWAY_PATH = "/api/*"
GATEWAY_SERVICE = "gateway"  # session.name(...) gives the ECS service, family, target group prefix

#: The inline policy that lets Envoy fetch its configuration (`mylearning.mesh.sidecar`).
MESH_POLICY = "appmesh-envoy"

#: Step 6.6: requests a second to each service through the ALB while both move onto the
#: mesh, and how many CloudWatch must show in each rollout's minutes.
MOVE_RATE = 8
MOVE_MINIMUM = 20
MOVE_PATHS = {"courses-api": "/api/courses", "enrollment": "/api/enrollments"}

#: Step 6.8: the security group rules of the Envoy admin port.
ADMIN_FROM_YOU = "Envoy admin (stats) from your address only"
ADMIN_FROM_ALB = "ALB health checks of the gateway Envoy"

#: Step 6.10: the courses API's injected failure rate, the requests measured each way, and
#: the answers recorded.
FLAKY_ERROR_RATE = 0.3
MEASURED_REQUESTS = 100
RATE_WITHOUT, RATE_WITH = "success-rate-without-retries", "success-rate-with-retries"
RETRIES, PER_TRY_TIMEOUT, ROUTE_TIMEOUT = 3, 1, 5


def mesh_name(session: Any) -> str:
    return mesh.mesh_name(session)


def virtual_service(session: Any, service: str) -> str:
    return mesh.virtual_service_name(session, service)


def gateway_name(session: Any) -> str:
    return session.name(GATEWAY_SERVICE)


def gateway_target_group_name(session: Any) -> str:
    return session.name("gateway-tg")


def gateway_role_name(session: Any) -> str:
    return session.name(GATEWAY_SERVICE, "task-role")


def gateway_log_group(session: Any) -> str:
    return ms.log_group(session, GATEWAY_SERVICE)


def node_arn(session: Any, service: str) -> str:
    from mylearning.lookup import account_id
    return (f"arn:aws:appmesh:{session.region_name}:{account_id(session)}:mesh/{mesh_name(session)}"
            f"/virtualNode/{NODES[service]}")


def gateway_arn(session: Any) -> str:
    from mylearning.lookup import account_id
    return (f"arn:aws:appmesh:{session.region_name}:{account_id(session)}:mesh/{mesh_name(session)}"
            f"/virtualGateway/{GATEWAY}")


# ---------------------------------------------------------------- the mesh's resources
def node_spec(session: Any, service: str, backends: Iterable[str] = ()) -> dict:
    """The virtual node of one of MyLearning's services: its listener on the app port with
    App Mesh's health check of /health, its tasks found in Cloud Map (the names ECS registers
    them under since lab 04), the access log on Envoy's standard output, and the virtual
    services it may call."""
    return mesh.virtual_node_spec(
        port=ms.APP_PORT, discovery=mesh.cloud_map(cloudmap.namespace_name(session), service),
        health_check=mesh.health_check(ms.HEALTH_PATH), backends=list(backends))


def route_spec(*, retries: bool = False) -> dict:
    """The courses API's route: every path to its one node; with `retries`, App Mesh's retry
    policy for 5xx answers and resets and a per-request timeout (API_HttpRetryPolicy.html,
    API_HttpTimeout.html)."""
    extra: dict[str, Any] = {}
    if retries:
        extra = {"retry_policy": mesh.retry_policy(RETRIES, PER_TRY_TIMEOUT,
                                                   http_events=("server-error", "gateway-error"),
                                                   tcp_events=("connection-error",)),
                 "timeout": ROUTE_TIMEOUT}
    return mesh.route_spec({NODES["courses-api"]: 100}, prefix="/", **extra)


def ensure_mesh_resources(session: Any, lab: str, *, enrollment_backends: bool = True) -> dict:
    """The mesh (DROP_ALL), both nodes, the router and its route, both virtual services:
    steps 6.1 to 6.4, as `build` does them (and the notebook's solution)."""
    name = mesh_name(session)
    made = {"mesh": mesh.ensure_mesh(session, lab, name, "DROP_ALL")}
    courses = virtual_service(session, "courses-api")
    for service, node in NODES.items():
        backends = [courses] if service == "enrollment" and enrollment_backends else []
        made[node] = mesh.ensure_virtual_node(
            session, lab, name, node, discovery=mesh.cloud_map(cloudmap.namespace_name(session), service),
            health_check=mesh.health_check(ms.HEALTH_PATH), backends=backends)
    made["router"] = mesh.ensure_virtual_router(session, lab, name, ROUTER, port=ms.APP_PORT)
    made["route"] = mesh.ensure_route(session, lab, name, ROUTER, ROUTE, {NODES["courses-api"]: 100})
    made["courses"] = mesh.ensure_virtual_service(session, lab, name, courses, provider_router=ROUTER)
    made["enrollment"] = mesh.ensure_virtual_service(session, lab, name, virtual_service(session, "enrollment"),
                                                     provider_node=NODES["enrollment"])
    return made


# ---------------------------------------------------------------- task definitions
def allow_envoy(session: Any, role_name: str, resource_arn: str) -> None:
    """Let the task role's Envoy receive the configuration of `resource_arn` (step 6.5)."""
    session.client("iam").put_role_policy(RoleName=role_name, PolicyName=MESH_POLICY,
                                          PolicyDocument=json.dumps(sidecar.stream_permission([resource_arn])))


def ensure_gateway_role(session: Any, lab: str, account: str | None = None) -> dict:
    """The gateway's task role: it calls nothing itself, only Envoy's configuration stream."""
    account = account or lookup.account_id(session)
    return roles.ensure_role(session, lab, gateway_role_name(session),
                             trust=roles.trust_policy(account=account, region=session.region_name),
                             description="MyLearning's App Mesh virtual gateway (Envoy)",
                             inline={MESH_POLICY: sidecar.stream_permission([gateway_arn(session)])})


def ensure_gateway_log_group(session: Any, lab: str) -> str:
    from mylearning import identity
    logs = session.client("logs")
    name = gateway_log_group(session)
    if not any(g["logGroupName"] == name for g in logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]):
        logs.create_log_group(logGroupName=name, tags=identity.tags(lab, session.learner))
    logs.put_retention_policy(logGroupName=name, retentionInDays=ms.LOG_RETENTION_DAYS)
    return name


def gateway_task_definition(session: Any, lab: str, *, execution_role_arn: str, task_role_arn: str) -> dict:
    """The gateway's task: Envoy alone, listening on the gateway's listener port itself (no
    proxy configuration: a virtual gateway's Envoy is the destination, not a sidecar;
    https://docs.aws.amazon.com/app-mesh/latest/userguide/virtual_gateways.html)."""
    log = taskdefs.awslogs(gateway_log_group(session), session.region_name, GATEWAY_SERVICE)
    envoy = sidecar.envoy_container(gateway_arn(session), log, ports=(ms.APP_PORT, envoy_facts.ADMIN_PORT))
    return taskdefs.fargate_task(gateway_name(session), [envoy], cpu=256, memory=512,
                                 execution_role_arn=execution_role_arn, task_role_arn=task_role_arn,
                                 volumes=[sidecar.SCRATCH_VOLUME], tags=session.tags(lab, style="key"))


def gateway_service_spec(session: Any, lab: str, *, task_definition: str, subnets: list[str],
                         security_group: str, target_group_arn: str) -> dict:
    """CreateService for the gateway: two tasks in the private subnets behind the ALB, with the
    web services' safe rollouts; no Cloud Map name (only the ALB calls it)."""
    return {
        "cluster": session.name("cluster"), "serviceName": gateway_name(session),
        "taskDefinition": task_definition, "desiredCount": ms.DESIRED_COUNT,
        "deploymentConfiguration": {"deploymentCircuitBreaker": {"enable": True, "rollback": True},
                                    "minimumHealthyPercent": 100, "maximumPercent": 200},
        "healthCheckGracePeriodSeconds": ms.GRACE_PERIOD_SECONDS,
        "networkConfiguration": {"awsvpcConfiguration": {
            "subnets": list(subnets), "securityGroups": [security_group], "assignPublicIp": "DISABLED"}},
        "loadBalancers": [{"targetGroupArn": target_group_arn, "containerName": "envoy",
                           "containerPort": ms.APP_PORT}],
        "propagateTags": "SERVICE", "enableECSManagedTags": True, "tags": session.tags(lab, style="key"),
    }


def ensure_gateway_target_group(session: Any, lab: str, vpc_id: str) -> dict:
    """The gateway's target group: its listener port, health-checked at Envoy's admin /ready,
    which answers 200 once the proxy is LIVE
    (https://www.envoyproxy.io/docs/envoy/latest/operations/admin#get--ready)."""
    elb = session.client("elbv2")
    tg = lookup.target_group(session, gateway_target_group_name(session))
    if tg is None:
        elb.create_target_group(Name=gateway_target_group_name(session), Protocol="HTTP", Port=ms.APP_PORT,
                                VpcId=vpc_id, TargetType="ip", HealthCheckProtocol="HTTP",
                                HealthCheckPort=str(envoy_facts.ADMIN_PORT), HealthCheckPath="/ready",
                                HealthCheckIntervalSeconds=15, HealthyThresholdCount=2,
                                UnhealthyThresholdCount=3, Matcher={"HttpCode": "200"}, Tags=session.tags(lab))
        tg = lookup.target_group(session, gateway_target_group_name(session))
        elb.modify_target_group_attributes(TargetGroupArn=tg["TargetGroupArn"], Attributes=[
            {"Key": "deregistration_delay.timeout_seconds", "Value": "30"}])
    return tg


# ---------------------------------------------------------------- security groups
ADMIN_PORT = envoy_facts.ADMIN_PORT


def admin_rule(port_from: dict) -> dict:
    return {"IpProtocol": "tcp", "FromPort": ADMIN_PORT, "ToPort": ADMIN_PORT, **port_from}


def _admin_sources(group: dict) -> list[dict]:
    return [r for r in group.get("IpPermissions", []) if str(r.get("IpProtocol")) in ("tcp", "6", "-1")
            and (str(r.get("IpProtocol")) == "-1" or int(r.get("FromPort", -1)) <= ADMIN_PORT <= int(r.get("ToPort", -1)))]


def admin_ranges(group: dict) -> list[str]:
    """The address ranges the group lets reach the Envoy admin port."""
    return [c["CidrIp"] for r in _admin_sources(group) for c in r.get("IpRanges") or [] if c.get("CidrIp")]


def admin_groups(group: dict) -> list[str]:
    """The security groups the group lets reach the Envoy admin port."""
    return [p["GroupId"] for r in _admin_sources(group) for p in r.get("UserIdGroupPairs") or []]


def allow_admin(session: Any, tasks_sg: str, *, cidr: str | None = None, group_id: str | None = None) -> bool:
    """Add an inbound rule for the Envoy admin port unless the group has it; True when added."""
    ec2 = session.client("ec2")
    group = ec2.describe_security_groups(GroupIds=[tasks_sg])["SecurityGroups"][0]
    if cidr and cidr in admin_ranges(group) or group_id and group_id in admin_groups(group):
        return False
    source = ({"IpRanges": [{"CidrIp": cidr, "Description": ADMIN_FROM_YOU}]} if cidr else
              {"UserIdGroupPairs": [{"GroupId": group_id, "Description": ADMIN_FROM_ALB}]})
    ec2.authorize_security_group_ingress(GroupId=tasks_sg, IpPermissions=[admin_rule(source)])
    return True


# ---------------------------------------------------------------- reading the proxies
def access_log_lines(session: Any, service: str, limit: int = 200) -> list[str]:
    """The newest access log lines of the service's Envoy containers, from CloudWatch Logs (the
    envoy streams of its log group)."""
    logs = session.client("logs")
    group = gateway_log_group(session) if service == GATEWAY_SERVICE else ms.log_group(session, service)
    try:
        events = logs.filter_log_events(logGroupName=group, logStreamNamePrefix=f"{service}/envoy/",
                                        limit=10000)["events"]
    except logs.exceptions.ResourceNotFoundException:
        return []
    lines = [e["message"].rstrip("\n") for e in sorted(events, key=lambda e: e["timestamp"])]
    return [line for line in lines if admin.ACCESS_LINE.match(line)][-limit:]


def egress_cluster(session: Any, service: str) -> str:
    """The Envoy cluster a caller's proxy sends a service's requests to."""
    return admin.egress_cluster(mesh_name(session), NODES[service], ms.APP_PORT)


def running_tasks(session: Any, ecs_service: str) -> list[dict]:
    from mylearning import tasks
    ecs, cluster = session.client("ecs"), session.name("cluster")
    arns = ecs.list_tasks(cluster=cluster, serviceName=ecs_service, desiredStatus="RUNNING").get("taskArns", [])
    return [t for t in tasks.describe(session, cluster, arns) if t.get("lastStatus") == "RUNNING"]


def admin_open(session: Any) -> bool:
    """Whether the tasks' security group admits the Envoy admin port from some address (step
    6.8). Until it does, a request there is dropped and waits for its timeout: not worth sending."""
    _, _, tasks_sg, _ = _network(session)
    group = session.client("ec2").describe_security_groups(GroupIds=[tasks_sg])["SecurityGroups"][0]
    return bool(admin_ranges(group))


def proxies(session: Any, ecs_service: str) -> list[tuple[dict, dict[str, int] | None]]:
    """Each running task of the ECS service with its proxy's stats (None where none answered,
    and for all of them while the admin port is closed to you)."""
    from mylearning import tasks
    found = running_tasks(session, ecs_service)
    if not found or not admin_open(session):
        return [(t, None) for t in found]
    return [(t, admin.stats(session, tasks.private_ip(t))) for t in found]


# ---------------------------------------------------------------- a flaky backend
def set_error_rate(session: Any, rate: float) -> list[str]:
    """Make the courses API answer `rate` of its API requests with 500 (step 6.10), on every
    running task, through `mylearning.knobs` (a one-off task inside the VPC)."""
    return knobs.post(session, ABOUT.number, "courses-api", {"ERROR_RATE": rate})


def success_rate(summary: Any) -> float:
    """The share of requests answered 2xx."""
    ok = sum(n for status, n in summary.by_status.items() if str(status).startswith("2"))
    return round(ok / summary.count, 4) if summary.count else 0.0


# ---------------------------------------------------------------- moving onto the mesh
def register_meshed(session: Any, lab: str) -> dict[str, dict]:
    """Step 6.5: each web service's task role allows its node's configuration stream, and a
    revision of its task definition with the Envoy sidecar is registered (from the revision
    it runs; found, not registered again, when it exists). Service -> that revision."""
    ecs, cluster = session.client("ecs"), session.name("cluster")
    found = {}
    for service in NODES:
        arn = node_arn(session, service)
        allow_envoy(session, ms.task_role_name(session, service), arn)
        current = lookup.ecs_service(session, cluster, ms.service_name(session, service))
        running = ecs.describe_task_definition(taskDefinition=current["taskDefinition"])["taskDefinition"]
        spec = sidecar.with_envoy(taskdefs.as_spec(running, tags=session.tags(lab, style="key")), arn)
        found[service], _ = taskdefs.ensure_registered(ecs, spec)
    return found


def start_move_traffic(session: Any, alb: dict) -> list:
    """Step 6.6's traffic: `MOVE_RATE` requests a second to each web service through the ALB,
    in the background (stop them when the move is done). They start once both services are
    steady and their targets healthy, so the move alone is measured."""
    from mylearning import traffic
    cluster = session.name("cluster")
    for service in NODES:
        deployments.wait_steady(session, cluster, ms.service_name(session, service), timeout=180)
        group = lookup.target_group(session, ms.target_group_name(session, service))
        if group is not None:
            loadbalancer.wait_healthy(session, group["TargetGroupArn"], ms.DESIRED_COUNT, timeout=180)
    return [traffic.start(session, f"http://{alb['DNSName']}{MOVE_PATHS[s]}", rate=MOVE_RATE, duration=180)
            for s in NODES]


def finish_move(session: Any, alb: dict, loads: list) -> list:
    """Wait for both services' rollouts to complete, stop the traffic, and wait until the ALB's
    metrics show it; the traffic's summaries."""
    cluster = session.name("cluster")
    try:
        for service in NODES:
            deployments.wait_steady(session, cluster, ms.service_name(session, service), timeout=180, delay=0.5)
    finally:
        summaries = [load.stop() for load in loads]
    sent = sum(s.count for s in summaries)
    loadbalancer.wait_served(session, alb["LoadBalancerArn"], min(sent, MOVE_MINIMUM), timeout=60)
    return summaries


def move_onto_mesh(session: Any, lab: str, alb: dict) -> list[str]:
    """Steps 6.5 and 6.6: register the meshed revisions and roll each service onto its own
    under load (unless it runs it already). Returns the services it updated."""
    ecs, cluster = session.client("ecs"), session.name("cluster")
    revisions = register_meshed(session, lab)
    pending = [s for s in NODES if lookup.ecs_service(session, cluster, ms.service_name(session, s))[
        "taskDefinition"] != revisions[s]["taskDefinitionArn"]]
    if not pending:
        return []
    loads = start_move_traffic(session, alb)
    try:
        for service in pending:
            ecs.update_service(cluster=cluster, service=ms.service_name(session, service),
                               taskDefinition=revisions[service]["taskDefinitionArn"])
    finally:
        finish_move(session, alb, loads)
    return pending


# ---------------------------------------------------------------- the end state
def _network(session: Any) -> tuple[dict, list[str], str, str]:
    vpc = lookup.vpc(session, session.name("vpc"))
    private = [s["SubnetId"] for s in lookup.subnets(session, vpc["VpcId"], "private")]
    tasks_sg = lookup.security_group(session, vpc["VpcId"], session.name("tasks-sg"))["GroupId"]
    alb_sg = lookup.security_group(session, vpc["VpcId"], session.name("alb-sg"))["GroupId"]
    return vpc, private, tasks_sg, alb_sg


def ensure_gateway_mesh(session: Any, lab: str) -> None:
    """Step 6.7's App Mesh side: the virtual gateway and its gateway routes (keeping the path)."""
    name = mesh_name(session)
    mesh.ensure_virtual_gateway(session, lab, name, GATEWAY, port=ms.APP_PORT)
    for route, (prefix, service) in GATEWAY_ROUTES.items():
        mesh.ensure_gateway_route(session, lab, name, GATEWAY, route, virtual_service(session, service),
                                  prefix=prefix, keep_prefix=True)


def ensure_gateway(session: Any, lab: str) -> dict | None:
    """Step 6.7's ECS side, once the virtual gateway exists: the ALB's health checks to Envoy's
    admin port, the gateway's role, log group, task definition, target group, listener rule and
    ECS service; once its targets are healthy, the rule moves before the services' own. The
    gateway's target group, or None when there is no virtual gateway yet (its Envoy could
    never become ready)."""
    if lookup.mesh_resource(session, "virtualGateway", mesh_name(session), GATEWAY) is None:
        return None
    vpc, private, tasks_sg, alb_sg = _network(session)
    allow_admin(session, tasks_sg, group_id=alb_sg)
    role = ensure_gateway_role(session, lab)
    ensure_gateway_log_group(session, lab)
    execution = lookup.role(session.client("iam"), ms.execution_role_name(session))
    td, _ = taskdefs.ensure_registered(session.client("ecs"), gateway_task_definition(
        session, lab, execution_role_arn=execution["Arn"], task_role_arn=role["Arn"]))
    tg = ensure_gateway_target_group(session, lab, vpc["VpcId"])
    cluster = session.name("cluster")
    rule = ensure_gateway_rule(session, lab, tg["TargetGroupArn"])
    if lookup.ecs_service(session, cluster, gateway_name(session)) is None:
        session.client("ecs").create_service(**gateway_service_spec(
            session, lab, task_definition=td["taskDefinitionArn"], subnets=private, security_group=tasks_sg,
            target_group_arn=tg["TargetGroupArn"]))
    deployments.wait_steady(session, cluster, gateway_name(session), timeout=180, delay=0.5)
    loadbalancer.wait_healthy(session, tg["TargetGroupArn"], ms.DESIRED_COUNT, timeout=180)
    promote_gateway_rule(session, rule)
    return tg


def gateway_rule(session: Any, target_group_arn: str) -> dict | None:
    """The listener rule that forwards to the gateway's target group, if there is one."""
    elb = session.client("elbv2")
    alb = lookup.load_balancer(session, ms.load_balancer_name(session))
    listener = lookup.listener(elb, alb["LoadBalancerArn"], 80) if alb else None
    if listener is None:
        return None
    return next((r for r in loadbalancer.rules(elb, listener["ListenerArn"])
                 if not r.get("IsDefault") and target_group_arn in loadbalancer.forward_targets(r["Actions"])), None)


def ensure_gateway_rule(session: Any, lab: str, target_group_arn: str) -> dict:
    """The gateway's listener rule, created at the staging priority (after the services' rules)."""
    found = gateway_rule(session, target_group_arn)
    if found is not None:
        return found
    elb = session.client("elbv2")
    alb = lookup.load_balancer(session, ms.load_balancer_name(session))
    listener = lookup.listener(elb, alb["LoadBalancerArn"], 80)
    return elb.create_rule(ListenerArn=listener["ListenerArn"], Priority=GATEWAY_STAGING_PRIORITY,
                           Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"Values": [GATEWAY_PATH]}}],
                           Actions=[{"Type": "forward", "TargetGroupArn": target_group_arn}],
                           Tags=session.tags(lab))["Rules"][0]


def promote_gateway_rule(session: Any, rule: dict) -> None:
    """Give the gateway's rule priority 5: every API request now enters through the mesh."""
    if str(rule["Priority"]) != str(GATEWAY_RULE_PRIORITY):
        session.client("elbv2").set_rule_priorities(RulePriorities=[
            {"RuleArn": rule["RuleArn"], "Priority": GATEWAY_RULE_PRIORITY}])


def enroll_once(session: Any, base: str) -> Any:
    """POST /api/enroll through the ALB for a new learner (lab 04's `enroll`): enrollment
    asks the courses API whether the course exists, through its own proxy."""
    import uuid

    from mylearning.course.lab04_services import enroll
    return enroll(session, base, learner="learner-" + uuid.uuid4().hex[:8], timeout=10)


def enroll_until_created(session: Any, base: str, attempts: int = 40) -> Any:
    """Enroll until it answers 201 (App Mesh sends a change to the proxies within seconds)."""
    answer = None
    for _ in range(attempts):
        answer = enroll_once(session, base)
        if answer.status == 201:
            break
        time.sleep(0.25)
    return answer


def declare_backend(session: Any, lab: str) -> dict:
    """Step 6.9's fix: enrollment's node declares the courses API's virtual service."""
    return mesh.ensure_virtual_node(session, lab, mesh_name(session), NODES["enrollment"], update=True,
                                    discovery=mesh.cloud_map(cloudmap.namespace_name(session), "enrollment"),
                                    health_check=mesh.health_check(ms.HEALTH_PATH),
                                    backends=[virtual_service(session, "courses-api")])


def set_route(session: Any, lab: str, *, retries: bool) -> dict:
    """The courses API's route without retries (App Mesh's default policy applies), or with
    step 6.10's retry policy and timeout."""
    http = route_spec(retries=retries)["httpRoute"]
    return mesh.ensure_route(session, lab, mesh_name(session), ROUTER, ROUTE, {NODES["courses-api"]: 100},
                             update=True, retry_policy=http.get("retryPolicy"),
                             timeout=ROUTE_TIMEOUT if retries else None)


def measure(session: Any, base: str) -> Any:
    """`MEASURED_REQUESTS` GET /api/courses through the ALB (and the gateway): the summary."""
    from mylearning import traffic
    return traffic.send(session, base + "/api/courses", requests=MEASURED_REQUESTS, concurrency=10)


def build(session: Any) -> None:
    """Lab 06's end state, as the solution leaves it: the mesh and its resources, both web
    services on the mesh (moved under load), the gateway behind the ALB, the admin port open
    to your address, the refusal seen and the backend declared, the route's retries measured."""
    reason = unavailable_reason(session)
    if reason:
        print(reason)
        return
    lab = ABOUT.number
    ensure_mesh_resources(session, lab, enrollment_backends=False)
    alb = lookup.load_balancer(session, ms.load_balancer_name(session))
    move_onto_mesh(session, lab, alb)
    ensure_gateway_mesh(session, lab)
    ensure_gateway(session, lab)
    base = f"http://{alb['DNSName']}"
    _, _, tasks_sg, _ = _network(session)
    you = admin.caller_address(access_log_lines(session, "courses-api"))
    if you:
        allow_admin(session, tasks_sg, cidr=f"{you}/32")
    node = lookup.mesh_resource(session, "virtualNode", mesh_name(session), NODES["enrollment"])
    if not (node.get("spec") or {}).get("backends"):
        enroll_once(session, base)  # refused: DROP_ALL, and the node declares no backend
        declare_backend(session, lab)
    enroll_until_created(session, base)
    route = lookup.mesh_resource(session, "route", mesh_name(session), ROUTE, ROUTER)
    if ((route.get("spec") or {}).get("httpRoute") or {}).get("retryPolicy") and \
            read_answer(session, lab, RATE_WITH) is not None:
        return  # measured already
    set_error_rate(session, FLAKY_ERROR_RATE)
    try:
        set_route(session, lab, retries=False)
        wait_applied(session)
        without = measure(session, base)
        set_route(session, lab, retries=True)
        wait_applied(session)
        with_retries = measure(session, base)
    finally:
        set_error_rate(session, 0.0)
    record_answer(lab, RATE_WITHOUT, success_rate(without), session=session)
    record_answer(lab, RATE_WITH, success_rate(with_retries), session=session)


def wait_applied(session: Any, seconds: float = 1.5) -> None:
    """App Mesh pushes a change to every proxy within seconds (the embedded AWS: within one
    second); wait that long before measuring its effect."""
    time.sleep(seconds if session.is_emulator else 30)


# ---------------------------------------------------------------- teardown
def teardown(session: Any, execute: bool = False) -> Plan:
    """Lab 06's resources: the ALB rule to the gateway, the gateway's ECS service, target group,
    role and log group, the mesh (gateway routes ... mesh, `mesh.delete_mesh_plan`) and the
    Envoy permission on the services' task roles. The services go back to lab 04's revisions
    only if you roll them back yourself; task definitions stay, as AWS keeps them (deregister
    them with lab 03's teardown)."""
    if unavailable_reason(session):
        return Plan([]).run(execute)
    ecs, elb, iam, logs = (session.client(s) for s in ("ecs", "elbv2", "iam", "logs"))
    actions: list[Action] = []
    cluster = session.name("cluster")
    tg = lookup.target_group(session, gateway_target_group_name(session))
    alb = lookup.load_balancer(session, ms.load_balancer_name(session))
    listener = lookup.listener(elb, alb["LoadBalancerArn"], 80) if alb else None
    if listener and tg:
        for rule in loadbalancer.rules(elb, listener["ListenerArn"]):
            if not rule.get("IsDefault") and tg["TargetGroupArn"] in loadbalancer.forward_targets(rule["Actions"]):
                arn = rule["RuleArn"]
                actions.append(Action("listener rule", f"priority {rule['Priority']}",
                                      lambda arn=arn: elb.delete_rule(RuleArn=arn)))
    found = lookup.ecs_service(session, cluster, gateway_name(session))
    if found is not None and lookup.is_course_tagged(found, session):
        name = found["serviceName"]
        actions.append(Action("ECS service", name, lambda name=name: (
            ecs.update_service(cluster=cluster, service=name, desiredCount=0),
            ecs.delete_service(cluster=cluster, service=name, force=True))))
    if tg is not None:
        actions.append(Action("target group", tg["TargetGroupName"],
                              lambda arn=tg["TargetGroupArn"]: elb.delete_target_group(TargetGroupArn=arn)))
    actions += mesh.delete_mesh_plan(session, mesh_name(session), ABOUT.number).actions
    for service in NODES:
        role = ms.task_role_name(session, service)
        if lookup.role(iam, role) is not None and MESH_POLICY in iam.list_role_policies(RoleName=role)["PolicyNames"]:
            actions.append(Action("role policy", f"{role}/{MESH_POLICY}", lambda role=role: iam.delete_role_policy(
                RoleName=role, PolicyName=MESH_POLICY)))
    role = gateway_role_name(session)
    if lookup.role(iam, role) is not None and lookup.is_course_tagged(
            {"Tags": iam.list_role_tags(RoleName=role).get("Tags", [])}, session):
        actions.append(Action("IAM role", role, lambda role=role: roles.delete_role(iam, role)))
    group = lookup.log_group(session, gateway_log_group(session))
    if group is not None:
        actions.append(Action("log group", group["logGroupName"],
                              lambda name=group["logGroupName"]: logs.delete_log_group(logGroupName=name)))
    actions += _admin_rule_removals(session)
    for arn in taskdefs.revision_arns(ecs, session.name("knobs")):
        tags = ecs.describe_task_definition(taskDefinition=arn, include=["TAGS"]).get("tags", [])
        if lookup.is_course_tagged({"tags": tags}, session, ABOUT.number):
            actions.append(Action("task definition", arn.rsplit("/", 1)[-1],
                                  lambda arn=arn: ecs.deregister_task_definition(taskDefinition=arn)))
    return Plan(actions).run(execute)


def _admin_rule_removals(session: Any) -> list[Action]:
    """The inbound rules for the Envoy admin port that this lab added to the tasks' group (by
    their descriptions); the group itself is lab 02's."""
    vpc = lookup.vpc(session, session.name("vpc"))
    group = lookup.security_group(session, vpc["VpcId"], session.name("tasks-sg")) if vpc else None
    if group is None:
        return []
    ec2, found = session.client("ec2"), []
    for rule in _admin_sources(group):
        ranges = [r for r in rule.get("IpRanges") or [] if r.get("Description") == ADMIN_FROM_YOU]
        pairs = [{"GroupId": p["GroupId"], "Description": p.get("Description")}
                 for p in rule.get("UserIdGroupPairs") or [] if p.get("Description") == ADMIN_FROM_ALB]
        for what, source in [(r["CidrIp"], {"IpRanges": [r]}) for r in ranges] + \
                [(p["GroupId"], {"UserIdGroupPairs": [p]}) for p in pairs]:
            permission = admin_rule(source)
            found.append(Action("security group rule", f"{group['GroupName']} {ADMIN_PORT} from {what}",
                                lambda gid=group["GroupId"], permission=permission: ec2.revoke_security_group_ingress(
                                    GroupId=gid, IpPermissions=[permission])))
    return found
