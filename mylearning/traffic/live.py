"""Seeing a run while it runs: requests per second, error rate, answers by version.

In Jupyter, an ipywidgets view (numbers about 4 times a second, the per-second chart of
the last minute once a second) that ends showing the run's summary. Outside Jupyter,
one line on a terminal's stderr, rewritten in place, and nothing at all when stderr is
not a terminal (tests, graders, pipes). The view is drawn from the caller's thread, while
the client's thread sends: widgets are never touched from two threads.
"""
from __future__ import annotations

import html
import importlib.util
import sys
import time
from typing import TYPE_CHECKING, Any

from .results import UNKNOWN, Recorder, Result, per_second

if TYPE_CHECKING:  # pragma: no cover
    from .plan import Plan
    from .summary import Summary

#: A run expected to last longer than this gets a live view without being asked; a run
#: of unknown length (requests=N) gets one once it has lasted this long.
LIVE_AFTER_SECONDS = 3.0
REFRESH_SECONDS = 0.25
CHART_SECONDS = 1.0
RATE_WINDOW = 1.0  # requests per second: over the last second
SHARE_WINDOW = 5.0  # error rate and version shares: over the last five seconds
CHART_WINDOW = 60  # seconds the live chart shows


def in_jupyter() -> bool:
    """True inside a Jupyter kernel, where widgets can be displayed."""
    ipython = sys.modules.get("IPython")  # never imported here: a kernel has it already
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None or getattr(shell, "kernel", None) is None:
        return False
    return importlib.util.find_spec("ipywidgets") is not None


def _recent(results: list[Result], since: float) -> list[Result]:
    """Results that finished at or after `since` (they are appended as they finish)."""
    found = []
    for result in reversed(results):
        if result.finished < since:
            break
        found.append(result)
    return found


def numbers(seen: Recorder, plan: "Plan") -> dict[str, Any]:
    """What the live view shows, from a snapshot of the recorder."""
    elapsed = seen.elapsed()
    last = _recent(seen.results, elapsed - RATE_WINDOW)
    window = _recent(seen.results, elapsed - SHARE_WINDOW)
    done = len(seen.results)
    versions: dict[str, list[int]] = {}
    for result in seen.results:
        versions.setdefault(result.version, [0, 0])[0] += 1
    for result in window:
        versions[result.version][1] += 1
    progress = (min(1.0, elapsed / plan.duration) if plan.duration
                else (done / plan.requests if plan.requests else 0.0))
    return {
        "elapsed": elapsed, "progress": progress, "sent": seen.sent, "done": done, "in_flight": seen.in_flight,
        "rate": len(last) / min(RATE_WINDOW, elapsed) if elapsed > 0 else 0.0,
        "error_rate": sum(1 for r in window if not r.ok) / len(window) if window else 0.0,
        "error_rate_all": sum(1 for r in seen.results if not r.ok) / done if done else 0.0,
        "versions": {v: {"total": t, "share": (w / len(window) if window else 0.0)}
                     for v, (t, w) in sorted(versions.items(), key=lambda kv: (kv[0] == UNKNOWN, kv[0]))},
        "skipped": seen.skipped,
    }


def line(n: dict[str, Any]) -> str:
    versions = " ".join(f"{v}={d['total']}" for v, d in n["versions"].items())
    return (f"{n['elapsed']:6.1f} s  {n['done']} done  {n['in_flight']} in flight  {n['rate']:.0f}/s  "
            f"errors {100 * n['error_rate']:.1f}%  {versions}")


def numbers_html(n: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(v)}</td><td style='text-align:right'>{d['total']}</td>"
        f"<td style='text-align:right'>{100 * d['share']:.0f}%</td>"
        f"<td><div style='background:#1565c0;height:0.8em;width:{100 * d['share']:.0f}px'></div></td></tr>"
        for v, d in n["versions"].items())
    colour = "#c62828" if n["error_rate"] > 0.01 else "#2e7d32"
    skipped = f" · <span style='color:#ef6c00'>{n['skipped']} not sent (too many in flight)</span>" \
        if n["skipped"] else ""
    return (f"<p><b>{n['rate']:.1f}</b> requests/s · errors <b style='color:{colour}'>"
            f"{100 * n['error_rate']:.1f}%</b> (last {SHARE_WINDOW:g} s; {100 * n['error_rate_all']:.1f}% "
            f"in all) · {n['done']} done, {n['in_flight']} in flight · {n['elapsed']:.1f} s{skipped}</p>"
            f"<table><thead><tr><th>version</th><th>answers</th><th>share (last {SHARE_WINDOW:g} s)</th>"
            f"<th></th></tr></thead><tbody>{rows}</tbody></table>")


class Quiet:
    """No view at all: what a test, a grader or a pipe gets."""

    def tick(self, recorder: Recorder) -> None:
        pass

    def finish(self, summary: "Summary") -> None:
        pass


class Line(Quiet):
    """One line on a terminal's stderr, rewritten in place (a carriage return, no scrolling)."""

    def __init__(self, plan: "Plan", show_after: float) -> None:
        self.plan, self.show_after, self.shown, self.last = plan, show_after, False, 0.0

    def tick(self, recorder: Recorder) -> None:
        now = time.monotonic()
        if recorder.elapsed() < self.show_after or now - self.last < REFRESH_SECONDS:
            return
        self.last, self.shown = now, True
        sys.stderr.write("\r" + line(numbers(recorder.snapshot(), self.plan))[:150].ljust(150))
        sys.stderr.flush()

    def finish(self, summary: "Summary") -> None:
        if self.shown:
            sys.stderr.write("\r" + " " * 150 + "\r")
            sys.stderr.flush()


class Widgets(Quiet):
    """The live view in Jupyter, displayed once the run has lasted `show_after` seconds."""

    def __init__(self, plan: "Plan", show_after: float) -> None:
        self.plan, self.show_after = plan, show_after
        self.ui: Any = None
        self.last_numbers = self.last_chart = 0.0

    def _build(self) -> None:
        import ipywidgets as widgets
        from IPython.display import display
        from matplotlib.figure import Figure

        self.title = widgets.HTML(f"<b>{html.escape(self.plan.method)} {html.escape(self.plan.url)}</b>")
        self.bar = widgets.FloatProgress(value=0.0, min=0.0, max=1.0, bar_style="info")
        self.numbers = widgets.HTML()
        self.chart = widgets.Image(format="png")
        self.figure = Figure(figsize=(7, 2.6), layout="constrained")
        self.ax = self.figure.subplots()
        self.ui = widgets.VBox([self.title, self.bar, self.numbers, self.chart])
        display(self.ui)

    def _draw(self, series: list) -> None:
        from .plot import draw_series, png
        draw_series(self.ax, series)
        self.chart.value = png(self.figure)

    def tick(self, recorder: Recorder) -> None:
        if self.ui is None:
            if recorder.elapsed() < self.show_after:
                return
            self._build()
        now = time.monotonic()
        if now - self.last_numbers < REFRESH_SECONDS:
            return
        seen = recorder.snapshot()
        n = numbers(seen, self.plan)
        self.last_numbers = now
        self.bar.value = n["progress"]
        self.numbers.value = numbers_html(n)
        if now - self.last_chart >= CHART_SECONDS:
            self.last_chart = now
            elapsed = seen.elapsed()
            self._draw(per_second(seen.results, elapsed, since=max(0, int(elapsed) - CHART_WINDOW)))

    def finish(self, summary: "Summary") -> None:
        if self.ui is None:
            return
        self.bar.value, self.bar.bar_style = 1.0, ("warning" if summary.notes else "success")
        self.numbers.value = summary._repr_html_()
        self._draw(summary.series[-CHART_WINDOW:])


def view_for(plan: "Plan", live: bool | None) -> Quiet:
    """The view a run gets: `live` True asks for one at once, False for none, None decides."""
    if live is False:
        return Quiet()
    expected = plan.expected_seconds
    show_after = 0.0 if live or (expected is not None and expected > LIVE_AFTER_SECONDS) else LIVE_AFTER_SECONDS
    if in_jupyter():
        return Widgets(plan, show_after)
    stream = getattr(sys.stderr, "isatty", None)
    if stream is not None and stream():
        return Line(plan, show_after)
    return Quiet()
