"""Max unpooling: what the indices of max pooling can bring back, and what is lost."""

import numpy as np
import streamlit as st

from pages.ui import controls, figures, views
from pooling_core import PoolingError, pool2d
from pooling_core.numbers import fmt
from pooling_core.reconstruct import quality, reconstructions, shared_targets

settings, source = controls.current()
st.title("Max unpooling")
st.caption("Max pooling keeps each window's maximum and where it was. Unpooling puts every maximum back at its "
           "index and zeros everywhere else: an inverse only for the maxima. This page always uses max pooling "
           "with the sidebar's kernel, stride and padding.")
views.require_input(source)
x, channel_note = views.shown_plane(source, settings)
window = dict(kernel_size=settings.kernel, stride=settings.stride, padding=settings.padding)
try:
    pooled = pool2d(x, "max", **window)
    ways_back = reconstructions(x, **window)
except PoolingError as error:
    st.error(str(error))
    st.stop()

unpooled = ways_back["max unpooling"]
error_map = x - unpooled
targets = shared_targets(pooled.indices, x.shape)
low, high = views.color_range(x)
columns = st.columns(4)
panels = [
    (figures.heatmap(x, f"Input{channel_note}", low, high, show_scale=False), None),
    (figures.heatmap(pooled.output, "Max pooled", low, high, show_scale=False), None),
    (figures.heatmap(unpooled, "Unpooled", low, high, show_scale=False), np.argwhere(targets > 1)),
    (figures.heatmap(error_map, "Error (input − unpooled)", *views.symmetric_range(error_map),
                     colorscale=figures.DIVERGING, zmid=0, show_scale=False), None),
]
for column, (fig, shared) in zip(columns, panels):
    if shared is not None and len(shared):
        figures.outline_cells(fig, [tuple(cell) for cell in shared])
    with column:
        views.chart(fig)

if (targets > 1).any():
    st.warning(f"Windows overlap: {int((targets > 1).sum())} cells (outlined) are the maximum of several windows, "
               "so several outputs point to one cell and only one value lands there.")
if x.shape != tuple(settings.kernel * np.array(pooled.output.shape)):
    st.info(f"The input is {x.shape[0]}x{x.shape[1]}; unpooling is told this original size, since "
            f"{pooled.output.shape[0]}x{pooled.output.shape[1]} outputs alone could come from several sizes.")

data_range = float(high - low) or 1.0
rows = []
for name, reconstruction in ways_back.items():
    scores = quality(x, reconstruction, data_range)
    rows.append({"reconstruction": name, "MSE": scores["mse"],
                 "PSNR (dB)": fmt(scores["psnr"]) if np.isinf(scores["psnr"]) else round(scores["psnr"], 2),
                 "cells exact": f"{100 * scores['exact']:.1f}%"})
st.markdown(f"**How close each way back gets** (PSNR for a value range of {fmt(data_range)})")
st.dataframe(rows, hide_index=True)
st.caption("Unpooling is exact on the maxima and zero elsewhere; upsampling smears values instead. "
           "Neither can recover what pooling threw away.")
