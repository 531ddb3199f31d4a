"""Spatial pyramid pooling: a fixed-length vector from a map of any size (He et al. 2014).

Each level ``n`` max-pools the map into ``n x n`` bins; the flattened levels are concatenated,
so a ``C``-channel map of any size gives ``C * sum(n^2)`` numbers.

K. He, X. Zhang, S. Ren, J. Sun, Spatial pyramid pooling in deep convolutional networks for
visual recognition, ECCV 2014.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import torch

from pooling_core.api import as_batch
from pooling_core.errors import PoolingError
from pooling_core.geometry import WindowGeometry, adaptive_geometry, pair, regular_geometry
from pooling_core.messages import Message
from pooling_core.operators.classic import max_forward

RECIPES = ("adaptive", "paper")


@dataclass(frozen=True, eq=False)
class PyramidLevel:
    """One pyramid level: the ``asked`` (rows, columns) of bins, the ``geometry`` of its bins,
    the ``bins`` (rows, columns) it actually gives, and a ``message`` when they differ."""

    asked: tuple[int, int]
    geometry: WindowGeometry
    bins: tuple[int, int]
    message: Message | None = None


def pyramid_levels(in_size, levels=(4, 2, 1), recipe: str = "adaptive") -> list[PyramidLevel]:
    """The bins of every level over an ``H x W`` map.

    ``recipe="adaptive"``: bin ``i`` of ``n`` covers ``[floor(i a / n), ceil((i + 1) a / n))`` of a
    side of length ``a``, so every level has exactly ``n x n`` bins, for any input size (with
    ``n > a`` bins repeat cells, as in PyTorch).
    ``recipe="paper"``: He et al.'s sliding max pooling with window ``ceil(a / n)`` and stride
    ``floor(a / n)``, which gives ``floor((a - ceil(a/n)) / floor(a/n)) + 1`` bins, not always ``n``
    (``a = 5, n = 3``: window 2, stride 1, 4 bins); ``message`` says so.

    Raises:
        PoolingError: for an unknown recipe, no levels, a level below 1, or (paper recipe) a level
        above the map's sides.
    """
    if recipe not in RECIPES:
        raise PoolingError("pyramid.unknown_recipe", recipe=repr(recipe))
    levels = tuple(levels)
    if not levels:
        raise PoolingError("pyramid.no_levels")
    height, width = in_size
    result = []
    for level in levels:
        try:
            asked = pair(level, "pyramid.levels_not_whole")
        except PoolingError:
            # The message shows every level, not only the bad one.
            raise PoolingError("pyramid.levels_not_whole", value=repr(levels)) from None
        if min(asked) < 1:
            raise PoolingError("pyramid.level_below_one", bins=min(asked))
        if recipe == "paper" and (asked[0] > height or asked[1] > width):
            raise PoolingError("pyramid.paper_level_too_large", height=height, width=width)
        if recipe == "adaptive":
            result.append(PyramidLevel(asked, adaptive_geometry(in_size, asked), asked))
            continue
        windows = tuple(math.ceil(a / n) for a, n in zip(in_size, asked))
        strides = tuple(a // n for a, n in zip(in_size, asked))
        geometry = regular_geometry(in_size, windows, strides)
        bins = geometry.out_size
        result.append(PyramidLevel(asked, geometry, bins, _wrong_bins(in_size, asked, windows, strides, bins)))
    return result


def _wrong_bins(in_size, asked, windows, strides, bins) -> Message | None:
    """Why the paper's recipe gives other bins than asked, per side (one sentence for a square)."""
    wrong = [axis for axis in (0, 1) if bins[axis] != asked[axis]]
    if not wrong:
        return None
    if in_size[0] == in_size[1] and asked[0] == asked[1]:
        return Message("pyramid.wrong_bins_side", length=in_size[0], asked=asked[0], window=windows[0],
                       stride=strides[0], bins=bins[0])
    if len(wrong) == 2:
        return Message("pyramid.wrong_bins_both", height=in_size[0], asked_rows=asked[0], window_rows=windows[0],
                       stride_rows=strides[0], rows=bins[0], width=in_size[1], asked_cols=asked[1],
                       window_cols=windows[1], stride_cols=strides[1], cols=bins[1])
    axis = wrong[0]
    key = "pyramid.wrong_bins_height" if axis == 0 else "pyramid.wrong_bins_width"
    return Message(key, length=in_size[axis], asked=asked[axis], window=windows[axis], stride=strides[axis],
                   bins=bins[axis])


def spatial_pyramid_pool(x, levels=(4, 2, 1), recipe: str = "adaptive") -> np.ndarray:
    """Max-pool ``x`` into each level's bins and concatenate the flattened levels.

    Args:
        x: array of shape (H, W) (one channel), (C, H, W) or (N, C, H, W).
        levels: bins per axis of each level, e.g. ``(4, 2, 1)``; a level may be an ``(h, w)`` pair.
        recipe: ``"adaptive"`` (adaptive max pooling, always ``n x n`` bins) or ``"paper"``
            (window ``ceil(a/n)``, stride ``floor(a/n)``; warns when a level gets the wrong count).

    Returns:
        (N, C * sum(h * w)) for 4-D input, (C * sum(h * w),) otherwise (with the paper recipe,
        each level contributes its actual ``C * bins_h * bins_w``). Levels come in order; each is
        flattened channel by channel, bins in reading order (``torch.flatten(1)`` of (N, C, n, n)).

    Raises:
        PoolingError: for a bad input shape, recipe or level (see :func:`pyramid_levels`).
    """
    batch, lead = as_batch(x, np.float64)
    pyramid = pyramid_levels(tuple(batch.shape[-2:]), levels, recipe)
    for level in pyramid:
        if level.message:
            warnings.warn(level.message, stacklevel=2)
    with torch.no_grad():
        vector = torch.cat([max_forward(batch, level.geometry).flatten(1) for level in pyramid], 1)
    return vector.numpy().reshape(*lead[:-1], -1)
