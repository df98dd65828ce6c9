"""Lab 09's checks name the usual observability mistakes and say how to fix them; on a real account
the mesh steps say plainly why they cannot run there. (Answers are sometimes recorded directly, to
reach a hint the lab's own helpers never produce.)"""
from __future__ import annotations

import json
import time

import boto3

from mylearning import answers, course, prepare
from mylearning import microservices as ms
from mylearning.backend import CourseSession
from mylearning.course import lab09_observability as lab

LAB = "09"


def _step(session, step_id):
    return course.lab_of_step(step_id).evaluate(session, [step_id]).results[0]


def test_on_a_real_account_the_mesh_steps_say_why_and_call_nothing():
    real = CourseSession(boto3.Session(region_name="us-east-1", aws_access_key_id="AKIAEXAMPLE",
                                       aws_secret_access_key="not-used"), "aws", None, "t")
    report = course.grader(LAB).evaluate(real, ["9.6", "9.7", "9.8"])
    assert report.total == 0 and len(report.results) == 3
    for result in report.results:
        assert "end of support on 2026-09-30" in result.message and "embedded AWS" in result.hint
    assert lab.mesh_unavailable(real) and course.grader(LAB).max_total == 18


def test_lab09_mistakes_get_named_and_its_teardown_removes_what_it_made(session):
    prepare.up_to(session, LAB, quiet=True)
    logs, cw = session.client("logs"), session.client("cloudwatch")

    # 9.1: the access logs kept as long as the services' logs; then a group that never expires.
    result = _step(session, "9.1")
    assert not result.passed and "access logs" in result.message and "7 days" in result.hint
    lab.set_retention(session)
    logs.delete_retention_policy(logGroupName=ms.log_group(session, "enrollment"))
    result = _step(session, "9.1")
    assert not result.passed and "never expires" in result.message and "put_retention_policy" in result.hint
    lab.set_retention(session)
    assert _step(session, "9.1").passed

    # 9.2: no query; a query whose first row is not the worst route; then the lab's query.
    assert "has not run yet" in _step(session, "9.2").message
    since = lab.break_enrollment(session)
    lab.wait_traffic(lab.start_traffic(session, 8))
    time.sleep(3)
    answers.record_answer(LAB, lab.QUERY_ANSWER, {"query": "filter status >= 500 | stats count(*) as n by path | sort path asc",
                                                  "since": since, "until": time.time(), "top": "/api/courses"},
                          session=session)
    result = _step(session, "9.2")
    assert not result.passed and "most 5xx came from '/api/enrollments'" in result.message and "desc" in result.hint
    rows = lab.errors_by_route(session, lab.ERRORS_BY_ROUTE, since, show=False)
    assert rows[0]["path"] == "/api/enrollments" and int(rows[0]["errors"]) > 0
    assert _step(session, "9.2").passed, _step(session, "9.2").to_text()

    # 9.3: a filter that counts every line; then the lab's filter, its alarm, errors flowing.
    for service in lab.SERVICES:
        logs.put_metric_filter(logGroupName=ms.log_group(session, service), filterName=lab.ERROR_FILTER, filterPattern="",
                               metricTransformations=[{"metricName": lab.ERROR_METRIC,
                                                       "metricNamespace": lab.ERROR_NAMESPACE, "metricValue": "1"}])
    result = _step(session, "9.3")
    assert not result.passed and "matches 2 of an ERROR line and an INFO line" in result.message
    began = time.time()
    alarm = lab.ensure_error_metric(session)
    lab.wait_traffic(lab.start_traffic(session, 8))
    assert lab.wait_alarm(session, alarm, began - 1)
    assert _step(session, "9.3").passed, _step(session, "9.3").to_text()
    lab.break_enrollment(session, 0.0)

    # 9.4: a dashboard without saturation; then the golden signals.
    body = lab.golden_signals_body(session)
    body["widgets"] = body["widgets"][:3]
    cw.put_dashboard(DashboardName=session.name(lab.DASHBOARD), DashboardBody=json.dumps(body))
    result = _step(session, "9.4")
    assert not result.passed and "does not show saturation" in result.message and "CPUUtilization" in result.hint
    lab.put_dashboard(session)
    assert _step(session, "9.4").passed

    # 9.5: a budget ten times too big; no alarms; one threshold wrong; no composite; then all of it.
    lab.record_budget(session, 43.2)
    result = _step(session, "9.5")
    assert not result.passed and "43.2 minutes" in result.message and "0.0001" in result.hint
    lab.record_budget(session, 4.32)
    assert "no burn-rate alarm" in _step(session, "9.5").message
    for arguments in lab.slo_alarms(session):
        cw.put_metric_alarm(**arguments)
    wrong = dict(lab.slo_alarms(session)[0], Threshold=0.0001)
    cw.put_metric_alarm(**wrong)
    result = _step(session, "9.5")
    assert not result.passed and "threshold is 0.0001, not 14.4 x the budget" in result.message
    cw.put_metric_alarm(**lab.slo_alarms(session)[0])
    assert "no composite alarm" in _step(session, "9.5").message
    lab.ensure_slo_alarms(session)
    assert _step(session, "9.5").passed, _step(session, "9.5").to_text()

    # 9.6: nothing traced yet; then every meshed service, with traffic.
    result = _step(session, "9.6")
    assert not result.passed and "do not send segments to X-Ray" in result.message and "with_xray" in result.hint
    assert set(lab.turn_on_tracing(session)) == {name for name, _ in lab.meshed_services(session)}
    assert lab.turn_on_tracing(session) == []  # already traced: nothing rolls
    lab.wait_traffic(lab.start_traffic(session, 6))
    time.sleep(3)
    assert _step(session, "9.6").passed, _step(session, "9.6").to_text()

    # 9.7: the wrong backend blamed; then the right one, found the way the notebook finds it.
    assert "has not started" in _step(session, "9.7").message
    started = lab.start_incident(session, seed=7)
    (slowed,) = lab.slowed(session)
    innocent = next(s for s in started["suspects"] if s != slowed)
    lab.blame(session, innocent)
    result = _step(session, "9.7")
    assert not result.passed and f"{innocent} is not the backend" in result.message and "own time" in result.hint
    lab.wait_traffic(lab.start_traffic(session, 8))
    time.sleep(3)
    from mylearning.observe import traces
    start, end = lab.window(session, 1)
    slow = traces.slow(session, start, end, show=False)
    assert slow and all(row["response s"] > 1.0 for row in slow)
    found = lab.culprit(traces.time_by_service(session, [r["trace"] for r in slow][:10], show=False), started["suspects"])
    assert found == slowed
    lab.blame(session, found)
    assert _step(session, "9.7").passed

    # 9.8: not fixed; fixed but not measured; then measured.
    result = _step(session, "9.8")
    assert not result.passed and "still runs with the LATENCY_MS knob" in result.message
    lab.fix(session, found)
    assert lab.slowed(session) == []
    assert "not been measured" in _step(session, "9.8").message
    measured = lab.confirm_fix(session, show=False)
    assert measured["slow_share"] is not None and measured["slow_share"] <= lab.FIXED_SLOW_SHARE, measured
    assert _step(session, "9.8").passed, _step(session, "9.8").to_text()

    # The teardown: the composite first, the alarms, the dashboard, the filters, the X-Ray policies.
    plan = lab.teardown(session, execute=True)
    assert all(action.status == "deleted" for action in plan.actions), str(plan)
    kinds = [action.kind for action in plan.actions]
    assert kinds[0] == "CloudWatch composite alarm" and kinds.count("CloudWatch alarm") == 9
    assert {"CloudWatch dashboard", "metric filter", "role policy"} <= set(kinds)
    assert lab.teardown(session).actions == []
