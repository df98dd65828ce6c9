"""Charts of a run: responses per second by version (a rollout is seen as one colour
giving way to another) with the error rate, and the latency distribution.

Drawn on `matplotlib.figure.Figure`, never pyplot: no global state, no GUI backend, safe
in any thread, and nothing shown twice in Jupyter (pyplot's inline backend would show
the figure once itself and once more as the cell's value).
"""
from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any, Sequence

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .results import UNKNOWN, Second

if TYPE_CHECKING:  # pragma: no cover
    from .summary import Summary

ERROR_COLOUR = "#c62828"


class Chart(Figure):
    """A Figure that Jupyter shows as an image even when pyplot was never imported."""

    def _repr_png_(self) -> bytes:
        return png(self)


#: A second the run lasted less of than this is left out of the chart: a bar for the
#: last few milliseconds of a run would look like a sudden drop in traffic.
MIN_SPAN = 0.5


def draw_series(ax: Any, series: Sequence[Second]) -> None:
    """Stacked bars of responses per second by version, and the error rate on a right axis."""
    ax.clear()
    series = [s for s in series if s.span >= MIN_SPAN]
    versions = sorted({v for s in series for v in s.by_version}, key=lambda v: (v == UNKNOWN, v))
    seconds = [s.second for s in series]
    bottom = [0] * len(series)
    for version in versions:
        heights = [s.by_version.get(version, 0) for s in series]
        ax.bar(seconds, heights, bottom=bottom, width=0.9, align="edge", label=version)
        bottom = [b + h for b, h in zip(bottom, heights)]
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("second of the run")
    ax.set_ylabel("responses per second")
    if versions:
        ax.legend(title="version", loc="upper left", fontsize=8)
    twin = getattr(ax, "_mylearning_errors", None)
    if twin is None:
        twin = ax.twinx()
        ax._mylearning_errors = twin  # redrawn in place by the live view
    twin.clear()
    twin.yaxis.tick_right()  # clear() puts a twin's axis back on the left
    twin.yaxis.set_label_position("right")
    twin.plot([s + 0.5 for s in seconds], [100 * s.error_rate if s.requests else float("nan") for s in series],
              color=ERROR_COLOUR, marker="o", markersize=3, linewidth=1.2, label="errors")
    twin.set_ylim(0, 105)
    twin.set_ylabel("error rate %", color=ERROR_COLOUR)
    ax.set_title("Responses per second, by version")


def draw_latency(ax: Any, summary: "Summary", bins: int = 40) -> None:
    """Histogram of latencies (successes and errors apart) with p50/p95/p99 of the successes."""
    ok = summary.latencies(ok_only=True)
    failed = [ms for ms, r in zip(summary.latencies(), summary._results) if not r.ok]
    if ok or failed:
        ax.hist([ok, failed], bins=bins, stacked=True, label=["ok", "errors"],
                color=["#1565c0", ERROR_COLOUR])
    for name, value, style in (("p50", summary.ok_latency.p50, "-"), ("p95", summary.ok_latency.p95, "--"),
                               ("p99", summary.ok_latency.p99, ":")):
        if value is not None:
            ax.axvline(value, color="black", linestyle=style, linewidth=1, label=f"{name} {value:.1f} ms")
    ax.set_xlabel("latency (ms)")
    ax.set_ylabel("requests")
    ax.set_title("Latency")
    if ok or failed:
        ax.legend(fontsize=8)


def summary_figure(summary: "Summary", bins: int = 40) -> Chart:
    figure = Chart(figsize=(11, 3.8), layout="constrained")
    series_ax, latency_ax = figure.subplots(1, 2, width_ratios=[3, 2])
    draw_series(series_ax, summary.series)
    draw_latency(latency_ax, summary, bins)
    figure.suptitle(summary.headline(), fontsize=9)
    return figure


def png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=96)
    return buffer.getvalue()
