"""Max unpooling: what the indices of max pooling can bring back, and what is lost."""

import numpy as np
import streamlit as st

from pages.ui import controls, figures, views
from pages.ui.i18n import library_text, t
from pages.ui.inspector.component import inspect
from pooling_core import PoolingError, pool2d
from pooling_core.numbers import fmt
from pooling_core.reconstruct import quality, reconstructions, shared_targets

settings, source = controls.current()
st.title(t("unpooling.title"))
st.caption(t("unpooling.caption"))
views.require_input(source)
x, channel_note = views.shown_plane(source, settings)
window = dict(kernel_size=settings.kernel, stride=settings.stride, padding=settings.padding)
try:
    pooled = pool2d(x, "max", **window, explain=True)
    ways_back = reconstructions(x, pooled)
except PoolingError as error:
    st.error(library_text(error))
    st.stop()

unpooled = ways_back["max unpooling"]
error_map = x - unpooled
targets = shared_targets(pooled.indices, x.shape)
low, high = views.color_range(x)
cell = views.selected_cell(pooled.output.shape)
sizes = dict(rows="{rows}", cols="{cols}")  # filled in by the inspector
titles = dict(input_title=t("unpooling.input_title", channel=channel_note, **sizes),
              output_title=t("unpooling.pooled_title"))
inspect(x, pooled, cell, (low, high), "unpooling_inspector", titles=titles, pad=settings.padding)
columns = st.columns(2)
panels = [
    (views.heatmap(unpooled, t("unpooling.unpooled_title"), low, high, show_scale=False), np.argwhere(targets > 1)),
    (views.heatmap(error_map, t("unpooling.error_title"), *views.symmetric_range(error_map),
                     colorscale=figures.DIVERGING, zmid=0, show_scale=False), None),
]
for column, (fig, shared) in zip(columns, panels):
    if shared is not None and len(shared):
        figures.outline_cells(fig, [tuple(cell) for cell in shared])
    with column:
        views.chart(fig)

if (targets > 1).any():
    st.warning(t("unpooling.shared", count=int((targets > 1).sum())))
if x.shape != tuple(settings.kernel * np.array(pooled.output.shape)):
    st.info(t("unpooling.size_told", rows=x.shape[0], cols=x.shape[1], out_rows=pooled.output.shape[0],
              out_cols=pooled.output.shape[1]))

data_range = float(high - low) or 1.0
rows = []
for name, reconstruction in ways_back.items():
    scores = quality(x, reconstruction, data_range)
    rows.append({t("unpooling.column_way"): t(f"unpooling.way.{name}"), "MSE": scores["mse"],
                 t("unpooling.column_psnr"): fmt(scores["psnr"]) if np.isinf(scores["psnr"])
                 else round(scores["psnr"], 2),
                 t("unpooling.column_exact"): f"{100 * scores['exact']:.1f}%"})
st.markdown(t("unpooling.table_title", range=fmt(data_range)))
st.dataframe(rows, hide_index=True)
st.caption(t("unpooling.closing"))
