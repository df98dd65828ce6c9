"""The canary analysis's decisions against scripted metric series (Flagger's rules, analysis.py)."""
from __future__ import annotations

import pytest

from mylearning import canary
from mylearning.canary import DURATION, SUCCESS_RATE, Analysis, Measurement, replay

GOOD = Measurement({SUCCESS_RATE: 100.0, DURATION: 12.0})
BAD = Measurement({SUCCESS_RATE: 91.3, DURATION: 12.0})
SLOW = Measurement({SUCCESS_RATE: 100.0, DURATION: 900.0})
NO_DATA = Measurement({SUCCESS_RATE: None, DURATION: None})


def messages(machine) -> list[str]:
    return [e.message for e in machine.events]


def test_a_healthy_canary_advances_step_by_step_and_is_promoted_after_the_last_weight_bakes():
    machine = replay(Analysis(), [GOOD] * 10)
    assert machine.phase == "Succeeded" and machine.weight == 100 and machine.failed_checks == 0
    assert messages(machine)[:6] == ["Starting canary analysis"] + [f"Advance canary weight {w}" for w in (10, 20, 30, 40, 50)]
    assert "Promoting: routing all traffic to the canary" in messages(machine)
    # Four passing checks climb from 10 to 50, a fifth lets 50 bake and promotes.
    assert len([e for e in machine.events if e.message.startswith("Advance")]) == 5
    assert replay(Analysis(), [GOOD] * 4).phase == "Progressing"
    assert replay(Analysis(), [GOOD] * 5).phase == "Succeeded"


def test_failed_checks_halt_advancement_and_roll_back_at_the_threshold():
    machine = replay(Analysis(threshold=2), [GOOD, BAD, GOOD, BAD, GOOD])
    assert machine.phase == "Failed" and machine.weight == 0 and machine.failed_checks == 2
    assert "Halt advancement: success rate 91.3% < 99%" in messages(machine)
    assert "Rolling back: failed checks threshold reached 2" in messages(machine)
    # Halted at 20 (the failed check does not advance), then 30 after the passing one.
    advances = [m for m in messages(machine) if m.startswith("Advance")]
    assert advances == ["Advance canary weight 10", "Advance canary weight 20", "Advance canary weight 30"]


def test_failed_checks_add_up_over_the_analysis_they_are_not_reset_by_a_pass():
    machine = replay(Analysis(threshold=3), [BAD, GOOD, BAD, GOOD, BAD])
    assert machine.phase == "Failed" and machine.failed_checks == 3


def test_an_interval_with_no_data_is_inconclusive_and_counts_as_a_failed_check():
    machine = replay(Analysis(threshold=2), [NO_DATA, GOOD])
    assert machine.phase == "Progressing" and machine.weight == 20 and machine.failed_checks == 1
    assert any("no values found for request-success-rate" in m for m in messages(machine))
    assert replay(Analysis(threshold=2), [NO_DATA, NO_DATA]).phase == "Failed"


def test_latency_above_its_maximum_fails_a_check_too():
    machine = replay(Analysis(threshold=1), [SLOW])
    assert machine.phase == "Failed"
    assert "Halt advancement: p99 latency 900.0 ms > 500 ms" in messages(machine)


def test_an_alarm_in_alarm_fails_the_check_and_a_missing_alarm_is_named():
    analysis = Analysis(threshold=1, alarms=("courses-5xx",))
    assert replay(analysis, [Measurement(GOOD.values, {"courses-5xx": "ALARM"})]).phase == "Failed"
    machine = replay(analysis, [Measurement(GOOD.values, {})])
    assert any("alarm courses-5xx not found" in m for m in messages(machine))
    assert replay(analysis, [Measurement(GOOD.values, {"courses-5xx": "OK"})]).weight == 20


def test_step_weights_are_followed_in_order():
    machine = replay(Analysis(step_weights=(1, 5, 25, 80)), [GOOD] * 3)
    assert [m for m in messages(machine) if m.startswith("Advance")] == [
        f"Advance canary weight {w}" for w in (1, 5, 25, 80)]
    assert replay(Analysis(step_weights=(1, 5, 25, 80)), [GOOD] * 4).phase == "Succeeded"


def test_weights_end_at_max_weight_even_when_it_is_not_a_multiple_of_the_step():
    assert Analysis(step_weight=20, max_weight=50).weights() == [20, 40, 50]


@pytest.mark.parametrize("settings, message", [
    ({"interval": 7}, "multiple of 5"), ({"interval": 0}, "multiple of 5"),
    ({"threshold": 0}, "at least 1"), ({"step_weight": 60, "max_weight": 50}, "stepWeight"),
    ({"step_weights": (10, 5)}, "increasing"), ({"step_weights": (0, 10)}, "increasing")])
def test_settings_outside_what_an_analysis_can_run_are_refused_with_the_reason(settings, message):
    with pytest.raises(ValueError, match=message):
        Analysis(**settings)


def test_a_metric_check_needs_a_range_and_a_known_name():
    with pytest.raises(ValueError, match="thresholdRange"):
        canary.MetricCheck(SUCCESS_RATE)
    with pytest.raises(ValueError, match="reads"):
        canary.MetricCheck("error-budget", min=1)


def test_the_rollback_bound_is_interval_times_threshold_and_the_longest_run_one_interval_per_step():
    analysis = Analysis(interval=10, threshold=3)
    assert analysis.rollback_bound() == 30 and analysis.longest_run() == 50


def test_a_step_is_measured_by_what_was_published_while_it_baked_in_whole_periods():
    # Changed at ...002.5: counts published from 7 s later (...009.5, widened down to ...005) until
    # 7 s after the 10-second bake (...019.5, widened up to ...020).
    assert canary.window(1_000_002.5, 10, settle=7) == (1_000_005, 1_000_020)
    assert canary.window(1_000_000, 10, settle=0) == (1_000_000, 1_000_010)
    # Never less than two of Envoy's 5-second flushes.
    assert canary.window(1_000_000, 5, settle=0) == (1_000_000, 1_000_010)


def test_the_machine_refuses_to_observe_before_it_starts_or_after_it_ends():
    machine = canary.Machine(Analysis())
    with pytest.raises(RuntimeError):
        machine.observe(GOOD)
    done = replay(Analysis(threshold=1), [BAD])
    with pytest.raises(RuntimeError):
        done.observe(GOOD)
