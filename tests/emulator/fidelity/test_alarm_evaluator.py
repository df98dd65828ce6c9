"""Metric alarms that evaluate, through a real emulator whose clock runs 60 times faster
(MYLEARNING_TIME_SCALE=60: a 60 s period is a 1 s window), so a change of state takes a second
or two. Every wait polls with a generous deadline; nothing asserts how fast it was."""
from __future__ import annotations

import json
import time
import uuid
from typing import Callable

import boto3
import pytest

from conftest import EmulatorProcess

SCALE = 60
DEADLINE = 60.0


@pytest.fixture(scope="module")
def fast():
    emulator = EmulatorProcess("--no-dataplane", env={"MYLEARNING_TIME_SCALE": str(SCALE)})
    yield emulator
    emulator.stop()


@pytest.fixture(scope="module")
def clients(fast):
    session = boto3.Session(aws_access_key_id="t", aws_secret_access_key="t", region_name="us-east-1")
    return lambda service: session.client(service, endpoint_url=fast.url)


@pytest.fixture
def cw(clients):
    return clients("cloudwatch")


def name(stem: str) -> str:
    return f"{stem}-{uuid.uuid4().hex[:8]}"


def alarm(cw, alarm_name: str, describe: str = "MetricAlarms") -> dict:
    found = cw.describe_alarms(AlarmNames=[alarm_name], AlarmTypes=["MetricAlarm", "CompositeAlarm"])
    return found[describe][0]


def until(check: Callable[[], object], feed: Callable[[], None] = lambda: None, what: str = "") -> object:
    """Poll `check` (feeding datapoints meanwhile) until it gives something truthy."""
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        feed()
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"not within {DEADLINE} s: {what}")


def feeder(cw, namespace: str, metric: str, value: Callable[[], float], **datum) -> Callable[[], None]:
    return lambda: cw.put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": metric, "Value": value(), **datum}])


def test_alarm_goes_to_alarm_and_back_to_ok_with_history(cw):
    ns, alarm_name, level = name("MyLearning/Eval"), name("cpu-high"), {"v": 90.0}
    dims = [{"Name": "ServiceName", "Value": "catalog"}]
    cw.put_metric_alarm(AlarmName=alarm_name, Namespace=ns, MetricName="CPUUtilization", Dimensions=dims,
                        Statistic="Average", Period=60, EvaluationPeriods=2, DatapointsToAlarm=2,
                        Threshold=70.0, ComparisonOperator="GreaterThanThreshold", Unit="Percent")
    assert alarm(cw, alarm_name)["StateValue"] == "INSUFFICIENT_DATA"
    feed = feeder(cw, ns, "CPUUtilization", lambda: level["v"], Dimensions=dims, Unit="Percent")
    found = until(lambda: (a := alarm(cw, alarm_name))["StateValue"] == "ALARM" and a, feed, "ALARM")
    assert found["StateReason"].startswith("Threshold Crossed: 2 datapoints [90.0 (")
    assert found["StateReason"].endswith("were greater than the threshold (70.0).")
    data = json.loads(found["StateReasonData"])
    assert data["period"] == 60 and data["recentDatapoints"] == [90.0, 90.0] and data["unit"] == "Percent"
    level["v"] = 10.0
    found = until(lambda: (a := alarm(cw, alarm_name))["StateValue"] == "OK" and a, feed, "back to OK")
    assert "was not greater than the threshold (70.0)" in found["StateReason"] or \
        "were not greater than the threshold (70.0)" in found["StateReason"]
    items = cw.describe_alarm_history(AlarmName=alarm_name, HistoryItemType="StateUpdate",
                                      ScanBy="TimestampAscending")["AlarmHistoryItems"]
    summaries = [i["HistorySummary"] for i in items]
    assert summaries[:2] == ["Alarm updated from INSUFFICIENT_DATA to ALARM", "Alarm updated from ALARM to OK"]
    first = json.loads(items[0]["HistoryData"])
    assert first["newState"]["stateValue"] == "ALARM" and first["newState"]["stateReasonData"]["period"] == 60
    assert items[0]["Timestamp"] <= items[1]["Timestamp"]


def test_a_metric_of_other_dimensions_or_units_does_not_count(cw):
    ns, alarm_name = name("MyLearning/Eval"), name("other")
    cw.put_metric_alarm(AlarmName=alarm_name, Namespace=ns, MetricName="Errors", Statistic="Sum", Period=60,
                        EvaluationPeriods=1, Threshold=0.0, ComparisonOperator="GreaterThanThreshold",
                        TreatMissingData="notBreaching", Unit="Count")
    other = feeder(cw, ns, "Errors", lambda: 5.0, Dimensions=[{"Name": "A", "Value": "b"}], Unit="Count")
    seconds = feeder(cw, ns, "Errors", lambda: 5.0, Unit="Seconds")
    until(lambda: alarm(cw, alarm_name)["StateValue"] == "OK", lambda: (other(), seconds()), "OK")
    until(lambda: alarm(cw, alarm_name)["StateValue"] == "ALARM",
          feeder(cw, ns, "Errors", lambda: 5.0, Unit="Count"), "ALARM on its own metric")


def test_missing_data_treated_as_breaching(cw):
    alarm_name = name("silent")
    cw.put_metric_alarm(AlarmName=alarm_name, Namespace=name("MyLearning/None"), MetricName="Heartbeat",
                        Statistic="SampleCount", Period=60, EvaluationPeriods=1, Threshold=1.0,
                        ComparisonOperator="LessThanThreshold", TreatMissingData="breaching")
    found = until(lambda: (a := alarm(cw, alarm_name))["StateValue"] == "ALARM" and a, what="ALARM")
    assert found["StateReason"] == ("Threshold Crossed: no datapoints were received for 1 period and "
                                    "1 missing datapoint was treated as [Breaching].")


def test_percentile_alarm_on_values_arrays(cw):
    ns, alarm_name = name("MyLearning/Latency"), name("p99")
    cw.put_metric_alarm(AlarmName=alarm_name, Namespace=ns, MetricName="Latency", ExtendedStatistic="p99",
                        Period=60, EvaluationPeriods=1, Threshold=500.0,
                        ComparisonOperator="GreaterThanOrEqualToThreshold")
    feed = lambda: cw.put_metric_data(Namespace=ns, MetricData=[{  # noqa: E731
        "MetricName": "Latency", "Values": [20.0, 800.0], "Counts": [98.0, 2.0]}])
    found = until(lambda: (a := alarm(cw, alarm_name))["StateValue"] == "ALARM" and a, feed, "p99 ALARM")
    assert "greater than or equal to the threshold (500.0)" in found["StateReason"]
    assert json.loads(found["StateReasonData"])["extendedStatistic"] == "p99"


def test_high_resolution_metric_math_alarm(cw):
    ns, alarm_name = name("MyLearning/Api"), name("error-rate")
    metric = lambda m: {"Namespace": ns, "MetricName": m}  # noqa: E731
    cw.put_metric_alarm(AlarmName=alarm_name, EvaluationPeriods=3, DatapointsToAlarm=2, Threshold=20.0,
                        ComparisonOperator="GreaterThanThreshold", Metrics=[
                            {"Id": "errors", "MetricStat": {"Metric": metric("Errors"), "Period": 10, "Stat": "Sum"},
                             "ReturnData": False},
                            {"Id": "requests", "MetricStat": {"Metric": metric("Requests"), "Period": 10,
                                                              "Stat": "Sum"}, "ReturnData": False},
                            {"Id": "rate", "Expression": "100 * errors / requests", "ReturnData": True}])
    feed = lambda: cw.put_metric_data(Namespace=ns, MetricData=[  # noqa: E731
        {"MetricName": "Errors", "Value": 3.0, "StorageResolution": 1},
        {"MetricName": "Requests", "Value": 10.0, "StorageResolution": 1}])
    found = until(lambda: (a := alarm(cw, alarm_name))["StateValue"] == "ALARM" and a, feed, "ALARM")
    assert "[30.0 (" in found["StateReason"]
    assert json.loads(found["StateReasonData"])["period"] == 10


def test_unsupported_expression_stays_insufficient_and_says_so(cw):
    alarm_name = name("band")
    cw.put_metric_alarm(AlarmName=alarm_name, EvaluationPeriods=1, ThresholdMetricId="ad1",
                        ComparisonOperator="LessThanLowerOrGreaterThanUpperThreshold", Metrics=[
                            {"Id": "m1", "MetricStat": {"Metric": {"Namespace": "N", "MetricName": "M"},
                                                        "Period": 60, "Stat": "Average"}, "ReturnData": True},
                            {"Id": "ad1", "Expression": "ANOMALY_DETECTION_BAND(m1, 2)", "ReturnData": True}])
    found = until(lambda: (a := alarm(cw, alarm_name))["StateReason"].startswith("Unchecked: anomaly") and a,
                  what="reason")
    assert found["StateValue"] == "INSUFFICIENT_DATA"


def test_set_alarm_state_lasts_until_the_next_comparison(cw):
    alarm_name = name("tested")
    cw.put_metric_alarm(AlarmName=alarm_name, Namespace=name("MyLearning/Quiet"), MetricName="M",
                        Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=1.0,
                        ComparisonOperator="GreaterThanThreshold", TreatMissingData="notBreaching")
    until(lambda: alarm(cw, alarm_name)["StateValue"] == "OK", what="OK without data")
    cw.set_alarm_state(AlarmName=alarm_name, StateValue="ALARM", StateReason="testing the pager")
    assert alarm(cw, alarm_name)["StateValue"] == "ALARM"
    until(lambda: alarm(cw, alarm_name)["StateValue"] == "OK", what="OK again")


def test_composite_alarm_follows_an_evaluated_child(cw):
    ns, child, parent, level = name("MyLearning/Eval"), name("child"), name("parent"), {"v": 5.0}
    cw.put_metric_alarm(AlarmName=child, Namespace=ns, MetricName="Errors", Statistic="Maximum", Period=60,
                        EvaluationPeriods=1, Threshold=1.0, ComparisonOperator="GreaterThanThreshold")
    cw.put_composite_alarm(AlarmName=parent, AlarmRule=f"ALARM({child})")
    feed = feeder(cw, ns, "Errors", lambda: level["v"])
    until(lambda: alarm(cw, parent, "CompositeAlarms")["StateValue"] == "ALARM", feed, "composite ALARM")
    level["v"] = 0.0
    until(lambda: alarm(cw, parent, "CompositeAlarms")["StateValue"] == "OK", feed, "composite OK")
    items = cw.describe_alarm_history(AlarmName=parent, HistoryItemType="StateUpdate")["AlarmHistoryItems"]
    assert {i["HistorySummary"] for i in items} >= {"Alarm updated from OK to ALARM",
                                                    "Alarm updated from ALARM to OK"}


def test_sns_action_reaches_an_sqs_subscriber(cw, clients):
    sns, sqs = clients("sns"), clients("sqs")
    topic = sns.create_topic(Name=name("pager"))["TopicArn"]
    queue = sqs.create_queue(QueueName=name("inbox"))["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    alarm_name = name("paged")
    cw.put_metric_alarm(AlarmName=alarm_name, Namespace=name("MyLearning/Quiet"), MetricName="M",
                        Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=1.0,
                        ComparisonOperator="GreaterThanThreshold", TreatMissingData="breaching",
                        AlarmActions=[topic, "arn:aws:automate:us-east-1:ec2:stop"])

    def received():
        return sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=0).get("Messages")
    messages = until(received, what="the notification")
    envelope = json.loads(messages[0]["Body"])
    assert envelope["Subject"] == f'ALARM: "{alarm_name}" in US East (N. Virginia)'
    note = json.loads(envelope["Message"])
    assert note["NewStateValue"] == "ALARM" and note["OldStateValue"] == "INSUFFICIENT_DATA"
    assert note["AlarmName"] == alarm_name and note["Trigger"]["MetricName"] == "M"
    actions = until(lambda: len(items := cw.describe_alarm_history(
        AlarmName=alarm_name, HistoryItemType="Action")["AlarmHistoryItems"]) == 2 and items, what="actions")
    summaries = sorted(i["HistorySummary"] for i in actions)
    assert summaries == ["Failed to execute action arn:aws:automate:us-east-1:ec2:stop",
                         f"Successfully executed action {topic}"]
