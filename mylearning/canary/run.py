"""Running a canary analysis on an App Mesh route: weights set through the API, metrics read from
CloudWatch, one decision per interval (`analysis.Machine`), shown as it happens.

The route's weighted targets are the primary and the canary virtual nodes; each step is an
UpdateRoute (`mylearning.mesh.set_weights`), which the proxies apply within a second. Each step
bakes ``interval`` seconds; its check waits `metrics.SETTLE_SECONDS` more, until what the proxies
counted during the bake is in CloudWatch, and reads only that (`metrics.window`), so no check
judges a weight by traffic sent before it was set.
"""
from __future__ import annotations

import dataclasses
import time
from typing import Any, Callable, Optional

from mylearning.canary.analysis import Analysis, Event, Machine, Measurement
from mylearning.canary.metrics import SETTLE_SECONDS, Reading, Source, alarm_states, read, window


@dataclasses.dataclass(frozen=True)
class Route:
    """The App Mesh route whose weighted targets the analysis moves."""
    mesh: str
    router: str
    route: str
    primary: str
    canary: str


@dataclasses.dataclass
class Report:
    """What an analysis did: its phase, events, and the readings each decision was made on."""
    route: Route
    analysis: Analysis
    phase: str
    weight: int
    failed_checks: int
    events: list[Event]
    readings: list[tuple[int, Reading]]  # (canary weight during the interval, the canary's reading)
    started: float
    finished: float

    @property
    def max_weight_reached(self) -> int:
        return max([e.weight for e in self.events if e.weight < 100 or self.phase == "Succeeded"] + [0])

    def summary(self) -> dict:
        """A compact record (what the lab stores as an answer, under SSM's 4 KB)."""
        return {"phase": self.phase, "weight": self.weight, "failed_checks": self.failed_checks,
                "max_weight": self.max_weight_reached, "canary": self.route.canary, "primary": self.route.primary,
                "route": self.route.route, "interval": self.analysis.interval, "threshold": self.analysis.threshold,
                "seconds": round(self.finished - self.started, 1),
                "events": [e.message[:120] for e in self.events][-14:]}

    def __str__(self) -> str:
        lines = [f"{time.strftime('%H:%M:%S', time.localtime(e.at))}  [{e.phase}] {e.message}" for e in self.events]
        lines.append(f"Result: {self.phase}; {self.route.canary} at {self.weight}% after "
                     f"{self.finished - self.started:.0f} s, {self.failed_checks} failed check(s)")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        import html
        rows = "".join(f"<tr><td>{time.strftime('%H:%M:%S', time.localtime(e.at))}</td><td>{html.escape(e.phase)}</td>"
                       f"<td>{e.weight}%</td><td>{html.escape(e.message)}</td></tr>" for e in self.events)
        colour = "#2e7d32" if self.phase == "Succeeded" else "#c62828"
        return (f"<p><b style='color:{colour}'>{html.escape(self.phase)}</b>: {html.escape(self.route.canary)} at "
                f"{self.weight}% after {self.finished - self.started:.0f} s, {self.failed_checks} failed check(s)</p>"
                f"<table><tr><th>time</th><th>phase</th><th>canary weight</th><th>event</th></tr>{rows}</table>")

    def figure(self) -> Any:
        """Weights and the canary's success rate over time (matplotlib, no pyplot)."""
        from mylearning.canary.view import chart
        return chart(self)


class Canary:
    """A canary analysis of `route.canary` against `route.primary`, measured at `source`."""

    def __init__(self, session: Any, route: Route, source: Source, analysis: Analysis, *,
                 show: Optional[bool] = None, settle: float = SETTLE_SECONDS,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.time) -> None:
        self.session, self.route, self.source, self.analysis = session, route, source, analysis
        self.settle = settle
        self.sleep, self.clock = sleep, clock
        from mylearning.canary.view import view_for
        self.view = view_for(show)

    def set_weight(self, weight: int) -> None:
        from mylearning.mesh import set_weights
        set_weights(self.session, self.route.mesh, self.route.router, self.route.route,
                    {self.route.primary: 100 - weight, self.route.canary: weight})

    def measure(self, changed_at: float) -> tuple[Measurement, Reading]:
        start, end = window(changed_at, self.analysis.interval, self.settle)
        reading = read(self.session, self.source, self.route.canary, start, end)
        return Measurement(reading.values(), alarm_states(self.session, self.analysis.alarms),
                           requests=reading.requests), reading

    def run(self) -> Report:
        machine = Machine(self.analysis, clock=self.clock)
        started = self.clock()
        readings: list[tuple[int, Reading]] = []
        report = Report(self.route, self.analysis, machine.phase, 0, 0, machine.events, readings, started, started)
        try:
            self.set_weight(machine.start())
            changed_at = self.clock()
            self.view.update(report)
            while not machine.done:
                weight = machine.weight
                self.sleep(max(0.0, changed_at + self.analysis.interval + self.settle - self.clock()))
                measurement, reading = self.measure(changed_at)
                readings.append((weight, reading))
                new_weight = machine.observe(measurement)
                changed_at = self.clock()  # a halted step bakes again, at the same weight
                if new_weight != weight:
                    self.set_weight(new_weight)
                report.phase, report.weight, report.failed_checks = machine.phase, machine.weight, machine.failed_checks
                report.finished = self.clock()
                self.view.update(report)
        except BaseException:
            # Interrupted (or the API failed): never leave the canary with traffic nobody watches.
            if not machine.done:
                self.set_weight(0)
                machine.events.append(Event(self.clock(), "Failed", 0,
                                            "Analysis interrupted: all traffic is back on the primary"))
            raise
        finally:
            report.phase, report.weight, report.failed_checks = machine.phase, machine.weight, machine.failed_checks
            report.finished = self.clock()
            self.view.finish(report)
        return report
