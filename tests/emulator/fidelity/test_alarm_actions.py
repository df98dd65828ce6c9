"""Alarm actions in-process: the handler registry another part (Application Auto Scaling)
plugs into, the history items actions leave, and the evaluator thread's life cycle."""
from __future__ import annotations

import datetime
import time
import uuid
from types import SimpleNamespace

import pytest

from mylearning.emulator.fidelity.cloudwatch import actions, evaluator, history, register_action_handler
from mylearning.emulator.fidelity.core import AwsRequest

REGION = "eu-west-3"
POLICY = ("arn:aws:autoscaling:eu-west-3:123456789012:scalingPolicy:0b1c:resource/ecs/service/"
          "default/catalog:policyName/cpu")


def fake_alarm(state: str = "ALARM", **extra) -> SimpleNamespace:
    name = f"a-{uuid.uuid4().hex[:8]}"
    base = dict(name=name, alarm_arn=f"arn:aws:cloudwatch:{REGION}:123456789012:alarm:{name}",
                state_value=state, state_reason="Threshold Crossed: test", rule=None, description=None,
                state_updated_timestamp=datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None),
                alarm_actions=[], ok_actions=[], insufficient_data_actions=[], actions_enabled=True,
                metric_name="CPUUtilization", namespace="AWS/ECS", dimensions=[], extended_statistic=None,
                statistic="Average", unit=None, period=60, evaluation_periods=3,
                comparison_operator="GreaterThanThreshold", threshold=70.0, treat_missing_data=None)
    base.update(extra)
    return SimpleNamespace(**base)


def action_items(alarm_name: str) -> list[dict]:
    req = AwsRequest(service="cloudwatch", operation="DescribeAlarmHistory", protocol="json", region=REGION,
                     method="POST", path="/", params={"AlarmName": alarm_name, "HistoryItemType": "Action"})
    return history.describe_alarm_history(req)[1]["AlarmHistoryItems"]


@pytest.fixture(autouse=True)
def only_this_tests_handlers(monkeypatch):
    """The mechanism under test sees only the handlers a test registers (the emulator's own
    Application Auto Scaling handler refuses the fake policies these alarms name)."""
    monkeypatch.setattr(actions, "_HANDLERS", [])


@pytest.fixture
def calls():
    seen: list[tuple] = []
    undo = [register_action_handler("arn:aws:autoscaling:", lambda a, s, r: seen.append((a.name, s, r)))]
    yield seen
    for fn in undo:
        fn()


def test_a_scaling_policy_handler_is_called_once_per_change_outside_the_lock(calls):
    from mylearning.emulator.fidelity.core import STATE

    held: list[bool] = []
    undo = register_action_handler(lambda arn: ":scalingPolicy:" in arn,
                                   lambda a, s, r: held.append(STATE._is_owned()))
    try:
        alarm = fake_alarm(alarm_actions=[POLICY + ":createdBy/1", POLICY + ":createdBy/2"])
        actions.state_changed(REGION, alarm, "OK")
        assert actions.drain()
    finally:
        undo()
    assert calls == [(alarm.name, "ALARM", REGION)]
    assert held == [False]
    assert sorted(i["HistorySummary"] for i in action_items(alarm.name)) == [
        f"Successfully executed action {POLICY}:createdBy/1", f"Successfully executed action {POLICY}:createdBy/2"]


def test_only_the_new_states_actions_and_only_when_enabled(calls):
    alarm = fake_alarm("OK", alarm_actions=[POLICY], ok_actions=[])
    actions.state_changed(REGION, alarm, "ALARM")
    disabled = fake_alarm(alarm_actions=[POLICY], actions_enabled=False)
    actions.state_changed(REGION, disabled, "OK")
    ok = fake_alarm("OK", ok_actions=[POLICY])
    actions.state_changed(REGION, ok, "ALARM")
    assert actions.drain()
    assert calls == [(ok.name, "OK", REGION)]


def test_auto_scaling_actions_repeat_without_history_sns_does_not(calls):
    alarm = fake_alarm(alarm_actions=["arn:aws:sns:eu-west-3:123456789012:pager", POLICY])
    actions.repeat(REGION, alarm)
    actions.repeat(REGION, alarm)
    assert actions.drain()
    assert calls == [(alarm.name, "ALARM", REGION)] * 2
    assert action_items(alarm.name) == []


def test_a_failing_handler_and_a_policy_without_handler_fail_in_the_history():
    alarm = fake_alarm(alarm_actions=[POLICY])

    def broken(a, s, r):
        raise RuntimeError("policy gone")
    undo = register_action_handler(POLICY, broken)
    try:
        actions.state_changed(REGION, alarm, "OK")
        assert actions.drain()
    finally:
        undo()
    item = action_items(alarm.name)[0]
    assert item["HistorySummary"] == f"Failed to execute action {POLICY}"
    assert "policy gone" in item["HistoryData"]
    lonely = fake_alarm(alarm_actions=[POLICY])
    actions.state_changed(REGION, lonely, "OK")
    assert actions.drain()
    assert "no scaling policy" in action_items(lonely.name)[0]["HistoryData"]


def test_sns_notification_reads_like_cloudwatchs():
    alarm = fake_alarm(description="CPU above 70 %")
    note = actions._notification("us-east-1", alarm, "OK")
    assert note["Subject"] == f'ALARM: "{alarm.name}" in US East (N. Virginia)'
    assert '"NewStateValue": "ALARM"' in note["Message"] and '"Statistic": "AVERAGE"' in note["Message"]


def test_the_evaluator_starts_lazily_and_ends_with_a_reset():
    evaluator.ensure_started()
    thread = evaluator._thread
    assert thread is not None and thread.is_alive()
    evaluator._reset()
    deadline = time.monotonic() + 30
    while thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not thread.is_alive()
    assert evaluator._thread is None
