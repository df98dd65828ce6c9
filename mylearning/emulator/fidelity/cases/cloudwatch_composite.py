"""CloudWatch fidelity cases: composite alarms (rules, state that follows the children, deletes,
DescribeAlarms filters) and the alarm history. Metric alarms are in `cloudwatch`."""
from __future__ import annotations

import datetime
from typing import Any, Callable

from mylearning.emulator.fidelity.cases import OK, BehaviourMismatch, Case, Env

API = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/"
INVALID = "ValidationError"
COMPOSITE = "API_PutCompositeAlarm.html"
DESCRIBE = "API_DescribeAlarms.html"
DELETE = "API_DeleteAlarms.html"
HISTORY = "API_DescribeAlarmHistory.html"


def _metric_alarm(env: Env, name: str | None = None) -> str:
    name = name or env.name("child")
    env.client("cloudwatch").put_metric_alarm(
        AlarmName=name, Namespace="MyLearning/Catalog", MetricName="Errors", Statistic="Sum",
        Period=60, EvaluationPeriods=1, Threshold=1.0, ComparisonOperator="GreaterThanThreshold")
    return name


def _composite(env: Env, rule: str, name: str | None = None, **extra: Any) -> str:
    name = name or env.name("slo")
    env.client("cloudwatch").put_composite_alarm(AlarmName=name, AlarmRule=rule, **extra)
    return name


def _state(env: Env, name: str) -> str:
    found = env.client("cloudwatch").describe_alarms(
        AlarmNames=[name], AlarmTypes=["MetricAlarm", "CompositeAlarm"])
    alarms = found["MetricAlarms"] + found["CompositeAlarms"]
    if not alarms:
        raise BehaviourMismatch(f"alarm {name} is not described")
    return alarms[0]["StateValue"]


def _expect(env: Env, name: str, state: str, when: str) -> None:
    got = _state(env, name)
    if got != state:
        raise BehaviourMismatch(f"{when}: {name} is {got}, expected {state}")


def _set(env: Env, name: str, state: str) -> None:
    env.client("cloudwatch").set_alarm_state(AlarmName=name, StateValue=state, StateReason="fidelity")


def _rule(rule: Callable[[str, str], str]) -> Callable[[Env], Any]:
    """A composite alarm over two new metric alarms; `rule(a, b)` writes its rule."""
    def call(env: Env) -> Any:
        return _composite(env, rule(_metric_alarm(env), _metric_alarm(env)))
    return call


def _long_rule(env: Env, length: int) -> str:
    """A rule of exactly `length` characters over one alarm with a long name (few elements):
    ALARM("name") OR ALARM("name") ..., in as many parentheses as it takes to fill up."""
    name = _metric_alarm(env, env.name("c" * 190))
    for cut in range(len(name)):
        term = f'ALARM("{name[cut:]}")'
        count = (length + 4) // (len(term) + 4)
        pad = length - (count * (len(term) + 4) - 4)
        if pad % 2 == 0:
            break
    if cut:
        _metric_alarm(env, name[cut:])
    return "(" * (pad // 2) + " OR ".join([term] * count) + ")" * (pad // 2)


def _many_children(count: int) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        return _composite(env, " OR ".join(f"ALARM({_metric_alarm(env)})" for _ in range(count)))
    return call


# ---------------------------------------------------------------- behaviour

def _follows_children(env: Env) -> None:
    """ALARM(a) AND NOT ALARM(b), and a composite over it: each follows SetAlarmState below it."""
    a, b = _metric_alarm(env), _metric_alarm(env)
    slo = _composite(env, f'ALARM("{a}") AND NOT ALARM({b})')
    page = _composite(env, f"ALARM({slo}) OR FALSE")
    _expect(env, a, "INSUFFICIENT_DATA", "a new metric alarm")
    _expect(env, slo, "OK", "a new composite alarm, evaluated at once")
    _set(env, a, "ALARM")
    _expect(env, slo, "ALARM", "its child went to ALARM")
    _expect(env, page, "ALARM", "the composite it reads went to ALARM")
    _set(env, b, "ALARM")
    _expect(env, slo, "OK", "its NOT ALARM child went to ALARM")
    _expect(env, page, "OK", "the composite it reads went back to OK")


def _new_composite_evaluated(env: Env) -> None:
    always = _composite(env, "TRUE")
    _expect(env, always, "ALARM", "a composite alarm on TRUE")
    history = env.client("cloudwatch").describe_alarm_history(
        AlarmName=always, HistoryItemType="StateUpdate")["AlarmHistoryItems"]
    if [h["HistorySummary"] for h in history] != ["Alarm updated from INSUFFICIENT_DATA to ALARM"]:
        raise BehaviourMismatch(f"state history of a new composite: {history}")


def _update_keeps_state_then_evaluates(env: Env) -> None:
    a = _metric_alarm(env)
    slo = _composite(env, f"ALARM({a})")
    _set(env, slo, "ALARM")  # SetAlarmState on a composite holds until it is evaluated again
    _expect(env, slo, "ALARM", "SetAlarmState on a composite alarm")
    _composite(env, f"ALARM({a})", name=slo, AlarmDescription="updated")
    _expect(env, slo, "OK", "an updated composite alarm, evaluated again")


def _metric_update_keeps_state(env: Env) -> None:
    a = _metric_alarm(env)
    _set(env, a, "ALARM")
    _metric_alarm(env, a)
    _expect(env, a, "ALARM", "a metric alarm updated by PutMetricAlarm")


def _types_filter(env: Env) -> None:
    a = _metric_alarm(env)
    slo = _composite(env, f"OK({a})")
    cw = env.client("cloudwatch")
    default = cw.describe_alarms(AlarmNames=[a, slo])
    if [x["AlarmName"] for x in default["MetricAlarms"]] != [a] or default["CompositeAlarms"]:
        raise BehaviourMismatch(f"without AlarmTypes: {default['MetricAlarms']}, {default['CompositeAlarms']}")
    composites = cw.describe_alarms(AlarmNames=[a, slo], AlarmTypes=["CompositeAlarm"])
    if composites["MetricAlarms"] or [x["AlarmRule"] for x in composites["CompositeAlarms"]] != [f"OK({a})"]:
        raise BehaviourMismatch(f"AlarmTypes=[CompositeAlarm]: {composites}")


def _family(env: Env) -> None:
    a, b = _metric_alarm(env), _metric_alarm(env)
    slo = _composite(env, f"ALARM({a}) OR ALARM({b})")
    cw = env.client("cloudwatch")
    children = cw.describe_alarms(ChildrenOfAlarmName=slo)["MetricAlarms"]
    if sorted(x["AlarmName"] for x in children) != sorted([a, b]):
        raise BehaviourMismatch(f"ChildrenOfAlarmName: {children}")
    parents = cw.describe_alarms(ParentsOfAlarmName=a)["CompositeAlarms"]
    if [x["AlarmName"] for x in parents] != [slo]:
        raise BehaviourMismatch(f"ParentsOfAlarmName: {parents}")


def _history_items(env: Env) -> None:
    cw = env.client("cloudwatch")
    a = _metric_alarm(env)
    _set(env, a, "ALARM")
    _metric_alarm(env, a)
    items = cw.describe_alarm_history(AlarmName=a)["AlarmHistoryItems"]
    got = [(h["HistoryItemType"], h["HistorySummary"]) for h in items]
    want = [("ConfigurationUpdate", f'Alarm "{a}" updated'),
            ("StateUpdate", "Alarm updated from INSUFFICIENT_DATA to ALARM"),
            ("ConfigurationUpdate", f'Alarm "{a}" created')]
    if got != want:
        raise BehaviourMismatch(f"history, newest first: {got}")
    oldest = cw.describe_alarm_history(AlarmName=a, ScanBy="TimestampAscending")["AlarmHistoryItems"]
    if [h["HistorySummary"] for h in oldest] != [s for _, s in reversed(want)]:
        raise BehaviourMismatch("ScanBy=TimestampAscending does not give the oldest first")
    states = cw.describe_alarm_history(AlarmName=a, HistoryItemType="StateUpdate")["AlarmHistoryItems"]
    if len(states) != 1 or states[0]["AlarmType"] != "MetricAlarm":
        raise BehaviourMismatch(f"HistoryItemType=StateUpdate: {states}")
    first = cw.describe_alarm_history(AlarmName=a, MaxRecords=2)
    rest = cw.describe_alarm_history(AlarmName=a, MaxRecords=2, NextToken=first.get("NextToken", ""))
    if len(first["AlarmHistoryItems"]) != 2 or len(rest["AlarmHistoryItems"]) != 1 or "NextToken" in rest:
        raise BehaviourMismatch("MaxRecords and NextToken do not page the history")


def _history_dates(env: Env) -> None:
    cw = env.client("cloudwatch")
    a = _metric_alarm(env)
    now = datetime.datetime.now(datetime.timezone.utc)
    hour = datetime.timedelta(hours=1)
    inside = cw.describe_alarm_history(AlarmName=a, StartDate=now - hour, EndDate=now + hour)
    later = cw.describe_alarm_history(AlarmName=a, StartDate=now + hour)
    earlier = cw.describe_alarm_history(AlarmName=a, EndDate=now - hour)
    if len(inside["AlarmHistoryItems"]) != 1 or later["AlarmHistoryItems"] or earlier["AlarmHistoryItems"]:
        raise BehaviourMismatch("StartDate/EndDate do not bound the history")


def _history_kept_and_typed(env: Env) -> None:
    cw = env.client("cloudwatch")
    a = _metric_alarm(env)
    slo = _composite(env, f"ALARM({a})")
    cw.delete_alarms(AlarmNames=[slo])
    kept = cw.describe_alarm_history(AlarmName=slo)["AlarmHistoryItems"]
    if not kept or kept[0]["HistorySummary"] != f'Alarm "{slo}" deleted':
        raise BehaviourMismatch(f"history of a deleted alarm: {kept}")
    metric_only = {h["AlarmName"] for h in cw.describe_alarm_history(MaxRecords=100)["AlarmHistoryItems"]}
    composite = {h["AlarmName"] for h in cw.describe_alarm_history(
        AlarmTypes=["CompositeAlarm"], MaxRecords=100)["AlarmHistoryItems"]}
    if slo in metric_only or slo not in composite:
        raise BehaviourMismatch("without AlarmName, AlarmTypes must default to metric alarms")


# ---------------------------------------------------------------- deletes and filters

def _delete(names: Callable[[Env], list[str]]) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        return env.client("cloudwatch").delete_alarms(AlarmNames=names(env))
    return call


def _two_composites(env: Env) -> list[str]:
    a = _metric_alarm(env)
    return [_composite(env, f"ALARM({a})"), _composite(env, f"OK({a})")]


def _one_composite_and_metric_alarms(env: Env) -> list[str]:
    a = _metric_alarm(env)
    return [_composite(env, f"ALARM({a})"), _metric_alarm(env), _metric_alarm(env)]


def _child_of_composite(env: Env) -> list[str]:
    a = _metric_alarm(env)
    _composite(env, f"ALARM({a})")
    return [a]


def _child_after_its_composite(env: Env) -> list[str]:
    a = _metric_alarm(env)
    env.client("cloudwatch").delete_alarms(AlarmNames=[_composite(env, f"ALARM({a})")])
    return [a]


def _describe(**kwargs: Any) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        a = _metric_alarm(env)
        slo = _composite(env, f"ALARM({a})")
        args = {k: (slo if v == "<slo>" else v) for k, v in kwargs.items()}
        return env.client("cloudwatch").describe_alarms(**args)
    return call


def _history(**kwargs: Any) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        return env.client("cloudwatch").describe_alarm_history(AlarmName=_metric_alarm(env), **kwargs)
    return call


def _case(id: str, call: Callable[[Env], Any], expect: str, page: str, kind: str = "validation") -> Case:
    return Case(f"cloudwatch.{id}", "cloudwatch", call, expect, API + page, kind)


CASES = [
    # The rule language, and the alarms it names.
    _case("composite.or-of-two-alarms", _rule(lambda a, b: f'ALARM("{a}") OR ALARM({b})'), OK, COMPOSITE),
    _case("composite.all-functions", _rule(
        lambda a, b: f"(ALARM({a}) OR INSUFFICIENT_DATA({a})) AND NOT OK({b})"), OK, COMPOSITE),
    _case("composite.true-and-not-false", _rule(lambda a, b: "TRUE AND NOT FALSE"), OK, COMPOSITE),
    _case("composite.alarm-by-arn", _rule(
        lambda a, b: f"ALARM(arn:aws:cloudwatch:us-east-1:123456789012:alarm:{a})"), OK, COMPOSITE),
    _case("composite.rule-names-missing-alarm", _rule(lambda a, b: f"ALARM({a}) OR ALARM(no-such-alarm)"),
          INVALID, COMPOSITE),
    _case("composite.rule-empty-parentheses", _rule(lambda a, b: "()"), INVALID, COMPOSITE),
    _case("composite.rule-dangling-and", _rule(lambda a, b: f"ALARM({a}) AND"), INVALID, COMPOSITE),
    _case("composite.rule-unknown-function", _rule(lambda a, b: f"BREACHING({a})"), INVALID, COMPOSITE),
    _case("composite.rule-10240-characters", lambda env: _composite(env, _long_rule(env, 10240)), OK,
          COMPOSITE),
    _case("composite.rule-10241-characters", lambda env: _composite(env, _long_rule(env, 10241)),
          INVALID, COMPOSITE),
    _case("composite.100-children", _many_children(100), OK, COMPOSITE),
    _case("composite.101-children", _many_children(101), INVALID, COMPOSITE),
    # State: starts INSUFFICIENT_DATA, is evaluated at once, follows its children.
    _case("composite.state-follows-children", _follows_children, OK, COMPOSITE, "behaviour"),
    _case("composite.new-alarm-evaluated", _new_composite_evaluated, OK, COMPOSITE, "behaviour"),
    _case("composite.update-keeps-state-then-evaluates", _update_keeps_state_then_evaluates, OK,
          "API_SetAlarmState.html", "behaviour"),
    _case("alarm.update-keeps-state", _metric_update_keeps_state, OK, "API_PutMetricAlarm.html",
          "behaviour"),
    # DescribeAlarms.
    _case("describe.alarm-types", _types_filter, OK, DESCRIBE, "behaviour"),
    _case("describe.children-and-parents", _family, OK, DESCRIBE, "behaviour"),
    _case("describe.children-with-max-records", _describe(ChildrenOfAlarmName="<slo>", MaxRecords=10),
          OK, DESCRIBE),
    _case("describe.children-with-alarm-types", _describe(ChildrenOfAlarmName="<slo>",
                                                          AlarmTypes=["MetricAlarm"]), INVALID, DESCRIBE),
    _case("describe.parents-with-state", _describe(ParentsOfAlarmName="<slo>", StateValue="OK"),
          INVALID, DESCRIBE),
    _case("describe.prefix", _describe(AlarmNamePrefix="slo-"), OK, DESCRIBE),
    _case("describe.prefix-and-names", _describe(AlarmNamePrefix="slo-", AlarmNames=["<slo>"]),
          INVALID, DESCRIBE),
    # DeleteAlarms.
    _case("delete.one-composite-with-metric-alarms", _delete(_one_composite_and_metric_alarms), OK, DELETE),
    _case("delete.two-composites", _delete(_two_composites), INVALID, DELETE),
    _case("delete.child-of-a-composite", _delete(_child_of_composite), INVALID, DELETE),
    _case("delete.child-after-its-composite", _delete(_child_after_its_composite), OK, DELETE),
    # DescribeAlarmHistory.
    _case("history.items-order-filter-pages", _history_items, OK, HISTORY, "behaviour"),
    _case("history.date-range", _history_dates, OK, HISTORY, "behaviour"),
    _case("history.kept-after-delete-and-typed", _history_kept_and_typed, OK, HISTORY, "behaviour"),
    _case("history.item-type-state-update", _history(HistoryItemType="StateUpdate"), OK, HISTORY),
    _case("history.item-type-unknown", _history(HistoryItemType="StateChange"), INVALID, HISTORY),
    _case("history.max-records-100", _history(MaxRecords=100), OK, HISTORY),
    _case("history.max-records-101", _history(MaxRecords=101), INVALID, HISTORY),
]
