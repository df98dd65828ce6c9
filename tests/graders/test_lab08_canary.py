"""Lab 08's checks name the usual canary mistakes and say how to fix them; on a real account they
say plainly why the lab cannot run there. (The analyses themselves run in the solution notebook's
test; here their recorded results are written directly, to reach each hint.)"""
from __future__ import annotations

import json
import time

import boto3

from mylearning import answers, course, prepare, traffic
from mylearning.backend import CourseSession
from mylearning.course import lab06_app_mesh as lab06
from mylearning.course import lab08_canary as lab

LAB = "08"


def _step(session, step_id):
    return course.lab_of_step(step_id).evaluate(session, [step_id]).results[0]


def _run(session, version, **summary):
    answers.record_answer(LAB, lab.RUNS[version], {"version": version, **summary}, session=session)


def test_on_a_real_account_every_check_says_why_and_nothing_is_called(capsys):
    real = CourseSession(boto3.Session(region_name="us-east-1", aws_access_key_id="AKIAEXAMPLE",
                                       aws_secret_access_key="not-used"), "aws", None, "t")
    report = course.grader(LAB).evaluate(real)
    assert report.total == 0 and len(report.results) == 8
    for result in report.results:
        assert "end of support on 2026-09-30" in result.message and "embedded AWS" in result.hint
    assert lab.end_state(real) is None and "end of support" in capsys.readouterr().out
    assert lab.teardown(real).actions == []


def test_lab08_mistakes_get_named_and_its_teardown_removes_what_it_made(session):
    prepare.up_to(session, LAB, quiet=True)
    # 8.1: the gateway does not publish; then it does, but its role may not.
    result = _step(session, "8.1")
    assert not result.passed and "does not send the metrics extension" in result.message
    assert "with_metrics" in result.hint
    assert lab.publish_gateway_metrics(session) is True
    assert lab.publish_gateway_metrics(session) is False  # found, not rolled again
    iam = session.client("iam")
    iam.delete_role_policy(RoleName=lab06.gateway_role_name(session), PolicyName=lab.METRICS_POLICY)
    result = _step(session, "8.1")
    assert not result.passed and "does not allow cloudwatch:PutMetricData" in result.message
    lab.publish_gateway_metrics(session)
    traffic.send(session, lab.base_url(session) + lab.PATH, requests=20, concurrency=4)
    deadline = time.monotonic() + 40
    while not _step(session, "8.1").passed and time.monotonic() < deadline:
        time.sleep(2)
    assert _step(session, "8.1").passed, _step(session, "8.1").to_text()

    # 8.2: no canary yet; then 2.0.0 at weight 0.
    result = _step(session, "8.2")
    assert not result.passed and f"no virtual node {lab.CANARY}" in result.message
    lab.deploy_canary(session, LAB, lab.BAD)
    assert lab.route_weights(session) == {lab.PRIMARY: 100, lab.CANARY: 0}
    assert _step(session, "8.2").passed, _step(session, "8.2").to_text()

    # 8.3: readings without traffic to the canary; 2.0.0 promoted by hand; then rolled back.
    answers.record_answer(LAB, lab.HAND_READING, {lab.CANARY: {"requests": 0, "errors": 0}}, session=session)
    result = _step(session, "8.3")
    assert not result.passed and "received no request" in result.message
    readings = lab.hand_canary(session, seconds=10)
    assert readings[lab.CANARY].requests > 0 and readings[lab.PRIMARY].requests > readings[lab.CANARY].requests
    assert lab.decide(session, "promote") == {lab.PRIMARY: 0, lab.CANARY: 100}
    result = _step(session, "8.3")
    assert not result.passed and "You promoted 2.0.0" in result.message and "rollback" in result.hint
    assert lab.decide(session, "rollback") == {lab.PRIMARY: 100, lab.CANARY: 0}
    assert _step(session, "8.3").passed

    # 8.4: an analysis that promoted 2.0.0, one that judged nothing, one that rolled it back.
    result = _step(session, "8.4")
    assert not result.passed and "No canary analysis of 2.0.0" in result.message and "run_analysis" in result.hint
    _run(session, lab.BAD, phase="Succeeded", max_weight=100, events=["Promotion completed!"])
    assert "ended Succeeded" in _step(session, "8.4").message
    _run(session, lab.BAD, phase="Failed", max_weight=10, failed_checks=2,
         events=["Advance canary weight 10", "Halt advancement: no values found for request-success-rate"] * 2)
    assert "found no metrics" in _step(session, "8.4").message
    _run(session, lab.BAD, phase="Failed", max_weight=25, failed_checks=2, seconds=40,
         events=["Halt advancement: success rate 94.3% < 99%", "Rolling back: failed checks threshold reached 2"])
    assert _step(session, "8.4").passed

    # 8.5: beta routes while the canary still runs 2.0.0; then a beta route tried after the default.
    lab.ensure_beta_routes(session)
    result = _step(session, "8.5")
    assert not result.passed and "runs 2.0.0, not 2.0.1" in result.message
    lab.deploy_canary(session, LAB, lab.GOOD)
    session.client("appmesh").update_route(
        meshName=lab.mesh_name(session), virtualRouterName=lab06.ROUTER, routeName="beta-cookie",
        spec=dict(lab06_route_spec(session, "beta-cookie"), priority=50))
    result = _step(session, "8.5")
    assert not result.passed and "is not tried before" in result.message
    lab.ensure_beta_routes(session)
    seen = lab.ab_test(session, requests=12)
    assert seen["header"] == {lab.GOOD: 12} and seen["cookie"] == {lab.GOOD: 12}
    assert lab.GOOD not in seen["others"]
    assert _step(session, "8.5").passed, _step(session, "8.5").to_text()

    # 8.6: a success recorded while the route still sends everyone to v1.
    _run(session, lab.GOOD, phase="Succeeded", failed_checks=0, seconds=51, events=["Promotion completed!"])
    result = _step(session, "8.6")
    assert not result.passed and "not all traffic" in result.message
    lab.shift(session, 100)
    assert _step(session, "8.6").passed

    # 8.7: no native service yet; then ECS's CANARY strategy and the alarm roll 2.0.0 back.
    result = _step(session, "8.7")
    assert not result.passed and "There is no ECS service" in result.message and "ensure_native_service" in result.hint
    service = lab.ensure_native_service(session)
    assert service["deploymentConfiguration"]["strategy"] == "CANARY"
    assert "No deployment of 2.0.0" in _step(session, "8.7").message
    released = lab.native_release(session, LAB, lab.BAD)
    assert released["status"] == "ROLLBACK_SUCCESSFUL" and released["alarms"] == [session.name(lab.NATIVE_ALARM)]
    assert released["by_version"].get(lab.BAD, 0) > 0  # the canary took real traffic before the rollback
    assert _step(session, "8.7").passed, _step(session, "8.7").to_text()

    # 8.8: no retries yet; then measured without and with them.
    result = _step(session, "8.8")
    assert not result.passed and "does not retry server errors" in result.message
    measured = lab.resilience(session)
    assert measured["without"] < measured["with"] and measured["with"] >= lab.RESILIENCE_TARGET, measured
    assert lab.route_weights(session) == {lab.CANARY: 100, lab.PRIMARY: 0}
    assert _step(session, "8.8").passed, _step(session, "8.8").to_text()

    # The teardown: the beta routes, the canary's target, service, node, Cloud Map service, policies,
    # and step 8.7's service, alarm, rules, target groups and role.
    plan = lab.teardown(session, execute=True)
    assert all(action.status == "deleted" for action in plan.actions), str(plan)
    kinds = {action.kind for action in plan.actions}
    assert {"App Mesh route", "route target", "ECS service", "virtual node", "Cloud Map service",
            "role policy", "CloudWatch alarm", "listener rule", "target group", "IAM role"} <= kinds
    assert lab.route_weights(session) == {lab.PRIMARY: 100}
    assert lab.teardown(session).actions == []
    assert json.loads(answers.read_answer(session, LAB, lab.AB_RESULT))  # answers go with teardown.plan


def lab06_route_spec(session, name):
    from mylearning import lookup
    return lookup.mesh_resource(session, "route", lab.mesh_name(session), name, lab06.ROUTER)["spec"]
