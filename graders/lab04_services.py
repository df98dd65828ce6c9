"""Lab 04 - Services, load balancing and discovery: checks for each step, with hints.

Rules checked here, with the AWS pages that state them:
- An Application Load Balancer needs subnets in at least two Availability Zones:
  https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html
- Tasks in awsvpc mode (all Fargate tasks) register with `ip` target groups:
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/alb-considerations.html
- Listener rules with path-pattern conditions, evaluated by priority:
  https://docs.aws.amazon.com/elasticloadbalancing/latest/application/rule-condition-types.html
- Service discovery with Cloud Map (private DNS namespace, A records for awsvpc, custom health):
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-discovery.html
- Deployment circuit breaker with rollback; minimumHealthyPercent / maximumPercent:
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-circuit-breaker.html
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-ecs.html
- Health check grace period for services behind a load balancer:
  https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html
- A service without launchType or capacityProviderStrategy uses the cluster's default strategy:
  https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html
- Private subnets without public IPs for tasks behind a load balancer:
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-task-networking.html
- What the load balancer served, from its CloudWatch metrics:
  https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html
- A security group rule's source can be another group or the group itself; rules only allow:
  https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html
"""
from __future__ import annotations

from mylearning.course.lab04_services import (ABOUT, DOWNTIME_ANSWER, ROLLOUT_MINIMUM, TARGET_AVAILABILITY,
                                            TRAFFIC_MINIMUM, address_ranges_admitted, admits_itself,
                                            rollout_traffic)
from mylearning.steps import Context, Lab, Outcome, fail, ok
from mylearning import availability, cloudmap, loadbalancer, lookup, microservices, taskdefs

LAB = Lab.declared(ABOUT)

WEB = tuple(microservices.WEB_SERVICES)
#: Hours in a year for the downtime answer: 365 days, or 365.25 to count leap years.
YEAR_HOURS, LEAP_AVERAGE_YEAR_HOURS = availability.HOURS_PER_YEAR, 365.25 * 24


def _subnets(ctx: Context, ids: list[str]) -> list[dict]:
    """The subnets with these ids (looked up by id: much faster than by tag on the emulator)."""
    key = "subnets:" + ",".join(sorted(ids))
    return ctx.remember(key, lambda: ctx.client("ec2").describe_subnets(SubnetIds=sorted(ids))["Subnets"]
                        if ids else [])


def _tier_problem(ctx: Context, ids: list[str], tier: str) -> str | None:
    """Why these subnets are not the course's `tier` subnets in two zones, or None."""
    try:
        subnets = _subnets(ctx, ids)
    except Exception:
        return f"subnets {ids} do not all exist"
    wrong = [s["SubnetId"] for s in subnets
             if lookup.tag_value(s, "tier") != tier or not lookup.is_course_tagged(s, ctx.session)]
    if wrong or not subnets:
        return f"{', '.join(wrong) or 'no subnets'} {'is' if len(wrong) == 1 else 'are'} not your {tier} subnets"
    zones = {s["AvailabilityZone"] for s in subnets}
    if len(zones) < 2:
        return f"all are in {zones.pop()}, one Availability Zone"
    return None


def _group_names(ctx: Context, ids: list[str]) -> list[str]:
    if not ids:
        return []
    try:
        found = ctx.client("ec2").describe_security_groups(GroupIds=list(ids))["SecurityGroups"]
    except Exception:
        return ["(unknown group)"]
    return sorted(g["GroupName"] for g in found)


def _is_course_vpc(ctx: Context, vpc_id: str | None) -> bool:
    def check() -> bool:
        try:
            found = ctx.client("ec2").describe_vpcs(VpcIds=[vpc_id])["Vpcs"]
        except Exception:
            return False
        return bool(found) and lookup.tag_value(found[0], "Name") == ctx.name("vpc") and \
            lookup.is_course_tagged(found[0], ctx.session)
    return bool(vpc_id) and ctx.remember(f"vpc:{vpc_id}", check)


def _alb(ctx: Context) -> dict | None:
    return ctx.remember("alb", lambda: lookup.load_balancer(
        ctx.session, microservices.load_balancer_name(ctx.session)))


def _tg(ctx: Context, service: str) -> dict | None:
    return ctx.remember(f"tg:{service}", lambda: lookup.target_group(
        ctx.session, microservices.target_group_name(ctx.session, service)))


def _namespace(ctx: Context) -> dict | None:
    return ctx.remember("ns", lambda: lookup.namespace(ctx.session, cloudmap.namespace_name(ctx.session)))


def _registry(ctx: Context, service: str) -> dict | None:
    namespace = _namespace(ctx)
    if namespace is None:
        return None
    return ctx.remember(f"sd:{service}", lambda: lookup.discovery_service(ctx.session, namespace["Id"], service))


def _service(ctx: Context, service: str) -> dict | None:
    return ctx.remember(f"svc:{service}", lambda: lookup.ecs_service(
        ctx.session, ctx.name("cluster"), microservices.service_name(ctx.session, service)))


def _no_service(ctx: Context, service: str) -> Outcome:
    return fail(f"No active ECS service {microservices.service_name(ctx.session, service)} in "
                f"{ctx.name('cluster')}.",
                "Run step 4.5's cell: create_service for both web services.")


NO_ALB = "Run step 4.1: create the internet-facing ALB named session.name('alb')."


@LAB.step("4.1", "An internet-facing Application Load Balancer in two public subnets", points=2)
def load_balancer(ctx: Context) -> Outcome:
    alb = _alb(ctx)
    name = microservices.load_balancer_name(ctx.session)
    if alb is None:
        return fail(f"No load balancer named {name} with the course tags.", NO_ALB)
    if alb.get("Type") != "application":
        return fail(f"{name} is a {alb.get('Type')} load balancer.",
                    "Use Type='application': path-based routing is an ALB feature.")
    if alb.get("Scheme") != "internet-facing":
        return fail(f"{name} is {alb.get('Scheme')}, so learners on the internet cannot reach it.",
                    "Create it with Scheme='internet-facing' (the scheme cannot be changed later: "
                    "delete and recreate).")
    subnets = [z["SubnetId"] for z in alb.get("AvailabilityZones", [])]
    zones = {z["ZoneName"] for z in alb.get("AvailabilityZones", [])}
    problem = _tier_problem(ctx, subnets, "public")
    if problem:
        return fail(f"{name}'s subnets: {problem}. It belongs in the two public subnets, one per "
                    "Availability Zone.",
                    "Pass Subnets=<the two public subnet ids>: the public ones have the route to "
                    "the internet gateway.")
    if _group_names(ctx, alb.get("SecurityGroups", [])) != [ctx.name("alb-sg")]:
        return fail(f"{name} uses security groups {alb.get('SecurityGroups')}, not just "
                    f"{ctx.name('alb-sg')}.",
                    "SecurityGroups=[<the ALB security group from lab 02>]: it admits HTTP from the "
                    "internet, and the tasks' group admits traffic only from it.")
    return ok(f"{name} ({alb.get('DNSName')}) across {', '.join(sorted(zones))}.")


@LAB.step("4.2", "ip target groups with a health check path", points=2)
def target_groups(ctx: Context) -> Outcome:
    for service in WEB:
        name = microservices.target_group_name(ctx.session, service)
        tg = _tg(ctx, service)
        if tg is None:
            return fail(f"No target group named {name} with the course tags.",
                        "create_target_group(Name=..., Protocol='HTTP', Port=8080, VpcId=..., "
                        "TargetType='ip', HealthCheckPath='/health', Tags=session.tags(LAB)).")
        if tg.get("TargetType") != "ip":
            return fail(f"{name} has target type {tg.get('TargetType')!r}: Fargate tasks (awsvpc) "
                        "register by IP address, so ECS cannot add them to it.",
                        "Target type cannot be changed: delete the group and create it with TargetType='ip'.")
        if tg.get("Protocol") != "HTTP" or tg.get("Port") != microservices.APP_PORT:
            return fail(f"{name} sends {tg.get('Protocol')} to port {tg.get('Port')}.",
                        f"Use Protocol='HTTP', Port={microservices.APP_PORT} (the containers' port).")
        if not _is_course_vpc(ctx, tg.get("VpcId")):
            return fail(f"{name} is in another VPC.", "Pass VpcId=<your course VPC's id>.")
        if tg.get("HealthCheckPath") != microservices.HEALTH_PATH:
            return fail(f"{name} checks health at {tg.get('HealthCheckPath')!r}; the apps answer on "
                        f"{microservices.HEALTH_PATH}.",
                        f"modify_target_group(TargetGroupArn=..., HealthCheckPath='{microservices.HEALTH_PATH}').")
        attributes = loadbalancer.target_group_attributes(ctx.client("elbv2"), tg["TargetGroupArn"])
        delay = int(attributes.get("deregistration_delay.timeout_seconds", "300"))
        if delay > 60:
            return fail(f"{name} waits {delay} s before dropping a deregistered task, which adds "
                        "that much to every rolling update.",
                        "modify_target_group_attributes with deregistration_delay.timeout_seconds=30.")
    return ok(f"{len(WEB)} ip target groups on port {microservices.APP_PORT}, health check "
              f"{microservices.HEALTH_PATH}.")


@LAB.step("4.3", "An HTTP listener whose rules route /api/courses* and /api/enroll*", points=2)
def listener_rules(ctx: Context) -> Outcome:
    alb = _alb(ctx)
    if alb is None:
        return fail("No load balancer yet.", NO_ALB)
    elb = ctx.client("elbv2")
    listener = lookup.listener(elb, alb["LoadBalancerArn"], 80)
    if listener is None:
        return fail("The load balancer has no listener on port 80.",
                    "create_listener(LoadBalancerArn=..., Protocol='HTTP', Port=80, DefaultActions=[...]).")
    tgs = {service: _tg(ctx, service) for service in WEB}
    tg_arns = {tg["TargetGroupArn"] for tg in tgs.values() if tg}
    default = [a for a in listener.get("DefaultActions", [])]
    if set(loadbalancer.forward_targets(default)) & tg_arns:
        return fail("The listener's default action forwards to a service, so every unknown path "
                    "(/admin, /favicon.ico...) reaches it.",
                    "Make the default a fixed-response 404 and route each service with a rule.")
    rules = loadbalancer.rules(elb, listener["ListenerArn"])
    for service, (pattern, _, _) in microservices.WEB_SERVICES.items():
        tg = tgs[service]
        if tg is None:
            return fail(f"No target group for {service} yet.", "Do step 4.2 first.")
        routed = [r for r in rules if not r.get("IsDefault") and pattern in loadbalancer.path_patterns(r)]
        if not routed:
            return fail(f"No rule matches the path pattern {pattern}.",
                        f"create_rule(ListenerArn=..., Priority=..., Conditions=[{{'Field': 'path-pattern', "
                        f"'PathPatternConfig': {{'Values': ['{pattern}']}}}}], Actions=[forward to "
                        f"{tg['TargetGroupName']}]).")
        if loadbalancer.forward_targets(routed[0]["Actions"]) != [tg["TargetGroupArn"]]:
            return fail(f"The rule for {pattern} does not forward to {tg['TargetGroupName']}.",
                        "Point its forward action at the service's own target group.")
    return ok(f"HTTP:80 routes {', '.join(p for p, _, _ in microservices.WEB_SERVICES.values())}; "
              "anything else gets a 404.")


@LAB.step("4.4", "A Cloud Map private DNS namespace with a service per web service", points=2)
def discovery(ctx: Context) -> Outcome:
    name = cloudmap.namespace_name(ctx.session)
    namespace = _namespace(ctx)
    if namespace is None:
        return fail(f"No private DNS namespace {name} with the course tags.",
                    "servicediscovery.create_private_dns_namespace(Name=..., Vpc=<your VPC id>, "
                    "Tags=session.tags(LAB)), then wait for the operation to succeed.")
    for service in WEB:
        registry = _registry(ctx, service)
        if registry is None:
            return fail(f"No Cloud Map service {service} in {name}.",
                        "servicediscovery.create_service(Name=..., NamespaceId=..., DnsConfig=..., "
                        "HealthCheckCustomConfig={'FailureThreshold': 1}).")
        records = {r.get("Type") for r in (registry.get("DnsConfig") or {}).get("DnsRecords", [])}
        if "A" not in records:
            return fail(f"{service}.{name} has no A record type ({sorted(records)}).",
                        "awsvpc tasks have their own IP address: use DnsRecords=[{'Type': 'A', 'TTL': 15}].")
        if not registry.get("HealthCheckCustomConfig"):
            return fail(f"{service}.{name} has no custom health check, so DNS could keep answering "
                        "with tasks ECS found unhealthy.",
                        "Create it with HealthCheckCustomConfig={'FailureThreshold': 1}: ECS then "
                        "reports each task's health to Cloud Map.")
    return ok(f"{name} resolves {', '.join(f'{s}.{name}' for s in WEB)}.")


@LAB.step("4.5", "ECS services in the private subnets, behind the load balancer", points=2)
def services(ctx: Context) -> Outcome:
    for service in WEB:
        found = _service(ctx, service)
        if found is None:
            return _no_service(ctx, service)
        name = found["serviceName"]
        if not lookup.is_course_tagged(found, ctx.session):
            return fail(f"{name} is missing the course tags.", "Pass tags=session.tags(LAB, style='key').")
        if found.get("desiredCount", 0) < 2:
            return fail(f"{name} wants {found.get('desiredCount')} task(s): one task is one failure "
                        "away from an outage.",
                        "desiredCount=2 or more, so ECS can run a task in each Availability Zone.")
        vpc_config = (found.get("networkConfiguration") or {}).get("awsvpcConfiguration") or {}
        problem = _tier_problem(ctx, vpc_config.get("subnets", []), "private")
        if problem:
            return fail(f"{name}'s subnets: {problem}.",
                        "Tasks belong in the private subnets (both of them, for two zones); only the "
                        "load balancer sits in the public ones.")
        if vpc_config.get("assignPublicIp") == "ENABLED":
            return fail(f"{name} gives its tasks public IP addresses.",
                        "assignPublicIp='DISABLED': traffic reaches the tasks through the load balancer only.")
        if _group_names(ctx, vpc_config.get("securityGroups", [])) != [ctx.name("tasks-sg")]:
            return fail(f"{name} uses security groups {vpc_config.get('securityGroups')}.",
                        f"securityGroups=[{ctx.name('tasks-sg')}'s id]: it admits port "
                        f"{microservices.APP_PORT} from the load balancer only.")
        tg = _tg(ctx, service)
        balancers = found.get("loadBalancers", [])
        if tg is None or not any(b.get("targetGroupArn") == tg["TargetGroupArn"]
                                 and b.get("containerName") == "app"
                                 and b.get("containerPort") == microservices.APP_PORT for b in balancers):
            return fail(f"{name} does not send traffic from its target group to container app, "
                        f"port {microservices.APP_PORT}.",
                        "loadBalancers=[{'targetGroupArn': ..., 'containerName': 'app', 'containerPort': 8080}] "
                        "(set at creation; changing it later needs update_service).")
    return ok(f"{len(WEB)} services, 2+ tasks each, in the private subnets behind the ALB.")


@LAB.step("4.6", "Safe deployments: circuit breaker with rollback, grace period, cluster strategy",
          points=2)
def deployment_safety(ctx: Context) -> Outcome:
    cluster = lookup.cluster(ctx.session, ctx.name("cluster")) or {}
    default = cluster.get("defaultCapacityProviderStrategy") or []
    for service in WEB:
        found = _service(ctx, service)
        if found is None:
            return _no_service(ctx, service)
        name = found["serviceName"]
        config = found.get("deploymentConfiguration") or {}
        breaker = config.get("deploymentCircuitBreaker") or {}
        if not (breaker.get("enable") and breaker.get("rollback")):
            return fail(f"{name}'s deployment circuit breaker is {'on without rollback' if breaker.get('enable') else 'off'}: "
                        "a revision whose tasks keep failing would be retried for hours.",
                        "deploymentConfiguration={'deploymentCircuitBreaker': {'enable': True, "
                        "'rollback': True}, ...}.")
        low, high = config.get("minimumHealthyPercent", 100), config.get("maximumPercent", 200)
        if low < 100:
            return fail(f"{name} may drop to {low}% of its tasks during a deployment.",
                        "minimumHealthyPercent=100 keeps every task serving while new ones start.")
        if high <= 100:
            return fail(f"{name} has maximumPercent {high}: with minimumHealthyPercent 100 it can "
                        "never start a new task, so no deployment can proceed.",
                        "maximumPercent=200 lets ECS start the new tasks before stopping the old.")
        if not found.get("healthCheckGracePeriodSeconds"):
            return fail(f"{name} has no health check grace period: the load balancer may mark a "
                        "booting task unhealthy and ECS would replace it in a loop.",
                        f"healthCheckGracePeriodSeconds={microservices.GRACE_PERIOD_SECONDS}.")
        if found.get("launchType"):
            return fail(f"{name} sets launchType {found['launchType']}, which bypasses the cluster's "
                        "FARGATE/FARGATE_SPOT strategy from lab 02.",
                        "Recreate the service without launchType (and without "
                        "capacityProviderStrategy) so the cluster's default strategy applies.")
        strategy = found.get("capacityProviderStrategy") or []
        if default and _strategy(strategy) != _strategy(default):
            return fail(f"{name} uses strategy {strategy}, not the cluster's default {default}.",
                        "Create the service without capacityProviderStrategy to use the default.")
    return ok("Both services roll back failed deployments, keep 100-200% of their tasks during "
              f"a rollout, and run on the cluster's strategy ({_describe_strategy(default)}).")


def _strategy(items: list[dict]) -> list[tuple]:
    return sorted((i["capacityProvider"], i.get("weight", 0), i.get("base", 0)) for i in items)


def _describe_strategy(items: list[dict]) -> str:
    return ", ".join(f"{i['capacityProvider']} base {i.get('base', 0)} weight {i.get('weight', 0)}"
                     for i in items) or "none"


@LAB.step("4.7", "Services register their tasks in Cloud Map", points=1)
def registries(ctx: Context) -> Outcome:
    namespace = _namespace(ctx)
    if namespace is None:
        return fail("No Cloud Map namespace yet.", "Do step 4.4 first.")
    sd = ctx.client("servicediscovery")
    for service in WEB:
        found = _service(ctx, service)
        if found is None:
            return _no_service(ctx, service)
        registered = []
        for item in found.get("serviceRegistries", []):
            try:  # read the registry the service names, instead of listing every Cloud Map service
                registered.append(sd.get_service(Id=item["registryArn"].rsplit("/", 1)[-1])["Service"])
            except Exception:
                continue
        if not any(r["Name"] == service and r.get("NamespaceId") == namespace["Id"] for r in registered):
            return fail(f"{found['serviceName']} does not register its tasks in Cloud Map service "
                        f"{service}.{namespace['Name']}.",
                        "serviceRegistries=[{'registryArn': <that Cloud Map service's Arn>}] in "
                        "create_service (or update_service).")
    names = ", ".join(f"{s}.{namespace['Name']}" for s in WEB)
    return ok(f"Tasks are discoverable as {names}.")


@LAB.step("4.8", "A rolling update of the courses API to 1.2.0, completed under load with no failed request",
          points=2)
def rolling_update(ctx: Context) -> Outcome:
    found = _service(ctx, "courses-api")
    if found is None:
        return _no_service(ctx, "courses-api")
    td = ctx.client("ecs").describe_task_definition(taskDefinition=found["taskDefinition"])["taskDefinition"]
    images = [c["image"] for c in td["containerDefinitions"] if c["name"] == "app"]
    version = microservices.ROLLOUT_VERSION
    if not images or not images[0].endswith(f":{version}"):
        return fail(f"{found['serviceName']} runs {taskdefs.family_of(td['taskDefinitionArn'])}:"
                    f"{td['revision']} with image {images[0] if images else '?'}, not {version}.",
                    f"Register a revision whose app image ends in :{version} (copy the running one "
                    "and change the image), then update_service(taskDefinition=<its ARN>).")
    deployments_now = found.get("deployments", [])
    primary = next((d for d in deployments_now if d.get("status") == "PRIMARY"), {})
    if len(deployments_now) > 1 or primary.get("rolloutState") != "COMPLETED":
        return fail(f"The rollout is not finished: {len(deployments_now)} deployment(s), PRIMARY "
                    f"{primary.get('rolloutState')}.",
                    "Wait for it: ecs.get_waiter('services_stable').wait(cluster=..., services=[...]), "
                    "and read the service events if it does not settle.")
    if found.get("runningCount") != found.get("desiredCount"):
        return fail(f"{found.get('runningCount')} of {found.get('desiredCount')} tasks are running.",
                    "Wait for the service to reach a steady state, then check again.")
    alb, group = _alb(ctx), _tg(ctx, "courses-api")
    if alb is None or group is None:
        return fail("There is no course load balancer and courses target group to measure the rollout by.",
                    "Create them in steps 4.1 and 4.2.")
    requests, failed = rollout_traffic(ctx.session, alb["LoadBalancerArn"], group["TargetGroupArn"], primary)
    if requests < ROLLOUT_MINIMUM:
        return fail(f"The rollout completed, but CloudWatch shows {requests:g} requests to the courses API "
                    "while it ran: nothing measured whether it dropped any.",
                    "Run step 4.8's cells in order: the traffic starts before update_service. On AWS the "
                    "metrics arrive a minute or two later; check again then.")
    if failed:
        return fail(f"{failed:g} of the {requests:g} requests during the rollout failed (5XX from the ALB or "
                    "the targets).",
                    "With minimumHealthyPercent=100 and maximumPercent=200 the old tasks keep serving until "
                    "the new ones are healthy, and deregistered targets drain before their tasks stop: look "
                    "at the service events and the target health during the rollout.")
    return ok(f"{found['serviceName']} completed its rollout to revision {td['revision']} "
              f"({version}) under load: {requests:g} requests while it ran, none failed; "
              f"{found['runningCount']} tasks running.")


@LAB.step("4.9", "The yearly downtime a 99.99% availability target allows", points=1)
def downtime(ctx: Context) -> Outcome:
    text = ctx.answer(DOWNTIME_ANSWER)
    if text is None:
        return fail("No answer recorded yet.",
                    "Compute the minutes in the cell of step 4.9 and run "
                    "record_answer(LAB, 'downtime-minutes-9999', minutes).")
    try:
        value = float(text)
    except ValueError:
        return fail(f"The answer {text!r} is not a number of minutes.",
                    "Record a number, e.g. record_answer(LAB, 'downtime-minutes-9999', 52.56).")
    low = availability.allowed_downtime_minutes(TARGET_AVAILABILITY, period_hours=YEAR_HOURS)
    high = availability.allowed_downtime_minutes(TARGET_AVAILABILITY, period_hours=LEAP_AVERAGE_YEAR_HOURS)
    if not low - 0.05 <= value <= high + 0.05:
        if abs(value - low / 60) < 0.05:
            hint = "That looks like hours: record minutes."
        else:
            hint = ("Allowed downtime = (1 - availability) x the minutes in a year "
                    "(365 x 24 x 60). Use 0.9999, not 99.99, for the availability.")
        return fail(f"{value:g} minutes is not what 99.99% allows.", hint)
    return ok(f"{value:.2f} minutes a year (about {value / 12:.1f} minutes a month).")


@LAB.step("4.10", "Self-healing: ECS replaced the task you stopped", points=2)
def self_healing(ctx: Context) -> Outcome:
    """The service scheduler keeps desiredCount tasks running and replaces one that stops.

    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_services.html
    """
    from mylearning.course.lab04_services import stopped_by_learner
    from mylearning import tasks

    found = _service(ctx, "courses-api")
    if found is None:
        return _no_service(ctx, "courses-api")
    cluster = ctx.session.name("cluster")
    stopped = stopped_by_learner(ctx.session, cluster, found["serviceName"])
    if not stopped:
        return fail(f"No task of {found['serviceName']} was stopped with StopTask.",
                    "Run step 4.10: pick one of the service's running tasks "
                    "(ecs.list_tasks(cluster=CLUSTER, serviceName=..., desiredStatus='RUNNING')) and "
                    "ecs.stop_task(cluster=CLUSTER, task=<its ARN>, reason=...).")
    victim = stopped[0]
    if victim.get("lastStatus") != "STOPPED":
        return fail(f"Task {tasks.task_id(victim)[:8]} is still stopping ({victim.get('lastStatus')}).",
                    "Give it its stopTimeout, then check again.")
    ecs = ctx.client("ecs")
    arns = ecs.list_tasks(cluster=cluster, serviceName=found["serviceName"], desiredStatus="RUNNING")["taskArns"]
    since = victim.get("stoppingAt") or victim.get("createdAt")
    replacements = [t for t in tasks.describe(ctx.session, cluster, arns)
                    if t.get("lastStatus") == "RUNNING" and since and t.get("createdAt") and t["createdAt"] >= since]
    if not replacements or found.get("runningCount", 0) < found.get("desiredCount", 0):
        return fail(f"{found.get('runningCount')} of {found.get('desiredCount')} tasks run and no replacement "
                    f"started after task {tasks.task_id(victim)[:8]} stopped.",
                    "Wait for the scheduler: ecs.get_waiter('services_stable').wait(cluster=CLUSTER, "
                    "services=[...]), and read the service events if it does not settle.")
    return ok(f"You stopped task {tasks.task_id(victim)[:8]} ({victim.get('stoppedReason')!r}); ECS started "
              f"{tasks.task_id(replacements[0])[:8]} in its place: {found['runningCount']}/"
              f"{found['desiredCount']} running.")


@LAB.step("4.11", "Real requests through the load balancer reached both services", points=2)
def real_traffic(ctx: Context) -> Outcome:
    """What the ALB really served, from its CloudWatch metrics (AWS/ApplicationELB): requests
    that each target group's targets answered with 2XX, and the listener's own 404.

    https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html
    """
    alb = _alb(ctx)
    if alb is None:
        return fail("There is no course load balancer.", "Create it in step 4.1 first.")
    arn = alb["LoadBalancerArn"]
    total = loadbalancer.served(ctx.session, arn)
    if total < TRAFFIC_MINIMUM:
        return fail(f"CloudWatch shows {total:g} requests served by {alb['LoadBalancerName']}.",
                    f"Run step 4.11: send at least {TRAFFIC_MINIMUM} requests to the ALB's DNS name with "
                    "traffic.send. On AWS the ALB's metrics reach CloudWatch within a minute or two: "
                    "check again then.")
    answered = {}
    for service in WEB:
        group = _tg(ctx, service)
        answered[service] = loadbalancer.served(ctx.session, arn, "HTTPCode_Target_2XX_Count",
                                                group["TargetGroupArn"]) if group else 0.0
    missing = [s for s, n in answered.items() if not n]
    if missing:
        return fail(f"No request reached the targets of {', '.join(missing)} with a 2XX answer "
                    f"({total:g} requests in all).",
                    "Send requests to each service's path (/api/courses, /api/enrollments). If they "
                    "fail, look at describe_target_health: only healthy targets get requests.")
    own = loadbalancer.served(ctx.session, arn, "HTTPCode_ELB_4XX_Count")
    return ok(f"{total:g} requests through {alb['LoadBalancerName']}: "
              + ", ".join(f"{s} answered {n:g}" for s, n in answered.items())
              + f"; the listener itself answered {own:g} with its 404.")


@LAB.step("4.12", "Tasks call each other through their own security group; the internet still cannot",
          points=2)
def service_to_service(ctx: Context) -> Outcome:
    """The tasks' group admits the app port from its own members (a self-referencing rule),
    and from no address range: the internet reaches the tasks only through the ALB.

    https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/security-network.html
    """
    vpc = lookup.vpc(ctx.session, ctx.name("vpc"))
    group = lookup.security_group(ctx.session, vpc["VpcId"], ctx.name("tasks-sg")) if vpc else None
    if group is None:
        return fail(f"There is no security group {ctx.name('tasks-sg')}.", "Lab 02 creates it: run its set-up first.")
    ranges = address_ranges_admitted(group)
    if ranges:
        return fail(f"{group['GroupName']} lets {', '.join(ranges)} reach port {microservices.APP_PORT}: "
                    "the tasks are open to more than the load balancer and each other.",
                    "Revoke that rule (ec2.revoke_security_group_ingress) and allow the tasks' own group "
                    "instead: UserIdGroupPairs=[{'GroupId': tasks_sg}].")
    if not admits_itself(group):
        return fail(f"{group['GroupName']} admits port {microservices.APP_PORT} only from the load balancer, so "
                    "enrollment cannot call the courses API.",
                    "ec2.authorize_security_group_ingress(GroupId=tasks_sg, IpPermissions=[{'IpProtocol': 'tcp', "
                    f"'FromPort': {microservices.APP_PORT}, 'ToPort': {microservices.APP_PORT}, "
                    "'UserIdGroupPairs': [{'GroupId': tasks_sg}]}]).")
    return ok(f"{group['GroupName']} admits port {microservices.APP_PORT} from the load balancer and from its own "
              "members, and from no address range.")

