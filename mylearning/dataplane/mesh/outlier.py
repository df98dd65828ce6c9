"""Outlier detection: which hosts of a backend node a client proxy leaves out, and for how long.

The server's virtual node declares it on its listener; the *client's* proxy applies it to its
egress cluster for that node ("Outlier detection applied at the client Envoy",
https://docs.aws.amazon.com/app-mesh/latest/userguide/virtual_nodes.html). App Mesh maps the
four members of API_OutlierDetection.html onto Envoy's consecutive-5xx detector
(https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/outlier):

* ``maxServerErrors``: "Number of consecutive 5xx errors required for ejection". Locally
  originated failures (connect failure, reset, timeout) count as 5xx (Envoy's default,
  split_external_local_origin_errors false); any other response resets the count. A consecutive
  5xx ejection "runs inline", at the error that reaches the threshold.
* ``maxEjectionPercent``: "Maximum percentage of hosts in load balancing pool for upstream service
  that can be ejected. Will eject at least one host regardless of the value." An ejection that
  would take more than that share is not made (``ejections_overflow``).
* ``baseEjectionDuration``: a host is ejected for base x the number of times it has been ejected
  in a row, never longer than Envoy's max_ejection_time (300 s, or the base if larger; App Mesh
  does not set it), and "An ejected host will automatically be brought back into service after the
  ejection time has been satisfied", at the next sweep.
* ``interval``: the time between sweeps. At each sweep expired ejections end, and a host that is
  healthy at the check has its ejection multiplier decremented ("If the host is healthy during
  that check, the ejection time multiplier is decremented").

The walkthrough's example: base 30 s, a host ejected a second time stays out for 60 s
(aws-app-mesh-examples, walkthroughs/howto-outlier-detection).

Panic: when fewer than 50% of the hosts are available, Envoy balances across all of them
regardless of health (healthy_panic_threshold, default 50%,
https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/load_balancing/panic_threshold),
and counts ``lb_healthy_panic``; the walkthrough shows it ("Panic and Ignore Outlier Detection").

The clock is injectable, and sweeps are run lazily for every interval that has passed whenever
the detector is used, so tests need no sleeping and a proxy needs no timer.
"""
from __future__ import annotations

import dataclasses
import time
from typing import Callable, Iterable, TYPE_CHECKING

from mylearning.dataplane.mesh.model import OutlierSpec
from mylearning.dataplane.mesh.retry import Outcome

if TYPE_CHECKING:
    from mylearning.dataplane.mesh.stats import ClusterStats

MAX_EJECTION_TIME = 300.0
PANIC_THRESHOLD = 50.0


@dataclasses.dataclass
class _Host:
    consecutive: int = 0
    multiplier: int = 0
    ejected_at: float | None = None
    ejected_since_sweep: bool = False


class OutlierDetector:
    def __init__(self, spec: OutlierSpec, hosts: Iterable[str] = (), *, clock: Callable[[], float] = time.monotonic,
                 stats: "ClusterStats | None" = None) -> None:
        self.spec = spec
        self.clock = clock
        self.stats = stats
        self._hosts: dict[str, _Host] = {}
        self._next_sweep = clock() + spec.interval
        self.set_hosts(hosts)

    # --- membership -------------------------------------------------------------------

    def set_hosts(self, hosts: Iterable[str]) -> None:
        """The cluster's current endpoints (service discovery changed); others are forgotten."""
        wanted = list(dict.fromkeys(hosts))
        self._hosts = {h: self._hosts.get(h) or _Host() for h in wanted}
        self._publish()

    @property
    def hosts(self) -> list[str]:
        return list(self._hosts)

    # --- reports ------------------------------------------------------------------------

    def report(self, host: str, outcome: Outcome) -> bool:
        """One attempt's outcome against ``host``; True when this ejected it."""
        self._catch_up()
        state = self._hosts.get(host)
        if state is None:
            return False
        if not outcome.server_error:
            state.consecutive = 0
            return False
        state.consecutive += 1
        if state.consecutive < self.spec.max_server_errors:
            return False
        state.consecutive = 0
        if self.stats:
            self.stats.inc("outlier_detection.ejections_detected_consecutive_5xx")
        if state.ejected_at is not None:
            return False
        if not self._may_eject():
            if self.stats:
                self.stats.inc("outlier_detection.ejections_overflow")
            return False
        state.ejected_at = self.clock()
        state.multiplier += 1
        state.ejected_since_sweep = True
        if self.stats:
            self.stats.inc("outlier_detection.ejections_enforced_total")
            self.stats.inc("outlier_detection.ejections_enforced_consecutive_5xx")
        self._publish()
        return True

    def _may_eject(self) -> bool:
        ejected = sum(1 for h in self._hosts.values() if h.ejected_at is not None)
        if ejected == 0:
            return True  # "Will eject at least one host regardless of the value."
        return (ejected + 1) * 100 <= self.spec.max_ejection_percent * len(self._hosts)

    # --- sweeps -------------------------------------------------------------------------

    def ejection_time(self, multiplier: int) -> float:
        base = self.spec.base_ejection
        return min(base * multiplier, max(MAX_EJECTION_TIME, base))

    def _catch_up(self) -> None:
        now = self.clock()
        if self.spec.interval <= 0:
            self._sweep(now)
            return
        while self._next_sweep <= now:
            self._sweep(self._next_sweep)
            self._next_sweep += self.spec.interval

    def _sweep(self, at: float) -> None:
        for state in self._hosts.values():
            if state.ejected_at is not None:
                if at - state.ejected_at >= self.ejection_time(state.multiplier):
                    state.ejected_at = None
            elif state.multiplier and not state.ejected_since_sweep:
                state.multiplier -= 1
            state.ejected_since_sweep = False
        self._publish()

    # --- answers ------------------------------------------------------------------------

    def ejected(self, host: str) -> bool:
        self._catch_up()
        state = self._hosts.get(host)
        return bool(state and state.ejected_at is not None)

    def multiplier(self, host: str) -> int:
        self._catch_up()
        state = self._hosts.get(host)
        return state.multiplier if state else 0

    def available(self) -> tuple[list[str], bool]:
        """The hosts to balance over and whether the cluster is in panic (all hosts, any health)."""
        self._catch_up()
        hosts = list(self._hosts)
        healthy = [h for h in hosts if self._hosts[h].ejected_at is None]
        if hosts and len(healthy) * 100 < PANIC_THRESHOLD * len(hosts):
            if self.stats:
                self.stats.inc("lb_healthy_panic")
            return hosts, True
        return healthy, False

    def health_flags(self, host: str) -> str:
        """As ``/clusters`` shows it."""
        return "/failed_outlier_check" if self.ejected(host) else "healthy"

    def _publish(self) -> None:
        if self.stats:
            active = sum(1 for h in self._hosts.values() if h.ejected_at is not None)
            self.stats.set("outlier_detection.ejections_active", active)
            self.stats.set("membership_total", len(self._hosts))
            self.stats.set("membership_healthy", len(self._hosts) - active)
