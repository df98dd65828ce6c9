"""Lab 09, observability: its declaration, what its notebook, grader and tests share, and its teardown.

The platform of labs 04 and 06 (the ALB, the gateway, courses-api and enrollment on the mesh) is
made observable, then an incident is investigated with what was built:

* **Logs**: every log group keeps its events for a set time (9.1); a Logs Insights query finds which
  route answers 5xx (9.2); a metric filter turns the services' ERROR lines into a metric, and an
  alarm on it really fires (9.3).
* **Metrics**: a golden-signals dashboard (latency, traffic, errors, saturation), drawn inline by
  CloudWatch's own GetMetricWidgetImage (9.4); the 99.99% availability and latency SLOs, their error
  budget, multi-window burn-rate alarms and one composite alarm that pages (9.5).
* **Traces**: every proxy and service sends segments to X-Ray through a daemon sidecar; the service
  map is drawn from GetServiceGraph (9.6).
* **The incident**: the platform slows one backend without saying which; the learner finds it from
  the service map and the traces and names it (9.7), replaces its tasks and confirms the fix in the
  metrics (9.8).

Steps 9.1 to 9.5 run on a real account too (they need lab 04's ALB and services); 9.6 to 9.8 need
the mesh of lab 06, which only the embedded AWS still has (App Mesh ended on 2026-09-30).
"""
from __future__ import annotations

import hashlib
import json
import random
import secrets
import time
from typing import Any, Optional

from mylearning import deployments, knobs, lookup, microservices as ms, taskdefs, traffic
from mylearning.answers import read_answer, read_json_answer, record_answer
from mylearning.course import LabInfo
from mylearning.course import lab06_app_mesh as lab06
from mylearning.facts.elbv2 import metric_dimension
from mylearning.mesh import sidecar
from mylearning.observe import logs as insights
from mylearning.observe import metrics, slo
from mylearning.observe import traces as xray
from mylearning.removals import Action, Plan

ABOUT = LabInfo(
    "09", "Observability: logs, metrics, SLOs and traces",
    services=("appmesh", "cloudwatch", "ec2", "ecs", "elbv2", "iam", "logs", "secretsmanager", "servicediscovery",
              "ssm", "sts", "xray"),
    concepts=("observe", "mesh", "taskdefs", "deployments", "microservices", "traffic", "answers", "knobs"))

UNAVAILABLE = lab06.UNAVAILABLE.replace("this lab cannot create a mesh", "this step cannot trace a mesh")


def mesh_unavailable(session: Any) -> str | None:
    """Why the mesh steps (9.6 to 9.8) cannot run here, or None."""
    return None if session.is_emulator else UNAVAILABLE


# ---------------------------------------------------------------- names and settings
SERVICES = ("courses-api", "enrollment")
#: What names each service's image (the containers whose environment a knob goes in).
IMAGES = {"courses-api": "/courses-api:", "enrollment": "/enrollment:"}
#: Days each log group keeps its events (PutRetentionPolicy): the services' logs a month, the
#: proxies' access logs (many lines, little value after a week) seven days.
APP_RETENTION_DAYS, ACCESS_LOG_RETENTION_DAYS = 30, 7
#: What CloudWatch Logs charges to keep a GB a month (us-east-1, Standard class: https://aws.amazon.com/cloudwatch/pricing/).
STORAGE_USD_PER_GB_MONTH = 0.03
#: Step 9.2: the share of enrollment's requests its flawed build answers with 500.
FLAKY_ERROR_RATE = 0.25
ROUTES = ("/api/courses", "/api/enrollments")
TRAFFIC_RATE = 20
#: Step 9.2's reference query: 5xx by route, most first.
ERRORS_BY_ROUTE = "filter status >= 500 | stats count(*) as errors by path | sort errors desc"
QUERY_ANSWER = "errors-by-route"
#: Step 9.3's metric filter (a JSON pattern: FilterAndPatternSyntax.html) and alarm.
ERROR_FILTER = "application-errors"
ERROR_PATTERN = '{ $.level = "ERROR" }'
ERROR_NAMESPACE, ERROR_METRIC = "MyLearning/Apps", "ApplicationErrors"
ERROR_ALARM = "application-errors"
ERROR_ALARM_THRESHOLD = 5
#: Step 9.4.
DASHBOARD = "golden-signals"
SIGNALS = {"latency": {"TargetResponseTime"}, "traffic": {"RequestCount"},
           "errors": {"HTTPCode_Target_5XX_Count", "HTTPCode_ELB_5XX_Count", ERROR_METRIC},
           "saturation": {"CPUUtilization", "MemoryUtilization"}}
#: Step 9.5: both SLOs at 99.99% over 30 days; latency's objective is 1 s at the ALB.
AVAILABILITY = slo.Objective("availability", 99.99)
LATENCY = slo.Objective("latency", 99.99)
LATENCY_SECONDS = 1.0
SLO_ALARM = "slo-page"
BUDGET_ANSWER = "error-budget-minutes"
#: Step 9.6: the gateway samples every request (App Mesh's default is 5%); the nodes follow its decision.
GATEWAY_SAMPLING = 1.0
XRAY_POLICY = "xray-daemon"
#: Step 9.7: the slowed backend answers this much later.
INCIDENT_LATENCY_MS = 1500
INCIDENT, BLAME = "incident", "incident-blame"
FIX_ANSWER = "incident-fix"
#: Step 9.8: after the fix, at most this share of requests may be slower than LATENCY_SECONDS.
FIXED_SLOW_SHARE = 0.01


def load_balancer(session: Any) -> Optional[dict]:
    return lookup.load_balancer(session, ms.load_balancer_name(session))


def load_balancer_dimension(session: Any) -> str:
    """The ALB's ``app/name/id``, its metrics' LoadBalancer dimension."""
    alb = load_balancer(session)
    if alb is None:
        raise LookupError(f"There is no load balancer {ms.load_balancer_name(session)}: build lab 04 first")
    return metric_dimension(alb["LoadBalancerArn"])


def base_url(session: Any) -> str:
    return f"http://{load_balancer(session)['DNSName']}"


def log_groups(session: Any) -> dict[str, str]:
    """The platform's log groups that exist: name -> what they hold ("app" or "access")."""
    wanted = {ms.log_group(session, s): "app" for s in SERVICES}
    if session.is_emulator:
        wanted[lab06.gateway_log_group(session)] = "access"
    found = {}
    logs = session.client("logs")
    for name, kind in wanted.items():
        groups = logs.describe_log_groups(logGroupNamePrefix=name).get("logGroups", [])
        if any(g["logGroupName"] == name for g in groups):
            found[name] = kind
    return found


def start_traffic(session: Any, seconds: float, rate: int = TRAFFIC_RATE) -> list:
    """`rate` requests a second through the ALB, shared between the routes, for `seconds`."""
    share = max(1, rate // len(ROUTES))
    return [traffic.start(session, base_url(session) + path, rate=share, duration=seconds) for path in ROUTES]


def wait_traffic(loads: list) -> list:
    return [load.wait() for load in loads]


# ---------------------------------------------------------------- 9.1 retention
def retention_report(session: Any) -> list[dict]:
    """Each log group's retention and stored bytes, with what keeping them costs a month."""
    logs = session.client("logs")
    rows = []
    for name, kind in log_groups(session).items():
        group = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"][0]
        stored = int(group.get("storedBytes") or 0)
        rows.append({"log group": name, "holds": "service logs" if kind == "app" else "proxy access logs",
                     "retention days": group.get("retentionInDays") or "never expire",
                     "stored MB": round(stored / 1e6, 3),
                     "USD/month to keep": round(stored / 1e9 * STORAGE_USD_PER_GB_MONTH, 6)})
    return rows


def set_retention(session: Any) -> list[dict]:
    """Step 9.1: PutRetentionPolicy on every platform log group, by what it holds."""
    logs = session.client("logs")
    for name, kind in log_groups(session).items():
        days = APP_RETENTION_DAYS if kind == "app" else ACCESS_LOG_RETENTION_DAYS
        logs.put_retention_policy(logGroupName=name, retentionInDays=days)
    return retention_report(session)


# ---------------------------------------------------------------- 9.2 a flawed release, found in the logs
def break_enrollment(session: Any, rate: float = FLAKY_ERROR_RATE, lab: str = ABOUT.number) -> float:
    """Release a flawed enrollment build: its tasks answer `rate` of their requests with 500 (its
    ERROR_RATE knob, set in a new revision's environment; 0 releases the healthy build again).
    When the release finished (epoch seconds): what to query from."""
    knobs.roll(session, lab, ms.service_name(session, "enrollment"), IMAGES["enrollment"], {"ERROR_RATE": rate or None})
    return time.time()


def errors_by_route(session: Any, query: str, since: float, *, show: bool = True) -> list[dict]:
    """Run `query` over the services' log groups from `since` (epoch seconds) to now; records the
    query, its time range and the route its first row names (the route with the most 5xx, for a
    query sorted that way)."""
    if not query or "..." in query:
        raise ValueError("Write your Logs Insights query first (replace the ...).")
    now = time.time()
    rows = insights.query(session, [ms.log_group(session, s) for s in SERVICES], query, since, now, show=show)
    top = next((r.get("path") or r.get("route") for r in rows if r.get("path") or r.get("route")), None)
    record_answer(ABOUT.number, QUERY_ANSWER, {"query": query, "since": since, "until": now, "top": top,
                                               "rows": list(rows[:10])}, session=session)
    return rows


def recorded_query(session: Any) -> Optional[dict]:
    return _recorded(session, QUERY_ANSWER)


# ---------------------------------------------------------------- 9.3 a metric filter and its alarm
def ensure_error_metric(session: Any, lab: str = ABOUT.number) -> str:
    """Step 9.3: the metric filter on each service's log group (ERROR lines count 1 in
    MyLearning/Apps ApplicationErrors) and an alarm when 5 or more arrive within a minute."""
    logs, cw = session.client("logs"), session.client("cloudwatch")
    for service in SERVICES:
        logs.put_metric_filter(
            logGroupName=ms.log_group(session, service), filterName=ERROR_FILTER, filterPattern=ERROR_PATTERN,
            metricTransformations=[{"metricName": ERROR_METRIC, "metricNamespace": ERROR_NAMESPACE,
                                    "metricValue": "1", "unit": "Count"}])
    name = session.name(ERROR_ALARM)
    cw.put_metric_alarm(
        AlarmName=name, Namespace=ERROR_NAMESPACE, MetricName=ERROR_METRIC, Statistic="Sum", Period=60,
        EvaluationPeriods=1, Threshold=ERROR_ALARM_THRESHOLD, ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData="notBreaching", Tags=session.tags(lab),
        AlarmDescription="The services log ERROR lines: 5 or more in a minute")
    return name


def alarm_fired(session: Any, name: str, since: float = 0.0) -> bool:
    """Whether alarm `name` went into ALARM (its history says so) after `since` (epoch seconds)."""
    cw = session.client("cloudwatch")
    history = cw.describe_alarm_history(AlarmName=name, HistoryItemType="StateUpdate", MaxRecords=100)
    for item in history.get("AlarmHistoryItems", []):
        data = json.loads(item.get("HistoryData") or "{}")
        if (data.get("newState") or {}).get("stateValue") == "ALARM" and item["Timestamp"].timestamp() >= since - 1:
            return True
    return cw.describe_alarms(AlarmNames=[name]).get("MetricAlarms", [{}])[0].get("StateValue") == "ALARM"


def wait_alarm(session: Any, name: str, since: float, timeout: float = 90) -> bool:
    deadline = time.monotonic() + timeout
    while not alarm_fired(session, name, since):
        if time.monotonic() > deadline:
            return False
        time.sleep(2)
    return True


# ---------------------------------------------------------------- 9.4 the golden signals
def golden_signals_body(session: Any) -> dict:
    """The dashboard: latency (p50, p99 at the ALB), traffic (requests), errors (5xx, ERROR lines)
    and saturation (each service's CPU and memory), a widget each."""
    region, lb = session.region_name, load_balancer_dimension(session)
    cluster = session.name("cluster")
    alb = ["AWS/ApplicationELB"]

    def tile(x: int, y: int, title: str, items: list, stat: str, **extra: Any) -> dict:
        return {"type": "metric", "x": x, "y": y, "width": 12, "height": 6,
                "properties": metrics.widget(items, title=title, stat=stat, period=60, minutes=30, region=region,
                                             **extra)}

    saturation = []
    for service in SERVICES + (lab06.GATEWAY_SERVICE,):
        name = ms.service_name(session, service)
        saturation.append(["AWS/ECS", "CPUUtilization", "ClusterName", cluster, "ServiceName", name,
                           {"label": f"{service} CPU"}])
        saturation.append(["AWS/ECS", "MemoryUtilization", "ClusterName", cluster, "ServiceName", name,
                           {"label": f"{service} memory"}])
    return {"widgets": [
        tile(0, 0, "Latency (ALB target response time, s)",
             [alb + ["TargetResponseTime", "LoadBalancer", lb, {"stat": "p50", "label": "p50"}],
              alb + ["TargetResponseTime", "LoadBalancer", lb, {"stat": "p99", "label": "p99"}]], "p99"),
        tile(12, 0, "Traffic (requests a minute)", [alb + ["RequestCount", "LoadBalancer", lb]], "Sum"),
        tile(0, 6, "Errors (5xx and ERROR log lines a minute)",
             [alb + ["HTTPCode_Target_5XX_Count", "LoadBalancer", lb, {"label": "targets' 5xx"}],
              alb + ["HTTPCode_ELB_5XX_Count", "LoadBalancer", lb, {"label": "ALB's own 5xx"}],
              [ERROR_NAMESPACE, ERROR_METRIC, {"label": "ERROR log lines"}]], "Sum"),
        tile(12, 6, "Saturation (CPU and memory, % of the task's)", saturation, "Average",
             yAxis={"left": {"min": 0, "max": 100}}),
    ]}


def put_dashboard(session: Any) -> str:
    """Step 9.4: PutDashboard with the golden signals; its name."""
    name = session.name(DASHBOARD)
    answer = session.client("cloudwatch").put_dashboard(DashboardName=name,
                                                        DashboardBody=json.dumps(golden_signals_body(session)))
    problems = answer.get("DashboardValidationMessages") or []
    if problems:
        raise ValueError(f"CloudWatch found problems in the dashboard: {problems}")
    return name


def signals_of(body: dict) -> dict[str, set[str]]:
    """Which golden signals a dashboard body's metric widgets show: signal -> metric names found."""
    names: set[str] = set()
    for widget in body.get("widgets", []):
        for item in (widget.get("properties") or {}).get("metrics", []):
            names |= {v for v in item if isinstance(v, str)}
    return {signal: names & wanted for signal, wanted in SIGNALS.items()}


# ---------------------------------------------------------------- 9.5 SLOs
def slo_alarms(session: Any, lab: str = ABOUT.number) -> list[dict]:
    """The eight burn-rate alarms' arguments: two SLOs x two alerts x a long and a short window."""
    lb, tags, prefix = load_balancer_dimension(session), session.tags(lab), session.prefix
    return (slo.burn_rate_alarms(prefix, AVAILABILITY, "availability", lb, tags=tags) +
            slo.burn_rate_alarms(prefix, LATENCY, "latency", lb, latency_seconds=LATENCY_SECONDS, tags=tags))


def slo_rule(session: Any) -> str:
    prefix = session.prefix
    return f"{slo.composite_rule(prefix, AVAILABILITY)} OR {slo.composite_rule(prefix, LATENCY)}"


def ensure_slo_alarms(session: Any, lab: str = ABOUT.number) -> str:
    """Step 9.5: the burn-rate alarms and the composite alarm that pages; its name."""
    cw = session.client("cloudwatch")
    for arguments in slo_alarms(session, lab):
        cw.put_metric_alarm(**arguments)
    name = session.name(SLO_ALARM)
    cw.put_composite_alarm(AlarmName=name, AlarmRule=slo_rule(session), Tags=session.tags(lab),
                           AlarmDescription="Page: an SLO's error budget burns fast over a long and a short window")
    return name


def record_budget(session: Any, minutes: float) -> float:
    """Record your error budget (minutes of full outage a 99.99% SLO allows in 30 days)."""
    value = float(minutes)
    record_answer(ABOUT.number, BUDGET_ANSWER, value, session=session)
    return value


# ---------------------------------------------------------------- 9.6 traces
def meshed_services(session: Any) -> list[tuple[str, dict]]:
    """The cluster's ECS services whose running revision has an Envoy: (name, task definition)."""
    ecs, cluster = session.client("ecs"), session.name("cluster")
    out = []
    arns = ecs.list_services(cluster=cluster).get("serviceArns", [])
    for i in range(0, len(arns), 10):
        for service in ecs.describe_services(cluster=cluster, services=arns[i:i + 10])["services"]:
            if service.get("status") != "ACTIVE":
                continue
            td = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
            if sidecar.envoy_of(td) is not None:
                out.append((service["serviceName"], td))
    return sorted(out, key=lambda x: x[0])


def turn_on_tracing(session: Any, lab: str = ABOUT.number) -> list[str]:
    """Step 9.6: each meshed service's task role may write to X-Ray, its Envoy traces (the gateway
    samples every request) and an X-Ray daemon runs beside it; all rolled at once, then steady.
    The services rolled."""
    ecs, iam, cluster = session.client("ecs"), session.client("iam"), session.name("cluster")
    gateway = lab06.gateway_name(session)
    rolled = []
    for name, td in meshed_services(session):
        role = (td.get("taskRoleArn") or "").rsplit("/", 1)[-1]
        if role:
            iam.put_role_policy(RoleName=role, PolicyName=XRAY_POLICY, PolicyDocument=json.dumps(sidecar.xray_permission()))
        spec = sidecar.with_xray(taskdefs.as_spec(td, tags=session.tags(lab, style="key")),
                                 sampling_rate=GATEWAY_SAMPLING if name == gateway else None)
        new, _ = taskdefs.ensure_registered(ecs, spec)
        if new["taskDefinitionArn"] != td["taskDefinitionArn"]:
            ecs.update_service(cluster=cluster, service=name, taskDefinition=new["taskDefinitionArn"])
            rolled.append(name)
    for name in rolled:
        deployments.wait_steady(session, cluster, name, timeout=240, delay=0.5)
    return rolled


def traced(session: Any) -> dict[str, bool]:
    """Each meshed service: whether its running revision sends segments to X-Ray."""
    return {name: sidecar.traces_to_xray(td) for name, td in meshed_services(session)}


def enroll_a_few(session: Any, count: int = 5) -> int:
    """POST /api/enroll for new learners: enrollment calls the courses API, so the map has that edge."""
    made = 0
    for _ in range(count):
        answer = lab06.enroll_once(session, base_url(session))
        made += getattr(answer, "status", 0) == 201
    return made


# ---------------------------------------------------------------- 9.7 the incident
def _backends(session: Any) -> dict[str, str]:
    """The backends the incident may slow: the virtual node that serves each service -> its ECS service.
    For the courses API that is the route's heaviest target (lab 08 may have promoted a canary)."""
    from mylearning.course import lab08_canary as lab08
    weights = lab08.route_weights(session)
    courses = max(weights, key=weights.get) if weights else lab06.NODES["courses-api"]
    ecs_of = {lab06.NODES["courses-api"]: ms.service_name(session, "courses-api"),
              lab08.CANARY: lab08.canary_service_name(session)}
    return {courses: ecs_of.get(courses, ms.service_name(session, "courses-api")),
            lab06.NODES["enrollment"]: ms.service_name(session, "enrollment")}


def _digest(nonce: str, node: str) -> str:
    return hashlib.sha256(f"{nonce}:{node}".encode()).hexdigest()


def start_incident(session: Any, lab: str = ABOUT.number, *, seed: Optional[int] = None) -> dict:
    """Step 9.7: a platform change rolls both backends at once, and slows one of them, chosen at
    random, by INCIDENT_LATENCY_MS (its LATENCY_MS knob). Which one is not said: the incident is
    recorded with a digest of it, so the grader can check your answer."""
    backends = _backends(session)
    node = random.Random(seed).choice(sorted(backends))
    nonce = secrets.token_hex(8)
    cluster = session.name("cluster")
    for each, ecs_service in backends.items():
        image = IMAGES["enrollment"] if each == lab06.NODES["enrollment"] else IMAGES["courses-api"]
        knobs.roll(session, lab, ecs_service, image, {"PLATFORM_CHANGE": nonce,
                                                      "LATENCY_MS": INCIDENT_LATENCY_MS if each == node else None},
                   wait=False)
    for ecs_service in backends.values():
        deployments.wait_steady(session, cluster, ecs_service, timeout=240, delay=0.5)
    record = {"started": time.time(), "nonce": nonce, "digest": _digest(nonce, node), "suspects": sorted(backends)}
    record_answer(ABOUT.number, INCIDENT, record, session=session)
    return {"started": record["started"], "suspects": record["suspects"]}


def incident(session: Any) -> Optional[dict]:
    return _recorded(session, INCIDENT)


def blame(session: Any, node: str) -> str:
    """Record which virtual node you found slow (one of the incident's suspects)."""
    node = str(node).strip()
    found = incident(session)
    if found is None:
        raise RuntimeError("No incident is running: run lab09.start_incident(session) first.")
    if node not in found["suspects"]:
        raise ValueError(f"{node!r} is not one of the suspects: {', '.join(found['suspects'])}")
    record_answer(ABOUT.number, BLAME, node, session=session)
    return node


def blamed_right(session: Any) -> Optional[bool]:
    """Whether the recorded blame names the slowed backend (None when either is missing)."""
    found, node = incident(session), read_answer(session, ABOUT.number, BLAME)
    if not found or not node:
        return None
    return _digest(found["nonce"], node) == found["digest"]


# ---------------------------------------------------------------- 9.8 the fix, confirmed
def fix(session: Any, node: str, lab: str = ABOUT.number) -> str:
    """Step 9.8: roll the ECS service behind `node` onto a revision without the LATENCY_MS knob,
    and wait for it to be steady; the ECS service."""
    backends = _backends(session)
    if node not in backends:
        raise ValueError(f"{node!r} is not a backend: {', '.join(sorted(backends))}")
    image = IMAGES["enrollment"] if node == lab06.NODES["enrollment"] else IMAGES["courses-api"]
    knobs.roll(session, lab, backends[node], image, {"LATENCY_MS": None})
    return backends[node]


def slowed(session: Any) -> list[str]:
    """The backends whose running revision still has the LATENCY_MS knob (what the platform knows)."""
    ecs, cluster = session.client("ecs"), session.name("cluster")
    out = []
    for node, ecs_service in _backends(session).items():
        service = lookup.ecs_service(session, cluster, ecs_service)
        if service is None:
            continue
        td = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
        if any(e.get("name") == "LATENCY_MS" for c in td["containerDefinitions"] for e in c.get("environment", [])):
            out.append(node)
    return out


def culprit(rows: list[dict], suspects: list[str]) -> Optional[str]:
    """The suspect whose segments spent the most time of their own (rows of `traces.time_by_service`):
    a proxy's segment is named ``mesh/node``, a service's by its service name."""
    for row in rows:
        name = str(row.get("segment", ""))
        node = name.split("/", 1)[1] if "/" in name else name
        matches = [s for s in suspects if s == node or s.startswith(node)]
        if matches:
            return matches[0]
    return None


def confirm_fix(session: Any, seconds: float = 20, *, show: bool = True, timeout: float = 40) -> dict:
    """Traffic for `seconds` (at least 20: two whole 10 s periods) after the fix, then, from the ALB's
    metrics in the 10 s periods wholly inside that time, the worst period's share of requests slower
    than the latency objective, and its p99; recorded. The ALB publishes a period's metrics a few
    seconds after it ends: they are read until they arrive (at most `timeout` seconds)."""
    began = time.time()
    wait_traffic(start_traffic(session, max(seconds, 20)))
    ended, lb = time.time(), load_balancer_dimension(session)
    deadline = time.monotonic() + timeout
    share = None
    while share is None and time.monotonic() < deadline:
        time.sleep(2)
        share = slo.bad_share(session, "latency", lb, began, ended, latency_seconds=LATENCY_SECONDS, show=show)
        show = False
    begin = -(-began // 10) * 10
    p99 = metrics.series(session, [{"Id": "p99", "MetricStat": {"Metric": {
        "Namespace": "AWS/ApplicationELB", "MetricName": "TargetResponseTime",
        "Dimensions": [{"Name": "LoadBalancer", "Value": lb}]}, "Period": 10, "Stat": "p99"}}],
        begin, ended, show=False).get("p99", [])
    result = {"since": began, "until": ended, "slow_share": share,
              "p99_s": max((v for t, v in p99 if t + 10 <= ended + 1), default=None)}
    record_answer(ABOUT.number, FIX_ANSWER, result, session=session)
    return result


def _recorded(session: Any, key: str) -> Optional[dict]:
    """A JSON answer this lab recorded, or None when it is missing or not a JSON object."""
    return read_json_answer(session, ABOUT.number, key)


def recorded_fix(session: Any) -> Optional[dict]:
    return _recorded(session, FIX_ANSWER)


def window(session: Any, minutes: float = 10) -> tuple[float, float]:
    """The last `minutes`, as (start, end) epoch seconds."""
    now = time.time()
    return now - minutes * 60, now + 1


# ---------------------------------------------------------------- the end state and teardown
def end_state(session: Any) -> None:
    """Lab 09 as the solution leaves it (the notebook's cells, without the pictures)."""
    lab = ABOUT.number
    set_retention(session)
    began = break_enrollment(session)
    try:
        wait_traffic(start_traffic(session, 10))
        time.sleep(3)
        errors_by_route(session, ERRORS_BY_ROUTE, began, show=False)
        alarm = ensure_error_metric(session, lab)
        wait_traffic(start_traffic(session, 10))
        wait_alarm(session, alarm, began)
    finally:
        break_enrollment(session, 0.0)
    put_dashboard(session)
    record_budget(session, AVAILABILITY.budget_minutes())
    ensure_slo_alarms(session, lab)
    if mesh_unavailable(session):
        print(mesh_unavailable(session))
        return
    turn_on_tracing(session, lab)
    start_incident(session, lab)
    wait_traffic(start_traffic(session, 15))
    enroll_a_few(session)
    time.sleep(3)
    start, end = window(session, 2)
    found = xray.time_by_service(session, [r["trace"] for r in xray.slow(session, start, end, show=False)], show=False)
    node = culprit(found, (incident(session) or {}).get("suspects", []))
    blame(session, node)
    fix(session, node, lab)
    confirm_fix(session, show=False)


def teardown(session: Any, execute: bool = False) -> Plan:
    """Lab 09's resources: the alarms (composite first: CloudWatch refuses to delete an alarm a
    composite names), the dashboard, the metric filters, the task roles' X-Ray policy. The services
    keep their traced revisions and the log groups their retention until lab 04's and 06's teardowns
    remove them; X-Ray's traces expire by themselves (30 days)."""
    cw, logs, iam = session.client("cloudwatch"), session.client("logs"), session.client("iam")
    actions: list[Action] = []
    composite = session.name(SLO_ALARM)
    if cw.describe_alarms(AlarmNames=[composite], AlarmTypes=["CompositeAlarm"]).get("CompositeAlarms"):
        actions.append(Action("CloudWatch composite alarm", composite, lambda: cw.delete_alarms(AlarmNames=[composite])))
    names = [session.name(ERROR_ALARM)] + [a["AlarmName"] for a in _slo_alarm_names(session)]
    existing = [a["AlarmName"] for i in range(0, len(names), 100)
                for a in cw.describe_alarms(AlarmNames=names[i:i + 100]).get("MetricAlarms", [])]
    for name in existing:
        actions.append(Action("CloudWatch alarm", name, lambda name=name: cw.delete_alarms(AlarmNames=[name])))
    dashboard = session.name(DASHBOARD)
    if any(d["DashboardName"] == dashboard for d in cw.list_dashboards(DashboardNamePrefix=dashboard).get("DashboardEntries", [])):
        actions.append(Action("CloudWatch dashboard", dashboard, lambda: cw.delete_dashboards(DashboardNames=[dashboard])))
    for service in SERVICES:
        group = ms.log_group(session, service)
        try:
            filters = logs.describe_metric_filters(logGroupName=group, filterNamePrefix=ERROR_FILTER).get("metricFilters", [])
        except logs.exceptions.ResourceNotFoundException:
            filters = []
        if any(f["filterName"] == ERROR_FILTER for f in filters):
            actions.append(Action("metric filter", f"{group}: {ERROR_FILTER}", lambda group=group: logs.delete_metric_filter(
                logGroupName=group, filterName=ERROR_FILTER)))
    if session.is_emulator:
        task_roles = sorted({(td.get("taskRoleArn") or "").rsplit("/", 1)[-1] for _, td in meshed_services(session)} - {""})
        for role in task_roles:
            if lookup.role(iam, role) is not None and XRAY_POLICY in iam.list_role_policies(RoleName=role)["PolicyNames"]:
                actions.append(Action("role policy", f"{role}/{XRAY_POLICY}", lambda role=role: iam.delete_role_policy(
                    RoleName=role, PolicyName=XRAY_POLICY)))
    return Plan(actions).run(execute)


def _slo_alarm_names(session: Any) -> list[dict]:
    prefix = session.prefix
    return [{"AlarmName": slo.alarm_name(prefix, objective, seconds)} for objective in (AVAILABILITY, LATENCY)
            for w in slo.PAGE_WINDOWS for seconds in (w.long_seconds, w.short_seconds)]
