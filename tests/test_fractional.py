"""Fractional max pooling against ``F.fractional_max_pool2d`` and NumPy region maxima (Graham's sequences)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from pooling_core import PoolingError, pool2d
from tests.strategies import assert_weighted_sum, random_array


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 2), st.integers(1, 3), st.integers(2, 10), st.integers(2, 10), st.integers(1, 3),
       st.data(), st.integers(0, 2**32 - 1))
def test_fractional_torch_variant_matches_pytorch(n, c, height, width, kernel, data, seed):
    kernel = min(kernel, height, width)
    out = (data.draw(st.integers(1, height - kernel + 1)), data.draw(st.integers(1, width - kernel + 1)))
    if out[0] == out[1] and data.draw(st.booleans()):
        out = out[0]  # one number for both sides
    x = random_array(seed, (n, c, height, width))
    u = np.random.default_rng(seed + 1).random(2)
    samples = np.broadcast_to(u, (n, c, 2))
    result = pool2d(x, "fractional_max", kernel_size=kernel, output_size=out, samples=samples)
    expected, indices = F.fractional_max_pool2d(torch.from_numpy(x), kernel, output_size=out,
                                                _random_samples=torch.from_numpy(samples.copy()), return_indices=True)
    np.testing.assert_array_equal(result.output, expected.numpy())
    np.testing.assert_array_equal(result.indices, indices.numpy())
    assert_weighted_sum(x, result)
    assert np.array_equal(pool2d(x, "fractional_max", kernel_size=kernel, output_size=out, samples=u).output,
                          result.output)


def test_fractional_seed_draws_one_pair_and_is_reproducible():
    x = random_array(0, (2, 2, 15, 13))
    u = torch.rand(2, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    expected = F.fractional_max_pool2d(torch.from_numpy(x), 2, output_ratio=(0.6, 0.6),
                                       _random_samples=u.expand(2, 2, 2))
    first = pool2d(x, "fractional_max", output_ratio=0.6, seed=7).output
    np.testing.assert_array_equal(first, expected.numpy())
    np.testing.assert_array_equal(pool2d(x, "fractional_max", output_ratio=0.6, seed=7).output, first)
    for variant in ("torch", "graham_random", "graham_pseudo"):
        outputs = [pool2d(x, "fractional_max", output_ratio=0.6, seed=s, variant=variant).output for s in (1, 2)]
        assert not np.array_equal(*outputs), variant
    assert pool2d(x, "fractional_max").output.shape == (2, 2, 7, 6)


def numpy_boundaries_pseudo(length, out, u, overlapping):
    total = length - 1 if overlapping else length
    alpha = total / out
    return [math.ceil(alpha * (i + u)) - math.ceil(alpha * u) for i in range(out)] + [total]


def numpy_region_max(x, row_bounds, col_bounds, overlapping):
    extra = int(overlapping)
    return np.array([[x[row_bounds[i]:row_bounds[i + 1] + extra, col_bounds[j]:col_bounds[j + 1] + extra].max()
                      for j in range(len(col_bounds) - 1)] for i in range(len(row_bounds) - 1)])


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(["graham_random", "graham_pseudo"]), st.booleans(), st.integers(1, 7), st.data(),
       st.integers(0, 2**31 - 1))
def test_graham_variants_match_numpy_regions(variant, overlapping, out, data, seed):
    height, width = (data.draw(st.integers(out + overlapping, 2 * out + overlapping)) for _ in range(2))
    u = np.random.default_rng(seed).random(2)
    params = dict(variant=variant, overlapping=overlapping, output_size=out, seed=seed)
    if variant == "graham_pseudo":
        params["samples"] = u
    x = random_array(seed, (1, 1, height, width))
    result = pool2d(x, "fractional_max", **params)
    geometry = result.geometry
    assert result.output.shape == (1, 1, out, out)
    bounds = []
    for index, present, length, u_axis in [(geometry.rows, geometry.row_present, height, u[1]),
                                           (geometry.cols, geometry.col_present, width, u[0])]:
        starts, sizes = index[:, 0], present.sum(1)
        found = [*starts, starts[-1] + sizes[-1] - overlapping]
        steps = np.diff(found)
        assert set(steps) <= {1, 2} and found[0] == 0 and found[-1] == length - overlapping
        assert (steps == 2).sum() == length - overlapping - out
        if variant == "graham_pseudo":
            assert found == numpy_boundaries_pseudo(length, out, u_axis, overlapping)
        cover = np.zeros(length, int)
        for start, size in zip(starts, sizes):
            cover[start:start + size] += 1
        assert cover.min() >= 1 and (overlapping or (cover == 1).all())
        bounds.append(found)
    np.testing.assert_array_equal(result.output[0, 0], numpy_region_max(x[0, 0], *bounds, overlapping))
    assert_weighted_sum(x, result)


def test_fractional_ratio_gives_int_of_size_times_ratio():
    result = pool2d(np.zeros((10, 9)), "fractional_max", variant="graham_pseudo", output_ratio=0.7)
    assert result.output.shape == (7, 6)


@pytest.mark.parametrize("params, message", [
    (dict(output_size=3, output_ratio=0.5), "not both"),
    (dict(output_ratio=1.0), "strictly between"),
    (dict(samples=[[[0.1, 0.2]], [[0.3, 0.2]]]), "must be the same"),
    (dict(samples=[0.5, 1.0]), r"\[0, 1\)"),
    (dict(samples=[0.5, 0.2, 0.1]), "shape"),
    (dict(samples=0.5), "shape"),
    (dict(samples=np.full((3, 1, 2), 0.5)), "do not match"),
    (dict(output_size=8), "do not fit"),
    (dict(variant="graham_random", output_size=3), "4 to 8 outputs"),
    (dict(variant="graham_pseudo", overlapping=True, output_size=8), "4 to 7 outputs"),
    (dict(variant="graham_random", samples=[0.1, 0.2]), "draws its steps from seed"),
    (dict(variant="nope"), "variant"),
])
def test_fractional_errors(params, message):
    with pytest.raises(PoolingError, match=message):
        pool2d(np.zeros((2, 1, 8, 8)), "fractional_max", **params)


def test_fractional_notice_names_the_sequence():
    x = np.zeros((6, 6))
    assert "PyTorch's sequence" in pool2d(x, "fractional_max").notice
    assert "pseudo-random" in pool2d(x, "fractional_max", variant="graham_pseudo").notice
    assert "random sequence" in pool2d(x, "fractional_max", variant="graham_random", overlapping=True).notice
