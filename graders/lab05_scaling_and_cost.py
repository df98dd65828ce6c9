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
- Target tracking's alarms (AlarmHigh: 3 one-minute datapoints above the target; AlarmLow: 15
  below 90% of it), scale-in only when every policy is ready, no scaling without datapoints:
  https://docs.aws.amazon.com/autoscaling/application/userguide/target-tracking-scaling-policy-overview.html
- Scaling activities and their causes; an alarm's state changes in its history:
  https://docs.aws.amazon.com/autoscaling/application/APIReference/API_DescribeScalingActivities.html
  https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarmHistory.html
- RequestCountPerTarget (requests per healthy target, Sum) and TargetResponseTime (percentiles):
  https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html
"""
from __future__ import annotations

import json
import math
from typing import Any

from mylearning.course.lab05_scaling_and_cost import (ABOUT, LATENCY_TARGET_MS, MAX_FAILED_SHARE, MEASURED_SERVICE,
                                                    METRICS_SLACK_SECONDS, SURGE_SERVICE, THROUGHPUT_ANSWER)
from mylearning.steps import Context, Lab, Outcome, fail, ok
from mylearning import autoscaling, capacity, cost, loadbalancer, migrate
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


# ---------------------------------------------------------------- traffic that flows
def _events(ctx: Context, name: str) -> list[autoscaling.ScalingEvent]:
    return ctx.remember(f"events:{name}", lambda: autoscaling.scaling_events(ctx.session, _resource(ctx, name)))


def _from_alarm(ctx: Context, event: autoscaling.ScalingEvent) -> bool:
    """The activity's alarm entered ALARM (its history says so) before the activity started."""
    return ctx.remember(f"alarmed:{event.activity['ActivityId']}",
                        lambda: autoscaling.went_to_alarm(ctx.session, event.alarm, event.started))


def _when(event: autoscaling.ScalingEvent) -> str:
    started = event.started
    return started.strftime("%H:%M:%S") if hasattr(started, "strftime") else str(started)


def _surge_policy(ctx: Context) -> tuple[dict | None, Outcome | None]:
    problem = _needs_services(ctx)
    if problem:
        return None, problem
    if _target(ctx, SURGE_SERVICE) is None:
        return None, fail(f"{SURGE_SERVICE} has no scalable target yet.", "Do step 5.2 first.")
    policy = _tracking(ctx, SURGE_SERVICE, "ALBRequestCountPerTarget")
    if policy is None:
        return None, fail(f"{SURGE_SERVICE} has no target tracking policy on ALBRequestCountPerTarget.",
                          "Do step 5.4 first: the surge trips that policy's AlarmHigh.")
    return policy, None


def _scale_out(ctx: Context, policy: dict, before: Any = None) -> autoscaling.ScalingEvent | None:
    """The newest successful scale-out of the surge service by its request policy's alarm (that
    started before `before`, if given) whose alarm's history shows it in ALARM."""
    for event in reversed(_events(ctx, SURGE_SERVICE)):
        if (event.scale_out is True and event.succeeded and event.policy == policy["PolicyName"]
                and (before is None or event.started < before) and _from_alarm(ctx, event)):
            return event
    return None


@LAB.step("5.7", "A surge of requests: target tracking scales the enrollment service out", points=3)
def scale_out(ctx: Context) -> Outcome:
    policy, problem = _surge_policy(ctx)
    if problem:
        return problem
    name, target = ctx.name(SURGE_SERVICE), policy["TargetTrackingScalingPolicyConfiguration"]["TargetValue"]
    highs = [e for e in _events(ctx, SURGE_SERVICE) if e.scale_out is True]
    if not highs:
        return fail(f"No scaling activity of {_resource(ctx, SURGE_SERVICE)} came from an AlarmHigh: "
                    f"{name} never scaled out.",
                    f"Run step 5.7's cells. surge_rate must give each running task more than {target:g} "
                    "requests per alarm minute (SURGE_FACTOR x target x running tasks / "
                    "autoscaling.alarm_minute(session) requests a second) for 3 alarm minutes in a row; "
                    "the watch lines show the AlarmHigh's newest datapoint against its threshold.")
    done = [e for e in highs if e.succeeded]
    if not done:
        last = highs[-1].activity
        return fail(f"The scale-out activity '{last.get('Description')}' ended {last.get('StatusCode')}: "
                    f"{last.get('StatusMessage', '')}",
                    "Read the activity's StatusMessage (describe_scaling_activities) and the service's "
                    "events; then run the surge again.")
    mine = [e for e in done if e.policy == policy["PolicyName"]]
    if not mine:
        others = sorted({e.policy for e in done})
        return fail(f"{name} scaled out, but on {', '.join(others)}, not on its requests per target "
                    f"({policy['PolicyName']}).",
                    "The surge is requests: make it large enough that RequestCountPerTarget exceeds the "
                    "ALBRequestCountPerTarget policy's target (surge_rate in step 5.7).")
    event = _scale_out(ctx, policy)
    if event is None:
        return fail(f"{name}'s scale-out names alarm {mine[-1].alarm}, whose history never shows it in ALARM.",
                    "Scale out through the policy's own alarms: drive the surge (step 5.7) rather than "
                    "setting the desired count yourself.")
    return ok(f"{name} scaled out to {event.desired} tasks at {_when(event)}: the AlarmHigh of {event.policy} "
              f"went to ALARM (more than {target:g} requests per task in an alarm minute) and triggered it.")


def _moment(value: Any) -> Any:
    import datetime

    try:
        moment = datetime.datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.timezone.utc)


def measured_throughput(ctx: Context, start: Any, end: Any) -> dict[str, Any]:
    """What the load balancer's metrics say about the measured service in [start, end]:
    requests per second per task, the p99 TargetResponseTime, and the group's requests and how
    many of them no task answered with a 2XX (the load balancer's own 5XX, timeouts, the tasks' errors)."""
    import datetime

    found = _service(ctx, MEASURED_SERVICE) or {}
    groups = [b["targetGroupArn"] for b in found.get("loadBalancers", []) if b.get("targetGroupArn")]
    if not groups:
        return {}
    group = groups[0]
    arns = ctx.client("elbv2").describe_target_groups(TargetGroupArns=[group])["TargetGroups"][0].get(
        "LoadBalancerArns") or []
    if not arns:
        return {}
    until = end + datetime.timedelta(seconds=METRICS_SLACK_SECONDS)
    seconds = (end - start).total_seconds()
    per_task = loadbalancer.served_between(ctx.session, arns[0], start, until, "RequestCountPerTarget", group)
    p99 = loadbalancer.latency_between(ctx.session, arns[0], start, until, "p99", group)
    requests = loadbalancer.served_between(ctx.session, arns[0], start, until, "RequestCount", group)
    answered = loadbalancer.served_between(ctx.session, arns[0], start, until, "HTTPCode_Target_2XX_Count", group)
    return {"requests_per_task": per_task, "rps": per_task / seconds if seconds > 0 else 0.0,
            "p99_ms": None if p99 is None else p99 * 1000, "requests": requests,
            "failed": max(0.0, requests - answered)}


@LAB.step("5.8", "Throughput per task, measured, against the capacity plan", points=3)
def throughput(ctx: Context) -> Outcome:
    problem = _needs_services(ctx)
    if problem:
        return problem
    answer, problem = _answer(ctx, THROUGHPUT_ANSWER,
                              "Run step 5.8's load test, compute measured_rps, measured_users and holds, and "
                              "run the cell after it.")
    if problem:
        return problem
    start, end = _moment(answer.get("start")), _moment(answer.get("end"))
    if start is None or end is None or not 10 <= (end - start).total_seconds() <= 3600:
        return fail(f"The measurement window {answer.get('start')} .. {answer.get('end')} is not a window of "
                    "10 s to an hour.",
                    "Record start and end as the cell takes them (datetime.now(timezone.utc).isoformat()).")
    seen = measured_throughput(ctx, start, end)
    if not seen:
        return fail(f"{ctx.name(MEASURED_SERVICE)} is not behind a load balancer to measure it by.", NO_SERVICES)
    if seen["requests_per_task"] < 100:
        return fail(f"CloudWatch shows {seen['requests_per_task']:g} requests per {MEASURED_SERVICE} task in "
                    f"the window {start:%H:%M:%S} .. {end:%H:%M:%S}: that is not a load test.",
                    "Run step 5.8's load test cell, then the cells after it (the ALB's metrics arrive a few "
                    "seconds later on the embedded AWS, a few minutes on AWS).")
    rps = answer.get("requests_per_second_per_task")
    if not _close(rps, seen["rps"], 0.1 * seen["rps"]):
        hint = ("Requests per task per second = RequestCountPerTarget's Sum over the window (it already "
                "counts per healthy target) / the window's seconds.")
        try:
            if float(rps) > 1.5 * seen["rps"]:
                hint = ("That is more than each task served: the whole service's rate? RequestCountPerTarget "
                        "already divides by the healthy targets. Divide its Sum by the window's seconds.")
        except (TypeError, ValueError):
            pass
        return fail(f"You recorded {rps!r} requests/s per task; the ALB's RequestCountPerTarget for "
                    f"{start:%H:%M:%S} .. {end:%H:%M:%S} gives {seen['rps']:.2f}.", hint)
    per_minute = LOAD_TEST[MEASURED_SERVICE]["requests_per_user_minute"]
    users = answer.get("users_per_task")
    if not _close(users, float(rps) * 60 / per_minute, 0.01 * float(rps) * 60 / per_minute):
        return fail(f"users_per_task is {users!r}; {float(rps):.2f} requests/s a task are "
                    f"{float(rps) * 60 / per_minute:.1f} learners at {per_minute:g} requests a learner a minute.",
                    "learners per task = requests per second x 60 / requests per learner per minute.")
    plan = _users_per_task(ctx, MEASURED_SERVICE)
    if not _close(answer.get("plan_users_per_task"), plan, 0.01):
        return fail(f"plan_users_per_task is {answer.get('plan_users_per_task')!r}; step 5.1's plan gives "
                    f"{plan:g} learners per {MEASURED_SERVICE} task at 100% CPU.",
                    "Compare with users_per_task of step 5.1 (users per vCPU x the task's vCPUs).")
    p99 = answer.get("p99_ms")
    if seen["p99_ms"] is None or not _close(p99, seen["p99_ms"], max(5.0, 0.25 * seen["p99_ms"])):
        return fail(f"You recorded a p99 of {p99!r} ms; the ALB's TargetResponseTime p99 for the window is "
                    f"{seen['p99_ms'] if seen['p99_ms'] is None else round(seen['p99_ms'], 1)} ms.",
                    "p99_ms = loadbalancer.latency_between(..., 'p99', <target group>) x 1000 (seconds to ms).")
    failed, requests = answer.get("failed"), answer.get("requests")
    if not _close(requests, seen["requests"], max(1.0, 0.01 * seen["requests"])) or \
            not _close(failed, seen["failed"], max(1.0, 0.01 * seen["requests"])):
        return fail(f"You recorded {failed!r} failed of {requests!r} requests; for the window CloudWatch has "
                    f"{seen['failed']:g} of {seen['requests']:g} not answered 2XX by a task.",
                    "requests = RequestCount of the target group over the window; failed = requests - "
                    "HTTPCode_Target_2XX_Count of the target group.")
    reasons = []
    if float(users) < plan - 1e-6:
        reasons.append(f"each task served {float(users):.0f} learners, fewer than the plan's {plan:g}")
    if float(p99) > LATENCY_TARGET_MS:
        reasons.append(f"the p99 of {float(p99):.0f} ms is over the {LATENCY_TARGET_MS:g} ms target")
    if float(failed) > MAX_FAILED_SHARE * float(requests):
        reasons.append(f"{float(failed):g} of {float(requests):g} requests failed, more than "
                       f"{MAX_FAILED_SHARE:.1%}")
    holds = not reasons
    if answer.get("holds") is not holds:
        why = "; ".join(reasons) or "each task served its share within the latency target, nearly without failures"
        return fail(f"'holds' says {answer.get('holds')!r}, but {why}.",
                    f"holds = measured learners per task >= the plan's {plan:g} and p99 <= "
                    f"{LATENCY_TARGET_MS:g} ms and failed <= {MAX_FAILED_SHARE:.1%} of the requests.")
    if holds:
        return ok(f"Each {MEASURED_SERVICE} task served {float(rps):.1f} requests/s ({float(users):.0f} learners) "
                  f"at p99 {float(p99):.0f} ms: the plan's {plan:g} learners per task holds.")
    return ok(f"Your measurement says the plan does not hold (each task {float(rps):.1f} requests/s, "
              f"p99 {float(p99):.0f} ms): the peak needs more tasks than step 5.1 planned.")


@LAB.step("5.9", "After the surge: target tracking scales the enrollment service back in", points=2)
def scale_in(ctx: Context) -> Outcome:
    policy, problem = _surge_policy(ctx)
    if problem:
        return problem
    name = ctx.name(SURGE_SERVICE)
    newest = _scale_out(ctx, policy)
    if newest is None:
        return fail(f"{name} has not scaled out on its requests yet, so there is nothing to scale in from.",
                    "Do step 5.7 first.")
    ins = [e for e in reversed(_events(ctx, SURGE_SERVICE)) if e.scale_out is False and e.succeeded]
    for event in ins:  # newest first: a scale-in from an AlarmLow, after a scale-out on requests
        first = _scale_out(ctx, policy, before=event.started)
        if first is not None and _from_alarm(ctx, event):
            break
    else:
        later = [e for e in ins if e.started > newest.started]
        if later:
            return fail(f"{name}'s scale-in names alarm {later[0].alarm}, whose history never shows it in "
                        "ALARM.",
                        "Let the policies' own AlarmLow alarms scale the service in (step 5.9) instead of "
                        "setting the desired count yourself.")
        service = _service(ctx, SURGE_SERVICE) or {}
        return fail(f"{name} scaled out at {_when(newest)} and has not scaled in since (desired count "
                    f"{service.get('desiredCount')}).",
                    f"Scale-in needs {autoscaling.SCALE_IN_DATAPOINTS} alarm minutes in a row below "
                    f"{autoscaling.SCALE_IN_SHARE:.0%} of the target, for every target tracking policy of the "
                    "service (90 s on the embedded AWS at time scale 10, 15 min on AWS). Keep the trickle of "
                    "step 5.7 running: with no requests the ALB publishes no RequestCountPerTarget, the alarm "
                    "has no data and target tracking cannot scale. Then wait, and check again.")
    waited = (event.started - first.started).total_seconds()
    return ok(f"{name} scaled back in to {event.desired} tasks at {_when(event)}, {waited:.0f} s after "
              f"scaling out, when {event.policy}'s AlarmLow went to ALARM (every target tracking policy "
              "agreed).")
