"""Lab 09 - Observability: checks for each step, with hints.

Graded from the account (log groups, metric filters, alarms and their history, the dashboard, the
task definitions the services run), from what the telemetry holds (Logs Insights over the services'
logs, X-Ray's service graph) and from the answers the lab records (the query and its window, the
error budget, the incident's digest and your blame, the fix's measurement). Steps 9.6 to 9.8 need
the mesh (embedded AWS only: App Mesh ended on 2026-09-30); the others run on a real account too.

Rules checked here, with the pages that state them:
- Retention: https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html
- Logs Insights: https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_QuerySyntax.html
- Metric filters and their JSON patterns: https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html
- Dashboards: https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html
- Metric math alarms and composite alarms:
  https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Create-alarm-on-metric-math-expression.html,
  https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Create_Composite_Alarm.html
- Burn rates and windows: https://sre.google/workbook/alerting-on-slos/
- App Mesh and X-Ray: https://docs.aws.amazon.com/xray/latest/devguide/xray-services-appmesh.html
"""
from __future__ import annotations

import json
import time

from mylearning import microservices as ms
from mylearning.course import lab06_app_mesh as lab06
from mylearning.course import lab09_observability as lab
from mylearning.observe import logs as insights
from mylearning.observe import slo
from mylearning.observe import traces as xray
from mylearning.steps import Context, Lab, Outcome, fail, ok

LAB = Lab.declared(lab.ABOUT)

MESH_HINT = "Run this lab on the embedded AWS (the default backend: unset MYLEARNING_BACKEND) for its mesh steps."
mesh_step = LAB.guarded_step(lab.mesh_unavailable, MESH_HINT)

#: Lines as the course's services log them, to try a metric filter's pattern on (TestMetricFilter).
SAMPLE_ERROR = json.dumps({"time": "t", "level": "ERROR", "message": "request", "path": "/api/enrollments", "status": 500})
SAMPLE_INFO = json.dumps({"time": "t", "level": "INFO", "message": "request", "path": "/api/courses", "status": 200})


def _alarms(ctx: Context) -> dict[str, dict]:
    """The lab's metric alarms by name (one DescribeAlarms)."""
    def look() -> dict[str, dict]:
        cw = ctx.session.client("cloudwatch")
        names = [ctx.session.name(lab.ERROR_ALARM)] + [a["AlarmName"] for a in lab._slo_alarm_names(ctx.session)]
        return {a["AlarmName"]: a for a in cw.describe_alarms(AlarmNames=names).get("MetricAlarms", [])}
    return ctx.remember("alarms", look)


# ---------------------------------------------------------------- 9.1
@LAB.step("9.1", "Every log group keeps its events for a set time, by what it holds", points=1)
def retention(ctx: Context) -> Outcome:
    session = ctx.session
    groups = lab.log_groups(session)
    if not groups:
        return fail("None of the platform's log groups exists.", "Build lab 04 first: its services log to /ecs/<prefix>/<service>.")
    logs = session.client("logs")
    kept = {}
    for name in groups:
        found = [g for g in logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"] if g["logGroupName"] == name]
        kept[name] = found[0].get("retentionInDays") if found else None
    forever = [name for name, days in kept.items() if not days]
    if forever:
        return fail(f"{', '.join(forever)} never expire{'s' if len(forever) == 1 else ''}: CloudWatch keeps (and bills) "
                    "their events forever.", "logs.put_retention_policy(logGroupName=..., retentionInDays=...) on each "
                    "(lab09.set_retention does them all).")
    long_access = [n for n, kind in groups.items() if kind == "access" and kept[n] > lab.ACCESS_LOG_RETENTION_DAYS]
    if long_access:
        return fail(f"The proxies' access logs ({', '.join(long_access)}) are kept {kept[long_access[0]]} days.",
                    f"Access logs are many lines of little value after a week: keep them "
                    f"{lab.ACCESS_LOG_RETENTION_DAYS} days.")
    return ok("Retention: " + ", ".join(f"{n} {d} days" for n, d in kept.items()) + ".")


# ---------------------------------------------------------------- 9.2
@LAB.step("9.2", "A Logs Insights query finds the route that answers 5xx", points=2)
def errors_by_route(ctx: Context) -> Outcome:
    session = ctx.session
    recorded = lab.recorded_query(session)
    if recorded is None:
        return fail("Your Logs Insights query has not run yet.",
                    "Write the query in step 9.2's cell and run it: lab09.errors_by_route(session, query, since).")
    query = str(recorded.get("query") or "")
    if "stats" not in query or " by " not in query:
        return fail(f"Your query ({query!r}) does not count by route.",
                    "Count the 5xx lines per route: filter status >= 500 | stats count(*) as errors by path | sort ...")
    groups = [ms.log_group(session, s) for s in lab.SERVICES]
    since, until = float(recorded.get("since") or 0), float(recorded.get("until") or time.time())
    reference = ctx.remember("reference-query", lambda: insights.query(session, groups, lab.ERRORS_BY_ROUTE, since, until,
                                                                         show=False))
    if not reference:
        return fail("The services logged no 5xx in your query's time range.",
                    "Release the flawed enrollment build (lab09.break_enrollment), send traffic, then query from then.")
    worst = reference[0].get("path")
    if recorded.get("top") != worst:
        return fail(f"Your query's first row names {recorded.get('top')!r}, but most 5xx came from {worst!r}.",
                    "Sort the counts, largest first (| sort errors desc), so the first row is the worst route.")
    return ok(f"{worst} answered {reference[0].get('errors')} 5xx in that time: the route to look at.")


# ---------------------------------------------------------------- 9.3
@LAB.step("9.3", "A metric filter counts the services' ERROR lines, and its alarm fires", points=2)
def error_metric(ctx: Context) -> Outcome:
    session = ctx.session
    logs = session.client("logs")
    for service in lab.SERVICES:
        group = ms.log_group(session, service)
        try:
            filters = logs.describe_metric_filters(logGroupName=group).get("metricFilters", [])
        except logs.exceptions.ResourceNotFoundException:
            filters = []
        counting = [f for f in filters if any(t.get("metricName") == lab.ERROR_METRIC and t.get("metricNamespace") ==
                                              lab.ERROR_NAMESPACE for t in f.get("metricTransformations", []))]
        if not counting:
            return fail(f"No metric filter on {group} publishes {lab.ERROR_NAMESPACE} {lab.ERROR_METRIC}.",
                        "logs.put_metric_filter on each service's log group (lab09.ensure_error_metric).")
        pattern = counting[0].get("filterPattern") or ""
        tried = logs.test_metric_filter(filterPattern=pattern, logEventMessages=[SAMPLE_ERROR, SAMPLE_INFO])
        matched = [m.get("eventMessage") for m in tried.get("matches", [])]
        if matched != [SAMPLE_ERROR]:
            return fail(f"{group}'s filter pattern {pattern!r} matches {len(matched)} of an ERROR line and an INFO line.",
                        f"Match the ERROR lines only: {lab.ERROR_PATTERN}.")
    alarm = _alarms(ctx).get(session.name(lab.ERROR_ALARM))
    if alarm is None or alarm.get("MetricName") != lab.ERROR_METRIC or alarm.get("Namespace") != lab.ERROR_NAMESPACE:
        return fail(f"There is no alarm {session.name(lab.ERROR_ALARM)} on {lab.ERROR_METRIC}.",
                    "cloudwatch.put_metric_alarm on the filter's metric: Sum over 60 s >= 5.")
    if not lab.alarm_fired(session, alarm["AlarmName"]):
        return fail(f"{alarm['AlarmName']} has never gone into ALARM.",
                    "Keep traffic flowing while the flawed enrollment build runs (step 9.3's cell), then look again.")
    return ok(f"ERROR lines become {lab.ERROR_METRIC}, and {alarm['AlarmName']} went into ALARM when they came.")


# ---------------------------------------------------------------- 9.4
@LAB.step("9.4", "A dashboard shows the four golden signals", points=2)
def dashboard(ctx: Context) -> Outcome:
    session = ctx.session
    cw = session.client("cloudwatch")
    name = session.name(lab.DASHBOARD)
    try:
        body = json.loads(cw.get_dashboard(DashboardName=name)["DashboardBody"])
    except cw.exceptions.ResourceNotFound:
        return fail(f"There is no dashboard {name}.", "cloudwatch.put_dashboard with the golden signals (lab09.put_dashboard).")
    shown = lab.signals_of(body)
    missing = [signal for signal, found in shown.items() if not found]
    if missing:
        return fail(f"The dashboard does not show {', '.join(missing)}.",
                    "One widget per signal: " + "; ".join(f"{s}: {' or '.join(sorted(m))}" for s, m in lab.SIGNALS.items()))
    return ok("Golden signals: " + "; ".join(f"{s}: {', '.join(sorted(found))}" for s, found in shown.items()) + ".")


# ---------------------------------------------------------------- 9.5
@LAB.step("9.5", "99.99% SLOs: the error budget, burn-rate alarms over two windows, one alarm that pages", points=3)
def slos(ctx: Context) -> Outcome:
    session = ctx.session
    budget = ctx.answer(lab.BUDGET_ANSWER)
    expected = lab.AVAILABILITY.budget_minutes()
    try:
        value = float(budget) if budget is not None else None
    except ValueError:
        value = None
    if value is None:
        return fail("Your error budget is not recorded.", "lab09.record_budget(session, minutes) with your figure.")
    if abs(value - expected) > 0.01:
        return fail(f"An error budget of {value:g} minutes is not what 99.99% over 30 days leaves.",
                    "The budget is (1 - target) x the period: 0.0001 x 30 days x 24 h x 60 min.")
    alarms = _alarms(ctx)
    for objective, kind in ((lab.AVAILABILITY, "availability"), (lab.LATENCY, "latency")):
        for window in slo.PAGE_WINDOWS:
            for seconds in (window.long_seconds, window.short_seconds):
                name = slo.alarm_name(session.prefix, objective, seconds)
                alarm = alarms.get(name)
                if alarm is None:
                    return fail(f"There is no burn-rate alarm {name}.", "lab09.ensure_slo_alarms(session) puts all eight.")
                periods = {(q.get("MetricStat") or {}).get("Period") for q in alarm.get("Metrics") or [] if q.get("MetricStat")}
                if periods != {seconds}:
                    return fail(f"{name} reads periods {sorted(p for p in periods if p)}, not its {seconds} s window.",
                                "Each window alarm sums its metrics over the whole window: Period = the window.")
                wanted = objective.threshold(window)
                if abs(float(alarm.get("Threshold") or 0) - wanted) > wanted * 1e-6:
                    return fail(f"{name}'s threshold is {alarm.get('Threshold')}, not {window.burn_rate:g} x the budget "
                                f"({wanted:g}).", "Threshold = burn rate x (1 - target).")
    composite = session.client("cloudwatch").describe_alarms(AlarmNames=[session.name(lab.SLO_ALARM)],
                                                             AlarmTypes=["CompositeAlarm"]).get("CompositeAlarms", [])
    if not composite:
        return fail(f"There is no composite alarm {session.name(lab.SLO_ALARM)}.",
                    "cloudwatch.put_composite_alarm with the rule (long AND short) OR (long AND short) for each SLO.")
    rule = composite[0].get("AlarmRule") or ""
    absent = [n for n in (a["AlarmName"] for a in lab._slo_alarm_names(session)) if f'"{n}"' not in rule and n not in rule]
    if absent or " AND " not in rule.upper():
        return fail(f"The composite rule does not join every window alarm with AND ({', '.join(absent) or rule}).",
                    "A page needs both windows of an alert: (ALARM(1h) AND ALARM(5m)) OR (ALARM(6h) AND ALARM(30m)).")
    return ok(f"Budget {value:g} minutes in 30 days; eight burn-rate alarms; {composite[0]['AlarmName']} pages "
              f"(now {composite[0].get('StateValue')}).")


# ---------------------------------------------------------------- 9.6
@mesh_step("9.6", "Every proxy and service sends traces to X-Ray; the service map shows the calls", points=2)
def tracing(ctx: Context) -> Outcome:
    session = ctx.session
    traced = lab.traced(session)
    off = [name for name, on in traced.items() if not on]
    if not traced or off:
        return fail(f"{', '.join(off) or 'No meshed service'} {'does' if len(off) == 1 else 'do'} not send segments to X-Ray.",
                    "sidecar.with_xray on each meshed service's revision, and the X-Ray write policy on its task role "
                    "(lab09.turn_on_tracing).")
    start, end = lab.window(session, 30)
    graph = ctx.remember("graph", lambda: xray.service_map(session, start, end, show=False))
    mesh = lab06.mesh_name(session)
    gateway = f"{mesh}/{lab06.GATEWAY}"
    edges = set(graph.edges())
    callees = {callee for caller, callee in edges if caller == gateway}
    wanted = {f"{mesh}/{node}" for node in lab._backends(session)}
    if not wanted <= callees:
        return fail(f"The service map shows the gateway calling {sorted(callees) or 'nothing'}, not {sorted(wanted)}.",
                    "Send traffic through the ALB to both routes after tracing went on, then wait a few seconds.")
    return ok(f"X-Ray maps {len(graph.services())} services and {len(edges)} edges; the gateway calls {sorted(callees)}.")


# ---------------------------------------------------------------- 9.7
@mesh_step("9.7", "The incident: you found the slowed backend from the map and the traces", points=3)
def incident(ctx: Context) -> Outcome:
    found = lab.incident(ctx.session)
    if found is None:
        return fail("The incident has not started.", "Run lab09.start_incident(session), then investigate.")
    blamed = ctx.answer(lab.BLAME)
    if not blamed:
        return fail("You have not named the slow backend yet.",
                    f"lab09.blame(session, node) with one of {', '.join(found.get('suspects', []))}.")
    if not lab.blamed_right(ctx.session):
        return fail(f"{blamed} is not the backend the platform slowed.",
                    "Compare each segment's own time (traces.time_by_service on the slow traces): a caller's time "
                    "includes its callee's.")
    return ok(f"Right: the platform slowed {blamed}.")


# ---------------------------------------------------------------- 9.8
@mesh_step("9.8", "The fix: the slow backend's tasks replaced, and the metrics say it is fast again", points=3)
def fixed(ctx: Context) -> Outcome:
    session = ctx.session
    found = lab.incident(session)
    if found is None:
        return fail("The incident has not started.", "Steps 9.7 then 9.8.")
    still = lab.slowed(session)
    if still:
        return fail(f"{', '.join(still)} still runs with the LATENCY_MS knob.",
                    "lab09.fix(session, node) rolls its service onto a revision without it.")
    result = lab.recorded_fix(session)
    if result is None or float(result.get("since") or 0) < float(found.get("started") or 0):
        return fail("The fix has not been measured since the incident began.",
                    "lab09.confirm_fix(session) sends traffic and reads the ALB's latency.")
    share = result.get("slow_share")
    if share is None:
        return fail("No request reached the ALB while the fix was measured.", "Run lab09.confirm_fix(session) again.")
    if float(share) > lab.FIXED_SLOW_SHARE:
        return fail(f"After the fix {100 * float(share):.1f}% of requests were still slower than {lab.LATENCY_SECONDS:g} s.",
                    "Check that you fixed the backend you blamed (its tasks replaced), then measure again.")
    p99 = result.get("p99_s")
    return ok(f"After the fix: {100 * float(share):.2f}% of requests slower than {lab.LATENCY_SECONDS:g} s"
              + (f", p99 {1000 * float(p99):.0f} ms." if p99 is not None else "."))
