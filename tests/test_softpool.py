"""SoftPool against ``F.unfold`` + softmax and a loop reference, its limits, its exact gradient,
and its avg_pool2d fast path."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from pooling_core import input_gradient, pool2d
from tests.strategies import (
    CLOSE,
    FLOATS_10,
    distinct_cases,
    examples,
    loop_reference,
    max_oracle,
    mean_oracle,
    sliding_cases,
    softmax_average,
    t,
    window_values,
)


@examples(40)
@given(sliding_cases(FLOATS_10, padding=False, ceil=False), st.sampled_from([0.5, 1.0, 3.0]))
def test_softpool_matches_unfold_softmax(case, temperature):
    x, kw = case
    batch, channels, height, width = x.shape
    columns = F.unfold(t(x).reshape(batch * channels, 1, height, width), kw["kernel_size"],
                       dilation=kw["dilation"], stride=kw["stride"])
    expected = (torch.softmax(columns / temperature, dim=1) * columns).sum(1)
    out = pool2d(x, "softpool", **kw, temperature=temperature).output
    assert_allclose(out, expected.reshape(out.shape).numpy(), **CLOSE)


@examples(40)
@given(sliding_cases(FLOATS_10), st.sampled_from([0.25, 1.0, 4.0]))
def test_softpool_matches_loop_reference(case, temperature):
    x, kw = case
    expected = loop_reference(x, kw, lambda v: softmax_average(v, v / temperature))
    assert_allclose(pool2d(x, "softpool", **kw, temperature=temperature).output, expected, **CLOSE)


@examples(40)
@given(distinct_cases(scale=0.05))
def test_softpool_small_temperature_is_max(case):
    x, kw = case
    assert_allclose(pool2d(x, "softpool", **kw, temperature=1e-3).output, max_oracle(x, kw), rtol=0, atol=1e-12)


@examples(40)
@given(sliding_cases(FLOATS_10, elements=st.floats(-1, 1)))
def test_softpool_large_temperature_is_avg_ignoring_padding(case):
    x, kw = case
    # y - mean = Cov(w, a) is about Var(a) / T <= 1e-3 on data in [-1, 1].
    assert_allclose(pool2d(x, "softpool", **kw, temperature=1e3).output, mean_oracle(x, kw), rtol=0, atol=2e-3)


def test_softpool_float32_does_not_overflow():
    out = pool2d(np.array([[100.0, 99.0]], dtype=np.float32), "softpool", (1, 2), dtype=np.float32).output
    assert out.dtype == np.float32 and np.isfinite(out).all()
    assert_allclose(out, [[99.7311]], atol=1e-3)  # (100 e + 99) / (e + 1)


def test_softpool_all_negative_window_is_not_clamped_to_zero():
    out = pool2d(np.array([[-1.0, -2.0]]), "softpool", (1, 2)).output
    assert_allclose(out, [[-1 - 1 / (1 + math.e)]], **CLOSE)  # -1.2689, not the official code's 0
    assert_allclose(out, [[-1.269]], atol=1e-3)


def test_softpool_gradient_is_exact_not_the_official_cuda_rule():
    """On one 2x2 window [1, 2, 3, 4]: w = softmax(a) = (0.0321, 0.0871, 0.2369, 0.6439), y = 3.4927.

    The exact gradient w_i (1 + a_i - y) is (-0.0479, -0.0429, 0.1202, 0.9706) and sums to 1;
    SoftPool's CUDA backward returns w_i itself, which drops the dependence of w on a.
    """
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    weights = np.exp(x) / np.exp(x).sum()
    y = (weights * x).sum()
    exact = weights * (1 + x - y)
    gradient = input_gradient(x, "softpool", kernel_size=2)
    assert_allclose(y, 3.4927, atol=1e-4)
    assert_allclose(gradient, exact, **CLOSE)
    assert_allclose(gradient, [[-0.0479, -0.0429], [0.1202, 0.9706]], atol=1e-4)
    assert_allclose(weights, [[0.0321, 0.0871], [0.2369, 0.6439]], atol=1e-4)
    assert np.abs(gradient - weights).max() > 0.3  # the CUDA rule is visibly different
    assert_allclose(gradient.sum(), 1.0, **CLOSE)


# ---------------------------------------------------------------------------------------------
# The avg_pool2d fast path: window sums from avg_pool2d where exact, per-window scaling where an
# exponential would underflow
# ---------------------------------------------------------------------------------------------

def test_softpool_with_exponentials_that_underflow_is_exact():
    x = np.array([[1000.0, 999.0], [-1000.0, -1001.0]])  # exp(-2000) underflows with the map's maximum
    out = pool2d(x, "softpool", kernel_size=(1, 2)).output
    top, bottom = x  # SoftPool: the softmax of the values averages the values
    assert out[0, 0] == pytest.approx(softmax_average(top, top), rel=1e-12)
    assert out[1, 0] == pytest.approx(softmax_average(bottom, bottom), rel=1e-12)
    assert np.isfinite(input_gradient(x, "softpool", kernel_size=(1, 2))).all()


def test_softpool_fast_path_equals_its_weights():
    x = np.random.default_rng(2).normal(size=(1, 2, 7, 7)) * 3
    result = pool2d(x, "softpool", kernel_size=3, stride=2, padding=1, ceil_mode=True, temperature=0.7)
    values, _ = window_values(x, result.geometry)
    np.testing.assert_allclose(result.output, (result.weights * values).sum((-1, -2)), rtol=1e-12)
