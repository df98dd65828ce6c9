"""The cost explorer's logic and widget wiring, headless (Agg, no browser, no kernel)."""
from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from mylearning.cost import InvalidTaskSize, TaskSize  # noqa: E402
from mylearning.cost_explorer import (  # noqa: E402
    APP_RUNNER_ERA,
    PLAIN_FARGATE,
    YOUR_MIX,
    CostExplorer,
    ExplorerModel,
    draw_costs,
    explorer,
    size_choices,
)

ERA = 10 * 730 * (0.064 + 2 * 0.007)  # 569.40: ten 1 vCPU / 2 GB App Runner instances
PLAIN = 10 * 730 * (0.04048 + 2 * 0.004445)  # 360.401: the same on x86 Fargate


def test_default_model_costs():
    model = ExplorerModel()
    assert model.costs() == pytest.approx({APP_RUNNER_ERA: ERA, PLAIN_FARGATE: PLAIN, YOUR_MIX: PLAIN})
    assert list(model.costs()) == [APP_RUNNER_ERA, PLAIN_FARGATE, YOUR_MIX]
    assert model.comparison().saving_pct == pytest.approx(100 * (ERA - PLAIN) / ERA)
    assert not model.holds()
    assert "misses the 45% claim" in model.summary()


def test_model_with_an_optimized_mix():
    model = ExplorerModel().updated(size=TaskSize(512, 1024), arch="arm", spot_share=0.5)
    mix = 10 * 730 * (0.5 * 0.03238 + 0.00356) * (0.5 + 0.5 * 0.3)  # 93.71375
    assert model.arch == "ARM64"
    assert model.costs()[YOUR_MIX] == pytest.approx(mix)
    assert model.costs()[PLAIN_FARGATE] == pytest.approx(PLAIN)  # the reference does not move
    assert model.holds()
    assert "reaches the 45% claim" in model.summary()


def test_model_rejects_invalid_inputs():
    with pytest.raises(ValueError):
        ExplorerModel(spot_share=2)
    with pytest.raises(ValueError):
        ExplorerModel(arch="mips")
    with pytest.raises(InvalidTaskSize):
        ExplorerModel(baseline_size=TaskSize.of(0.5, 4))  # a Fargate size App Runner never offered


def test_answer_is_json_ready():
    data = ExplorerModel(spot_share=0.1).answer()  # 10% Spot: 41.1% saving, short of 45%
    assert json.loads(json.dumps(data)) == data
    assert data["size"] == {"cpu": 1024, "memory": 2048}
    assert data["costs"][APP_RUNNER_ERA] == pytest.approx(569.4)
    assert data["holds"] is False


def test_draw_costs_on_an_axes():
    ax = Figure().subplots()
    costs = {APP_RUNNER_ERA: 1000.0, PLAIN_FARGATE: 700.0, YOUR_MIX: 500.0}
    bars = draw_costs(ax, costs, claimed_saving_pct=45)
    assert [b.get_height() for b in bars] == [1000.0, 700.0, 500.0]
    assert [t.get_text() for t in ax.get_xticklabels()] == list(costs)
    (line,) = ax.get_lines()
    assert line.get_ydata()[0] == pytest.approx(550.0)  # 45% below the baseline
    colours = [matplotlib.colors.to_hex(b.get_facecolor()) for b in bars]
    assert colours[2] == "#2e7d32" and colours[1] == "#ef6c00"  # under the line / above it
    draw_costs(ax, costs)  # redrawing replaces, not stacks
    assert len(ax.patches) == 3
    with pytest.raises(ValueError):
        draw_costs(ax, {})


def test_size_choices_are_only_valid_pairs():
    choices = size_choices()
    assert len(choices) == 74
    assert ("0.25 vCPU / 0.5 GB", TaskSize(256, 512)) in choices


def _heights(ex: CostExplorer) -> list[float]:
    return [float(p.get_height()) for p in ex.ax.patches]


def test_widgets_update_model_chart_and_summary():
    ex = explorer(baseline_count=10, count=10)
    assert bytes(ex.chart.value).startswith(b"\x89PNG")
    assert _heights(ex) == pytest.approx([ERA, PLAIN, PLAIN])
    first_png, first_summary = bytes(ex.chart.value), ex.summary.value

    ex.spot_share.value = 0.5
    assert ex.model.spot_share == 0.5
    half_spot = 10 * 730 * 0.04937 * (0.5 + 0.5 * 0.3)
    assert _heights(ex)[2] == pytest.approx(half_spot)
    assert bytes(ex.chart.value) != first_png and ex.summary.value != first_summary

    ex.arch.value = "ARM64"
    ex.size.value = TaskSize(512, 1024)
    assert (ex.model.arch, ex.model.size) == ("ARM64", TaskSize(512, 1024))
    assert _heights(ex)[2] == pytest.approx(10 * 730 * 0.01975 * 0.65)
    assert "reaches the 45% claim" in ex.summary.value

    ex.count.value = 20
    assert _heights(ex)[2] == pytest.approx(20 * 730 * 0.01975 * 0.65)
    assert _heights(ex)[:2] == pytest.approx([ERA, PLAIN])

    ex.spot_discount.value = 0.5
    assert ex.model.spot_discount == 0.5
    assert _heights(ex)[2] == pytest.approx(20 * 730 * 0.01975 * 0.75)
    assert ex.model.costs()[YOUR_MIX] == pytest.approx(_heights(ex)[2])


def test_size_dropdown_refuses_an_invalid_pair():
    from traitlets import TraitError

    ex = CostExplorer(ExplorerModel())
    with pytest.raises((TraitError, InvalidTaskSize)):
        ex.size.value = TaskSize(256, 4096)
    assert ex.model.size == TaskSize(1024, 2048)


def test_explorer_displays_as_a_widget():
    ex = explorer()
    bundle = ex._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert ex.ui.children  # controls, chart and summary are laid out
