"""Lab 06 - App Mesh: checks for each step, with hints.

Graded from the account's state through the App Mesh, ECS, IAM, EC2 and ELB APIs, from the
ALB's CloudWatch metrics, and from the proxies' own counters (Envoy's admin ``/stats``,
through the security group rule step 6.8 adds). App Mesh reached end of support on
2026-09-30: on a real account every check says so and what to do instead.

Rules checked here, with the AWS pages that state them:
- A mesh's egress filter; DROP_ALL allows egress only to the mesh's virtual services:
  https://docs.aws.amazon.com/app-mesh/latest/APIReference/API_EgressFilter.html
- A virtual node with a listener needs service discovery; Cloud Map discovery; listener health checks;
  access logs: https://docs.aws.amazon.com/app-mesh/latest/userguide/virtual_nodes.html
- Virtual routers, routes and weighted targets: https://docs.aws.amazon.com/app-mesh/latest/userguide/virtual_routers.html
- Virtual services and their providers; naming them as the callers call them:
  https://docs.aws.amazon.com/app-mesh/latest/userguide/virtual_services.html
- The Envoy container, APPMESH_RESOURCE_ARN, the proxy configuration and the app's dependency on Envoy:
  https://docs.aws.amazon.com/app-mesh/latest/userguide/getting-started-ecs.html
  https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ProxyConfiguration.html
- Envoy needs appmesh:StreamAggregatedResources in the task role:
  https://docs.aws.amazon.com/app-mesh/latest/userguide/proxy-authorization.html
- Virtual gateways and gateway routes (the matched prefix is rewritten to / unless kept):
  https://docs.aws.amazon.com/app-mesh/latest/userguide/virtual_gateways.html
  https://docs.aws.amazon.com/app-mesh/latest/userguide/gateway-routes.html
- Retry policies and timeouts: https://docs.aws.amazon.com/app-mesh/latest/APIReference/API_HttpRetryPolicy.html
  https://docs.aws.amazon.com/app-mesh/latest/APIReference/API_HttpTimeout.html
- Envoy's stat names in App Mesh: https://docs.aws.amazon.com/app-mesh/latest/userguide/envoy-metrics.html
"""
from __future__ import annotations

import ipaddress

from mylearning import cloudmap, lookup, microservices, roles, taskdefs
from mylearning.course import lab06_app_mesh as lab
from mylearning.course.lab04_services import rollout_traffic
from mylearning.facts import envoy as envoy_facts
from mylearning.mesh import admin, sidecar
from mylearning.steps import Context, Lab, Outcome, fail, ok

LAB = Lab.declared(lab.ABOUT)

AWS_ONLY_HINT = ("Run this lab on the embedded AWS (the default backend: unset MYLEARNING_BACKEND); the "
                 "course's last lab moves MyLearning to ECS Service Connect, which runs on AWS.")


#: Every step first says plainly why it cannot be checked on a real account.
mesh_step = LAB.guarded_step(lab.unavailable_reason, AWS_ONLY_HINT)


# ---------------------------------------------------------------- reading the account
def _mesh(ctx: Context) -> dict | None:
    return ctx.remember("mesh", lambda: lookup.mesh_resource(ctx.session, "mesh", lab.mesh_name(ctx.session)))


def _resource(ctx: Context, kind: str, name: str, parent: str | None = None) -> dict | None:
    mesh = lab.mesh_name(ctx.session)
    return ctx.remember(f"{kind}:{parent}:{name}", lambda: lookup.mesh_resource(ctx.session, kind, mesh, name, parent))


def _no_mesh(ctx: Context) -> Outcome:
    return fail(f"There is no mesh {lab.mesh_name(ctx.session)} with the course tags.",
                "Do step 6.1 first: mesh.ensure_mesh(session, LAB, MESH, egress='DROP_ALL').")


def _service(ctx: Context, name: str) -> dict | None:
    return ctx.remember(f"svc:{name}", lambda: lookup.ecs_service(ctx.session, ctx.name("cluster"), name))


def _task_definition(ctx: Context, arn: str) -> dict:
    return ctx.remember(f"td:{arn}", lambda: ctx.client("ecs").describe_task_definition(
        taskDefinition=arn)["taskDefinition"])


def _proxies(ctx: Context, ecs_service: str) -> list[tuple[dict, dict | None]]:
    return ctx.remember(f"proxies:{ecs_service}", lambda: lab.proxies(ctx.session, ecs_service))


def _tasks_group(ctx: Context) -> dict | None:
    def find() -> dict | None:
        vpc = lookup.vpc(ctx.session, ctx.name("vpc"))
        return lookup.security_group(ctx.session, vpc["VpcId"], ctx.name("tasks-sg")) if vpc else None
    return ctx.remember("tasks-sg", find)


def _stats_or_fail(ctx: Context, ecs_service: str, what: str) -> tuple[list[dict], Outcome | None]:
    """Every running task's proxy stats, or why they cannot be read."""
    found = _proxies(ctx, ecs_service)
    if not found:
        return [], fail(f"{ecs_service} has no running task whose {what} could be read.",
                        "Do step 6.6 first (and 6.7 for the gateway), then wait for the service to be steady.")
    if not any(stats is not None for _, stats in found):
        return [], fail(f"None of {ecs_service}'s {len(found)} proxies answered on the Envoy admin port "
                        f"{envoy_facts.ADMIN_PORT}.",
                        "Do step 6.8: allow port 9901 into the tasks' security group from your address "
                        "(/32), which the access log shows.")
    return [stats for _, stats in found if stats is not None], None


# ---------------------------------------------------------------- 6.1
@mesh_step("6.1", "A mesh whose egress filter is DROP_ALL", points=1)
def mesh_with_egress_filter(ctx: Context) -> Outcome:
    found = _mesh(ctx)
    if found is None:
        return _no_mesh(ctx)
    status = (found.get("status") or {}).get("status")
    if status != "ACTIVE":
        return fail(f"{found['meshName']} is {status}.", "Wait for it to become ACTIVE, or create it again.")
    egress = ((found.get("spec") or {}).get("egressFilter") or {}).get("type", "DROP_ALL")
    if egress != "DROP_ALL":
        return fail(f"{found['meshName']}'s egress filter is {egress}: every proxy may send anywhere, so a "
                    "backend nobody declared still answers and the mesh cannot tell you about it.",
                    "mesh.set_egress_filter(session, MESH, 'DROP_ALL') (UpdateMesh with "
                    "spec={'egressFilter': {'type': 'DROP_ALL'}}).")
    return ok(f"{found['meshName']} is ACTIVE with egress filter DROP_ALL: a proxy reaches only the mesh's "
              "virtual services (and AWS APIs).")


# ---------------------------------------------------------------- 6.2
@mesh_step("6.2", "Virtual nodes: Cloud Map discovery, a listener with a health check, an access log", points=2)
def virtual_nodes(ctx: Context) -> Outcome:
    if _mesh(ctx) is None:
        return _no_mesh(ctx)
    namespace = cloudmap.namespace_name(ctx.session)
    for service, node in lab.NODES.items():
        found = _resource(ctx, "virtualNode", node)
        if found is None:
            return fail(f"No virtual node {node} with the course tags in {lab.mesh_name(ctx.session)}.",
                        f"mesh.ensure_virtual_node(session, LAB, MESH, '{node}', port=8080, discovery="
                        f"mesh.cloud_map(NAMESPACE, '{service}'), health_check=mesh.health_check('/health')).")
        spec = found.get("spec") or {}
        listeners = spec.get("listeners") or []
        mapping = (listeners[0].get("portMapping") if listeners else None) or {}
        if (mapping.get("protocol"), mapping.get("port")) != ("http", microservices.APP_PORT):
            return fail(f"{node} listens on {mapping.get('protocol')}:{mapping.get('port')}, not http:8080, "
                        "the app's port: Envoy would hand its requests to the wrong place.",
                        "Give it one listener, portMapping {'port': 8080, 'protocol': 'http'} "
                        "(mesh.ensure_virtual_node(..., port=8080, update=True)).")
        check = listeners[0].get("healthCheck") or {}
        if check.get("protocol") != "http" or check.get("path") != microservices.HEALTH_PATH:
            return fail(f"{node}'s listener has {'no health check' if not check else 'a health check of ' + str(check.get('protocol')) + ' ' + str(check.get('path'))}.",
                        "health_check=mesh.health_check('/health'): Envoy then checks each task as the "
                        "app's own health endpoint says.")
        cm = (spec.get("serviceDiscovery") or {}).get("awsCloudMap") or {}
        if (cm.get("namespaceName"), cm.get("serviceName")) != (namespace, service):
            found_as = f"Cloud Map {cm.get('serviceName')}.{cm.get('namespaceName')}" if cm else \
                "DNS" if (spec.get("serviceDiscovery") or {}).get("dns") else "nothing"
            return fail(f"{node} finds its tasks through {found_as}, not the Cloud Map service "
                        f"{service}.{namespace} where ECS registers them (lab 04).",
                        f"discovery=mesh.cloud_map('{namespace}', '{service}').")
        log = ((((spec.get("logging") or {}).get("accessLog") or {}).get("file")) or {}).get("path")
        if not log:
            return fail(f"{node} has no access log, so nothing records the requests its proxy carries.",
                        "logging={'accessLog': {'file': {'path': '/dev/stdout'}}} (the default of "
                        "mesh.ensure_virtual_node): awslogs sends Envoy's standard output to CloudWatch Logs.")
    return ok(f"{', '.join(lab.NODES.values())} listen on http:8080 with a /health check, find their tasks in "
              f"Cloud Map ({namespace}) and log every request.")


# ---------------------------------------------------------------- 6.3
@mesh_step("6.3", "A virtual router for the courses API, with a route to its node", points=2)
def router_and_route(ctx: Context) -> Outcome:
    if _mesh(ctx) is None:
        return _no_mesh(ctx)
    router = _resource(ctx, "virtualRouter", lab.ROUTER)
    if router is None:
        return fail(f"No virtual router {lab.ROUTER} with the course tags.",
                    f"mesh.ensure_virtual_router(session, LAB, MESH, '{lab.ROUTER}', port=8080).")
    listeners = [(li.get("portMapping") or {}) for li in (router.get("spec") or {}).get("listeners") or []]
    if not any((m.get("protocol"), m.get("port")) == ("http", microservices.APP_PORT) for m in listeners):
        return fail(f"{lab.ROUTER} listens on {listeners}, not http:8080, where the courses API is called.",
                    "Its listener: portMapping {'port': 8080, 'protocol': 'http'}.")
    route = _resource(ctx, "route", lab.ROUTE, lab.ROUTER)
    if route is None:
        return fail(f"{lab.ROUTER} has no route {lab.ROUTE} with the course tags.",
                    f"mesh.ensure_route(session, LAB, MESH, '{lab.ROUTER}', '{lab.ROUTE}', "
                    f"{{'{lab.NODES['courses-api']}': 100}}).")
    http = (route.get("spec") or {}).get("httpRoute")
    if not http:
        return fail(f"{lab.ROUTE} is not an HTTP route, so it never matches the router's http listener.",
                    "Use an httpRoute (the route's type is its router listener's protocol).")
    targets = {t.get("virtualNode"): t.get("weight", 0) for t in (http.get("action") or {}).get("weightedTargets", [])}
    node = lab.NODES["courses-api"]
    if targets.get(node, 0) <= 0:
        return fail(f"{lab.ROUTE} sends {targets or 'nothing'}: no traffic reaches {node}.",
                    f"weightedTargets [{{'virtualNode': '{node}', 'weight': 100}}].")
    prefix = (http.get("match") or {}).get("prefix")
    if prefix != "/":
        return fail(f"{lab.ROUTE} matches {http.get('match')}, not every path: the courses API's other paths "
                    "would get Envoy's 404.", "match={'prefix': '/'}.")
    return ok(f"{lab.ROUTER} (http:8080) routes every path to {node}.")


# ---------------------------------------------------------------- 6.4
@mesh_step("6.4", "Virtual services named as their callers call them", points=2)
def virtual_services(ctx: Context) -> Outcome:
    if _mesh(ctx) is None:
        return _no_mesh(ctx)
    wanted = {"courses-api": ("virtualRouter", lab.ROUTER), "enrollment": ("virtualNode", lab.NODES["enrollment"])}
    for service, (kind, provider) in wanted.items():
        name = lab.virtual_service(ctx.session, service)
        found = _resource(ctx, "virtualService", name)
        if found is None:
            return fail(f"No virtual service {name} with the course tags.",
                        f"mesh.ensure_virtual_service(session, LAB, MESH, '{name}', "
                        f"{'provider_router' if kind == 'virtualRouter' else 'provider_node'}='{provider}'): "
                        "its name is the one the apps already call (COURSES_API_URL), so Envoy can route them.")
        given = (found.get("spec") or {}).get("provider") or {}
        names = {k: (v or {}).get("virtualRouterName") or (v or {}).get("virtualNodeName") for k, v in given.items()}
        if names.get(kind) != provider:
            return fail(f"{name} is provided by {names or 'nothing'}, not the {kind} {provider}.",
                        f"update it with provider {{'{kind}': {{'{kind}Name': '{provider}'}}}}.")
    return ok(f"{lab.virtual_service(ctx.session, 'courses-api')} -> router {lab.ROUTER}; "
              f"{lab.virtual_service(ctx.session, 'enrollment')} -> node {lab.NODES['enrollment']}.")


# ---------------------------------------------------------------- 6.5
def _meshed_problem(td: dict, resource_arn: str, app: str | None = "app") -> str | None:
    """Why a described task definition is not a proper App Mesh member of `resource_arn`."""
    envoy = sidecar.envoy_of(td)
    if envoy is None:
        return "has no envoy container"
    if "aws-appmesh-envoy" not in str(envoy.get("image")):
        return f"runs {envoy.get('image')} as its proxy, not App Mesh's Envoy image"
    if sidecar.resource_of(envoy) != resource_arn:
        return (f"tells Envoy it is {sidecar.resource_of(envoy) or 'nothing'} (APPMESH_RESOURCE_ARN), "
                f"not {resource_arn}")
    if not envoy.get("essential", True):
        return "has a non-essential envoy container: the task would keep running without its proxy"
    if str(envoy.get("user", "")).split(":")[0] != envoy_facts.UID:
        return f"runs Envoy as user {envoy.get('user') or 'root'}, not {envoy_facts.UID} (the IgnoredUID)"
    if envoy_facts.HEALTH_COMMAND not in " ".join((envoy.get("healthCheck") or {}).get("command", [])):
        return "gives Envoy no health check that waits for it to be LIVE"
    if app is None:
        return None
    config = td.get("proxyConfiguration") or {}
    if config.get("type") != envoy_facts.PROXY_TYPE or config.get("containerName") != envoy.get("name"):
        return "has no APPMESH proxyConfiguration naming the envoy container, so no traffic goes through it"
    props = sidecar.proxy_properties(td)
    wanted = {"IgnoredUID": envoy_facts.UID, "ProxyIngressPort": str(envoy_facts.INGRESS_PORT),
              "ProxyEgressPort": str(envoy_facts.EGRESS_PORT), "AppPorts": str(microservices.APP_PORT)}
    wrong = [f"{k}={props.get(k)!r} (want {v})" for k, v in wanted.items() if props.get(k) != v]
    if wrong:
        return "has proxy configuration " + ", ".join(wrong)
    ignored = set(props.get("EgressIgnoredIPs", "").split(","))
    if not set(envoy_facts.EGRESS_IGNORED_IPS) <= ignored:
        return ("does not exempt the task metadata and credentials addresses "
                f"({', '.join(envoy_facts.EGRESS_IGNORED_IPS)}) from the proxy (EgressIgnoredIPs)")
    main = next((c for c in td.get("containerDefinitions", []) if c.get("name") == app), {})
    if not any(d.get("containerName") == envoy.get("name") and d.get("condition") == "HEALTHY"
               for d in main.get("dependsOn", [])):
        return f"lets {app} start before Envoy is HEALTHY, so its first calls find no proxy"
    return None


@mesh_step("6.5", "Task definitions with the Envoy sidecar; task roles that let Envoy get its configuration",
           points=2)
def task_definitions(ctx: Context) -> Outcome:
    ecs, iam = ctx.client("ecs"), ctx.client("iam")
    revisions = []
    for service in lab.NODES:
        family = microservices.family(ctx.session, service)
        td = taskdefs.latest(ecs, family)
        if td is None:
            return fail(f"No task definition {family}.", "Lab 03 registers it: run this lab's first cell.")
        arn = lab.node_arn(ctx.session, service)
        problem = _meshed_problem(td, arn)
        if problem:
            return fail(f"{family}:{td['revision']} (the newest revision) {problem}.",
                        "Register a revision from the running one with the envoy container and the proxy "
                        "configuration: taskdefs.ensure_registered(ecs, sidecar.with_envoy(taskdefs.as_spec("
                        "running), NODE_ARN)).")
        role_arn = td.get("taskRoleArn")
        if not role_arn:
            return fail(f"{family}:{td['revision']} has no task role, so Envoy has no credentials to ask App "
                        "Mesh for its configuration.", "Keep the task role lab 03 gave it.")
        role_name = role_arn.rsplit("/", 1)[-1]
        docs = roles.documents(iam, role_name)
        if not roles.allows(docs, envoy_facts.STREAM_ACTION, arn):
            return fail(f"{role_name} does not allow {envoy_facts.STREAM_ACTION} on {arn}: Envoy would never "
                        "receive its configuration, stay PRE_INITIALIZING, and its health check would fail.",
                        "iam.put_role_policy(RoleName=..., PolicyName='appmesh-envoy', PolicyDocument=json.dumps("
                        "sidecar.stream_permission([NODE_ARN])))")
        wide = [label for label, doc in docs if roles.allows([(label, doc)], envoy_facts.STREAM_ACTION, "*")]
        if wide:
            return fail(f"{role_name} lets Envoy stream the configuration of every mesh resource ({wide[0]}).",
                        "Name the node's ARN as the Resource, not '*': a task should learn only its own "
                        "node's configuration.")
        revisions.append(f"{family}:{td['revision']}")
    return ok(f"{', '.join(revisions)} run Envoy beside the app (ingress 15000, egress 15001, app port 8080), "
              "and each task role allows its own node's configuration stream only.")


# ---------------------------------------------------------------- 6.6
@mesh_step("6.6", "Both services moved onto the mesh under load, with no failed request", points=2)
def moved_onto_mesh(ctx: Context) -> Outcome:
    alb = ctx.remember("alb", lambda: lookup.load_balancer(ctx.session, microservices.load_balancer_name(ctx.session)))
    if alb is None:
        return fail("There is no course load balancer to measure the move by.", "Lab 04 builds it: run the first cell.")
    moved = []
    for service in lab.NODES:
        name = microservices.service_name(ctx.session, service)
        found = _service(ctx, name)
        if found is None:
            return fail(f"No ECS service {name}.", "Lab 04 creates it: run this lab's first cell.")
        td = _task_definition(ctx, found["taskDefinition"])
        if not sidecar.is_meshed(td, lab.node_arn(ctx.session, service)):
            return fail(f"{name} runs {taskdefs.family_of(td['taskDefinitionArn'])}:{td['revision']}, which has no "
                        "Envoy sidecar for its node.",
                        "update_service(cluster=CLUSTER, service=..., taskDefinition=<the meshed revision of step "
                        "6.5>), with the traffic of step 6.6 running.")
        current = found.get("deployments", [])
        primary = next((d for d in current if d.get("status") == "PRIMARY"), {})
        if len(current) > 1 or primary.get("rolloutState") != "COMPLETED" or \
                found.get("runningCount") != found.get("desiredCount"):
            return fail(f"{name}'s move is not finished: {len(current)} deployment(s), PRIMARY "
                        f"{primary.get('rolloutState')}, {found.get('runningCount')}/{found.get('desiredCount')} running.",
                        "Wait for the rollout (deployments.wait_steady), and read the service events if it "
                        "does not settle: a proxy that never becomes LIVE keeps the app from starting.")
        group = lookup.target_group(ctx.session, microservices.target_group_name(ctx.session, service))
        if group is None:
            return fail(f"No target group for {service}.", "Lab 04 creates it: run this lab's first cell.")
        requests, failed = rollout_traffic(ctx.session, alb["LoadBalancerArn"], group["TargetGroupArn"], primary)
        if requests < lab.MOVE_MINIMUM:
            return fail(f"{name} moved onto the mesh, but CloudWatch shows {requests:g} requests to it while it "
                        "did: nothing measured whether the move dropped any.",
                        "Run step 6.6's cells in order: the traffic starts before update_service.")
        if failed:
            return fail(f"{failed:g} of the {requests:g} requests while {name} moved failed (5XX from the ALB "
                        "or the targets).",
                        "The new tasks must be healthy before the old ones go: the app waits for Envoy "
                        "(dependsOn HEALTHY), the ALB's health checks pass through Envoy's ingress; read the "
                        "service events and the target health of the move.")
        moved.append(f"{name} ({requests:g} requests)")
    return ok("Moved onto the mesh under load, none failed: " + ", ".join(moved) + ".")


# ---------------------------------------------------------------- 6.7
@mesh_step("6.7", "A virtual gateway behind the ALB, with gateway routes to both services", points=2)
def gateway(ctx: Context) -> Outcome:
    if _mesh(ctx) is None:
        return _no_mesh(ctx)
    found = _resource(ctx, "virtualGateway", lab.GATEWAY)
    if found is None:
        return fail(f"No virtual gateway {lab.GATEWAY} with the course tags.",
                    f"mesh.ensure_virtual_gateway(session, LAB, MESH, '{lab.GATEWAY}', port=8080).")
    for route, (prefix, service) in lab.GATEWAY_ROUTES.items():
        target = lab.virtual_service(ctx.session, service)
        gr = _resource(ctx, "gatewayRoute", route, lab.GATEWAY)
        http = ((gr or {}).get("spec") or {}).get("httpRoute") or {}
        if gr is None or (http.get("match") or {}).get("prefix") != prefix or \
                ((http.get("action") or {}).get("target") or {}).get("virtualService", {}).get("virtualServiceName") != target:
            return fail(f"No gateway route {route} of {lab.GATEWAY} sending the prefix {prefix} to {target}.",
                        f"mesh.ensure_gateway_route(session, LAB, MESH, '{lab.GATEWAY}', '{route}', '{target}', "
                        f"prefix='{prefix}', keep_prefix=True).")
        rewrite = ((http.get("action") or {}).get("rewrite") or {}).get("prefix") or {}
        if rewrite.get("defaultPrefix") != "DISABLED" and rewrite.get("value") != prefix:
            return fail(f"Gateway route {route} rewrites {prefix} to '/' (App Mesh's default), so {service} "
                        f"gets '/...' instead of '{prefix}...' and answers 404.",
                        "keep_prefix=True: rewrite={'prefix': {'defaultPrefix': 'DISABLED'}}.")
    name = lab.gateway_name(ctx.session)
    service = _service(ctx, name)
    if service is None:
        return fail(f"No ECS service {name} running the gateway's Envoy.",
                    "Create it (step 6.7's cell): Envoy alone, APPMESH_RESOURCE_ARN = the gateway's ARN, behind "
                    "the gateway's target group.")
    td = _task_definition(ctx, service["taskDefinition"])
    problem = _meshed_problem(td, lab.gateway_arn(ctx.session), app=None)
    if problem:
        return fail(f"{name}'s task definition {problem}.", "Register it with sidecar.envoy_container(GATEWAY_ARN, ...).")
    if service.get("runningCount", 0) < 1:
        return fail(f"{name} runs no task.", "Wait for it; read its events if its tasks stop.")
    tg = ctx.remember("gw-tg", lambda: lookup.target_group(ctx.session, lab.gateway_target_group_name(ctx.session)))
    if tg is None or not any(lb.get("targetGroupArn") == tg["TargetGroupArn"] for lb in service.get("loadBalancers", [])):
        return fail(f"{name} is not behind the target group {lab.gateway_target_group_name(ctx.session)}.",
                    "Create the service with loadBalancers=[{'targetGroupArn': ..., 'containerName': 'envoy', "
                    "'containerPort': 8080}].")
    rule = lab.gateway_rule(ctx.session, tg["TargetGroupArn"])
    if rule is None or lab.GATEWAY_PATH not in _patterns(rule):
        return fail(f"No ALB rule forwards {lab.GATEWAY_PATH} to {tg['TargetGroupName']}.",
                    f"create_rule(Priority={lab.GATEWAY_STAGING_PRIORITY}, path-pattern {lab.GATEWAY_PATH}, forward "
                    "to the gateway's group), then set_rule_priorities to 5 once its targets are healthy.")
    others = [int(r["Priority"]) for r in _rules(ctx) if not r.get("IsDefault") and r["RuleArn"] != rule["RuleArn"]
              and set(_patterns(r)) & {p for p, _, _ in microservices.WEB_SERVICES.values()}]
    if others and int(rule["Priority"]) > min(others):
        return fail(f"The gateway's rule has priority {rule['Priority']}, after the services' own rules "
                    f"({min(others)}): their paths still bypass the mesh's front door.",
                    f"elb.set_rule_priorities(RulePriorities=[{{'RuleArn': ..., 'Priority': {lab.GATEWAY_RULE_PRIORITY}}}]).")
    from mylearning import loadbalancer
    answered = loadbalancer.served(ctx.session, lookup.load_balancer(
        ctx.session, microservices.load_balancer_name(ctx.session))["LoadBalancerArn"],
        "HTTPCode_Target_2XX_Count", tg["TargetGroupArn"])
    if not answered:
        return fail("No request has come through the gateway with a 2XX answer yet.",
                    "Send some (step 6.7's last cell): GET /api/courses through the ALB now enters the mesh at "
                    "the gateway.")
    return ok(f"The ALB sends {lab.GATEWAY_PATH} (priority {rule['Priority']}) to {name}'s Envoy, whose gateway "
              f"routes send /api/courses and /api/enroll into the mesh: {answered:g} answered 2XX.")


def _rules(ctx: Context) -> list[dict]:
    def find() -> list[dict]:
        from mylearning import loadbalancer
        elb = ctx.client("elbv2")
        alb = lookup.load_balancer(ctx.session, microservices.load_balancer_name(ctx.session))
        listener = lookup.listener(elb, alb["LoadBalancerArn"], 80) if alb else None
        return loadbalancer.rules(elb, listener["ListenerArn"]) if listener else []
    return ctx.remember("rules", find)


def _patterns(rule: dict) -> list[str]:
    from mylearning import loadbalancer
    return loadbalancer.path_patterns(rule)


# ---------------------------------------------------------------- 6.8
@mesh_step("6.8", "Envoy's admin port open to your address only; the proxies' stats read", points=1)
def admin_port(ctx: Context) -> Outcome:
    group = _tasks_group(ctx)
    if group is None:
        return fail(f"There is no security group {ctx.name('tasks-sg')}.", "Lab 02 creates it: run the first cell.")
    ranges = lab.admin_ranges(group)
    wide = [r for r in ranges if ipaddress.ip_network(r, strict=False).prefixlen < 32]
    if wide:
        return fail(f"{group['GroupName']} lets {', '.join(wide)} reach Envoy's admin port {envoy_facts.ADMIN_PORT}: "
                    "anyone there could read, change or stop every proxy.",
                    "Revoke that rule and allow your own address only, as a /32.")
    if not ranges:
        return fail(f"{group['GroupName']} admits port {envoy_facts.ADMIN_PORT} from no address, so you cannot "
                    "read the proxies' stats.",
                    "Find your address in the access log (X-Forwarded-For), then "
                    "ec2.authorize_security_group_ingress(GroupId=tasks_sg, IpPermissions=[{'IpProtocol': 'tcp', "
                    "'FromPort': 9901, 'ToPort': 9901, 'IpRanges': [{'CidrIp': '<your address>/32'}]}]).")
    read = []
    for service in lab.NODES:
        stats, problem = _stats_or_fail(ctx, microservices.service_name(ctx.session, service), "proxy stats")
        if problem:
            return problem
        served = admin.total(stats, "http.ingress.downstream_rq_2xx")
        read.append(f"{service} {served} answered 2xx")
    return ok(f"{group['GroupName']} admits port {envoy_facts.ADMIN_PORT} from {', '.join(ranges)} only; the proxies' "
              f"ingress counters: {'; '.join(read)}.")


# ---------------------------------------------------------------- 6.9
@mesh_step("6.9", "DROP_ALL refused a backend enrollment did not declare; declared, it answers", points=2)
def declared_backend(ctx: Context) -> Outcome:
    node = _resource(ctx, "virtualNode", lab.NODES["enrollment"])
    if node is None:
        return fail(f"No virtual node {lab.NODES['enrollment']}.", "Do step 6.2 first.")
    courses = lab.virtual_service(ctx.session, "courses-api")
    backends = [b.get("virtualService", {}).get("virtualServiceName") for b in (node.get("spec") or {}).get("backends", [])]
    stats, problem = _stats_or_fail(ctx, microservices.service_name(ctx.session, "enrollment"), "proxy stats")
    if problem:
        return problem
    refused = admin.total(stats, admin.egress_listener_stat("no_filter_chain_match")) + \
        admin.total(stats, "http.egress.no_route")
    cluster = lab.egress_cluster(ctx.session, "courses-api")
    answered = admin.total(stats, f"cluster.{cluster}.upstream_rq_2xx")
    if courses not in backends:
        if refused:
            return fail(f"enrollment's proxies refused {refused} call(s) to the courses API: DROP_ALL, and "
                        f"{lab.NODES['enrollment']} declares no backend {courses}.",
                        f"Declare it: mesh.ensure_virtual_node(..., '{lab.NODES['enrollment']}', backends=['{courses}'], "
                        "update=True), then enroll again.")
        return fail(f"{lab.NODES['enrollment']} declares no backend {courses} and no call was refused yet.",
                    "Enroll a learner through the ALB (step 6.9's first cell) and read the 503 and the proxy's "
                    "no_filter_chain_match; then declare the backend.")
    if not refused:
        return fail(f"{lab.NODES['enrollment']} declares {courses}, but its proxies never refused a call: you have "
                    "not seen what DROP_ALL does to an undeclared backend.",
                    "Remove the backend (update the node with backends=[]), enroll once and read the refusal, "
                    "then declare it again.")
    if not answered:
        return fail(f"The backend is declared, but enrollment's proxies sent no request to {cluster} that "
                    "answered 2xx.",
                    "Enroll a learner through the ALB again: App Mesh sends the change to the proxies within "
                    "seconds.")
    return ok(f"enrollment's proxies refused {refused} call(s) to the undeclared courses API "
              f"(listener.0.0.0.0_15001.no_filter_chain_match); declared, {answered} answered 2xx through {cluster}.")


# ---------------------------------------------------------------- 6.10
def _rate(ctx: Context, key: str) -> float | None:
    text = ctx.answer(key)
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


@mesh_step("6.10", "Retries and a timeout hide a flaky courses API", points=2)
def retries(ctx: Context) -> Outcome:
    route = _resource(ctx, "route", lab.ROUTE, lab.ROUTER)
    if route is None:
        return fail(f"No route {lab.ROUTE} in {lab.ROUTER}.", "Do step 6.3 first.")
    http = (route.get("spec") or {}).get("httpRoute") or {}
    policy = http.get("retryPolicy") or {}
    events = set(policy.get("httpRetryEvents") or [])
    if not policy or "server-error" not in events or int(policy.get("maxRetries", 0)) < 2:
        return fail(f"{lab.ROUTE}'s retry policy is {policy or 'App Mesh default (gateway errors only)'}: the "
                    "courses API's 500s reach the caller.",
                    "retry_policy=mesh.retry_policy(3, 1, http_events=('server-error', 'gateway-error')) in "
                    "mesh.ensure_route(..., update=True): up to 3 more tries on a 5xx, each within 1 s.")
    if not (http.get("timeout") or {}).get("perRequest"):
        return fail(f"{lab.ROUTE} has retries but no per-request timeout: a slow courses API holds each caller "
                    "for App Mesh's default 15 s, retries included.",
                    f"timeout={lab.ROUTE_TIMEOUT} (seconds) in mesh.ensure_route(..., update=True).")
    without, with_retries = _rate(ctx, lab.RATE_WITHOUT), _rate(ctx, lab.RATE_WITH)
    if without is None or with_retries is None:
        return fail("The success rates with and without retries are not both recorded.",
                    f"Run step 6.10's measurements: record_answer(LAB, '{lab.RATE_WITHOUT}', ...) and "
                    f"record_answer(LAB, '{lab.RATE_WITH}', ...), each the share of 2xx answers (0 to 1).")
    if not (0 <= without <= 1 and 0 <= with_retries <= 1):
        return fail(f"The recorded rates ({without}, {with_retries}) are not shares between 0 and 1.",
                    "Record ok / total, e.g. 0.71, not a percentage.")
    if without > 0.9:
        return fail(f"Without retries {without:.1%} of the requests succeeded: the courses API was not flaky "
                    "while you measured.",
                    f"Turn on the fault first (lab06.set_error_rate(session, {lab.FLAKY_ERROR_RATE})), remove the "
                    "retries, and measure again.")
    if with_retries < 0.95 or with_retries <= without:
        return fail(f"With retries only {with_retries:.1%} succeeded (without: {without:.1%}).",
                    "Measure after App Mesh has sent the new route to the proxies (a second or two), with the "
                    "same fault on.")
    stats, problem = _stats_or_fail(ctx, lab.gateway_name(ctx.session), "proxy stats")
    if problem:
        return problem
    cluster = lab.egress_cluster(ctx.session, "courses-api")
    retried = admin.total(stats, f"cluster.{cluster}.upstream_rq_retry")
    rescued = admin.total(stats, f"cluster.{cluster}.upstream_rq_retry_success")
    if not retried or not rescued:
        return fail(f"The gateway's proxies show {retried} retries ({rescued} successful) towards {cluster}.",
                    "Measure through the ALB (GET /api/courses): the gateway's Envoy applies the route's retries.")
    return ok(f"Success rate {without:.1%} without retries, {with_retries:.1%} with them; the gateway's Envoy "
              f"retried {retried} times, {rescued} of them rescued the request "
              f"(cluster.{cluster}.upstream_rq_retry_success).")
