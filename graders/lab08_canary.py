"""Lab 08 - Canary and A/B releases: checks for each step, with hints.

Graded from the account's state (App Mesh routes and nodes, ECS services and task definitions,
IAM, Cloud Map), from the proxies' metrics in CloudWatch (App Mesh's metrics extension, published
by the gateway's CloudWatch agent), and from the answers the lab records (the hand-driven canary's
readings and decision, each analysis's phase and events). App Mesh reached end of support on
2026-09-30: on a real account every check says so.

Rules checked here, with the pages that state them:
- The metrics extension's metrics and dimensions: https://docs.aws.amazon.com/app-mesh/latest/userguide/metrics.html
- Envoy's DogStatsD variables: https://docs.aws.amazon.com/app-mesh/latest/userguide/envoy-config.html
- The CloudWatch agent's StatsD input and its role: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch-Agent-custom-metrics-statsd.html
- Weighted targets are relative weights; routes are tried by priority, 0 first:
  https://docs.aws.amazon.com/app-mesh/latest/userguide/routes.html
- Header matches (exact, regex): https://docs.aws.amazon.com/app-mesh/latest/APIReference/API_HttpRouteHeader.html
- A canary analysis's interval, steps and threshold: https://docs.flagger.app/usage/how-it-works
- ECS's CANARY strategy, its load balancer resources and alarm rollback:
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/canary-deployment.html,
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-alarm-failure.html
"""
from __future__ import annotations

import json

from mylearning import lookup
from mylearning.canary import metrics as canary_metrics
from mylearning.course import lab06_app_mesh as lab06
from mylearning.course import lab08_canary as lab
from mylearning.facts import cloudwatch_agent
from mylearning.facts.iam import allows
from mylearning.mesh import sidecar
from mylearning.steps import Context, Lab, Outcome, fail, ok

LAB = Lab.declared(lab.ABOUT)

AWS_ONLY_HINT = ("Run this lab on the embedded AWS (the default backend: unset MYLEARNING_BACKEND); ECS's own "
                 "canary deployments (deploymentConfiguration.strategy CANARY) run on AWS.")

mesh_step = LAB.guarded_step(lab.unavailable_reason, AWS_ONLY_HINT)


# ---------------------------------------------------------------- reading the account
def _answer_json(ctx: Context, key: str) -> dict | None:
    text = ctx.answer(key)
    try:
        value = json.loads(text) if text else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _metric_exists(ctx: Context, metric: str, node: str) -> bool:
    """Whether the gateway's proxy published `metric` for requests to `node`."""
    def look() -> bool:
        cw = ctx.session.client("cloudwatch")
        dimensions = [{"Name": "TargetVirtualNode", "Value": node}, {"Name": "VirtualGateway", "Value": lab06.GATEWAY}]
        found = cw.list_metrics(Namespace=lab.METRICS_NAMESPACE, MetricName=metric, Dimensions=dimensions)
        return bool(found.get("Metrics"))
    return ctx.remember(f"metric:{metric}:{node}", look)


def _role_allows(ctx: Context, role: str, action: str) -> bool:
    iam = ctx.session.client("iam")
    if lookup.role(iam, role) is None:
        return False
    documents = []
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        documents.append((name, iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]))
    return allows(documents, action, "*")


def _node(ctx: Context, name: str) -> dict | None:
    return ctx.remember(f"node:{name}", lambda: lookup.mesh_resource(ctx.session, "virtualNode",
                                                                     lab.mesh_name(ctx.session), name))


def _route(ctx: Context, name: str) -> dict | None:
    return ctx.remember(f"route:{name}", lambda: lookup.mesh_resource(ctx.session, "route", lab.mesh_name(ctx.session),
                                                                      name, lab06.ROUTER))


def _http(route: dict | None) -> dict:
    return ((route or {}).get("spec") or {}).get("httpRoute") or {}


def _weights(route: dict | None) -> dict[str, int]:
    return {t["virtualNode"]: int(t["weight"]) for t in (_http(route).get("action") or {}).get("weightedTargets", [])}


def _run_or_fail(ctx: Context, version: str, step: str) -> tuple[dict | None, Outcome | None]:
    run = _answer_json(ctx, lab.RUNS[version])
    if run is None:
        return None, fail(f"No canary analysis of {version} is recorded.",
                          f"Run step {step}'s cell: lab08.run_analysis(session, lab08.{'BAD' if version == lab.BAD else 'GOOD'}) "
                          "runs the analysis under traffic and records it.")
    return run, None


# ---------------------------------------------------------------- 8.1
@mesh_step("8.1", "The gateway's proxy publishes App Mesh's metrics to CloudWatch", points=2)
def metrics_published(ctx: Context) -> Outcome:
    session = ctx.session
    namespace = lab.gateway_publishes(session)
    if namespace is None:
        return fail("The gateway's running revision does not send the metrics extension to a CloudWatch agent.",
                    "sidecar.with_metrics(spec, lab08.METRICS_NAMESPACE) on the gateway's task definition turns on "
                    "APPMESH_METRIC_EXTENSION_VERSION=1 and ENABLE_ENVOY_DOG_STATSD=1 and adds the agent; register it "
                    "and update the gateway's service (lab08.publish_gateway_metrics does all of it).")
    if namespace != lab.METRICS_NAMESPACE:
        return fail(f"The gateway's agent publishes to namespace {namespace!r}.",
                    f"Use {lab.METRICS_NAMESPACE!r}: the canary's analysis reads its metrics there.")
    if not _role_allows(ctx, lab06.gateway_role_name(session), cloudwatch_agent.PUT_ACTION):
        return fail(f"The gateway's task role does not allow {cloudwatch_agent.PUT_ACTION}: its agent's calls are "
                    "refused (its log says AccessDenied).",
                    "Put sidecar.metrics_permission() on the gateway's task role as an inline policy.")
    if not _metric_exists(ctx, canary_metrics.REQUESTS, lab.PRIMARY):
        return fail(f"No {canary_metrics.REQUESTS} for {lab.PRIMARY} from the gateway in {lab.METRICS_NAMESPACE} yet.",
                    "Send a few requests through the ALB (the step's traffic cell) and check again in about 10 s: "
                    "Envoy flushes its stats every 5 s.")
    return ok(f"The gateway's Envoy publishes {canary_metrics.REQUESTS}, {canary_metrics.ERRORS} and "
              f"{canary_metrics.RESPONSE_TIME} per target virtual node to {lab.METRICS_NAMESPACE}.")


# ---------------------------------------------------------------- 8.2
@mesh_step("8.2", "The canary: its own virtual node and ECS service, a weighted target of the route", points=2)
def canary_deployed(ctx: Context) -> Outcome:
    session = ctx.session
    node, primary = _node(ctx, lab.CANARY), _node(ctx, lab.PRIMARY)
    if node is None:
        return fail(f"There is no virtual node {lab.CANARY}.",
                    f"mesh.ensure_node_like(session, LAB, mesh, {lab.CANARY!r}, {lab.PRIMARY!r}, discovery=...) "
                    "copies the primary's listeners and health check (lab08.deploy_canary does it all).")
    discovery = ((node.get("spec") or {}).get("serviceDiscovery") or {}).get("awsCloudMap") or {}
    if discovery.get("serviceName") != lab.CANARY:
        return fail(f"{lab.CANARY} finds its tasks as {discovery or 'nothing'}: callers could not tell the versions apart.",
                    f"Give it its own Cloud Map service, {lab.CANARY}, that its ECS service registers in.")
    if ((node.get("spec") or {}).get("listeners") or [{}])[0].get("portMapping") != \
            ((primary or {}).get("spec", {}).get("listeners") or [{}])[0].get("portMapping"):
        return fail(f"{lab.CANARY}'s listener differs from {lab.PRIMARY}'s.",
                    "A canary is the same service in a new version: copy the primary node's spec (ensure_node_like).")
    version = lab.canary_version(session)
    if version is None:
        return fail(f"There is no ECS service {lab.canary_service_name(session)}.",
                    "lab08.deploy_canary(session, LAB, lab08.BAD) creates it from the courses API's revision.")
    if not version.startswith("2.0"):
        return fail(f"The canary's service runs courses-api {version}, not the 2.0 release being tried.",
                    f"Deploy {lab.BAD} to the canary.")
    found = lookup.ecs_service(session, session.name("cluster"), lab.canary_service_name(session))
    td = session.client("ecs").describe_task_definition(taskDefinition=found["taskDefinition"])["taskDefinition"]
    if not sidecar.is_meshed(td, lab.node_arn(session, lab.CANARY)):
        return fail(f"The canary's tasks are not on the mesh as {lab.CANARY}.",
                    f"Its Envoy's APPMESH_RESOURCE_ARN must be {lab.CANARY}'s ARN.")
    if found.get("runningCount", 0) < 1:
        return fail("The canary's service has no running task yet.", "Wait for it to be steady (its events say why).")
    weights = _weights(_route(ctx, lab06.ROUTE))
    if lab.CANARY not in weights:
        return fail(f"The route {lab06.ROUTE} does not list {lab.CANARY} as a weighted target.",
                    f"lab08.set_route(session, LAB, {{{lab.PRIMARY!r}: 100, {lab.CANARY!r}: 0}}).")
    return ok(f"{lab.CANARY} runs courses-api {version} on the mesh, a target of {lab06.ROUTE} (weights {weights}).")


# ---------------------------------------------------------------- 8.3
@mesh_step("8.3", "A canary by hand: 10% to 2.0.0, the metrics read, 2.0.0 rolled back", points=2)
def hand_canary(ctx: Context) -> Outcome:
    reading = _answer_json(ctx, lab.HAND_READING)
    if reading is None or lab.CANARY not in reading:
        return fail("The hand-driven canary's readings are not recorded.",
                    "Run lab08.hand_canary(session): it shifts 10% to the canary under traffic and reads both versions.")
    requests = float((reading.get(lab.CANARY) or {}).get("requests") or 0)
    if requests <= 0 or not _metric_exists(ctx, canary_metrics.REQUESTS, lab.CANARY):
        return fail("The canary received no request while you measured it.",
                    "Give it weight 10 and keep the traffic running while you read the metrics (lab08.hand_canary).")
    decision = ctx.answer(lab.HAND_DECISION)
    if decision is None:
        return fail("You have not decided yet.", 'lab08.decide(session, "rollback") or "promote".')
    if decision != "rollback":
        return fail("You promoted 2.0.0: its success rate is below 99% (or its p99 far above v1's).",
                    'Compare the two readings again, then lab08.decide(session, "rollback").')
    errors = float((reading.get(lab.CANARY) or {}).get("errors") or 0)
    return ok(f"2.0.0 took {requests:.0f} requests ({errors:.0f} failed) before you rolled it back.")


# ---------------------------------------------------------------- 8.4
@mesh_step("8.4", "The analysis rolls 2.0.0 back by itself", points=3)
def analysis_rolls_back(ctx: Context) -> Outcome:
    run, problem = _run_or_fail(ctx, lab.BAD, "8.4")
    if problem:
        return problem
    if run.get("phase") != "Failed":
        return fail(f"The analysis of 2.0.0 ended {run.get('phase')}, not Failed.",
                    "2.0.0 fails about 5% of its requests; with traffic running the analysis halts and rolls back. "
                    "Deploy 2.0.0 to the canary at weight 0 and run the analysis again.")
    if int(run.get("max_weight") or 0) < 1:
        return fail("The analysis never gave 2.0.0 any traffic.", "Start it with the canary at weight 0; it takes the first step itself.")
    events = [str(e) for e in run.get("events") or []]
    measured = [e for e in events if e.startswith("Halt advancement") and "no values found" not in e]
    if not measured:
        return fail("The analysis rolled back only because it found no metrics: 2.0.0 was never judged.",
                    "Keep traffic running during the analysis (run_analysis starts it) and check 8.1's metrics.")
    weights = _weights(_route(ctx, lab06.ROUTE))
    return ok(f"Rolled back after {run.get('failed_checks')} failed checks in {run.get('seconds')} s "
              f"(bound: interval x threshold = {lab.ANALYSIS.rollback_bound()} s of bake): {measured[0]}",
              f"route weights now: {weights}")


# ---------------------------------------------------------------- 8.5
@mesh_step("8.5", "A/B: beta users (header or cohort cookie) always reach 2.0.1, the others never", points=2)
def ab_routing(ctx: Context) -> Outcome:
    session = ctx.session
    default = _route(ctx, lab06.ROUTE)
    default_priority = ((default or {}).get("spec") or {}).get("priority")
    for name, priority in lab.BETA_ROUTES.items():
        found = _route(ctx, name)
        if found is None:
            return fail(f"There is no route {name}.", "lab08.ensure_beta_routes(session, LAB).")
        if _weights(found) != {lab.CANARY: 100}:
            return fail(f"Route {name} sends to {_weights(found)}.", f"Beta users go to {lab.CANARY} only: {{{lab.CANARY!r}: 100}}.")
        mine = (found.get("spec") or {}).get("priority")
        if mine is None or default_priority is None or mine >= default_priority:
            return fail(f"Route {name} (priority {mine}) is not tried before {lab06.ROUTE} (priority {default_priority}).",
                        "Give the beta routes lower priority numbers than the default route (0 is tried first).")
    headers = {h.get("name"): h.get("match") for h in (_http(_route(ctx, "beta-header")).get("match") or {}).get("headers", [])}
    if (headers.get(lab.BETA_HEADER) or {}).get("exact") != lab.BETA_VALUE:
        return fail(f"beta-header does not match {lab.BETA_HEADER}: {lab.BETA_VALUE} exactly.",
                    "Match the header with {'exact': 'true'}.")
    if lab.canary_version(session) not in (lab.GOOD,):
        return fail(f"The canary runs {lab.canary_version(session)}, not {lab.GOOD}.",
                    f"lab08.deploy_canary(session, LAB, lab08.GOOD) before the A/B test.")
    seen = _answer_json(ctx, lab.AB_RESULT)
    if seen is None:
        return fail("The A/B test's answers are not recorded.", "Run lab08.ab_test(session).")
    for group in ("header", "cookie"):
        others = {v: n for v, n in (seen.get(group) or {}).items() if v != lab.GOOD}
        if others or not seen.get(group):
            return fail(f"Beta users by {group} were answered by {seen.get(group)}: not all by {lab.GOOD}.",
                        "Wait a second after changing routes (the proxies apply them within one), then run the test again.")
    if lab.GOOD in (seen.get("others") or {}):
        return fail(f"Users outside the beta reached {lab.GOOD}: {seen.get('others')}.",
                    f"The default route must give {lab.CANARY} weight 0 during the A/B test.")
    return ok(f"Beta users: {seen['header']} by header, {seen['cookie']} by cookie; everyone else: {seen['others']}.")


# ---------------------------------------------------------------- 8.6
@mesh_step("8.6", "The analysis promotes 2.0.1: all traffic on the new version", points=3)
def analysis_promotes(ctx: Context) -> Outcome:
    run, problem = _run_or_fail(ctx, lab.GOOD, "8.6")
    if problem:
        return problem
    if run.get("phase") != "Succeeded":
        events = "; ".join(str(e) for e in (run.get("events") or [])[-3:])
        return fail(f"The analysis of 2.0.1 ended {run.get('phase')} ({events}).",
                    "Deploy 2.0.1 to the canary, give it weight 0 and run the analysis again with traffic running.")
    if lab.canary_version(ctx.session) != lab.GOOD:
        return fail(f"The canary now runs {lab.canary_version(ctx.session)}, not {lab.GOOD}.",
                    "The promoted version must still be the one the analysis judged.")
    weights = _weights(_route(ctx, lab06.ROUTE))
    if weights.get(lab.CANARY) != 100 or weights.get(lab.PRIMARY, 0) != 0:
        return fail(f"The route's weights are {weights}: not all traffic on {lab.CANARY}.",
                    "A promotion leaves the canary at 100 and the old version at 0.")
    return ok(f"2.0.1 promoted in {run.get('seconds')} s with {run.get('failed_checks')} failed checks; "
              f"route weights {weights}.")


# ---------------------------------------------------------------- 8.7
@mesh_step("8.7", "ECS's own CANARY strategy rolls 2.0.0 back when its alarm fires", points=3)
def native_canary(ctx: Context) -> Outcome:
    session = ctx.session
    service = lookup.ecs_service(session, session.name("cluster"), lab.native_name(session))
    if service is None:
        return fail(f"There is no ECS service {lab.native_name(session)}.",
                    "lab08.ensure_native_service(session, LAB) makes it with its target groups, rules, role and alarm.")
    config = service.get("deploymentConfiguration") or {}
    if config.get("strategy") != "CANARY":
        return fail(f"{lab.native_name(session)} deploys with strategy {config.get('strategy') or 'ROLLING'}.",
                    "deploymentConfiguration.strategy CANARY, with canaryConfiguration (canaryPercent, "
                    "canaryBakeTimeInMinutes).")
    alarms = config.get("alarms") or {}
    if not (alarms.get("enable") and alarms.get("rollback") and alarms.get("alarmNames")):
        return fail("The service's deployments are not watched by an alarm that rolls them back.",
                    "deploymentConfiguration.alarms: {alarmNames: [the 5xx alarm], enable: true, rollback: true}.")
    advanced = [lb.get("advancedConfiguration") for lb in service.get("loadBalancers", []) if lb.get("advancedConfiguration")]
    if not advanced or not advanced[0].get("alternateTargetGroupArn") or not advanced[0].get("productionListenerRule"):
        return fail("The service's load balancer has no advancedConfiguration: ECS has nothing to shift traffic between.",
                    "loadBalancers[].advancedConfiguration: alternateTargetGroupArn, productionListenerRule, "
                    "testListenerRule, roleArn.")
    result = _answer_json(ctx, lab.NATIVE_RESULT)
    deployment = lab.native_deployment_of(session, lab.BAD)
    if result is None or deployment is None:
        return fail("No deployment of 2.0.0 to the native service is recorded.",
                    "lab08.native_release(session, LAB, lab08.BAD) updates the service under traffic and waits for ECS.")
    if deployment.get("status") != "ROLLBACK_SUCCESSFUL":
        return fail(f"ECS's deployment of 2.0.0 is {deployment.get('status')} ({deployment.get('statusReason') or ''}).",
                    "Keep production traffic running during the release (native_release does), so the 5xx alarm can fire.")
    triggered = (deployment.get("alarms") or {}).get("triggeredAlarmNames") or []
    if not triggered:
        return fail("2.0.0 was rolled back, but not by an alarm.", "The lab's rollback must come from the 5xx alarm.")
    reached = (result.get("by_version") or {}).get(lab.BAD, 0)
    return ok(f"ECS rolled 2.0.0 back in {result.get('seconds')} s at {deployment.get('lifecycleStage')}, when "
              f"{', '.join(triggered)} fired; {reached} requests reached it.")


# ---------------------------------------------------------------- 8.8
@mesh_step("8.8", "Retries, a timeout and outlier detection keep 99.9% while a flaky version serves 10%", points=2)
def resilience(ctx: Context) -> Outcome:
    session = ctx.session
    http = _http(_route(ctx, lab06.ROUTE))
    policy = http.get("retryPolicy") or {}
    if not policy.get("maxRetries") or "server-error" not in (policy.get("httpRetryEvents") or []):
        return fail(f"The route {lab06.ROUTE} does not retry server errors.",
                    "lab08.set_resilience(session, LAB, on=True): maxRetries 3, server-error and gateway-error, "
                    "a per-retry timeout, and a timeout for the whole request.")
    listeners = ((_node(ctx, lab.PRIMARY) or {}).get("spec") or {}).get("listeners") or []
    if not any(listener.get("outlierDetection") for listener in listeners):
        return fail(f"{lab.PRIMARY}'s listener has no outlier detection.",
                    "Callers eject a host that keeps failing: outlierDetection with maxServerErrors, interval, "
                    "baseEjectionDuration and maxEjectionPercent (lab08.OUTLIER).")
    result = _answer_json(ctx, lab.RESILIENCE_RESULT)
    if result is None:
        return fail("The success rates with and without resilience are not recorded.", "Run lab08.resilience(session, LAB).")
    with_them, without = float(result.get("with") or 0), float(result.get("without") or 0)
    if with_them < lab.RESILIENCE_TARGET:
        return fail(f"With retries the success rate was {with_them:g}%, under {lab.RESILIENCE_TARGET:g}%.",
                    "Check the retry policy's events (server-error) and maxRetries, then measure again.")
    return ok(f"With a fifth of {lab.PRIMARY}'s answers failing and 10% of the traffic on it: {without:g}% without "
              f"resilience, {with_them:g}% with it ({result.get('requests')} requests each).")
