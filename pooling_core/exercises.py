"""The exercises of the pooling chapter of Dive into Deep Learning (Chinese edition, 6.5 汇聚层) as
computations the exercises page checks against.

>>> import numpy as np
>>> x = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]], float)
>>> average_as_convolution(x, 2).tolist()
[[3.25, 5.25], [2.0, 2.0]]
>>> relu_max(3.0, 5.0), max_by_relu([1, 1, 5, 6])
(5.0, 6.0)
>>> pooling_cost(3, 32, 32, 2, 2)
PoolingCost(height=16, width=16, outputs=768, reads=3072, comparisons=2304)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce

import numpy as np
import torch
import torch.nn.functional as F

from pooling_core.api import pool2d
from pooling_core.geometry import output_size, pair, regular_geometry


def average_kernel(kernel_size) -> np.ndarray:
    """The convolution kernel of average pooling: (kh, kw), every weight ``1 / (kh * kw)``."""
    kh, kw = pair(kernel_size, "geometry.kernel_size_not_whole")
    return np.full((kh, kw), 1.0 / (kh * kw))


def average_as_convolution(x, kernel_size, stride=None, padding=0) -> np.ndarray:
    """Average pooling of the (H, W) map ``x`` written as a convolution: ``F.conv2d`` with
    :func:`average_kernel` over ``x`` zero-padded, which is ``pool2d(x, "avg")`` with padding
    counted in the divisor (``count_include_pad=True``, PyTorch's default)."""
    x = np.asarray(x, dtype=np.float64)
    geometry = regular_geometry(x.shape, kernel_size, stride, padding)  # a window that does not fit: a message
    kernel = torch.from_numpy(average_kernel(kernel_size))[None, None]
    sliding = geometry.sliding
    convolved = F.conv2d(torch.from_numpy(x)[None, None], kernel, stride=sliding["stride"], padding=sliding["padding"])
    return convolved[0, 0].numpy()


def relu_max(a: float, b: float) -> float:
    """``max(a, b)`` with one ReLU: ``ReLU(a - b) + b``."""
    return float(torch.relu(torch.tensor(a - b, dtype=torch.float64)) + b)


def max_by_relu(values) -> float:
    """A window's maximum from pairwise :func:`relu_max`, as a network without a max would compute it."""
    return float(reduce(relu_max, (float(v) for v in values)))


def pooling_is_not_linear(x, **window) -> tuple[np.ndarray, np.ndarray]:
    """Why max pooling is no convolution: a convolution is linear, max pooling is not. Returns
    ``pool(x) + pool(-x)`` and ``pool(x + (-x)) = pool(0)``; they differ unless every window is constant."""
    x = np.asarray(x, dtype=np.float64)
    return pool2d(x, "max", **window).output + pool2d(-x, "max", **window).output, pool2d(0 * x, "max", **window).output


def min_from_max(x, **window) -> np.ndarray:
    """Min pooling from max pooling: ``-maxpool(-x)``."""
    return -pool2d(-np.asarray(x, dtype=np.float64), "max", **window).output


def softpool_path(x, temperatures, **window) -> np.ndarray:
    """SoftPool's output for each temperature, (len(temperatures), Ho, Wo): the mean for a large
    ``T``, the maximum as ``T`` goes to 0."""
    return np.stack([pool2d(x, "softpool", temperature=float(T), **window).output for T in temperatures])


@dataclass(frozen=True)
class PoolingCost:
    """What pooling a ``c x h x w`` input takes: the output's ``height`` and ``width``, its cells,
    the input cells read (one per window position, padding included) and the comparisons of max
    pooling (``kh * kw - 1`` per output; average pooling needs as many additions and one division)."""

    height: int
    width: int
    outputs: int
    reads: int
    comparisons: int


def pooling_cost(c: int, h: int, w: int, kernel_size, stride=None, padding=0) -> PoolingCost:
    """The cost of pooling ``c x h x w`` with a ``kh x kw`` window, e.g. ``3 x 32 x 32`` with 2x2
    windows and stride 2: ``3 * 16 * 16 = 768`` outputs, ``768 * 4`` reads, ``768 * 3`` comparisons."""
    kh, kw = pair(kernel_size, "geometry.kernel_size_not_whole")
    sh, sw = pair(kernel_size if stride is None else stride, "geometry.stride_not_whole")
    ph, pw = pair(padding, "geometry.padding_not_whole")
    height, width = max(output_size(h, kh, sh, ph), 0), max(output_size(w, kw, sw, pw), 0)
    outputs = c * height * width
    return PoolingCost(height, width, outputs, outputs * kh * kw, outputs * (kh * kw - 1))
