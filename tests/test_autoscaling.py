"""autoscaling: reading activities back with the alarm behind each, the embedded clock's alarm
minute, and a watch that stops when its condition holds."""
from __future__ import annotations

import datetime

from mylearning import autoscaling
from mylearning.facts import clock


def _activity(cause: str, description: str = "Setting desired count to 4.", status: str = "Successful") -> dict:
    return {"ActivityId": "a1", "Description": description, "Cause": cause, "StatusCode": status,
            "StartTime": datetime.datetime(2026, 12, 1, 12, 0, tzinfo=datetime.timezone.utc)}


def test_a_cause_names_the_alarm_and_the_policy_and_the_alarm_says_which_way():
    alarm = "TargetTracking-service/c/s-AlarmHigh-0a1b2c3d-aaaa-bbbb-cccc-000000000000"
    cause = f"monitor alarm {alarm} in state ALARM triggered policy s-requests"
    found = autoscaling.CAUSE.search(cause)
    assert found.group("alarm") == alarm and found.group("policy") == "s-requests"
    assert autoscaling.is_high(alarm) is True
    assert autoscaling.is_high(alarm.replace("AlarmHigh", "AlarmLow")) is False
    assert autoscaling.is_high("my-own-alarm") is None


def test_scaling_event_reads_direction_count_and_status():
    high = "TargetTracking-service/c/s-AlarmHigh-x"
    event = autoscaling.ScalingEvent(_activity(f"monitor alarm {high} in state ALARM triggered policy p"),
                                     high, "p")
    assert event.scale_out is True and event.desired == 4 and event.succeeded
    assert event.line().startswith("scale-out by p (AlarmHigh): Setting desired count to 4.")
    scheduled = autoscaling.ScalingEvent(_activity("maximum capacity was set to 10", status="Failed"), None, None)
    assert scheduled.scale_out is None and not scheduled.succeeded


def test_alarm_line_shows_each_metric_with_its_newest_datapoint_against_the_threshold():
    alarms = [autoscaling.TrackedAlarm("p", "ALBRequestCountPerTarget", True, "h", "ALARM", 140.0, 182.5),
              autoscaling.TrackedAlarm("p", "ALBRequestCountPerTarget", False, "l", "OK", 126.0, None)]
    assert autoscaling.alarm_line(alarms) == "ALBRequestCountPerTarget: High ALARM (182.5 > 140), Low OK"


def test_the_alarm_minute_follows_the_emulators_clock(session):
    # The test emulator runs with this process's environment, so both read the same scale.
    assert autoscaling.time_scale(session) == clock.time_scale()
    assert autoscaling.alarm_minute(session) == 60 / clock.time_scale()


def test_watch_stops_when_its_condition_holds_and_on_its_timeout(session):
    ecs = session.client("ecs")
    ecs.create_cluster(clusterName=session.name("cluster"))
    ecs.register_task_definition(family=session.name("w"), containerDefinitions=[
        {"name": "app", "image": "public.ecr.aws/docker/library/busybox:1.36", "memory": 64,
         "command": ["sleep", "600"]}])
    ecs.create_service(cluster=session.name("cluster"), serviceName=session.name("w"),
                       taskDefinition=session.name("w"), desiredCount=0)
    lines: list[str] = []
    watched = autoscaling.watch(session, session.name("cluster"), session.name("w"),
                                until=lambda w: w.samples[-1].desired == 0, timeout=10, out=lines.append)
    assert watched.finished and len(watched.samples) == 1 and not watched.events
    assert "desired 0, running 0" in lines[0]
    never = autoscaling.watch(session, session.name("cluster"), session.name("w"), until=lambda w: False,
                              timeout=0.5, every=0.2, out=lines.append)
    assert not never.finished and len(never.samples) >= 2
    assert lines[-1].endswith("stopped watching")
