"""Pieces of page layout that several pages share: pooling with a message, the selected cell."""

from __future__ import annotations

import re

import numpy as np
import streamlit as st

from pages.ui import figures
from pages.ui.i18n import language, library_text, operator_name, t, text_in
from pages.ui.state import CELL_KEY, CHANNELS
from pooling_core import PoolingError, output_size, pool2d
from pooling_core.nn import snippet

MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def literal(text: str) -> str:
    """``text`` escaped so that Streamlit's Markdown shows it as typed (a grid token such as
    ``*2*`` or ``$x$``, a file name), neither formatted nor read as LaTeX."""
    return MARKDOWN_SPECIAL.sub(r"\\\1", text)


def show_link_notices(notices: list[str]) -> None:
    """Say which values of the link were replaced, one line each (a slot of its own, as below)."""
    slot = st.empty()
    if notices:
        slot.warning("  \n".join(literal(notice) for notice in notices))


def chart(fig, key: str | None = None, **options):
    """A Plotly chart as every page shows one: no mode bar."""
    return st.plotly_chart(fig, key=key, config={"displayModeBar": False}, **options)


def hover_words(lang: str) -> figures.HoverWords:
    """The heatmaps' hover words in ``lang``."""
    return figures.HoverWords(*(text_in(lang, f"figures.{word}") for word in ("row", "col", "click")))


def heatmap(*args, **options):
    """:func:`figures.heatmap` with its hover labels in this session's language."""
    return figures.heatmap(*args, hover=hover_words(language()), **options)


def require_input(source) -> None:
    """Show the source's notice or error; stop the page when there is no input to show.

    Each message has a slot of its own, filled or not, so that the elements below keep their
    places when a message comes or goes: the browser then updates them instead of building them
    again.
    """
    notice, error = st.empty(), st.empty()
    if source.notice:
        notice.info(literal(source.notice))
    if source.error:
        error.error(literal(source.error))
    if source.array is None:
        st.stop()


def shown_plane(source, settings) -> tuple[np.ndarray, str]:
    """The one 2-D map a teaching page works on (a colour image's chosen channel) and its name."""
    if not source.is_rgb:
        return source.array, ""
    channel = settings.channel if settings.channel != "all" else "red"
    return source.array[CHANNELS.index(channel)], t(f"views.channel_note.{channel}")


def color_range(*arrays) -> tuple[float, float]:
    """One colour scale for several arrays: their finite minimum and maximum."""
    low, high = min(np.min(a) for a in arrays), max(np.max(a) for a in arrays)
    if not (np.isfinite(low) and np.isfinite(high)):  # rare: skip infinities and NaN
        finite = np.concatenate([np.ravel(a)[np.isfinite(np.ravel(a))] for a in arrays])
        low, high = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
    return float(low), float(high)


def symmetric_range(*arrays) -> tuple[float, float]:
    """A colour scale centred on 0 that holds every finite value (for gradients)."""
    low, high = color_range(*arrays)
    bound = max(abs(low), abs(high)) or 1.0
    return -bound, bound


def pool(x: np.ndarray, settings):
    """``pool2d`` with the user's settings: ``(result, None)``, or ``(None, message)`` when they do not fit.
    The pages that call it show windows, so the explanation is computed with the output."""
    try:
        return pool2d(x, settings.op, **settings.pool_kwargs(), explain=True), None
    except PoolingError as error:
        return None, library_text(error)


def pool_or_stop(x: np.ndarray, settings):
    """``pool2d`` with the user's settings; when they do not fit, the library's message ends the page."""
    result, problem = pool(x, settings)
    if problem:
        st.error(problem)
        st.stop()
    return result


def selected_cell(out_shape) -> tuple[int, int]:
    """The output cell being inspected, kept inside the output's bounds."""
    rows, cols = out_shape
    i, j = st.session_state.get(CELL_KEY, (0, 0))
    cell = (min(max(i, 0), rows - 1), min(max(j, 0), cols - 1))
    st.session_state[CELL_KEY] = cell
    link = None if cell == (0, 0) else f"{cell[0]},{cell[1]}"  # the URL keeps the cell, as state.FIELDS reads it
    if st.query_params.get(CELL_KEY) != link:
        if link is None:
            del st.query_params[CELL_KEY]
        else:
            st.query_params[CELL_KEY] = link
    return cell


def take_click(chart_key: str) -> None:
    """Move the selected cell to the heatmap cell last clicked in ``chart_key``.

    Read at the start of a run, before anything is drawn. A chart keeps reporting its last
    selection on every rerun, so only a new one moves the cell.
    """
    selection = (st.session_state.get(chart_key) or {}).get("selection", {})
    points = [p for p in selection.get("points", []) if p.get("customdata") is not None]
    data = points[0]["customdata"] if points else None
    if isinstance(data, dict):
        data = [data["0"], data["1"]]
    clicked = None if data is None else (int(data[0]), int(data[1]))
    seen_key = f"_seen_{chart_key}"
    if clicked is not None and clicked != st.session_state.get(seen_key):
        st.session_state[CELL_KEY] = clicked
    st.session_state[seen_key] = clicked


def output_size_latex(in_size, settings) -> str:
    """PyTorch's output-size formula with this call's numbers, one line per axis."""
    k, s, p, d = settings.kernel, settings.stride, settings.padding, settings.pool_kwargs()["dilation"]
    lines = []
    floor, ceil = (r"\left\lfloor", r"\right\rfloor"), (r"\left\lceil", r"\right\rceil")
    left, right = ceil if settings.ceil_mode else floor
    for axis, length in zip("HW", in_size):
        value = output_size(length, k, s, p, d, settings.ceil_mode)
        lines.append(
            rf"{axis}_{{out}} = {left}\frac{{{axis} + 2p - d(k-1) - 1}}{{s}}{right} + 1"
            rf" = {left}\frac{{{length} + 2\cdot{p} - {d}\cdot({k}-1) - 1}}{{{s}}}{right} + 1"
            rf" = {value}"
        )
    return r" \\ ".join(lines)


def torch_code(settings) -> None:
    """The sidebar's operator and settings as PyTorch code, in a code block with its copy button."""
    st.caption(t("code.caption", name=operator_name(settings.operator)))
    try:
        st.code(snippet(settings.op, **settings.pool_kwargs()), language="python")
    except PoolingError as error:
        st.error(library_text(error))
