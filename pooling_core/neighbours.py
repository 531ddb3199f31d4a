"""Pooling across channels: local response normalisation and bilinear (second-order) pooling.

Each public function takes NumPy arrays and returns NumPy; its ``*_torch`` twin computes the
same on (N, C, H, W) tensors and keeps autograd.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from pooling_core.api import as_batch
from pooling_core.errors import PoolingError


def _channel_batch(x, shape_key: str) -> tuple[torch.Tensor, tuple[int, ...]]:
    """(C, H, W) or (N, C, H, W) array -> float64 (N, C, H, W) tensor and the leading shape; another
    shape raises the message ``shape_key``."""
    if np.ndim(x) not in (3, 4):
        raise PoolingError(shape_key, shape=str(np.shape(x)))
    return as_batch(x, np.float64)


def _finite(value) -> bool:
    numeric = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    return numeric and math.isfinite(value)


def local_response_norm_torch(x: torch.Tensor, size: int = 5, alpha: float = 1e-4, beta: float = 0.75,
                              k: float = 1.0) -> torch.Tensor:
    r"""Local response normalisation of an (N, C, H, W) tensor, PyTorch's convention.

    .. math::
        b_c = a_c \Big/ \Big(k + \frac{\alpha}{n} \sum_{c'=c-\lfloor n/2 \rfloor}^{c+\lfloor (n-1)/2 \rfloor}
        a_{c'}^2\Big)^{\beta}

    Channels outside ``[0, C)`` count as zeros and the divisor stays ``n`` at the edges, as in
    ``F.local_response_norm``. Krizhevsky et al. (AlexNet, 2012) write ``alpha`` without the
    ``/n``: to reproduce their ``alpha = 1e-4`` with ``n = 5``, pass ``alpha = 5 * 1e-4``.
    """
    squares = F.pad(x * x, (0, 0, 0, 0, size // 2, (size - 1) // 2))
    sums = squares.unfold(1, size, 1).sum(-1)
    return x / (k + alpha / size * sums) ** beta


def local_response_norm(x, size: int = 5, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> np.ndarray:
    """:func:`local_response_norm_torch` of a (C, H, W) or (N, C, H, W) array, in float64; same shape out.

    Raises:
        PoolingError: for another shape, ``size < 1``, or a non-finite, negative ``alpha``/``beta``
            or non-positive ``k`` (which could divide by zero or take a root of a negative number).
    """
    batch, _ = _channel_batch(x, "lrn.input_shape")
    if not isinstance(size, (int, np.integer)) or isinstance(size, bool) or size < 1:
        raise PoolingError("lrn.bad_size", value=repr(size))
    for name, value, positive in (("alpha", alpha, False), ("beta", beta, False), ("k", k, True)):
        if not _finite(value) or value < 0 or (positive and value == 0):
            raise PoolingError("lrn.not_positive" if positive else "lrn.negative", name=name, value=repr(value))
    with torch.no_grad():
        return local_response_norm_torch(batch, int(size), alpha, beta, k).numpy().reshape(np.shape(x))


def _signed_sqrt(matrix: torch.Tensor) -> torch.Tensor:
    """``sign(m) sqrt(|m|)``; its slope is infinite at 0, where the gradient is defined as 0."""
    nonzero = matrix != 0
    safe = torch.where(nonzero, matrix.abs(), torch.ones_like(matrix))
    return torch.where(nonzero, matrix.sign() * safe.sqrt(), torch.zeros_like(matrix))


def bilinear_pool_torch(a: torch.Tensor, b: torch.Tensor, normalize: bool = True) -> torch.Tensor:
    r"""Bilinear pooling of (N, C_a, H, W) and (N, C_b, H, W) tensors into (N, C_a, C_b).

    .. math::
        B = \frac{1}{HW} \sum_{l} a_l b_l^\top,\qquad
        \text{normalize: } y = \operatorname{sign}(B)\sqrt{|B|},\quad z = y / \max(\lVert y \rVert_2, 10^{-12})

    where ``l`` runs over the ``H*W`` locations and the norm is over all ``C_a * C_b`` entries of
    each sample, so an all-zero input gives zeros.
    """
    locations = a.shape[-2] * a.shape[-1]
    matrix = a.flatten(2) @ b.flatten(2).transpose(1, 2) / locations
    if not normalize:
        return matrix
    signed = _signed_sqrt(matrix)
    return F.normalize(signed.flatten(1), dim=1, eps=1e-12).reshape(matrix.shape)


def bilinear_pool(a, b=None, normalize: bool = True) -> np.ndarray:
    """Bilinear pooling (Lin, RoyChowdhury, Maji, Bilinear CNN models for fine-grained visual
    recognition, ICCV 2015): the location-averaged outer product of two feature maps.

    Args:
        a: (C_a, H, W) or (N, C_a, H, W) array.
        b: array with ``a``'s dimensions, batch and spatial size and any channel count; ``None``
            means ``a`` (the symmetric B-CNN).
        normalize: apply the signed square root, then L2 normalisation, as in the paper.

    Returns:
        (C_a, C_b) for 3-D input, (N, C_a, C_b) for 4-D; see :func:`bilinear_pool_torch`.

    Raises:
        PoolingError: when a shape is not (C, H, W) / (N, C, H, W) or the two maps do not match.
    """
    left, lead = _channel_batch(a, "bilinear.first_input_shape")
    right = left
    if b is not None:
        right, _ = _channel_batch(b, "bilinear.second_input_shape")
        if np.ndim(a) != np.ndim(b) or left.shape[0] != right.shape[0] or left.shape[2:] != right.shape[2:]:
            raise PoolingError("bilinear.size_mismatch", first=str(np.shape(a)), second=str(np.shape(b)))
    with torch.no_grad():
        pooled = bilinear_pool_torch(left, right, normalize)
    return pooled.numpy().reshape(*lead[:-1], *pooled.shape[1:])
