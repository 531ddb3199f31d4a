"""Gradient routing: where the backward pass sends each output's gradient."""

import numpy as np
import streamlit as st

from pages.ui import controls, figures, views
from pages.ui.i18n import library_text, operator_name, t
from pages.ui.inspector.component import inspect
from pooling_core import gradient_routes, input_gradient
from pooling_core.explain import coverage, tied_windows, window_report
from pooling_core.numbers import fmt

INSPECTOR_KEY = "gradient_inspector"
UPSTREAMS = ("ones", "random", "cell")

settings, source = controls.current()
operator = settings.operator
st.title(t("gradients.title"))
st.caption(t("gradients.caption"))
views.require_input(source)
x, channel_note = views.shown_plane(source, settings)
result = views.pool_or_stop(x, settings)

cell = views.selected_cell(result.output.shape)
inspect(x, result, cell, views.color_range(x, result.output), INSPECTOR_KEY, pad=settings.padding_ring,
        routes=lambda: gradient_routes(x, settings.op, **settings.pool_kwargs()))
choice = st.radio(t("gradients.upstream"), UPSTREAMS, key="upstream", horizontal=True,
                  format_func=lambda upstream: t(f"gradients.upstream_{upstream}"))
if choice == "random":
    seed = st.number_input(t("gradients.upstream_seed"), 0, 2**31 - 1, key="upstream_seed")
    upstream = np.round(np.random.default_rng(seed).normal(size=result.output.shape), 2)
elif choice == "ones":
    upstream = np.ones_like(result.output)
else:
    upstream = np.zeros_like(result.output)
    upstream[cell] = 1.0
gradient = input_gradient(x, settings.op, upstream, **settings.pool_kwargs())

low, high = views.symmetric_range(upstream, gradient)
left, right = st.columns(2)
with left:
    fig = views.heatmap(upstream, t("gradients.upstream_title"), low, high, colorscale=figures.DIVERGING, zmid=0,
                          show_scale=False)
    figures.outline_cells(fig, [cell])
    views.chart(fig, "upstream_chart")
with right:
    report = window_report(result, x, *cell)
    fig = views.heatmap(gradient, t("gradients.gradient_title", channel=channel_note), low, high,
                          colorscale=figures.DIVERGING, zmid=0)
    figures.outline_window(fig, report)
    views.chart(fig, "gradient_chart")

totals = st.columns(2)
totals[0].metric(t("gradients.upstream_sum"), fmt(round(float(upstream.sum()), 10)))
totals[1].metric(t("gradients.gradient_sum"), fmt(round(float(gradient.sum()), 10)))

effects = []
counts = coverage(result)
k, s = settings.kernel, settings.stride
if counts.max() > 1:
    effects.append(t("gradients.overlap", count=int((counts > 1).sum())))
if (counts == 0).any():
    reason = t("gradients.gap_stride", stride=s, kernel=k) if s > k else t("gradients.gap_edge")
    effects.append(t("gradients.uncovered", count=int((counts == 0).sum()), reason=reason))
if operator.reduction is not None:
    extreme = t(f"gradients.extreme_{operator.reduction}")
    ties = tied_windows(result, x, operator.reduction)
    if ties.any():
        i, j = np.argwhere(ties)[0]
        key = "gradients.tie_one" if ties.sum() == 1 else "gradients.tie_many"
        effects.append(t(key, count=int(ties.sum()), extreme=extreme, row=i, col=j))
    else:
        effects.append(t("gradients.routes", name=operator_name(operator), extreme=extreme))
if operator.gradient_note is not None and (note := operator.gradient_note(**result.params)):
    effects.append(library_text(note))
for effect in effects:
    st.markdown(f"- {effect}")

if operator.gradient_table is not None:
    real = report.real
    st.markdown(t("gradients.table_title", row=cell[0], col=cell[1]))
    columns = operator.gradient_table(report.values[real], report.weights[real], report.output, **result.params)
    st.dataframe({library_text(heading): values for heading, values in columns}, hide_index=True)
