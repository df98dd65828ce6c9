"""Seeing an analysis while it runs: in JupyterLab a chart of the weights and the canary's success
rate, redrawn after each decision, with the events under it; in a terminal one line per event;
nothing in tests and graders (stdout is not a terminal there)."""
from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, Optional

if TYPE_CHECKING:  # pragma: no cover
    from mylearning.canary.run import Report


def chart(report: "Report") -> Any:
    """Canary weight (steps) and the canary's success rate per interval, against time in seconds."""
    from mylearning.traffic.plot import ERROR_COLOUR, Chart
    figure = Chart(figsize=(8, 3.2))
    ax = figure.add_subplot(1, 1, 1)
    start = report.started
    times = [e.at - start for e in report.events] + [report.finished - start]
    weights = [e.weight for e in report.events] + [report.weight]
    ax.step(times, weights, where="post", color="#1565c0", label=f"{report.route.canary} weight (%)")
    ax.set_ylim(-5, 105)
    ax.set_xlabel("seconds since the analysis started")
    ax.set_ylabel("canary weight (%)")
    rates = [(r.end - start, r.success_rate) for _, r in report.readings if r.success_rate is not None]
    if rates:
        right = ax.twinx()
        right.plot([t for t, _ in rates], [v for _, v in rates], "o-", color=ERROR_COLOUR,
                   label="canary success rate (%)")
        for check in report.analysis.metrics:
            if check.min is not None and check.name == "request-success-rate":
                right.axhline(check.min, color=ERROR_COLOUR, linestyle=":", linewidth=1)
        right.set_ylim(min(80.0, min(v for _, v in rates) - 2), 100.5)
        right.set_ylabel("success rate (%)", color=ERROR_COLOUR)
    ax.set_title(f"Canary {report.route.canary}: {report.phase}")
    ax.legend(loc="upper left", fontsize="small")
    figure.tight_layout()
    return figure


class Quiet:
    def update(self, report: "Report") -> None:
        pass

    def finish(self, report: "Report") -> None:
        pass


class Lines(Quiet):
    """One line per new event on stdout."""

    def __init__(self) -> None:
        self.shown = 0

    def update(self, report: "Report") -> None:
        for event in report.events[self.shown:]:
            print(f"[{event.phase}] {event.message}", flush=True)
        self.shown = len(report.events)

    def finish(self, report: "Report") -> None:
        self.update(report)


class Notebook(Quiet):
    """The chart and the event table, replaced in place after each decision."""

    def __init__(self) -> None:
        self.handle: Any = None

    def update(self, report: "Report") -> None:
        from IPython.display import HTML, display
        from mylearning.traffic.plot import png
        import base64
        image = base64.b64encode(png(chart(report))).decode()
        body = HTML(f"<img src='data:image/png;base64,{image}'/>" + report._repr_html_())
        if self.handle is None:
            self.handle = display(body, display_id=True)
        else:
            self.handle.update(body)

    def finish(self, report: "Report") -> None:
        self.update(report)


def view_for(show: Optional[bool]) -> Quiet:
    from mylearning.traffic.live import in_jupyter
    if show is False:
        return Quiet()
    if in_jupyter():
        return Notebook()
    if show or sys.stdout.isatty():
        return Lines()
    return Quiet()
