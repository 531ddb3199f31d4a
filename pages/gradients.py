"""Gradient routing: where the backward pass sends each output's gradient."""

import numpy as np
import streamlit as st

from pages.ui import controls, figures, views
from pooling_core import input_gradient
from pooling_core.explain import coverage, tied_windows, window_report
from pooling_core.numbers import fmt

OUTPUT_CHART = "gradient_output_chart"
UPSTREAMS = ("Ones", "Seeded random", "Selected output cell only")
REDUCTION_WORDS = {"max": "maximum", "min": "minimum"}

settings, source = controls.current()
operator = settings.operator
st.title("Gradient routing")
st.caption("In the backward pass each output passes its upstream gradient to the input cells of its window. "
           "Red cells receive positive gradient, blue negative, white none.")
views.require_input(source)
x, channel_note = views.shown_plane(source, settings)
result = views.pool_or_stop(x, settings)

views.take_click(OUTPUT_CHART)
cell = views.selected_cell(result.output.shape)
choice = st.radio("Upstream gradient", UPSTREAMS, key="upstream", horizontal=True)
if choice == "Seeded random":
    seed = st.number_input("Upstream seed", 0, 2**31 - 1, key="upstream_seed")
    upstream = np.round(np.random.default_rng(seed).normal(size=result.output.shape), 2)
elif choice == "Ones":
    upstream = np.ones_like(result.output)
else:
    upstream = np.zeros_like(result.output)
    upstream[cell] = 1.0
gradient = input_gradient(x, settings.op, upstream, **settings.pool_kwargs())

low, high = views.symmetric_range(upstream, gradient)
left, middle, right = st.columns(3)
with left:
    fig = figures.heatmap(result.output, "Output (click a cell)", *views.color_range(result.output), clickable=True,
                          show_scale=False)
    figures.outline_cells(fig, [cell])
    views.chart(fig, OUTPUT_CHART, on_select="rerun", selection_mode=("points",))
with middle:
    fig = figures.heatmap(upstream, "Upstream gradient", low, high, colorscale=figures.DIVERGING, zmid=0,
                          show_scale=False)
    figures.outline_cells(fig, [cell])
    views.chart(fig, "upstream_chart")
with right:
    report = window_report(result, x, *cell)
    fig = figures.heatmap(gradient, f"Input gradient{channel_note}", low, high, colorscale=figures.DIVERGING, zmid=0)
    figures.outline_window(fig, report)
    views.chart(fig, "gradient_chart")

totals = st.columns(2)
totals[0].metric("Sum of the upstream gradient", fmt(round(float(upstream.sum()), 10)))
totals[1].metric("Sum of the input gradient", fmt(round(float(gradient.sum()), 10)))

effects = []
counts = coverage(result.geometry)
k, s = settings.kernel, settings.stride
if counts.max() > 1:
    effects.append(f"Windows overlap: {int((counts > 1).sum())} cells are read by several windows and add up "
                   "the gradient of each (try kernel 3, stride 2).")
if (counts == 0).any():
    reason = f"stride {s} is larger than kernel {k}" if s > k else "the last window stops before the edge"
    effects.append(f"{int((counts == 0).sum())} cells lie in no window ({reason}), so they get no gradient at all.")
if operator.reduction is not None:
    extreme = REDUCTION_WORDS[operator.reduction]
    ties = tied_windows(result.geometry, x, operator.reduction)
    if ties.any():
        i, j = np.argwhere(ties)[0]
        tied = "1 window has" if ties.sum() == 1 else f"{int(ties.sum())} windows have"
        effects.append(f"{tied} a tie for the {extreme} (the first is output ({i}, {j})): "
                       f"the whole gradient goes to the first {extreme} in reading order, none to the others.")
    else:
        effects.append(f"{operator.name} routes each window's gradient to its {extreme} only; the other cells get 0.")
if operator.gradient_note is not None and (note := operator.gradient_note(**result.params)):
    effects.append(note)
for effect in effects:
    st.markdown(f"- {effect}")

if operator.gradient_table is not None:
    real = report.real
    st.markdown(f"**Output ({cell[0]}, {cell[1]}), upstream 1: the exact gradient against another rule**")
    st.dataframe(operator.gradient_table(report.values[real], report.weights[real], report.output, **result.params),
                 hide_index=True)
