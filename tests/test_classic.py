"""Max, average, global and adaptive pooling against ``torch.nn.functional``, in values, weights,
indices and gradients (float64 throughout)."""

from __future__ import annotations

import numpy as np
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from pooling_core import input_gradient, pool2d
from tests.strategies import (
    FLOATS_100,
    TEXTBOOK,
    TIGHT,
    arrays_of,
    examples,
    no_dilation,
    random_upstream,
    sliding_cases,
    t,
    torch_grad,
    window_values,
)


@st.composite
def plain_inputs(draw, min_side=1):
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)),
             draw(st.integers(min_side, 12)), draw(st.integers(min_side, 12)))
    return draw(arrays_of(shape, FLOATS_100))


def flat_positions(geometry):
    """(Ho, Wo, kh, kw) flat offsets ``row * W + col`` of every window position."""
    width = geometry.in_size[1]
    return geometry.rows[:, None, :, None] * width + geometry.cols[None, :, None, :]


def scatter_weights(result, upstream, shape):
    """sum over windows of upstream * weight, added onto the input cell each weight belongs to."""
    g = result.geometry
    i, j, a, b = np.nonzero(g.real_mask())
    total = np.zeros(shape)
    shares = upstream[..., i, j] * result.weights[..., i, j, a, b]
    for n in range(shape[0]):
        for c in range(shape[1]):
            np.add.at(total[n, c], (g.rows[i, a], g.cols[j, b]), shares[n, c])
    return total


# ---------------------------------------------------------------------------------------------
# Max pooling
# ---------------------------------------------------------------------------------------------

@examples(60)
@given(sliding_cases(FLOATS_100))
def test_max_matches_torch(case):
    x, kw = case
    result = pool2d(x, "max", **kw)
    expected, expected_idx = F.max_pool2d(t(x), **kw, return_indices=True)
    assert_array_equal(result.output, expected.numpy())
    assert_array_equal(result.indices, expected_idx.numpy())
    assert result.indices.dtype == np.int64

    g = result.geometry
    values, real = window_values(x, g)
    weights = result.weights
    assert weights.shape == (*x.shape[:2], *g.out_size, *kw["kernel_size"])
    assert np.isin(weights, (0.0, 1.0)).all()
    assert not weights[..., ~real].any()  # padding and overhang weigh 0
    nonempty = real.any((-1, -2))  # windows with at least one input cell
    sums = weights.sum((-1, -2))
    assert_array_equal(sums[..., nonempty], 1.0)
    # The one-hot cell is the cell PyTorch's index names, and it carries the output.
    named = (weights * flat_positions(g)).sum((-1, -2))
    assert_array_equal(named[..., nonempty], result.indices[..., nonempty])
    assert_array_equal((weights * values).sum((-1, -2))[..., nonempty], result.output[..., nonempty])
    # A window made only of padding: no weight, and -inf (the padding value of max pooling).
    assert_array_equal(sums[..., ~nonempty], 0.0)
    assert (result.output[..., ~nonempty] == -np.inf).all()


def test_max_textbook_example():
    result = pool2d(TEXTBOOK, "max", 2)
    assert_array_equal(result.output, [[6, 8], [3, 4]])
    assert_array_equal(result.indices, [[5, 7], [8, 15]])


def test_max_tie_picks_first_in_row_major_order_and_gets_whole_gradient():
    x = np.array([[1.0, 3.0, 0.0, 0.0],
                  [3.0, 3.0, 0.0, 0.0]])
    result = pool2d(x, "max", 2)
    assert_array_equal(result.output, [[3.0, 0.0]])
    assert_array_equal(result.indices, [[1, 2]])
    assert_array_equal(result.weights[0, 0], [[0, 1], [0, 0]])
    assert_array_equal(result.weights[0, 1], [[1, 0], [0, 0]])
    grad = input_gradient(x, "max", kernel_size=2)
    assert_array_equal(grad, [[0, 1, 1, 0], [0, 0, 0, 0]])


def test_max_nan_propagates():
    x = TEXTBOOK.copy()
    x[0, 1] = np.nan
    out = pool2d(x, "max", 2).output
    assert np.isnan(out[0, 0])
    assert_array_equal(out[0, 1:], [8])
    assert_array_equal(out[1], [3, 4])


def test_max_padding_is_minus_infinity_not_zero():
    x = -np.arange(1.0, 10.0).reshape(3, 3)
    out = pool2d(x, "max", 2, 2, 1).output
    assert_array_equal(out, [[-1, -2], [-4, -5]])


def test_max_weights_never_land_on_padding_aliasing_a_real_cell():
    """In a 1-column input, padding column 1 of row 0 has the flat offset 1 of real cell (1, 0)."""
    x = np.array([[1.0], [5.0]])
    result = pool2d(x, "max", 2, 1, (0, 1))
    assert_array_equal(result.output, [[5.0, 5.0]])
    assert_array_equal(result.indices, [[1, 1]])
    assert_array_equal(result.weights[0, 1], [[0.0, 0.0], [1.0, 0.0]])
    assert_array_equal(result.weights[0, 0], [[0.0, 0.0], [0.0, 1.0]])


# ---------------------------------------------------------------------------------------------
# Average pooling
# ---------------------------------------------------------------------------------------------

def expected_avg_weights(geometry, kw, count_include_pad, divisor_override):
    """Weights by the spec's divisor rule, computed from positions (not from PyTorch)."""
    real = geometry.real_mask()
    if divisor_override is not None:
        divisor = np.full(geometry.out_size, float(divisor_override))
    elif count_include_pad:
        sizes = []
        for axis, length in enumerate(geometry.in_size):
            k, s, p = (kw[name][axis] for name in ("kernel_size", "stride", "padding"))
            start = np.arange(geometry.out_size[axis]) * s - p
            sizes.append(np.minimum(start + k, length + p) - start)
        divisor = (sizes[0][:, None] * sizes[1][None, :]).astype(np.float64)
    else:
        divisor = real.sum((-1, -2)).astype(np.float64)
    return real / divisor[..., None, None]


@examples(60)
@given(sliding_cases(FLOATS_100, dilation=False), st.booleans(), st.one_of(st.none(), st.integers(1, 9)))
def test_avg_matches_torch(case, count_include_pad, divisor_override):
    x, kw = case
    kw = no_dilation(kw)
    params = dict(count_include_pad=count_include_pad, divisor_override=divisor_override)
    result = pool2d(x, "avg", **kw, **params)
    expected = F.avg_pool2d(t(x), **kw, **params).numpy()
    assert_allclose(result.output, expected, **TIGHT)
    assert result.indices is None

    values, real = window_values(x, result.geometry)
    weights = result.weights
    assert weights.shape == (*x.shape[:2], *result.geometry.out_size, *kw["kernel_size"])
    assert_allclose((weights * values).sum((-1, -2)), result.output, **TIGHT)
    assert_allclose(weights, np.broadcast_to(expected_avg_weights(result.geometry, kw, **params), weights.shape),
                    **TIGHT)
    if not count_include_pad and divisor_override is None:
        assert_allclose(weights.sum((-1, -2)), 1.0, **TIGHT)


def test_avg_textbook_example():
    assert_allclose(pool2d(TEXTBOOK, "avg", 2).output, [[3.25, 5.25], [2, 2]], **TIGHT)


def test_avg_ceil_mode_divides_by_clipped_window():
    x = np.arange(49.0).reshape(7, 7)
    result = pool2d(x, "avg", 2, 3, ceil_mode=True)
    assert result.output.shape == (3, 3)
    assert result.output[0, -1] == 9.5  # (6 + 13) / 2, not / 4
    assert_allclose(result.output, F.avg_pool2d(t(x)[None, None], 2, 3, ceil_mode=True)[0, 0].numpy(), **TIGHT)
    assert_allclose(result.weights[0, -1], [[0.5, 0.0], [0.5, 0.0]], **TIGHT)


# ---------------------------------------------------------------------------------------------
# Global and adaptive pooling
# ---------------------------------------------------------------------------------------------

@examples(60)
@given(plain_inputs())
def test_global_ops_match_torch(x):
    avg = pool2d(x, "global_avg")
    assert_allclose(avg.output, F.adaptive_avg_pool2d(t(x), 1).numpy(), **TIGHT)
    assert_allclose(avg.output[..., 0, 0], x.mean((-1, -2)), **TIGHT)
    assert_allclose(avg.weights, np.full((*x.shape[:2], 1, 1, *x.shape[-2:]), 1.0 / x[0, 0].size), **TIGHT)
    top = pool2d(x, "global_max")
    expected, idx = F.adaptive_max_pool2d(t(x), 1, return_indices=True)
    assert_array_equal(top.output, expected.numpy())
    assert_array_equal(top.indices, idx.numpy())
    assert_array_equal(top.indices[..., 0, 0], x.reshape(*x.shape[:2], -1).argmax(-1))
    assert_array_equal(top.weights.sum((-1, -2)), 1.0)


@st.composite
def adaptive_cases(draw):
    x = draw(plain_inputs())
    return x, draw(st.integers(1, max(x.shape[-2:]) + 2))  # more bins than cells repeat cells, as in PyTorch


@examples(60)
@given(adaptive_cases())
def test_adaptive_ops_match_torch(case):
    x, size = case
    avg = pool2d(x, "adaptive_avg", output_size=size)
    assert_allclose(avg.output, F.adaptive_avg_pool2d(t(x), size).numpy(), **TIGHT)
    values, real = window_values(x, avg.geometry)
    assert_allclose((avg.weights * values).sum((-1, -2)), avg.output, **TIGHT)
    assert_allclose(avg.weights.sum((-1, -2)), 1.0, **TIGHT)
    assert not avg.weights[..., ~real].any()

    top = pool2d(x, "adaptive_max", output_size=size)
    expected, idx = F.adaptive_max_pool2d(t(x), size, return_indices=True)
    assert_array_equal(top.output, expected.numpy())
    assert_array_equal(top.indices, idx.numpy())
    assert np.isin(top.weights, (0.0, 1.0)).all()
    assert_array_equal(top.weights.sum((-1, -2)), 1.0)
    assert_array_equal((top.weights * flat_positions(top.geometry)).sum((-1, -2)), top.indices)
    assert_array_equal((top.weights * values).sum((-1, -2)), top.output)


# ---------------------------------------------------------------------------------------------
# Gradients
# ---------------------------------------------------------------------------------------------

@examples(60)
@given(sliding_cases(FLOATS_100), st.integers(0, 2 ** 32 - 1))
def test_max_gradient_matches_torch(case, seed):
    x, kw = case
    up = random_upstream(seed, F.max_pool2d(t(x), **kw).shape)
    expected = torch_grad(lambda v: F.max_pool2d(v, **kw), x, up)
    assert_allclose(input_gradient(x, "max", up, **kw), expected, **TIGHT)
    assert_allclose(scatter_weights(pool2d(x, "max", **kw), up, x.shape), expected, **TIGHT)


@examples(60)
@given(sliding_cases(FLOATS_100, dilation=False), st.booleans(), st.one_of(st.none(), st.integers(1, 9)),
       st.integers(0, 2 ** 32 - 1))
def test_avg_gradient_matches_torch(case, count_include_pad, divisor_override, seed):
    x, kw = case
    kw = no_dilation(kw)
    params = dict(count_include_pad=count_include_pad, divisor_override=divisor_override)
    up = random_upstream(seed, F.avg_pool2d(t(x), **kw).shape)
    expected = torch_grad(lambda v: F.avg_pool2d(v, **kw, **params), x, up)
    assert_allclose(input_gradient(x, "avg", up, **kw, **params), expected, **TIGHT)
    # The gradient is the upstream times the weights, scattered back onto the cells they weigh.
    assert_allclose(scatter_weights(pool2d(x, "avg", **kw, **params), up, x.shape), expected, **TIGHT)


@examples(60)
@given(adaptive_cases(), st.integers(0, 2 ** 32 - 1))
def test_adaptive_and_global_gradients_match_torch(case, seed):
    x, size = case
    for op, fn, n in (("adaptive_avg", F.adaptive_avg_pool2d, size), ("adaptive_max", F.adaptive_max_pool2d, size),
                      ("global_avg", F.adaptive_avg_pool2d, 1), ("global_max", F.adaptive_max_pool2d, 1)):
        params = {"output_size": size} if op.startswith("adaptive") else {}
        up = random_upstream(seed, (*x.shape[:2], n, n))
        expected = torch_grad(lambda v, fn=fn, n=n: fn(v, n), x, up)
        assert_allclose(input_gradient(x, op, up, **params), expected, **TIGHT)
