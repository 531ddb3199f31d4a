"""Pooling weights: each window cell's share of its output, for every weighted operator."""

import math

import numpy as np
import streamlit as st

from pages.ui import controls, figures, views
from pooling_core import OPERATORS, PoolingError, pool2d
from pooling_core.explain import coverage, scatter_to_input, window_report
from pooling_core.numbers import fmt

OUTPUT_CHART = "weights_output_chart"
COLUMNS = 5
WEIGHT_SCALE = (0.0, 1.0)
MORPH_STEPS = 100


def morph_slider(op, p) -> float:
    """A slider over the parameter's range (its logarithm for a log-scale one); its value."""
    low, high = p.ui_range
    if p.log_scale:
        low, high, start = math.log10(low), math.log10(high), math.log10(p.default)
        label = f"{op.name}: log₁₀ {p.name}"
    else:
        start, label = p.default, f"{op.name}: {p.name}"
    chosen = st.slider(label, float(low), float(high), float(start), (high - low) / MORPH_STEPS,
                       key=f"morph.{op.id}.{p.name}", help=p.help)
    return 10**chosen if p.log_scale else chosen

settings, source = controls.current()
operator = settings.operator
st.title("Pooling weights")
st.caption("Many pooling operators output a weighted sum of their window, $y = \\sum_i w_i a_i$. The weights show what "
           "each operator listens to: max puts everything on one cell, average spreads it evenly, the others "
           "lie in between.")
views.require_input(source)
x, channel_note = views.shown_plane(source, settings)
result = views.pool_or_stop(x, settings)

views.take_click(OUTPUT_CHART)
cell = views.selected_cell(result.output.shape)
left, middle, right = st.columns([1, 1, 1])
with left:
    fig = figures.heatmap(result.output, f"{operator.name}: output (click a cell)", *views.color_range(result.output),
                          clickable=True, show_scale=False)
    figures.outline_cells(fig, [cell])
    views.chart(fig, OUTPUT_CHART, on_select="rerun", selection_mode=("points",))
report = window_report(result, x, *cell)
compared = [op for op in OPERATORS.values() if op.has_weights and op.windows == "sliding"]
if not operator.has_weights:
    names = ", ".join(op.name for op in OPERATORS.values() if op.has_weights)
    st.info(f"{operator.name} is not a weighted sum of its window, so it has no weights; choose one that is in the "
            f"sidebar: {names}.")
else:
    share = scatter_to_input(result.geometry, result.weights)
    with middle:
        fig = figures.heatmap(share, f"Weight of each input cell{channel_note}", *WEIGHT_SCALE,
                              colorscale="Greys", show_scale=False)
        figures.outline_window(fig, report)
        views.chart(fig, "weight_map")
    with right:
        fig = figures.heatmap(np.where(report.present, report.weights, np.nan),
                              f"Window ({cell[0]}, {cell[1]}) weights", *WEIGHT_SCALE, colorscale="Greys")
        views.chart(fig, "window_weights")
    if coverage(result.geometry).max() > 1:
        st.caption("Windows overlap: a cell read by several windows shows the sum of its shares.")
    st.code(report.text, language=None)

st.subheader("One window, every weighted operator")
morphing = [(op, p) for op in compared for p in op.params if p.morph]
st.caption("The same window under each operator. Move the sliders to morph "
           f"{', '.join(dict.fromkeys(op.name for op, _ in morphing))} between average and max.")
overrides = {}
for column, (op, p) in zip(st.columns(len(morphing)), morphing):
    with column:
        overrides.setdefault(op.id, {})[p.name] = morph_slider(op, p)

window = settings.window_kwargs()
columns = st.columns(COLUMNS)
for index, op in enumerate(compared):
    kwargs = {**window, **overrides.get(op.id, {})}
    if not op.supports_dilation:
        kwargs["dilation"] = 1
    with columns[index % COLUMNS]:
        try:
            other = window_report(pool2d(x, op.id, **kwargs), x, *cell)
        except PoolingError as error:
            st.caption(f"{op.id}: {error}")
            continue
        fig = figures.heatmap(np.where(other.present, other.weights, np.nan), f"{op.id}: y = {fmt(other.output)}",
                              *WEIGHT_SCALE, colorscale="Greys", show_scale=False, height=240)
        views.chart(fig, f"compare_{op.id}")
