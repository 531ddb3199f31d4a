"""Pooling weights: each window cell's share of its output, for every weighted operator."""

import math

import numpy as np
import streamlit as st

from pages.ui import controls, figures, views
from pages.ui.i18n import library_text, operator_name, param_help, param_label, t
from pages.ui.inspector.component import inspect
from pooling_core import OPERATORS, PoolingError, pool2d
from pooling_core.explain import coverage, scatter_to_input, window_report
from pooling_core.numbers import fmt

INSPECTOR_KEY = "weights_inspector"
COLUMNS = 5
WEIGHT_SCALE = (0.0, 1.0)
MORPH_STEPS = 100


def morph_slider(op, p) -> float:
    """A slider over the parameter's range (its logarithm for a log-scale one); its value."""
    low, high = p.ui_range
    names = dict(operator=operator_name(op), param=param_label(op, p))
    if p.log_scale:
        low, high, start = math.log10(low), math.log10(high), math.log10(p.default)
        label = t("weights.morph_log_label", **names)
    else:
        start, label = p.default, t("weights.morph_label", **names)
    chosen = st.slider(label, float(low), float(high), float(start), (high - low) / MORPH_STEPS,
                       key=f"morph.{op.id}.{p.name}", help=param_help(op, p))
    return 10**chosen if p.log_scale else chosen

settings, source = controls.current()
operator = settings.operator
st.title(t("weights.title"))
st.caption(t("weights.caption"))
views.require_input(source)
x, channel_note = views.shown_plane(source, settings)
result = views.pool_or_stop(x, settings)

cell = views.selected_cell(result.output.shape)
inspect(x, result, cell, views.color_range(x, result.output), INSPECTOR_KEY, pad=settings.padding_ring)
report = window_report(result, x, *cell)
compared = [op for op in OPERATORS.values() if op.has_weights and op.windows == "sliding"]
if not operator.has_weights:
    names = t("common.list_separator").join(operator_name(op) for op in OPERATORS.values() if op.has_weights)
    st.info(t("weights.no_weights", name=operator_name(operator), names=names))
else:
    share = scatter_to_input(result.geometry, result.weights)
    middle, right = st.columns(2)
    with middle:
        fig = views.heatmap(share, t("weights.map_title", channel=channel_note), *WEIGHT_SCALE,
                              colorscale="Greys", show_scale=False)
        figures.outline_window(fig, report)
        views.chart(fig, "weight_map")
    with right:
        fig = views.heatmap(np.where(report.present, report.weights, np.nan),
                              t("weights.window_title", row=cell[0], col=cell[1]), *WEIGHT_SCALE, colorscale="Greys")
        views.chart(fig, "window_weights")
    if coverage(result).max() > 1:
        st.caption(t("weights.overlap"))
    st.code(library_text(report.text), language=None)

st.subheader(t("weights.compare_title"))
morphing = [(op, p) for op in compared for p in op.params if p.morph]
st.caption(t("weights.compare_caption", names=t("common.list_separator").join(
    dict.fromkeys(operator_name(op) for op, _ in morphing))))
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
            other = window_report(pool2d(x, op.id, **kwargs, explain=True), x, *cell)
        except PoolingError as error:
            st.caption(f"{op.id}: {library_text(error)}")
            continue
        fig = views.heatmap(np.where(other.present, other.weights, np.nan), f"{op.id}: y = {fmt(other.output)}",
                              *WEIGHT_SCALE, colorscale="Greys", show_scale=False, height=240)
        views.chart(fig, f"compare_{op.id}")
