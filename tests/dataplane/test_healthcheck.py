"""mylearning.dataplane.healthcheck: ECS's timings and rules, Docker's schedule, the task rule."""
from __future__ import annotations

import asyncio
import time

import pytest
from aiohttp import web

from mylearning.dataplane import healthcheck as hc, shell
from tests.dataplane.conftest import TASK_ADDRESS, serving

CMD = ["CMD-SHELL", "curl -f http://localhost/ || exit 1"]


# ---------------------------------------------------------------- configuration

def test_defaults_are_aws_defaults():
    config = hc.HealthCheckConfig.from_definition({"command": CMD})
    assert config == hc.HealthCheckConfig(tuple(CMD), interval=30, timeout=5, retries=3, start_period=0)


@pytest.mark.parametrize("field,low,high", [("interval", 5, 300), ("timeout", 2, 60),
                                            ("retries", 1, 10), ("startPeriod", 0, 300)])
def test_bounds(field, low, high):
    for ok in (low, high):
        hc.HealthCheckConfig.from_definition({"command": CMD, field: ok})
    for bad in (low - 1, high + 1, "10", True):
        with pytest.raises(ValueError, match=field):
            hc.HealthCheckConfig.from_definition({"command": CMD, field: bad})


def test_command_forms():
    assert hc.HealthCheckConfig.from_definition({"command": ["CMD", "true"]}).command == ("CMD", "true")
    for bad in (None, [], ["curl", "-f", "http://localhost/"], ["CMD"], "CMD-SHELL true"):
        with pytest.raises(ValueError):
            hc.HealthCheckConfig.from_definition({"command": bad})


# ---------------------------------------------------------------- the monitor

def _monitor(codes, *, start_period=0, retries=3, interval=5, time_scale=100.0, delay=0.0):
    """A monitor whose probe answers `codes` in turn (then keeps the last)."""
    calls: list[float] = []
    changes: list[str] = []
    script = list(codes)

    async def probe() -> int:
        calls.append(time.monotonic())
        if delay:
            await asyncio.sleep(delay)
        return script.pop(0) if len(script) > 1 else script[0]

    config = hc.HealthCheckConfig(tuple(CMD), interval=interval, timeout=2, retries=retries,
                                  start_period=start_period)
    return hc.HealthMonitor(config, probe, changes.append, time_scale=time_scale), calls, changes


async def _run_for(monitor: hc.HealthMonitor, seconds: float) -> float:
    started = time.monotonic()
    monitor.start()
    await asyncio.sleep(seconds)
    await monitor.stop()
    return started


def test_first_check_after_one_interval_then_every_interval(run_async):
    monitor, calls, changes = _monitor([0], interval=5, time_scale=25.0)  # 0.2 s
    assert monitor.status == hc.UNKNOWN  # as ECS reports a container being evaluated
    started = run_async(_run_for(monitor, 0.75))
    assert 3 <= len(calls) <= 4
    assert calls[0] - started >= 0.19
    assert all(b - a >= 0.19 for a, b in zip(calls, calls[1:]))
    assert changes == [hc.HEALTHY]


def test_retries_consecutive_failures_make_it_unhealthy_and_a_success_heals(run_async):
    monitor, calls, changes = _monitor([1, 1, 0, 1, 1, 1, 0], retries=3)
    run_async(_run_for(monitor, 0.5))  # checks every 0.05 s
    assert len(calls) >= 7
    assert changes[:3] == [hc.HEALTHY, hc.UNHEALTHY, hc.HEALTHY]
    assert list(monitor.results)[-1] == 0


def test_start_period_failures_do_not_count_until_a_success(run_async):
    # 30 s of grace at time_scale 100 is 0.3 s: the failures in it are forgiven.
    monitor, calls, changes = _monitor([1], retries=1, start_period=30)

    async def go():
        monitor.start()
        await asyncio.sleep(0.2)
        during = (len(calls), list(changes), monitor.status)
        await asyncio.sleep(0.3)  # past the grace period: the first failure counts
        await monitor.stop()
        return during
    count, during, status = run_async(go())
    assert count >= 2 and during == [] and status == hc.UNKNOWN
    assert changes == [hc.UNHEALTHY]


def test_a_success_in_the_start_period_ends_the_grace():
    config = hc.HealthCheckConfig(tuple(CMD), interval=5, timeout=2, retries=1, start_period=300)
    changes: list[str] = []
    monitor = hc.HealthMonitor(config, lambda: None, changes.append)  # type: ignore[arg-type]
    monitor.record(1, in_start_period=True)
    assert monitor.status == hc.UNKNOWN
    monitor.record(0, in_start_period=True)
    monitor.record(1, in_start_period=True)
    assert changes == [hc.HEALTHY, hc.UNHEALTHY]


def test_timeouts_are_real_time_never_scaled(run_async):
    # A probe answering in 0.3 s passes a 2 s timeout even with waits 100x faster...
    monitor, calls, changes = _monitor([0], delay=0.3, time_scale=100.0)
    run_async(_run_for(monitor, 0.5))
    assert changes == [hc.HEALTHY]
    # ...and one slower than the timeout fails, whatever the scale.
    monitor, calls, changes = _monitor([0], delay=2.5, retries=1, time_scale=100.0)
    run_async(_run_for(monitor, 2.3))
    assert changes == [hc.UNHEALTHY] and list(monitor.results) == [-1]


def test_a_real_curl_health_check_against_a_real_app(run_async):
    healthy = {"now": True}

    async def health(request: web.Request) -> web.Response:
        return web.Response(status=200 if healthy["now"] else 503, text="ok")

    async def go():
        app = web.Application()
        app.router.add_get("/health", health)
        async with serving(app) as port:
            config = hc.HealthCheckConfig.from_definition(
                {"command": ["CMD-SHELL", f"curl -f http://localhost:{port}/health || exit 1"],
                 "interval": 5, "retries": 2})
            changes: list[str] = []

            async def probe() -> int:
                return (await shell.run(list(config.command), env={}, address=TASK_ADDRESS,
                                        timeout=config.timeout)).exit_code

            monitor = hc.HealthMonitor(config, probe, changes.append, time_scale=50.0)  # 0.1 s
            monitor.start()
            await asyncio.sleep(0.35)
            healthy["now"] = False
            await asyncio.sleep(0.4)
            await monitor.stop()
            return changes
    assert run_async(go()) == [hc.HEALTHY, hc.UNHEALTHY]


# ---------------------------------------------------------------- task health

def _c(status, essential=True, check=True):
    return {"essential": essential, "healthCheck": {"command": CMD} if check else None,
            "healthStatus": status}


def test_task_health_follows_ecs_rule():
    assert hc.task_health([_c("HEALTHY"), _c("HEALTHY")]) == hc.HEALTHY
    assert hc.task_health([_c("HEALTHY"), _c("UNKNOWN")]) == hc.UNKNOWN
    assert hc.task_health([_c("UNKNOWN"), _c("UNHEALTHY")]) == hc.UNHEALTHY
    # Non-essential containers and containers without a check do not count.
    assert hc.task_health([_c("HEALTHY"), _c("UNHEALTHY", essential=False)]) == hc.HEALTHY
    assert hc.task_health([_c("HEALTHY"), _c("UNHEALTHY", check=False)]) == hc.HEALTHY
    # Nothing to consider: UNKNOWN.
    assert hc.task_health([_c("HEALTHY", check=False)]) == hc.UNKNOWN
    assert hc.task_health([]) == hc.UNKNOWN
    # Attribute-style containers work too; essential defaults to True.
    class C:
        has_health_check = True
        health_status = "UNHEALTHY"
    assert hc.task_health([C()]) == hc.UNHEALTHY
