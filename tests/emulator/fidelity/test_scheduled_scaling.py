"""Scheduled actions that run: the schedule grammar and its firing times (unit tests, hand-computed),
then a real emulator whose clock runs 60 times faster (rate(1 minute) is 1 s; at() is wall-clock),
without a data plane: an action raises MinCapacity and the service's desired count follows."""
from __future__ import annotations

import datetime
import math
import time
import zoneinfo

import boto3
import pytest

from conftest import EmulatorProcess
from mylearning.emulator.fidelity.applicationautoscaling import schedules
from mylearning.emulator.fidelity.applicationautoscaling.scheduled import next_run

UTC = datetime.timezone.utc
NEW_YORK = "America/New_York"
DIMENSION = "ecs:service:DesiredCount"


def _t(text: str) -> float:
    return datetime.datetime.fromisoformat(text).timestamp()


def _next(expression: str, after: str, zone: str | None = None) -> str | None:
    tz = schedules.zone(zone)
    fires = schedules.parse(expression).next_after(_t(after), tz)
    return None if fires is None else datetime.datetime.fromtimestamp(fires, tz).isoformat()


# ---------------------------------------------------------------- cron, by hand

@pytest.mark.parametrize("expression, after, expected", [
    # 2026-07-04 is a Saturday: the next weekday 18:00 is Monday the 6th.
    ("cron(0 18 ? * MON-FRI *)", "2026-07-04T12:00:00+00:00", "2026-07-06T18:00:00+00:00"),
    # Strictly after: at 18:00 exactly, the next is the day after.
    ("cron(0 18 ? * MON-FRI *)", "2026-07-06T18:00:00+00:00", "2026-07-07T18:00:00+00:00"),
    # Every 15 minutes from 0; lists; ranges that wrap past midnight.
    ("cron(0/15 * * * ? *)", "2026-07-04T12:07:00+00:00", "2026-07-04T12:15:00+00:00"),
    ("cron(5,35 * * * ? *)", "2026-07-04T12:06:00+00:00", "2026-07-04T12:35:00+00:00"),
    ("cron(0 22-2 * * ? *)", "2026-07-04T02:30:00+00:00", "2026-07-04T22:00:00+00:00"),
    ("cron(10-50/20 8 * * ? *)", "2026-07-04T08:31:00+00:00", "2026-07-04T08:50:00+00:00"),
    # L: the last day of the month, in the year field's year only.
    ("cron(15 10 L * ? 2027)", "2026-07-04T12:00:00+00:00", "2027-01-31T10:15:00+00:00"),
    ("cron(0 0 L 2 ? *)", "2027-03-01T00:00:00+00:00", "2028-02-29T00:00:00+00:00"),
    # 2#1: the first Monday (July 2026 starts on a Wednesday).
    ("cron(0 8 ? * 2#1 *)", "2026-07-01T00:00:00+00:00", "2026-07-06T08:00:00+00:00"),
    # 6L: the month's last Friday; LW: its last weekday (31 May 2026 is a Sunday).
    ("cron(0 0 ? * 6L *)", "2026-05-01T00:00:00+00:00", "2026-05-29T00:00:00+00:00"),
    ("cron(0 0 LW * ? *)", "2026-05-01T00:00:00+00:00", "2026-05-29T00:00:00+00:00"),
    # 15W: 15 August 2026 is a Saturday, so Friday the 14th; 1W on Saturday 1 August is Monday the 3rd.
    ("cron(0 0 15W * ? *)", "2026-08-01T00:00:00+00:00", "2026-08-14T00:00:00+00:00"),
    ("cron(0 0 1W 8 ? *)", "2026-07-01T00:00:00+00:00", "2026-08-03T00:00:00+00:00"),
    # L alone in day-of-week is Saturday; names in any case.
    ("cron(0 9 ? * L *)", "2026-07-01T00:00:00+00:00", "2026-07-04T09:00:00+00:00"),
    ("cron(0 9 ? jul sun *)", "2026-07-01T00:00:00+00:00", "2026-07-05T09:00:00+00:00"),
    # 30 February never comes.
    ("cron(0 0 30 2 ? *)", "2026-01-01T00:00:00+00:00", None),
])
def test_cron_next_firing(expression, after, expected):
    assert _next(expression, after) == expected


def test_cron_in_a_time_zone_follows_daylight_saving_time():
    # The lab's evening peak: 17:45 New York time is 21:45 UTC in summer, 22:45 UTC in winter.
    assert _next("cron(45 17 ? * MON-FRI *)", "2026-07-06T20:00:00+00:00", NEW_YORK) == \
        "2026-07-06T17:45:00-04:00"
    summer = schedules.parse("cron(45 17 ? * MON-FRI *)").next_after(
        _t("2026-07-06T20:00:00+00:00"), schedules.zone(NEW_YORK))
    assert summer == _t("2026-07-06T21:45:00+00:00")
    winter = schedules.parse("cron(45 17 ? * MON-FRI *)").next_after(
        _t("2026-12-07T20:00:00+00:00"), schedules.zone(NEW_YORK))
    assert winter == _t("2026-12-07T22:45:00+00:00")
    # 02:30 does not exist on 8 March 2026 in New York: read with the old offset, it is 03:30 EDT.
    assert _next("cron(30 2 * * ? *)", "2026-03-08T00:00:00-05:00", NEW_YORK) == "2026-03-08T03:30:00-04:00"
    # 01:30 happens twice on 1 November 2026: the action runs once, then the next day.
    first = schedules.parse("cron(30 1 * * ? *)").next_after(_t("2026-11-01T00:00:00-04:00"),
                                                             schedules.zone(NEW_YORK))
    assert first == _t("2026-11-01T01:30:00-04:00")
    again = schedules.parse("cron(30 1 * * ? *)").next_after(first, schedules.zone(NEW_YORK))
    assert again == _t("2026-11-02T01:30:00-05:00")


@pytest.mark.parametrize("expression", [
    "at(2027-01-31T23:59:59)", "at(2020-12-08T9:36:00)", "rate(1 minute)", "rate(15 minutes)",
    "rate(2 hours)", "rate(1 days)", "cron(0 18 ? * MON-FRI *)", "cron(15 10 L * ? 2027)",
    "cron(0/15 * * * ? *)", "cron(0 8 ? * 2#1 *)", "cron(0 0 LW * ? *)", "cron(0 0 15W * ? *)",
    "cron(0 1 ? * FRI-MON *)", "cron(30 6 ? * MON *)", "cron(0 0 1 JAN-MAR ? 2026-2030)",
])
def test_documented_forms_parse(expression):
    assert schedules.error(expression) is None


@pytest.mark.parametrize("expression, says", [
    ("cron(0 18 * * * *)", "must be ?"),            # neither day field is ?
    ("cron(0 18 ? * ? *)", "must be ?"),            # both are
    ("cron(60 * * * ? *)", "outside 0-59"),
    ("cron(0 24 * * ? *)", "outside 0-23"),
    ("cron(0 0 32 * ? *)", "outside 1-31"),
    ("cron(0 0 ? * 8 *)", "outside 1-7"),
    ("cron(0 0 ? * FUN *)", "FUN"),
    ("cron(0 0 ? * 2#6 *)", "1 to 5"),
    ("cron(0 0 L,15 * ? *)", "stands alone"),
    ("cron(*/0 * * * ? *)", "positive integer"),
    ("cron(0 0 * * ? 2200)", "outside 1970-2199"),
    ("cron(0 0 ? * MON-FRI)", "6 fields"),
    ("rate(5 weeks)", "weeks"),
    ("rate(0 minutes)", "positive integer"),
    ("at(2026-02-30T22:00:00)", "do not exist"),
    ("at(2026-12-01T22:00)", "yyyy-mm-ddThh:mm:ss"),
    ("every night", "at(yyyy-mm-ddThh:mm:ss)"),
])
def test_malformed_expressions_say_why(expression, says):
    assert says in (schedules.error(expression) or "")


# ---------------------------------------------------------------- next_run: rate, at, bounds

def test_rate_intervals_are_waits_divided_by_the_time_scale(monkeypatch):
    monkeypatch.setenv("MYLEARNING_TIME_SCALE", "10")
    put = 1_000_000.0
    assert next_run("rate(1 minute)", None, None, None, put, put) == put + 6     # 60 s / 10
    assert next_run("rate(1 minute)", None, None, None, put, put + 6) == put + 12
    assert next_run("rate(2 hours)", None, None, None, put, put + 1) == put + 720
    # A late look runs once, then keeps the rhythm.
    assert next_run("rate(1 minute)", None, None, None, put, put + 20) == put + 24


def test_at_is_wall_clock_time_in_its_time_zone(monkeypatch):
    monkeypatch.setenv("MYLEARNING_TIME_SCALE", "60")  # no effect on at()
    put = _t("2026-07-06T00:00:00+00:00")
    assert next_run("at(2026-07-06T09:00:00)", None, None, None, put, put) == _t("2026-07-06T09:00:00+00:00")
    assert next_run("at(2026-07-06T09:00:00)", "Asia/Tokyo", None, None, put, put) is None  # = the put
    assert next_run("at(2026-07-06T10:00:00)", "Asia/Tokyo", None, None, put, put) == _t("2026-07-06T01:00:00+00:00")
    # Once, and never when its time had passed at put time.
    assert next_run("at(2026-07-06T09:00:00)", None, None, None, put, _t("2026-07-06T09:00:00+00:00")) is None
    assert next_run("at(2026-07-05T09:00:00)", None, None, None, put, put) is None


def test_start_time_runs_first_and_end_time_stops_the_recurrence(monkeypatch):
    monkeypatch.setenv("MYLEARNING_TIME_SCALE", "1")
    put = _t("2026-07-06T00:00:00+00:00")
    start = _t("2026-07-06T06:10:00+00:00")
    # "performs the action at this time, and then performs the action based on the recurrence"
    assert next_run("cron(0 * * * ? *)", None, start, None, put, put) == start
    assert next_run("cron(0 * * * ? *)", None, start, None, put, start, ran_start=True) == \
        _t("2026-07-06T07:00:00+00:00")
    assert next_run("rate(1 hour)", None, start, None, put, start, ran_start=True) == start + 3600
    # A start time already past when the action was put: only the recurrence, and none before it.
    early = _t("2026-07-05T00:00:00+00:00")
    assert next_run("cron(0 * * * ? *)", None, early, None, put, put) == _t("2026-07-06T01:00:00+00:00")
    # "the action stops repeating after this time"
    end = _t("2026-07-06T02:30:00+00:00")
    assert next_run("cron(0 * * * ? *)", None, None, end, put, _t("2026-07-06T02:00:00+00:00")) is None
    assert next_run("cron(0 * * * ? *)", None, None, end, put, put) == _t("2026-07-06T01:00:00+00:00")
    assert next_run("rate(1 hour)", None, None, put - 1, put, put) is None


# ---------------------------------------------------------------- a running emulator

@pytest.fixture(scope="module")
def fast():
    emulator = EmulatorProcess("--no-dataplane", env={"MYLEARNING_TIME_SCALE": "60"})
    yield emulator
    emulator.stop()


@pytest.fixture(scope="module")
def clients(fast):
    session = boto3.Session(aws_access_key_id="t", aws_secret_access_key="t", region_name="us-east-1")
    ecs, aas = (session.client(n, endpoint_url=fast.url) for n in ("ecs", "application-autoscaling"))
    ecs.create_cluster(clusterName="c")
    ecs.register_task_definition(family="f", containerDefinitions=[
        {"name": "app", "image": "public.ecr.aws/mylearning/courses-api:1.1.0", "memory": 128}])
    return ecs, aas


def _service(clients, name: str, desired: int = 1, low: int = 1, high: int = 6, **target) -> str:
    ecs, aas = clients
    ecs.create_service(cluster="c", serviceName=name, taskDefinition="f", desiredCount=desired)
    resource = f"service/c/{name}"
    aas.register_scalable_target(ServiceNamespace="ecs", ResourceId=resource, ScalableDimension=DIMENSION,
                                 MinCapacity=low, MaxCapacity=high, **target)
    return resource


def _desired(clients, name: str) -> int:
    return clients[0].describe_services(cluster="c", services=[name])["services"][0]["desiredCount"]


def _bounds(clients, resource: str) -> tuple[int, int]:
    target = clients[1].describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[resource])[
        "ScalableTargets"][0]
    return target["MinCapacity"], target["MaxCapacity"]


def _activities(clients, resource: str) -> list[dict]:
    return clients[1].describe_scaling_activities(ServiceNamespace="ecs", ResourceId=resource)["ScalingActivities"]


def _wait_for(condition, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    return condition()


def _at_soon(zone: str = "UTC", seconds: int = 2) -> tuple[str, float]:
    """An at() expression a few whole seconds ahead in `zone`, and its epoch time."""
    moment = math.floor(time.time()) + seconds + 1
    local = datetime.datetime.fromtimestamp(moment, zoneinfo.ZoneInfo(zone))
    return f"at({local.strftime('%Y-%m-%dT%H:%M:%S')})", moment


def _put(clients, resource: str, name: str, schedule: str, **fields):
    clients[1].put_scheduled_action(ServiceNamespace="ecs", ScheduledActionName=name, ResourceId=resource,
                                    ScalableDimension=DIMENSION, Schedule=schedule, **fields)


def test_an_at_action_raises_the_minimum_and_scales_the_service_out(clients):
    resource = _service(clients, "at-out")
    schedule, moment = _at_soon()
    _put(clients, resource, "peak", schedule, ScalableTargetAction={"MinCapacity": 4, "MaxCapacity": 6})
    assert _desired(clients, "at-out") == 1, "nothing runs before its time"
    assert _wait_for(lambda: _desired(clients, "at-out") == 4), "desired count rises to the new minimum"
    assert time.time() >= moment - 1  # not before the at() time (whole seconds)
    assert _bounds(clients, resource) == (4, 6)
    scaled, bounds = _activities(clients, resource)[:2]  # newest first
    assert scaled["Description"] == "Setting desired count to 4."
    assert scaled["Cause"] == "minimum capacity was set to 4"
    assert scaled["StatusCode"] == "Successful"
    assert bounds["Description"] == "Setting min capacity to 4 and max capacity to 6"
    assert bounds["Cause"] == "scheduled action name peak was triggered"


def test_an_at_action_in_a_time_zone_lowers_the_maximum_and_scales_in(clients):
    # Tokyo is 9 hours ahead of UTC: read as UTC, this at() would be hours away.
    resource = _service(clients, "at-in", desired=5, low=1, high=8)
    schedule, _ = _at_soon("Asia/Tokyo")
    _put(clients, resource, "night", schedule, Timezone="Asia/Tokyo", ScalableTargetAction={"MaxCapacity": 2})
    assert _wait_for(lambda: _desired(clients, "at-in") == 2)
    assert _bounds(clients, resource) == (1, 2)
    scaled, bounds = _activities(clients, resource)[:2]
    assert (scaled["Description"], scaled["Cause"]) == ("Setting desired count to 2.",
                                                        "maximum capacity was set to 2")
    assert bounds["Description"] == "Setting max capacity to 2"


def test_a_rate_action_repeats(clients):
    ecs, _ = clients
    resource = _service(clients, "rate")
    _put(clients, resource, "floor", "rate(1 minute)", ScalableTargetAction={"MinCapacity": 2})  # 1 s here
    assert _wait_for(lambda: _desired(clients, "rate") == 2)
    ecs.update_service(cluster="c", service="rate", desiredCount=1)  # below the minimum, out of band
    assert _wait_for(lambda: _desired(clients, "rate") == 2), "the next run scales out again"
    runs = [a for a in _activities(clients, resource) if a["Cause"] == "scheduled action name floor was triggered"]
    assert len(runs) >= 2


def test_suspended_ended_and_deleted_actions_do_not_run(clients):
    _, aas = clients
    control = _service(clients, "control")
    suspended = _service(clients, "suspended", SuspendedState={"ScheduledScalingSuspended": True})
    ended = _service(clients, "ended")
    deleted = _service(clients, "deleted")
    schedule, _ = _at_soon()
    _put(clients, suspended, "peak", schedule, ScalableTargetAction={"MinCapacity": 3})
    _put(clients, deleted, "peak", schedule, ScalableTargetAction={"MinCapacity": 3})
    aas.delete_scheduled_action(ServiceNamespace="ecs", ScheduledActionName="peak", ResourceId=deleted,
                                ScalableDimension=DIMENSION)
    past = datetime.datetime.now(UTC) - datetime.timedelta(minutes=5)
    _put(clients, ended, "floor", "rate(1 minute)", EndTime=past, ScalableTargetAction={"MinCapacity": 3})
    _put(clients, control, "peak", schedule, ScalableTargetAction={"MinCapacity": 3})
    # The control's action is due at the same time as the others, and the rate's first run
    # (1 s after it was put, at this scale) would have come before it.
    assert _wait_for(lambda: _desired(clients, "control") == 3)
    for name, resource in [("suspended", suspended), ("ended", ended), ("deleted", deleted)]:
        assert _desired(clients, name) == 1, name
        assert _bounds(clients, resource) == (1, 6), name
        assert _activities(clients, resource) == [], name


def test_invalid_schedules_and_time_zones_are_refused(clients):
    _, aas = clients
    resource = _service(clients, "invalid")
    for schedule in ["cron(0 18 * * * *)", "cron(60 * * * ? *)", "rate(5 weeks)", "at(2026-02-30T22:00:00)",
                     "every night"]:
        with pytest.raises(aas.exceptions.ValidationException) as caught:
            _put(clients, resource, "bad", schedule, ScalableTargetAction={"MinCapacity": 1})
        assert schedule in caught.value.response["Error"]["Message"]
    with pytest.raises(aas.exceptions.ValidationException) as caught:
        _put(clients, resource, "bad", "cron(0 18 ? * MON-FRI *)", Timezone="Mars/Olympus_Mons",
             ScalableTargetAction={"MinCapacity": 1})
    assert "Mars/Olympus_Mons" in caught.value.response["Error"]["Message"]
    assert aas.describe_scheduled_actions(ServiceNamespace="ecs", ResourceId=resource)["ScheduledActions"] == []
    with pytest.raises(aas.exceptions.ObjectNotFoundException):
        aas.delete_scheduled_action(ServiceNamespace="ecs", ScheduledActionName="bad", ResourceId=resource,
                                    ScalableDimension=DIMENSION)
