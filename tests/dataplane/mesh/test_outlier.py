"""Outlier detection on an injected clock: consecutive 5xx, ejection time, max %, sweeps, panic."""
from __future__ import annotations

import pytest

from mylearning.dataplane.mesh import CONNECT_FAILURE, OutlierDetector, Outcome, Stats
from mylearning.dataplane.mesh.model import OutlierSpec

OK, FAIL = Outcome.response(200), Outcome.response(500)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def detector(hosts=("a", "b", "c", "d"), *, errors=3, interval=10.0, base=30.0, percent=50, stats=None):
    clock = Clock()
    spec = OutlierSpec(max_server_errors=errors, interval=interval, base_ejection=base, max_ejection_percent=percent)
    return OutlierDetector(spec, hosts, clock=clock, stats=stats), clock


@pytest.mark.parametrize("outcomes, ejected", [
    ([FAIL, FAIL, FAIL], True),                       # maxServerErrors consecutive 5xx
    ([FAIL, FAIL], False),
    ([FAIL, FAIL, OK, FAIL, FAIL], False),            # a success resets the count
    ([FAIL, Outcome.failed(CONNECT_FAILURE), Outcome.response(503)], True),  # local failures count as 5xx
    ([Outcome.response(404)] * 5, False),             # 4xx is not a server error
    ([Outcome.response(503, overloaded=True)] * 3, True),
])
def test_consecutive_server_errors_eject_inline(outcomes, ejected):
    d, _ = detector()
    results = [d.report("a", o) for o in outcomes]
    assert d.ejected("a") is ejected
    assert any(results) is ejected


@pytest.mark.parametrize("hosts, percent, ejectable", [
    (4, 50, 2), (4, 10, 1),      # "Will eject at least one host regardless of the value"
    (4, 0, 1), (3, 50, 1), (4, 100, 4), (10, 30, 3), (1, 0, 1),
])
def test_max_ejection_percent(hosts, percent, ejectable):
    stats = Stats()
    names = [f"h{i}" for i in range(hosts)]
    d, _ = detector(names, errors=1, percent=percent, stats=stats.cluster("c"))
    for host in names:
        d.report(host, FAIL)
    assert sum(d.ejected(h) for h in names) == ejectable
    assert stats.get("cluster.c.outlier_detection.ejections_active") == ejectable
    assert stats.get("cluster.c.outlier_detection.ejections_overflow") == hosts - ejectable
    assert stats.get("cluster.c.outlier_detection.ejections_detected_consecutive_5xx") == hosts


def test_ejection_lasts_base_times_ejections_and_ends_at_a_sweep():
    d, clock = detector(errors=1, interval=10.0, base=30.0)
    d.report("a", FAIL)                       # t=0: first ejection, 30 s
    for t, out in ((29.9, True), (30.0, False)):  # the sweep at t=30 brings it back
        clock.now = t
        assert d.ejected("a") is out
    clock.now = 35.0
    d.report("a", FAIL)                       # ejected again within one interval: 2 x 30 s = 60 s
    assert d.multiplier("a") == 2
    for t, out in ((94.9, True), (100.0, False)):   # 35 + 60 = 95; the next sweep is at 100
        clock.now = t
        assert d.ejected("a") is out


def test_healthy_sweeps_bring_the_multiplier_back_down():
    d, clock = detector(errors=1, interval=10.0, base=30.0)
    for t in (0.0, 35.0):
        clock.now = t
        d.report("a", FAIL)
    clock.now = 100.0                         # back in service at the sweep at 100
    assert not d.ejected("a") and d.multiplier("a") == 2
    clock.now = 110.0                         # healthy at the check: decremented
    assert d.multiplier("a") == 1
    clock.now = 120.0
    assert d.multiplier("a") == 0
    d.report("a", FAIL)                       # so the next ejection is the base again
    clock.now = 149.0
    assert d.ejected("a")
    clock.now = 150.0
    assert not d.ejected("a")


def test_ejection_time_is_capped_at_envoys_max_ejection_time():
    d, _ = detector(errors=1, base=100.0)
    assert [d.ejection_time(n) for n in (1, 2, 3, 4)] == [100.0, 200.0, 300.0, 300.0]
    big, _ = detector(errors=1, base=400.0)
    assert big.ejection_time(3) == 400.0      # max(300 s, base)


def test_ejected_hosts_leave_the_balancing_set_until_panic():
    stats = Stats()
    d, _ = detector(("a", "b", "c", "d"), errors=1, percent=100, stats=stats.cluster("c"))
    d.report("a", FAIL)
    assert d.available() == (["b", "c", "d"], False)
    d.report("b", FAIL)
    assert d.available() == (["c", "d"], False)        # 50% healthy: not below the threshold
    d.report("c", FAIL)
    assert d.available() == (["a", "b", "c", "d"], True)   # below 50%: panic, every host
    assert stats.get("cluster.c.lb_healthy_panic") == 1
    assert stats.get("cluster.c.membership_healthy") == 1 and stats.get("cluster.c.membership_total") == 4
    assert d.health_flags("a") == "/failed_outlier_check" and d.health_flags("d") == "healthy"


def test_membership_changes_keep_known_hosts_state():
    d, _ = detector(("a", "b"), errors=1, percent=100)
    d.report("a", FAIL)
    d.set_hosts(["a", "c"])
    assert d.hosts == ["a", "c"] and d.ejected("a") and not d.ejected("c")
    assert not d.report("b", FAIL)            # a host no longer known is ignored


def test_enforced_ejection_stats():
    stats = Stats()
    d, _ = detector(errors=2, stats=stats.cluster("cds_egress_mesh1_color-node_http_8080"))
    for _ in range(2):
        d.report("a", FAIL)
    text = stats.render()
    assert "cluster.cds_egress_mesh1_color-node_http_8080.outlier_detection.ejections_active: 1\n" in text
    assert "cluster.cds_egress_mesh1_color-node_http_8080.outlier_detection.ejections_enforced_total: 1\n" in text
    assert "cluster.cds_egress_mesh1_color-node_http_8080.outlier_detection.ejections_enforced_consecutive_5xx: 1\n" in text
