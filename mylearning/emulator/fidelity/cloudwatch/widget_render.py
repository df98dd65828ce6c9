"""A metric widget drawn as CloudWatch draws it, into PNG bytes (for `widget_image`).

matplotlib is imported here, on the first image, with the Agg canvas and no pyplot: the
emulator does not pay for it at start, and no global figure state is shared between the
server's threads. The image is exactly ``width`` x ``height`` pixels, as the widget asks
(CloudWatch-Metric-Widget-Structure.html, width and height "in pixels").

Drawn as the page describes: ``timeSeries`` lines (``stacked`` as stacked areas) on a left
and, for metrics with ``"yAxis": "right"``, a right axis, each with ``yAxis`` min, max and
label; horizontal annotations as lines with their label (``fill`` above or below shaded, a pair
of values a band) and vertical ones as vertical lines; ``singleValue`` (and ``gauge``,
``table``) as each metric's latest value; ``bar`` and ``pie`` over each metric's latest
value; ``legend.position`` bottom (default), right or hidden; ``timezone`` +HHMM/-HHMM moves
the time axis (UTC by default); ``title`` above. A graph without datapoints shows its empty
axes and "No data available." (what the console shows for such a metric).
"""
from __future__ import annotations

import datetime
import io
from dataclasses import dataclass
from typing import Any

from mylearning.facts.cloudwatch import TIMEZONE

#: CloudWatch's graph colours, in the order it gives them to metrics without a color.
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf")
DPI = 100


@dataclass
class Series:
    label: str
    times: list[float]      # epoch seconds, oldest first
    values: list[float]
    color: str | None = None
    y_axis: str = "left"


def _zone(widget: dict) -> datetime.timezone:
    m = TIMEZONE.match(widget.get("timezone") or "")
    if not m:
        return datetime.timezone.utc
    offset = datetime.timedelta(hours=int(m.group(1)), minutes=int(m.group(2)))
    return datetime.timezone(offset if widget["timezone"][0] == "+" else -offset)


def _latest(s: Series) -> float | None:
    return s.values[-1] if s.values else None


def _number(value: float) -> str:
    if abs(value) >= 1e6 or (value and abs(value) < 1e-2):
        return f"{value:.3g}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def render(widget: dict, series: list[Series], start: float, end: float, width: int,
           height: int) -> bytes:
    """PNG bytes of the widget with its computed series."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width / DPI, height / DPI), dpi=DPI)
    FigureCanvasAgg(figure)
    for i, s in enumerate(series):
        s.color = s.color or PALETTE[i % len(PALETTE)]
    if widget.get("title"):
        figure.suptitle(str(widget["title"]), fontsize=11, x=0.02, ha="left")
    view = widget.get("view") or "timeSeries"
    if view in ("singleValue", "gauge", "table"):
        _single_values(figure, series)
    elif view == "bar":
        _bars(figure, series, widget)
    elif view == "pie":
        _pie(figure, series, widget)
    else:
        _time_series(figure, series, widget, start, end)
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=DPI, metadata={"Software": None})
    return out.getvalue()


def _no_data(axes: Any) -> None:
    axes.text(0.5, 0.5, "No data available.", transform=axes.transAxes, ha="center",
              va="center", color="#687078")


def _time_series(figure: Any, series: list[Series], widget: dict, start: float, end: float) -> None:
    import matplotlib.dates as mdates

    zone = _zone(widget)
    left = figure.add_subplot(1, 1, 1)
    right = left.twinx() if any(s.y_axis == "right" for s in series) else None

    def when(t: float) -> datetime.datetime:
        return datetime.datetime.fromtimestamp(t, zone)

    drawn = [s for s in series if s.values]
    stacked = bool(widget.get("stacked"))
    for side, axes in (("left", left), ("right", right)):
        if axes is None:
            continue
        mine = [s for s in drawn if s.y_axis == side]
        if stacked and mine:
            grid = sorted({t for s in mine for t in s.times})
            stacks = [[dict(zip(s.times, s.values)).get(t, 0.0) for t in grid] for s in mine]
            axes.stackplot([when(t) for t in grid], *stacks, colors=[s.color for s in mine],
                           labels=[s.label for s in mine], alpha=0.8)
        else:
            for s in mine:
                axes.plot([when(t) for t in s.times], s.values, color=s.color, label=s.label,
                          linewidth=1.5, marker="o" if len(s.values) == 1 else None)
        limits = (widget.get("yAxis") or {}).get(side) or {}
        low, high = limits.get("min"), limits.get("max")
        if low is None and mine and min(min(s.values) for s in mine) >= 0:
            low = 0  # CloudWatch starts a graph of non-negative values at zero
        if low is not None or high is not None:
            axes.set_ylim(bottom=low, top=high)
        if limits.get("label"):
            axes.set_ylabel(limits["label"])
    _annotate(left, right, widget.get("annotations") or {}, when)
    left.set_xlim(when(start), when(end))
    left.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M", tz=zone))
    left.grid(True, axis="y", color="#e9ebed")
    if zone is not datetime.timezone.utc:
        left.set_xlabel(f"UTC{widget['timezone']}", fontsize=8)
    if not drawn:
        _no_data(left)
    _legend(figure, [left, right], widget)


def _annotate(left: Any, right: Any, annotations: dict, when: Any) -> None:
    for item in annotations.get("horizontal") or []:
        pair = item if isinstance(item, list) else [item]
        if any(one.get("visible") is False for one in pair):
            continue
        first = pair[0]
        axes = right if first.get("yAxis") == "right" and right is not None else left
        color = first.get("color") or "#d62728"
        if len(pair) == 2:
            axes.axhspan(pair[0]["value"], pair[1]["value"], color=color, alpha=0.15)
        axes.axhline(first["value"], color=color, linestyle="--", linewidth=1,
                     label=first.get("label"))
        if first.get("fill") in ("above", "below"):
            low, high = axes.get_ylim()
            span = (first["value"], max(high, first["value"])) if first["fill"] == "above" else (
                min(low, first["value"]), first["value"])
            axes.axhspan(*span, color=color, alpha=0.1)
    for item in annotations.get("vertical") or []:
        pair = item if isinstance(item, list) else [item]
        if any(one.get("visible") is False for one in pair):
            continue
        try:
            at = datetime.datetime.fromisoformat(str(pair[0]["value"]).replace("Z", "+00:00"))
        except ValueError:
            continue
        if at.tzinfo is None:
            at = at.replace(tzinfo=datetime.timezone.utc)
        left.axvline(when(at.timestamp()), color=pair[0].get("color") or "#ff7f0e",
                     linestyle="--", linewidth=1, label=pair[0].get("label"))


def _legend(figure: Any, axes: list, widget: dict) -> None:
    position = (widget.get("legend") or {}).get("position", "bottom")
    handles, labels = [], []
    for ax in axes:
        if ax is not None:
            h, lab = ax.get_legend_handles_labels()
            handles, labels = handles + h, labels + lab
    if position == "hidden" or not handles:
        figure.tight_layout()
        return
    if position == "right":
        figure.legend(handles, labels, loc="center right", fontsize=8, frameon=False)
        figure.tight_layout(rect=(0, 0, 0.75, 1))
    else:
        figure.legend(handles, labels, loc="lower center", ncol=min(4, len(handles)), fontsize=8,
                      frameon=False)
        figure.tight_layout(rect=(0, 0.1, 1, 1))


def _single_values(figure: Any, series: list[Series]) -> None:
    shown = series
    if not shown:
        _no_data(figure.add_subplot(1, 1, 1))
        return
    for i, s in enumerate(shown):
        axes = figure.add_subplot(1, len(shown), i + 1)
        axes.axis("off")
        value = _latest(s)
        axes.text(0.5, 0.55, "--" if value is None else _number(value), ha="center", va="center",
                  fontsize=28, color=s.color, transform=axes.transAxes)
        axes.text(0.5, 0.2, s.label, ha="center", va="center", fontsize=9, transform=axes.transAxes)


def _bars(figure: Any, series: list[Series], widget: dict) -> None:
    axes = figure.add_subplot(1, 1, 1)
    values = [(s, _latest(s)) for s in series]
    present = [(s, v) for s, v in values if v is not None]
    if not present:
        _no_data(axes)
    for i, (s, v) in enumerate(present):
        axes.bar(i, v, color=s.color, label=s.label)
    axes.set_xticks([])
    limits = (widget.get("yAxis") or {}).get("left") or {}
    if limits.get("min") is not None or limits.get("max") is not None:
        axes.set_ylim(bottom=limits.get("min"), top=limits.get("max"))
    _legend(figure, [axes], widget)


def _pie(figure: Any, series: list[Series], widget: dict) -> None:
    axes = figure.add_subplot(1, 1, 1)
    present = [(s, _latest(s)) for s in series if _latest(s) is not None and _latest(s) > 0]
    if not present:
        _no_data(axes)
        axes.axis("off")
        return
    axes.pie([v for _, v in present], colors=[s.color for s, _ in present],
             labels=[s.label for s, _ in present])
    axes.axis("equal")
