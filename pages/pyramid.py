"""Beyond one window: spatial pyramid pooling, local response normalisation, bilinear pooling."""

import warnings

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from pages.ui import controls, figures, views
from pooling_core import PoolingError, bilinear_pool, local_response_norm, pool2d, pyramid_levels, spatial_pyramid_pool
from pooling_core.pyramid import RECIPES

FEATURE_CHANNELS = 8

settings, source = controls.current()
st.title("Pyramids and neighbours")
views.require_input(source)
x, channel_note = views.shown_plane(source, settings)
low, high = views.color_range(x)

st.header("Spatial pyramid pooling")
st.caption("He et al. (ECCV 2014): max-pool the map into 4x4, 2x2 and 1x1 bins and concatenate, so a map of any "
           "size gives a vector of the same length, C·Σn².")
options = st.columns([2, 1])
levels_text = options[0].text_input("Levels (bins per side)", "4, 2, 1", key="spp_levels")
recipe = options[1].radio("Recipe", RECIPES, key="spp_recipe", horizontal=True,
                          help="adaptive: PyTorch's adaptive max pooling. paper: window ceil(a/n), stride floor(a/n).")
try:
    levels = tuple(int(part) for part in levels_text.replace(",", " ").split())
    pyramid = pyramid_levels(x.shape, levels, recipe)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        vector = spatial_pyramid_pool(source.array, levels, recipe)
except ValueError as error:  # PoolingError, or a level that is not a whole number
    message = str(error) if isinstance(error, PoolingError) else "Levels must be whole numbers, e.g. 4, 2, 1."
    st.error(message)
else:
    for level in pyramid:
        if level.message:
            st.warning(level.message)
    columns = st.columns(len(pyramid))
    for index, (column, level) in enumerate(zip(columns, pyramid)):
        geometry = level.geometry
        fig = figures.heatmap(x, f"Level {index + 1}: {level.bins[0]}x{level.bins[1]} bins{channel_note}", low, high,
                              show_scale=False, height=300)
        for i in range(geometry.out_size[0]):
            for j in range(geometry.out_size[1]):
                rows = geometry.rows[i][geometry.row_present[i]]
                cols = geometry.cols[j][geometry.col_present[j]]
                figures.outline_block(fig, (rows.min(), rows.max()), (cols.min(), cols.max()), color="#ff2d55",
                                      dash="solid")
        with column:
            views.chart(fig, f"spp_level_{index}")
    fig = go.Figure(go.Bar(y=vector, marker_color="#636efa"))
    fig.update_layout(title=f"The pooled vector: {vector.size} numbers", height=260,
                      margin=dict(l=10, r=10, t=40, b=10),
                      xaxis_title="position (level by level, channel by channel, bins in reading order)")
    views.chart(fig, "spp_vector")

st.header("Local response normalisation and bilinear pooling")
st.caption("Both work across channels rather than over a spatial window. With a colour image the channels are red, "
           f"green and blue; otherwise the input is expanded into a {FEATURE_CHANNELS}-channel feature map (the "
           "input max-pooled 2x2 and shifted by a seeded random amount per channel).")
if source.is_rgb:
    features, names = source.array, ["red", "green", "blue"]
else:
    rng = np.random.default_rng(settings.seed)
    pooled = pool2d(x, "max", kernel_size=2, stride=1).output if min(x.shape) > 1 else x
    features = np.stack([pooled * rng.uniform(0.5, 1.5) + rng.normal() for _ in range(FEATURE_CHANNELS)])
    names = [f"channel {c}" for c in range(FEATURE_CHANNELS)]
size = st.slider("LRN size n (neighbouring channels)", 1, 9, 5, key="lrn_size")
normalised = local_response_norm(features, size=size, alpha=1e-4 * size, beta=0.75, k=2.0)
st.markdown("**LRN** (AlexNet's constants k = 2, α = 10⁻⁴ per channel, β = 0.75) divides each value by the energy "
            "of its n neighbouring channels at the same place: a competition between channels, not spatial pooling.")
before, after = st.columns(2)
fig = figures.heatmap(features[0], f"Before LRN: {names[0]}", *views.color_range(features[0]), height=280)
with before:
    views.chart(fig, "lrn_before")
fig = figures.heatmap(normalised[0], f"After LRN: {names[0]}", *views.color_range(normalised[0]), height=280)
with after:
    views.chart(fig, "lrn_after")

matrix = bilinear_pool(features, normalize=False)
st.markdown(f"**Bilinear pooling** (Lin et al., ICCV 2015) averages the outer product of the channel vector over "
            f"all {features.shape[1] * features.shape[2]} places: a {len(names)}x{len(names)} matrix of how channels "
            "co-occur, whatever the map's size (then a signed square root and L2 normalisation).")
fig = figures.heatmap(matrix, "Mean outer product (before normalisation)", *views.color_range(matrix), height=320)
views.chart(fig, "bilinear_matrix")
