"""Lab 08, canary and A/B releases: its declaration, what its notebook, grader and tests share, and its teardown.

courses-api 2.0.0 is a flawed release (about 5% of its requests fail, more under load). The lab
ships it the way MyLearning wants every release shipped: to a little traffic first, measured,
then advanced or rolled back.

* The gateway's Envoy publishes App Mesh's metrics extension to CloudWatch through a CloudWatch
  agent sidecar (`mylearning.mesh.sidecar.with_metrics`): requests, 5xx and response times per
  target virtual node, the numbers every canary decision reads.
* A second virtual node, ``courses-api-v2``, like ``courses-api-v1`` but found under its own Cloud
  Map name, runs the new release as its own ECS service; the courses API's route gets it as a
  second weighted target, at weight 0.
* By hand: 10% to 2.0.0, read the metrics, decide (roll back). Then `mylearning.canary` does the
  same by itself and rolls 2.0.0 back; 2.0.1 (the fix) is tried by beta users only (a header or a
  cohort cookie, routes by priority) and then promoted by the same analysis.

The route's retry policy (lab 06) is taken off while a canary is measured: a retried 5xx is a
success to the caller and to the metrics extension, so retries would hide the canary's errors
from its analysis. The App Mesh labs run on the embedded AWS only (`lab06.unavailable_reason`).
"""
from __future__ import annotations

import json
import time
from typing import Any, Optional

from mylearning import (canary, cloudmap, deployments, loadbalancer, lookup, mesh, microservices as ms, roles,
                        service_specs, taskdefs)
from mylearning.answers import read_answer, read_json_answer, record_answer
from mylearning.course import LabInfo
from mylearning.course import lab06_app_mesh as lab06
from mylearning.mesh import sidecar
from mylearning.removals import Action, Plan

ABOUT = LabInfo(
    "08", "Canary and A/B releases",
    services=("appmesh", "cloudwatch", "ec2", "ecs", "elbv2", "iam", "logs", "secretsmanager", "servicediscovery",
              "ssm", "sts"),
    concepts=("canary", "mesh", "taskdefs", "cloudmap", "deployments", "microservices", "traffic", "answers",
              "loadbalancer", "roles", "service_specs"))

UNAVAILABLE = lab06.UNAVAILABLE.replace("this lab cannot create a mesh", "this lab cannot shift a mesh's traffic")


def unavailable_reason(session: Any) -> str | None:
    return None if session.is_emulator else UNAVAILABLE


# ---------------------------------------------------------------- names and settings
#: Where the gateway's CloudWatch agent publishes the proxies' metrics.
METRICS_NAMESPACE = "MyLearning/AppMesh"
#: The gateway role's inline policy that lets its agent publish.
METRICS_POLICY = "cloudwatch-agent"
PRIMARY = lab06.NODES["courses-api"]
CANARY = "courses-api-v2"
#: The canary's inline policy on the courses API's task role: its Envoy's configuration stream.
CANARY_MESH_POLICY = "appmesh-envoy-canary"
BAD, GOOD = "2.0.0", "2.0.1"
#: The canary runs as one task: it takes a tenth of the traffic at first.
CANARY_TASKS = 1
#: The courses API's default route gets a priority so the beta routes (lower numbers) come first.
DEFAULT_PRIORITY = 10
BETA_HEADER, BETA_VALUE = "x-mylearning-beta", "true"
COHORT_COOKIE = "cohort=beta"
BETA_ROUTES = {"beta-header": 0, "beta-cookie": 1}
#: Requests a second to the courses API through the ALB and the gateway while a canary runs:
#: at 10% that is 3 a second to the canary, enough for a 5% error rate to show within a step.
TRAFFIC_RATE = 30
PATH = "/api/courses"
#: The analysis the lab runs: 10 s steps to 10%, 25% and 50%, two failed checks to roll back, a
#: success rate of at least 99% and a p99 under 1 s. At 30 requests a second 2.0.0's 5% error rate
#: passes a 10% step's check about one time in six and a 25% step's less than one time in a hundred;
#: at a third of that rate (a loaded machine) it is promoted about once in a hundred analyses.
ANALYSIS = canary.Analysis(interval=10, step_weights=(10, 25, 50), threshold=2,
                           metrics=(canary.request_success_rate(99.0), canary.request_duration(1000.0)))
#: Recorded answers.
HAND_DECISION, HAND_READING = "hand-decision", "hand-reading"
RUNS = {BAD: "canary-2.0.0", GOOD: "canary-2.0.1"}
AB_RESULT = "ab-test"
AB_REQUESTS = 30


def mesh_name(session: Any) -> str:
    return lab06.mesh_name(session)


def courses_service(session: Any) -> str:
    return lab06.virtual_service(session, "courses-api")


def canary_service_name(session: Any) -> str:
    return ms.service_name(session, CANARY)


def node_arn(session: Any, node: str) -> str:
    return (f"arn:aws:appmesh:{session.region_name}:{lookup.account_id(session)}:mesh/{mesh_name(session)}"
            f"/virtualNode/{node}")


def route(session: Any) -> canary.Route:
    return canary.Route(mesh_name(session), lab06.ROUTER, lab06.ROUTE, PRIMARY, CANARY)


def source(session: Any) -> canary.Source:
    """The canary's requests as the gateway's proxy counts them."""
    return canary.Source(METRICS_NAMESPACE, mesh_name(session), lab06.GATEWAY, courses_service(session))


def base_url(session: Any) -> str:
    alb = lookup.load_balancer(session, ms.load_balancer_name(session))
    return f"http://{alb['DNSName']}"


# ---------------------------------------------------------------- 8.1 metrics
def gateway_publishes(session: Any) -> Optional[str]:
    """The CloudWatch namespace the gateway's running revision publishes its proxy's metrics to."""
    found = lookup.ecs_service(session, session.name("cluster"), lab06.gateway_name(session))
    if not found:
        return None
    td = session.client("ecs").describe_task_definition(taskDefinition=found["taskDefinition"])["taskDefinition"]
    return sidecar.publishes_metrics(td)


def publish_gateway_metrics(session: Any, lab: str = ABOUT.number) -> bool:
    """Step 8.1: the gateway's role may publish metrics, and its Envoy runs with the metrics
    extension and a CloudWatch agent beside it (rolled out, steady). True when it rolled."""
    session.client("iam").put_role_policy(RoleName=lab06.gateway_role_name(session), PolicyName=METRICS_POLICY,
                                          PolicyDocument=json.dumps(sidecar.metrics_permission()))
    ecs, cluster, name = session.client("ecs"), session.name("cluster"), lab06.gateway_name(session)
    current = lookup.ecs_service(session, cluster, name)
    running = ecs.describe_task_definition(taskDefinition=current["taskDefinition"])["taskDefinition"]
    spec = sidecar.with_metrics(taskdefs.as_spec(running, tags=session.tags(lab, style="key")), METRICS_NAMESPACE)
    td, _ = taskdefs.ensure_registered(ecs, spec)
    if current["taskDefinition"] == td["taskDefinitionArn"]:
        return False
    ecs.update_service(cluster=cluster, service=name, taskDefinition=td["taskDefinitionArn"])
    deployments.wait_steady(session, cluster, name, timeout=240, delay=0.5)
    return True


# ---------------------------------------------------------------- 8.2 the canary's node and service
def ensure_canary_node(session: Any, lab: str = ABOUT.number) -> dict:
    """The canary's Cloud Map service and its virtual node, like the primary's."""
    namespace = lookup.namespace(session, cloudmap.namespace_name(session))
    cloudmap.ensure_service(session, lab, namespace["Id"], CANARY)
    return mesh.ensure_node_like(session, lab, mesh_name(session), CANARY, PRIMARY,
                                 discovery=mesh.cloud_map(cloudmap.namespace_name(session), CANARY))


def set_route(session: Any, lab: str, weights: dict[str, int]) -> dict:
    """The courses API's default route with `weights`, no retries (they would hide the canary's
    errors), after the beta routes (priority `DEFAULT_PRIORITY`)."""
    return mesh.ensure_route(session, lab, mesh_name(session), lab06.ROUTER, lab06.ROUTE, weights,
                             prefix="/", priority=DEFAULT_PRIORITY, update=True)


def route_weights(session: Any, name: str = lab06.ROUTE) -> dict[str, int]:
    """A route's weighted targets, node -> weight ({} when there is no such route)."""
    found = lookup.mesh_resource(session, "route", mesh_name(session), name, lab06.ROUTER)
    http = ((found or {}).get("spec") or {}).get("httpRoute") or {}
    return {t["virtualNode"]: int(t["weight"]) for t in (http.get("action") or {}).get("weightedTargets", [])}


def canary_task_definition(session: Any, lab: str, version: str) -> dict:
    """The courses API's running revision as the canary's: image `version`, Envoy for the canary node."""
    ecs, cluster = session.client("ecs"), session.name("cluster")
    primary = lookup.ecs_service(session, cluster, ms.service_name(session, "courses-api"))
    running = ecs.describe_task_definition(taskDefinition=primary["taskDefinition"])["taskDefinition"]
    spec = taskdefs.as_spec(running, tags=session.tags(lab, style="key"))
    spec["family"] = canary_service_name(session)
    for container in spec["containerDefinitions"]:
        if "/courses-api:" in container.get("image", ""):
            container["image"] = ms.image(session, "courses-api", version)
        if container is sidecar.envoy_of(spec):
            container["environment"] = [dict(e, value=node_arn(session, CANARY)) if e.get("name") ==
                                        "APPMESH_RESOURCE_ARN" else e for e in container.get("environment", [])]
    td, _ = taskdefs.ensure_registered(ecs, spec)
    return td


def canary_version(session: Any) -> Optional[str]:
    """The courses-api version the canary's service runs, or None when there is no such service."""
    found = lookup.ecs_service(session, session.name("cluster"), canary_service_name(session))
    if not found:
        return None
    td = session.client("ecs").describe_task_definition(taskDefinition=found["taskDefinition"])["taskDefinition"]
    images = [c["image"] for c in td["containerDefinitions"] if "/courses-api:" in c.get("image", "")]
    return images[0].rpartition(":")[2] if images else None


def deploy_canary(session: Any, lab: str = ABOUT.number, version: str = BAD) -> dict:
    """Step 8.2 (and 8.5 with 2.0.1): the canary's task role permission, node, revision and ECS
    service running `version`, steady; the route gives the canary weight 0 first (and no retries)."""
    iam = session.client("iam")
    iam.put_role_policy(RoleName=ms.task_role_name(session, "courses-api"), PolicyName=CANARY_MESH_POLICY,
                        PolicyDocument=json.dumps(sidecar.stream_permission([node_arn(session, CANARY)])))
    ensure_canary_node(session, lab)
    # A new version always starts as a canary at weight 0, whatever the route gave the last one.
    set_route(session, lab, {PRIMARY: 100, CANARY: 0})
    td = canary_task_definition(session, lab, version)
    ecs, cluster, name = session.client("ecs"), session.name("cluster"), canary_service_name(session)
    current = lookup.ecs_service(session, cluster, name)
    if current is None:
        primary = lookup.ecs_service(session, cluster, ms.service_name(session, "courses-api"))
        namespace = lookup.namespace(session, cloudmap.namespace_name(session))
        registry = lookup.discovery_service(session, namespace["Id"], CANARY)
        spec = {"cluster": cluster, "serviceName": name, "taskDefinition": td["taskDefinitionArn"],
                "desiredCount": CANARY_TASKS, "networkConfiguration": primary["networkConfiguration"],
                "serviceRegistries": [{"registryArn": registry["Arn"]}],
                "deploymentConfiguration": {"deploymentCircuitBreaker": {"enable": True, "rollback": True},
                                            "minimumHealthyPercent": 100, "maximumPercent": 200},
                "propagateTags": "SERVICE", "enableECSManagedTags": True, "tags": session.tags(lab, style="key")}
        if primary.get("capacityProviderStrategy"):
            spec["capacityProviderStrategy"] = primary["capacityProviderStrategy"]
        else:
            spec["launchType"] = primary.get("launchType") or "FARGATE"
        ecs.create_service(**spec)
    elif current["taskDefinition"] != td["taskDefinitionArn"]:
        ecs.update_service(cluster=cluster, service=name, taskDefinition=td["taskDefinitionArn"])
    deployments.wait_steady(session, cluster, name, timeout=240, delay=0.5)
    return td


# ---------------------------------------------------------------- traffic and readings
def start_traffic(session: Any, seconds: float = 300) -> Any:
    """`TRAFFIC_RATE` requests a second to the courses API through the ALB and the gateway."""
    from mylearning import traffic
    return traffic.start(session, base_url(session) + PATH, rate=TRAFFIC_RATE, duration=seconds)


def shift(session: Any, canary_weight: int) -> dict:
    """Give the canary `canary_weight`% of the route (the rest to the primary): UpdateRoute."""
    return mesh.set_weights(session, mesh_name(session), lab06.ROUTER, lab06.ROUTE,
                            {PRIMARY: 100 - canary_weight, CANARY: canary_weight})


def readings(session: Any, start: float, end: float) -> dict[str, canary.Reading]:
    """Both versions' requests, 5xx and p99 as the gateway's proxy published them between
    `start` and `end` (epoch seconds, rounded inward to 5 s)."""
    import math
    begin, finish = math.ceil(start / 5) * 5, math.floor(end / 5) * 5
    return {node: canary.read(session, source(session), node, begin, max(finish, begin + 5)) for node in (PRIMARY, CANARY)}


def hand_canary(session: Any, seconds: float = 25, weight: int = 10) -> dict[str, canary.Reading]:
    """Step 8.3's experiment: `weight`% to the canary under traffic for `seconds`, then read both
    versions over that time (the canary stays at `weight` until you decide). Records the readings."""
    shift(session, weight)
    changed = time.time()
    load = start_traffic(session, seconds)
    load.wait()
    time.sleep(canary.SETTLE_SECONDS)
    found = readings(session, changed + canary.SETTLE_SECONDS, time.time())
    record_answer(ABOUT.number, HAND_READING, {node: {"requests": r.requests, "errors": r.errors,
                                                       "p99_ms": r.p99_ms} for node, r in found.items()},
                  session=session)
    return found


def decide(session: Any, decision: str) -> dict[str, int]:
    """Record your decision on the canary ("rollback" or "promote") and act on it."""
    decision = decision.strip().lower()
    if decision not in ("rollback", "promote"):
        raise ValueError('Decide "rollback" (all traffic back to v1) or "promote" (all traffic to v2).')
    record_answer(ABOUT.number, HAND_DECISION, decision, session=session)
    shift(session, 0 if decision == "rollback" else 100)
    return route_weights(session)


def run_analysis(session: Any, version: str, *, show: Optional[bool] = None) -> canary.Report:
    """Steps 8.4 and 8.6: the analysis of the canary running `version`, under traffic, recorded."""
    load = start_traffic(session, ANALYSIS.longest_run() * 2 + 60)
    try:
        report = canary.Canary(session, route(session), source(session), ANALYSIS, show=show).run()
    finally:
        load.stop()
    record_answer(ABOUT.number, RUNS[version], {**report.summary(), "version": version}, session=session)
    return report


def _recorded(session: Any, key: str) -> Optional[dict]:
    """A JSON answer this lab recorded, or None when it is missing or not a JSON object."""
    return read_json_answer(session, ABOUT.number, key)


def recorded_run(session: Any, version: str) -> Optional[dict]:
    return _recorded(session, RUNS[version])


# ---------------------------------------------------------------- 8.5 A/B
def ensure_beta_routes(session: Any, lab: str = ABOUT.number) -> None:
    """Beta users (the header, or the cohort cookie) always reach the canary, by routes tried
    before the default one (lower priority numbers first: userguide/routes.html)."""
    name = mesh_name(session)
    mesh.ensure_route(session, lab, name, lab06.ROUTER, "beta-header", {CANARY: 100}, prefix="/",
                      headers={BETA_HEADER: BETA_VALUE}, priority=BETA_ROUTES["beta-header"], update=True)
    mesh.ensure_route(session, lab, name, lab06.ROUTER, "beta-cookie", {CANARY: 100}, prefix="/",
                      headers=[{"name": "cookie", "match": {"regex": rf".*\b{COHORT_COOKIE}\b.*"}}],
                      priority=BETA_ROUTES["beta-cookie"], update=True)
    lab06.wait_applied(session)


def ab_test(session: Any, requests: int = AB_REQUESTS) -> dict[str, dict[str, int]]:
    """`requests` each as a beta user by header, by cookie, and as everyone else; the versions
    that answered each group, recorded."""
    from mylearning import traffic
    url = base_url(session) + PATH
    groups = {"header": {BETA_HEADER: BETA_VALUE}, "cookie": {"Cookie": f"theme=dark; {COHORT_COOKIE}"}, "others": {}}
    seen: dict[str, dict[str, int]] = {}
    for group, headers in groups.items():
        summary = traffic.send(session, url, requests=requests, concurrency=4, headers=headers)
        seen[group] = {str(version): n for version, n in summary.by_version.items()}
    record_answer(ABOUT.number, AB_RESULT, seen, session=session)
    return seen


# ---------------------------------------------------------------- 8.8 resilience
#: Step 8.8 (after ECS's canary, 8.7): the old version, made flaky (a fifth of its answers 500, its ERROR_RATE knob), keeps
#: 10% of the traffic; App Mesh's retries, timeout and outlier detection must keep the success rate
#: at 99.9% or above (issue #13), measured with and without them.
FLAKY_RATE = 0.2
FLAKY_SHARE = 10
RESILIENCE_REQUESTS = 1000
RESILIENCE_TARGET = 99.9
RESILIENCE_RESULT = "resilience"
RETRIES = mesh.retry_policy(4, 2, http_events=("server-error", "gateway-error"), tcp_events=("connection-error",))
ROUTE_TIMEOUT = 10
#: Outlier detection on the old version's listener: 5 server errors in 10 s eject a host for 30 s,
#: at most half of them (https://docs.aws.amazon.com/app-mesh/latest/APIReference/API_OutlierDetection.html).
OUTLIER = {"maxServerErrors": 5, "interval": {"unit": "s", "value": 10},
           "baseEjectionDuration": {"unit": "s", "value": 30}, "maxEjectionPercent": 50}


def set_primary_error_rate(session: Any, lab: str, rate: float) -> None:
    """Roll the old version's service (courses-api-v1's) onto its revision with ERROR_RATE `rate`
    (0: without the knob), and wait for it to be steady."""
    ecs, cluster = session.client("ecs"), session.name("cluster")
    name = ms.service_name(session, "courses-api")
    current = lookup.ecs_service(session, cluster, name)
    running = ecs.describe_task_definition(taskDefinition=current["taskDefinition"])["taskDefinition"]
    spec = taskdefs.as_spec(running, tags=session.tags(lab, style="key"))
    for container in spec["containerDefinitions"]:
        if "/courses-api:" in container.get("image", ""):
            environment = [e for e in container.get("environment", []) if e.get("name") != "ERROR_RATE"]
            container["environment"] = environment + ([{"name": "ERROR_RATE", "value": str(rate)}] if rate else [])
    td, _ = taskdefs.ensure_registered(ecs, spec)
    if td["taskDefinitionArn"] != current["taskDefinition"]:
        ecs.update_service(cluster=cluster, service=name, taskDefinition=td["taskDefinitionArn"])
    deployments.wait_steady(session, cluster, name, timeout=240, delay=0.5)


def set_resilience(session: Any, lab: str, on: bool, weights: Optional[dict[str, int]] = None) -> None:
    """The default route with (or without) the retry policy and timeout, and the old version's node
    with (or without) outlier detection; `weights` default to 90% on the new version."""
    name = mesh_name(session)
    weights = weights or {CANARY: 100 - FLAKY_SHARE, PRIMARY: FLAKY_SHARE}
    mesh.ensure_route(session, lab, name, lab06.ROUTER, lab06.ROUTE, weights, prefix="/", priority=DEFAULT_PRIORITY,
                      retry_policy=RETRIES if on else None, timeout=ROUTE_TIMEOUT if on else None, update=True)
    am = session.client("appmesh")
    node = lookup.mesh_resource(session, "virtualNode", name, PRIMARY)
    spec = json.loads(json.dumps(node["spec"], default=str))
    for listener in spec.get("listeners", []):
        if on:
            listener["outlierDetection"] = OUTLIER
        else:
            listener.pop("outlierDetection", None)
    if spec != node["spec"]:
        am.update_virtual_node(meshName=name, virtualNodeName=PRIMARY, spec=spec)
    lab06.wait_applied(session)


def success_rate(session: Any, requests: int = RESILIENCE_REQUESTS) -> float:
    """The share, in percent, of `requests` GET /api/courses through the ALB answered 2xx."""
    from mylearning import traffic
    summary = traffic.send(session, base_url(session) + PATH, requests=requests, concurrency=8)
    ok = sum(n for status, n in summary.by_status.items() if str(status).startswith("2"))
    return round(100.0 * ok / summary.count, 3) if summary.count else 0.0


def resilience(session: Any, lab: str = ABOUT.number) -> dict[str, float]:
    """Step 8.8: the old version flaky at 10%, measured without and with the mesh's resilience
    settings; then the old version healthy again and all traffic on the new one, resilience kept.
    Recorded."""
    set_primary_error_rate(session, lab, FLAKY_RATE)
    try:
        set_resilience(session, lab, on=False)
        without = success_rate(session)
        set_resilience(session, lab, on=True)
        with_them = success_rate(session)
    finally:
        set_resilience(session, lab, on=True, weights={CANARY: 100, PRIMARY: 0})
        set_primary_error_rate(session, lab, 0)
    result = {"without": without, "with": with_them, "requests": RESILIENCE_REQUESTS, "share": FLAKY_SHARE,
              "error_rate": FLAKY_RATE}
    record_answer(ABOUT.number, RESILIENCE_RESULT, result, session=session)
    return result


# ---------------------------------------------------------------- 8.7 ECS's own canary
#: The courses API once more, without the mesh, as its own ECS service behind two target groups,
#: deployed by ECS's CANARY strategy (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/canary-deployment.html).
NATIVE = "courses-native"
NATIVE_GROUPS = ("courses-blue", "courses-green")
#: Its listener rules, on the ALB's port 80 before the gateway's (priority 5): requests with this
#: header's value "canary" are production traffic, "test" test traffic.
NATIVE_HEADER = "x-mylearning-ecs"
NATIVE_RULES = {"test": 2, "canary": 3}
NATIVE_ROLE = "ecs-infrastructure-role"
NATIVE_ALARM = "courses-native-5xx"
#: 20% to the new revision for 3 minutes, then all of it, then a 2-minute bake (at the embedded
#: clock's default scale, 18 s and 12 s): an alarm in ALARM at any point rolls back.
NATIVE_STRATEGY = {"strategy": "CANARY", "canaryConfiguration": {"canaryPercent": 20.0, "canaryBakeTimeInMinutes": 3},
                   "bakeTimeInMinutes": 2}
NATIVE_RATE = 20
NATIVE_RESULT = "native-canary"
#: The actions ECS needs on the load balancer to shift traffic between the target groups (the
#: AmazonECSInfrastructureRolePolicyForLoadBalancers managed policy's ELB actions:
#: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/AmazonECSInfrastructureRolePolicyForLoadBalancers.html).
NATIVE_ROLE_ACTIONS = ("elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeRules",
                       "elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetHealth",
                       "elasticloadbalancing:ModifyListener", "elasticloadbalancing:ModifyRule",
                       "elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets")


def native_name(session: Any) -> str:
    return ms.service_name(session, NATIVE)


def native_groups(session: Any) -> list[dict]:
    """The blue and green target groups (created when missing)."""
    vpc = lookup.vpc(session, session.name("vpc"))
    return [loadbalancer.ensure_target_group(session, ABOUT.number, session.name(name), vpc["VpcId"], ms.APP_PORT,
                                             ms.HEALTH_PATH) for name in NATIVE_GROUPS]


def native_rule(session: Any, value: str) -> Optional[dict]:
    """The listener rule that takes requests with ``x-mylearning-ecs: <value>``."""
    elb = session.client("elbv2")
    listener = lookup.listener(elb, lookup.load_balancer(session, ms.load_balancer_name(session))["LoadBalancerArn"], 80)
    for rule in loadbalancer.rules(elb, listener["ListenerArn"]):
        for condition in rule.get("Conditions", []):
            config = condition.get("HttpHeaderConfig") or {}
            if config.get("HttpHeaderName", "").lower() == NATIVE_HEADER and value in config.get("Values", []):
                return rule
    return None


def ensure_native_rules(session: Any, lab: str, blue_arn: str, green_arn: str) -> dict[str, dict]:
    """The test and production rules, both forwarding to blue (weight 100) and green (weight 0): both
    groups are in use by the load balancer, so the green tasks are health-checked before any
    traffic moves (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/alb-resources-for-blue-green.html)."""
    elb = session.client("elbv2")
    listener = lookup.listener(elb, lookup.load_balancer(session, ms.load_balancer_name(session))["LoadBalancerArn"], 80)
    found = {}
    for value, priority in NATIVE_RULES.items():
        rule = native_rule(session, value)
        if rule is None:
            rule = elb.create_rule(ListenerArn=listener["ListenerArn"], Priority=priority, Tags=session.tags(lab),
                                   Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"Values": [PATH + "*"]}},
                                               {"Field": "http-header", "HttpHeaderConfig": {
                                                   "HttpHeaderName": NATIVE_HEADER, "Values": [value]}}],
                                   Actions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": [
                                       {"TargetGroupArn": blue_arn, "Weight": 100},
                                       {"TargetGroupArn": green_arn, "Weight": 0}]}}])["Rules"][0]
        found[value] = rule
    return found


def ensure_native_role(session: Any, lab: str) -> dict:
    """The infrastructure role ECS assumes to move the listener rules' weights."""
    return roles.ensure_role(session, lab, session.name(NATIVE_ROLE), trust=roles.trust_policy("ecs.amazonaws.com"),
                             description="ECS shifts the courses API's canary traffic between target groups",
                             inline={"load-balancers": {"Version": "2012-10-17", "Statement": [
                                 {"Effect": "Allow", "Action": list(NATIVE_ROLE_ACTIONS), "Resource": "*"}]}})


def ensure_native_alarm(session: Any, lab: str, green: dict) -> str:
    """An alarm on the new revision's 5xx: any 5xx answer of the green target group in a minute."""
    alb = lookup.load_balancer(session, ms.load_balancer_name(session))
    name = session.name(NATIVE_ALARM)
    session.client("cloudwatch").put_metric_alarm(
        AlarmName=name, Namespace="AWS/ApplicationELB", MetricName="HTTPCode_Target_5XX_Count", Statistic="Sum",
        Dimensions=[{"Name": "TargetGroup", "Value": green["TargetGroupArn"].split(":")[-1]},
                    {"Name": "LoadBalancer", "Value": alb["LoadBalancerArn"].split(":loadbalancer/")[-1]}],
        Period=60, EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData="notBreaching", Tags=session.tags(lab),
        AlarmDescription="courses-native's new revision answers 5xx: ECS rolls its deployment back")
    return name


def native_task_definition(session: Any, lab: str, version: str) -> dict:
    """The courses API's task definition as lab 04 made it (no mesh), running `version`."""
    iam = session.client("iam")
    execution = lookup.role(iam, ms.execution_role_name(session))
    task_role = lookup.role(iam, ms.task_role_name(session, "courses-api"))
    secret = session.client("secretsmanager").describe_secret(SecretId=ms.secret_name(session))["ARN"]
    spec = service_specs.task_definition(session, "courses-api", execution_role_arn=execution["Arn"],
                                         task_role_arn=task_role["Arn"], secret_arn=secret, lab=lab, version=version)
    spec["family"] = native_name(session)
    td, _ = taskdefs.ensure_registered(session.client("ecs"), spec)
    return td


def ensure_native_service(session: Any, lab: str = ABOUT.number) -> dict:
    """Step 8.7's set-up: the groups, rules, role, alarm, and the service on the good release
    (1.2.0) with the CANARY strategy, the alarm's rollback, and the advanced configuration that
    names both groups and both rules. Steady when it returns."""
    blue, green = native_groups(session)
    rules = ensure_native_rules(session, lab, blue["TargetGroupArn"], green["TargetGroupArn"])
    role = ensure_native_role(session, lab)
    alarm = ensure_native_alarm(session, lab, green)
    ecs, cluster = session.client("ecs"), session.name("cluster")
    if lookup.ecs_service(session, cluster, native_name(session)) is None:
        primary = lookup.ecs_service(session, cluster, ms.service_name(session, "courses-api"))
        td = native_task_definition(session, lab, ms.ROLLOUT_VERSION)
        ecs.create_service(
            cluster=cluster, serviceName=native_name(session), taskDefinition=td["taskDefinitionArn"],
            desiredCount=ms.DESIRED_COUNT, networkConfiguration=primary["networkConfiguration"],
            deploymentController={"type": "ECS"},
            deploymentConfiguration={**NATIVE_STRATEGY, "maximumPercent": 200, "minimumHealthyPercent": 100,
                                     "deploymentCircuitBreaker": {"enable": True, "rollback": True},
                                     "alarms": {"alarmNames": [alarm], "enable": True, "rollback": True}},
            loadBalancers=[{"targetGroupArn": blue["TargetGroupArn"], "containerName": "app",
                            "containerPort": ms.APP_PORT, "advancedConfiguration": {
                                "alternateTargetGroupArn": green["TargetGroupArn"],
                                "productionListenerRule": rules["canary"]["RuleArn"],
                                "testListenerRule": rules["test"]["RuleArn"], "roleArn": role["Arn"]}}],
            healthCheckGracePeriodSeconds=ms.GRACE_PERIOD_SECONDS, propagateTags="SERVICE",
            enableECSManagedTags=True, tags=session.tags(lab, style="key"))
    deployments.wait_steady(session, cluster, native_name(session), timeout=240, delay=0.5)
    return lookup.ecs_service(session, cluster, native_name(session))


def native_deployments(session: Any) -> list[dict]:
    """The native service's deployments as ListServiceDeployments gives them, newest first."""
    ecs, cluster = session.client("ecs"), session.name("cluster")
    if lookup.ecs_service(session, cluster, native_name(session)) is None:
        return []
    found = ecs.list_service_deployments(cluster=cluster, service=native_name(session)).get("serviceDeployments", [])
    return sorted(found, key=lambda d: str(d.get("createdAt")), reverse=True)


def native_deployment_of(session: Any, version: str, since: float = 0.0) -> Optional[dict]:
    """The newest deployment of the native service to `version` (created after `since`, epoch
    seconds), described."""
    for brief in native_deployments(session):
        created = brief.get("createdAt")
        if since and hasattr(created, "timestamp") and created.timestamp() < since - 1:
            continue
        td = _revision_task_definition(session, brief.get("targetServiceRevisionArn", ""))
        images = [c["image"] for c in session.client("ecs").describe_task_definition(taskDefinition=td)[
            "taskDefinition"]["containerDefinitions"]] if td else []
        if any(image.endswith(f":{version}") for image in images):
            found = session.client("ecs").describe_service_deployments(
                serviceDeploymentArns=[brief["serviceDeploymentArn"]]).get("serviceDeployments", [])
            return found[0] if found else None
    return None


def native_release(session: Any, lab: str = ABOUT.number, version: str = BAD, timeout: float = 240) -> dict:
    """Release `version` to the native service with production traffic running, and wait for ECS
    to finish (SUCCESSFUL) or roll back (ROLLBACK_SUCCESSFUL); the deployment, recorded."""
    from mylearning import traffic
    ecs, cluster = session.client("ecs"), session.name("cluster")
    td = native_task_definition(session, lab, version)
    load = traffic.start(session, base_url(session) + PATH, rate=NATIVE_RATE, duration=timeout,
                         headers={NATIVE_HEADER: "canary"})
    started = time.time()
    try:
        ecs.update_service(cluster=cluster, service=native_name(session), taskDefinition=td["taskDefinitionArn"])
        deadline = time.monotonic() + timeout
        deployment: dict = {}
        while time.monotonic() < deadline:
            deployment = native_deployment_of(session, version, since=started) or {}
            if deployment.get("status") in ("SUCCESSFUL", "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED", "STOPPED"):
                break
            time.sleep(1)
    finally:
        summary = load.stop()
    result = {"version": version, "status": deployment.get("status"), "reason": deployment.get("statusReason"),
              "stage": deployment.get("lifecycleStage"), "seconds": round(time.time() - started, 1),
              "alarms": (deployment.get("alarms") or {}).get("triggeredAlarmNames", []),
              "requests": summary.count, "by_version": {str(k): n for k, n in summary.by_version.items()}}
    record_answer(ABOUT.number, NATIVE_RESULT, result, session=session)
    return result


def recorded_native(session: Any) -> Optional[dict]:
    return _recorded(session, NATIVE_RESULT)


def _revision_task_definition(session: Any, revision_arn: str) -> Optional[str]:
    found = session.client("ecs").describe_service_revisions(serviceRevisionArns=[revision_arn]).get("serviceRevisions", [])
    return found[0].get("taskDefinition") if found else None


# ---------------------------------------------------------------- the end state and teardown
def end_state(session: Any) -> None:
    """Lab 08 as the solution leaves it: metrics published, 2.0.0 rolled back by hand and by the
    analysis, 2.0.1 tried by beta users and promoted, 2.0.0 rolled back by ECS's own canary."""
    reason = unavailable_reason(session)
    if reason:
        print(reason)
        return
    lab = ABOUT.number
    publish_gateway_metrics(session, lab)
    if (recorded_run(session, GOOD) or {}).get("phase") == "Succeeded":
        return
    deploy_canary(session, lab, BAD)
    set_route(session, lab, {PRIMARY: 100, CANARY: 0})
    hand_canary(session)
    decide(session, "rollback")
    run_analysis(session, BAD, show=False)
    deploy_canary(session, lab, GOOD)
    ensure_beta_routes(session, lab)
    ab_test(session)
    run_analysis(session, GOOD, show=False)
    ensure_native_service(session, lab)
    native_release(session, lab, BAD)
    resilience(session, lab)


def _delete_discovery_service(session: Any, service_id: str, timeout: float = 90) -> None:
    """Cloud Map refuses to delete a service with instances (ResourceInUse); ECS deregisters the
    canary's tasks as they stop."""
    sd = session.client("servicediscovery")
    deadline = time.monotonic() + timeout
    while sd.list_instances(ServiceId=service_id).get("Instances") and time.monotonic() < deadline:
        time.sleep(1)
    sd.delete_service(Id=service_id)


def teardown(session: Any, execute: bool = False) -> Plan:
    """Lab 08's resources: the beta routes, the canary's weighted target (all traffic back to v1),
    the canary's ECS service, node, Cloud Map service and role policy, the gateway's metrics
    policy. The gateway keeps its metrics revision, and the courses API's route its priority,
    until lab 06's teardown removes the mesh; task definitions stay, as AWS keeps them."""
    if unavailable_reason(session):
        return Plan([]).run(execute)
    lab, name, cluster = ABOUT.number, mesh_name(session), session.name("cluster")
    am, ecs, iam = session.client("appmesh"), session.client("ecs"), session.client("iam")
    actions: list[Action] = []
    for beta in BETA_ROUTES:
        if lookup.mesh_resource(session, "route", name, beta, lab06.ROUTER):
            actions.append(Action("App Mesh route", beta, lambda beta=beta: am.delete_route(
                meshName=name, virtualRouterName=lab06.ROUTER, routeName=beta)))
    if CANARY in route_weights(session):
        actions.append(Action("route target", f"{lab06.ROUTE}: {CANARY}",
                              lambda: set_route(session, lab, {PRIMARY: 100})))
    found = lookup.ecs_service(session, cluster, canary_service_name(session))
    if found is not None and lookup.is_course_tagged(found, session):
        service = found["serviceName"]
        actions.append(Action("ECS service", service, lambda: (
            ecs.update_service(cluster=cluster, service=service, desiredCount=0),
            ecs.delete_service(cluster=cluster, service=service, force=True))))
    if lookup.mesh_resource(session, "virtualNode", name, CANARY):
        actions.append(Action("virtual node", CANARY, lambda: am.delete_virtual_node(
            meshName=name, virtualNodeName=CANARY)))
    namespace = lookup.namespace(session, cloudmap.namespace_name(session))
    registry = lookup.discovery_service(session, namespace["Id"], CANARY) if namespace else None
    if registry is not None:
        actions.append(Action("Cloud Map service", CANARY,
                              lambda: _delete_discovery_service(session, registry["Id"])))
    actions += _native_removals(session)
    for role, policy in ((ms.task_role_name(session, "courses-api"), CANARY_MESH_POLICY),
                         (lab06.gateway_role_name(session), METRICS_POLICY)):
        if lookup.role(iam, role) is not None and policy in iam.list_role_policies(RoleName=role)["PolicyNames"]:
            actions.append(Action("role policy", f"{role}/{policy}", lambda role=role, policy=policy:
                                  iam.delete_role_policy(RoleName=role, PolicyName=policy)))
    return Plan(actions).run(execute)


# ---------------------------------------------------------------- the closing comparison
def comparison(session: Any) -> list[dict[str, str]]:
    """Three ways to run a canary, with the figures of the runs you made (the analysis's own
    time to roll back and to promote) beside what each way needs."""
    bad, good = recorded_run(session, BAD) or {}, recorded_run(session, GOOD) or {}
    native = recorded_native(session) or {}
    decision = read_answer(session, ABOUT.number, HAND_DECISION) or "not decided"

    def took(run: dict) -> str:
        return f"{run.get('phase')} in {run.get('seconds')} s" if run else "not run"

    return [
        {"way": "App Mesh weighted routes, by hand (step 8.3)", "who measures": "you, from CloudWatch",
         "who decides": "you", "this lab": f"you decided: {decision}",
         "on AWS today": "no: App Mesh ended on 2026-09-30"},
        {"way": "App Mesh weighted routes + an analysis (mylearning.canary, steps 8.4 and 8.6)",
         "who measures": "the analysis, from the proxies' metrics in CloudWatch",
         "who decides": "the analysis: thresholds, interval, failed-check limit",
         "this lab": f"2.0.0: {took(bad)}; 2.0.1: {took(good)}",
         "on AWS today": "no: App Mesh ended on 2026-09-30"},
        {"way": "ECS's own CANARY / LINEAR strategy (deploymentConfiguration.strategy)",
         "who measures": "CloudWatch alarms you choose", "who decides": "ECS: rolls back when an alarm fires",
         "this lab": (f"2.0.0: {native.get('status')} in {native.get('seconds')} s "
                      f"({(native.get('by_version') or {}).get(BAD, 0)} requests reached it)") if native else "not run",
         "on AWS today": "yes (since 2025), no mesh needed"},
        {"way": "Flagger / Argo Rollouts", "who measures": "the controller, from Prometheus or CloudWatch queries",
         "who decides": "the controller's analysis (the vocabulary this lab uses)",
         "this lab": "the same loop as mylearning.canary", "on AWS today": "on EKS (Kubernetes), not on ECS"},
    ]


def _native_removals(session: Any) -> list[Action]:
    """Step 8.7's service, alarm, rules, target groups and role."""
    ecs, elb, iam, cw = (session.client(s) for s in ("ecs", "elbv2", "iam", "cloudwatch"))
    cluster, actions = session.name("cluster"), []
    found = lookup.ecs_service(session, cluster, native_name(session))
    if found is not None and lookup.is_course_tagged(found, session):
        actions.append(Action("ECS service", native_name(session), lambda: (
            ecs.update_service(cluster=cluster, service=native_name(session), desiredCount=0),
            ecs.delete_service(cluster=cluster, service=native_name(session), force=True))))
    alarm = session.name(NATIVE_ALARM)
    if cw.describe_alarms(AlarmNames=[alarm]).get("MetricAlarms"):
        actions.append(Action("CloudWatch alarm", alarm, lambda: cw.delete_alarms(AlarmNames=[alarm])))
    alb = lookup.load_balancer(session, ms.load_balancer_name(session))
    if alb is not None:
        for value in NATIVE_RULES:
            rule = native_rule(session, value)
            if rule is not None:
                actions.append(Action("listener rule", f"{NATIVE_HEADER}: {value}",
                                      lambda arn=rule["RuleArn"]: elb.delete_rule(RuleArn=arn)))
    for name in NATIVE_GROUPS:
        group = lookup.target_group(session, session.name(name))
        if group is not None:
            actions.append(Action("target group", group["TargetGroupName"],
                                  lambda arn=group["TargetGroupArn"]: elb.delete_target_group(TargetGroupArn=arn)))
    role = session.name(NATIVE_ROLE)
    if lookup.role(iam, role) is not None:
        actions.append(Action("IAM role", role, lambda: roles.delete_role(iam, role)))
    return actions
