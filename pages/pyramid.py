"""Beyond one window: spatial pyramid pooling, local response normalisation, bilinear pooling."""

import warnings

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from pages.ui import controls, figures, views
from pages.ui.i18n import library_text, t
from pages.ui.state import CHANNELS
from pooling_core import PoolingError, bilinear_pool, local_response_norm, pool2d, pyramid_levels, spatial_pyramid_pool
from pooling_core.pyramid import RECIPES

FEATURE_CHANNELS = 8

settings, source = controls.current()
st.title(t("pyramid.title"))
views.require_input(source)
x, channel_note = views.shown_plane(source, settings)
low, high = views.color_range(x)

st.header(t("pyramid.spp_title"))
st.caption(t("pyramid.spp_caption"))
options = st.columns([2, 1])
levels_text = options[0].text_input(t("pyramid.levels"), "4, 2, 1", key="spp_levels")
recipe = options[1].radio(t("pyramid.recipe"), RECIPES, key="spp_recipe", horizontal=True,
                          format_func=lambda name: t(f"pyramid.recipe_{name}"), help=t("pyramid.recipe_help"))
try:
    levels = tuple(int(part) for part in levels_text.replace(",", " ").split())
    pyramid = pyramid_levels(x.shape, levels, recipe)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        vector = spatial_pyramid_pool(source.array, levels, recipe)
except ValueError as error:  # PoolingError, or a level that is not a whole number
    st.error(library_text(error) if isinstance(error, PoolingError) else t("pyramid.levels_not_numbers"))
else:
    for level in pyramid:
        if level.message:
            st.warning(library_text(level.message))
    columns = st.columns(len(pyramid))
    for index, (column, level) in enumerate(zip(columns, pyramid)):
        geometry = level.geometry
        fig = views.heatmap(x, t("pyramid.level_title", level=index + 1, rows=level.bins[0], cols=level.bins[1],
                                   channel=channel_note), low, high, show_scale=False, height=300)
        for i in range(geometry.out_size[0]):
            for j in range(geometry.out_size[1]):
                rows = geometry.rows[i][geometry.row_present[i]]
                cols = geometry.cols[j][geometry.col_present[j]]
                figures.outline_block(fig, (rows.min(), rows.max()), (cols.min(), cols.max()), color="#ff2d55",
                                      dash="solid")
        with column:
            views.chart(fig, f"spp_level_{index}")
    fig = go.Figure(go.Bar(y=vector, marker_color="#636efa"))
    fig.update_layout(title=t("pyramid.vector_title", count=vector.size), height=260,
                      margin=dict(l=10, r=10, t=40, b=10), xaxis_title=t("pyramid.vector_axis"))
    views.chart(fig, "spp_vector")

st.header(t("pyramid.neighbours_title"))
st.caption(t("pyramid.neighbours_caption", channels=FEATURE_CHANNELS))
if source.is_rgb:
    features, names = source.array, [t(f"channel.{channel}") for channel in CHANNELS[:3]]
else:
    rng = np.random.default_rng(settings.seed)
    pooled = pool2d(x, "max", kernel_size=2, stride=1).output if min(x.shape) > 1 else x
    features = np.stack([pooled * rng.uniform(0.5, 1.5) + rng.normal() for _ in range(FEATURE_CHANNELS)])
    names = [t("pyramid.feature_channel", index=c) for c in range(FEATURE_CHANNELS)]
size = st.slider(t("pyramid.lrn_size"), 1, 9, 5, key="lrn_size")
normalised = local_response_norm(features, size=size, alpha=1e-4 * size, beta=0.75, k=2.0)
st.markdown(t("pyramid.lrn_text"))
before, after = st.columns(2)
fig = views.heatmap(features[0], t("pyramid.before_lrn", name=names[0]), *views.color_range(features[0]), height=280)
with before:
    views.chart(fig, "lrn_before")
fig = views.heatmap(normalised[0], t("pyramid.after_lrn", name=names[0]), *views.color_range(normalised[0]),
                      height=280)
with after:
    views.chart(fig, "lrn_after")

matrix = bilinear_pool(features, normalize=False)
st.markdown(t("pyramid.bilinear_text", places=features.shape[1] * features.shape[2], size=len(names)))
fig = views.heatmap(matrix, t("pyramid.bilinear_title"), *views.color_range(matrix), height=320)
views.chart(fig, "bilinear_matrix")
