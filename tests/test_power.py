"""Lp pooling against a NumPy loop (PyTorch's ``lp_pool2d`` is wrong on negative input and with
ceil_mode), against ``F.lp_pool2d`` on magnitudes, and on its avg_pool2d fast path."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from pooling_core import input_gradient, output_size, pool2d
from tests.strategies import FLOATS_100, TEXTBOOK, TIGHT, examples, random_upstream, sliding_cases, t, torch_grad


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


@examples(60)
@given(sliding_cases(FLOATS_100, padding=False, dilation=False, ceil=False), st.sampled_from(LP_POWERS))
def test_lp_matches_torch_on_magnitudes(case, p):
    x, kw = case
    out = pool2d(x, "lp", kw["kernel_size"], kw["stride"], p=p).output
    expected = F.lp_pool2d(t(np.abs(x)), p, kw["kernel_size"], kw["stride"]).numpy()
    # atol: values below ~1e-45 underflow in PyTorch's unscaled x**7.
    assert_allclose(out, expected, rtol=1e-10, atol=1e-12)


@examples(60)
@given(sliding_cases(FLOATS_100), st.sampled_from([*LP_POWERS, math.inf]), st.booleans())
def test_lp_matches_loop_reference(case, p, mean):
    x, kw = case
    out = pool2d(x, "lp", **kw, p=p, mean=mean).output
    assert_allclose(out, lp_reference(x, **kw, p=p, mean=mean), rtol=1e-10, atol=1e-12)


@examples(60)
@given(sliding_cases(FLOATS_100, dilation=False))
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


@pytest.mark.parametrize("dilation", [1, 2])  # avg_pool2d's window sums, and gathered windows
@pytest.mark.parametrize("p", [2.0, 1.5])
def test_lp_nan_propagates(p, dilation):
    x = np.ones((4, 4))
    x[0, 0] = np.nan
    out = pool2d(x, "lp", 2, stride=2, dilation=dilation, p=p).output
    assert np.isnan(out[0, 0])
    assert np.isfinite(out.ravel()[1:]).all()


@examples(60)
@given(sliding_cases(FLOATS_100, padding=False, dilation=False, ceil=False, elements=st.floats(0.5, 2.0)),
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


# ---------------------------------------------------------------------------------------------
# The avg_pool2d fast path: window sums from avg_pool2d where exact, per-window scaling where a
# power would overflow or underflow
# ---------------------------------------------------------------------------------------------

def lp_of_window(window, p):
    """The Lp norm of one window, scaled by its largest magnitude so no power overflows or underflows."""
    magnitudes = np.abs(np.asarray(window, dtype=np.float64))
    peak = magnitudes.max()
    return peak * np.sum((magnitudes / peak) ** p) ** (1 / p)


def test_lp_with_a_window_far_below_the_map_maximum_is_exact():
    x = np.array([[1e4, 2e4], [1e-3, 2e-3]])  # (2e-3 / 2e4)^64 underflows with the map's maximum
    out = pool2d(x, "lp", kernel_size=(1, 2), p=64.0).output
    assert out[1, 0] == pytest.approx(lp_of_window([1e-3, 2e-3], 64), rel=1e-12)
    assert out[0, 0] == pytest.approx(lp_of_window([1e4, 2e4], 64), rel=1e-12)
    assert np.isfinite(input_gradient(x, "lp", kernel_size=(1, 2), p=64.0)).all()


def test_lp_fast_path_matches_the_reference_on_every_window():
    x = np.random.default_rng(1).normal(size=(9, 8))
    result = pool2d(x, "lp", kernel_size=3, stride=2, padding=1, ceil_mode=True, p=3.0)
    for i in range(result.output.shape[0]):
        for j in range(result.output.shape[1]):
            rows = range(max(2 * i - 1, 0), min(2 * i + 2, 9))
            cols = range(max(2 * j - 1, 0), min(2 * j + 2, 8))
            window = x[np.ix_(list(rows), list(cols))]
            assert result.output[i, j] == pytest.approx(lp_of_window(window, 3.0), rel=1e-12)


def test_lp_whose_powers_overflow_is_exact():
    x = np.array([[1e10, 2e10, 1.0, 2.0]])  # (2e10)^64 overflows float64
    out = pool2d(x, "lp", kernel_size=(1, 2), p=64.0).output
    assert out[0, 0] == pytest.approx(lp_of_window([1e10, 2e10], 64), rel=1e-12)
    assert out[0, 1] == pytest.approx(lp_of_window([1.0, 2.0], 64), rel=1e-12)
    assert np.isfinite(input_gradient(x, "lp", kernel_size=(1, 2), p=64.0)).all()


def test_lp_odd_power_of_negative_values_uses_magnitudes():
    out = pool2d(np.array([[-1.0, -2.0], [-3.0, 1.0]]), "lp", p=3.0).output
    assert out[0, 0] == pytest.approx((1 + 8 + 27 + 1) ** (1 / 3), rel=1e-12)
