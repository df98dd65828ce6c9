"""CloudWatch alarm history, which moto 5.2 lacks (DescribeAlarmHistory answers HTTP 500).

The history is kept here, per region, because "CloudWatch retains the history of an alarm
even if you delete the alarm" (API_DescribeAlarmHistory.html). Items are recorded by
`fixes` as moto's alarm store changes: a ``ConfigurationUpdate`` when an alarm is created,
updated or deleted, a ``StateUpdate`` when its state changes (SetAlarmState, an evaluation of
its datapoints, or a composite alarm following its children), an ``Action`` when a state change
invokes one of its actions. Their shape is API_AlarmHistoryItem.html; ``HistoryData`` is
JSON in CloudWatch's own wording ("version", "type", "createdAlarm", "oldState"...).

DescribeAlarmHistory filters by AlarmName, AlarmTypes (without AlarmName "only metric alarms
are returned" unless asked otherwise), HistoryItemType, StartDate/EndDate (both inclusive),
orders by ScanBy (newest first by default) and pages by MaxRecords/NextToken.
"""
from __future__ import annotations

import datetime
import itertools
import json
from typing import Any

from mylearning.emulator.fidelity.cloudwatch.common import (LOCK, SERVICE, enum, listed, params,
                                                            to_int, validation)
from mylearning.emulator.fidelity.core import AwsError, AwsRequest, handler, on_reset

MAX_RECORDS = 100
_ITEMS: dict[str, list[dict]] = {}
_SEQUENCE = itertools.count()


@on_reset
def _clear() -> None:
    with LOCK:
        _ITEMS.clear()


def iso(moment: Any) -> str | None:
    if not isinstance(moment, datetime.datetime):
        return None
    if moment.tzinfo is None:  # moto keeps naive UTC times
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def alarm_type(alarm) -> str:
    return "CompositeAlarm" if getattr(alarm, "rule", None) is not None else "MetricAlarm"


def _record(region: str, alarm, kind: str, summary: str, data: dict) -> None:
    text = json.dumps(data, default=str)
    if len(text) > 4095:  # HistoryData is at most 4095 characters (API_AlarmHistoryItem.html)
        text = json.dumps({"version": "1.0", "type": data.get("type"), "alarmName": alarm.name})
    with LOCK:
        _ITEMS.setdefault(region, []).append({
            "AlarmName": alarm.name, "AlarmType": alarm_type(alarm),
            "Timestamp": datetime.datetime.now(datetime.timezone.utc), "HistoryItemType": kind,
            "HistorySummary": summary[:255], "HistoryData": text, "_seq": next(_SEQUENCE)})


def configuration(alarm) -> dict:
    """The alarm's configuration as CloudWatch's history shows it (camelCase, set members only)."""
    if alarm_type(alarm) == "CompositeAlarm":
        config = {"alarmName": alarm.name, "alarmRule": alarm.rule,
                  "actionsSuppressor": getattr(alarm, "actions_suppressor", None)}
    else:
        config = {
            "alarmName": alarm.name, "namespace": alarm.namespace, "metricName": alarm.metric_name,
            "dimensions": [{"name": d.name, "value": d.value} for d in alarm.dimensions],
            "statistic": alarm.statistic, "extendedStatistic": alarm.extended_statistic,
            "period": alarm.period, "evaluationPeriods": alarm.evaluation_periods,
            "datapointsToAlarm": alarm.datapoints_to_alarm, "threshold": alarm.threshold,
            "comparisonOperator": alarm.comparison_operator,
            "treatMissingData": alarm.treat_missing_data,
            "thresholdMetricId": alarm.threshold_metric_id,
            "metrics": [{"id": q.id, "expression": q.expression, "returnData": q.return_data}
                        for q in alarm.metric_data_queries] or None}
    config.update({"alarmDescription": alarm.description, "actionsEnabled": alarm.actions_enabled,
                   "alarmActions": alarm.alarm_actions, "okActions": alarm.ok_actions,
                   "insufficientDataActions": alarm.insufficient_data_actions})
    return {k: v for k, v in config.items() if v is not None}


def record_config(region: str, alarm, kind: str, original=None) -> None:
    """kind: "Create", "Update" or "Delete"."""
    verb = {"Create": "created", "Update": "updated", "Delete": "deleted"}[kind]
    data: dict[str, Any] = {"version": "1.0", "type": kind}
    if kind == "Create":
        data["createdAlarm"] = configuration(alarm)
    elif kind == "Update":
        data["updatedAlarm"] = configuration(alarm)
        if original is not None:
            data["originalAlarm"] = configuration(original)
    else:
        data["deletedAlarm"] = configuration(alarm)
    _record(region, alarm, "ConfigurationUpdate", f'Alarm "{alarm.name}" {verb}', data)


def record_state(region: str, alarm, old_value: str, old_reason: str) -> None:
    new_state: dict[str, Any] = {"stateValue": alarm.state_value, "stateReason": alarm.state_reason}
    try:
        reason_data = json.loads(alarm.state_reason_data) if alarm.state_reason_data else None
    except (TypeError, ValueError):
        reason_data = None
    if reason_data:
        new_state["stateReasonData"] = reason_data
    data = {"version": "1.0", "oldState": {"stateValue": old_value, "stateReason": old_reason},
            "newState": new_state}
    _record(region, alarm, "StateUpdate", f"Alarm updated from {old_value} to {alarm.state_value}", data)


def record_action(region: str, alarm, arn: str, ok: bool, detail: str | None = None) -> None:
    """An action the alarm invoked on a state change (`actions`), as CloudWatch's history words
    it: "Successfully executed action ..." or "Failed to execute action ..."."""
    data: dict[str, Any] = {"actionState": "Succeeded" if ok else "Failed",
                            "stateUpdateTimestamp": iso(alarm.state_updated_timestamp),
                            "notificationResource": arn}
    if detail:
        data["error" if not ok else "detail"] = detail
    summary = f"{'Successfully executed' if ok else 'Failed to execute'} action {arn}"
    _record(region, alarm, "Action", summary, data)


# ---------------------------------------------------------------- DescribeAlarmHistory

def _moment(value: Any) -> datetime.datetime | None:
    """A timestamp as JSON (epoch seconds) or the query protocol (ISO 8601) sends it."""
    if value is None or value == "":
        return None
    try:
        return datetime.datetime.fromtimestamp(float(value), datetime.timezone.utc)
    except (TypeError, ValueError):
        pass
    try:
        moment = datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise validation(f"The value {value} is not a valid timestamp.") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.timezone.utc)


def _one_of(value: Any, shape: str, member: str) -> None:
    allowed = enum(shape)
    if value is not None and allowed and value not in allowed:
        raise validation(f"1 validation error detected: Value '{value}' at '{member}' failed to "
                         f"satisfy constraint: Member must satisfy enum value set: [{', '.join(allowed)}]")


@handler(SERVICE, "DescribeAlarmHistory")
def describe_alarm_history(req: AwsRequest) -> tuple[int, Any]:
    """https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarmHistory.html"""
    p = params(req)
    name, kind, scan = p.get("AlarmName"), p.get("HistoryItemType"), p.get("ScanBy")
    types = listed(p.get("AlarmTypes"))
    _one_of(kind, "HistoryItemType", "historyItemType")
    _one_of(scan, "ScanBy", "scanBy")
    for value in types:
        _one_of(value, "AlarmType", "alarmTypes")
    limit = to_int(p.get("MaxRecords")) if p.get("MaxRecords") is not None else MAX_RECORDS
    if limit is None or not 1 <= limit <= MAX_RECORDS:
        raise validation(f"1 validation error detected: Value '{p.get('MaxRecords')}' at "
                         f"'maxRecords' failed to satisfy constraint: Member must be between 1 and {MAX_RECORDS}")
    start, end = _moment(p.get("StartDate")), _moment(p.get("EndDate"))
    if not name and not types:
        types = ["MetricAlarm"]
    with LOCK:
        items = [i for i in _ITEMS.get(req.region, [])
                 if (not name or i["AlarmName"] == name) and (not types or i["AlarmType"] in types)
                 and (not kind or i["HistoryItemType"] == kind)
                 and (start is None or i["Timestamp"] >= start) and (end is None or i["Timestamp"] <= end)]
    items.sort(key=lambda i: (i["Timestamp"], i["_seq"]), reverse=scan != "TimestampAscending")
    offset = 0
    token = p.get("NextToken")
    if token:
        offset = to_int(str(token).removeprefix("history-")) if str(token).startswith("history-") else None
        if offset is None or not 0 <= offset <= len(items):
            raise AwsError("InvalidNextToken", "The service couldn't process the NextToken.", 400)
    page = items[offset:offset + limit]
    answer: dict[str, Any] = {"AlarmHistoryItems": [
        {k: v for k, v in i.items() if not k.startswith("_")} for i in page]}
    if offset + limit < len(items):
        answer["NextToken"] = f"history-{offset + limit}"
    return 200, answer
