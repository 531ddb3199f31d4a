"""Mixed, gated and average + max pooling against max_pool2d and the mean of the real cells."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from pooling_core import OPERATORS, pool2d
from pooling_core.explain import window_report
from tests.strategies import (
    CLOSE,
    FLOATS_10,
    assert_weighted_sum,
    conv_oracle,
    draws,
    examples,
    max_oracle,
    mean_oracle,
    no_dilation,
    sliding_cases,
    t,
    torch_out_size,
)


@examples(40)
@given(sliding_cases(FLOATS_10, padding=False, dilation=False), st.sampled_from([0.0, 0.3, 0.5, 1.0]))
def test_mixed_eval_matches_torch_max_and_avg(case, lam):
    x, kw = case
    plain = no_dilation(kw)
    expected = lam * F.max_pool2d(t(x), **kw) + (1 - lam) * F.avg_pool2d(t(x), **plain, count_include_pad=False)
    assert_allclose(pool2d(x, "mixed", **kw, lam=lam).output, expected.numpy(), **CLOSE)


@examples(40)
@given(sliding_cases(FLOATS_10), st.sampled_from([0.0, 0.25, 1.0]))
def test_mixed_eval_with_padding_and_dilation(case, lam):
    x, kw = case
    expected = lam * max_oracle(x, kw) + (1 - lam) * mean_oracle(x, kw)
    assert_allclose(pool2d(x, "mixed", **kw, lam=lam).output, expected, **CLOSE)


@examples(40)
@given(sliding_cases(FLOATS_10), st.sampled_from([0.1, 0.5, 0.9]), st.sampled_from(["region", "map"]),
       st.integers(0, 1000))
def test_mixed_train_matches_the_documented_draws(case, lam, per, seed):
    x, kw = case
    out_shape = (*x.shape[:2], *torch_out_size(x.shape, kw))
    chosen = draws(seed, out_shape if per == "region" else (*x.shape[:2], 1, 1)) < lam
    expected = np.where(chosen, max_oracle(x, kw), mean_oracle(x, kw))
    result = pool2d(x, "mixed", **kw, lam=lam, mode="train", per=per, seed=seed)
    assert_allclose(result.output, expected, **CLOSE)
    assert_weighted_sum(x, result)  # the output, from max and mean pooling, is the weights' sum


@examples(40)
@given(sliding_cases(FLOATS_10), st.sampled_from(["eval", "train"]), st.sampled_from(["region", "map"]),
       st.integers(0, 99))
def test_mixed_lam_one_is_max_and_zero_is_avg(case, mode, per, seed):
    x, kw = case
    ones = pool2d(x, "mixed", **kw, lam=1.0, mode=mode, per=per, seed=seed)
    zeros = pool2d(x, "mixed", **kw, lam=0.0, mode=mode, per=per, seed=seed)
    maximum = pool2d(x, "max", **kw)
    assert_allclose(ones.output, maximum.output, **CLOSE)
    assert_array_equal(ones.weights, maximum.weights)  # first maximum in reading order, as PyTorch picks
    assert_allclose(zeros.output, mean_oracle(x, kw), **CLOSE)


@pytest.mark.parametrize("dilation", [1, 2])
def test_a_share_of_one_or_zero_leaves_out_the_other_pooling_even_when_infinite(dilation):
    x = np.array([[np.inf, 1.0, -np.inf, 1.0], [1.0, 1.0, 1.0, 1.0]])
    x = np.repeat(np.repeat(x, dilation, 0), dilation, 1)  # dilated windows read the same cells
    window = dict(kernel_size=2, stride=2 * dilation, dilation=dilation)
    assert_array_equal(pool2d(x, "mixed", **window, lam=1.0).output, [[np.inf, 1.0]])  # the max alone
    assert_array_equal(pool2d(x, "mixed", **window, lam=0.0).output, [[np.inf, -np.inf]])  # the mean alone


def test_mixed_per_map_draws_one_lambda_per_map():
    x = np.random.default_rng(0).normal(size=(4, 8, 6, 6))
    result = pool2d(x, "mixed", 2, mode="train", per="map", seed=3)
    share = result.weights.max((-1, -2))  # 1 where max was drawn, 1/4 where the mean was
    assert (share == share[..., :1, :1]).all()
    assert {0.25, 1.0} == set(np.unique(share))


@examples(40)
@given(sliding_cases(FLOATS_10), st.booleans(), st.integers(0, 2**32 - 1))
def test_gated_is_max_and_mean_mixed_by_a_depthwise_conv_gate(case, default_gate, seed):
    x, kw = case
    kernel = kw["kernel_size"]
    gate = np.full(kernel, 1.0 / (kernel[0] * kernel[1])) if default_gate else \
        np.random.default_rng(seed).normal(0, 0.5, size=kernel)
    g = 1 / (1 + np.exp(-conv_oracle(x, gate, kw)))
    expected = g * max_oracle(x, kw) + (1 - g) * mean_oracle(x, kw)
    result = pool2d(x, "gated", **kw, gate=None if default_gate else gate)
    assert_allclose(result.output, expected, **CLOSE)
    assert_weighted_sum(x, result)


def test_gated_default_gate_is_sigmoid_of_window_mean():
    window = np.array([[1.0, 2.0], [3.0, 6.0]])
    g = 1 / (1 + math.exp(-3.0))
    result = pool2d(window, "gated", 2)
    assert_allclose(result.output, [[g * 6 + (1 - g) * 3]], **CLOSE)
    assert not OPERATORS["gated"].params[0].in_app  # the app cannot type a kh x kw array: it uses the default
    same = pool2d(window, "gated", 2, gate=0.25).output  # a number: that ω in every cell
    assert_array_equal(same, result.output)
    assert_array_equal(pool2d(window, "gated", 2, gate=np.full((2, 2), 0.25)).output, result.output)
    assert window_report(result, window, 0, 0).text == "g = σ(Σ ω·a) = 0.9526: 0.9526*max(1, 2, 3, 6) + " \
                                                       "0.04743*mean(1, 2, 3, 6) = 5.858"


@examples(40)
@given(sliding_cases(FLOATS_10), st.sampled_from(["sum", "mean"]))
def test_avgmax_is_max_plus_mean(case, combine):
    x, kw = case
    total = max_oracle(x, kw) + mean_oracle(x, kw)
    expected = total if combine == "sum" else total / 2
    result = pool2d(x, "avgmax", **kw, combine=combine)
    assert_allclose(result.output, expected, **CLOSE)
    assert_weighted_sum(x, result)


@examples(40)
@given(sliding_cases(FLOATS_10, padding=False, dilation=False, ceil=False))
def test_avgmax_mean_is_timms_adaptive_avgmax_on_one_window(case):
    """timm: ``0.5 * (adaptive_avg_pool2d(x, 1) + adaptive_max_pool2d(x, 1))``."""
    x, _ = case
    expected = 0.5 * (F.adaptive_avg_pool2d(t(x), 1) + F.adaptive_max_pool2d(t(x), 1))
    out = pool2d(x, "avgmax", kernel_size=x.shape[-2:], combine="mean").output
    assert_allclose(out, expected.numpy(), **CLOSE)


def test_mixture_arithmetic_texts():
    window = np.array([[1.0, 3.0], [2.0, 2.0]])
    text = window_report(pool2d(window, "mixed", 2, lam=0.25), window, 0, 0).text
    assert text == "0.25*max(1, 3, 2, 2) + 0.75*mean(1, 3, 2, 2) = 2.25"
    text = window_report(pool2d(window, "mixed", 2, lam=1.0, mode="train"), window, 0, 0).text
    assert text == "λ drew 1: max(1, 3, 2, 2) = 3"
    text = window_report(pool2d(window, "mixed", 2, lam=0.0, mode="train"), window, 0, 0).text
    assert text == "λ drew 0: mean(1, 3, 2, 2) = 2"
    assert window_report(pool2d(window, "avgmax", 2), window, 0, 0).text == "max(1, 3, 2, 2) + mean(1, 3, 2, 2) = 5"
    text = window_report(pool2d(window, "avgmax", 2, combine="mean"), window, 0, 0).text
    assert text == "(max(1, 3, 2, 2) + mean(1, 3, 2, 2)) / 2 = 2.5"
    corner = np.array([[4.0, 1.0], [1.0, 1.0]])
    assert window_report(pool2d(corner, "gated", 2, 1, 1), corner, 0, 0).text == "max(4) = mean(4) = 4"
