"""What the inspector component is sent: grids, each window's cells, weights, winner and arithmetic.

Plain code (no Streamlit), so that it can be tested on its own. Small outputs get every output
cell's details, so that hovering and playing need no server; large ones (photos, more than
``GRID_MAX_OUTPUT_CELLS`` output cells) get pictures and the pinned cell's details only.
"""

from __future__ import annotations

import hashlib
import json
import math

import numpy as np

from pages.ui import figures
from pooling_core.api import PoolResult
from pooling_core.explain import window_report
from pooling_core.numbers import fmt

GRID_MAX_OUTPUT_CELLS = 32 * 32
GRID_MAX_INPUT_SIDE = figures.PICTURE_ABOVE_SIDE
VALUES_MAX_CELLS = figures.ANNOTATE_MAX_CELLS
COLOR_STOPS = 16
ROUTES_MAX_OUTPUT_CELLS = figures.ANNOTATE_MAX_CELLS  # one backward pass per output cell


def number(value: float) -> float | int | None:
    """A value as JSON can carry it, short: 6 significant digits, ``None`` for NaN and infinities."""
    value = float(value)
    if not math.isfinite(value):
        return None
    value = float(f"{value:.6g}")
    return int(value) if value.is_integer() and abs(value) < 1e15 else value


def grid(values: np.ndarray, with_text: bool) -> dict:
    """One map's cells: numbers for the colours and, on small grids, the numbers as written."""
    rows, cols = values.shape
    cells = {"rows": rows, "cols": cols, "values": [[number(v) for v in row] for row in values]}
    if with_text:
        cells["text"] = [[fmt(v) for v in row] for row in values]
    return cells


def color_scale(zmin: float, zmax: float, colorscale: str = figures.SEQUENTIAL) -> dict:
    """The colour scale the page's figures use, as evenly spaced stops for the browser to blend."""
    stops = figures.palette(colorscale)[np.linspace(0, 255, COLOR_STOPS).round().astype(int)]
    return {"min": number(zmin), "max": number(zmax), "minText": fmt(zmin), "maxText": fmt(zmax),
            "colors": ["#{:02x}{:02x}{:02x}".format(*stop) for stop in stops]}


def window_details(result: PoolResult, x: np.ndarray, i: int, j: int, lead: tuple = (), translate=str,
                   routes: np.ndarray | None = None) -> dict:
    """Output ``(i, j)``'s window: its present input cells ``[row, col, real]`` (real 0 is padding),
    the winning cell where the operator has indices, else the cells' weights where it has weights,
    and the arithmetic, through ``translate`` (for a library ``Message``). (A winner's weights are
    its one-hot: sending both would double the size.) With ``routes`` (H, W), the gradient this
    output sends to each input cell, its non-zero cells as ``gradient`` ``[row, col, share]``."""
    report = window_report(result, x, i, j, lead=lead)
    positions = [(a, b) for a in range(len(report.rows)) for b in range(len(report.cols)) if report.present[a, b]]
    details = {"cells": [[int(report.rows[a]), int(report.cols[b]), int(report.real[a, b])] for a, b in positions],
               "text": translate(report.text)}
    if result.indices is not None:
        details["winner"] = [int(v) for v in divmod(int(result.indices[lead][i, j]), result.geometry.in_size[1])]
    elif report.weights is not None:
        details["weights"] = [number(report.weights[a, b]) for a, b in positions]
    if routes is not None:
        details["gradient"] = [[int(r), int(c), number(routes[r, c])] for r, c in np.argwhere(routes != 0)]
    return details


def payload(x: np.ndarray, result: PoolResult | None, pinned: tuple[int, int], scale: tuple[float, float], *,
            words: dict, channel: int | None = None, pad: int = 0, translate=str, routes=None,
            hidden: str | None = None, projector: bool = False) -> dict:
    """The component's data for input ``x`` ((H, W), or (3, H, W) in colour) and its pooling ``result``.

    ``channel`` picks a colour input's map; ``None`` on a colour input shows all three channels
    (as colour pictures, with the pinned cell's details per channel). ``result`` is ``None`` when
    the settings do not fit: the input is shown alone. ``pad`` is the padding ring to draw.
    ``words`` are the component's texts in the reader's language (the catalogs' ``[inspector]``,
    with ``channels`` the colour channels' names) and ``translate`` turns a library message into
    the same language. ``routes``, for a single map, is a function giving
    :func:`pooling_core.gradient_routes` of it; it is called for grids of at most
    ``ROUTES_MAX_OUTPUT_CELLS`` output cells, whose windows then say where their gradient goes.
    ``hidden`` is the text shown instead of every window's arithmetic while a
    student predicts the output: its cells are then sent grey and marked ``?``, without values,
    winners or weights. ``projector`` asks for the large sizes of a projected screen (inspector.css).
    """
    x = np.asarray(x, dtype=np.float64)
    all_three = x.ndim == 3 and channel is None
    leads = [(c,) for c in range(3)] if all_three else [(channel,) if x.ndim == 3 else ()]
    plane = x[leads[0]]  # x[()] is x
    out = None if result is None else result.output[leads[0]]
    pictures = all_three or max(plane.shape) > GRID_MAX_INPUT_SIDE or (
        out is not None and out.size > GRID_MAX_OUTPUT_CELLS)

    def draw(values: np.ndarray) -> dict:
        return picture(values, scale) if pictures else grid(values, values.size <= VALUES_MAX_CELLS)

    data = {"mode": "picture" if pictures else "grid", "scale": color_scale(*scale), "pad": int(pad),
            "channels": [words["channels"][c] for (c,) in leads] if all_three else [], "words": words,
            "input": draw(x if all_three else plane), "projector": bool(projector)}
    if result is not None:
        shown = result.output if all_three else out
        data["output"] = draw(shown if hidden is None else np.full(out.shape, np.nan))
        if hidden is not None and "text" in data["output"]:
            data["output"]["text"] = [["?"] * out.shape[1] for _ in range(out.shape[0])]
        if pictures:
            geometry = result.geometry
            data["geometry"] = {"rows": geometry.rows.tolist(), "cols": geometry.cols.tolist(),
                                "rowPresent": geometry.row_present.astype(int).tolist(),
                                "colPresent": geometry.col_present.astype(int).tolist()}
        else:
            rows, cols = out.shape
            gradient = routes() if routes is not None and out.size <= ROUTES_MAX_OUTPUT_CELLS else None
            data["windows"] = [_sent(window_details(result, x, i, j, leads[0], translate,
                                                    None if gradient is None else gradient[i, j]), hidden)
                               for i in range(rows) for j in range(cols)]
    # The browser rebuilds its grids only when this changes, not when a pin comes back from the server.
    data["digest"] = hashlib.sha1(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]
    data["pinned"] = [int(v) for v in pinned]
    if result is not None and pictures:
        data["details"] = [_sent(window_details(result, x, *pinned, lead, translate), hidden) for lead in leads]
    return data


def _sent(details: dict, hidden: str | None) -> dict:
    """A window's details as sent: only its cells, with the ``hidden`` text, while its value is predicted."""
    return details if hidden is None else {"cells": details["cells"], "text": hidden}


def picture(values: np.ndarray, scale: tuple[float, float]) -> dict:
    """A map ((H, W), colour-mapped) or a colour image ((3, H, W)) as a PNG, from every n-th cell
    beyond ``figures.DISPLAY_MAX_SIDE`` like the figures; the sizes stay the full map's."""
    rows, cols = values.shape[-2:]
    step = -(-max(rows, cols) // figures.DISPLAY_MAX_SIDE)
    if values.ndim == 3:
        uri = figures.rgb_png(values[:, ::step, ::step])
    else:
        uri = figures.colored_png(np.asarray(values[::step, ::step], dtype=np.float32), *scale, figures.SEQUENTIAL)
    return {"rows": rows, "cols": cols, "picture": uri}
