"""Alarm actions: what an alarm does when its state changes (metric and composite alarms alike).

* When the state changes and ActionsEnabled is true, the actions for the new state
  (AlarmActions, OKActions, InsufficientDataActions) are invoked; SetAlarmState too: "When the
  updated state differs from the previous value, the action configured for the appropriate
  state is invoked" (API_SetAlarmState.html, API_PutMetricAlarm.html).
* Auto Scaling actions repeat: "For Amazon EC2 Auto Scaling actions, the alarm continues to
  invoke the action for every period that the alarm remains in the new state. For Amazon SNS
  notifications, no additional actions are invoked" (AlarmThatSendsEmail.html); Application
  Auto Scaling's step scaling likewise "can continue for additional alarm breaches until the
  alarm state returns to OK" (step-scaling-policy-overview.html). So every evaluation that
  leaves a metric alarm in its state invokes that state's ``…:autoscaling:…`` actions again
  (for a target tracking alarm, whose period is 60 s, once a minute); `evaluator` calls `repeat`.
* Auto Scaling policies (EC2's and Application Auto Scaling's ``arn:aws:autoscaling:…``) are
  handed to the handlers registered with `register_action_handler`; without one, the action
  fails, as CloudWatch's does for a policy that does not exist.
* SNS topics get CloudWatch's notification (JSON message, subject ``ALARM: "name" in <Region>``)
  through moto's SNS backend, so an SQS subscription receives it. A topic with HTTP(S), Lambda
  or Firehose subscriptions is not published to (moto would do that I/O under the state lock):
  the notification is recorded instead, and the history says so.
* Other actions (EC2 stop/terminate, Systems Manager, Lambda) are not performed; the history
  records them as failed, with the reason.

Actions run in one daemon thread, outside the state lock, in the order the changes happened;
each invocation on a state change is an ``Action`` item of the alarm history
(API_AlarmHistoryItem.html), the repeats are not.
"""
from __future__ import annotations

import datetime
import functools
import json
import logging
import queue
import re
import threading
import time
from typing import Any, Callable

from mylearning.emulator.fidelity.cloudwatch import history
from mylearning.emulator.fidelity.core import STATE, moto_backend, on_reset

Handler = Callable[[Any, str, str], None]
_HANDLERS: list[tuple[Callable[[str], bool], Handler]] = []
_QUEUE: "queue.Queue[tuple]" = queue.Queue()
_START = threading.Lock()
_worker: threading.Thread | None = None
_epoch = 0
#: Notifications for topics that could not be published to in-process (see module doc).
RECORDED: list[dict] = []
_AUTOSCALING = re.compile(r"^arn:[^:]+:autoscaling:")
_SNS = re.compile(r"^arn:[^:]+:sns:([^:]+):")
_log = logging.getLogger("mylearning.emulator")


def register_action_handler(predicate_or_arn_prefix: str | Callable[[str], bool],
                            fn: Handler) -> Callable[[], None]:
    """Call ``fn(alarm, new_state, region)`` once for each alarm state change (and each repeat,
    see module doc) whose actions include an ARN the prefix (or predicate) accepts. `alarm` is
    moto's alarm: ``actions_for(alarm, new_state)`` names the ARNs. `fn` runs in the actions
    thread, outside the state lock, and must take ``core.STATE`` to read or change moto; an
    exception it raises marks the action failed in the history. Returns an unregister function."""
    prefix = predicate_or_arn_prefix
    test = prefix if callable(prefix) else (lambda arn: arn.startswith(prefix))
    entry = (test, fn)
    _HANDLERS.append(entry)

    def unregister() -> None:
        if entry in _HANDLERS:
            _HANDLERS.remove(entry)
    return unregister


def actions_for(alarm: Any, state: str) -> list[str]:
    return list({"ALARM": alarm.alarm_actions, "OK": alarm.ok_actions,
                 "INSUFFICIENT_DATA": alarm.insufficient_data_actions}.get(state) or [])


def state_changed(region: str, alarm: Any, old_state: str) -> None:
    """The alarm went from `old_state` to its state (caller holds the state lock)."""
    arns = actions_for(alarm, alarm.state_value) if alarm.actions_enabled else []
    if arns:
        _enqueue((_epoch, region, alarm, alarm.state_value, arns, _notification(region, alarm, old_state), True))


def repeat(region: str, alarm: Any) -> None:
    """The alarm stayed in its state for another period: invoke its Auto Scaling actions again."""
    if alarm.actions_enabled:
        arns = [a for a in actions_for(alarm, alarm.state_value) if _AUTOSCALING.match(a)]
        if arns:
            _enqueue((_epoch, region, alarm, alarm.state_value, arns, None, False))


def drain(timeout: float = 10.0) -> bool:
    """Wait until every queued action ran (for tests); False if `timeout` passed first."""
    deadline = time.monotonic() + timeout
    with _QUEUE.all_tasks_done:
        while _QUEUE.unfinished_tasks:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            _QUEUE.all_tasks_done.wait(left)
    return True


@on_reset
def _clear() -> None:
    global _epoch
    _epoch += 1
    RECORDED.clear()


def _enqueue(job: tuple) -> None:
    global _worker
    with _START:
        if _worker is None or not _worker.is_alive():
            _worker = threading.Thread(target=_work, name="cloudwatch-alarm-actions", daemon=True)
            _worker.start()
    _QUEUE.put(job)


def _work() -> None:
    while True:
        job = _QUEUE.get()
        try:
            if job[0] == _epoch:
                _perform(*job[1:])
        except Exception:  # an action must never end the worker
            _log.exception("alarm action failed")
        finally:
            _QUEUE.task_done()


def _perform(region: str, alarm: Any, state: str, arns: list[str], note: dict | None, first: bool) -> None:
    """Each handler runs once for the change, however many of the state's actions it accepts."""
    handlers = [(test, fn) for test, fn in list(_HANDLERS) if any(test(a) for a in arns)]
    failures: dict[int, str] = {}
    for i, (_, fn) in enumerate(handlers):
        try:
            fn(alarm, state, region)
        except Exception as exc:
            failures[i] = f"{type(exc).__name__}: {exc}"
    for arn in arns:
        accepting = [i for i, (test, _) in enumerate(handlers) if test(arn)]
        ok, detail = True, None
        if _SNS.match(arn) and note is not None:
            ok, detail = _publish(arn, note)
        elif not accepting and not _SNS.match(arn):
            ok, detail = False, ("no scaling policy answers this action in the embedded AWS"
                                 if _AUTOSCALING.match(arn) else
                                 "the embedded AWS does not perform this kind of action")
        failed = [failures[i] for i in accepting if i in failures]
        if failed:
            ok, detail = False, "; ".join(failed)
        if first:
            history.record_action(region, alarm, arn, ok, detail)


def _publish(arn: str, note: dict) -> tuple[bool, str | None]:
    with STATE:
        sns = moto_backend("sns", _SNS.match(arn).group(1))
        topic = sns.topics.get(arn)
        if topic is None:
            return False, "the topic does not exist"
        subscriptions, _ = sns.list_subscriptions_by_topic(topic_arn=arn)
        remote = sorted({s.protocol for s in subscriptions} & {"http", "https", "lambda", "firehose"})
        if remote:
            RECORDED.append({"TopicArn": arn, **note})
            return True, f"recorded, not delivered to its {', '.join(remote)} subscriptions"
        sns.publish(note["Message"], arn=arn, subject=note["Subject"])
    return True, None


@functools.lru_cache(maxsize=64)
def region_name(region: str) -> str:
    """The Region's name as CloudWatch's notifications give it ("US East (N. Virginia)")."""
    import botocore.session
    for partition in botocore.session.get_session().get_data("endpoints")["partitions"]:
        if region in partition["regions"]:
            return partition["regions"][region].get("description", region)
    return region


def _notification(region: str, alarm: Any, old_state: str) -> dict:
    when = datetime.datetime.now(datetime.timezone.utc)
    message: dict[str, Any] = {
        "AlarmName": alarm.name, "AlarmDescription": alarm.description,
        "AWSAccountId": alarm.alarm_arn.split(":")[4], "NewStateValue": alarm.state_value,
        "NewStateReason": alarm.state_reason, "StateChangeTime": history.iso(when),
        "Region": region_name(region), "AlarmArn": alarm.alarm_arn, "OldStateValue": old_state,
        "OKActions": alarm.ok_actions, "AlarmActions": alarm.alarm_actions,
        "InsufficientDataActions": alarm.insufficient_data_actions}
    if alarm.rule is not None:
        message["AlarmRule"] = alarm.rule
    else:
        message["Trigger"] = {
            "MetricName": alarm.metric_name, "Namespace": alarm.namespace,
            **({"StatisticType": "ExtendedStatistic", "ExtendedStatistic": alarm.extended_statistic}
               if alarm.extended_statistic else
               {"StatisticType": "Statistic", "Statistic": str(alarm.statistic or "").upper()}),
            "Unit": alarm.unit, "Dimensions": [{"value": d.value, "name": d.name} for d in alarm.dimensions],
            "Period": alarm.period, "EvaluationPeriods": alarm.evaluation_periods,
            "ComparisonOperator": alarm.comparison_operator, "Threshold": alarm.threshold,
            "TreatMissingData": alarm.treat_missing_data or "missing"}
    subject = f'{alarm.state_value}: "{alarm.name}" in {region_name(region)}'
    return {"Subject": subject if len(subject) <= 100 else subject[:99] + "…",
            "Message": json.dumps(message, default=str)}
