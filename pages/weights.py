"""Pooling weights: each window cell's share of its output, for every weighted operator."""

import numpy as np
import streamlit as st

from pages.ui import controls, figures, views
from pooling_core import OPERATORS, PoolingError, pool2d
from pooling_core.explain import coverage, scatter_to_input, window_report
from pooling_core.numbers import fmt

OUTPUT_CHART = "weights_output_chart"
COLUMNS = 5
WEIGHT_SCALE = (0.0, 1.0)

settings, source = controls.sidebar()
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
    st.plotly_chart(fig, key=OUTPUT_CHART, on_select="rerun", selection_mode=("points",),
                    config={"displayModeBar": False})
report = window_report(result, x, *cell)
if not operator.has_weights:
    st.info(f"{operator.name} is not a weighted sum of its window, so it has no weights; choose max, average, "
            "SoftPool, LIP, DPP, stochastic, mixed, gated or weighted average in the sidebar.")
else:
    share = scatter_to_input(result.geometry, result.weights)
    with middle:
        fig = figures.heatmap(share, f"Weight of each input cell{channel_note}", *WEIGHT_SCALE,
                              colorscale="Greys", show_scale=False)
        figures.outline_window(fig, report)
        st.plotly_chart(fig, key="weight_map", config={"displayModeBar": False})
    with right:
        fig = figures.heatmap(np.where(report.present, report.weights, np.nan),
                              f"Window ({cell[0]}, {cell[1]}) weights", *WEIGHT_SCALE, colorscale="Greys")
        st.plotly_chart(fig, key="window_weights", config={"displayModeBar": False})
    if coverage(result.geometry).max() > 1:
        st.caption("Windows overlap: a cell read by several windows shows the sum of its shares.")
    st.code(report.text, language=None)

st.subheader("One window, every weighted operator")
st.caption("The same window under each operator. Move the sliders to morph SoftPool, LIP and DPP between "
           "average and max.")
morph = st.columns(4)
log_t = morph[0].slider("SoftPool log₁₀ T", -2.0, 2.0, 0.0, 0.1, key="morph_log_t",
                        help="High T: the mean. Low T: the max.")
beta = morph[1].slider("LIP β", 0.0, 10.0, 1.0, 0.1, key="morph_beta", help="0: the mean. Large: the max.")
lam = morph[2].slider("DPP λ", 0.0, 10.0, 1.0, 0.1, key="morph_lam",
                      help="0: the mean. Large: the most deviating cell, once deviations from the window mean exceed 1 "
                           "(on images in [0, 1] with α = 1, large λ stays near the mean).")
alpha = morph[3].slider("DPP α", 0.0, 5.0, 1.0, 0.1, key="morph_alpha", help="Large α pulls DPP to the mean.")
overrides = {"softpool": {"temperature": 10**log_t}, "lip": {"beta": beta}, "dpp": {"lam": lam, "alpha": alpha}}

window = {k: v for k, v in settings.pool_kwargs().items() if k in
          ("kernel_size", "stride", "padding", "dilation", "ceil_mode")}
compared = [op for op in OPERATORS.values() if op.has_weights and op.windows == "sliding"]
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
        st.plotly_chart(fig, key=f"compare_{op.id}", config={"displayModeBar": False})
