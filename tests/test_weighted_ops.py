"""Tests of the weighted-average family: softpool, lip, dpp, stochastic, mixed, gated, avgmax, weighted_avg.

Everything runs in float64 unless a test says otherwise. Oracles follow ``shared/spec/operators.md``
sections 2 and 3: ``torch.nn.functional`` where PyTorch has the operation (``max_pool2d``,
``avg_pool2d``, ``conv2d``, ``unfold`` + ``softmax``), otherwise a NumPy reference written here with
explicit loops over output cells and window cells, which never calls ``pooling_core``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from pooling_core import OPERATORS, PoolingError, input_gradient, pool2d
from pooling_core.explain import window_report
from pooling_core.operators.stochastic import draw_cells
from tests.strategies import sliding_cases, t

SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
TIGHT = dict(rtol=1e-10, atol=1e-10)

FLOATS = st.floats(-10, 10, allow_nan=False, allow_infinity=False)
POSITIVE = st.floats(0.1, 10, allow_nan=False, allow_infinity=False)
NEW_OPS = ("lip", "dpp", "stochastic", "mixed", "gated", "avgmax", "weighted_avg")


# ---------------------------------------------------------------------------------------------
# Strategies and helpers (independent of pooling_core's geometry)
# ---------------------------------------------------------------------------------------------

@st.composite
def distinct_cases(draw, scale=1.0, **options):
    """Like :func:`sliding_cases` with all values distinct, ``scale`` apart (tie-free max, clear limits)."""
    x, kw = draw(sliding_cases(FLOATS, elements=st.just(0.0), **options))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return scale * rng.permutation(x.size).reshape(x.shape).astype(np.float64), kw


def torch_out_size(shape, kw) -> tuple[int, int]:
    return tuple(F.max_pool2d(torch.zeros(1, 1, *shape[-2:]), **kw).shape[-2:])


def window_cells(shape, kw):
    """For each output cell (i, j): the input rows and columns its window reads, by the sliding rule."""
    height, width = shape[-2:]
    out_h, out_w = torch_out_size(shape, kw)

    def positions(i, length, axis):
        k, s, p, d = (kw[name][axis] for name in ("kernel_size", "stride", "padding", "dilation"))
        return [i * s - p + a * d for a in range(k) if 0 <= i * s - p + a * d < length]

    for i in range(out_h):
        for j in range(out_w):
            yield i, j, positions(i, height, 0), positions(j, width, 1)


def loop_reference(x, kw, reduce, *maps):
    """``reduce(values, *map_values)`` per window, each (N, C, cells) in reading order; -> (N, C, Ho, Wo)."""
    out = np.zeros((*x.shape[:2], *torch_out_size(x.shape, kw)))
    for i, j, rows, cols in window_cells(x.shape, kw):
        windows = [m[:, :, rows][:, :, :, cols].reshape(*x.shape[:2], -1) for m in (x, *maps)]
        out[:, :, i, j] = reduce(*windows)
    return out


def softmax_average(values, logits):
    weights = np.exp(logits - logits.max(-1, keepdims=True))
    return (weights * values).sum(-1) / weights.sum(-1)


def conv_oracle(x, kernel, kw):
    """``sum_uv K_uv x[s i - p + d u, s j - p + d v]`` with zeros off the input, by ``F.conv2d``."""
    batch, channels, height, width = x.shape
    out_h, out_w = torch_out_size(x.shape, kw)
    (kh, kwid), (sh, sw), (ph, pw), (dh, dw) = (kw[n] for n in ("kernel_size", "stride", "padding", "dilation"))
    # Zero-pad p on the left/top and enough on the right/bottom for the ceil-mode overhang.
    bottom = max(0, (out_h - 1) * sh + dh * (kh - 1) + 1 - ph - height)
    right = max(0, (out_w - 1) * sw + dw * (kwid - 1) + 1 - pw - width)
    padded = F.pad(t(x).reshape(batch * channels, 1, height, width), (pw, right, ph, bottom))
    out = F.conv2d(padded, t(np.asarray(kernel, dtype=np.float64))[None, None], stride=(sh, sw), dilation=(dh, dw))
    return out[..., :out_h, :out_w].reshape(batch, channels, out_h, out_w).numpy()


def mean_oracle(x, kw):
    """Mean over the real cells of each window (padding ignored), dilation allowed: two convolutions."""
    ones = np.ones(kw["kernel_size"])
    return conv_oracle(x, ones, kw) / conv_oracle(np.ones_like(x), ones, kw)


def max_oracle(x, kw):
    return F.max_pool2d(t(x), **kw).numpy()


def window_values(x, geometry):
    """(N, C, Ho, Wo, kh, kw) window values (0 off the input) and the realness mask, by NumPy."""
    height, width = geometry.in_size
    real = geometry.real_mask()
    rows = np.clip(geometry.rows, 0, height - 1)
    cols = np.clip(geometry.cols, 0, width - 1)
    values = x[..., rows[:, None, :, None], cols[None, :, None, :]]
    return np.where(real, values, 0.0), real


def draws(seed, shape):
    """The documented uniform draws of the random operators."""
    return torch.rand(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64).numpy()


def gaussian_1d(k):
    sigma = max(math.sqrt(k - 1) / 2, 0.5)
    offsets = np.arange(k) - (k - 1) / 2
    return np.exp(-offsets**2 / (2 * sigma**2))


# Every configuration of the operators under test. A callable value is built from (x shape, kernel).
CONFIGS = [
    ("softpool", {}),
    ("softpool", {"temperature": 0.3}),
    ("lip", {}),
    ("lip", {"logit": "zero"}),
    ("lip", {"beta": -2.0}),
    ("lip", {"logit": lambda shape, k: np.random.default_rng(1).normal(size=shape), "beta": 1.5}),
    ("dpp", {}),
    ("dpp", {"variant": "asym", "lam": 3.0, "alpha": 0.0}),
    ("dpp", {"variant": "sym", "lam": 0.5, "alpha": 2.0, "eps": 0.1}),
    ("stochastic", {}),
    ("stochastic", {"mode": "train", "seed": 5}),
    ("mixed", {}),
    ("mixed", {"lam": 0.2, "mode": "train", "seed": 1}),
    ("mixed", {"lam": 0.7, "mode": "train", "per": "map", "seed": 2}),
    ("gated", {}),
    ("gated", {"gate": lambda shape, k: np.random.default_rng(2).normal(size=k)}),
    ("avgmax", {}),
    ("avgmax", {"combine": "mean"}),
    ("weighted_avg", {}),
    ("weighted_avg", {"kernel_weights": "uniform"}),
    ("weighted_avg", {"kernel_weights": lambda shape, k: np.random.default_rng(3).uniform(0, 1, size=k)}),
]


def config_id(op, params):
    return "-".join([op] + [f"{k}={'array' if callable(v) else v}" for k, v in params.items()])


CONFIG_IDS = [config_id(op, params) for op, params in CONFIGS]


def built(params, shape, kernel):
    return {k: (v(shape, kernel) if callable(v) else v) for k, v in params.items()}


def expected_kernel(kernel_weights, kernel):
    """weighted_avg's kernel, normalised to sum 1, computed here from its documented definition."""
    if isinstance(kernel_weights, np.ndarray):
        weights = kernel_weights
    elif kernel_weights == "uniform":
        weights = np.ones(kernel)
    else:
        weights = np.outer(gaussian_1d(kernel[0]), gaussian_1d(kernel[1]))
    return weights / weights.sum()


def weight_total(op, params):
    """What the weights of every window sum to (not used for stochastic and weighted_avg, checked apart)."""
    return 2.0 if op == "avgmax" and params.get("combine", "sum") == "sum" else 1.0


# ---------------------------------------------------------------------------------------------
# Registry entries
# ---------------------------------------------------------------------------------------------

EXPECTED_PARAMS = {
    "lip": ["logit", "beta"], "dpp": ["alpha", "lam", "variant", "eps"], "stochastic": ["mode", "seed"],
    "mixed": ["lam", "mode", "per", "seed"], "gated": ["gate"], "avgmax": ["combine"],
    "weighted_avg": ["kernel_weights"],
}


DEFAULTS = {
    "lip": {"logit": "input", "beta": 1.0}, "dpp": {"alpha": 1.0, "lam": 1.0, "variant": "sym", "eps": 1e-3},
    "stochastic": {"mode": "eval", "seed": 0}, "mixed": {"lam": 0.5, "mode": "eval", "per": "region", "seed": 0},
    "gated": {"gate": None}, "avgmax": {"combine": "sum"}, "weighted_avg": {"kernel_weights": "gaussian"},
}


@pytest.mark.parametrize("op", NEW_OPS)
def test_registry_entry(op):
    operator = OPERATORS[op]
    assert [p.name for p in operator.params] == EXPECTED_PARAMS[op]
    assert operator.has_weights and operator.explain is not None
    assert operator.random == (op in ("stochastic", "mixed"))
    assert operator.name and operator.summary and operator.formula and operator.citation
    assert all(p.help for p in operator.params)
    assert operator.resolve({}) == DEFAULTS[op]


def test_dpp_summary_names_the_variant():
    assert "paper form" in OPERATORS["dpp"].summary.lower() and "Torch7" in OPERATORS["dpp"].summary


# ---------------------------------------------------------------------------------------------
# SoftPool and LIP
# ---------------------------------------------------------------------------------------------

@SETTINGS
@given(sliding_cases(FLOATS, padding=False, ceil=False), st.sampled_from([0.5, 1.0, 3.0]))
def test_softpool_matches_unfold_softmax(case, temperature):
    x, kw = case
    batch, channels, height, width = x.shape
    columns = F.unfold(t(x).reshape(batch * channels, 1, height, width), kw["kernel_size"],
                       dilation=kw["dilation"], stride=kw["stride"])
    expected = (torch.softmax(columns / temperature, dim=1) * columns).sum(1)
    out = pool2d(x, "softpool", **kw, temperature=temperature).output
    assert_allclose(out, expected.reshape(out.shape).numpy(), **TIGHT)


@SETTINGS
@given(sliding_cases(FLOATS), st.sampled_from([0.25, 1.0, 4.0]))
def test_softpool_matches_loop_reference(case, temperature):
    x, kw = case
    expected = loop_reference(x, kw, lambda v: softmax_average(v, v / temperature))
    assert_allclose(pool2d(x, "softpool", **kw, temperature=temperature).output, expected, **TIGHT)


@SETTINGS
@given(sliding_cases(FLOATS, dilation=False))
def test_lip_zero_logit_is_avg_pool_ignoring_padding(case):
    x, kw = case
    expected = F.avg_pool2d(t(x), **{k: v for k, v in kw.items() if k != "dilation"}, count_include_pad=False)
    assert_allclose(pool2d(x, "lip", **kw, logit="zero").output, expected.numpy(), **TIGHT)


@SETTINGS
@given(sliding_cases(FLOATS))
def test_lip_zero_logit_with_dilation_is_mean_of_real_cells(case):
    x, kw = case
    assert_allclose(pool2d(x, "lip", **kw, logit="zero", beta=7.0).output, mean_oracle(x, kw), **TIGHT)


@SETTINGS
@given(sliding_cases(FLOATS), st.sampled_from([0.5, 1.0, 2.0]))
def test_lip_input_logit_is_softpool(case, beta):
    x, kw = case
    lip = pool2d(x, "lip", **kw, logit="input", beta=beta)
    softpool = pool2d(x, "softpool", **kw, temperature=1 / beta)
    assert_allclose(lip.output, softpool.output, **TIGHT)
    assert_allclose(lip.weights, softpool.weights, **TIGHT)


@SETTINGS
@given(sliding_cases(FLOATS), st.integers(0, 2**32 - 1), st.sampled_from([-1.0, 0.5, 3.0]))
def test_lip_array_logit_matches_loop_reference(case, seed, beta):
    x, kw = case
    logit = np.random.default_rng(seed).normal(0, 2, size=x.shape)
    expected = loop_reference(x, kw, lambda v, g: softmax_average(v, beta * g), logit)
    assert_allclose(pool2d(x, "lip", **kw, logit=logit, beta=beta).output, expected, **TIGHT)


def test_lip_array_logit_for_2d_and_3d_input():
    rng = np.random.default_rng(0)
    plane = rng.normal(size=(4, 5))
    logit = rng.normal(size=(4, 5))
    out = pool2d(plane, "lip", 2, 1, logit=logit).output
    assert out.shape == (3, 4)
    assert_allclose(out[0, 0], softmax_average(plane[:2, :2].ravel(), logit[:2, :2].ravel()), **TIGHT)
    stack = rng.normal(size=(3, 4, 5))
    logits = rng.normal(size=(3, 4, 5))
    out = pool2d(stack, "lip", 2, 1, logit=logits).output
    assert_allclose(out[2, 1, 3], softmax_average(stack[2, 1:3, 3:5].ravel(), logits[2, 1:3, 3:5].ravel()), **TIGHT)


@SETTINGS
@given(distinct_cases(scale=0.05))
def test_softpool_small_temperature_is_max(case):
    x, kw = case
    assert_allclose(pool2d(x, "softpool", **kw, temperature=1e-3).output, max_oracle(x, kw), rtol=0, atol=1e-12)


@SETTINGS
@given(sliding_cases(FLOATS, elements=st.floats(-1, 1)))
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
    assert_allclose(out, [[-1 - 1 / (1 + math.e)]], **TIGHT)  # -1.2689, not the official code's 0
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
    assert_allclose(gradient, exact, **TIGHT)
    assert_allclose(gradient, [[-0.0479, -0.0429], [0.1202, 0.9706]], atol=1e-4)
    assert_allclose(weights, [[0.0321, 0.0871], [0.2369, 0.6439]], atol=1e-4)
    assert np.abs(gradient - weights).max() > 0.3  # the CUDA rule is visibly different
    assert_allclose(gradient.sum(), 1.0, **TIGHT)


# ---------------------------------------------------------------------------------------------
# DPP
# ---------------------------------------------------------------------------------------------

def dpp_reference(alpha, lam, variant, eps):
    def reduce(values):
        deviation = values - values.mean(-1, keepdims=True)
        if variant == "asym":
            deviation = np.maximum(deviation, 0.0)
        weights = alpha + (deviation**2 + eps**2) ** (lam / 2)
        return (weights * values).sum(-1) / weights.sum(-1)
    return reduce


@SETTINGS
@given(sliding_cases(FLOATS), st.sampled_from([0.0, 0.5, 2.0]), st.sampled_from([0.0, 1.0, 2.5, 4.0]),
       st.sampled_from(["sym", "asym"]), st.sampled_from([1e-3, 0.1, 1.0]))
def test_dpp_matches_loop_reference(case, alpha, lam, variant, eps):
    x, kw = case
    expected = loop_reference(x, kw, dpp_reference(alpha, lam, variant, eps))
    out = pool2d(x, "dpp", **kw, alpha=alpha, lam=lam, variant=variant, eps=eps).output
    assert_allclose(out, expected, rtol=1e-9, atol=1e-9)


@SETTINGS
@given(sliding_cases(FLOATS), st.sampled_from(["sym", "asym"]), st.sampled_from([0.0, 1.0]))
def test_dpp_lam_zero_is_avg_ignoring_padding(case, variant, alpha):
    x, kw = case
    assert_allclose(pool2d(x, "dpp", **kw, lam=0.0, variant=variant, alpha=alpha).output, mean_oracle(x, kw), **TIGHT)


@SETTINGS
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


# ---------------------------------------------------------------------------------------------
# Stochastic pooling
# ---------------------------------------------------------------------------------------------

def test_stochastic_spec_example():
    window = np.array([[1.0, 2.0], [3.0, 4.0]])
    result = pool2d(window, "stochastic", 2)
    assert_allclose(result.weights[0, 0], [[0.1, 0.2], [0.3, 0.4]], **TIGHT)
    assert_allclose(result.output, [[3.0]], **TIGHT)
    assert window_report(result, window, 0, 0).text == "0.1*1 + 0.2*2 + 0.3*3 + 0.4*4 = 3"


@SETTINGS
@given(sliding_cases(FLOATS, padding=False, dilation=False, ceil=False, elements=POSITIVE))
def test_stochastic_eval_matches_avg_pool_ratio(case):
    x, kw = case
    plain = {k: v for k, v in kw.items() if k != "dilation"}
    expected = F.avg_pool2d(t(x * x), **plain) / F.avg_pool2d(t(x), **plain)
    assert_allclose(pool2d(x, "stochastic", **kw).output, expected.numpy(), **TIGHT)


@SETTINGS
@given(sliding_cases(FLOATS))
def test_stochastic_eval_is_sum_of_squares_over_sum_after_relu(case):
    x, kw = case
    ones = np.ones(kw["kernel_size"])
    relu = np.maximum(x, 0.0)
    squares, total = conv_oracle(relu * relu, ones, kw), conv_oracle(relu, ones, kw)
    expected = np.where(total > 0, squares / np.where(total > 0, total, 1.0), 0.0)
    assert_allclose(pool2d(x, "stochastic", **kw).output, expected, **TIGHT)


def stochastic_train_reference(x, kw, seed):
    """Cell ``l`` of each window: the first whose running sum of ReLU values exceeds ``u * total``."""
    u = draws(seed, (*x.shape[:2], *torch_out_size(x.shape, kw)))
    out = np.zeros_like(u)
    relu = np.maximum(x, 0.0)
    for i, j, rows, cols in window_cells(x.shape, kw):
        for n in range(x.shape[0]):
            for c in range(x.shape[1]):
                values = [relu[n, c, r, q] for r in rows for q in cols]
                threshold, running = u[n, c, i, j] * sum(values), 0.0
                for value in values:
                    running += value
                    if running > threshold:
                        out[n, c, i, j] = value
                        break
    return out


@SETTINGS
@given(sliding_cases(FLOATS), st.integers(0, 1000))
def test_stochastic_train_matches_loop_reference(case, seed):
    x, kw = case
    result = pool2d(x, "stochastic", **kw, mode="train", seed=seed)
    assert_array_equal(result.output, stochastic_train_reference(x, kw, seed))


@SETTINGS
@given(sliding_cases(FLOATS), st.integers(0, 2**31 - 1))
def test_stochastic_train_output_is_a_window_value_with_positive_probability(case, seed):
    x, kw = case
    result = pool2d(x, "stochastic", **kw, mode="train", seed=seed)
    values, real = window_values(x, result.geometry)
    picked = result.weights
    assert set(np.unique(picked)) <= {0.0, 1.0}
    any_positive = (np.maximum(values, 0) * real).sum((-1, -2)) > 0
    assert_array_equal(picked.sum((-1, -2)), any_positive.astype(float))
    assert (values[picked == 1] > 0).all()  # a cell with p = 0 is never drawn
    assert_array_equal(result.output, np.where(any_positive, (picked * values).sum((-1, -2)), 0.0))


def test_stochastic_eval_is_the_mean_of_many_train_draws():
    x = np.array([[0.5, 2.0, 0.0, 1.0], [3.0, 1.0, 4.0, 0.0], [0.0, 0.0, 2.0, 2.0], [1.0, 0.0, 0.0, 5.0]])
    eval_result = pool2d(x, "stochastic", 2)
    samples = np.array([pool2d(x, "stochastic", 2, mode="train", seed=seed).output for seed in range(4000)])
    # Variance of one draw: E[a^2] - y^2 with E[a^2] = sum p a^2 = sum a^3 / sum a.
    values, _ = window_values(x, eval_result.geometry)
    second_moment = (values**3).sum((-1, -2)) / values.sum((-1, -2))
    std_error = np.sqrt((second_moment - eval_result.output**2) / len(samples))
    assert (np.abs(samples.mean(0) - eval_result.output) <= 4 * std_error).all()


def test_stochastic_sampling_histogram_converges_to_the_probabilities():
    """One window repeated over 20000 maps: each map draws its own u, so the counts estimate p."""
    window = np.array([[1.0, 2.0], [3.0, 4.0]])
    maps = np.broadcast_to(window, (20000, 1, 2, 2))
    picked = pool2d(maps, "stochastic", 2, mode="train", seed=7).weights.reshape(20000, 4)
    frequencies = picked.mean(0)
    p = np.array([0.1, 0.2, 0.3, 0.4])
    assert (np.abs(frequencies - p) <= 4 * np.sqrt(p * (1 - p) / 20000)).all()


def test_draw_cells_follows_the_train_rule():
    window = np.array([[1.0, -2.0], [3.0, 4.0]])
    for seed in range(20):
        first = draw_cells(window.ravel(), 5, seed)[0]
        assert pool2d(window, "stochastic", 2, mode="train", seed=seed).output[0, 0] == window.ravel()[first]
    cells = draw_cells(window.ravel(), 20000, seed=3)
    frequencies = np.bincount(cells, minlength=4) / 20000
    p = np.array([1, 0, 3, 4]) / 8
    assert frequencies[1] == 0  # a negative cell is 0 after ReLU: never drawn
    assert (np.abs(frequencies - p) <= 4 * np.sqrt(p * (1 - p) / 20000)).all()
    with pytest.raises(PoolingError, match="nothing to draw"):
        draw_cells([0.0, -1.0], 3)


def test_stochastic_train_gradient_only_at_sampled_cells():
    x = np.random.default_rng(1).uniform(-1, 3, size=(2, 2, 6, 6))
    kw = dict(kernel_size=3, stride=3)
    result = pool2d(x, "stochastic", **kw, mode="train", seed=11)
    gradient = input_gradient(x, "stochastic", None, **kw, mode="train", seed=11)
    # Non-overlapping windows: each sampled cell receives exactly 1, every other cell 0.
    sampled = np.zeros_like(x)
    rows, cols = result.geometry.rows, result.geometry.cols
    for index in np.argwhere(result.weights == 1):
        n, c, i, j, a, b = index
        sampled[n, c, rows[i, a], cols[j, b]] = 1.0
    assert_array_equal(gradient, sampled)
    assert (x[gradient == 1] > 0).all()


def test_stochastic_all_zero_window_outputs_zero_with_zero_weights():
    x = np.array([[0.0, -1.0, 2.0, 0.0], [-3.0, 0.0, 0.0, 1.0]])
    for mode in ("eval", "train"):
        result = pool2d(x, "stochastic", 2, mode=mode)
        assert result.output[0, 0] == 0.0
        assert_array_equal(result.weights[0, 0], np.zeros((2, 2)))
        assert_allclose(result.weights[0, 1].sum(), 1.0, **TIGHT)
        gradient = input_gradient(x, "stochastic", None, 2, mode=mode)
        assert_array_equal(gradient[:, :2], np.zeros((2, 2)))


def test_stochastic_notice_reports_the_relu():
    x = np.array([[-1.0, 2.0, -3.0], [4.0, -5.0, 0.0]])
    notice = pool2d(x, "stochastic", 2, 1).notice
    assert notice is not None and "ReLU" in notice and "non-negative" in notice and "3 negative cells" in notice
    assert "1 negative cell." in pool2d(np.array([[-1.0, 2.0]]), "stochastic", (1, 2)).notice
    assert pool2d(np.abs(x), "stochastic", 2, 1).notice is None
    assert pool2d(np.abs(x), "mixed", 2, 1).notice is None


# ---------------------------------------------------------------------------------------------
# Mixed, gated, avg + max
# ---------------------------------------------------------------------------------------------

@SETTINGS
@given(sliding_cases(FLOATS, padding=False, dilation=False), st.sampled_from([0.0, 0.3, 0.5, 1.0]))
def test_mixed_eval_matches_torch_max_and_avg(case, lam):
    x, kw = case
    plain = {k: v for k, v in kw.items() if k != "dilation"}
    expected = lam * F.max_pool2d(t(x), **kw) + (1 - lam) * F.avg_pool2d(t(x), **plain, count_include_pad=False)
    assert_allclose(pool2d(x, "mixed", **kw, lam=lam).output, expected.numpy(), **TIGHT)


@SETTINGS
@given(sliding_cases(FLOATS), st.sampled_from([0.0, 0.25, 1.0]))
def test_mixed_eval_with_padding_and_dilation(case, lam):
    x, kw = case
    expected = lam * max_oracle(x, kw) + (1 - lam) * mean_oracle(x, kw)
    assert_allclose(pool2d(x, "mixed", **kw, lam=lam).output, expected, **TIGHT)


@SETTINGS
@given(sliding_cases(FLOATS), st.sampled_from([0.1, 0.5, 0.9]), st.sampled_from(["region", "map"]),
       st.integers(0, 1000))
def test_mixed_train_matches_the_documented_draws(case, lam, per, seed):
    x, kw = case
    out_shape = (*x.shape[:2], *torch_out_size(x.shape, kw))
    chosen = draws(seed, out_shape if per == "region" else (*x.shape[:2], 1, 1)) < lam
    expected = np.where(chosen, max_oracle(x, kw), mean_oracle(x, kw))
    out = pool2d(x, "mixed", **kw, lam=lam, mode="train", per=per, seed=seed).output
    assert_allclose(out, expected, **TIGHT)


@SETTINGS
@given(sliding_cases(FLOATS), st.sampled_from(["eval", "train"]), st.sampled_from(["region", "map"]),
       st.integers(0, 99))
def test_mixed_lam_one_is_max_and_zero_is_avg(case, mode, per, seed):
    x, kw = case
    ones = pool2d(x, "mixed", **kw, lam=1.0, mode=mode, per=per, seed=seed)
    zeros = pool2d(x, "mixed", **kw, lam=0.0, mode=mode, per=per, seed=seed)
    maximum = pool2d(x, "max", **kw)
    assert_allclose(ones.output, maximum.output, **TIGHT)
    assert_array_equal(ones.weights, maximum.weights)  # first maximum in reading order, as PyTorch picks
    assert_allclose(zeros.output, mean_oracle(x, kw), **TIGHT)


def test_mixed_per_map_draws_one_lambda_per_map():
    x = np.random.default_rng(0).normal(size=(4, 8, 6, 6))
    result = pool2d(x, "mixed", 2, mode="train", per="map", seed=3)
    share = result.weights.max((-1, -2))  # 1 where max was drawn, 1/4 where the mean was
    assert (share == share[..., :1, :1]).all()
    assert {0.25, 1.0} == set(np.unique(share))


@SETTINGS
@given(sliding_cases(FLOATS), st.booleans(), st.integers(0, 2**32 - 1))
def test_gated_is_max_and_mean_mixed_by_a_depthwise_conv_gate(case, default_gate, seed):
    x, kw = case
    kernel = kw["kernel_size"]
    gate = np.full(kernel, 1.0 / (kernel[0] * kernel[1])) if default_gate else \
        np.random.default_rng(seed).normal(0, 0.5, size=kernel)
    g = 1 / (1 + np.exp(-conv_oracle(x, gate, kw)))
    expected = g * max_oracle(x, kw) + (1 - g) * mean_oracle(x, kw)
    out = pool2d(x, "gated", **kw, gate=None if default_gate else gate).output
    assert_allclose(out, expected, **TIGHT)


def test_gated_default_gate_is_sigmoid_of_window_mean():
    window = np.array([[1.0, 2.0], [3.0, 6.0]])
    g = 1 / (1 + math.exp(-3.0))
    result = pool2d(window, "gated", 2)
    assert_allclose(result.output, [[g * 6 + (1 - g) * 3]], **TIGHT)
    assert not OPERATORS["gated"].params[0].in_app  # the app cannot type a kh x kw array: it uses the default
    same = pool2d(window, "gated", 2, gate=0.25).output  # a number: that ω in every cell
    assert_array_equal(same, result.output)
    assert_array_equal(pool2d(window, "gated", 2, gate=np.full((2, 2), 0.25)).output, result.output)
    assert window_report(result, window, 0, 0).text == "g = σ(Σ ω·a) = 0.9526: 0.9526*max(1, 2, 3, 6) + " \
                                                       "0.04743*mean(1, 2, 3, 6) = 5.858"


@SETTINGS
@given(sliding_cases(FLOATS), st.sampled_from(["sum", "mean"]))
def test_avgmax_is_max_plus_mean(case, combine):
    x, kw = case
    total = max_oracle(x, kw) + mean_oracle(x, kw)
    expected = total if combine == "sum" else total / 2
    assert_allclose(pool2d(x, "avgmax", **kw, combine=combine).output, expected, **TIGHT)


@SETTINGS
@given(sliding_cases(FLOATS, padding=False, dilation=False, ceil=False))
def test_avgmax_mean_is_timms_adaptive_avgmax_on_one_window(case):
    """timm: ``0.5 * (adaptive_avg_pool2d(x, 1) + adaptive_max_pool2d(x, 1))``."""
    x, _ = case
    expected = 0.5 * (F.adaptive_avg_pool2d(t(x), 1) + F.adaptive_max_pool2d(t(x), 1))
    out = pool2d(x, "avgmax", kernel_size=x.shape[-2:], combine="mean").output
    assert_allclose(out, expected.numpy(), **TIGHT)


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


def test_stochastic_train_arithmetic_names_the_drawn_cell():
    window = np.array([[1.0, 2.0], [3.0, 4.0]])
    result = pool2d(window, "stochastic", 2, mode="train", seed=0)
    cell = int(np.argmax(result.weights[0, 0].ravel()))
    text = window_report(result, window, 0, 0).text
    assert text == f"p = (0.1, 0.2, 0.3, 0.4); the draw picked cell {cell + 1} (p = {(cell + 1) / 10:g}): " \
                   f"y = {cell + 1}"
    zero = np.array([[-1.0, 0.0], [0.0, -2.0]])
    text = window_report(pool2d(zero, "stochastic", 2, mode="train"), zero, 0, 0).text
    assert text == "every cell is 0 after ReLU, so nothing can be drawn: y = 0"


# ---------------------------------------------------------------------------------------------
# Weighted average with a fixed kernel
# ---------------------------------------------------------------------------------------------

@SETTINGS
@given(sliding_cases(FLOATS), st.sampled_from(["gaussian", "uniform", "array"]), st.integers(0, 2**32 - 1))
def test_weighted_avg_is_conv2d_with_the_normalised_kernel(case, kind, seed):
    x, kw = case
    kh, kwid = kw["kernel_size"]
    if kind == "gaussian":
        kernel = np.outer(gaussian_1d(kh), gaussian_1d(kwid))
    elif kind == "uniform":
        kernel = np.ones((kh, kwid))
    else:
        kernel = np.random.default_rng(seed).uniform(0, 2, size=(kh, kwid))
    out = pool2d(x, "weighted_avg", **kw, kernel_weights=kernel if kind == "array" else kind).output
    assert_allclose(out, conv_oracle(x, kernel / kernel.sum(), kw), **TIGHT)


def test_weighted_avg_gaussian_kernels():
    def kernel(k):
        return pool2d(np.zeros((1, k)), "weighted_avg", (1, k)).weights[0, 0, 0]
    assert_allclose(kernel(1), [1.0], **TIGHT)
    assert_allclose(kernel(2), [0.5, 0.5], **TIGHT)
    assert_allclose(kernel(3), [0.2119, 0.5761, 0.2119], atol=1e-4)  # σ = √2/2: the binomial [1,2,1]'s
    assert_allclose(kernel(4), kernel(4)[::-1], **TIGHT)
    square = pool2d(np.zeros((3, 3)), "weighted_avg", 3).weights[0, 0]
    assert_allclose(square, np.outer(kernel(3), kernel(3)), **TIGHT)


def test_weighted_avg_border_window_weighs_less_than_one():
    x = np.ones((4, 4))
    result = pool2d(x, "weighted_avg", 3, 2, 1, kernel_weights="uniform")
    assert_allclose(result.weights[0, 0].sum(), 4 / 9, **TIGHT)
    assert_allclose(result.output[0, 0], 4 / 9, **TIGHT)  # zero padding, like conv2d: not renormalised
    assert_allclose(result.weights[1, 1].sum(), 1.0, **TIGHT)


# ---------------------------------------------------------------------------------------------
# Properties shared by every operator here
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("op, params", CONFIGS, ids=CONFIG_IDS)
@SETTINGS
@given(sliding_cases(FLOATS))
def test_output_is_weighted_sum_of_window(op, params, case):
    x, kw = case
    params = built(params, x.shape, kw["kernel_size"])
    result = pool2d(x, op, **kw, **params)
    values, real = window_values(x, result.geometry)
    weights = result.weights
    assert weights.shape == values.shape
    assert (weights[..., ~real] == 0).all()  # padding and overhang weigh 0
    assert_allclose(result.output, (weights * values).sum((-1, -2)), **TIGHT)
    totals = weights.sum((-1, -2))
    if op == "stochastic":
        positive = (np.maximum(values, 0) * real).sum((-1, -2)) > 0
        assert_allclose(totals, positive.astype(float), **TIGHT)  # an all-zero window weighs 0
    elif op == "weighted_avg":
        kernel = expected_kernel(params.get("kernel_weights", "gaussian"), kw["kernel_size"])
        assert_allclose(weights, np.broadcast_to(kernel * real, weights.shape), **TIGHT)
    else:
        assert_allclose(totals, weight_total(op, params), **TIGHT)


@SETTINGS
@given(sliding_cases(FLOATS))
def test_weighted_avg_weights_sum_to_one_without_padding(case):
    x, kw = case
    result = pool2d(x, "weighted_avg", **kw)
    full = result.geometry.real_mask().all((-1, -2))
    assert_allclose(result.weights.sum((-1, -2))[..., full], 1.0, **TIGHT)


GRADCHECK_KW = dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 1), dilation=(1, 2), ceil_mode=True)


@pytest.mark.parametrize("op, params", CONFIGS, ids=CONFIG_IDS)
def test_gradcheck_operator_forward(op, params):
    rng = np.random.default_rng(3)
    shape = (1, 2, 5, 6)
    # Distinct values with |x| >= 0.1: no ties in the max and no ReLU kink within reach of eps.
    x = (0.1 + rng.permutation(60).reshape(shape) / 60) * rng.choice([-1.0, 1.0], size=shape)
    params = built(params, shape, GRADCHECK_KW["kernel_size"])
    operator = OPERATORS[op]
    geometry = pool2d(x, op, **GRADCHECK_KW, **params).geometry
    resolved = operator.resolve(params)
    xt = t(x).clone().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda v: operator.forward(v, geometry, **resolved), (xt,), eps=1e-6, atol=1e-5)


def extreme_inputs():
    rng = np.random.default_rng(5)
    shape = (2, 2, 6, 7)
    return {
        "scaled_1e4": rng.uniform(-1, 1, shape) * 1e4,
        "all_equal": np.full(shape, 3.0),
        "all_zero": np.zeros(shape),
        "all_negative": -rng.uniform(1, 10, shape),
    }


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", list(extreme_inputs()))
@pytest.mark.parametrize("op, params", CONFIGS, ids=CONFIG_IDS)
def test_extreme_inputs_stay_finite(op, params, name, dtype):
    x = extreme_inputs()[name].astype(dtype)
    kw = dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)
    params = built(params, x.shape, (3, 3))
    result = pool2d(x, op, **kw, dtype=dtype, **params)
    assert result.output.dtype == dtype
    assert np.isfinite(result.output).all() and np.isfinite(result.weights).all()
    assert np.isfinite(input_gradient(x, op, None, **kw, dtype=dtype, **params)).all()
    values, real = window_values(x.astype(np.float64), result.geometry)
    low = np.where(real, values, np.inf).min((-1, -2))
    high = np.where(real, values, -np.inf).max((-1, -2))
    scale = 2.0 if op == "avgmax" and params.get("combine", "sum") == "sum" else 1.0
    slack = 1e-4 * np.abs(x).max() + 1e-9
    if op == "stochastic":
        low, high = np.maximum(low, 0.0), np.maximum(high, 0.0)  # ReLU
    elif op == "weighted_avg":
        low, high = np.minimum(low, 0.0), np.maximum(high, 0.0)  # padding reads 0
    assert (result.output >= scale * low - slack).all() and (result.output <= scale * high + slack).all()
    if name == "all_equal" and op != "weighted_avg":
        assert_allclose(result.output, scale * 3.0, rtol=1e-6)


# ---------------------------------------------------------------------------------------------
# Randomness
# ---------------------------------------------------------------------------------------------

RANDOM_CONFIGS = [
    ("stochastic", {"mode": "train"}),
    ("mixed", {"mode": "train", "per": "region"}),
    ("mixed", {"mode": "train", "per": "map"}),
]


@pytest.mark.parametrize("op, params", RANDOM_CONFIGS)
def test_random_operators_same_seed_same_output_different_seed_differs(op, params):
    x = np.random.default_rng(0).uniform(0.1, 5, size=(4, 8, 6, 6))  # 32 maps, 288 windows
    first = pool2d(x, op, 2, **params, seed=123)
    again = pool2d(x, op, 2, **params, seed=123)
    other = pool2d(x, op, 2, **params, seed=124)
    assert_array_equal(first.output, again.output)
    assert_array_equal(first.weights, again.weights)
    assert not np.array_equal(first.output, other.output)
    assert_array_equal(first.output, (first.weights * window_values(x, first.geometry)[0]).sum((-1, -2)))


@pytest.mark.parametrize("op, params", [("stochastic", {}), ("mixed", {"lam": 0.3})])
def test_eval_mode_ignores_the_seed(op, params):
    x = np.random.default_rng(0).uniform(0.1, 5, size=(2, 3, 6, 6))
    assert_array_equal(pool2d(x, op, 2, seed=1, **params).output, pool2d(x, op, 2, seed=2, **params).output)


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------

X = np.arange(20.0).reshape(4, 5)

ERRORS = [
    (dict(op="gated", gate=np.ones((3, 3))), "gate must have the kernel's shape 2 x 2"),
    (dict(op="gated", gate=[[1.0, np.nan], [0.0, 1.0]]), "finite"),
    (dict(op="gated", gate="mean"), "gate must be a number"),
    (dict(op="lip", logit=np.ones((4, 4))), "logit array must have the input's shape"),
    (dict(op="lip", logit=np.ones((2, 4, 5))), "logit array must have the input's shape"),
    (dict(op="lip", logit="ones"), "logit must be one of 'input', 'zero'"),
    (dict(op="lip", beta=np.inf), "beta must be a finite number"),
    (dict(op="weighted_avg", kernel_weights=np.ones((2, 3))), "kernel weights must have the kernel's shape 2 x 2"),
    (dict(op="weighted_avg", kernel_weights=[[1.0, -1.0], [1.0, 1.0]]), "non-negative"),
    (dict(op="weighted_avg", kernel_weights=np.zeros((2, 2))), "positive sum"),
    (dict(op="weighted_avg", kernel_weights="box"), "kernel_weights must be one of"),
    (dict(op="dpp", variant="both"), "variant must be one of 'sym', 'asym'"),
    (dict(op="dpp", lam=-1.0), "lam must be at least 0"),
    (dict(op="dpp", alpha=-0.5), "alpha must be at least 0"),
    (dict(op="dpp", eps=0.0), "eps must be greater than 0"),
    (dict(op="softpool", temperature=0.0), "temperature must be greater than 0"),
    (dict(op="stochastic", mode="test"), "mode must be one of 'eval', 'train'"),
    (dict(op="stochastic", seed=-1), "seed must be between"),
    (dict(op="stochastic", seed=1.5), "seed must be a whole number"),
    (dict(op="mixed", lam=1.5), "lam must be between"),
    (dict(op="mixed", per="pixel"), "per must be one of 'region', 'map'"),
    (dict(op="avgmax", combine="max"), "combine must be one of 'sum', 'mean'"),
]


@pytest.mark.parametrize("call, match", ERRORS, ids=[f"{c['op']}-{m[:20]}" for c, m in ERRORS])
def test_errors(call, match):
    with pytest.raises(PoolingError, match=match):
        pool2d(X, kernel_size=2, **call)
