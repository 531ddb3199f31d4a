"""Adaptive polyphase sampling (APS): max pooling that is exactly equivariant to circular shifts.

Max pooling ``k x k`` with stride 1 and circular padding gives a map ``m`` of the input's size
(``m[u, v] = max`` of input rows ``u..u+k-1`` and columns ``v..v+k-1``, indices modulo H and W).
Downsampling by ``s`` then keeps one of its ``s * s`` polyphase components ``m[:, :, a::s, b::s]``:
the one with the largest Lp norm taken over all channels of the image together (``norm_p``,
default 2). Ties between norms go to the first component in reading order ``(a, b) = (0, 0),
(0, 1), ...``; ties inside a window to its first maximum in reading order, as in max pooling.

A circular shift of the input shifts ``m`` and permutes its components without changing their
norms, so, barring tied norms, the output of the shifted input is a circular shift of the output.
H and W must be multiples of the stride. The geometry's window of an output spans every cell it can
take its value from, whichever component wins: ``k + s - 1`` rows and columns (modulo H and W);
the explanation marks the ``k x k`` of them the winning component reads.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from pooling_core.errors import PoolingError
from pooling_core.geometry import WindowGeometry, pair
from pooling_core.messages import Message
from pooling_core.numbers import fmt
from pooling_core.registry import Explanation, Operator, Param, register


@dataclass(frozen=True, eq=False)
class PolyphaseGeometry(WindowGeometry):
    """APS's windows (``k + s - 1`` wide spans, modulo H and W) with the ``kernel`` and ``stride``
    pairs of its stride-1 max and its polyphase sampling."""

    kernel: tuple[int, int] = (2, 2)
    stride: tuple[int, int] = (2, 2)


def aps_windows(in_size, params, kernel_size, stride, padding, dilation, ceil_mode) -> PolyphaseGeometry:
    """Output ``i`` of an axis of length ``L`` may read input cells ``(s*i + t) mod L`` for ``t < k + s - 1``."""
    kernel = pair(kernel_size, "geometry.kernel_size_not_whole")
    strides = kernel if stride is None else pair(stride, "geometry.stride_not_whole")
    axes = []
    for length, k, s in zip(in_size, kernel, strides):
        if k < 1:
            raise PoolingError("geometry.kernel_below_one", kernel=k)
        if s < 1:
            raise PoolingError("geometry.stride_below_one", stride=s)
        if length % s:
            raise PoolingError("aps.not_a_multiple", length=length, stride=s)
        if k + s - 1 > length:
            raise PoolingError("aps.input_too_small", kernel=k, stride=s, span=k + s - 1, length=length)
        index = (np.arange(length // s)[:, None] * s + np.arange(k + s - 1)[None, :]) % length
        axes.append((index, np.ones(index.shape, bool)))
    (rows, row_present), (cols, col_present) = axes
    return PolyphaseGeometry(tuple(in_size), rows, cols, row_present, col_present, kernel=kernel, stride=strides)


def _circular_max(x, geometry):
    """``m`` (N, C, H, W) and the flat input index (into each H*W plane) of every cell's maximum."""
    (kh, kw), (height, width) = geometry.kernel, geometry.in_size
    padded = F.pad(x, (0, kw - 1, 0, kh - 1), mode="circular") if kh * kw > 1 else x
    m, position = F.max_pool2d(padded, (kh, kw), 1, return_indices=True)
    padded_width = width + kw - 1
    return m, (position // padded_width % height) * width + position % padded_width % width


def _component(m, strides, norm_p):
    """(N, 2): the row and column offset of each image's component with the largest norm."""
    sh, sw = strides
    n, c, height, width = m.shape
    with torch.no_grad():
        phases = m.reshape(n, c, height // sh, sh, width // sw, sw).permute(0, 3, 5, 1, 2, 4).reshape(n, sh * sw, -1)
        # argmax returns the first of tied norms: the first component in reading order.
        best = torch.linalg.vector_norm(phases, ord=norm_p, dim=-1).argmax(-1)
    return torch.stack((best // sw, best % sw), -1)


def _sample(values, component, strides):
    """Component ``component[n]`` of each image's (N, C, H, W) ``values``, as (N, C, H/s, W/s)."""
    sh, sw = strides
    n, c, height, width = values.shape
    rows = component[:, 0, None] + torch.arange(0, height, sh)[None, :]
    cols = component[:, 1, None] + torch.arange(0, width, sw)[None, :]
    batch = torch.arange(n)[:, None, None, None]
    channel = torch.arange(c)[None, :, None, None]
    return values[batch, channel, rows[:, None, :, None], cols[:, None, None, :]]


def aps_forward(x, geometry, norm_p=2.0, return_explanation=False):
    m, position = _circular_max(x, geometry)
    strides = geometry.stride
    component = _component(m, strides, norm_p)
    output = _sample(m, component, strides)
    if not return_explanation:
        return output
    (kh, kw), (sh, sw) = geometry.kernel, strides
    rows = torch.arange(kh + sh - 1)[None, :] - component[:, :1]
    cols = torch.arange(kw + sw - 1)[None, :] - component[:, 1:]
    cells = ((rows >= 0) & (rows < kh))[:, :, None] & ((cols >= 0) & (cols < kw))[:, None, :]
    return output, Explanation(indices=_sample(position, component, strides), component=component, cells=cells)


def aps_explained(x, geometry, **params):
    return aps_forward(x, geometry, return_explanation=True, **params)


def aps_arithmetic(values, weights, output, norm_p=2.0, component=None):
    return Message("aps.arithmetic", values=", ".join(fmt(v) for v in values), output=fmt(output),
                   row=component[0], col=component[1], p=fmt(norm_p))


register(Operator(
    id="aps", name="Adaptive polyphase sampling (APS)",
    summary="Max pooling with stride 1 and circular padding, then keep the one of the s x s polyphase components "
            "with the largest Lp norm over all channels (ties: the first in reading order). A circular shift of the "
            "input circularly shifts the output. H and W must be multiples of the stride.",
    formula=r"y_{nc,ij} = m_{nc,\, si + a^*,\, sj + b^*},\quad (a^*, b^*) = \arg\max_{a,b < s}"
            r" \big\| m_{n,:,\, a::s,\, b::s} \big\|_p,\quad m_{uv} = \max_{0 \le d,e < k} a_{(u+d) \bmod H,\,"
            r" (v+e) \bmod W}",
    citation="A. Chaman, I. Dokmanić, Truly shift-invariant convolutional neural networks, CVPR 2021.",
    forward=aps_forward, explained=aps_explained, arithmetic=aps_arithmetic, windows=aps_windows,
    controls=("kernel_size", "stride"), has_weights=True, reduction="max", circular=True,
    params=(
        Param("norm_p", "float", 2.0, "The p of the Lp norm that picks the component (2 in the paper; ∞: the "
              "largest |value|).", low=0.0, low_open=True, high=float("inf"), ui=(1.0, 8.0),
              label="Power p of the norm"),
    ),
))
