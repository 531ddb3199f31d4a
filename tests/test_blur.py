"""Blur pooling and MaxBlurPool against a NumPy loop over the reflect-padded input.

The library computes the blur as Zhang's layer does, a depthwise ``F.conv2d``; the oracle here
filters each window of ``np.pad(mode="reflect")`` one at a time instead.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from pooling_core import OPERATORS, PoolingError, pool2d
from pooling_core.explain import window_report
from tests.strategies import assert_weighted_sum, distinct_array, random_array

BINOMIAL = {2: [1, 1], 3: [1, 2, 1], 4: [1, 3, 3, 1], 5: [1, 4, 6, 4, 1]}


def filter_2d(filt_size):
    taps = np.array(BINOMIAL[filt_size], dtype=np.float64)
    return np.outer(taps, taps) / taps.sum() ** 2


def reflect_blur_oracle(x, filt_size, stride):
    """Each map of ``x`` (..., H, W) reflect-padded by ``(f-1)//2`` before and ``ceil((f-1)/2)``
    after, and filtered window by window: every ``stride``-th window of the binomial filter."""
    before, after = (filt_size - 1) // 2, math.ceil((filt_size - 1) / 2)
    height, width = x.shape[-2:]
    kernel = filter_2d(filt_size)
    maps = x.reshape(-1, height, width)
    out = np.empty((len(maps), len(range(0, height, stride)), len(range(0, width, stride))))
    for m, plane in enumerate(maps):
        padded = np.pad(plane, ((before, after), (before, after)), mode="reflect")
        for a, i in enumerate(range(0, height, stride)):
            for b, j in enumerate(range(0, width, stride)):
                out[m, a, b] = (padded[i:i + filt_size, j:j + filt_size] * kernel).sum()
    return out.reshape(*x.shape[:-2], *out.shape[-2:])


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 5), st.integers(1, 3), st.integers(1, 2), st.integers(1, 3), st.integers(0, 7),
       st.integers(0, 7), st.integers(0, 2**32 - 1))
def test_blur_matches_the_reflect_padded_numpy_loop(filt_size, stride, n, c, extra_h, extra_w, seed):
    x = random_array(seed, (n, c, filt_size // 2 + 1 + extra_h, filt_size // 2 + 1 + extra_w))
    result = pool2d(x, "blur", stride=stride, filt_size=filt_size)
    np.testing.assert_allclose(result.output, reflect_blur_oracle(x, filt_size, stride), rtol=1e-12, atol=1e-12)
    assert_weighted_sum(x, result)
    np.testing.assert_allclose(pool2d(x[0, 0], "blur", stride=stride, filt_size=filt_size).output,
                               reflect_blur_oracle(x[0, 0], filt_size, stride), rtol=1e-12, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 5), st.integers(1, 5), st.integers(0, 2**32 - 1))
def test_blur_size_two_stride_two_is_average_pooling(half_h, half_w, seed):
    x = random_array(seed, (1, 2, 2 * half_h, 2 * half_w))
    expected = F.avg_pool2d(torch.from_numpy(x), 2).numpy()
    np.testing.assert_allclose(pool2d(x, "blur", stride=2, filt_size=2).output, expected, rtol=1e-12)


def test_blur_geometry_holds_reflected_indices():
    geometry = pool2d(np.zeros((4, 5)), "blur", stride=2, filt_size=5).geometry
    assert geometry.rows.tolist() == [[2, 1, 0, 1, 2], [0, 1, 2, 3, 2]]
    assert geometry.extended_rows.tolist() == [[-2, -1, 0, 1, 2], [0, 1, 2, 3, 4]]
    assert geometry.cols.tolist()[-1] == [2, 3, 4, 3, 2]
    assert geometry.real_mask().all()
    assert pool2d(np.zeros((3, 3)), "blur", filt_size=3).weights[0, 0].sum() == pytest.approx(1.0)


def test_blur_defaults_to_stride_two():
    assert pool2d(np.zeros((7, 6)), "blur").output.shape == (4, 3)
    assert pool2d(np.zeros((7, 6)), "blur", stride=(1, 3)).output.shape == (7, 2)


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 5), st.integers(1, 3), st.integers(1, 3), st.integers(0, 6), st.integers(0, 6),
       st.integers(0, 2**32 - 1))
def test_blur_max_is_max_pool_then_reflect_blur(filt_size, kernel, stride, extra_h, extra_w, seed):
    shape = (2, 2, kernel + filt_size // 2 + extra_h, kernel + filt_size // 2 + extra_w)
    x = random_array(seed, shape)
    maxed = F.max_pool2d(torch.from_numpy(x), kernel, 1).numpy()
    result = pool2d(x, "blur_max", kernel_size=kernel, stride=stride, filt_size=filt_size)
    np.testing.assert_allclose(result.output, reflect_blur_oracle(maxed, filt_size, stride), rtol=1e-12, atol=1e-12)
    assert result.weights is None


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 5), st.integers(1, 3), st.integers(1, 3), st.integers(0, 2**32 - 1))
def test_blur_max_receptive_field_holds_every_input_the_output_depends_on(filt_size, kernel, stride, seed):
    size = (kernel + filt_size // 2 + 2, kernel + filt_size // 2 + 3)
    geometry = pool2d(np.zeros(size), "blur_max", kernel_size=kernel, stride=stride, filt_size=filt_size).geometry
    x = torch.from_numpy(distinct_array(seed, (1, 1, *size)))
    forward = OPERATORS["blur_max"].forward
    jacobian = torch.autograd.functional.jacobian(lambda v: forward(v, geometry, filt_size=filt_size), x)
    jacobian = jacobian[0, 0, :, :, 0, 0]  # (Ho, Wo, H, W)
    for i, j in np.ndindex(geometry.out_size):
        rows, cols = geometry.rows[i][geometry.row_present[i]], geometry.cols[j][geometry.col_present[j]]
        inside = np.zeros(size, bool)
        inside[np.ix_(rows, cols)] = True
        assert not jacobian[i, j].numpy()[~inside].any()
        assert (np.diff(rows) == 1).all() and (np.diff(cols) == 1).all()


def test_shift_demo_max_flips_by_one_blur_max_by_a_quarter():
    signal = np.tile([0.0, 0.0, 1.0, 1.0], 4)[None].repeat(4, 0)
    shifted = np.roll(signal, 1, axis=1)
    np.testing.assert_array_equal(pool2d(signal, "max").output, np.tile([0.0, 1.0], (2, 4)))
    np.testing.assert_array_equal(pool2d(shifted, "max").output, np.ones((2, 8)))
    blurred = [pool2d(s, "blur_max", kernel_size=2, stride=2).output for s in (signal, shifted)]
    np.testing.assert_allclose(np.abs(blurred[0] - blurred[1])[:, 1:-1], 0.25)  # inside the reflected borders


def test_blur_max_arithmetic_names_both_stages():
    x = np.arange(25.0).reshape(5, 5)
    result = pool2d(x, "blur_max", kernel_size=2, stride=2)
    report = window_report(result, x, 1, 1)
    assert "max of every kernel-sized patch" in report.text and "[1, 2, 1]/4" in report.text
    assert report.real.sum() == 16


def test_blur_refuses_inputs_too_small_to_reflect():
    with pytest.raises(PoolingError, match="at least 2 cells per side"):
        pool2d(np.zeros((1, 8)), "blur", filt_size=3)
    with pytest.raises(PoolingError, match="max-pooled map"):
        pool2d(np.zeros((3, 3)), "blur_max", kernel_size=3, stride=2)
    with pytest.raises(PoolingError):
        pool2d(np.zeros((8, 8)), "blur", filt_size=6)
    with pytest.raises(PoolingError):
        pool2d(np.zeros((8, 8)), "blur", stride=0)
