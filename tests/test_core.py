"""Correctness tests of ``pooling_core`` against PyTorch and independent NumPy references.

Everything runs in float64. The oracles follow ``shared/spec/operators.md``: ``torch.nn.functional``
for max/avg/adaptive/global pooling, a NumPy loop for Lp pooling (PyTorch's ``lp_pool2d`` is wrong
on negative input and with ceil_mode), and torch autograd / ``gradcheck`` for gradients.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from pooling_core import OPERATORS, PoolingError, input_gradient, max_unpool2d, output_size, pool2d
from tests.strategies import arrays_of, every_window_reads_input, sliding_cases, t

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
TIGHT = dict(rtol=1e-12, atol=1e-12)

TEXTBOOK = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]], dtype=np.float64)


# ---------------------------------------------------------------------------------------------
# Strategies and helpers
# ---------------------------------------------------------------------------------------------

FLOATS = st.floats(-100, 100, allow_nan=False, allow_infinity=False)


@st.composite
def plain_inputs(draw, min_side=1):
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)),
             draw(st.integers(min_side, 12)), draw(st.integers(min_side, 12)))
    return draw(arrays_of(shape, FLOATS))


def no_dilation(kwargs):
    return {k: v for k, v in kwargs.items() if k != "dilation"}


def window_values(x, geometry):
    """(..., Ho, Wo, kh, kw) window values of ``x`` (0 off the input) and the realness mask, by NumPy."""
    height, width = geometry.in_size
    real = geometry.real_mask()
    rows = np.clip(geometry.rows, 0, height - 1)
    cols = np.clip(geometry.cols, 0, width - 1)
    values = x[..., rows[:, None, :, None], cols[None, :, None, :]]
    return np.where(real, values, 0.0), real


def flat_positions(geometry):
    """(Ho, Wo, kh, kw) flat offsets ``row * W + col`` of every window position."""
    width = geometry.in_size[1]
    return geometry.rows[:, None, :, None] * width + geometry.cols[None, :, None, :]


def torch_grad(fn, x, upstream):
    xt = t(x).clone().requires_grad_(True)
    out = fn(xt)
    (grad,) = torch.autograd.grad(out, xt, t(upstream).reshape(out.shape))
    return grad.numpy()


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


def random_upstream(seed, shape):
    return np.random.default_rng(seed).uniform(-1, 1, shape)


# ---------------------------------------------------------------------------------------------
# Geometry and output size
# ---------------------------------------------------------------------------------------------

@SETTINGS
@given(sliding_cases(FLOATS))
def test_sliding_geometry_positions(case):
    x, kw = case
    g = pool2d(x, "max", **kw).geometry
    for axis, (index, present, length) in enumerate(((g.rows, g.row_present, x.shape[-2]),
                                                     (g.cols, g.col_present, x.shape[-1]))):
        k, s, p, d = (kw[name][axis] for name in ("kernel_size", "stride", "padding", "dilation"))
        out = output_size(length, k, s, p, d, kw["ceil_mode"])
        expected = np.arange(out)[:, None] * s - p + np.arange(k)[None, :] * d
        assert_array_equal(index, expected)
        assert_array_equal(present, expected < length + p)  # ceil-mode overhang is absent, not padding
    real = g.real_mask()
    assert real.shape == (*g.out_size, *kw["kernel_size"])
    assert not (real & ~g.present_mask()).any()


def test_output_size_exhaustive_against_torch():
    """Every small configuration: the formula equals the shape of ``F.max_pool2d``, or both refuse."""
    checked = 0
    for length in range(1, 13):
        x = torch.zeros(1, 1, length, 1, dtype=torch.float64)
        for k in range(1, 6):
            for s in range(1, 5):
                for p in range(0, k // 2 + 1):
                    for d in range(1, 4):
                        for ceil_mode in (False, True):
                            ours = output_size(length, k, s, p, d, ceil_mode)
                            args = dict(kernel_size=(k, 1), stride=(s, 1), padding=(p, 0), dilation=(d, 1),
                                        ceil_mode=ceil_mode)
                            if ours >= 1 and not every_window_reads_input(length, k, s, p, d, ceil_mode):
                                assert F.max_pool2d(x, **args).shape[-2] == ours
                                with pytest.raises(PoolingError, match="reads only padding"):
                                    pool2d(x.numpy(), "max", **args)
                            elif ours >= 1:
                                assert F.max_pool2d(x, **args).shape[-2] == ours, (length, k, s, p, d, ceil_mode)
                                assert pool2d(x.numpy(), "max", **args).output.shape[-2] == ours
                                checked += 1
                            else:
                                with pytest.raises(RuntimeError):
                                    F.max_pool2d(x, **args)
                                with pytest.raises(PoolingError, match="larger than the padded input"):
                                    pool2d(x.numpy(), "max", **args)
    assert checked > 2000


@SETTINGS
@given(sliding_cases(FLOATS))
def test_output_size_matches_torch_shape(case):
    x, kw = case
    expected = F.max_pool2d(t(x), **kw).shape[-2:]
    ours = tuple(output_size(n, k, s, p, d, kw["ceil_mode"]) for n, k, s, p, d in
                 zip(x.shape[-2:], kw["kernel_size"], kw["stride"], kw["padding"], kw["dilation"]))
    assert ours == tuple(expected)
    assert pool2d(x, "max", **kw).output.shape == (*x.shape[:2], *ours)
    assert pool2d(x, "lp", **kw).output.shape == (*x.shape[:2], *ours)
    if kw["dilation"] == (1, 1):
        assert pool2d(x, "avg", **no_dilation(kw)).output.shape == (*x.shape[:2], *ours)


@pytest.mark.parametrize("length, k, s, p", [(5, 2, 2, 1), (3, 2, 2, 1), (4, 2, 3, 1), (4, 4, 3, 2)])
def test_output_size_ceil_correction(length, k, s, p):
    """Ceil mode must drop a last window that would start in the right padding."""
    naive = (length + 2 * p - (k - 1) - 1 + s - 1) // s + 1
    assert (naive - 1) * s >= length + p  # the uncorrected formula has a window starting in the padding
    expected = naive - 1
    assert output_size(length, k, s, p, ceil_mode=True) == expected
    x = torch.zeros(1, 1, length, length, dtype=torch.float64)
    assert F.max_pool2d(x, k, s, p, ceil_mode=True).shape[-2:] == (expected, expected)
    assert pool2d(x.numpy(), "max", k, s, p, ceil_mode=True).output.shape[-2:] == (expected, expected)
    assert pool2d(x.numpy(), "avg", k, s, p, ceil_mode=True).output.shape[-2:] == (expected, expected)


def test_output_size_defaults():
    assert output_size(7, 2) == 3  # stride defaults to the kernel
    assert output_size(7, 2, ceil_mode=True) == 4
    assert output_size(55, 3, 2) == 27 and output_size(27, 3, 2) == 13 and output_size(13, 3, 2) == 6


# ---------------------------------------------------------------------------------------------
# Max pooling
# ---------------------------------------------------------------------------------------------

@SETTINGS
@given(sliding_cases(FLOATS))
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


@pytest.mark.parametrize("dilation", [1, 2])  # avg_pool2d's window sums, and gathered windows
@pytest.mark.parametrize("p", [2.0, 1.5])
def test_lp_nan_propagates(p, dilation):
    x = np.ones((4, 4))
    x[0, 0] = np.nan
    out = pool2d(x, "lp", 2, stride=2, dilation=dilation, p=p).output
    assert np.isnan(out[0, 0])
    assert np.isfinite(out.ravel()[1:]).all()


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


def test_window_of_only_padding_is_refused():
    """Row 0 is read at columns -1 and 1 of a 1-column input: the window is all padding.

    PyTorch returns -inf with an index outside the window (here cell (1, 0)) and routes the
    gradient there, or past the end of the plane; PoolScope refuses such settings instead.
    """
    x = np.array([[5.0], [7.0]])
    kw = dict(kernel_size=(1, 2), stride=(2, 1), padding=(0, 1), dilation=(1, 2))
    for op in ("max", "lp"):
        with pytest.raises(PoolingError, match="reads only padding"):
            pool2d(x, op, **kw)
    with pytest.raises(PoolingError, match="reads only padding"):
        input_gradient(x, "max", **kw)


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


@SETTINGS
@given(sliding_cases(FLOATS, dilation=False), st.booleans(), st.one_of(st.none(), st.integers(1, 9)))
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
# Lp pooling
# ---------------------------------------------------------------------------------------------

def lp_reference(x, kernel_size, stride, padding, dilation, ceil_mode, p, mean):
    """Explicit loops: real cells only; padding adds 0 (and is not counted by the mean); overhang skipped."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel_size, stride, padding, dilation
    height, width = x.shape[-2:]
    out_h = output_size(height, kh, sh, ph, dh, ceil_mode)
    out_w = output_size(width, kw, sw, pw, dw, ceil_mode)
    out = np.zeros((*x.shape[:-2], out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            cells = []
            for a in range(kh):
                r = i * sh - ph + a * dh
                if r >= height + ph:  # ceil-mode overhang: not part of the window
                    continue
                for b in range(kw):
                    c = j * sw - pw + b * dw
                    if c >= width + pw:
                        continue
                    if 0 <= r < height and 0 <= c < width:
                        cells.append(np.abs(x[..., r, c]))
            if not cells:  # only padding: nothing to add
                continue
            cells = np.stack(cells, axis=-1)
            if math.isinf(p):
                out[..., i, j] = cells.max(-1)
            else:
                powers = (cells ** p).mean(-1) if mean else (cells ** p).sum(-1)
                out[..., i, j] = powers ** (1.0 / p)
    return out


LP_POWERS = [1.0, 1.5, 2.0, 3.0, 7.0]


@SETTINGS
@given(sliding_cases(FLOATS, padding=False, dilation=False, ceil=False), st.sampled_from(LP_POWERS))
def test_lp_matches_torch_on_magnitudes(case, p):
    x, kw = case
    out = pool2d(x, "lp", kw["kernel_size"], kw["stride"], p=p).output
    expected = F.lp_pool2d(t(np.abs(x)), p, kw["kernel_size"], kw["stride"]).numpy()
    # atol: values below ~1e-45 underflow in PyTorch's unscaled x**7.
    assert_allclose(out, expected, rtol=1e-10, atol=1e-12)


@SETTINGS
@given(sliding_cases(FLOATS), st.sampled_from([*LP_POWERS, math.inf]), st.booleans())
def test_lp_matches_loop_reference(case, p, mean):
    x, kw = case
    out = pool2d(x, "lp", **kw, p=p, mean=mean).output
    assert_allclose(out, lp_reference(x, **kw, p=p, mean=mean), rtol=1e-10, atol=1e-12)


@SETTINGS
@given(sliding_cases(FLOATS, dilation=False))
def test_lp_infinity_is_max_of_magnitudes(case):
    x, kw = case
    out = pool2d(x, "lp", **kw, p=math.inf).output
    assert_array_equal(out, F.max_pool2d(t(np.abs(x)), **kw).numpy())


def test_lp_mean_textbook():
    out = pool2d(TEXTBOOK, "lp", 2, p=2.0, mean=True).output
    assert_allclose(out, [[np.sqrt((1 + 1 + 25 + 36) / 4), np.sqrt((4 + 16 + 49 + 64) / 4)],
                          [np.sqrt((9 + 4 + 1 + 4) / 4), np.sqrt((1 + 0 + 9 + 16) / 4)]], **TIGHT)
    assert_allclose(pool2d(TEXTBOOK, "lp", 2, p=1.0).output, pool2d(TEXTBOOK, "avg", 2).output * 4, **TIGHT)


def test_lp_fixes_pytorch_sign_bug():
    x = np.array([[-1.0, -2.0], [-3.0, 1.0]])
    assert F.lp_pool2d(t(x)[None, None], 1, 2).item() == -5.0
    assert math.isnan(F.lp_pool2d(t(x)[None, None], 1.5, 2).item())
    assert_allclose(pool2d(x, "lp", 2, p=1.0).output, [[7.0]], **TIGHT)
    assert_allclose(pool2d(x, "lp", 2, p=1.5).output, [[(1 + 2 ** 1.5 + 3 ** 1.5 + 1) ** (1 / 1.5)]], **TIGHT)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_lp_large_power_does_not_overflow(dtype):
    rng = np.random.default_rng(0)
    x = rng.uniform(-1e4, 1e4, (2, 3, 8, 8))
    kw = dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)
    result = pool2d(x, "lp", **kw, p=64.0, dtype=dtype)
    assert np.isfinite(result.output).all()
    peak = F.max_pool2d(t(np.abs(x)), **kw).numpy()
    assert (result.output >= peak * (1 - 1e-6)).all()
    assert (result.output <= peak * 9 ** (1 / 64) * (1 + 1e-6)).all()
    reference = lp_reference(x, (3, 3), (2, 2), (1, 1), (1, 1), True, 64.0, False)  # 1e4**64 fits float64
    assert_allclose(result.output, reference, rtol=1e-10 if dtype == np.float64 else 1e-5)
    grad = input_gradient(x, "lp", **kw, p=64.0, dtype=dtype)
    assert np.isfinite(grad).all()


@pytest.mark.parametrize("p", [1.0, 1.5, 2.0, 3.0, math.inf])
@pytest.mark.parametrize("mean", [False, True])
def test_lp_all_zero_window_gives_zero_and_zero_gradient(p, mean):
    x = np.zeros((4, 4))
    x[2:, 2:] = [[1.0, -2.0], [3.0, 0.5]]
    out = pool2d(x, "lp", 2, p=p, mean=mean).output
    assert_array_equal(out[0], [0.0, 0.0])
    assert out[1, 0] == 0.0 and out[1, 1] > 0
    grad = input_gradient(x, "lp", kernel_size=2, p=p, mean=mean)
    assert np.isfinite(grad).all()
    assert_array_equal(grad[:2], 0.0)
    assert_array_equal(grad[2:, :2], 0.0)
    if math.isinf(p):
        assert_array_equal(grad[2:, 2:], [[0.0, 0.0], [1.0, 0.0]])  # all to the largest |a|
    else:
        assert (grad[2:, 2:] != 0).all()


# ---------------------------------------------------------------------------------------------
# Global and adaptive pooling
# ---------------------------------------------------------------------------------------------

@SETTINGS
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


@SETTINGS
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


def test_adaptive_window_rule():
    for height in range(1, 21):
        for width in (1, 7, height):
            for out in range(1, min(height, width) + 1):
                g = pool2d(np.zeros((height, width)), "adaptive_avg", output_size=out).geometry
                assert g.out_size == (out, out)
                for index, present, n in ((g.rows, g.row_present, height), (g.cols, g.col_present, width)):
                    for i in range(out):
                        start, stop = i * n // out, -(-(i + 1) * n // out)
                        assert index[i][present[i]].tolist() == list(range(start, stop)), (n, out, i)
                assert g.real_mask().any((-1, -2)).all()


# ---------------------------------------------------------------------------------------------
# Leading dimensions
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("op, params, window", [
    ("max", {}, (3, 2)), ("avg", {}, (3, 2)), ("lp", {"p": 3.0}, (3, 2)),
    ("global_avg", {}, (5, 7)), ("global_max", {}, (5, 7)),
    ("adaptive_avg", {"output_size": 3}, None), ("adaptive_max", {"output_size": 3}, None),
])
def test_leading_dims_are_kept(op, params, window):
    x4 = np.random.default_rng(1).normal(size=(2, 3, 5, 7))
    kw = dict(kernel_size=(3, 2), stride=(2, 2), padding=(1, 0), ceil_mode=True)
    full = pool2d(x4, op, **kw, **params)
    ho, wo = full.output.shape[-2:]
    for x, lead, part in ((x4, (2, 3), ()), (x4[1], (3,), (1,)), (x4[1, 2], (), (1, 2))):
        result = pool2d(x, op, **kw, **params)
        assert result.output.shape == (*lead, ho, wo)
        assert_allclose(result.output, full.output[part], **TIGHT)
        if OPERATORS[op].has_weights:
            kh, kw_ = result.geometry.window_shape
            if window is not None:
                assert (kh, kw_) == window
            assert result.weights.shape == (*lead, ho, wo, kh, kw_)
        else:
            assert result.weights is None
        if OPERATORS[op].has_indices:
            assert result.indices.shape == (*lead, ho, wo)
        else:
            assert result.indices is None
        grad = input_gradient(x, op, **kw, **params)
        assert grad.shape == x.shape


# ---------------------------------------------------------------------------------------------
# Gradients
# ---------------------------------------------------------------------------------------------

@SETTINGS
@given(sliding_cases(FLOATS), st.integers(0, 2 ** 32 - 1))
def test_max_gradient_matches_torch(case, seed):
    x, kw = case
    up = random_upstream(seed, F.max_pool2d(t(x), **kw).shape)
    expected = torch_grad(lambda v: F.max_pool2d(v, **kw), x, up)
    assert_allclose(input_gradient(x, "max", up, **kw), expected, **TIGHT)
    assert_allclose(scatter_weights(pool2d(x, "max", **kw), up, x.shape), expected, **TIGHT)


@SETTINGS
@given(sliding_cases(FLOATS, dilation=False), st.booleans(), st.one_of(st.none(), st.integers(1, 9)),
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


@SETTINGS
@given(adaptive_cases(), st.integers(0, 2 ** 32 - 1))
def test_adaptive_and_global_gradients_match_torch(case, seed):
    x, size = case
    for op, fn, n in (("adaptive_avg", F.adaptive_avg_pool2d, size), ("adaptive_max", F.adaptive_max_pool2d, size),
                      ("global_avg", F.adaptive_avg_pool2d, 1), ("global_max", F.adaptive_max_pool2d, 1)):
        params = {"output_size": size} if op.startswith("adaptive") else {}
        up = random_upstream(seed, (*x.shape[:2], n, n))
        expected = torch_grad(lambda v, fn=fn, n=n: fn(v, n), x, up)
        assert_allclose(input_gradient(x, op, up, **params), expected, **TIGHT)


@SETTINGS
@given(sliding_cases(FLOATS, padding=False, dilation=False, ceil=False, elements=st.floats(0.5, 2.0)),
       st.sampled_from([1.0, 1.5, 2.0, 3.0]), st.integers(0, 2 ** 32 - 1))
def test_lp_gradient_matches_torch(case, p, seed):
    x, kw = case
    k, s = kw["kernel_size"], kw["stride"]
    up = random_upstream(seed, F.lp_pool2d(t(x), p, k, s).shape)
    expected = torch_grad(lambda v: F.lp_pool2d(v, p, k, s), x, up)
    assert_allclose(input_gradient(x, "lp", up, k, s, p=p), expected, rtol=1e-9, atol=1e-12)


def test_lp_gradient_is_odd_in_the_input():
    """Lp works on |x|: flipping the sign of x flips the sign of the gradient, the output is unchanged."""
    x = np.random.default_rng(2).normal(size=(2, 5, 6))
    kw = dict(kernel_size=3, stride=2, padding=1, dilation=2, ceil_mode=True)
    assert_allclose(pool2d(-x, "lp", **kw, p=2.5).output, pool2d(x, "lp", **kw, p=2.5).output, **TIGHT)
    assert_allclose(input_gradient(-x, "lp", **kw, p=2.5), -input_gradient(x, "lp", **kw, p=2.5), **TIGHT)


GRADCHECK_CASES = [
    ("max", {}, dict(kernel_size=2)),
    ("max", {}, dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("max", {}, dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 1), dilation=(2, 1), ceil_mode=True)),
    ("avg", {}, dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("avg", {"count_include_pad": False}, dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 1), ceil_mode=True)),
    ("avg", {"divisor_override": 5}, dict(kernel_size=2, stride=1, padding=1)),
    ("lp", {"p": 1.0}, dict(kernel_size=2)),
    ("lp", {"p": 2.5}, dict(kernel_size=3, stride=2, padding=1, dilation=2, ceil_mode=True)),
    ("lp", {"p": 4.0, "mean": True}, dict(kernel_size=(3, 2), stride=(2, 3), padding=(1, 1), ceil_mode=True)),
    ("lp", {"p": math.inf}, dict(kernel_size=3, stride=2, padding=1)),
    ("global_avg", {}, {}),
    ("global_max", {}, {}),
    ("adaptive_avg", {"output_size": 3}, {}),
    ("adaptive_max", {"output_size": 4}, {}),
]


@pytest.mark.parametrize("op, params, kw", GRADCHECK_CASES)
def test_gradcheck_operator_forward(op, params, kw):
    rng = np.random.default_rng(3)
    shape = (2, 2, 6, 7)
    # Distinct values at least 0.01 apart, with |x| >= 0.1: no ties and no kink of |x| within eps.
    magnitudes = 0.1 + 0.01 * rng.permutation(int(np.prod(shape))).reshape(shape)
    x = magnitudes * rng.choice([-1.0, 1.0], size=shape)
    operator = OPERATORS[op]
    geometry = pool2d(x, op, **kw, **params).geometry
    resolved = operator.resolve(params)
    xt = t(x).clone().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda v: operator.forward(v, geometry, **resolved), (xt,), eps=1e-6, atol=1e-6)


# ---------------------------------------------------------------------------------------------
# Max unpooling
# ---------------------------------------------------------------------------------------------

UNPOOL_CASES = [
    ((1, 1, 4, 4), 2, None, 0),
    ((1, 1, 5, 7), 2, 2, 0),
    ((2, 3, 5, 7), 3, 2, 0),  # overlapping windows: several outputs share one index
    ((2, 3, 7, 7), 3, 2, 1),
    ((3, 5, 7), (3, 2), (2, 1), (1, 0)),
    ((5, 7), 2, 1, 1),
]


@pytest.mark.parametrize("shape, k, s, p", UNPOOL_CASES)
def test_max_unpool_matches_torch(shape, k, s, p):
    x = np.random.default_rng(4).integers(-3, 4, size=shape).astype(np.float64)  # ties included
    pooled = pool2d(x, "max", k, s, p)
    batch = t(x).reshape(-1, *shape[-3:]) if len(shape) > 2 else t(x)[None, None]
    y, idx = F.max_pool2d(batch, k, s, p, return_indices=True)
    expected = F.max_unpool2d(y, idx, k, s, p, output_size=batch.shape).numpy().reshape(shape)
    assert_array_equal(max_unpool2d(pooled.output, pooled.indices, k, s, p, output_size=x.shape), expected)


@pytest.mark.parametrize("shape, k, s, p", UNPOOL_CASES)
def test_max_pool_of_unpool_is_max_pool(shape, k, s, p):
    # Non-negative input: unpooling fills non-maxima with 0, which a negative maximum would lose to.
    x = np.random.default_rng(5).uniform(0, 10, size=shape)
    pooled = pool2d(x, "max", k, s, p)
    restored = max_unpool2d(pooled.output, pooled.indices, k, s, p, output_size=x.shape)
    assert restored.shape == x.shape
    assert_array_equal(pool2d(restored, "max", k, s, p).output, pooled.output)
    kept = restored != 0
    assert_array_equal(restored[kept], x[kept])


@pytest.mark.parametrize("shape, k, s, p", [
    ((2, 6, 8), 2, None, 0), ((1, 5, 5), 3, 2, 1), ((3, 7, 9), (3, 4), (2, 3), (1, 2)),
])
def test_max_unpool_default_size(shape, k, s, p):
    """Without output_size the size is (Ho - 1) * s - 2p + k, as in PyTorch."""
    x = np.random.default_rng(6).normal(size=shape)
    pooled = pool2d(x, "max", k, s, p)
    restored = max_unpool2d(pooled.output, pooled.indices, k, s, p)
    expected = F.max_unpool2d(*F.max_pool2d(t(x), k, s, p, return_indices=True), k, s, p).numpy()
    assert restored.shape == expected.shape
    assert_array_equal(restored, expected)


def test_max_unpool_odd_input_without_output_size_is_refused():
    x = np.random.default_rng(7).normal(size=(1, 1, 5, 7))
    y, idx = F.max_pool2d(t(x), 2, return_indices=True)
    with pytest.raises(RuntimeError, match="Found an invalid max index"):
        F.max_unpool2d(y, idx, 2)
    pooled = pool2d(x, "max", 2)
    with pytest.raises(PoolingError, match="output_size"):
        max_unpool2d(pooled.output, pooled.indices, 2)


def test_max_unpool_shape_mismatch_is_refused():
    with pytest.raises(PoolingError, match="must have one shape"):
        max_unpool2d(np.zeros((2, 2)), np.zeros((2, 3), dtype=np.int64), 2)


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------

X44 = np.zeros((4, 4))


@pytest.mark.parametrize("call, match", [
    (lambda: pool2d(np.zeros((3, 3)), "max", 5), "larger than the padded input"),
    (lambda: pool2d(np.zeros((3, 3)), "max", 3, 1, 0, 2), "larger than the padded input"),
    (lambda: pool2d(X44, "max", 2, 0), "stride must be at least 1"),
    (lambda: pool2d(X44, "max", 0), "kernel size must be at least 1"),
    (lambda: pool2d(X44, "max", 2, 2, 2), "more than half the kernel"),
    (lambda: pool2d(X44, "avg", 3, 1, 2), "more than half the kernel"),
    (lambda: pool2d(X44, "max", 2, 2, 0, 0), "dilation must be at least 1"),
    (lambda: pool2d(X44, "max", 2, 2, -1), "padding cannot be negative"),
    (lambda: pool2d(X44, "max", 2.5), "whole number"),
    (lambda: pool2d(X44, "nope"), "unknown operator"),
    (lambda: pool2d(X44, "max", foo=1), "has no parameter 'foo'"),
    (lambda: pool2d(X44, "avg", count_include_pad="yes"), "True or False"),
    (lambda: pool2d(X44, "avg", divisor_override=0), "divisor_override must be at least 1"),
    (lambda: pool2d(X44, "lp", p=0.5), "p must be at least 1"),
    (lambda: pool2d(X44, "lp", p=-math.inf), "p must be at least 1"),
    (lambda: pool2d(X44, "lp", p=float("nan")), "must be a number"),
    (lambda: pool2d(X44, "avg", 2, dilation=2), "has no dilation"),
    (lambda: pool2d(X44, "adaptive_max", output_size=0), "output_size must be at least 1"),
    (lambda: pool2d(X44, "adaptive_max", output_size=(2, 0)), "output_size must be at least 1"),
    (lambda: pool2d(X44, "adaptive_avg", output_size=(2, 2, 2)), r"an \(h, w\) pair"),
    (lambda: pool2d(X44, "adaptive_avg", output_size=0), "output_size must be at least 1"),
    (lambda: pool2d(np.zeros(4), "max"), "2, 3 or 4 dimensions"),
    (lambda: pool2d(np.zeros((1, 1, 1, 4, 4)), "max"), "2, 3 or 4 dimensions"),
    (lambda: pool2d(np.zeros((0, 4)), "max"), "empty"),
    (lambda: pool2d(np.zeros((2, 0, 4, 4)), "avg"), "empty"),
    (lambda: input_gradient(X44, "max", np.ones((3, 3))), "upstream gradient has shape"),
    (lambda: input_gradient(X44, "max", kernel_size=2, stride=0), "stride must be at least 1"),
])
def test_errors(call, match):
    with pytest.raises(PoolingError, match=match):
        call()


def test_pooling_error_is_a_value_error():
    assert issubclass(PoolingError, ValueError)


# ---------------------------------------------------------------------------------------------
# Laziness
# ---------------------------------------------------------------------------------------------

def test_weights_and_indices_are_computed_on_first_access(monkeypatch):
    calls = []
    operator = OPERATORS["max"]

    def counting_explain(*args, **kwargs):
        calls.append(1)
        return operator.explain(*args, **kwargs)

    monkeypatch.setitem(OPERATORS, "max", dataclasses.replace(operator, explain=counting_explain))
    result = pool2d(TEXTBOOK, "max", 2)
    assert "weights" not in result.__dict__ and "indices" not in result.__dict__
    assert calls == []
    weights = result.weights
    assert "weights" in result.__dict__
    assert calls == [1]
    assert result.weights is weights
    assert_array_equal(result.indices, [[5, 7], [8, 15]])
    assert calls == [1]  # indices come from the same explanation
