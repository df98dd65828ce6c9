"""Lab 05 - Auto scaling and cost optimization: checks for each step.

Every expected number is recomputed here from the lab's stated facts (below) and the
learner's own account (task sizes, architecture, capacity provider strategy), with the
same functions the notebook uses (`mylearning.cost`, `mylearning.capacity`). A learner
who edits the facts in the notebook, or records numbers without computing them, does
not match.

AWS rules the hints refer to:
- Scalable targets and target tracking for ECS services:
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-autoscaling-targettracking.html
  https://docs.aws.amazon.com/autoscaling/application/APIReference/API_RegisterScalableTarget.html
- Predefined metrics; ResourceLabel for ALBRequestCountPerTarget
  ("app/<load-balancer-name>/<load-balancer-id>/targetgroup/<target-group-name>/<target-group-id>"):
  https://docs.aws.amazon.com/autoscaling/application/APIReference/API_PredefinedMetricSpecification.html
- Several target tracking policies on one target: scale out if any asks, scale in only if all agree:
  https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-target-tracking.html
- Scheduled actions, cron(minutes hours day-of-month month day-of-week year), Timezone:
  https://docs.aws.amazon.com/autoscaling/application/APIReference/API_PutScheduledAction.html
  https://docs.aws.amazon.com/autoscaling/application/userguide/scheduled-scaling-using-cron-expressions.html
- Fargate and Fargate Spot prices: see mylearning/cost.py (source and date there).
"""
from __future__ import annotations

import json
import math
from typing import Any

from mylearning.course.lab05_scaling_and_cost import ABOUT
from mylearning.steps import Context, Lab, Outcome, fail, ok
from mylearning import capacity, cost, migrate
from mylearning.facts.ecs import DESIRED_COUNT

LAB = Lab.declared(ABOUT)

# ---------------------------------------------------------------- the lab's stated facts
# The notebook states the same values (tests/graders/test_lab05_scaling_and_cost.py keeps the two in step).
PEAK_USERS = 50_000            # concurrent learners the platform must carry
EVENING_USERS = 30_000         # online every weekday evening, week after week
ERA_USERS = 5_000              # what App Runner carried (computed in the lab from its limits)
TARGET_UTILIZATION = 0.70      # CPU the fleet is sized and scaled to
REQUESTS_IN_FLIGHT_PER_USER = 0.4   # measured on App Runner: concurrent requests per online learner
#: Load test per service: concurrent users one vCPU serves at 100% CPU, and requests a user sends a minute.
LOAD_TEST = {
    "courses-api": {"users_per_vcpu": 500, "requests_per_user_minute": 6},
    "enrollment": {"users_per_vcpu": 1600, "requests_per_user_minute": 0.5},
}
SCALED = tuple(LOAD_TEST)      # the web services behind the load balancer (lab 04)
PEAK_SERVICE = "courses-api"   # the one with the scheduled evening peak
CLAIMED_SAVING_PCT = 45.0
DIMENSION = DESIRED_COUNT


def users_per_task(service: str, cpu_units: int) -> float:
    return LOAD_TEST[service]["users_per_vcpu"] * cpu_units / 1024


def request_target(service: str, cpu_units: int) -> float:
    """ALBRequestCountPerTarget target: requests a minute one task takes at the target utilization."""
    return round(users_per_task(service, cpu_units) * TARGET_UTILIZATION
                 * LOAD_TEST[service]["requests_per_user_minute"], 1)


def resource_label(load_balancer_arn: str, target_group_arn: str) -> str:
    """app/<lb-name>/<lb-id>/targetgroup/<tg-name>/<tg-id> from the two ARNs."""
    return (load_balancer_arn.split(":loadbalancer/", 1)[1] + "/"
            + target_group_arn.split(":", 5)[5])


# ---------------------------------------------------------------- reading the account
def _services(ctx: Context) -> dict[str, dict]:
    """The web services, one API call for all of them (checks answer fast)."""
    def find() -> dict[str, dict]:
        answer = ctx.client("ecs").describe_services(cluster=ctx.name("cluster"),
                                                     services=[ctx.name(n) for n in SCALED])
        live = {s["serviceName"]: s for s in answer.get("services", []) if s.get("status") == "ACTIVE"}
        return {n: live[ctx.name(n)] for n in SCALED if ctx.name(n) in live}
    return ctx.remember("services", find)


def _service(ctx: Context, name: str) -> dict | None:
    return _services(ctx).get(name)


def _task_definition(ctx: Context, name: str) -> dict | None:
    found = _service(ctx, name)
    if found is None:
        return None
    return ctx.remember(f"td:{name}", lambda: ctx.client("ecs").describe_task_definition(
        taskDefinition=found["taskDefinition"])["taskDefinition"])


def _resource(ctx: Context, name: str) -> str:
    return f"service/{ctx.name('cluster')}/{ctx.name(name)}"


def _target(ctx: Context, name: str) -> dict | None:
    def find() -> dict[str, dict]:
        targets = ctx.client("application-autoscaling").describe_scalable_targets(
            ServiceNamespace="ecs", ResourceIds=[_resource(ctx, n) for n in SCALED])["ScalableTargets"]
        return {t["ResourceId"]: t for t in targets if t["ScalableDimension"] == DIMENSION}
    return ctx.remember("targets", find).get(_resource(ctx, name))


def _policies(ctx: Context, name: str) -> list[dict]:
    return ctx.remember(f"policies:{name}", lambda: ctx.client(
        "application-autoscaling").describe_scaling_policies(
        ServiceNamespace="ecs", ResourceId=_resource(ctx, name))["ScalingPolicies"])


def _label(ctx: Context, name: str) -> str | None:
    """The ResourceLabel of the service's (first) target group, or None without a load balancer."""
    def find() -> dict[str, str]:
        first = {n: s["loadBalancers"][0]["targetGroupArn"] for n, s in _services(ctx).items()
                 if s.get("loadBalancers") and s["loadBalancers"][0].get("targetGroupArn")}
        if not first:
            return {}
        groups = ctx.client("elbv2").describe_target_groups(
            TargetGroupArns=sorted(set(first.values())))["TargetGroups"]
        by_arn = {g["TargetGroupArn"]: g for g in groups if g.get("LoadBalancerArns")}
        return {n: resource_label(by_arn[arn]["LoadBalancerArns"][0], arn)
                for n, arn in first.items() if arn in by_arn}
    return ctx.remember("labels", find).get(name)


def _subnets(service: dict) -> list[str]:
    return (service.get("networkConfiguration") or {}).get("awsvpcConfiguration", {}).get("subnets", [])


def _zones(ctx: Context, name: str) -> int:
    """Availability Zones the service's subnets span (one describe_subnets for all services)."""
    def find() -> dict[str, str]:
        wanted = sorted({n for s in _services(ctx).values() for n in _subnets(s)})
        if not wanted:
            return {}
        return {n["SubnetId"]: n["AvailabilityZone"]
                for n in ctx.client("ec2").describe_subnets(SubnetIds=wanted)["Subnets"]}
    zones = ctx.remember("zones", find)
    subnets = _subnets(_service(ctx, name) or {})
    return max(1, len({zones[n] for n in subnets if n in zones})) if subnets else 2


def _strategy(ctx: Context, name: str) -> list[dict]:
    """The capacity provider strategy the service's tasks are placed with ([] = launch type)."""
    found = _service(ctx, name) or {}
    if found.get("launchType"):
        return []
    if found.get("capacityProviderStrategy"):
        return found["capacityProviderStrategy"]
    clusters = ctx.client("ecs").describe_clusters(clusters=[ctx.name("cluster")])["clusters"]
    return (clusters[0].get("defaultCapacityProviderStrategy") or []) if clusters else []


NO_SERVICES = ("Run the lab's first cell: prepare.up_to(session, '05') builds the services from "
               "lab 04 that this lab scales.")


def _needs_services(ctx: Context) -> Outcome | None:
    missing = [ctx.name(s) for s in SCALED if _service(ctx, s) is None]
    if missing:
        return fail(f"Service(s) {', '.join(missing)} are not running in {ctx.name('cluster')}.",
                    NO_SERVICES)
    return None


# ---------------------------------------------------------------- expected figures
def _users_per_task(ctx: Context, name: str) -> float:
    return users_per_task(name, int(_task_definition(ctx, name)["cpu"]))


def _peak(ctx: Context, name: str) -> capacity.CapacityPlan:
    return ctx.remember(f"peak:{name}", lambda: capacity.plan_capacity(
        PEAK_USERS, _users_per_task(ctx, name), target_utilization=TARGET_UTILIZATION,
        azs=_zones(ctx, name), survive_az_loss=False))


def _evening(ctx: Context, name: str) -> int:
    return capacity.tasks_for_users(EVENING_USERS, _users_per_task(ctx, name),
                                target_utilization=TARGET_UTILIZATION)


def expected_plan(ctx: Context) -> dict[str, dict[str, Any]]:
    """Per service: users per task, peak tasks (and per AZ), evening tasks, request target."""
    return {name: {"users_per_task": _users_per_task(ctx, name),
                   "peak_tasks": _peak(ctx, name).tasks,
                   "per_az": _peak(ctx, name).per_az,
                   "evening_tasks": _evening(ctx, name),
                   "request_target": request_target(name, int(_task_definition(ctx, name)["cpu"]))}
            for name in SCALED}


def expected_costs(ctx: Context, spot_discount: float) -> dict[str, Any]:
    """The three scenarios of the cost step, from the account's courses API configuration."""
    app_runner = migrate.load_sample()
    scaling = migrate._autoscaling(migrate.load_sample(migrate.SAMPLE_AUTOSCALING))
    era_size = migrate.fargate_size(app_runner)
    users_per_instance = scaling["MaxConcurrency"] / REQUESTS_IN_FLIGHT_PER_USER
    era_count = math.ceil(ERA_USERS / users_per_instance - 1e-9)
    td = _task_definition(ctx, PEAK_SERVICE)
    size = cost.TaskSize(int(td["cpu"]), int(td["memory"]))
    arch = cost.normalize_arch((td.get("runtimePlatform") or {}).get("cpuArchitecture") or cost.X86_64)
    count = capacity.tasks_for_users(ERA_USERS, users_per_task(PEAK_SERVICE, size.cpu),
                                 target_utilization=TARGET_UTILIZATION)
    share = capacity.spot_share(_strategy(ctx, PEAK_SERVICE), count) if _strategy(ctx, PEAK_SERVICE) else 0.0
    era = cost.Scenario.app_runner("App Runner era", era_count, era_size)
    plain = cost.Scenario.fargate("Plain Fargate", era_count, era_size, cost.X86_64,
                                  spot_discount=spot_discount)
    mix = cost.Scenario.fargate("Optimized mix", count, size, arch, spot_share=share,
                                spot_discount=spot_discount)
    comparison = cost.compare(era, mix)
    return {"era_count": era_count, "count": count, "size": size, "arch": arch, "spot_share": share,
            "app_runner": era.monthly_cost, "plain_fargate": plain.monthly_cost,
            "optimized": mix.monthly_cost, "saving_pct": comparison.saving_pct,
            "holds": comparison.holds(CLAIMED_SAVING_PCT)}


def _answer(ctx: Context, key: str, how: str) -> tuple[dict | None, Outcome | None]:
    raw = ctx.answer(key)
    if raw is None:
        return None, fail(f"No '{key}' answer is stored yet.",
                          f"{how} The cell then stores it with record_answer('05', '{key}', ...).")
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        return None, fail(f"The stored '{key}' answer is not a JSON object: {raw[:80]!r}.",
                          "Record the dict the cell builds, unchanged.")
    return value, None


def _close(a: Any, b: float, tolerance: float = 0.011) -> bool:
    try:
        return abs(float(a) - float(b)) <= tolerance + 1e-6 * abs(b)
    except (TypeError, ValueError):
        return False


# ---------------------------------------------------------------- steps
@LAB.step("5.1", "Capacity plan for 50,000 concurrent learners", points=2)
def capacity_plan(ctx: Context) -> Outcome:
    problem = _needs_services(ctx)
    if problem:
        return problem
    answer, problem = _answer(ctx, "capacity",
                              "In the step 5.1 cell, fill plan[name] for each service: peak_tasks from "
                              "capacity.plan_capacity(PEAK_USERS, ...), evening_tasks from "
                              "capacity.tasks_for_users(EVENING_USERS, ...).")
    if problem:
        return problem
    plan = expected_plan(ctx)
    for name in SCALED:
        given = answer.get(name) or {}
        want = plan[name]
        if given.get("peak_tasks") != want["peak_tasks"]:
            hint = (f"tasks = ceil(users / (users per task x target utilization)); one {name} task "
                    f"serves {want['users_per_task']:g} users at 100% CPU. Use capacity.plan_capacity(...) "
                    "with the task size your service really runs.")
            if given.get("peak_tasks") == math.ceil(PEAK_USERS / want["users_per_task"]):
                hint = ("That plan runs every task at 100% CPU: no room for a spike while scaling "
                        f"catches up. Divide by users per task x {TARGET_UTILIZATION:g}.")
            return fail(f"{name}: peak_tasks is {given.get('peak_tasks')}, the plan gives "
                        f"{want['peak_tasks']}.", hint)
        if given.get("evening_tasks") != want["evening_tasks"]:
            return fail(f"{name}: evening_tasks is {given.get('evening_tasks')}, the plan gives "
                        f"{want['evening_tasks']}.",
                        f"Same formula for the {EVENING_USERS:,} learners online every weekday evening.")
    summary = "; ".join(f"{n}: {plan[n]['peak_tasks']} tasks at peak" for n in SCALED)
    return ok(f"Plan matches: {summary}.")


@LAB.step("5.2", "Scalable targets: a task per AZ at least, room for the peak", points=2)
def scalable_targets(ctx: Context) -> Outcome:
    problem = _needs_services(ctx)
    if problem:
        return problem
    for name in SCALED:
        target = _target(ctx, name)
        if target is None:
            return fail(f"No scalable target for {_resource(ctx, name)}.",
                        "aas.register_scalable_target(ServiceNamespace='ecs', ResourceId="
                        f"'{_resource(ctx, name)}', ScalableDimension='{DIMENSION}', MinCapacity=..., "
                        "MaxCapacity=...).")
        zones = _zones(ctx, name)
        if target["MinCapacity"] < zones:
            return fail(f"{name} may scale in to {target['MinCapacity']} task(s) across {zones} "
                        "Availability Zones: one zone would have none.",
                        f"MinCapacity >= {zones}, one task per zone, for the availability target.")
        if target["MaxCapacity"] < _peak(ctx, name).tasks:
            return fail(f"{name} may scale out to {target['MaxCapacity']} tasks; the peak needs "
                        f"{_peak(ctx, name).tasks}.",
                        "MaxCapacity = the peak_tasks of your capacity plan (step 5.1). A ceiling "
                        "below the peak caps the service exactly when learners need it.")
    return ok("; ".join(f"{n}: {_target(ctx, n)['MinCapacity']}-{_target(ctx, n)['MaxCapacity']} tasks"
                        for n in SCALED) + ".")


def _tracking(ctx: Context, name: str, metric: str) -> dict | None:
    for policy in _policies(ctx, name):
        config = policy.get("TargetTrackingScalingPolicyConfiguration") or {}
        spec = config.get("PredefinedMetricSpecification") or {}
        if policy.get("PolicyType") == "TargetTrackingScaling" and spec.get("PredefinedMetricType") == metric:
            return policy
    return None


def _cooldowns(name: str, config: dict) -> Outcome | None:
    out_cd, in_cd = config.get("ScaleOutCooldown"), config.get("ScaleInCooldown")
    if out_cd is not None and in_cd is not None and in_cd < out_cd:
        return fail(f"{name}: scale-in cooldown {in_cd} s is shorter than scale-out {out_cd} s, so "
                    "the service sheds tasks faster than it adds them and flaps.",
                    "Scale out fast, scale in slowly: e.g. ScaleOutCooldown=60, ScaleInCooldown=300.")
    if config.get("DisableScaleIn"):
        return fail(f"{name}: scale-in is disabled, so the fleet never shrinks after a peak and "
                    "keeps costing peak prices.", "Leave DisableScaleIn off (False).")
    return None


@LAB.step("5.3", "Target tracking on average CPU", points=2)
def cpu_tracking(ctx: Context) -> Outcome:
    problem = _needs_services(ctx)
    if problem:
        return problem
    for name in SCALED:
        if _target(ctx, name) is None:
            return fail(f"{name} has no scalable target yet.", "Do step 5.2 first.")
        policy = _tracking(ctx, name, "ECSServiceAverageCPUUtilization")
        if policy is None:
            return fail(f"{name} has no target tracking policy on ECSServiceAverageCPUUtilization.",
                        "put_scaling_policy(PolicyType='TargetTrackingScaling', "
                        "TargetTrackingScalingPolicyConfiguration={'TargetValue': ..., "
                        "'PredefinedMetricSpecification': {'PredefinedMetricType': "
                        "'ECSServiceAverageCPUUtilization'}, ...}).")
        config = policy["TargetTrackingScalingPolicyConfiguration"]
        want = round(TARGET_UTILIZATION * 100, 1)
        if not _close(config["TargetValue"], want, 0.05):
            hint = f"TargetValue is a percentage: {want:g}, the utilization the plan assumes."
            if config["TargetValue"] <= 1:
                hint = f"TargetValue is in percent, not a fraction: {want:g}, not {TARGET_UTILIZATION:g}."
            return fail(f"{name} tracks {config['TargetValue']:g}% CPU; the capacity plan sized each "
                        f"task for {want:g}%.", hint)
        problem = _cooldowns(name, config)
        if problem:
            return problem
    return ok(f"Both services track {TARGET_UTILIZATION:.0%} average CPU.")


@LAB.step("5.4", "Target tracking on ALB requests per target", points=2)
def request_tracking(ctx: Context) -> Outcome:
    problem = _needs_services(ctx)
    if problem:
        return problem
    wanted = {n: request_target(n, int(_task_definition(ctx, n)["cpu"])) for n in SCALED}
    for name in SCALED:
        if _target(ctx, name) is None:
            return fail(f"{name} has no scalable target yet.", "Do step 5.2 first.")
        policy = _tracking(ctx, name, "ALBRequestCountPerTarget")
        if policy is None:
            return fail(f"{name} has no target tracking policy on ALBRequestCountPerTarget.",
                        "Use PredefinedMetricType 'ALBRequestCountPerTarget' with ResourceLabel "
                        "'app/<lb-name>/<lb-id>/targetgroup/<tg-name>/<tg-id>' of this service's "
                        "target group.")
        config = policy["TargetTrackingScalingPolicyConfiguration"]
        label = config["PredefinedMetricSpecification"].get("ResourceLabel")
        want_label = _label(ctx, name)
        if want_label and label != want_label:
            return fail(f"{name}'s policy counts requests of {label}, not of its own target group "
                        f"{want_label}.",
                        "Build the label from the ARNs of this service's target group and its load "
                        "balancer: the part after 'loadbalancer/' + '/' + the part from 'targetgroup/'.")
        want = wanted[name]
        if not _close(config["TargetValue"], want, 0.5):
            return fail(f"{name} targets {config['TargetValue']:g} requests per task per minute; the "
                        f"load test gives {want:g}.",
                        "requests per task per minute = users per task x target utilization x "
                        "requests per user per minute (the metric counts a minute, not a second).")
        problem = _cooldowns(name, config)
        if problem:
            return problem
    return ok("; ".join(f"{n}: {wanted[n]:g} requests/task/min" for n in SCALED) + ".")


def _cron_fields(schedule: str) -> list[str] | None:
    schedule = schedule.strip()
    if not (schedule.startswith("cron(") and schedule.endswith(")")):
        return None
    return schedule[5:-1].split()


def _weekday_only(fields: list[str]) -> bool:
    day_of_week = fields[4].upper()
    return day_of_week not in ("*", "?") and day_of_week in (
        "MON-FRI", "2-6", "MON,TUE,WED,THU,FRI", "2,3,4,5,6")


@LAB.step("5.5", "Scheduled scaling for the weekday evening peak", points=2)
def scheduled(ctx: Context) -> Outcome:
    problem = _needs_services(ctx)
    if problem:
        return problem
    target = _target(ctx, PEAK_SERVICE)
    if target is None:
        return fail(f"{PEAK_SERVICE} has no scalable target yet.", "Do step 5.2 first.")
    actions = ctx.client("application-autoscaling").describe_scheduled_actions(
        ServiceNamespace="ecs", ResourceId=_resource(ctx, PEAK_SERVICE))["ScheduledActions"]
    if not actions:
        return fail(f"{PEAK_SERVICE} has no scheduled actions.",
                    "put_scheduled_action twice: raise MinCapacity before the evening peak, lower it "
                    "after, each with Schedule='cron(...)' on weekdays.")
    evening = _evening(ctx, PEAK_SERVICE)
    raising, lowering = [], []
    for action in actions:
        fields = _cron_fields(action.get("Schedule", ""))
        if fields is None or len(fields) != 6:
            return fail(f"{action['ScheduledActionName']} runs on {action.get('Schedule')!r}, not a "
                        "six-field cron expression.",
                        "AWS cron has six fields: minutes hours day-of-month month day-of-week year, "
                        "e.g. cron(45 17 ? * MON-FRI *).")
        if not _weekday_only(fields):
            return fail(f"{action['ScheduledActionName']} ({action['Schedule']}) does not run on weekdays only.",
                        "Put MON-FRI in the day-of-week field (the fifth) and ? in day-of-month.")
        low = (action.get("ScalableTargetAction") or {}).get("MinCapacity")
        if low is None:
            continue
        (raising if low >= evening else lowering).append(action)
    if not raising:
        return fail(f"No weekday action raises {PEAK_SERVICE}'s MinCapacity to the {evening} tasks the "
                    f"{EVENING_USERS:,} evening learners need.",
                    "ScalableTargetAction={'MinCapacity': <evening_tasks from step 5.1>, "
                    "'MaxCapacity': <peak_tasks>} in the action before the peak.")
    if not lowering:
        return fail("The evening minimum is never lowered again: the service would pay for the peak "
                    "all night and all weekend.",
                    "Add a second action after the peak that sets MinCapacity back to the daytime "
                    "minimum (your scalable target's).")
    too_high = [a["ScheduledActionName"] for a in raising
                if (a.get("ScalableTargetAction") or {}).get("MaxCapacity", target["MaxCapacity"])
                < a["ScalableTargetAction"]["MinCapacity"]]
    if too_high:
        return fail(f"{', '.join(too_high)} sets MinCapacity above MaxCapacity.",
                    "Keep MaxCapacity at the peak plan (or leave it out).")
    return ok(f"{len(raising)} action(s) lift {PEAK_SERVICE} to >= {evening} tasks on weekday evenings, "
              f"{len(lowering)} bring(s) it back down.")


@LAB.step("5.6", "Does the 45% saving hold for your configuration?", points=3)
def cost_comparison(ctx: Context) -> Outcome:
    problem = _needs_services(ctx)
    if problem:
        return problem
    answer, problem = _answer(ctx, "cost",
                              "In the step 5.6 cell, build era, plain and mix with cost.Scenario "
                              "(App Runner era, lift-and-shift, your account's mix) and run the next cell.")
    if problem:
        return problem
    discount = answer.get("spot_discount", cost.FARGATE_SPOT_MAX_DISCOUNT)
    try:
        discount = float(discount)
        if not 0 <= discount <= cost.FARGATE_SPOT_MAX_DISCOUNT:
            raise ValueError
    except (TypeError, ValueError):
        return fail(f"spot_discount {discount!r} is not between 0 and "
                    f"{cost.FARGATE_SPOT_MAX_DISCOUNT:g}.",
                    "AWS states Spot is up to 70% off: use cost.FARGATE_SPOT_MAX_DISCOUNT or less.")
    want = expected_costs(ctx, discount)
    config = answer.get("config") or {}
    if config.get("count") != want["count"]:
        return fail(f"Your mix runs {config.get('count')} tasks; {ERA_USERS:,} learners need "
                    f"{want['count']} of your {want['size'].label} tasks at {TARGET_UTILIZATION:.0%}.",
                    "count = capacity.tasks_for_users(ERA_USERS, users per task of the size your service "
                    "runs, target_utilization=...).")
    if (config.get("cpu"), config.get("memory"), config.get("arch")) != (
            want["size"].cpu, want["size"].memory, want["arch"]):
        return fail(f"Your mix prices {config.get('cpu')}/{config.get('memory')} {config.get('arch')}, but "
                    f"{ctx.name(PEAK_SERVICE)} runs {want['size'].cpu}/{want['size'].memory} {want['arch']}.",
                    "Read cpu, memory and runtimePlatform.cpuArchitecture from the task definition "
                    "the service runs (describe_services, then describe_task_definition).")
    if not _close(config.get("spot_share"), want["spot_share"], 0.001):
        return fail(f"Spot share {config.get('spot_share')} is not what your strategy gives for "
                    f"{want['count']} tasks ({want['spot_share']:.4f}).",
                    "capacity.spot_share(<the service's capacity provider strategy>, count): the base "
                    "runs on FARGATE first, the rest is split by weight.")
    for key in ("app_runner", "plain_fargate", "optimized"):
        if not _close(answer.get(key), want[key]):
            return fail(f"{key} is {answer.get(key)}; the cost model gives {want[key]:.2f} USD/month.",
                        "Price each scenario with mylearning.cost (Scenario.app_runner / "
                        "Scenario.fargate), 730 hours a month, and record the figures unrounded or "
                        "to the cent.")
    if not _close(answer.get("saving_pct"), want["saving_pct"], 0.05):
        return fail(f"saving_pct is {answer.get('saving_pct')}; it is {want['saving_pct']:.1f}%.",
                    "saving = (App Runner era - optimized) / App Runner era x 100.")
    if answer.get("holds") is not want["holds"]:
        return fail(f"'holds' says {answer.get('holds')}, but a {want['saving_pct']:.1f}% saving "
                    f"{'reaches' if want['holds'] else 'misses'} {CLAIMED_SAVING_PCT:g}%.",
                    "holds = saving_pct >= 45 (compare(...).holds(45)).")
    verdict = "holds" if want["holds"] else "does not hold"
    return ok(f"Optimized mix {want['optimized']:,.2f} vs App Runner era {want['app_runner']:,.2f} USD/month: "
              f"{want['saving_pct']:.1f}% lower, so the 45% claim {verdict} for your configuration.")
