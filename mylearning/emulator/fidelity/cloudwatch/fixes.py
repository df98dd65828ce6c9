"""moto 5.2 CloudWatch fixes, applied once, on the first CloudWatch call this emulator answers.

* Percentile statistics (`percentiles.fix_percentiles`), and GetMetricData computed from the
  stored datapoints, metric math included (`metric_data.fix_get_metric_data`).
* The alarm store behaves as API_PutMetricAlarm.html and API_PutCompositeAlarm.html say:
  "When this operation creates an alarm, the alarm state is immediately set to
  INSUFFICIENT_DATA" (moto: OK); "When you update an existing alarm, its state is left
  unchanged" (moto: reset) and tags given on an update "are ignored" (moto: applied).
  Each create, update and delete is recorded in the alarm history (`history`), and so is each
  state change (SetAlarmState), after which the composite alarms that read the alarm are
  evaluated again (`composite`). A metric alarm starts the alarm evaluator (`evaluator`), and
  SetAlarmState's state lasts until its next comparison.
* DescribeAlarms filters as API_DescribeAlarms.html says: AlarmTypes ("If you omit this
  parameter, only metric alarms are returned, even if composite alarms ... exist"; moto
  returns both), ChildrenOfAlarmName and ParentsOfAlarmName (moto ignores them), the other
  filters together (moto applies only the first it finds), sorted by name and paged by
  MaxRecords/NextToken.

Each patch is marked, so applying the fixes twice changes nothing.
"""
from __future__ import annotations

from typing import Any

from mylearning.emulator.fidelity.cloudwatch import composite, evaluator, history
from mylearning.emulator.fidelity.cloudwatch.common import LOCK, SERVICE, alarm_name
from mylearning.emulator.fidelity.cloudwatch.metric_data import fix_get_metric_data
from mylearning.emulator.fidelity.cloudwatch.percentiles import fix_percentiles
from mylearning.emulator.fidelity.core import moto_fixes

MARK = "_mylearning_alarms"
MAX_RECORDS = 100
#: What an update keeps of the alarm it replaces: its state, and when it is next evaluated
#: (`evaluator`), so an update neither resets the state nor brings its next comparison forward.
_STATE = ("state_value", "state_reason", "state_reason_data", "state_updated_timestamp",
          "state_transitioned_timestamp", "history", "_ml_due")


def _marked(fn: Any) -> Any:
    setattr(fn, MARK, True)
    return fn


def fix_alarm_store() -> None:
    from moto.cloudwatch.models import CloudWatchBackend

    if getattr(CloudWatchBackend.put_metric_alarm, MARK, False):
        return
    put, set_state, delete = (CloudWatchBackend.put_metric_alarm, CloudWatchBackend.set_alarm_state,
                              CloudWatchBackend.delete_alarms)

    @_marked
    def put_metric_alarm(self, *args: Any, **kwargs: Any):
        name = kwargs.get("name", args[0] if args else None)
        with LOCK:
            original = self.alarms.get(name)
            if original is not None:
                kwargs["tags"] = None
            alarm = put(self, *args, **kwargs)
            if original is not None:
                for attr in _STATE:
                    if hasattr(original, attr):
                        setattr(alarm, attr, getattr(original, attr))
                history.record_config(self.region_name, alarm, "Update", original)
            else:
                alarm.state_value = "INSUFFICIENT_DATA"
                alarm.state_reason = "Unchecked: Initial alarm creation"
                alarm.state_transitioned_timestamp = alarm.state_updated_timestamp
                history.record_config(self.region_name, alarm, "Create")
        if alarm.rule is None:
            evaluator.ensure_started()
        return alarm

    @_marked
    def set_alarm_state(self, alarm_name: str, reason: str, reason_data: str, state_value: str) -> None:
        with LOCK:
            alarm = self.alarms.get(alarm_name)
            before = (alarm.state_value, alarm.state_reason) if alarm is not None else None
            set_state(self, alarm_name, reason, reason_data, state_value)
            if alarm is not None:
                if alarm.rule is None:
                    evaluator.state_was_set(alarm)
                composite.state_changed(self, self.region_name, alarm, *before)

    @_marked
    def delete_alarms(self, alarm_names: list[str]) -> None:
        with LOCK:
            going = [self.alarms[n] for n in dict.fromkeys(alarm_names) if n in self.alarms]
            delete(self, alarm_names)
            for alarm in going:
                if alarm.name not in self.alarms:
                    history.record_config(self.region_name, alarm, "Delete")

    CloudWatchBackend.put_metric_alarm = put_metric_alarm
    CloudWatchBackend.set_alarm_state = set_alarm_state
    CloudWatchBackend.delete_alarms = delete_alarms


def _action_prefix(alarm, prefix: str) -> bool:
    actions = [*alarm.alarm_actions, *alarm.ok_actions, *alarm.insufficient_data_actions]
    return any(a.startswith(prefix) for a in actions)


def fix_describe_alarms() -> None:
    from moto.cloudwatch.responses import CloudWatchResponse
    from moto.core.exceptions import ServiceException
    from moto.core.responses import ActionResult

    if getattr(CloudWatchResponse.describe_alarms, MARK, False):
        return

    @_marked
    def describe_alarms(self) -> ActionResult:
        b = self.cloudwatch_backend
        get = self._get_param
        with LOCK:
            alarms = sorted(b.alarms.values(), key=lambda a: a.name)
            children_of, parents_of = get("ChildrenOfAlarmName"), get("ParentsOfAlarmName")
            if children_of:
                parent = b.alarms.get(children_of)
                names = composite.children(parent) if parent is not None and parent.rule else []
                alarms = [b.alarms[n] for n in names if n in b.alarms]
                fields: tuple[str, ...] | None = ("AlarmName", "AlarmArn", "StateValue",
                                                  "StateUpdatedTimestamp")
            elif parents_of:
                name = alarm_name(parents_of)
                alarms = [a for a in alarms if a.rule is not None and name in composite.children(a)]
                fields = ("AlarmName", "AlarmArn")
            else:
                fields = None
                wanted_names = get("AlarmNames") or []
                prefix, state, action = get("AlarmNamePrefix"), get("StateValue"), get("ActionPrefix")
                types = get("AlarmTypes") or ["MetricAlarm"]
                alarms = [a for a in alarms
                          if (not wanted_names or a.name in wanted_names)
                          and (not prefix or a.name.startswith(prefix))
                          and (not state or a.state_value == state)
                          and (not action or _action_prefix(a, action))
                          and history.alarm_type(a) in types]
        token, limit = get("NextToken"), get("MaxRecords") or MAX_RECORDS
        offset = 0
        if token:
            text = str(token)
            offset = int(text[7:]) if text.startswith("alarms-") and text[7:].isdigit() else -1
            if not 0 <= offset <= len(alarms):
                raise ServiceException("InvalidNextToken", "The service couldn't process the NextToken.")
        page = alarms[offset:offset + int(limit)]

        def shown(alarm) -> Any:
            if fields is None:
                return alarm
            full = {"AlarmName": alarm.name, "AlarmArn": alarm.alarm_arn, "StateValue": alarm.state_value,
                    "StateUpdatedTimestamp": alarm.state_updated_timestamp}
            return {k: full[k] for k in fields}
        result: dict[str, Any] = {
            "MetricAlarms": [shown(a) for a in page if a.rule is None],
            "CompositeAlarms": [shown(a) for a in page if a.rule is not None]}
        if offset + int(limit) < len(alarms):
            result["NextToken"] = f"alarms-{offset + int(limit)}"
        return ActionResult(result)

    CloudWatchResponse.describe_alarms = describe_alarms


moto_fixes(SERVICE, fix_percentiles, fix_get_metric_data, fix_alarm_store, fix_describe_alarms)
