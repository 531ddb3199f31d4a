r"""Weighted average pooling with a fixed kernel: a strided, depthwise convolution.

.. math::
    y = \sum_{(u, v)} K_{uv}\, a_{s i - p + d u,\ s j - p + d v}, \qquad \sum_{u,v} K_{uv} = 1

The kernel ``K`` (kh x kw) is normalised over the whole kernel, and padded cells (and the
ceil-mode overhang) read 0, so a window at the border has weights that sum to less than 1: it is
``F.conv2d`` of the zero-padded input, not a renormalised average. Kernels: ``"uniform"`` (the
mean counting padding as 0), ``"gaussian"`` (separable, per axis ``exp(-t^2 / 2σ^2)`` at offsets
``t`` from the kernel centre, with ``σ = max(√(k - 1) / 2, 1/2)``, the standard deviation of the
binomial filter of that size: k = 3 gives ≈ [0.21, 0.58, 0.21], k = 2 gives [0.5, 0.5]) or any
non-negative kh x kw array with a positive sum. Offsets count kernel cells, so dilation spreads
the same weights further apart.
"""

import math

import numpy as np
import torch
import torch.nn.functional as F

from pooling_core.errors import PoolingError
from pooling_core.operators.weighting import depthwise_convolution, weighted
from pooling_core.registry import Operator, Param, register


def gaussian_profile(size: int) -> np.ndarray:
    sigma = max(math.sqrt(size - 1) / 2, 0.5)
    offsets = np.arange(size) - (size - 1) / 2
    return np.exp(-(offsets**2) / (2 * sigma**2))


def normalised_kernel(kernel_weights, shape: tuple[int, int]) -> np.ndarray:
    """The (kh, kw) kernel for ``kernel_weights`` (a name or an array), scaled to sum 1."""
    if isinstance(kernel_weights, np.ndarray):
        if kernel_weights.shape != tuple(shape):
            raise PoolingError("weighted_avg.weights_shape", height=shape[0], width=shape[1],
                               shape=str(kernel_weights.shape))
        if (kernel_weights < 0).any() or kernel_weights.sum() <= 0:
            raise PoolingError("weighted_avg.weights_sign")
        kernel = kernel_weights
    elif kernel_weights == "uniform":
        kernel = np.ones(shape)
    else:
        kernel = np.outer(gaussian_profile(shape[0]), gaussian_profile(shape[1]))
    return kernel / kernel.sum()


def weighted_avg_weights(windows, real, geometry, kernel_weights="gaussian"):
    kernel = torch.as_tensor(normalised_kernel(kernel_weights, geometry.window_shape), dtype=windows.dtype)
    return (kernel * real).expand(windows.shape)


def weighted_avg_convolution(x, geometry, kernel_weights="gaussian"):
    """The depthwise ``F.conv2d`` of the zero-padded input. Ceil mode's last window may reach past
    the padding, so the input is padded after its end up to the last window's last cell."""
    sliding = geometry.sliding
    pads = []
    for out, length, k, s, p, d in zip(geometry.out_size, geometry.in_size, *(
            sliding[name] for name in ("kernel_size", "stride", "padding", "dilation"))):
        pads.append((p, max(p, (out - 1) * s - p + d * (k - 1) + 1 - length)))
    (top, bottom), (left, right) = pads
    return depthwise_convolution(F.pad(x, (left, right, top, bottom)),
                                 normalised_kernel(kernel_weights, geometry.window_shape), sliding["stride"],
                                 sliding["dilation"])


weighted_avg = weighted(weighted_avg_weights, weighted_avg_convolution)

register(Operator(
    id="weighted_avg", name="Weighted average pooling",
    summary="A fixed kernel (Gaussian, uniform or your own) normalised to sum 1 and applied with the pooling "
            "stride; padding reads 0, so border windows weigh less than 1 in total.",
    formula=r"y = \sum_{(u,v) \in R} K_{uv}\, a_{uv},\quad \sum K_{uv} = 1,\quad "
            r"K^{\mathrm{gauss}}_{uv} \propto e^{-(t_u^2 + t_v^2) / 2\sigma^2}",
    citation="R. Zhang, Making convolutional networks shift-invariant again, ICML 2019 "
             "(fixed low-pass kernels applied with a stride).",
    forward=weighted_avg.forward, explain=weighted_avg.explain, explained=weighted_avg.explained, has_weights=True,
    params=(
        Param("kernel_weights", "choice", "gaussian",
              "The kernel: Gaussian (σ of the binomial filter of that size), uniform, or (library only) "
              "a non-negative kh x kw array; it is scaled to sum 1.",
              choices=("gaussian", "uniform"), accepts_array=True, label="Kernel weights",
              choice_labels=("Gaussian", "uniform")),
    ),
))
