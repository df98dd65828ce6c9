"""An interactive cost explorer for lab 05: App Runner era vs plain Fargate vs the learner's mix.

Sliders make the trade-offs tangible: move Spot share or switch to ARM and watch the bar
and the saving change. The logic lives in ExplorerModel (plain data and arithmetic from
mylearning.cost) and draw_costs (which draws on any matplotlib Axes), so both are tested
without a browser or a kernel; CostExplorer only wires ipywidgets to them. ipywidgets and
matplotlib are imported when an explorer is built, not when this module is imported.
"""
from __future__ import annotations

import html
import io
from dataclasses import asdict, dataclass, replace
from typing import Any, Mapping

from mylearning.cost import (
    FARGATE_SPOT_MAX_DISCOUNT,
    HOURS_PER_MONTH,
    X86_64,
    Comparison,
    Scenario,
    TaskSize,
    compare,
    normalize_arch,
    valid_task_sizes,
)

APP_RUNNER_ERA = "App Runner era"
PLAIN_FARGATE = "Plain Fargate"
YOUR_MIX = "Your mix"


@dataclass(frozen=True)
class ExplorerModel:
    """The explorer's inputs, and the three monthly costs they imply.

    The baseline is MyLearning's App Runner fleet (`baseline_count` instances of
    `baseline_size`, active `baseline_active_share` of the time). "Plain Fargate" runs
    the same count and size on x86 on-demand tasks: the move with no optimization.
    "Your mix" is what the learner picks: task size, count, architecture, Spot share.
    """

    baseline_count: int = 10
    baseline_size: TaskSize = TaskSize(1024, 2048)
    baseline_active_share: float = 1.0
    count: int = 10
    size: TaskSize = TaskSize(1024, 2048)
    arch: str = X86_64
    spot_share: float = 0.0
    spot_discount: float = FARGATE_SPOT_MAX_DISCOUNT
    hours: float = HOURS_PER_MONTH
    claimed_saving_pct: float = 45.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "arch", normalize_arch(self.arch))
        self.scenarios()  # validates every input once, with the cost module's messages

    def updated(self, **changes: Any) -> "ExplorerModel":
        """A copy with some inputs changed (the model is immutable, so a widget event cannot half-apply)."""
        return replace(self, **changes)

    def scenarios(self) -> tuple[Scenario, Scenario, Scenario]:
        era = Scenario.app_runner(APP_RUNNER_ERA, self.baseline_count, self.baseline_size,
                                  active_share=self.baseline_active_share, hours=self.hours)
        plain = Scenario.fargate(PLAIN_FARGATE, self.baseline_count, self.baseline_size, X86_64,
                                 hours=self.hours, spot_discount=self.spot_discount)
        mine = Scenario.fargate(YOUR_MIX, self.count, self.size, self.arch, spot_share=self.spot_share,
                                hours=self.hours, spot_discount=self.spot_discount)
        return era, plain, mine

    def costs(self) -> dict[str, float]:
        """Monthly cost of each scenario, in chart order."""
        return {s.name: s.monthly_cost for s in self.scenarios()}

    def comparison(self) -> Comparison:
        """Your mix against the App Runner era: the saving the 45% claim is about."""
        era, _, mine = self.scenarios()
        return compare(era, mine)

    def holds(self) -> bool:
        """Whether this configuration reaches the claimed saving."""
        return self.comparison().holds(self.claimed_saving_pct)

    def summary(self) -> str:
        verdict = "reaches" if self.holds() else "misses"
        return f"{self.comparison()}. This {verdict} the {self.claimed_saving_pct:g}% claim."

    def answer(self) -> dict[str, Any]:
        """The inputs and results as JSON-able data, for mylearning.record_answer."""
        data = asdict(self)
        for key in ("baseline_size", "size"):
            data[key] = {"cpu": getattr(self, key).cpu, "memory": getattr(self, key).memory}
        data["costs"] = {k: round(v, 2) for k, v in self.costs().items()}
        data["saving_pct"] = round(self.comparison().saving_pct, 2)
        data["holds"] = self.holds()
        return data


def draw_costs(ax: Any, costs: Mapping[str, float], *, claimed_saving_pct: float = 45.0) -> Any:
    """Draw the scenarios' monthly costs as bars on `ax`, with the claimed-saving line.

    The first entry is the baseline; the dashed line sits `claimed_saving_pct` below it,
    so a bar under the line meets the claim. Returns the bars (a BarContainer).
    """
    names = list(costs)
    values = [float(costs[n]) for n in names]
    if not names:
        raise ValueError("Nothing to draw: costs is empty")
    target = values[0] * (1 - claimed_saving_pct / 100.0)
    colors = ["#8c8c8c"] + ["#2e7d32" if v <= target + 1e-9 else "#ef6c00" for v in values[1:]]
    ax.clear()
    bars = ax.bar(names, values, color=colors)
    for bar, value in zip(bars, values):
        ax.annotate(f"${value:,.0f}", (bar.get_x() + bar.get_width() / 2, value),
                    ha="center", va="bottom", fontsize=9, xytext=(0, 2), textcoords="offset points")
    ax.axhline(target, linestyle="--", color="#1565c0", linewidth=1)
    ax.annotate(f"{claimed_saving_pct:g}% below {names[0]}", (len(names) - 0.5, target),
                ha="right", va="bottom", fontsize=8, color="#1565c0")
    ax.set_ylabel("USD per month")
    ax.set_ylim(0, max(values + [target]) * 1.18 or 1)
    ax.set_title("Monthly compute cost (us-east-1 list prices)")
    return bars


def size_choices() -> list[tuple[str, TaskSize]]:
    """(label, size) pairs for a dropdown: only sizes Fargate accepts can be picked."""
    return [(s.label, s) for s in valid_task_sizes()]


class CostExplorer:
    """Widgets bound to an ExplorerModel; display it in a notebook cell to use it.

    Every control change builds a new model and redraws, so `explorer.model` always
    matches what the chart shows. `continuous_update=False` redraws when a slider is
    released, which keeps a busy kernel responsive.
    """

    def __init__(self, model: ExplorerModel | None = None, *, continuous_update: bool = False) -> None:
        import ipywidgets as widgets
        from matplotlib.figure import Figure

        self.model = model or ExplorerModel()
        m = self.model
        self.spot_share = widgets.FloatSlider(value=m.spot_share, min=0.0, max=1.0, step=0.05,
                                              description="Spot share", readout_format=".0%",
                                              continuous_update=continuous_update)
        self.spot_discount = widgets.FloatSlider(value=m.spot_discount, min=0.0, max=FARGATE_SPOT_MAX_DISCOUNT,
                                                 step=0.05, description="Spot discount", readout_format=".0%",
                                                 continuous_update=continuous_update)
        self.arch = widgets.ToggleButtons(options=[("x86", "X86_64"), ("ARM (Graviton)", "ARM64")],
                                          value=m.arch, description="CPU")
        self.size = widgets.Dropdown(options=size_choices(), value=m.size, description="Task size")
        self.count = widgets.IntSlider(value=m.count, min=1, max=max(200, 2 * m.count, 2 * m.baseline_count),
                                       description="Tasks", continuous_update=continuous_update)
        self.summary = widgets.HTML()
        self.chart = widgets.Image(format="png")
        self.figure = Figure(figsize=(7, 3.6), layout="constrained")
        self.ax = self.figure.subplots()
        self._fields = {self.spot_share: "spot_share", self.spot_discount: "spot_discount",
                        self.arch: "arch", self.size: "size", self.count: "count"}
        for control in self._fields:
            control.observe(self._on_change, names="value")
        self.ui = widgets.VBox([
            widgets.HBox([self.size, self.count]),
            widgets.HBox([self.spot_share, self.spot_discount]),
            self.arch,
            self.chart,
            self.summary,
        ])
        self.refresh()

    def _on_change(self, change: Mapping[str, Any]) -> None:
        self.model = self.model.updated(**{self._fields[change["owner"]]: change["new"]})
        self.refresh()

    def refresh(self) -> None:
        """Redraw the chart and the summary from the current model."""
        draw_costs(self.ax, self.model.costs(), claimed_saving_pct=self.model.claimed_saving_pct)
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=96)
        self.chart.value = buffer.getvalue()
        colour = "#2e7d32" if self.model.holds() else "#ef6c00"
        self.summary.value = f'<span style="color:{colour}">{html.escape(self.model.summary())}</span>'

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.ui._repr_mimebundle_(**kwargs)


def explorer(model: ExplorerModel | None = None, **inputs: Any) -> CostExplorer:
    """Build the cost explorer; `inputs` set ExplorerModel fields, e.g. explorer(baseline_count=40).

    Put it last in a cell to show it; read `.model` afterwards for the chosen figures.
    """
    base = model or ExplorerModel()
    return CostExplorer(base.updated(**inputs) if inputs else base)
