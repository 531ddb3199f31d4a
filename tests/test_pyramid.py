"""Spatial pyramid pooling against per-level ``F.adaptive_max_pool2d`` and He et al.'s recipe."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from pooling_core import PoolingError
from pooling_core.pyramid import pyramid_levels, spatial_pyramid_pool
from tests.strategies import random_array


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=3), st.integers(1, 3), st.integers(0, 9), st.integers(0, 9),
       st.integers(0, 2**32 - 1))
def test_spp_equals_per_level_adaptive_max(levels, channels, extra_h, extra_w, seed):
    x = random_array(seed, (2, channels, max(levels) + extra_h, max(levels) + extra_w))
    expected = torch.cat([F.adaptive_max_pool2d(torch.from_numpy(x), n).flatten(1) for n in levels], 1).numpy()
    bins = sum(n * n for n in levels)
    assert expected.shape == (2, channels * bins)
    np.testing.assert_array_equal(spatial_pyramid_pool(x, levels), expected)
    np.testing.assert_array_equal(spatial_pyramid_pool(x[0], levels), expected[0])
    np.testing.assert_array_equal(spatial_pyramid_pool(x[0, 0], levels), spatial_pyramid_pool(x[:1, :1], levels)[0])
    assert spatial_pyramid_pool(x[0, 0], levels).shape == (bins,)
    for n, level in zip(levels, pyramid_levels(x.shape[-2:], levels)):
        assert level.bins == level.asked == (n, n) and level.message is None and level.geometry.out_size == level.bins


@pytest.mark.filterwarnings("ignore:With a:UserWarning")
@settings(max_examples=40, deadline=None)
@given(st.integers(1, 4), st.integers(4, 12), st.integers(4, 12), st.integers(0, 2**32 - 1))
def test_spp_paper_recipe_is_ceil_window_floor_stride(n, height, width, seed):
    x = random_array(seed, (1, 2, height, width))
    windows, strides = (math.ceil(height / n), math.ceil(width / n)), (height // n, width // n)
    expected = F.max_pool2d(torch.from_numpy(x), windows, strides)
    (level,) = pyramid_levels((height, width), (n,), "paper")
    assert level.bins == tuple(expected.shape[-2:])
    assert (level.message is None) == (level.bins == (n, n))
    np.testing.assert_array_equal(spatial_pyramid_pool(x, (n,), "paper"), expected.flatten(1).numpy())
    if height % n == 0 and width % n == 0:
        np.testing.assert_array_equal(spatial_pyramid_pool(x, (n,), "paper"), spatial_pyramid_pool(x, (n,)))


def test_spp_paper_recipe_reports_five_pixels_three_bins():
    levels = pyramid_levels((5, 5), (3, 1), "paper")
    assert levels[0].bins == (4, 4)
    assert levels[0].message == "With a 5-pixel side, 3 bins use window 2 and stride 1, which gives 4 bins, not 3."
    assert levels[1].message is None
    with pytest.warns(UserWarning, match="gives 4 bins, not 3"):
        vector = spatial_pyramid_pool(np.ones((2, 5, 5)), (3, 1), "paper")
    assert vector.shape == (2 * (16 + 1),)
    assert pyramid_levels((5, 7), (3,), "paper")[0].message.startswith("With a 5-pixel height")


def test_spp_with_more_bins_than_cells_repeats_cells_like_torch():
    x = random_array(3, (1, 2, 3, 5))
    expected = torch.cat([F.adaptive_max_pool2d(torch.from_numpy(x), n).flatten(1) for n in (4, 2, 1)], 1).numpy()
    np.testing.assert_array_equal(spatial_pyramid_pool(x, (4, 2, 1)), expected)


def test_spp_level_may_be_a_pair_as_in_adaptive_max_pooling():
    x = random_array(3, (1, 2, 7, 9))
    expected = torch.cat([F.adaptive_max_pool2d(torch.from_numpy(x), size).flatten(1) for size in ((3, 2), 1)], 1)
    np.testing.assert_array_equal(spatial_pyramid_pool(x, ((3, 2), 1)), expected.numpy())
    assert [level.bins for level in pyramid_levels((7, 9), ((3, 2), 1), "paper")] == [(3, 2), (1, 1)]


@pytest.mark.parametrize("levels, recipe, shape", [
    ((), "adaptive", (5, 5)), ((0,), "adaptive", (5, 5)), ((2.5,), "adaptive", (5, 5)),
    ((6,), "paper", (5, 9)), ((True,), "adaptive", (5, 5)), ((2,), "other", (5, 5)),
    ((2,), "adaptive", (5,)),
])
def test_spp_errors(levels, recipe, shape):
    with pytest.raises(PoolingError):
        spatial_pyramid_pool(np.zeros(shape), levels, recipe)
