"""Explore's downloads for slides: the view as a PNG, the window's scan as a GIF and the arrays as
CSV, drawn by :mod:`pages.ui.exports` only when their button is clicked (no rerun either)."""

from __future__ import annotations

import streamlit as st

from pages.ui import exports, views
from pages.ui.i18n import library_text, operator_name, param_label, t
from pages.ui.state import CHANNELS, SLIDING_KEYS, hidden
from pooling_core.explain import window_report
from pooling_core.numbers import fmt


def settings_text(settings) -> str:
    """The operator's settings in one line, e.g. ``Kernel 2 · Stride 2 · Padding 0 · Dilation 1 · Ceil mode off``."""
    op = settings.operator
    window = settings.window_kwargs()
    parts = [(t(f"sidebar.{SLIDING_KEYS[name]}"), window[name]) for name in op.window_controls]
    parts += [(param_label(op, p), settings.params[p.name]) for p in op.params if p.in_app]
    return " · ".join(f"{label} {_written(v)}" for label, v in parts if v is not None)


def _written(setting) -> str:
    if isinstance(setting, bool):
        return t("link.on" if setting else "link.off")
    return setting if isinstance(setting, str) else fmt(setting)


def downloads(result, x, lead: tuple, cell: tuple[int, int], settings, pad: int) -> None:
    """The download buttons for the map ``lead`` of ``x`` pooled into ``result`` (a colour input's channel
    named in the title), output ``cell``'s window highlighted; left out where a teacher's link hides ``exports``."""
    if hidden("exports"):
        return
    plane, out = (x[lead], result.output[lead]) if lead else (x, result.output)
    report = window_report(result, x, *cell, lead=lead)
    view = exports.View(
        plane, out, views.color_range(plane, out),
        (t("slides.input", rows=plane.shape[0], cols=plane.shape[1]), t("slides.output", rows=out.shape[0],
                                                                         cols=out.shape[1])),
        operator_name(settings.operator) + (t("slides.channel", channel=t(f"channel.{CHANNELS[lead[0]]}")) if lead
                                             else ""),
        t("slides.caption", settings=settings_text(settings), row=cell[0], col=cell[1],
          arithmetic=library_text(report.text)),
        lambda i, j: result.geometry.window(i, j)[:3], pad=pad)
    with st.expander(t("slides.title")):
        buttons = st.columns(4)
        files = [("png", "poolscope.png", "image/png", lambda: exports.view_png(view, cell)),
                 ("gif", "poolscope-scan.gif", "image/gif", lambda: exports.scan_gif(view)),
                 ("input_csv", "poolscope-input.csv", "text/csv", lambda: exports.array_csv(plane)),
                 ("output_csv", "poolscope-output.csv", "text/csv", lambda: exports.array_csv(out))]
        for column, (name, file_name, mime, make) in zip(buttons, files):
            column.download_button(t(f"slides.{name}"), make, file_name=file_name, mime=mime, on_click="ignore",
                                   key=f"download_{name}", icon=":material/download:")
        st.caption(t("slides.note") if exports.font_path() else t("slides.no_font"))
