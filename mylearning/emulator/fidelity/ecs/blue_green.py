"""ECS's own blue/green, linear and canary deployments, run on the tasks the agent reports.

A service with ``deploymentConfiguration.strategy`` BLUE_GREEN, LINEAR or CANARY and a load
balancer with ``advancedConfiguration`` (alternate target group, production listener rule,
optionally a test listener rule) deploys a new revision like this
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/blue-green-deployment-how-it-works.html,
.../deployment-type-linear.html, .../canary-deployment.html):

1. PRE_SCALE_UP (RECONCILE_SERVICE first when more than one revision is ACTIVE), then
   SCALE_UP: the new ("green") revision's tasks start, as many as the desired count, in the
   target group the old ("blue") revision does not use; the blue tasks keep serving.
   POST_SCALE_UP once they are all healthy.
2. TEST_TRAFFIC_SHIFT: the test listener rule forwards to the green group;
   POST_TEST_TRAFFIC_SHIFT.
3. PRODUCTION_TRAFFIC_SHIFT: the production listener rule's forward weights move to the green
   group (`listener_rules`): all at once (BLUE_GREEN), canaryPercent then the rest after the
   canary bake (CANARY), or stepPercent at a time with the step bake between (LINEAR);
   PRE_PRODUCTION_TRAFFIC_SHIFT hooks run before the first step and PRODUCTION_TRAFFIC_SHIFT
   hooks at every step. POST_PRODUCTION_TRAFFIC_SHIFT.
4. BAKE_TIME: ``bakeTimeInMinutes`` with both revisions running; then CLEAN_UP: the blue
   tasks stop, and the two target groups have swapped roles for the next deployment.

**Lifecycle hooks** (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-lifecycle-hooks.html):
a PAUSE hook waits AWAITING_ACTION until ContinueServiceDeployment (CONTINUE or ROLLBACK) or
its timeout (default 1440 minutes, then its action, default ROLLBACK:
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/pause-lifecycle-hooks.html).
An AWS_LAMBDA hook: the embedded AWS has no Lambda, so invoking the function fails, and "if
the function fails, the deployment rolls back" -- the hook is FAILED and the service's events
say why. Use PAUSE hooks in the labs.

**Rollback**: when one of ``alarms.alarmNames`` is in ALARM while the deployment runs (bake
times included) and ``alarms.rollback`` is true
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-alarm-failure.html),
when the circuit breaker trips with rollback, when a hook fails, or on StopServiceDeployment:
production and test traffic return to the blue group, the green tasks stop, and the
deployment ends ROLLBACK_SUCCESSFUL (ROLLBACK_IN_PROGRESS until the green tasks stopped).
With ``rollback`` false an alarm fails the deployment where it stands (STOPPED).

**Time**: bake times and hook timeouts are minutes of AWS time, divided by the embedded
clock's scale (`mylearning.facts.clock`): at the default scale 10 a one-minute bake takes 6 s,
with ``MYLEARNING_TIME_SCALE=60`` one second. Timestamps (``expiresAt``) are real times.

Not modelled: Network Load Balancers and Service Connect as traffic shifters (the service
deploys ROLLING-style without an ALB ``advancedConfiguration``), replacing blue tasks that die
during the deployment, and ``earlySuccessCriteria``.
"""
from __future__ import annotations

import datetime
import secrets
import time
from typing import Any

from mylearning.emulator.fidelity.ecs import listener_rules, service_deployments as records
from mylearning.facts import clock, ecs_deployments as facts


def _advanced(service: Any) -> list[dict]:
    return [lb for lb in getattr(service, "load_balancers", None) or []
            if (lb.get("advancedConfiguration") or {}).get("alternateTargetGroupArn")
            and (lb.get("advancedConfiguration") or {}).get("productionListenerRule")]


def _deployment(service: Any, deployment_id: str) -> dict | None:
    return next((d for d in service.deployments if d.get("id") == deployment_id), None)


def _source(service: Any, record: records.Record) -> dict | None:
    return next((d for d in service.deployments
                 if d.get("id") != record.deployment_id and d.get("status") == "ACTIVE"), None)


def _plan(config: dict, reconcile: bool) -> list[dict]:
    hooks = {}
    for hook in config.get("lifecycleHooks") or []:
        for stage in hook.get("lifecycleStages") or []:
            hooks.setdefault(stage, []).append(hook)
    steps: list[dict] = []

    def add(stage: str, work: str | None = None, hook: str | None = None, **extra: Any) -> None:
        steps.append({"stage": stage, "work": work, "hooks": hooks.get(hook or stage, []), **extra})

    if reconcile:
        add("RECONCILE_SERVICE")
    add("PRE_SCALE_UP")
    add("SCALE_UP", "scale_up")
    add("POST_SCALE_UP")
    add("TEST_TRAFFIC_SHIFT", "test")
    add("POST_TEST_TRAFFIC_SHIFT")
    add("PRODUCTION_TRAFFIC_SHIFT", hook="PRE_PRODUCTION_TRAFFIC_SHIFT")
    for percent, bake in facts.production_steps(config):
        add("PRODUCTION_TRAFFIC_SHIFT", "shift", percent=percent, bake=bake)
    add("POST_PRODUCTION_TRAFFIC_SHIFT")
    add("BAKE_TIME", bake=int(config.get("bakeTimeInMinutes") or 0))
    add("CLEAN_UP", "clean_up")
    return steps


def prepare(service: Any, record: records.Record) -> None:
    """Decide who runs a new deployment: this module (a traffic-shifting strategy with an ALB
    advancedConfiguration and a revision to shift from), or the rolling scheduler."""
    roles = getattr(service, "_ml_groups", None)
    if roles is None:
        roles = service._ml_groups = {}
    source = _source(service, record)
    lbs = _advanced(service)
    shifting = record.strategy in facts.TRAFFIC_SHIFTING and bool(lbs) and source is not None
    for lb in lbs:  # which group serves the old revision, which one the new
        configured = lb["targetGroupArn"]
        alternate = lb["advancedConfiguration"]["alternateTargetGroupArn"]
        live = (roles.get(source["id"], {}) if source else {}).get(configured, configured)
        green = alternate if live == configured else configured
        record.groups[configured] = (live, green if shifting else live)
    rule_of = {lb["targetGroupArn"]: lb["advancedConfiguration"]["productionListenerRule"] for lb in lbs}
    roles[record.deployment_id] = {c: pair[1] for c, pair in record.groups.items()}
    records.resolve(record.target, [{"targetGroupArn": pair[1], "productionListenerRule": rule_of[c]}
                                    for c, pair in record.groups.items()])
    from mylearning.emulator.fidelity.cloudwatch import composite
    composite.watch(alarm_changed)
    if not shifting:
        record.production = record.test = 100.0 if record.strategy in facts.TRAFFIC_SHIFTING else 0.0
        return
    active = [d for d in service.deployments if d.get("id") != record.deployment_id]
    record.plan = _plan(record.config, reconcile=len(active) > 1)
    record.step = {"index": 0}
    for revision in record.sources:
        records.resolve(revision, [{"targetGroupArn": pair[0], "productionListenerRule": rule_of[c]}
                                   for c, pair in record.groups.items()])


def _event(service: Any, message: str) -> None:
    from mylearning.emulator.fidelity.ecs.scheduler import _event as event
    event(service, message)


def _later(service: Any, delay: float) -> None:
    from mylearning.emulator.fidelity.ecs.rollout import _timer
    _timer(delay, service.region_name, service.cluster_name, service.name)


def _tasks_of(backend: Any, service: Any, deployment_id: str) -> list:
    from mylearning.emulator.fidelity.ecs.scheduler import _service_tasks
    return [t for t in _service_tasks(backend, service) if t.started_by == deployment_id]


def _shift(service: Any, record: records.Record, percent: float, test: bool) -> None:
    """Point the production (or test) rules `percent` at the new revision's groups."""
    old, new = facts.forward_weights(percent)
    for lb in _advanced(service):
        rule = lb["advancedConfiguration"].get("testListenerRule" if test else "productionListenerRule")
        pair = record.groups.get(lb["targetGroupArn"])
        if not rule or pair is None:
            continue
        listener_rules.set_weights(service.region_name, rule, {pair[0]: old, pair[1]: new})
    if test:
        record.test = percent
    else:
        record.production = percent


# ---------------------------------------------------------------- running it

def runs(service: Any) -> records.Record | None:
    """The service's deployment this module runs, while it runs (or rolls back)."""
    record = records.open_record(service)
    return record if record is not None and record.plan else None


def settle(backend: Any, service: Any) -> bool:
    """One look at the service: True when this module ran it (the rolling scheduler must not)."""
    record = runs(service)
    if record is None:
        return False
    if service.status != "ACTIVE":  # deleted while it deployed: its tasks are stopping
        from moto.core.utils import utcnow
        record.status, record.stopped_at = "STOPPED", utcnow()
        record.status_reason = "The service was deleted."
        return False
    if record.status == "ROLLBACK_IN_PROGRESS":
        _finish_rollback(backend, service, record)
        return False  # the blue revision is PRIMARY again: the rolling scheduler keeps it
    if record.status != "IN_PROGRESS":
        return False
    if _check_alarms(backend, service, record):
        return False
    _advance(backend, service, record)
    _count(backend, service, record)
    return True


def _count(backend: Any, service: Any, record: records.Record) -> None:
    from moto.core.utils import utcnow
    now = utcnow()
    every = []
    for deployment in service.deployments:
        mine = _tasks_of(backend, service, deployment["id"])
        every += mine
        running = sum(1 for t in mine if t.last_status == "RUNNING")
        deployment.update(runningCount=running, pendingCount=len(mine) - running, updatedAt=now)
    service.running_count = sum(1 for t in every if t.last_status == "RUNNING")
    service.pending_count = len(every) - service.running_count
    record.updated_at = now


def _advance(backend: Any, service: Any, record: records.Record) -> None:
    now = time.monotonic()
    while record.status == "IN_PROGRESS":
        index = record.step["index"]
        step = record.plan[index]
        state = record.step
        if not state.get("entered"):
            state["entered"] = True
            record.stage = step["stage"]
        if not state.get("worked"):
            if not _work(backend, service, record, step):
                return
            state["worked"] = True
            if record.status != "IN_PROGRESS":
                return
        if step["hooks"] and not state.get("hooked"):
            state["hooked"] = True
            _open_hooks(backend, service, record, step, index)
            if record.status != "IN_PROGRESS":
                return
        if any(h["_step"] == index and not _hook_done(h) for h in record.hooks):
            return
        bake = step.get("bake") or 0
        if bake:
            until = state.setdefault("until", now + clock.wait(bake * 60))
            if now < until:
                _later(service, until - now)
                return
        if index + 1 >= len(record.plan):
            return
        record.step = {"index": index + 1}


def _work(backend: Any, service: Any, record: records.Record, step: dict) -> bool:
    work = step["work"]
    if work == "scale_up":
        return _scale_up(backend, service, record)
    if work == "test":
        _shift(service, record, 100.0, test=True)
    elif work == "shift":
        _shift(service, record, step["percent"], test=False)
    elif work == "clean_up":
        _clean_up(backend, service, record)
    return True


def _scale_up(backend: Any, service: Any, record: records.Record) -> bool:
    """Start the green tasks (the desired count) and wait until all are healthy; failed ones
    are replaced and count against the circuit breaker, as in a rolling update."""
    from mylearning.emulator.fidelity.ecs import rollout, scheduler
    primary = _deployment(service, record.deployment_id)
    if primary is None:
        return False
    cache: dict = {}
    now = time.monotonic()
    green = _tasks_of(backend, service, record.deployment_id)
    rollout.stop_failed_tasks(backend, service, green, cache, now)
    if record.status != "IN_PROGRESS":
        return False
    missing = service.desired_count - len(green)
    waiting = getattr(service, "_ml_next_launch", 0.0) - now
    if missing > 0 and primary.get("rolloutState") != "FAILED":
        if waiting > 0:
            _later(service, waiting)
        else:
            started = scheduler._start_tasks(backend, service, primary, missing)
            green += started
            if started:
                _event(service, f"has started {len(started)} tasks: {scheduler._task_list(started)}.")
    return len(green) == service.desired_count and all(rollout.healthy(backend, t, cache) for t in green)


def _clean_up(backend: Any, service: Any, record: records.Record) -> None:
    from moto.core.utils import utcnow

    from mylearning.emulator.fidelity.ecs import scheduler
    primary = _deployment(service, record.deployment_id)
    blue = [t for t in scheduler._service_tasks(backend, service) if t.started_by != record.deployment_id]
    if blue:
        scheduler._stop_tasks(blue, f"Scaling activity initiated by (deployment {record.deployment_id})")
        _event(service, f"has stopped {len(blue)} running tasks: {scheduler._task_list(blue)}.")
    now = utcnow()
    if primary is not None:
        primary["rolloutState"] = "COMPLETED"
        primary["rolloutStateReason"] = f"ECS deployment {primary['id']} completed."
        service.deployments[:] = [primary]
        _event(service, f"(deployment {primary['id']}) deployment completed.")
    record.status, record.finished_at = "SUCCESSFUL", now
    record.status_reason = "Service deployment completed."
    service._ml_steady = True
    _event(service, "has reached a steady state.")


# ---------------------------------------------------------------- hooks

def _open_hooks(backend: Any, service: Any, record: records.Record, step: dict, index: int) -> None:
    from moto.core.utils import utcnow
    for hook in step["hooks"]:
        kind = hook.get("targetType") or "AWS_LAMBDA"
        timeout = hook.get("timeoutConfiguration") or {}
        minutes = int(timeout.get("timeoutInMinutes") or facts.HOOK_TIMEOUT_MINUTES)
        wait = clock.wait(minutes * 60)
        detail = {"hookId": f"ecs-{kind.lower().replace('aws_', '')}-{secrets.token_urlsafe(32)}",
                  "targetType": kind, "timeoutAction": timeout.get("action") or facts.HOOK_TIMEOUT_ACTION,
                  "expiresAt": utcnow() + datetime.timedelta(seconds=wait), "_step": index,
                  "_stage": step["stage"]}
        record.hooks.append(detail)
        if kind == "AWS_LAMBDA":
            detail["targetArn"] = hook.get("hookTargetArn")
            detail["status"] = "FAILED"
            _event(service, f"(deployment {record.deployment_id}) lifecycle hook {detail['hookId']} at "
                            f"{step['stage']} failed: the Lambda function {hook.get('hookTargetArn')} "
                            "could not be invoked (the embedded AWS has no Lambda).")
            roll_back(backend, service, record, f"Lifecycle hook at {step['stage']} failed.")
            return
        detail["status"] = "AWAITING_ACTION"
        _expire_later(service, record, detail, wait)


def _hook_done(hook: dict) -> bool:
    return hook["status"] == "SUCCEEDED" or (hook["status"] == "TIMED_OUT" and hook["timeoutAction"] == "CONTINUE")


def _expire_later(service: Any, record: records.Record, hook: dict, wait: float) -> None:
    import threading

    def expire() -> None:
        from mylearning.emulator.fidelity.ecs.access import _backend
        from mylearning.emulator.fidelity.ecs.rollout import LOCK
        with LOCK:
            if hook["status"] != "AWAITING_ACTION" or record.status != "IN_PROGRESS":
                return
            backend = _backend(record.region)
            found = backend.services.get(record.service_key)
            hook["status"] = "TIMED_OUT"
            if found is None:
                return
            if hook["timeoutAction"] == "ROLLBACK":
                roll_back(backend, found, record, f"Lifecycle hook at {hook['_stage']} timed out.")
            from mylearning.emulator.fidelity.ecs import scheduler
            scheduler.settle(backend, found)

    timer = threading.Timer(max(0.01, wait), expire)
    timer.daemon = True
    timer.start()


def answer_hook(backend: Any, service: Any, record: records.Record, hook: dict, action: str) -> None:
    """ContinueServiceDeployment: CONTINUE moves on to the next stage, ROLLBACK rolls back."""
    from mylearning.emulator.fidelity.ecs import scheduler
    hook["status"] = "SUCCEEDED" if action == "CONTINUE" else "FAILED"
    if service is None:
        return
    if action == "ROLLBACK":
        roll_back(backend, service, record, "Service deployment rolled back by ContinueServiceDeployment.")
    scheduler.settle(backend, service)


# ---------------------------------------------------------------- alarms and rollback

def _alarms_in_alarm(record: records.Record) -> list[str]:
    alarms = record.config.get("alarms") or {}
    if not alarms.get("enable"):
        return []
    from mylearning.emulator.fidelity.core import moto_backend
    stored = moto_backend("cloudwatch", record.region).alarms
    return [name for name in alarms.get("alarmNames") or []
            if getattr(stored.get(name), "state_value", None) == "ALARM"]


def _check_alarms(backend: Any, service: Any, record: records.Record) -> bool:
    """True when a deployment alarm is in ALARM: the deployment failed (and rolls back)."""
    triggered = _alarms_in_alarm(record)
    if not triggered:
        return False
    record.triggered_alarms = triggered
    primary = _deployment(service, record.deployment_id)
    _event(service, f"(deployment {record.deployment_id}) deployment failed: alarm detected.")
    if (record.config.get("alarms") or {}).get("rollback"):
        roll_back(backend, service, record, f"CloudWatch alarm(s) in ALARM: {', '.join(triggered)}.",
                  announced=True)
    else:
        from moto.core.utils import utcnow
        if primary is not None:
            primary["rolloutState"] = "FAILED"
            primary["rolloutStateReason"] = "ECS deployment failed: alarm detected."
        record.status, record.stopped_at = "STOPPED", utcnow()
        record.status_reason = f"CloudWatch alarm(s) in ALARM: {', '.join(triggered)}."
    return True


def roll_back(backend: Any, service: Any, record: records.Record, reason: str,
              announced: bool = False) -> None:
    """Traffic back to the blue groups, the blue revision PRIMARY again, the green tasks stopped."""
    from moto.core.utils import utcnow

    from mylearning.emulator.fidelity.ecs import scheduler
    now = utcnow()
    green = _deployment(service, record.deployment_id)
    blue = _source(service, record)
    record.rollback = {"reason": reason, "startedAt": now,
                       "serviceRevisionArn": (record.sources or [record.target])[0]}
    record.status_reason = reason
    if blue is None:
        record.status, record.finished_at = "ROLLBACK_FAILED", now
        return
    record.status = "ROLLBACK_IN_PROGRESS"
    _shift(service, record, 0.0, test=False)
    _shift(service, record, 0.0, test=True)
    if green is not None:
        green.update(status="ACTIVE", rolloutState="FAILED", updatedAt=now,
                     rolloutStateReason=f"ECS deployment {green['id']} failed: {reason}")
        if not announced:
            _event(service, f"(deployment {green['id']}) deployment failed: {reason}")
    blue.update(status="PRIMARY", rolloutState="COMPLETED", updatedAt=now)
    service.task_definition = blue["taskDefinition"]
    service.deployments[:] = [blue, *[d for d in service.deployments if d is not blue]]
    _event(service, f"(deployment {record.deployment_id}) rolling back to deployment {blue['id']}.")
    tasks = _tasks_of(backend, service, record.deployment_id)
    if tasks:
        scheduler._stop_tasks(tasks, f"Scaling activity initiated by (deployment {blue['id']})")
        _event(service, f"has stopped {len(tasks)} running tasks: {scheduler._task_list(tasks)}.")
    service._ml_failures = 0
    service._ml_next_launch = 0.0
    _finish_rollback(backend, service, record)


def _finish_rollback(backend: Any, service: Any, record: records.Record) -> None:
    """ROLLBACK_SUCCESSFUL once every green task has stopped."""
    from moto.core.utils import utcnow
    left = [t for t in backend.tasks.get(service.cluster_name, {}).values()
            if t.started_by == record.deployment_id and t.last_status != "STOPPED"]
    if left:
        return
    now = utcnow()
    record.status, record.finished_at, record.updated_at = "ROLLBACK_SUCCESSFUL", now, now
    service.deployments[:] = [d for d in service.deployments if d.get("id") != record.deployment_id]


def breaker_tripped(backend: Any, service: Any, deployment: dict) -> bool:
    """The circuit breaker opened on a deployment this module runs: roll it back here."""
    record = runs(service)
    if record is None or record.deployment_id != deployment.get("id") or record.status != "IN_PROGRESS":
        return False
    roll_back(backend, service, record, "ECS deployment circuit breaker: tasks failed to start.",
              announced=True)
    return True


def alarm_changed(region: str, alarm: Any) -> None:
    """A CloudWatch alarm changed state (the caller holds the state lock): services whose
    running deployment watches it look again at once."""
    if getattr(alarm, "state_value", None) != "ALARM":
        return
    for record in list(records._DEPLOYMENTS.values()):
        names = (record.config.get("alarms") or {}).get("alarmNames") or []
        if record.region == region and record.plan and record.status == "IN_PROGRESS" and alarm.name in names:
            cluster, name = record.service_key.split(":", 1)
            from mylearning.emulator.fidelity.ecs.rollout import _timer
            _timer(0.0, region, cluster, name)
