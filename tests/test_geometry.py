"""Window positions, output sizes and refused geometries, against PyTorch's shapes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from numpy.testing import assert_array_equal

from pooling_core import PoolingError, input_gradient, output_size, pool2d
from pooling_core.explain import scatter_to_input
from tests.strategies import FLOATS_100, every_window_reads_input, examples, no_dilation, sliding_cases, t


@examples(60)
@given(sliding_cases(FLOATS_100))
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
    rows_real = g.row_present & (g.rows >= 0) & (g.rows < x.shape[-2])
    cols_real = g.col_present & (g.cols >= 0) & (g.cols < x.shape[-1])
    assert_array_equal(real, rows_real[:, None, :, None] & cols_real[None, :, None, :])
    assert not (real & ~g.present_mask()).any()
    for i, j in {(0, 0), (g.out_size[0] - 1, g.out_size[1] - 1), (g.out_size[0] // 2, 0)}:
        rows, cols, window_real, window_present = g.window(i, j)
        assert_array_equal(rows, g.rows[i])
        assert_array_equal(cols, g.cols[j])
        assert_array_equal(window_real, real[i, j])
        assert_array_equal(window_present, g.present_mask()[i, j])


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


@examples(60)
@given(sliding_cases(FLOATS_100))
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


@examples(40)
@given(sliding_cases(FLOATS_100))
def test_scatter_to_input_adds_each_real_window_cell_onto_the_cell_it_reads(case):
    x, kw = case
    g = pool2d(x, "max", **kw).geometry
    values = np.random.default_rng(0).normal(size=(*g.out_size, *g.window_shape))
    expected = np.zeros(g.in_size)
    for i, j, a, b in np.ndindex(values.shape):  # the oracle: one window cell at a time
        row, col = g.rows[i, a], g.cols[j, b]
        if g.row_present[i, a] and g.col_present[j, b] and 0 <= row < g.in_size[0] and 0 <= col < g.in_size[1]:
            expected[row, col] += values[i, j, a, b]
    np.testing.assert_allclose(scatter_to_input(g, values), expected, rtol=1e-12, atol=1e-12)
