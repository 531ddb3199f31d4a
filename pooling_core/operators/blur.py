"""Anti-aliased downsampling: blur, and max pooling followed by blur (Zhang 2019).

``blur`` low-pass filters each channel with a normalised binomial filter, reflect-padded, and
keeps every ``s``-th output, as Zhang's ``Downsample`` layer does. Its windows are given with the
reflected input index in place of each padded position, so every window cell is a real input
cell and ``blur`` is a weighted average whose weights are the filter; its output is computed as
Zhang's layer computes it, a depthwise convolution of the reflect-padded input. ``blur_max`` (Zhang's
``MaxBlurPool``) takes the max of every k x k patch with stride 1 and then blurs that map; its
window is the receptive field of each output.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from pooling_core.errors import PoolingError
from pooling_core.geometry import WindowGeometry, pair, regular_geometry
from pooling_core.messages import Message
from pooling_core.numbers import fmt
from pooling_core.operators.classic import max_forward
from pooling_core.operators.weighting import depthwise_convolution, weighted
from pooling_core.registry import Operator, Param, register

CITATION = "R. Zhang, Making convolutional networks shift-invariant again, ICML 2019."
FILT_SIZE = Param("filt_size", "int", 3, "Binomial filter size: 2 [1,1], 3 [1,2,1], 4 [1,3,3,1], 5 [1,4,6,4,1].",
                  low=2, high=5, label="Filter size")


@dataclass(frozen=True, eq=False)
class BlurGeometry(WindowGeometry):
    """Windows of a reflect-padded blur.

    ``rows`` (Ho, f) / ``cols`` (Wo, f) hold the input cell each filter tap reads, with padded
    positions already reflected (``-1 -> 1``, ``H -> H-2``). ``extended_rows`` / ``extended_cols``
    hold the same taps before reflection: a tap is a reflected copy where its extended index lies
    outside ``[0, H)``; there the two arrays differ. ``stride`` is the subsampling (h, w).
    """

    extended_rows: np.ndarray | None = None
    extended_cols: np.ndarray | None = None
    stride: tuple[int, int] = (2, 2)


@dataclass(frozen=True, eq=False)
class MaxBlurGeometry(WindowGeometry):
    """Receptive fields of max-then-blur, plus the geometry of each stage.

    ``rows`` / ``cols`` span the input rows and columns each output depends on (contiguous; a
    shorter span near a border marks its tail absent). ``max_stage`` is the k x k, stride-1 max
    pooling of the input; ``blur_stage`` the blur of its output.
    """

    max_stage: WindowGeometry | None = None
    blur_stage: BlurGeometry | None = None


def binomial_filter(filt_size: int) -> np.ndarray:
    """(f, f) binomial filter ``b b^T`` with ``b_u = C(f-1, u) / 2^(f-1)``; it sums to 1."""
    taps = np.array([math.comb(filt_size - 1, u) for u in range(filt_size)], dtype=np.float64) / 2 ** (filt_size - 1)
    return np.outer(taps, taps)


def reflect(index: np.ndarray, length: int) -> np.ndarray:
    """Positions past either border mirrored back (the edge cell is not repeated), as ``F.pad(mode="reflect")``.

    Valid for positions at most ``length - 1`` cells outside ``[0, length)``.
    """
    index = np.abs(index)
    return np.where(index >= length, 2 * (length - 1) - index, index)


def blur_geometry(in_size, filt_size: int, stride, too_small: str = "blur.input_too_small") -> BlurGeometry:
    """Taps of a binomial blur with reflect padding ``((f-1)//2, f//2)`` and subsampling by ``stride``.

    Per axis of length ``L``: ``Lo = floor((L - 1) / s) + 1``, output ``i`` reads extended
    positions ``s*i - (f-1)//2 + u`` for ``u < f``. ``stride=None`` means 2. An input too small
    to reflect raises the message ``too_small``.
    """
    strides = pair(2 if stride is None else stride, "geometry.stride_not_whole")
    before, after = (filt_size - 1) // 2, filt_size // 2
    if min(strides) < 1:
        raise PoolingError("geometry.stride_below_one", stride=min(strides))
    if min(in_size) <= after:
        raise PoolingError(too_small, size=filt_size, reach=after, need=after + 1, height=in_size[0], width=in_size[1])
    axes = []
    for length, s in zip(in_size, strides):
        extended = np.arange((length - 1) // s + 1)[:, None] * s - before + np.arange(filt_size)[None, :]
        axes.append((extended, reflect(extended, length)))
    (extended_rows, rows), (extended_cols, cols) = axes
    return BlurGeometry(tuple(in_size), rows, cols, np.ones(rows.shape, bool), np.ones(cols.shape, bool),
                        extended_rows=extended_rows, extended_cols=extended_cols, stride=strides)


def blur_windows(in_size, params, kernel_size, stride, padding, dilation, ceil_mode) -> BlurGeometry:
    return blur_geometry(in_size, params["filt_size"], stride)


def blur_weights(windows, real, geometry, filt_size=3):
    return torch.as_tensor(binomial_filter(filt_size), dtype=windows.dtype).expand(windows.shape)


def blur_convolution(x, geometry, filt_size=3):
    """The blur as one depthwise convolution of the reflect-padded input (Zhang's ``Downsample``)."""
    before, after = (filt_size - 1) // 2, filt_size // 2
    padded = F.pad(x, (before, after, before, after), mode="reflect")
    return depthwise_convolution(padded, binomial_filter(filt_size), geometry.stride)


blur = weighted(blur_weights, blur_convolution)


def blur_max_windows(in_size, params, kernel_size, stride, padding, dilation, ceil_mode) -> MaxBlurGeometry:
    """Max pooling k x k with stride 1 (no padding), then :func:`blur_geometry` on its output.

    Output cell ``i`` blurs max-map cells ``r`` (reflected taps), each the max of input cells
    ``[r, r + k)``, so its receptive field is ``[min r, max r + k)``.
    """
    max_stage = regular_geometry(in_size, kernel_size, 1)
    size = max_stage.out_size
    blur_stage = blur_geometry(size, params["filt_size"], stride, too_small="blur.pooled_map_too_small")
    axes = []
    for taps, k in zip((blur_stage.rows, blur_stage.cols), max_stage.window_shape):
        first, last = taps.min(1), taps.max(1) + k - 1
        index = first[:, None] + np.arange((last - first).max() + 1)[None, :]
        axes.append((index, index <= last[:, None]))
    (rows, row_present), (cols, col_present) = axes
    return MaxBlurGeometry(tuple(in_size), rows, cols, row_present, col_present,
                           max_stage=max_stage, blur_stage=blur_stage)


def blur_max_forward(x, geometry, filt_size=3):
    return blur.forward(max_forward(x, geometry.max_stage), geometry.blur_stage, filt_size=filt_size)


def blur_max_arithmetic(values, weights, output, filt_size=3):
    taps = [math.comb(filt_size - 1, u) for u in range(filt_size)]
    kernel = f"[{', '.join(map(str, taps))}]/{sum(taps)}"
    return Message("blur_max.arithmetic", count=len(values), kernel=kernel, output=fmt(output), low=fmt(min(values)),
                   high=fmt(max(values)))


BLUR_FORMULA = (r"y_{ij} = \sum_{u,v=0}^{f-1} b_u b_v\, \tilde a_{si+u,\, sj+v},\quad "
                r"b_u = \binom{f-1}{u} / 2^{f-1},\quad \tilde a = \text{reflect-padded } a")

register(Operator(
    id="blur", name="Blur pooling (anti-aliased)",
    summary="A binomial low-pass filter, then keep every s-th value: downsampling that aliases less. "
            "Cells past the border read their mirror image inside the input (reflect padding).",
    formula=BLUR_FORMULA, citation=CITATION,
    forward=blur.forward, explain=blur.explain, explained=blur.explained, params=(FILT_SIZE,),
    windows=blur_windows, controls=("stride",), has_weights=True,
))
register(Operator(
    id="blur_max", name="MaxBlurPool (max, then blur)",
    summary="Max over every k x k patch with stride 1, then a binomial blur subsampled by s (Zhang's MaxBlurPool). "
            "The window shown is each output's receptive field.",
    formula=r"y = \mathrm{blur}_{f,s}\big(m\big),\quad m_{uv} = \max_{0 \le p,q < k} a_{u+p,\, v+q}",
    citation=CITATION, forward=blur_max_forward, arithmetic=blur_max_arithmetic, params=(FILT_SIZE,),
    windows=blur_max_windows, controls=("kernel_size", "stride"),
))
