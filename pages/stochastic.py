"""Stochastic pooling: the sampling probabilities, many draws, and their mean converging."""

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from pages.ui import controls, figures, views
from pages.ui.i18n import library_text, t
from pages.ui.inspector.component import inspect
from pooling_core import PoolingError, pool2d
from pooling_core.explain import scatter_to_input, window_report
from pooling_core.numbers import fmt
from pooling_core.operators.stochastic import draw_cells

INSPECTOR_KEY = "stochastic_inspector"
MAX_DRAWS = 10_000

settings, source = controls.current()
st.title(t("stochastic.title"))
st.caption(t("stochastic.caption"))
views.require_input(source)
x, channel_note = views.shown_plane(source, settings)
state = st.session_state
state.setdefault("stochastic_seed", 0)
state.setdefault("draw_count", 1000)
window = settings.window_kwargs()
seed = int(state["stochastic_seed"])
try:
    evaluated = pool2d(x, "stochastic", mode="eval", **window)
    trained = pool2d(x, "stochastic", mode="train", seed=seed, **window)
except PoolingError as error:
    st.error(library_text(error))
    st.stop()

activations = np.maximum(x, 0)
if evaluated.notice:
    st.warning(library_text(evaluated.notice))

cell = views.selected_cell(evaluated.output.shape)
report = window_report(evaluated, x, *cell)
low, high = views.color_range(activations, evaluated.output)
inspect(x, evaluated, cell, views.color_range(x, evaluated.output), INSPECTOR_KEY,
        titles={"output_title": t("stochastic.eval_title")}, pad=settings.padding)
columns = st.columns(3 if evaluated.notice else 2)
with columns[0]:
    fig = views.heatmap(scatter_to_input(evaluated.geometry, evaluated.weights),
                          t("stochastic.probability_title", channel=channel_note), 0.0, 1.0, colorscale="Greys",
                          show_scale=False)
    figures.outline_window(fig, report)
    views.chart(fig, "probability_map")
with columns[1]:
    fig = views.heatmap(trained.output, t("stochastic.train_title", seed=seed), low, high, show_scale=False)
    figures.outline_cells(fig, [cell])
    views.chart(fig, "train_map")
if evaluated.notice:
    with columns[2]:
        fig = views.heatmap(activations, t("stochastic.relu_title"), low, high, show_scale=False)
        views.chart(fig, "relu_map")

real = report.real
values = np.maximum(report.values[real], 0)
probabilities = report.weights[real]
labels = [f"({report.rows[a]}, {report.cols[b]}): {fmt(v)}" for (a, b), v in zip(zip(*np.nonzero(real)), values)]
st.code(library_text(report.text), language=None)

buttons = st.columns([1, 1, 1, 2])
buttons[0].button(t("stochastic.sample_once"), key="sample_once", use_container_width=True,
                  on_click=lambda: state.update(stochastic_seed=seed + 1, draw_count=1))
buttons[1].button(t("stochastic.sample_many"), key="sample_many", use_container_width=True,
                  on_click=lambda: state.update(stochastic_seed=seed + 1))
buttons[2].number_input("N", 1, MAX_DRAWS, key="draw_count")
buttons[3].number_input(t("stochastic.seed"), 0, 2**31 - 1, key="stochastic_seed", help=t("stochastic.seed_help"))

if values.sum() == 0:
    st.info(t("stochastic.nothing_to_draw"))
    st.stop()
count = int(state["draw_count"])
cells = draw_cells(report.values[real], count, seed)
drawn = values[cells]
frequency = np.bincount(cells, minlength=len(values)) / count
running_mean = np.cumsum(drawn) / np.arange(1, count + 1)

left, right = st.columns(2)
with left:
    fig = go.Figure([
        go.Bar(x=labels, y=probabilities, name=t("stochastic.probability"), marker_color="#636efa"),
        go.Bar(x=labels, y=frequency, name=t("stochastic.share", count=count), marker_color="#ef553b"),
    ])
    fig.update_layout(title=t("stochastic.histogram_title", row=cell[0], col=cell[1],
                              values=", ".join(fmt(v) for v in values)),
                      barmode="group", height=320, margin=dict(l=10, r=10, t=40, b=10), yaxis_range=[0, 1],
                      xaxis_title=t("stochastic.histogram_axis"), legend=dict(orientation="h", y=-0.3))
    views.chart(fig, "draw_histogram")
with right:
    fig = go.Figure(go.Scatter(x=np.arange(1, count + 1), y=running_mean, mode="lines",
                               name=t("stochastic.running_mean")))
    fig.add_hline(y=report.output, line_dash="dot", annotation_text=t("stochastic.expectation",
                                                                      value=fmt(report.output)))
    fig.update_layout(title=t("stochastic.mean_title"), height=320, margin=dict(l=10, r=10, t=40, b=10),
                      xaxis_title=t("stochastic.draws"), xaxis_type="log" if count > 10 else "linear")
    views.chart(fig, "running_mean")
st.markdown(t("stochastic.summary", count=count, seed=seed, mean=fmt(running_mean[-1]), expectation=fmt(report.output),
              cell=labels[cells[-1]]))
