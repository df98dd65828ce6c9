"""Target health as the data plane's load balancers measure it, and the news they poll for.

ELB checks its targets itself and reports what it finds through ``DescribeTargetHealth``.
Here the data plane's load balancers (``mylearning.dataplane.alb``) run the health checks
and report each target's state to the stand-in endpoint ``POST /mylearning/elb``; they learn
that load balancers, listeners, rules, target groups or targets changed from the long poll
``GET /mylearning/elb?since=N`` (answers as soon as the version moves past N), and then read
the new configuration through the ELBv2 API, like any client. Both are part of the
emulator's AWS surface, as ACS is for the task agent (see ``ecs/acs.py``).

Once a data plane has polled (the account is *attached*), ``DescribeTargetHealth`` answers
what it reported, as ELB does
(https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html,
"Target health status" and "Health check reason codes"):

* a target not yet checked is ``initial`` (``Elb.RegistrationInProgress``);
* a target in a group that no listener rule forwards to is ``unused``
  (``Target.NotInUse``, "Target group is not configured to receive traffic from the load
  balancer"), and is not checked;
* a deregistered target is ``draining`` (``Target.DeregistrationInProgress``) for the group's
  ``deregistration_delay.timeout_seconds`` (default 300; a wait, so divided by the time scale,
  see ``facts.clock``), listed by ``DescribeTargetHealth`` meanwhile, then gone
  (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-target-groups.html#deregistration-delay).

Without a data plane (an emulator started with ``--no-dataplane``) moto's answers stand.
"""
from __future__ import annotations

import collections
import json
import threading
import time
from typing import Any, Callable, Iterable

from mylearning.emulator.fidelity.core import AwsRequest, after, moto_fixes, on_reset
from mylearning.emulator.fidelity.elbv2.access import SERVICE
from mylearning.facts import clock

ELB_PATH = "/mylearning/elb"
MAX_WAIT = 30.0
DEFAULT_DELAY = 300

_cond = threading.Condition()
_version = 0
_attached = False
#: (target group ARN, target id, port) -> (state, reason, description), as reported.
_health: dict[tuple[str, str, int], tuple[str, str | None, str | None]] = {}
#: (target group ARN, target id, port) -> monotonic deadline of its draining.
_draining: dict[tuple[str, str, int], float] = {}

INITIAL = ("initial", "Elb.RegistrationInProgress", "Target registration is in progress")
NOT_IN_USE = ("unused", "Target.NotInUse",
              "Target group is not configured to receive traffic from the load balancer")
DRAINING = ("draining", "Target.DeregistrationInProgress", "Target deregistration is in progress")
STATES = ("initial", "healthy", "unhealthy", "unused", "draining", "unavailable")


def attached() -> bool:
    return _attached


#: The latest changes, (version, target group ARN or None for "anything"), so a data plane
#: re-reads only the targets of the groups that changed (ECS registering a task's target is
#: the common change; a full read of a large account takes a while).
_changes: collections.deque = collections.deque(maxlen=2000)


def changed(group: str | None = None) -> None:
    """Something a load balancer routes by changed (only `group`'s targets, when given):
    wake every data plane that polls."""
    global _version
    with _cond:
        _version += 1
        _changes.append((_version, group))
        _cond.notify_all()


def wait_for_change(since: int, wait: float) -> dict:
    """{"version"}, and {"groups": [...]} when only those groups' targets changed since."""
    global _attached
    _attached = True
    deadline = time.monotonic() + max(0.0, min(wait, MAX_WAIT))
    with _cond:
        while _version <= since:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            _cond.wait(left)
        news: dict[str, Any] = {"version": _version}
        recent = [c for c in _changes if c[0] > since]
        complete = since >= 0 and bool(_changes) and _changes[0][0] <= since + 1
        if recent and complete and all(group for _, group in recent):
            news["groups"] = sorted({group for _, group in recent})
        return news


#: Called with the ARNs of the target groups whose targets' health changed (ECS listens).
_listeners: list[Callable[[set[str]], None]] = []


def on_health_change(fn: Callable[[set[str]], None]) -> Callable[[set[str]], None]:
    _listeners.append(fn)
    return fn


def report(results: Iterable[dict]) -> int:
    """Store health results: each {TargetGroupArn, Id, Port, State, Reason?, Description?};
    tell the listeners which groups changed. The caller holds the state lock."""
    count, groups = 0, set()
    for item in results:
        try:
            key = (str(item["TargetGroupArn"]), str(item["Id"]), int(item["Port"]))
            state = str(item["State"])
        except (KeyError, TypeError, ValueError):
            continue
        if state not in STATES:
            continue
        value = (state, item.get("Reason"), item.get("Description"))
        if _health.get(key) != value:
            groups.add(key[0])
        _health[key] = value
        count += 1
    if groups:
        for fn in _listeners:
            fn(groups)
    return count


def state_of(group: Any, target_id: str, port: int) -> tuple[str, str | None, str | None]:
    """What ``DescribeTargetHealth`` says of a registered target while attached."""
    if not group.load_balancer_arns:
        return NOT_IN_USE
    return _health.get((group.arn, target_id, int(port))) or INITIAL


def _reset() -> None:
    _health.clear()
    _draining.clear()
    changed()


on_reset(_reset)


# ---------------------------------------------------------------- the agent endpoint

def wsgi(environ: dict, start_response: Callable) -> Iterable[bytes]:
    """GET: the long poll for configuration changes; POST: health results."""
    from mylearning.emulator.fidelity.ecs.acs import answer, long_poll
    method = environ.get("REQUEST_METHOD")
    if method == "GET":
        return long_poll(environ, start_response, wait_for_change)
    if method == "POST":
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = json.loads(environ["wsgi.input"].read(length) or b"{}")
            results = body["results"]
            if not isinstance(results, list):
                raise ValueError
        except (ValueError, KeyError, TypeError):
            return answer(start_response, "400 Bad Request", {"message": "expected {\"results\": [...]}"})
        from mylearning.emulator.fidelity.core import STATE
        with STATE:
            stored = report(results)
        return answer(start_response, "200 OK", {"stored": stored})
    return answer(start_response, "405 Method Not Allowed", {"message": "GET or POST"})


# ---------------------------------------------------------------- what moto answers

#: Operations after which a load balancer may route differently.
CHANGES = ("CreateLoadBalancer", "DeleteLoadBalancer", "CreateListener", "DeleteListener",
           "ModifyListener", "CreateRule", "DeleteRule", "ModifyRule", "SetRulePriorities",
           "CreateTargetGroup", "DeleteTargetGroup", "ModifyTargetGroup",
           "ModifyTargetGroupAttributes", "ModifyLoadBalancerAttributes", "SetSecurityGroups",
           "SetSubnets")  # (RegisterTargets and DeregisterTargets announce their group: see below)


@after(SERVICE, *CHANGES)
def _announce(req: AwsRequest, status: int, body: bytes) -> None:
    changed()


def drain_delay(group: Any) -> float:
    """The group's deregistration delay, as a wait (scaled by the time scale)."""
    try:
        seconds = float(group.attributes.get("deregistration_delay.timeout_seconds", DEFAULT_DELAY))
    except (TypeError, ValueError):
        seconds = DEFAULT_DELAY
    return clock.wait(seconds)


def draining(group: Any) -> list[tuple[str, int]]:
    """The group's targets still draining (their deadline not passed), oldest first."""
    now = time.monotonic()
    found = []
    for (arn, target_id, port), deadline in list(_draining.items()):
        if arn != group.arn:
            continue
        if deadline <= now or target_id in group.targets:
            _draining.pop((arn, target_id, port), None)
            continue
        found.append((target_id, port))
    return found


def _fix_target_groups() -> None:
    from moto.elbv2 import models

    group_class = models.FakeTargetGroup
    original_register = group_class.register
    original_deregister = group_class.deregister
    original_health_for = group_class.health_for
    original_describe = models.ELBv2Backend.describe_target_health

    def register(self: Any, targets: list[dict[str, Any]]) -> None:
        # A target registered again on the same port keeps its health (registering is
        # idempotent: the API reference only describes registering *other* ports anew,
        # https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_RegisterTargets.html);
        # a new or draining one is checked afresh from initial.
        already = {(t["Id"], int(t.get("Port") or self.port)) for t in targets
                   if t["Id"] in self.targets
                   and int(self.targets[t["Id"]].get("Port") or self.port) == int(t.get("Port") or self.port)}
        original_register(self, targets)
        for target in targets:
            port = int(target.get("Port") or self.port)
            was_draining = _draining.pop((self.arn, target["Id"], port), None) is not None
            if was_draining or (target["Id"], port) not in already:
                _health.pop((self.arn, target["Id"], port), None)
        changed(self.arn)

    def deregister(self: Any, targets: list[dict[str, Any]]) -> None:
        ports = {t["Id"]: int((self.targets.get(t["Id"]) or {}).get("Port") or t.get("Port") or self.port)
                 for t in targets}
        original_deregister(self, targets)
        delay = drain_delay(self)
        for target_id, port in ports.items():
            _health.pop((self.arn, target_id, port), None)
            if delay > 0 and self.load_balancer_arns:
                _draining[(self.arn, target_id, port)] = time.monotonic() + delay
        changed(self.arn)

    def health_for(self: Any, target: dict[str, Any], ec2_backend: Any) -> Any:
        if not _attached:
            return original_health_for(self, target, ec2_backend)
        registered = self.targets.get(target["Id"])
        port = int((registered or {}).get("Port") or target.get("Port") or self.port)
        if registered is not None:
            state = state_of(self, target["Id"], port)
        elif (target["Id"], port) in draining(self):
            state = DRAINING
        else:
            return original_health_for(self, target, ec2_backend)
        return models.FakeHealthStatus(target["Id"], port, self.health_check_port, *state)

    def describe_target_health(self: Any, target_group_arn: str, targets: list[dict[str, Any]]) -> list:
        if _attached and not targets:
            group = self.target_groups.get(target_group_arn)
            if group is not None:
                targets = list(group.targets.values()) + [
                    {"Id": i, "Port": p} for i, p in draining(group)]
        return original_describe(self, target_group_arn, targets)

    group_class.register = register
    group_class.deregister = deregister
    group_class.health_for = health_for
    models.ELBv2Backend.describe_target_health = describe_target_health


_fixed = False
_fix_lock = threading.Lock()


def ensure_fixed() -> None:
    """Apply the target-group fixes once: on the first ELBv2 call, or when ECS registers
    targets (it reaches moto without an ELBv2 call)."""
    global _fixed
    if not _fixed:
        with _fix_lock:
            if not _fixed:
                _fix_target_groups()
                _fixed = True


moto_fixes(SERVICE, ensure_fixed)
