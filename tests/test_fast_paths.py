"""Lp and SoftPool take their window sums from avg_pool2d when that is exact, and fall back to
per-window scaling when a term would underflow: both give the exact answer."""

import numpy as np
import pytest

from pooling_core import input_gradient, pool2d


def lp_reference(window, p):
    magnitudes = np.abs(np.asarray(window, dtype=np.float64))
    peak = magnitudes.max()
    return peak * np.sum((magnitudes / peak) ** p) ** (1 / p)


def softpool_reference(window, temperature=1.0):
    values = np.asarray(window, dtype=np.float64)
    weights = np.exp((values - values.max()) / temperature)
    return float(np.sum(weights * values) / weights.sum())


def test_lp_with_a_window_far_below_the_map_maximum_is_exact():
    x = np.array([[1e4, 2e4], [1e-3, 2e-3]])  # (2e-3 / 2e4)^64 underflows with the map's maximum
    out = pool2d(x, "lp", kernel_size=(1, 2), p=64.0).output
    assert out[1, 0] == pytest.approx(lp_reference([1e-3, 2e-3], 64), rel=1e-12)
    assert out[0, 0] == pytest.approx(lp_reference([1e4, 2e4], 64), rel=1e-12)
    assert np.isfinite(input_gradient(x, "lp", kernel_size=(1, 2), p=64.0)).all()


def test_lp_fast_path_matches_the_reference_on_every_window():
    x = np.random.default_rng(1).normal(size=(9, 8))
    result = pool2d(x, "lp", kernel_size=3, stride=2, padding=1, ceil_mode=True, p=3.0)
    for i in range(result.output.shape[0]):
        for j in range(result.output.shape[1]):
            rows = range(max(2 * i - 1, 0), min(2 * i + 2, 9))
            cols = range(max(2 * j - 1, 0), min(2 * j + 2, 8))
            window = x[np.ix_(list(rows), list(cols))]
            assert result.output[i, j] == pytest.approx(lp_reference(window, 3.0), rel=1e-12)


def test_softpool_with_exponentials_that_underflow_is_exact():
    x = np.array([[1000.0, 999.0], [-1000.0, -1001.0]])  # exp(-2000) underflows with the map's maximum
    out = pool2d(x, "softpool", kernel_size=(1, 2)).output
    assert out[0, 0] == pytest.approx(softpool_reference([1000, 999]), rel=1e-12)
    assert out[1, 0] == pytest.approx(softpool_reference([-1000, -1001]), rel=1e-12)
    assert np.isfinite(input_gradient(x, "softpool", kernel_size=(1, 2))).all()


def test_softpool_fast_path_equals_its_weights():
    x = np.random.default_rng(2).normal(size=(1, 2, 7, 7)) * 3
    result = pool2d(x, "softpool", kernel_size=3, stride=2, padding=1, ceil_mode=True, temperature=0.7)
    geometry = result.geometry
    rows = geometry.rows.clip(0, 6)[:, None, :, None]
    values = np.where(geometry.real_mask(), x[..., rows, geometry.cols.clip(0, 6)[None, :, None, :]], 0.0)
    np.testing.assert_allclose(result.output, (result.weights * values).sum((-1, -2)), rtol=1e-12)


def test_lp_whose_powers_overflow_is_exact():
    x = np.array([[1e10, 2e10, 1.0, 2.0]])  # (2e10)^64 overflows float64
    out = pool2d(x, "lp", kernel_size=(1, 2), p=64.0).output
    assert out[0, 0] == pytest.approx(lp_reference([1e10, 2e10], 64), rel=1e-12)
    assert out[0, 1] == pytest.approx(lp_reference([1.0, 2.0], 64), rel=1e-12)
    assert np.isfinite(input_gradient(x, "lp", kernel_size=(1, 2), p=64.0)).all()


def test_lp_odd_power_of_negative_values_uses_magnitudes():
    out = pool2d(np.array([[-1.0, -2.0], [-3.0, 1.0]]), "lp", p=3.0).output
    assert out[0, 0] == pytest.approx((1 + 8 + 27 + 1) ** (1 / 3), rel=1e-12)
