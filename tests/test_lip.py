"""LIP: softmax of β times a logit map, against loop references and its average/SoftPool limits."""

from __future__ import annotations

import numpy as np
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from pooling_core import pool2d
from tests.strategies import (
    CLOSE,
    FLOATS_10,
    examples,
    loop_reference,
    mean_oracle,
    no_dilation,
    sliding_cases,
    softmax_average,
    t,
)


@examples(40)
@given(sliding_cases(FLOATS_10, dilation=False))
def test_lip_zero_logit_is_avg_pool_ignoring_padding(case):
    x, kw = case
    expected = F.avg_pool2d(t(x), **no_dilation(kw), count_include_pad=False)
    assert_allclose(pool2d(x, "lip", **kw, logit="zero").output, expected.numpy(), **CLOSE)


@examples(40)
@given(sliding_cases(FLOATS_10))
def test_lip_zero_logit_with_dilation_is_mean_of_real_cells(case):
    x, kw = case
    assert_allclose(pool2d(x, "lip", **kw, logit="zero", beta=7.0).output, mean_oracle(x, kw), **CLOSE)


@examples(40)
@given(sliding_cases(FLOATS_10), st.sampled_from([0.5, 1.0, 2.0]))
def test_lip_input_logit_is_softpool(case, beta):
    x, kw = case
    lip = pool2d(x, "lip", **kw, logit="input", beta=beta)
    softpool = pool2d(x, "softpool", **kw, temperature=1 / beta)
    assert_allclose(lip.output, softpool.output, **CLOSE)
    assert_allclose(lip.weights, softpool.weights, **CLOSE)


@examples(40)
@given(sliding_cases(FLOATS_10), st.integers(0, 2**32 - 1), st.sampled_from([-1.0, 0.5, 3.0]))
def test_lip_array_logit_matches_loop_reference(case, seed, beta):
    x, kw = case
    logit = np.random.default_rng(seed).normal(0, 2, size=x.shape)
    expected = loop_reference(x, kw, lambda v, g: softmax_average(v, beta * g), logit)
    assert_allclose(pool2d(x, "lip", **kw, logit=logit, beta=beta).output, expected, **CLOSE)


def test_lip_array_logit_for_2d_and_3d_input():
    rng = np.random.default_rng(0)
    plane = rng.normal(size=(4, 5))
    logit = rng.normal(size=(4, 5))
    out = pool2d(plane, "lip", 2, 1, logit=logit).output
    assert out.shape == (3, 4)
    assert_allclose(out[0, 0], softmax_average(plane[:2, :2].ravel(), logit[:2, :2].ravel()), **CLOSE)
    stack = rng.normal(size=(3, 4, 5))
    logits = rng.normal(size=(3, 4, 5))
    out = pool2d(stack, "lip", 2, 1, logit=logits).output
    assert_allclose(out[2, 1, 3], softmax_average(stack[2, 1:3, 3:5].ravel(), logits[2, 1:3, 3:5].ravel()), **CLOSE)
