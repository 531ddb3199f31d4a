"""One output cell explained: its window on the input and its arithmetic written out."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pooling_core.api import PoolResult
from pooling_core.numbers import fmt


@dataclass(frozen=True)
class WindowReport:
    """The window behind output ``(i, j)`` of one map.

    ``rows``/``cols`` (kh,), (kw,) are input indices (outside the input on padding), ``real`` and
    ``present`` (kh, kw) mark real input cells and cells that are input or padding (not absent
    positions of a shorter window), ``values`` holds the real cells' input values (NaN elsewhere),
    ``weights`` each cell's share when the operator has weights, and ``text`` the arithmetic.
    """

    i: int
    j: int
    rows: np.ndarray
    cols: np.ndarray
    real: np.ndarray
    present: np.ndarray
    values: np.ndarray
    weights: np.ndarray | None
    output: float
    text: str


def window_report(result: PoolResult, x: np.ndarray, i: int, j: int, lead: tuple = ()) -> WindowReport:
    """Explain output ``(i, j)`` of the map ``lead`` (e.g. ``(channel,)``) of ``pool2d(x, ...)``."""
    plane = np.asarray(x, dtype=np.float64)[lead] if lead else np.asarray(x, dtype=np.float64)
    rows, cols, real, present = result.geometry.window(i, j)
    cells = result.window_cells(lead)
    if cells is not None:
        real, present = real & cells, present & cells
    height, width = plane.shape
    values = np.where(real, plane[rows.clip(0, height - 1)[:, None], cols.clip(0, width - 1)[None, :]], np.nan)
    output = float(result.output[lead][i, j]) if lead else float(result.output[i, j])
    weights = result.window_weights(i, j, lead) if result.operator.has_weights else None
    text = arithmetic(result, values[real], None if weights is None else weights[real], output, lead)
    return WindowReport(i, j, rows, cols, real, present, values, weights, output, text)


def arithmetic(result: PoolResult, values: np.ndarray, weights: np.ndarray | None, output: float,
               lead: tuple = ()) -> str:
    """The computation of one output of the map ``lead`` from its real window values, e.g.
    ``max(1, 1, 5, 6) = 6``.

    Operators write their own (``Operator.arithmetic``); a weighted sum is the default.
    """
    if result.operator.arithmetic is not None:
        component = result.component(lead)
        chosen = {} if component is None else {"component": component}
        return result.operator.arithmetic(values, weights, output, **result.params, **chosen)
    if weights is not None:
        return " + ".join(f"{fmt(w)}*{fmt(v)}" for w, v in zip(weights, values)) + f" = {fmt(output)}"
    return f"{result.operator.id}({', '.join(fmt(v) for v in values)}) = {fmt(output)}"


def scatter_to_input(geometry, values: np.ndarray) -> np.ndarray:
    """Add per-window-cell ``values`` (Ho, Wo, kh, kw) onto the input cells they read: (H, W)."""
    height, width = geometry.in_size
    rows, cols = geometry.rows.clip(0, height - 1), geometry.cols.clip(0, width - 1)
    # In (Ho, kh, Wo, kw) order numpy's loops run over whole rows of windows, and bincount sums
    # what np.add.at did in a tenth of the time; padding adds 0.
    cells = (rows[:, :, None, None] * width + cols[None, None, :, :]).ravel()
    shares = np.where(geometry.real_mask(), values, 0.0).transpose(0, 2, 1, 3).ravel()
    return np.bincount(cells, weights=shares, minlength=height * width).reshape(height, width)


def coverage(result: PoolResult, lead: tuple = ()) -> np.ndarray:
    """(H, W) count of the windows whose output reads each input cell of the map ``lead`` (0: none
    does); where an operator narrows its windows per image (APS), only the cells it reads count."""
    geometry = result.geometry
    shape = (*geometry.out_size, *geometry.window_shape)
    cells = result.window_cells(lead)
    read = np.ones(shape) if cells is None else np.broadcast_to(cells, shape)
    return scatter_to_input(geometry, read).astype(np.int64)


def tied_windows(result: PoolResult, plane: np.ndarray, reduction: str = "max", lead: tuple = ()) -> np.ndarray:
    """(Ho, Wo) bool: the window's maximum (or minimum, for ``reduction="min"``) occurs more than
    once among the real cells of ``plane`` that the output of the map ``lead`` reads."""
    geometry = result.geometry
    height, width = plane.shape
    rows = geometry.rows.clip(0, height - 1)[:, None, :, None]
    values = plane[rows, geometry.cols.clip(0, width - 1)[None, :, None, :]]
    cells = result.window_cells(lead)
    real = geometry.real_mask() if cells is None else geometry.real_mask() & cells
    if reduction == "min":
        peak = np.where(real, values, np.inf).min((-1, -2), keepdims=True)
    else:
        peak = np.where(real, values, -np.inf).max((-1, -2), keepdims=True)
    return ((values == peak) & real).sum((-1, -2)) > 1
