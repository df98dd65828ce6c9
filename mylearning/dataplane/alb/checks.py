"""Target group health checks, run by the data plane's load balancers and reported to ELB.

Each registered target of a target group that a listener uses is checked with the group's
own settings, as an Application Load Balancer does
(https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html):

* a request every ``HealthCheckIntervalSeconds`` (a wait: divided by the time scale, see
  `mylearning.facts.clock`) to ``HealthCheckPath`` on ``HealthCheckPort`` (``traffic-port``
  is the target's own port), which fails after ``HealthCheckTimeoutSeconds`` (a timeout: never
  scaled); the connection is closed after each check;
* the answer passes when its status is one of ``Matcher.HttpCode`` ("200", "200,202",
  "200-299");
* a newly registered target is ``initial`` and "must pass one health check to be considered
  healthy"; it turns ``unhealthy`` after ``UnhealthyThresholdCount`` failures in a row, a
  healthy target too, and an unhealthy one is ``healthy`` again after
  ``HealthyThresholdCount`` successes in a row;
* the reason codes are ELB's: ``Target.ResponseCodeMismatch`` ("Health checks failed with
  these codes: [404]"), ``Target.Timeout`` ("Request timed out"),
  ``Target.FailedHealthChecks`` ("Health checks failed": refused or reset), and
  ``Elb.InitialHealthChecking`` while an initial target has failed but not enough times.

Requests carry ``User-Agent: ELB-HealthChecker/2.0``, the agent AWS documents for them.
"""
from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Optional

from mylearning.facts import clock

USER_AGENT = "ELB-HealthChecker/2.0"

#: Seconds before a health report ELB did not take is sent again.
REPORT_RETRY = 0.5


def parse_matcher(code: str) -> Callable[[int], bool]:
    """``Matcher.HttpCode``: codes and ranges, comma-separated ("200,202", "200-299")."""
    allowed: list[tuple[int, int]] = []
    for part in (code or "200").split(","):
        part = part.strip()
        if not part:
            continue
        low, _, high = part.partition("-")
        allowed.append((int(low), int(high or low)))
    return lambda status: any(low <= status <= high for low, high in allowed)


@dataclass
class Outcome:
    ok: bool
    reason: Optional[str] = None
    description: Optional[str] = None


@dataclass
class TargetHealth:
    """One target's health-check state machine (pure: fed outcomes, says its state)."""
    healthy_threshold: int
    unhealthy_threshold: int
    state: str = "initial"
    reason: Optional[str] = "Elb.RegistrationInProgress"
    description: Optional[str] = "Target registration is in progress"
    successes: int = 0
    failures: int = 0

    def record(self, outcome: Outcome) -> bool:
        """Take one check's outcome; True when the state (or its reason) changed."""
        before = (self.state, self.reason, self.description)
        if outcome.ok:
            self.successes, self.failures = self.successes + 1, 0
            if self.state == "initial" or (self.state == "unhealthy"
                                           and self.successes >= self.healthy_threshold):
                self.state, self.reason, self.description = "healthy", None, None
        else:
            self.failures, self.successes = self.failures + 1, 0
            if self.failures >= self.unhealthy_threshold:
                self.state, self.reason, self.description = "unhealthy", outcome.reason, outcome.description
            elif self.state == "initial":
                self.reason, self.description = "Elb.InitialHealthChecking", "Initial health checks in progress"
            elif self.state == "unhealthy":
                self.reason, self.description = outcome.reason, outcome.description
        return (self.state, self.reason, self.description) != before


async def check_once(address: Optional[str], port: int, path: str, timeout: float,
                     matches: Callable[[int], bool]) -> Outcome:
    """One health check request to ``address:port`` (None: nothing answers at the IP)."""
    if address is None:
        await asyncio.sleep(timeout)
        return Outcome(False, "Target.Timeout", "Request timed out")
    writer = None
    try:
        async def exchange() -> int:
            nonlocal writer
            reader, writer = await asyncio.open_connection(address, port)
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {address}:{port}\r\nUser-Agent: {USER_AGENT}\r\n"
                         "Accept: */*\r\nConnection: close\r\n\r\n".encode())
            await writer.drain()
            line = await reader.readline()
            parts = line.split()
            if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
                raise ConnectionResetError("not an HTTP answer")
            return int(parts[1])
        status = await asyncio.wait_for(exchange(), timeout)
    except asyncio.TimeoutError:
        return Outcome(False, "Target.Timeout", "Request timed out")
    except (OSError, ValueError):
        return Outcome(False, "Target.FailedHealthChecks", "Health checks failed")
    finally:
        if writer is not None:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
    if matches(status):
        return Outcome(True)
    return Outcome(False, "Target.ResponseCodeMismatch", f"Health checks failed with these codes: [{status}]")


@dataclass
class _Watch:
    group_arn: str
    target_id: str
    port: int
    settings: dict[str, Any]
    machine: TargetHealth
    task: Optional[asyncio.Task] = None
    checks: int = 0
    last_check: float = field(default_factory=time.monotonic)


class HealthChecker:
    """Checks every target it is given; `healthy` answers the listeners, `report` ELB.

    ``locate(ip)`` gives the loopback address serving a private IP (None when nothing
    does); ``report(results)`` is awaited with ELB's health result items on every change.
    """

    def __init__(self, locate: Callable[[str], Optional[str]],
                 report: Callable[[list[dict]], Any],
                 admit: Optional[Callable[[str, str, int], Awaitable[bool]]] = None,
                 inbound: Optional[Callable[[str, int], int]] = None) -> None:
        self.locate = locate
        #: ``inbound(address, port)``: the port that really answers there (an App Mesh
        #: task's proxy ingress for its app ports: the check goes through the proxy, as the
        #: task's iptables redirect sends it on AWS).
        self.inbound = inbound or (lambda address, port: port)
        self.report = report
        #: ``admit(group, target id, port)``: False when security groups drop the check.
        self.admit = admit
        self._watches: dict[tuple[str, str, int], _Watch] = {}
        self._pending: list[dict] = []
        self._flush: Optional[asyncio.Task] = None

    def state(self, group_arn: str, target_id: str, port: int) -> str:
        watch = self._watches.get((group_arn, target_id, port))
        return watch.machine.state if watch else "initial"

    def watching(self) -> list[tuple[str, str, int]]:
        return list(self._watches)

    def update(self, wanted: dict[tuple[str, str, int], dict[str, Any]]) -> None:
        """Check exactly these targets ((group, id, port) -> the group's health settings)."""
        for key in list(self._watches):
            watch = self._watches[key]
            if key not in wanted or wanted[key] != watch.settings:
                if watch.task is not None:
                    watch.task.cancel()
                del self._watches[key]
        for key, settings in wanted.items():
            if key in self._watches or not settings.get("HealthCheckEnabled", True):
                continue
            machine = TargetHealth(int(settings["HealthyThresholdCount"]),
                                   int(settings["UnhealthyThresholdCount"]))
            watch = self._watches[key] = _Watch(*key, settings, machine)
            watch.task = asyncio.ensure_future(self._run(watch))

    async def _run(self, watch: _Watch) -> None:
        settings = watch.settings
        matches = parse_matcher((settings.get("Matcher") or {}).get("HttpCode", "200"))
        port_setting = str(settings.get("HealthCheckPort") or "traffic-port")
        port = watch.port if port_setting == "traffic-port" else int(port_setting)
        interval = clock.wait(float(settings["HealthCheckIntervalSeconds"]))
        timeout = float(settings["HealthCheckTimeoutSeconds"])
        path = settings.get("HealthCheckPath") or "/"
        while True:
            started = time.monotonic()
            address = self.locate(watch.target_id)
            if address is not None and self.admit is not None and \
                    not await self.admit(watch.group_arn, watch.target_id, port):
                address = None  # dropped on the way: nothing answers, the check times out
            outcome = await check_once(address, port if address is None else self.inbound(address, port),
                                       path, timeout, matches)
            watch.checks += 1
            watch.last_check = started
            if watch.machine.record(outcome) or watch.checks == 1:
                self._queue(watch)
            # "Each health check request is independent and lasts the entire interval."
            await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))

    def _queue(self, watch: _Watch) -> None:
        machine = watch.machine
        item = {"TargetGroupArn": watch.group_arn, "Id": watch.target_id, "Port": watch.port,
                "State": machine.state}
        if machine.reason:
            item.update(Reason=machine.reason, Description=machine.description)
        self._pending.append(item)
        if self._flush is None or self._flush.done():
            self._flush = asyncio.ensure_future(self._send())

    def reconcile(self, said: dict[tuple[str, str, int], str]) -> int:
        """Report again each checked target whose state ELB tells otherwise (`said`: the
        states a DescribeTargetHealth read gave): a report lost on the way, or a target ELB
        registered afresh, heals on the next read. Returns how many were queued."""
        queued = 0
        for key, watch in self._watches.items():
            told = said.get(key)
            if watch.checks and told in ("initial", "healthy", "unhealthy") and told != watch.machine.state:
                self._queue(watch)
                queued += 1
        return queued

    async def _send(self) -> None:
        await asyncio.sleep(0)  # gather what changed in the same moment
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                await self.report(batch)
            except Exception:
                # Not lost: sent again (behind anything newer about the same target) soon.
                newer = {(i["TargetGroupArn"], i["Id"], i["Port"]) for i in self._pending}
                self._pending[:0] = [i for i in batch if (i["TargetGroupArn"], i["Id"], i["Port"]) not in newer
                                     and (i["TargetGroupArn"], i["Id"], i["Port"]) in self._watches]
                await asyncio.sleep(REPORT_RETRY)

    def close(self) -> None:
        for watch in self._watches.values():
            if watch.task is not None:
                watch.task.cancel()
        self._watches.clear()
