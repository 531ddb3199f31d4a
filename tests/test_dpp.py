"""Detail-preserving pooling against a loop reference and its average/max limits."""

from __future__ import annotations

import numpy as np
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from pooling_core import OPERATORS, input_gradient, pool2d
from tests.strategies import (
    CLOSE,
    FLOATS_10,
    distinct_cases,
    examples,
    loop_reference,
    max_oracle,
    mean_oracle,
    sliding_cases,
    t,
)


def test_dpp_summary_names_the_variant():
    assert "paper form" in OPERATORS["dpp"].summary.lower() and "Torch7" in OPERATORS["dpp"].summary


def dpp_reference(alpha, lam, variant, eps):
    def reduce(values):
        deviation = values - values.mean(-1, keepdims=True)
        if variant == "asym":
            deviation = np.maximum(deviation, 0.0)
        weights = alpha + (deviation**2 + eps**2) ** (lam / 2)
        return (weights * values).sum(-1) / weights.sum(-1)
    return reduce


@examples(40)
@given(sliding_cases(FLOATS_10), st.sampled_from([0.0, 0.5, 2.0]), st.sampled_from([0.0, 1.0, 2.5, 4.0]),
       st.sampled_from(["sym", "asym"]), st.sampled_from([1e-3, 0.1, 1.0]))
def test_dpp_matches_loop_reference(case, alpha, lam, variant, eps):
    x, kw = case
    expected = loop_reference(x, kw, dpp_reference(alpha, lam, variant, eps))
    out = pool2d(x, "dpp", **kw, alpha=alpha, lam=lam, variant=variant, eps=eps).output
    assert_allclose(out, expected, rtol=1e-9, atol=1e-9)


@examples(40)
@given(sliding_cases(FLOATS_10), st.sampled_from(["sym", "asym"]), st.sampled_from([0.0, 1.0]))
def test_dpp_lam_zero_is_avg_ignoring_padding(case, variant, alpha):
    x, kw = case
    assert_allclose(pool2d(x, "dpp", **kw, lam=0.0, variant=variant, alpha=alpha).output, mean_oracle(x, kw), **CLOSE)


@examples(40)
@given(distinct_cases(scale=1.0))
def test_dpp_asym_large_lam_tends_to_max(case):
    """With α = 0, on distinct values 1 apart, a cell t below the top deviation weighs (t / t_max)^λ of it.

    (With α = 1 the limit is the max only where deviations exceed 1: ρ = |t|^λ vanishes for |t| < 1.)
    """
    x, kw = case
    x = x + 1.0  # positive data
    maximum = max_oracle(x, kw)
    spread = maximum + F.max_pool2d(-t(x), **kw).numpy()  # max - min per window
    out = pool2d(x, "dpp", **kw, variant="asym", lam=40.0, alpha=0.0).output
    assert (out <= maximum + 1e-9).all()
    assert (maximum - out <= 0.02 * spread + 1e-9).all()
    coarse = pool2d(x, "dpp", **kw, variant="asym", lam=4.0, alpha=0.0).output
    assert (maximum - out <= maximum - coarse + 1e-9).all()  # closer with larger λ


def test_dpp_sym_large_lam_picks_the_most_deviating_cell_even_the_minimum():
    window = np.array([[0.0, 3.0], [3.5, 4.0]])  # mean 2.625: the 0 deviates most (2.625 vs 1.375)
    assert_allclose(pool2d(window, "dpp", 2, variant="sym", lam=40.0).output, [[0.0]], atol=1e-9)
    assert_allclose(pool2d(window, "dpp", 2, variant="asym", lam=40.0, alpha=0.0).output, [[4.0]], atol=1e-9)
    assert_allclose(pool2d(window, "dpp", 2, variant="asym", lam=40.0).output, [[4.0]], atol=1e-4)  # α = 1


def test_dpp_alpha_zero_and_large_inputs_stay_finite():
    x = np.random.default_rng(0).uniform(-1e4, 1e4, size=(2, 3, 6, 7))
    for variant in ("sym", "asym"):
        result = pool2d(x, "dpp", 3, 2, 1, ceil_mode=True, alpha=0.0, lam=50.0, variant=variant)
        assert np.isfinite(result.output).all() and np.isfinite(result.weights).all()
        gradient = input_gradient(x, "dpp", None, 3, 2, 1, ceil_mode=True, alpha=0.0, lam=50.0, variant=variant)
        assert np.isfinite(gradient).all()
        assert ((result.output >= -1e4) & (result.output <= 1e4)).all()
