"""Application Auto Scaling as an operator watches it: the alarms, the counts, the activities.

Target tracking (https://docs.aws.amazon.com/autoscaling/application/userguide/target-tracking-scaling-policy-overview.html)
makes two CloudWatch alarms per policy, named ``TargetTracking-<resource id>-AlarmHigh-<id>``
and ``...-AlarmLow-<id>``: the high one fires after 3 one-minute datapoints above the target
value, the low one after 15 below 90% of it; each firing is a *scaling activity*
(https://docs.aws.amazon.com/autoscaling/application/APIReference/API_DescribeScalingActivities.html)
whose Cause names the alarm and the policy ("monitor alarm ... in state ALARM triggered policy
..."). `watch` shows that as it happens, from the ECS, CloudWatch and Application Auto Scaling
APIs only, so it works on the embedded AWS and on a real account alike; `scaling_events` reads
the activities back, with the alarm behind each one, for a check.

**Time.** The embedded AWS runs its waits `time_scale` times faster (`mylearning.facts.clock`):
an alarm's one-minute period lasts `alarm_minute` real seconds (6 s at the default scale 10),
and a datapoint of a count metric (a Sum, such as ``RequestCountPerTarget``) counts the requests
of those seconds. On a real account both are AWS's own: 1 and 60 s.
"""
from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from typing import Any, Callable

#: The period of the alarms target tracking creates, and how many of their datapoints
#: decide (target-tracking-scaling-policy-overview.html; the alarms' own settings).
ALARM_PERIOD_SECONDS = 60
SCALE_OUT_DATAPOINTS = 3
SCALE_IN_DATAPOINTS = 15
#: The AlarmLow fires below this share of the target value ("usually more than 10% lower").
SCALE_IN_SHARE = 0.9
#: How Application Auto Scaling words an alarm's activity (DescribeScalingActivities, Cause).
CAUSE = re.compile(r"monitor alarm (?P<alarm>\S+) in state ALARM triggered policy (?P<policy>.+?)\s*$")
DIMENSION = "ecs:service:DesiredCount"


def resource_id(cluster: str, service: str) -> str:
    """An ECS service's ResourceId for Application Auto Scaling."""
    return f"service/{cluster}/{service}"


def time_scale(session: Any) -> float:
    """How many times faster than AWS the backend's waits run: the emulator's own figure
    (its health answer), 1 on a real account."""
    if not getattr(session, "is_emulator", False):
        return 1.0
    from mylearning.emulator.manager import health
    from mylearning.facts import clock

    answer = health(session.endpoint, timeout=5.0) if getattr(session, "endpoint", None) else None
    try:
        return float((answer or {}).get("time_scale") or clock.time_scale())
    except (TypeError, ValueError):
        return clock.time_scale()


def alarm_minute(session: Any) -> float:
    """Real seconds one datapoint of a target tracking alarm covers (its 60 s period)."""
    return ALARM_PERIOD_SECONDS / time_scale(session)


# ---------------------------------------------------------------- what the policies made
@dataclass(frozen=True)
class TrackedAlarm:
    """One alarm of a target tracking policy, as describe_alarms has it now."""

    policy: str
    metric: str  # the policy's predefined metric type, or the customized metric's name
    high: bool
    name: str
    state: str
    threshold: float
    latest: float | None  # the newest datapoint of its last state change (StateReasonData), if any

    @property
    def label(self) -> str:
        return f"{'High' if self.high else 'Low'} {self.state}"


def _metric_of(policy: dict) -> str:
    config = policy.get("TargetTrackingScalingPolicyConfiguration") or {}
    return ((config.get("PredefinedMetricSpecification") or {}).get("PredefinedMetricType")
            or (config.get("CustomizedMetricSpecification") or {}).get("MetricName") or "?")


def is_high(alarm_name: str) -> bool | None:
    """True for a target tracking AlarmHigh (scale out), False for an AlarmLow, None otherwise."""
    if "-AlarmHigh-" in alarm_name:
        return True
    if "-AlarmLow-" in alarm_name:
        return False
    return None


def tracking_policies(session: Any, resource: str) -> list[dict]:
    """The target's target tracking policies (DescribeScalingPolicies, with their Alarms)."""
    found = session.client("application-autoscaling").describe_scaling_policies(
        ServiceNamespace="ecs", ResourceId=resource)["ScalingPolicies"]
    return [p for p in found if p.get("PolicyType") == "TargetTrackingScaling"]


def tracked_alarms(session: Any, resource: str, policies: list[dict] | None = None) -> list[TrackedAlarm]:
    """Every alarm of the target's target tracking policies, with its state and newest datapoint."""
    policies = tracking_policies(session, resource) if policies is None else policies
    owner = {a["AlarmName"]: p for p in policies for a in p.get("Alarms") or []}
    if not owner:
        return []
    found = session.client("cloudwatch").describe_alarms(AlarmNames=sorted(owner)[:100])["MetricAlarms"]
    alarms = []
    for alarm in found:
        policy = owner[alarm["AlarmName"]]
        try:
            points = json.loads(alarm.get("StateReasonData") or "{}").get("recentDatapoints") or []
        except ValueError:
            points = []
        alarms.append(TrackedAlarm(policy["PolicyName"], _metric_of(policy),
                                   bool(is_high(alarm["AlarmName"])), alarm["AlarmName"], alarm["StateValue"],
                                   float(alarm.get("Threshold") or 0.0), float(points[-1]) if points else None))
    return sorted(alarms, key=lambda a: (a.metric, not a.high))


def alarm_line(alarms: list[TrackedAlarm]) -> str:
    """'ALBRequestCountPerTarget: High ALARM (246 > 140), Low OK | ...' for a watch line."""
    parts: dict[str, list[str]] = {}
    for alarm in alarms:
        text = alarm.label
        if alarm.latest is not None:
            sign = ">" if alarm.latest > alarm.threshold else "<" if alarm.latest < alarm.threshold else "="
            text += f" ({alarm.latest:.4g} {sign} {alarm.threshold:.4g})"
        parts.setdefault(alarm.metric, []).append(text)
    return " | ".join(f"{metric}: {', '.join(texts)}" for metric, texts in parts.items())


# ---------------------------------------------------------------- activities and their alarms
@dataclass(frozen=True)
class ScalingEvent:
    """A scaling activity, with the alarm and policy its Cause names (None for other causes,
    such as a scheduled action)."""

    activity: dict
    alarm: str | None
    policy: str | None

    @property
    def started(self) -> Any:
        return self.activity["StartTime"]

    @property
    def succeeded(self) -> bool:
        return self.activity.get("StatusCode") == "Successful"

    @property
    def scale_out(self) -> bool | None:
        """True when a policy's AlarmHigh caused it, False for an AlarmLow, None otherwise."""
        return is_high(self.alarm) if self.alarm else None

    @property
    def desired(self) -> int | None:
        found = re.search(r"desired count to (\d+)", self.activity.get("Description", ""))
        return int(found.group(1)) if found else None

    def line(self) -> str:
        how = {True: "scale-out", False: "scale-in", None: "activity"}[self.scale_out]
        who = f" by {self.policy} ({'AlarmHigh' if self.scale_out else 'AlarmLow'})" if self.policy else ""
        return f"{how}{who}: {self.activity.get('Description', '')} {self.activity.get('StatusCode', '')}"


def scaling_events(session: Any, resource: str) -> list[ScalingEvent]:
    """The target's scaling activities, oldest first, with the alarm behind each."""
    aas = session.client("application-autoscaling")
    found: list[dict] = []
    params: dict[str, Any] = {"ServiceNamespace": "ecs", "ResourceId": resource, "ScalableDimension": DIMENSION}
    while True:
        page = aas.describe_scaling_activities(**params)
        found += page.get("ScalingActivities", [])
        if not page.get("NextToken") or len(found) >= 500:
            break
        params["NextToken"] = page["NextToken"]
    events = []
    for activity in found:
        cause = CAUSE.search(activity.get("Cause") or "")
        events.append(ScalingEvent(activity, cause and cause.group("alarm"), cause and cause.group("policy")))
    return sorted(events, key=lambda e: e.started)


def went_to_alarm(session: Any, alarm_name: str, before: Any) -> bool:
    """Whether the alarm's history has it entering ALARM at or before `before` (a datetime):
    the proof that an activity it caused came from its metric
    (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarmHistory.html)."""
    import datetime

    cw = session.client("cloudwatch")
    try:
        items = cw.describe_alarm_history(AlarmName=alarm_name, HistoryItemType="StateUpdate",
                                          EndDate=before + datetime.timedelta(seconds=1),
                                          MaxRecords=100)["AlarmHistoryItems"]
    except Exception:
        return False
    for item in items:
        try:
            new = json.loads(item.get("HistoryData") or "{}").get("newState", {}).get("stateValue")
        except ValueError:
            new = None
        if new == "ALARM" or str(item.get("HistorySummary", "")).endswith("to ALARM"):
            return True
    return False


# ---------------------------------------------------------------- watching it happen
@dataclass
class Sample:
    seconds: float
    desired: int
    running: int


@dataclass
class Watched:
    """What `watch` saw: the counts over time, and each activity with the second it was seen."""

    service: str
    samples: list[Sample] = field(default_factory=list)
    events: list[tuple[float, ScalingEvent]] = field(default_factory=list)
    alarms: list[TrackedAlarm] = field(default_factory=list)
    finished: bool = False

    def scaled(self, out: bool) -> list[ScalingEvent]:
        """The successful activities seen that an AlarmHigh (`out`) or an AlarmLow caused."""
        return [e for _, e in self.events if e.succeeded and e.scale_out is out]

    def plot(self, ax: Any = None, title: str | None = None) -> Any:
        """Desired and running count over the watch, a line at each activity; returns the Axes."""
        if ax is None:
            import matplotlib.pyplot as plt
            _, ax = plt.subplots(figsize=(8, 3), layout="constrained")
        times = [s.seconds for s in self.samples]
        ax.step(times, [s.desired for s in self.samples], where="post", label="desired", color="#1f77b4")
        ax.step(times, [s.running for s in self.samples], where="post", label="running", color="#ff7f0e",
                linestyle="--")
        for seconds, event in self.events:
            ax.axvline(seconds, color={True: "#2ca02c", False: "#d62728"}.get(event.scale_out, "#7f7f7f"),
                       alpha=0.6)
        ax.set_xlabel("seconds")
        ax.set_ylabel("tasks")
        ax.set_title(title or f"{self.service}: desired and running tasks")
        ax.legend(loc="upper right")
        return ax


def watch(session: Any, cluster: str, service: str, *, until: Callable[[Watched], bool],
          timeout: float, every: float | None = None, since: Any = None,
          out: Callable[[str], None] = print) -> Watched:
    """Print the service's desired and running count, its target tracking alarms and each new
    scaling activity whenever one of them changes, until ``until(watched)`` is true or `timeout`
    seconds passed (then ``watched.finished`` is False; nothing is raised).

    `since` (a datetime) leaves out activities that started before it. Polls every `every`
    seconds (by default a sixth of an alarm minute: 1 s on the embedded AWS at scale 10).
    """
    ecs = session.client("ecs")
    resource = resource_id(cluster, service)
    every = every if every is not None else max(0.5, alarm_minute(session) / 6)
    watched = Watched(service)
    seen: set[str] = set()
    policies = tracking_policies(session, resource)
    t0 = time.monotonic()
    deadline = t0 + timeout
    last = ""
    while True:
        now = time.monotonic() - t0
        found = ecs.describe_services(cluster=cluster, services=[service])["services"]
        if not found:
            out(f"{now:6.1f}s {service} not found")
            return watched
        desired, running = found[0]["desiredCount"], found[0]["runningCount"]
        watched.samples.append(Sample(now, desired, running))
        watched.alarms = tracked_alarms(session, resource, policies)
        for event in scaling_events(session, resource):
            key = event.activity["ActivityId"]
            if key in seen or (since is not None and event.started < since):
                seen.add(key)
                continue
            seen.add(key)
            watched.events.append((now, event))
            out(f"{now:6.1f}s {event.line()}")
        line = f"desired {desired}, running {running} | {alarm_line(watched.alarms)}"
        if line != last:
            out(f"{now:6.1f}s {line}")
            last = line
        if until(watched):
            watched.finished = True
            return watched
        if time.monotonic() > deadline:
            out(f"{time.monotonic() - t0:6.1f}s still waiting after {timeout:.0f} s: stopped watching")
            return watched
        time.sleep(every)
