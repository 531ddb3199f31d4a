"""Reference conventions and identities of the methods' own implementations, checked on PoolScope:
kornia's blur pooling tests, and the identities the official LIP and DPP code and papers state.
Numbers and conventions only; every computation here is PoolScope's or written out below."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from pooling_core import pool2d
from pooling_core.operators.blur import binomial_filter

RNG = np.random.default_rng(11)
X = RNG.normal(size=(2, 3, 7, 10))


@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("filt_size", [2, 3, 4, 5])
def test_blur_output_size_is_ceil_of_the_size_over_the_stride(filt_size, stride):
    # Source: kornia's blur pool tests (tests/filters/test_blur_pool.py, issue 5166): a 7x10 input
    # gives ceil(7 / s) x ceil(10 / s) for every kernel size.
    result = pool2d(X, "blur", stride=stride, filt_size=filt_size)
    assert result.output.shape[-2:] == (math.ceil(7 / stride), math.ceil(10 / stride))


def zero_padded_blur(x, filt_size, stride):
    """kornia's convention: (k-1)//2 zeros before and k//2 after each axis, normalised binomial taps."""
    before, after = (filt_size - 1) // 2, filt_size // 2
    padded = F.pad(torch.from_numpy(x), (before, after, before, after))
    taps = torch.from_numpy(binomial_filter(filt_size)).expand(x.shape[1], 1, filt_size, filt_size)
    return F.conv2d(padded, taps, stride=stride, groups=x.shape[1]).numpy()


@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("filt_size", [2, 3, 4, 5])
def test_blur_taps_sit_where_kornias_do_and_only_the_border_differs(filt_size, stride):
    # Source: kornia's blur pool tests (its zero-padded reference: padding (k-1)//2 before and k//2
    # after, Pascal taps C(k-1, i) / 2^(k-1) per axis). PoolScope reads the same cells with the same
    # taps but pads by reflection, as Zhang's own Downsample does by default, where kornia pads zeros:
    # outputs whose taps stay inside the input agree, border outputs differ.
    ours = pool2d(X, "blur", stride=stride, filt_size=filt_size).output
    theirs = zero_padded_blur(X, filt_size, stride)
    assert ours.shape == theirs.shape
    before, after = (filt_size - 1) // 2, filt_size // 2
    inside = [np.array([before <= i * stride <= length - 1 - after for i in range(n)])
              for length, n in zip(X.shape[-2:], ours.shape[-2:])]
    interior = inside[0][:, None] & inside[1][None, :]
    np.testing.assert_allclose(ours[..., interior], theirs[..., interior], rtol=1e-12, atol=1e-12)
    assert not np.isclose(ours[..., ~interior], theirs[..., ~interior]).all()


def test_blur_of_a_constant_stays_constant_where_zero_padding_darkens_the_border():
    # Source: kornia's convention as above. With filter 3, stride 2, the corner output of zero-padded
    # ones reads 3 of 4 taps' weight per axis, (3/4)^2 = 0.5625; reflection keeps every output at 1.
    ones = np.ones((1, 1, 8, 8))
    np.testing.assert_array_equal(pool2d(ones, "blur", stride=2, filt_size=3).output, 1.0)
    assert zero_padded_blur(ones, 3, 2)[0, 0, 0, 0] == 0.5625


SLIDING = dict(kernel_size=3, stride=2, padding=1)


def lip_by_its_equation(x, logit):
    """LIP's equation as the official code states it: avg_pool(x * e^logit) / avg_pool(e^logit)."""
    weights = torch.exp(torch.from_numpy(logit))
    return (F.avg_pool2d(torch.from_numpy(x) * weights, **SLIDING) / F.avg_pool2d(weights, **SLIDING)).numpy()


def test_lip_with_the_input_as_logit_is_softpool():
    # Source: the official LIP code and paper (Gao et al. 2019): logit = x gives SoftPool.
    lip = pool2d(X, "lip", logit="input", **SLIDING).output
    np.testing.assert_allclose(lip, pool2d(X, "softpool", temperature=1.0, **SLIDING).output, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(lip, lip_by_its_equation(X, X), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(pool2d(X, "lip", logit=X, **SLIDING).output, lip, rtol=1e-12, atol=1e-12)


def test_lip_with_a_zero_logit_is_average_pooling():
    # Source: the official LIP code: a zero logit weighs every cell alike; padding weighs nothing.
    lip = pool2d(X, "lip", logit="zero", **SLIDING).output
    expected = F.avg_pool2d(torch.from_numpy(X), **SLIDING, count_include_pad=False).numpy()
    np.testing.assert_allclose(lip, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(lip, lip_by_its_equation(X, np.zeros_like(X)), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("variant", ["sym", "asym"])
@pytest.mark.parametrize("lam, alpha", [(1.0, 1.0), (3.0, 0.0), (0.5, 10.0)])
def test_dpp_of_a_constant_input_is_that_constant(variant, lam, alpha):
    # Source: Saeedan et al. 2018 (DPP): weights sum to 1, so a constant image is kept as it is.
    output = pool2d(np.full((2, 6, 6), -2.5), "dpp", lam=lam, alpha=alpha, variant=variant, **SLIDING).output
    np.testing.assert_allclose(output, -2.5, rtol=1e-12)


@pytest.mark.parametrize("variant", ["sym", "asym"])
def test_dpp_with_lambda_zero_is_average_pooling(variant):
    # Source: Saeedan et al. 2018: the paper's λ = 0 (weighting exponent zero) gives average pooling.
    output = pool2d(X, "dpp", lam=0.0, variant=variant, **SLIDING).output
    expected = F.avg_pool2d(torch.from_numpy(X), **SLIDING, count_include_pad=False).numpy()
    np.testing.assert_allclose(output, expected, rtol=1e-12, atol=1e-12)
