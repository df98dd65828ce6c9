"""CloudWatch composite alarms, which moto 5.2 lacks (PutCompositeAlarm answers HTTP 500).

A composite alarm is kept in moto's alarm store (an alarm with a ``rule``, as moto's own
DescribeAlarms already tells apart), so DeleteAlarms, SetAlarmState and the tagging
operations work on it unchanged. What AWS does and moto does not, from
API_PutCompositeAlarm.html:

* the rule language (`alarm_rule`): ``ALARM(name)``, ``OK(name)``, ``INSUFFICIENT_DATA(name)``,
  ``TRUE``, ``FALSE``, combined with ``AND``, ``OR``, ``NOT`` and parentheses; a name may be
  quoted, or be the alarm's ARN; at most 10240 characters, 100 children and 500 elements;
* every alarm the rule names must exist ("Could not save the composite alarm as alarms [...]
  in the alarm rule do not exist", ``ValidationError``);
* a new composite alarm starts in ``INSUFFICIENT_DATA`` and is evaluated at once; an update
  keeps its state and is evaluated again; its state follows its children: it is evaluated
  again whenever one of them changes state (SetAlarmState, an evaluation of a metric alarm's
  datapoints by `evaluator`, or another composite's change),
  which can ripple up through composites of composites (a cycle stops, as the API says).

DeleteAlarms (API_DeleteAlarms.html): at most one composite alarm a call, and an alarm a
composite alarm still depends on cannot be deleted.
"""
from __future__ import annotations

import datetime
import json
from typing import Any

from mylearning.emulator.fidelity.cloudwatch import actions, history
from mylearning.emulator.fidelity.cloudwatch.alarm_rule import (RuleError, elements, evaluate, parse,
                                                                references)
from mylearning.emulator.fidelity.cloudwatch.common import (LOCK, SERVICE, backend,
                                                            listed, params, to_bool, to_int, validation)
from mylearning.emulator.fidelity.core import AwsRequest, handler, rule

MAX_RULE = 10240
#: "The AlarmRule can specify as many as 100 "children" alarms. The AlarmRule expression can
#: have as many as 500 elements" (API_PutCompositeAlarm.html, AlarmRule).
MAX_CHILDREN = 100
MAX_ELEMENTS = 500


# ---------------------------------------------------------------- state that follows the children

def children(alarm) -> list[str]:
    try:
        return references(parse(alarm.rule))
    except RuleError:
        return []


def dependents(b, name: str, skip: frozenset = frozenset()) -> list:
    """Composite alarms whose rule names `name`, except those in `skip`."""
    return [a for a in list(b.alarms.values())
            if a.rule is not None and a.name not in skip and name in children(a)]


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def _reason(b, alarm, trigger) -> tuple[str, str]:
    """StateReason and StateReasonData as CloudWatch words them for a composite alarm."""
    triggering = [trigger] if trigger is not None else [
        b.alarms[n] for n in children(alarm) if n in b.alarms]
    data = {"triggeringAlarms": [
        {"arn": c.alarm_arn, "state": {"value": c.state_value,
                                       "timestamp": history.iso(c.state_updated_timestamp)}}
        for c in triggering]}
    if trigger is not None:
        when = _now().strftime("%A %d %B, %Y %H:%M:%S UTC")
        return f"{trigger.alarm_arn} transitioned to {trigger.state_value} at {when}", json.dumps(data)
    return "Alarm rule evaluated after the alarm's configuration changed", json.dumps(data)


def reevaluate(b, region: str, alarm, trigger=None, seen: frozenset = frozenset()) -> None:
    """Set a composite alarm's state from its rule over its children's states; ripple on."""
    try:
        tree = parse(alarm.rule)
    except RuleError:
        return
    states = {name: a.state_value for name, a in b.alarms.items()}
    wanted = "ALARM" if evaluate(tree, states) else "OK"
    if wanted != alarm.state_value:
        reason, data = _reason(b, alarm, trigger)
        change_state(b, region, alarm, wanted, reason, data, seen | {alarm.name})


def change_state(b, region: str, alarm, value: str, reason: str, data: str,
                 seen: frozenset = frozenset()) -> None:
    old_value, old_reason = alarm.state_value, alarm.state_reason
    alarm.update_state(reason, data, value)
    state_changed(b, region, alarm, old_value, old_reason, seen)


#: Called as ``fn(region, alarm)`` after every change of an alarm's state, under the state
#: lock (ECS watches its deployment alarms this way: `ecs.blue_green`).
_WATCHERS: list = []


def watch(fn) -> None:
    """Have `fn(region, alarm)` called after every alarm state change (once per function)."""
    if fn not in _WATCHERS:
        _WATCHERS.append(fn)


def state_changed(b, region: str, alarm, old_value: str, old_reason: str,
                  seen: frozenset = frozenset()) -> None:
    """After `alarm` went from `old_value` to its state: record it, invoke its actions for the
    new state (`actions`), tell the watchers, and evaluate its parents."""
    if alarm.state_value == old_value:
        return
    alarm.state_transitioned_timestamp = alarm.state_updated_timestamp
    history.record_state(region, alarm, old_value, old_reason)
    actions.state_changed(region, alarm, old_value)
    for fn in list(_WATCHERS):
        fn(region, alarm)
    for parent in dependents(b, alarm.name):
        if parent.name not in seen:
            reevaluate(b, region, parent, trigger=alarm, seen=seen | {alarm.name})


# ---------------------------------------------------------------- PutCompositeAlarm

@rule(SERVICE, "PutCompositeAlarm")
def alarm_rule_valid(req: AwsRequest) -> None:
    """AlarmRule: 1 to 10240 characters, in the rule language (`alarm_rule`), with at most 100
    children and 500 elements, naming only alarms that exist (API_PutCompositeAlarm.html,
    AlarmRule; the error CloudWatch answers for a missing child, "Could not save the composite
    alarm as alarms [...] in the alarm rule do not exist", is ValidationError)."""
    name = params(req).get("AlarmName")
    if not isinstance(name, str) or not 1 <= len(name) <= 255:  # API_PutCompositeAlarm.html
        raise validation("1 validation error detected: Value at 'alarmName' failed to satisfy "
                         "constraint: Member must have length between 1 and 255")
    text = params(req).get("AlarmRule")
    if not isinstance(text, str) or not 1 <= len(text) <= MAX_RULE:
        size = len(text) if isinstance(text, str) else 0
        raise validation(f"1 validation error detected: Value at 'alarmRule' failed to satisfy "
                         f"constraint: Member must have length between 1 and {MAX_RULE} (got {size})")
    try:
        tree = parse(text)
    except RuleError as err:
        raise validation(f"Error in AlarmRule [{err}]") from None
    names = references(tree)
    if len(names) > MAX_CHILDREN:
        raise validation(f"An AlarmRule can specify at most {MAX_CHILDREN} children alarms; "
                         f"this one specifies {len(names)}.")
    if elements(tree) > MAX_ELEMENTS:
        raise validation(f"An AlarmRule can have at most {MAX_ELEMENTS} elements; this one has "
                         f"{elements(tree)}.")
    b = backend(req.region)
    missing = [n for n in names if n not in b.alarms]
    if missing:
        raise validation(f"Could not save the composite alarm as alarms [{', '.join(missing)}] "
                         "in the alarm rule do not exist")


@handler(SERVICE, "PutCompositeAlarm")
def put_composite_alarm(req: AwsRequest) -> tuple[int, Any]:
    """Create or update the composite alarm in moto's store (`fixes` keeps an updated alarm's
    state and records the change in its history), then evaluate it (API_PutCompositeAlarm.html)."""
    p = params(req)
    with LOCK:
        b = backend(req.region)
        alarm = b.put_metric_alarm(
            name=p.get("AlarmName"), namespace=None, metric_name=None, comparison_operator=None,
            evaluation_periods=None, period=None, threshold=None, statistic=None,
            description=p.get("AlarmDescription"), dimensions=[],
            alarm_actions=listed(p.get("AlarmActions")), ok_actions=listed(p.get("OKActions")),
            insufficient_data_actions=listed(p.get("InsufficientDataActions")),
            actions_enabled=to_bool(p.get("ActionsEnabled"), True), rule=p.get("AlarmRule"),
            tags=listed(p.get("Tags")))
        alarm.actions_suppressor = p.get("ActionsSuppressor")
        alarm.actions_suppressor_wait_period = to_int(p.get("ActionsSuppressorWaitPeriod"))
        alarm.actions_suppressor_extension_period = to_int(p.get("ActionsSuppressorExtensionPeriod"))
        reevaluate(b, req.region, alarm)
    return 200, {}


# ---------------------------------------------------------------- DeleteAlarms, DescribeAlarms

@rule(SERVICE, "DeleteAlarms")
def composite_deletions_allowed(req: AwsRequest) -> None:
    """"You can delete up to 100 alarms in one operation. However, this total can include no
    more than one composite alarm", and an alarm a composite alarm depends on cannot be deleted
    while it does (API_DeleteAlarms.html)."""
    names = [n for n in listed(params(req).get("AlarmNames")) if isinstance(n, str)]
    b = backend(req.region)
    with LOCK:
        named = [b.alarms[n] for n in dict.fromkeys(names) if n in b.alarms]
        composites = [a.name for a in named if a.rule is not None]
        if len(composites) > 1:
            raise validation(f"You can delete at most one composite alarm in one DeleteAlarms call; "
                             f"got {len(composites)}: {', '.join(composites)}.")
        for alarm in named:
            if dependents(b, alarm.name, skip=frozenset(names)):
                raise validation(f"Cannot delete {alarm.name} as there are composite alarm(s) "
                                 "depending on it.")


@rule(SERVICE, "DescribeAlarms")
def describe_filters_allowed(req: AwsRequest) -> None:
    """AlarmNamePrefix: "If this parameter is specified, you cannot specify AlarmNames";
    ChildrenOfAlarmName and ParentsOfAlarmName: "you cannot specify any other parameters in the
    request except for MaxRecords and NextToken. If you do so, you receive a validation error"
    (API_DescribeAlarms.html)."""
    p = {k: v for k, v in params(req).items() if v not in (None, [], "")}
    if "AlarmNamePrefix" in p and "AlarmNames" in p:
        raise validation("AlarmNamePrefix and AlarmNames cannot be specified together.")
    for family in ("ChildrenOfAlarmName", "ParentsOfAlarmName"):
        if family in p:
            others = sorted(set(p) - {family, "MaxRecords", "NextToken"})
            if others:
                raise validation(f"{family} cannot be specified with {', '.join(others)}: only "
                                 "MaxRecords and NextToken may go with it.")
