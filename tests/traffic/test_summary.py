"""A summary of known results: its table, its data for graders, its chart, its live view."""
from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from mylearning.traffic import live  # noqa: E402
from mylearning.traffic.plan import Plan  # noqa: E402
from mylearning.traffic.results import Recorder, Result  # noqa: E402
from mylearning.traffic.summary import Summary  # noqa: E402

URL = "http://10.0.1.23:8080/api/courses"


def recorded() -> Recorder:
    """20 requests over 2.5 s: 1.0.0 on task a, then 2.0.0 on task b, two 500s, a timeout."""
    recorder = Recorder()
    for i in range(20):
        recorder.begin()
        started = i * 0.1
        if i == 19:
            recorder.add(Result(started, 0.15, 0, error="timeout"))
        elif i in (11, 13):
            recorder.add(Result(started, 0.002 * (i + 1), 500, "2.0.0", "b", "http 500"))
        else:
            version, task = ("1.0.0", "a") if i < 10 else ("2.0.0", "b")
            recorder.add(Result(started, 0.001 * (i + 1), 200, version, task))
    recorder.ended = 2.5
    return recorder


def summary(**extra) -> Summary:
    return Summary.build(recorded(), url=URL, method="GET", mode="rate", scheduled=20, rate=10.0,
                         planned_duration=2.0, examples={"http 500": "internal server error",
                                                         "timeout": "TimeoutError"}, **extra)


def test_counts_latency_and_rates():
    s = summary()
    assert (s.count, s.sent, s.ok, s.error_count) == (20, 20, 17, 3)
    assert s.by_status == {0: 1, 200: 17, 500: 2}
    assert s.by_version == {"1.0.0": 10, "2.0.0": 9, "unknown": 1}
    assert s.by_target == {"a": 10, "b": 9, "unknown": 1}
    assert s.errors == {"http 500": 2, "timeout": 1}
    assert s.error_rate == 0.15 and s.achieved_rate == 8.0 and s.kept_rate is True
    # successes took 1..11 ms and 13, 15..19 ms: the 17 measured values, nearest rank
    ok = sorted([i + 1 for i in range(19) if i not in (11, 13)])
    assert s.ok_latency.count == 17 and s.ok_latency.p50 == pytest.approx(ok[8]) and s.ok_latency.max == 19
    assert s.latency.count == 20 and s.latency.max == 150  # the timeout, 150 ms
    assert [(x.second, x.requests, x.errors, x.span) for x in s.series] == [
        (0, 10, 0, 1.0), (1, 9, 2, 1.0), (2, 1, 1, 0.5)]
    assert s.notes == []


def test_prints_as_a_plain_text_table():
    text = str(summary())
    assert repr(summary()) == text
    lines = text.splitlines()
    assert lines[0] == ("GET http://10.0.1.23:8080/api/courses (rate 10/s for 2 s): 20 finished in 2.50 s, "
                        "8.0/s, 17 ok, 3 errors (15.0%)")
    cells = [line.split() for line in lines]
    assert ["status", "count", "share"] in cells and ["200", "17", "85.0%"] in cells
    assert ["0", "(no", "answer)", "1", "5.0%"] in cells and ["1.0.0", "10", "50.0%"] in cells
    assert ["http", "500", "2", "internal", "server", "error"] in cells
    assert ["latency", "ms", "n", "p50", "p95", "p99", "max"] in cells
    assert ["ok", "17", "9.0", "19.0", "19.0", "19.0"] in cells  # nearest ranks 9, 17, 17 of 17
    assert ["all", "20", "10.0", "28.0", "150.0", "150.0"] in cells


def test_to_dict_is_json_for_graders():
    data = json.loads(json.dumps(summary().to_dict()))
    assert data["by_status"] == {"0": 1, "200": 17, "500": 2}
    assert data["by_version"] == {"1.0.0": 10, "2.0.0": 9, "unknown": 1}
    assert data["errors"] == {"http 500": 2, "timeout": 1}
    assert data["latency_ms"]["ok"]["p99"] == 19 and data["latency_ms"]["all"]["max"] == 150
    assert (data["count"], data["ok"], data["error_count"], data["error_rate"]) == (20, 17, 3, 0.15)
    assert data["series"][1] == {"second": 1, "requests": 9, "errors": 2,
                                 "by_version": {"2.0.0": 9}, "span": 1.0}
    assert data["mode"] == "rate" and data["kept_rate"] is True and data["interrupted"] is False


def test_a_run_that_fell_behind_or_was_interrupted_says_so():
    recorder = recorded()
    recorder.skipped, recorder.sent = 30, 21  # one more sent than finished: in flight at the end
    s = Summary.build(recorder, url=URL, method="GET", mode="rate", scheduled=50, rate=25.0,
                      planned_duration=2.0, interrupted=True)
    assert s.kept_rate is False and s.unfinished == 1
    assert s.notes[0] == "interrupted after 2.5 s: 20 of 50 requests finished, 1 in flight not counted"
    assert s.notes[1].startswith("the client could not keep 25 requests/s: 30 requests not sent")
    assert "note: interrupted" in str(s) and "could not keep" in s._repr_html_()


def test_html_and_plot():
    s = summary()
    page = s._repr_html_()
    assert page.count("<table>") == 5 and "<td>1.0.0</td><td>10</td><td>50.0%</td>" in page
    figure = s.plot()
    assert isinstance(figure, Figure) and len(figure.axes) == 3  # series, its error-rate twin, latency
    assert figure.axes[0].get_title() == "Responses per second, by version"
    assert figure._repr_png_().startswith(b"\x89PNG")  # shows in Jupyter even without pyplot
    assert Summary.build(Recorder(), url=URL, method="GET", mode="requests", scheduled=1).plot() is not None


def test_live_numbers_and_the_widget_view(capsys):
    plan = Plan.build(URL, rate=10, duration=4)
    recorder = recorded()
    recorder.ended = None
    recorder.t0 -= 2.0  # the run started 2 s ago, as the 20 results say
    n = live.numbers(recorder.snapshot(), plan)
    assert n["done"] == 20 and n["in_flight"] == 0 and 0.45 < n["progress"] < 0.6
    assert set(n["versions"]) == {"1.0.0", "2.0.0", "unknown"} and n["versions"]["1.0.0"]["total"] == 10
    view = live.Widgets(plan, show_after=0.0)
    view.tick(recorder)  # outside a kernel display() prints the widget's repr: harmless
    assert "requests/s" in view.numbers.value and "2.0.0" in view.numbers.value
    assert bytes(view.chart.value).startswith(b"\x89PNG")
    final = summary()
    view.finish(final)
    assert view.bar.value == 1.0 and view.numbers.value == final._repr_html_()
    assert "2.0.0=9" in live.line(n)


def test_outside_jupyter_there_is_no_view():
    plan = Plan.build(URL, rate=10, duration=60)
    assert not live.in_jupyter()
    assert type(live.view_for(plan, True)) is live.Quiet  # pytest's stderr is no terminal
    assert type(live.view_for(plan, False)) is live.Quiet
