"""Stochastic pooling: the eval expectation against avg_pool2d and conv2d, the train draw against
a loop over the documented uniform draws, and the sampling frequencies."""

from __future__ import annotations

import numpy as np
import pytest
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from pooling_core import PoolingError, input_gradient, pool2d
from pooling_core.explain import window_report
from pooling_core.operators.stochastic import draw_cells
from tests.strategies import (
    CLOSE,
    FLOATS_10,
    conv_oracle,
    draws,
    examples,
    no_dilation,
    sliding_cases,
    t,
    torch_out_size,
    window_cells,
    window_values,
)

POSITIVE = st.floats(0.1, 10, allow_nan=False, allow_infinity=False)


def test_stochastic_spec_example():
    window = np.array([[1.0, 2.0], [3.0, 4.0]])
    result = pool2d(window, "stochastic", 2)
    assert_allclose(result.weights[0, 0], [[0.1, 0.2], [0.3, 0.4]], **CLOSE)
    assert_allclose(result.output, [[3.0]], **CLOSE)
    assert window_report(result, window, 0, 0).text == "0.1*1 + 0.2*2 + 0.3*3 + 0.4*4 = 3"


@examples(40)
@given(sliding_cases(FLOATS_10, padding=False, dilation=False, ceil=False, elements=POSITIVE))
def test_stochastic_eval_matches_avg_pool_ratio(case):
    x, kw = case
    plain = no_dilation(kw)
    expected = F.avg_pool2d(t(x * x), **plain) / F.avg_pool2d(t(x), **plain)
    assert_allclose(pool2d(x, "stochastic", **kw).output, expected.numpy(), **CLOSE)


@examples(40)
@given(sliding_cases(FLOATS_10))
def test_stochastic_eval_is_sum_of_squares_over_sum_after_relu(case):
    x, kw = case
    ones = np.ones(kw["kernel_size"])
    relu = np.maximum(x, 0.0)
    squares, total = conv_oracle(relu * relu, ones, kw), conv_oracle(relu, ones, kw)
    expected = np.where(total > 0, squares / np.where(total > 0, total, 1.0), 0.0)
    assert_allclose(pool2d(x, "stochastic", **kw).output, expected, **CLOSE)


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
                else:  # u * total rounded up to the total (a subnormal sum): the last cell with a > 0
                    out[n, c, i, j] = next((value for value in reversed(values) if value > 0), 0.0)
    return out


@examples(40)
@given(sliding_cases(FLOATS_10), st.integers(0, 1000))
def test_stochastic_train_matches_loop_reference(case, seed):
    x, kw = case
    result = pool2d(x, "stochastic", **kw, mode="train", seed=seed)
    assert_array_equal(result.output, stochastic_train_reference(x, kw, seed))


@examples(40)
@given(sliding_cases(FLOATS_10), st.integers(0, 2**31 - 1))
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
        assert_allclose(result.weights[0, 1].sum(), 1.0, **CLOSE)
        gradient = input_gradient(x, "stochastic", None, 2, mode=mode)
        assert_array_equal(gradient[:, :2], np.zeros((2, 2)))


def test_stochastic_expectation_is_exact_where_squares_underflow_or_overflow():
    x = np.array([[1e-170, 0.0, 1e200, 1.0], [0.0, 0.0, 0.0, 0.0]])  # 1e-170 ** 2 is 0, 1e200 ** 2 is inf
    assert_allclose(pool2d(x, "stochastic", 2).output, [[1e-170, 1e200]], rtol=1e-12)


@pytest.mark.parametrize("dilation", [1, 2])  # pooled sums, and the windows' weighted sum
def test_a_nan_in_a_window_makes_its_expectation_nan(dilation):
    x = np.arange(24.0).reshape(4, 6)
    x[0, 0] = np.nan
    out = pool2d(x, "stochastic", 2, stride=2, dilation=dilation).output
    assert out.shape == ((2, 3) if dilation == 1 else (1, 2))
    assert np.isnan(out).tolist() == [[True] + [False] * (out.shape[1] - 1)] + [[False] * out.shape[1]] * (
        out.shape[0] - 1)


def test_stochastic_notice_reports_the_relu():
    x = np.array([[-1.0, 2.0, -3.0], [4.0, -5.0, 0.0]])
    notice = pool2d(x, "stochastic", 2, 1).notice
    assert notice is not None and "ReLU" in notice and "non-negative" in notice and "3 negative cells" in notice
    assert "1 negative cell." in pool2d(np.array([[-1.0, 2.0]]), "stochastic", (1, 2)).notice
    assert pool2d(np.abs(x), "stochastic", 2, 1).notice is None
    assert pool2d(np.abs(x), "mixed", 2, 1).notice is None


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


def test_stochastic_train_draws_the_one_positive_cell_of_a_subnormal_window():
    x = np.array([[0.0, 5e-324], [0.0, 0.0]])  # u * total rounds up to the total for most u
    for seed in range(20):
        assert pool2d(x, "stochastic", mode="train", seed=seed).output[0, 0] == 5e-324
