"""Weighted average pooling against a loop over each window's cells with a kernel built here: the
Gaussian one by direct sums over explicit cell offsets (``tests.strategies.gaussian_kernel_reference``),
checked against its closed form. (The library computes it as a depthwise ``F.conv2d``.)"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from pooling_core import pool2d
from tests.strategies import (
    CLOSE,
    FLOATS_10,
    TIGHT,
    assert_weighted_sum,
    examples,
    gaussian_kernel_reference,
    sliding_cases,
    torch_out_size,
)


def window_sums(x, kernel, kw):
    """``sum_uv K_uv x[s i - p + d u, s j - p + d v]`` over the cells inside the input, window by window."""
    (kh, kwid), (sh, sw), (ph, pw), (dh, dw) = (kw[n] for n in ("kernel_size", "stride", "padding", "dilation"))
    height, width = x.shape[-2:]
    out = np.zeros((*x.shape[:2], *torch_out_size(x.shape, kw)))
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            for u in range(kh):
                for v in range(kwid):
                    row, col = i * sh - ph + u * dh, j * sw - pw + v * dw
                    if 0 <= row < height and 0 <= col < width:
                        out[:, :, i, j] += kernel[u, v] * x[:, :, row, col]
    return out


@examples(40)
@given(sliding_cases(FLOATS_10), st.sampled_from(["gaussian", "uniform", "array"]), st.integers(0, 2**32 - 1))
def test_weighted_avg_sums_each_window_with_the_normalised_kernel(case, kind, seed):
    x, kw = case
    kh, kwid = kw["kernel_size"]
    if kind == "gaussian":
        kernel = gaussian_kernel_reference((kh, kwid))
    elif kind == "uniform":
        kernel = np.ones((kh, kwid))
    else:
        kernel = np.random.default_rng(seed).uniform(0, 2, size=(kh, kwid))
    result = pool2d(x, "weighted_avg", **kw, kernel_weights=kernel if kind == "array" else kind)
    assert_allclose(result.output, window_sums(x, kernel / kernel.sum(), kw), **CLOSE)
    assert_weighted_sum(x, result)


def test_weighted_avg_gaussian_kernels():
    def kernel(k):
        return pool2d(np.zeros((1, k)), "weighted_avg", (1, k)).weights[0, 0, 0]
    assert_allclose(kernel(1), [1.0], **CLOSE)
    assert_allclose(kernel(2), [0.5, 0.5], **CLOSE)
    assert_allclose(kernel(3), [0.2119, 0.5761, 0.2119], atol=1e-4)  # σ = √2/2: the binomial [1,2,1]'s
    assert_allclose(kernel(4), kernel(4)[::-1], **CLOSE)
    square = pool2d(np.zeros((3, 3)), "weighted_avg", 3).weights[0, 0]
    assert_allclose(square, np.outer(kernel(3), kernel(3)), **CLOSE)


def test_weighted_avg_border_window_weighs_less_than_one():
    x = np.ones((4, 4))
    result = pool2d(x, "weighted_avg", 3, 2, 1, kernel_weights="uniform")
    assert_allclose(result.weights[0, 0].sum(), 4 / 9, **CLOSE)
    assert_allclose(result.output[0, 0], 4 / 9, **CLOSE)  # zero padding, like conv2d: not renormalised
    assert_allclose(result.weights[1, 1].sum(), 1.0, **CLOSE)


@examples(40)
@given(sliding_cases(FLOATS_10))
def test_weighted_avg_weights_sum_to_one_without_padding(case):
    x, kw = case
    result = pool2d(x, "weighted_avg", **kw)
    full = result.geometry.real_mask().all((-1, -2))
    assert_allclose(result.weights.sum((-1, -2))[..., full], 1.0, **CLOSE)


def test_gaussian_kernel_and_its_reference_are_the_closed_form():
    """σ² = (k - 1) / 4, the binomial filter's variance: per side the taps are exp(-t² / 2σ²) at the
    offsets t from the centre, written out here. k = 2 gives equal taps (σ = 1/2)."""
    e = math.e
    closed = {1: [1.0], 2: [1.0, 1.0], 3: [1 / e, 1.0, 1 / e], 4: [e ** -1.5, e ** (-1 / 6), e ** (-1 / 6), e ** -1.5],
              5: [e ** -2, e ** -0.5, 1.0, e ** -0.5, e ** -2]}
    for kh, rows in closed.items():
        for kw, cols in closed.items():
            expected = np.array([[r * c for c in cols] for r in rows])
            expected /= expected.sum()
            assert_allclose(gaussian_kernel_reference((kh, kw)), expected, **TIGHT)
            assert_allclose(pool2d(np.zeros((kh, kw)), "weighted_avg", (kh, kw)).weights[0, 0], expected, **TIGHT)
