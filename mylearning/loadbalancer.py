"""The Application Load Balancer in front of MyLearning's services: find, create, price.

Every `ensure_*` finds before it creates, so notebook cells and `prepare` can run
twice. Lookups confirm the course tags, so a same-named load balancer that the
course did not create is never touched.
"""
from __future__ import annotations

from typing import Any, Iterable

from mylearning import lookup

# Application Load Balancer, US East (N. Virginia), USD, from
# https://aws.amazon.com/elasticloadbalancing/pricing/ (taken 2026-11-27):
# $0.0225 per ALB-hour (or partial hour) and $0.008 per LCU-hour. One LCU covers, per hour,
# the largest of 25 new connections/s, 3,000 active connections/min, 1 GB processed, 1,000 rule
# evaluations/s; a quiet lab stays below one LCU.
ALB_HOUR_USD = 0.0225
LCU_HOUR_USD = 0.008
PRICES_SOURCE = "https://aws.amazon.com/elasticloadbalancing/pricing/"
#: Seconds an ALB waits for in-flight requests before a deregistered target is dropped.
#: The default (300) adds five minutes to every rolling update; the apps answer within seconds.
DEREGISTRATION_DELAY = 30


def monthly_cost(lcus: float = 1.0, hours: float = 730.0) -> float:
    """Dollars for one ALB running `hours` (730 = a month) at an average of `lcus` LCUs."""
    if lcus < 0 or hours < 0:
        raise ValueError("lcus and hours are 0 or more")
    return hours * (ALB_HOUR_USD + lcus * LCU_HOUR_USD)


def target_group_attributes(elb: Any, arn: str) -> dict[str, str]:
    return {a["Key"]: a["Value"] for a in
            elb.describe_target_group_attributes(TargetGroupArn=arn)["Attributes"]}


def rules(elb: Any, listener_arn: str) -> list[dict]:
    """The listener's rules, by priority, the default rule last."""
    found = elb.describe_rules(ListenerArn=listener_arn)["Rules"]
    return sorted(found, key=lambda r: (r.get("IsDefault", False),
                                        int(r["Priority"]) if str(r["Priority"]).isdigit() else 0))


def path_patterns(rule: dict) -> list[str]:
    patterns: list[str] = []
    for condition in rule.get("Conditions", []):
        if condition.get("Field") == "path-pattern":
            patterns += (condition.get("PathPatternConfig") or {}).get("Values") or condition.get("Values") or []
    return patterns


def forward_targets(actions: Iterable[dict]) -> list[str]:
    """Target group ARNs that a list of actions forwards to (simple or weighted forward)."""
    arns: list[str] = []
    for action in actions:
        if action.get("Type") != "forward":
            continue
        if action.get("TargetGroupArn"):
            arns.append(action["TargetGroupArn"])
        for group in (action.get("ForwardConfig") or {}).get("TargetGroups", []):
            if group.get("TargetGroupArn") not in arns:
                arns.append(group["TargetGroupArn"])
    return arns


def routing_table(elb: Any, listener_arn: str, names: dict[str, str] | None = None) -> list[dict]:
    """Rows of priority, paths and destination, for printing; `names` maps ARNs to short names."""
    names = names or {}
    rows = []
    for rule in rules(elb, listener_arn):
        actions = rule.get("Actions", [])
        targets = forward_targets(actions)
        if targets:
            where = ", ".join(names.get(a, a.rsplit("/", 2)[-2]) for a in targets)
        else:
            fixed = next((a.get("FixedResponseConfig") for a in actions if a.get("Type") == "fixed-response"), None)
            where = f"fixed response {fixed.get('StatusCode')}" if fixed else actions[0].get("Type", "?") if actions else "?"
        rows.append({"priority": rule["Priority"], "paths": ", ".join(path_patterns(rule)) or "(anything else)",
                     "goes to": where})
    return rows


# ---------------------------------------------------------------- creating

def ensure_load_balancer(session: Any, lab: str, name: str, subnets: list[str],
                         security_groups: list[str]) -> dict:
    """An internet-facing Application Load Balancer in `subnets` (one per Availability Zone)."""
    found = lookup.load_balancer(session, name)
    if found is None:
        session.client("elbv2").create_load_balancer(
            Name=name, Subnets=subnets, SecurityGroups=security_groups, Scheme="internet-facing",
            Type="application", IpAddressType="ipv4", Tags=session.tags(lab))
        found = lookup.load_balancer(session, name)
    return found


def ensure_target_group(session: Any, lab: str, name: str, vpc_id: str, port: int,
                        health_path: str) -> dict:
    """An `ip` target group (Fargate tasks register by IP) with an HTTP health check."""
    elb = session.client("elbv2")
    found = lookup.target_group(session, name)
    if found is None:
        elb.create_target_group(
            Name=name, Protocol="HTTP", Port=port, VpcId=vpc_id, TargetType="ip",
            HealthCheckProtocol="HTTP", HealthCheckPath=health_path, HealthCheckIntervalSeconds=15,
            HealthyThresholdCount=2, UnhealthyThresholdCount=3, Matcher={"HttpCode": "200"},
            Tags=session.tags(lab))
        found = lookup.target_group(session, name)
    elb.modify_target_group_attributes(TargetGroupArn=found["TargetGroupArn"], Attributes=[
        {"Key": "deregistration_delay.timeout_seconds", "Value": str(DEREGISTRATION_DELAY)}])
    return found


def not_found_action() -> dict:
    """The default action: a plain 404 for paths no rule knows."""
    return {"Type": "fixed-response", "FixedResponseConfig": {
        "StatusCode": "404", "ContentType": "application/json",
        "MessageBody": '{"error": "not found"}'}}


def ensure_listener(session: Any, lab: str, load_balancer_arn: str, port: int = 80) -> dict:
    elb = session.client("elbv2")
    found = lookup.listener(elb, load_balancer_arn, port)
    if found is None:
        found = elb.create_listener(LoadBalancerArn=load_balancer_arn, Protocol="HTTP", Port=port,
                                    DefaultActions=[not_found_action()],
                                    Tags=session.tags(lab))["Listeners"][0]
    return found


def ensure_path_rule(session: Any, lab: str, listener_arn: str, priority: int,
                     patterns: list[str], target_group_arn: str) -> dict:
    """A rule forwarding `patterns` to the target group, at `priority` (replaced if it differs)."""
    elb = session.client("elbv2")
    conditions = [{"Field": "path-pattern", "PathPatternConfig": {"Values": list(patterns)}}]
    actions = [{"Type": "forward", "TargetGroupArn": target_group_arn}]
    for rule in rules(elb, listener_arn):
        if str(rule["Priority"]) == str(priority):
            if path_patterns(rule) == list(patterns) and forward_targets(rule["Actions"]) == [target_group_arn]:
                return rule
            return elb.modify_rule(RuleArn=rule["RuleArn"], Conditions=conditions,
                                   Actions=actions)["Rules"][0]
    return elb.create_rule(ListenerArn=listener_arn, Priority=priority, Conditions=conditions,
                           Actions=actions, Tags=session.tags(lab))["Rules"][0]


def served(session: Any, load_balancer_arn: str, metric: str = "RequestCount",
           target_group_arn: str | None = None, hours: float = 3.0) -> float:
    """The Sum of an ``AWS/ApplicationELB`` count metric over the last `hours`, for the load
    balancer (or one of its target groups): what it really served, as CloudWatch has it.

    https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html
    (the ALB reports these "only when requests flow"; on AWS they arrive within a few minutes).
    """
    import datetime

    end = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=5)
    seconds = max(60, int(hours * 3600) // 60 * 60)
    return served_between(session, load_balancer_arn, end - datetime.timedelta(seconds=seconds), end,
                          metric, target_group_arn)


def served_between(session: Any, load_balancer_arn: str, start: Any, end: Any,
                   metric: str = "RequestCount", target_group_arn: str | None = None) -> float:
    """The Sum of an ``AWS/ApplicationELB`` count metric in the whole minutes that hold
    [start, end] (datetimes): what the load balancer served while something happened (a
    rollout, say). CloudWatch keeps these metrics per minute, so the minutes at either
    end are counted whole."""
    import datetime

    from mylearning.facts.elbv2 import metric_dimension
    dims = [{"Name": "LoadBalancer", "Value": metric_dimension(load_balancer_arn)}]
    if target_group_arn:
        dims.insert(0, {"Name": "TargetGroup", "Value": metric_dimension(target_group_arn)})
    first, seconds = _minutes(start, end)
    found = session.client("cloudwatch").get_metric_statistics(
        Namespace="AWS/ApplicationELB", MetricName=metric, Dimensions=dims,
        StartTime=first, EndTime=first + datetime.timedelta(seconds=seconds), Period=seconds,
        Statistics=["Sum"])["Datapoints"]
    return sum(point.get("Sum", 0.0) for point in found)


def _minutes(start: Any, end: Any) -> tuple[Any, int]:
    """The first whole minute holding `start`, and the seconds of whole minutes up to `end`."""
    import datetime

    first = start.replace(second=0, microsecond=0)
    last = end.replace(second=0, microsecond=0) + datetime.timedelta(minutes=1)
    return first, max(60, int((last - first).total_seconds()))


def latency_between(session: Any, load_balancer_arn: str, start: Any, end: Any, statistic: str = "p99",
                    target_group_arn: str | None = None) -> float | None:
    """``TargetResponseTime`` (seconds, from the request leaving the load balancer to the
    target's response headers) over the whole minutes that hold [start, end], as CloudWatch
    computes `statistic` (``p99``, ``p50``, ``Average``, ...) over every request answered then;
    None when no target answered.
    https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html
    """
    import datetime

    from mylearning.facts.elbv2 import metric_dimension
    dims = [{"Name": "LoadBalancer", "Value": metric_dimension(load_balancer_arn)}]
    if target_group_arn:
        dims.insert(0, {"Name": "TargetGroup", "Value": metric_dimension(target_group_arn)})
    first, seconds = _minutes(start, end)
    found = session.client("cloudwatch").get_metric_data(
        MetricDataQueries=[{"Id": "latency", "MetricStat": {
            "Metric": {"Namespace": "AWS/ApplicationELB", "MetricName": "TargetResponseTime",
                       "Dimensions": dims},
            "Period": seconds, "Stat": statistic}}],
        StartTime=first, EndTime=first + datetime.timedelta(seconds=seconds))["MetricDataResults"]
    values = found[0].get("Values") if found else None
    return float(values[0]) if values else None


def wait_served_between(session: Any, load_balancer_arn: str, start: Any, end: Any, at_least: float,
                        metric: str = "RequestCount", target_group_arn: str | None = None,
                        timeout: float = 180.0, every: float = 1.0) -> float:
    """Wait until CloudWatch shows `at_least` of `metric` in the minutes holding [start, end]
    (`served_between`), or `timeout` passes; what it shows then."""
    import time

    deadline = time.monotonic() + timeout
    seen = served_between(session, load_balancer_arn, start, end, metric, target_group_arn)
    while seen < at_least and time.monotonic() < deadline:
        time.sleep(every)
        seen = served_between(session, load_balancer_arn, start, end, metric, target_group_arn)
    return seen


def wait_served(session: Any, load_balancer_arn: str, at_least: float, timeout: float = 180.0,
                every: float = 2.0) -> float:
    """Wait until CloudWatch shows `at_least` requests served by the load balancer (its
    metrics arrive a little after the requests: seconds on the embedded AWS, a minute or two
    on AWS), or `timeout` passes; what it shows then."""
    import time

    deadline = time.monotonic() + timeout
    seen = served(session, load_balancer_arn)
    while seen < at_least and time.monotonic() < deadline:
        time.sleep(every)
        seen = served(session, load_balancer_arn)
    return seen



def wait_healthy(session: Any, target_group_arn: str, at_least: int, timeout: float = 300.0,
                 every: float = 1.0) -> int:
    """Wait until `at_least` of the group's targets are ``healthy`` (a service's waiter says
    its tasks run, not that the load balancer sends them requests yet), or `timeout` passes;
    how many are then."""
    import time

    elb = session.client("elbv2")

    def healthy() -> int:
        found = elb.describe_target_health(TargetGroupArn=target_group_arn)["TargetHealthDescriptions"]
        return sum(1 for t in found if t["TargetHealth"]["State"] == "healthy")
    deadline = time.monotonic() + timeout
    count = healthy()
    while count < at_least and time.monotonic() < deadline:
        time.sleep(every)
        count = healthy()
    return count
