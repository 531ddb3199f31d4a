"""PyTorch's own reference numbers for pooling and local response normalisation, checked on
PoolScope. The numbers come from PyTorch's pooling tests (``test/nn/test_pooling.py`` and
``test/test_nn.py``) and issues; the computations are PoolScope's."""

import math

import numpy as np
import pytest
import torch

from pooling_core import PoolingError, local_response_norm, max_unpool2d, output_size, pool2d
from pooling_core.neighbours import local_response_norm_torch


def test_max_pool_of_arange_1_to_16():
    # Source: PyTorch's pooling tests, max_pool2d with return_indices on arange(1, 17) as 4x4.
    x = np.arange(1.0, 17.0).reshape(4, 4)
    result = pool2d(x, "max", kernel_size=2)
    np.testing.assert_array_equal(result.output, [[6, 8], [14, 16]])
    np.testing.assert_array_equal(result.indices, [[5, 7], [13, 15]])


def test_kernel_1_stride_2_ceil_mode_on_6x7_gives_3x4():
    # Source: PyTorch issue 45357 (ceil mode may not add a window that starts past the input).
    result = pool2d(np.zeros((6, 7)), "max", kernel_size=1, stride=2, ceil_mode=True)
    assert result.output.shape == (3, 4)
    assert (output_size(6, 1, 2, ceil_mode=True), output_size(7, 1, 2, ceil_mode=True)) == (3, 4)


@pytest.mark.parametrize("ceil_mode", [False, True])
def test_kernel_2_stride_2_padding_1_on_4x5_gives_3x3(ceil_mode):
    # Source: PyTorch's pooling tests (output shape with padding, with and without ceil mode).
    result = pool2d(np.zeros((4, 5)), "max", kernel_size=2, stride=2, padding=1, ceil_mode=ceil_mode)
    assert result.output.shape == (3, 3)


@pytest.mark.parametrize("size, accepted", [(4, False), (5, True), (6, True), (7, False)])
def test_max_unpool_after_3x3_stride_2_on_5x5_accepts_sizes_5_and_6(size, accepted):
    # Source: PyTorch's MaxUnpool2d output_size test. PyTorch takes sizes strictly between
    # default - stride and default + stride (3 < size < 7, default (2 - 1) * 2 + 3 = 5); on this
    # input the last window's maximum is cell 24, which a 4x4 plane cannot hold, so 4 fails too.
    x = np.arange(25.0).reshape(5, 5)
    pooled = pool2d(x, "max", kernel_size=3, stride=2)
    if accepted:
        restored = max_unpool2d(pooled.output, pooled.indices, 3, 2, output_size=(size, size))
        assert restored.shape == (size, size) and restored.sum() == 12 + 14 + 22 + 24
    else:
        with pytest.raises(PoolingError):
            max_unpool2d(pooled.output, pooled.indices, 3, 2, output_size=(size, size))


def test_adaptive_average_of_arange_5_into_3_bins():
    # Source: PyTorch's adaptive pooling tests: bins [0, 2), [1, 4), [3, 5).
    result = pool2d(np.arange(5.0)[None, :], "adaptive_avg", output_size=(1, 3))
    np.testing.assert_allclose(result.output, [[0.5, 2.0, 3.5]], rtol=0, atol=1e-15)


@pytest.mark.parametrize("op, params", [
    ("max", dict(kernel_size=2)), ("max", dict(kernel_size=3, stride=1, padding=1)),
    ("adaptive_max", dict(output_size=2)), ("global_max", {}),
    ("fractional_max", dict(kernel_size=2, output_size=2)),
])
def test_nan_propagates(op, params):
    # Source: PyTorch's pooling tests (max, adaptive and fractional max pooling of an all-NaN input
    # are all NaN); and one NaN reaches exactly the windows that read it.
    assert np.isnan(pool2d(np.full((2, 4, 4), np.nan), op, **params).output).all()
    x = np.arange(16.0).reshape(4, 4)
    x[0, 0] = np.nan
    result = pool2d(x, op, **params)
    for i, j in np.ndindex(result.output.shape):
        rows, cols, real, _ = result.geometry.window(i, j)
        reads_it = (real & (rows[:, None] == 0) & (cols[None, :] == 0)).any()
        assert np.isnan(result.output[i, j]) == reads_it, (i, j)


def test_local_response_norm_of_ones_size_2():
    # Source: PyTorch's test of F.local_response_norm on ones(1, 3, 1, 1) with size 2.
    # Channel 0 sees itself and a zero channel: 1 / (1 + 1e-4 / 2)^0.75; channels 1 and 2 see two ones.
    float32 = local_response_norm_torch(torch.ones(1, 3, 1, 1), 2).flatten().numpy()
    assert float32.dtype == np.float32
    np.testing.assert_allclose(float32, [0.99996257, 0.99992502, 0.99992502], rtol=0, atol=5e-9)
    float64 = local_response_norm(np.ones((1, 3, 1, 1)), 2).ravel()
    np.testing.assert_allclose(float64, [0.9999625, 0.99992501, 0.99992501], rtol=0, atol=5e-9)
    assert float64[0] == pytest.approx((1 + 1e-4 / 2) ** -0.75, abs=1e-15)
    assert math.isclose(float64[1], (1 + 1e-4) ** -0.75, abs_tol=1e-15)
