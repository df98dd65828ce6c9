"""The arithmetic of a run: nearest-rank percentiles, error kinds, the per-second series."""
from __future__ import annotations

import random

import numpy as np
import pytest

from mylearning.traffic import percentile
from mylearning.traffic.results import Percentiles, Recorder, Result, error_kind, per_second


def test_percentiles_of_one_to_a_hundred_are_the_ranks_themselves():
    values = list(range(1, 101))
    assert [percentile(values, p) for p in (1, 50, 95, 99, 100)] == [1, 50, 95, 99, 100]
    assert percentile(values, 29) == 29 and percentile(values, 0.29 * 100) == 29  # 28.999... is not 29
    assert percentile(values, 99.5) == 100  # rank ceil(99.5) = 100


def test_nearest_rank_on_small_sets_is_a_measured_value():
    assert percentile([7.0], 50) == percentile([7.0], 99) == 7.0
    assert percentile([1, 2], 50) == 1 and percentile([1, 2], 51) == 2
    assert percentile([10, 20, 30, 40], 75) == 30 and percentile([10, 20, 30, 40], 76) == 40
    assert percentile([], 50) is None
    for bad in (0, -1, 101):
        with pytest.raises(ValueError):
            percentile([1, 2, 3], bad)


def test_percentiles_match_numpys_inverted_cdf_on_a_known_distribution():
    rng = random.Random(11)
    latencies = sorted(rng.lognormvariate(3.0, 0.6) for _ in range(2_345))  # a latency-like long tail
    for p in (50, 90, 95, 99, 99.9):
        assert percentile(latencies, p) == pytest.approx(np.percentile(latencies, p, method="inverted_cdf"))
    shuffled = list(range(1, 1001))
    rng.shuffle(shuffled)
    summary = Percentiles.of(s / 1000 for s in shuffled)  # seconds in, milliseconds out
    assert (summary.count, summary.p50, summary.p95, summary.p99, summary.max) == (1000, 500, 950, 990, 1000)
    assert summary.mean == pytest.approx(500.5)
    assert Percentiles.of([]).to_dict() == {"count": 0, "p50": None, "p95": None, "p99": None,
                                            "max": None, "mean": None}


def test_success_is_200_to_399_and_every_other_answer_an_error_of_its_kind():
    assert error_kind(200) is None and error_kind(204) is None and error_kind(302) is None
    assert error_kind(404) == "http 404" and error_kind(500) == "http 500"
    assert error_kind(502, "no-route") == "edge 502 no-route" and error_kind(199) == "http 199"


def test_the_series_counts_what_finished_in_each_second_by_version():
    results = [Result(0.1, 0.2, 200, "1.0.0"), Result(0.5, 0.1, 200, "2.0.0"),
               Result(1.2, 0.1, 500, "2.0.0", error="http 500"), Result(2.9, 0.3, 0, error="timeout")]
    series = per_second(results, 3.25)
    assert [(s.second, s.requests, s.errors) for s in series] == [(0, 2, 0), (1, 1, 1), (2, 0, 0), (3, 1, 1)]
    assert series[0].by_version == {"1.0.0": 1, "2.0.0": 1} and series[3].by_version == {"unknown": 1}
    assert [s.span for s in series] == [1.0, 1.0, 1.0, pytest.approx(0.25)]
    assert series[1].error_rate == 1.0 and series[2].error_rate == 0.0
    assert [s.second for s in per_second(results, 3.25, since=2)] == [2, 3]
    assert per_second([], 0.0) == []


def test_a_recorder_snapshot_is_a_copy():
    recorder = Recorder()
    recorder.begin(lateness=0.2, late_after=0.1)
    recorder.begin(lateness=0.05, late_after=0.1)
    recorder.add(Result(0.0, 0.01, 200))
    seen = recorder.snapshot()
    recorder.add(Result(0.0, 0.02, 200))
    assert (seen.sent, len(seen.results), seen.in_flight, seen.late, seen.max_late) == (2, 1, 1, 1, 0.2)
    assert len(recorder.results) == 2 and recorder.in_flight == 0
