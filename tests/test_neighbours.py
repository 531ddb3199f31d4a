"""Local response normalisation against ``F.local_response_norm`` and AlexNet's formula, bilinear
pooling against ``einsum``."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from pooling_core import PoolingError
from pooling_core.neighbours import bilinear_pool, bilinear_pool_torch, local_response_norm, local_response_norm_torch
from pooling_core.pyramid import spatial_pyramid_pool
from tests.strategies import EXTREMES, random_array


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 9), st.integers(1, 8), st.booleans(), st.floats(0.0, 2.0), st.floats(0.0, 2.0),
       st.floats(0.1, 3.0), st.integers(0, 2**32 - 1))
def test_lrn_matches_pytorch(size, channels, batched, alpha, beta, k, seed):
    x = random_array(seed, (2, channels, 3, 4) if batched else (channels, 3, 4))
    t = torch.from_numpy(x if batched else x[None])
    expected = F.local_response_norm(t, size, alpha, beta, k).numpy().reshape(x.shape)
    np.testing.assert_allclose(local_response_norm(x, size, alpha, beta, k), expected, rtol=1e-12, atol=1e-14)


def test_lrn_alexnet_convention_needs_alpha_times_n():
    x = random_array(3, (6, 2, 2)) * 100  # large enough for alpha to matter
    n, alpha, beta, k = 5, 1e-4, 0.75, 2.0
    expected = np.empty_like(x)
    for c in range(6):
        window = x[max(0, c - n // 2): c + (n - 1) // 2 + 1]
        expected[c] = x[c] / (k + alpha * (window**2).sum(0)) ** beta  # AlexNet: alpha, not alpha / n
    np.testing.assert_allclose(local_response_norm(x, n, n * alpha, beta, k), expected, rtol=1e-12)


@pytest.mark.parametrize("args", [
    dict(x=np.zeros((4, 4))), dict(x=np.zeros((1, 1, 1, 2, 2))), dict(x=np.zeros((3, 2, 2)), size=0),
    dict(x=np.zeros((3, 2, 2)), size=2.0), dict(x=np.zeros((3, 2, 2)), k=0.0), dict(x=np.zeros((3, 2, 2)), alpha=-1.0),
    dict(x=np.zeros((3, 2, 2)), beta=math.nan),
])
def test_lrn_errors(args):
    with pytest.raises(PoolingError):
        local_response_norm(**args)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4), st.integers(1, 4), st.booleans(), st.booleans(),
       st.integers(0, 2**32 - 1))
def test_bilinear_matches_einsum(ca, cb, height, width, batched, same, seed):
    a = random_array(seed, (2, ca, height, width))
    b = a if same else random_array(seed + 1, (2, cb, height, width))
    raw = (torch.einsum("nchw,ndhw->ncd", torch.from_numpy(a), torch.from_numpy(b)) / (height * width)).numpy()
    signed = np.sign(raw) * np.sqrt(np.abs(raw))
    normalised = signed / np.maximum(np.linalg.norm(signed.reshape(2, -1), axis=1), 1e-12)[:, None, None]
    pick = (lambda v: v) if batched else (lambda v: v[0])
    other = None if same else pick(b)
    np.testing.assert_allclose(bilinear_pool(pick(a), other, normalize=False), pick(raw), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(bilinear_pool(pick(a), other), pick(normalised), rtol=1e-12, atol=1e-14)


def test_bilinear_zero_input_gives_zeros():
    assert not bilinear_pool(np.zeros((3, 2, 2))).any()


@pytest.mark.parametrize("a, b", [
    (np.zeros((2, 2)), None), (np.zeros((2, 3, 3)), np.zeros((2, 3, 4))), (np.zeros((1, 2, 3, 3)), np.zeros((2, 3, 3))),
    (np.zeros((1, 2, 3, 3)), np.zeros((2, 2, 3, 3))),
])
def test_bilinear_errors(a, b):
    with pytest.raises(PoolingError):
        bilinear_pool(a, b)


@pytest.mark.parametrize("normalize", [True, False])
def test_gradcheck_lrn_and_bilinear(normalize):
    x = torch.from_numpy(random_array(1, (2, 4, 3, 2))).requires_grad_(True)
    y = torch.from_numpy(random_array(2, (2, 3, 3, 2))).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda v: local_response_norm_torch(v, 3, 0.5, 0.75, 1.0), (x,))
    assert torch.autograd.gradcheck(lambda u, v: bilinear_pool_torch(u, v, normalize), (x, y))


@pytest.mark.parametrize("kind", EXTREMES)
def test_extremes_lrn_and_bilinear_finite(kind):
    x = torch.from_numpy(EXTREMES[kind]((2, 3, 4, 4))).requires_grad_(True)
    for output in (local_response_norm_torch(x), bilinear_pool_torch(x, x), bilinear_pool_torch(x, x, False)):
        (gradient,) = torch.autograd.grad(output.sum(), x)
        assert torch.isfinite(output).all() and torch.isfinite(gradient).all()
    assert np.isfinite(spatial_pyramid_pool(x.detach().numpy())).all()
