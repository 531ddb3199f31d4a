"""Operators whose output is a weighted sum of the window: ``y = sum_R w_i a_i``.

Such an operator is defined by its weights alone; :func:`weighted` turns a weight function into
``forward``, ``explain`` and ``explained``, so the output and the weights shown come from one computation.
Where a faster formula gives the same output without gathering the windows (a mixture of max and
mean pooling, a blur as a convolution), the output comes from it and only the weights from the windows.
"""

from typing import NamedTuple

import torch
import torch.nn.functional as F

from pooling_core.operators.strided import fast_path, sliding_sum, sliding_sum_of_squares, window_counts
from pooling_core.registry import Explanation


def masked_softmax(logits: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Softmax over each window's (kh, kw) cells; padded and absent cells get weight 0.

    ``torch.softmax`` subtracts the maximum first, so no logit can overflow.
    """
    flat = torch.where(real, logits, torch.tensor(-torch.inf, dtype=logits.dtype)).flatten(-2)
    return torch.softmax(flat, dim=-1).reshape(logits.shape)


class Weighted(NamedTuple):
    """An :class:`~pooling_core.registry.Operator`'s ``forward``, ``explain`` and ``explained``."""

    forward: object
    explain: object
    explained: object


def weighted(weights_fn, fast=None) -> Weighted:
    """``weights_fn(windows, real, geometry, **params)`` -> (N, C, Ho, Wo, kh, kw) weights.

    ``windows`` holds the window values (0 on padding), ``real`` (Ho, Wo, kh, kw) marks input
    cells. ``explained`` gives the output and the weights from one computation of the weights.
    ``fast(x, geometry, **params)``, where given, is the same output to rounding without the
    windows (from PyTorch's kernels or pooled sums), or ``None`` where it does not apply; the
    output is then the same with the explanation as without it.
    """

    def weights_of(x, geometry, **params):
        windows = geometry.gather(x, 0.0)
        real = torch.as_tensor(geometry.real_mask())
        return windows, weights_fn(windows, real, geometry, **params)

    def windowed(x, geometry, **params):
        windows, weights = weights_of(x, geometry, **params)
        # An infinite cell of weight 0 does not count (0 * inf is NaN); a NaN still propagates.
        terms = torch.where((weights == 0) & windows.isinf(), 0.0, weights * windows)
        return terms.sum((-1, -2)), weights

    def fast_output(x, geometry, **params):
        return None if fast is None else fast(x, geometry, **params)

    def explained(x, geometry, **params):
        output = fast_output(x, geometry, **params)
        if output is None:
            output, weights = windowed(x, geometry, **params)
        else:
            weights = weights_of(x, geometry, **params)[1]
        return output, Explanation(weights=weights)

    def forward(x, geometry, **params):
        output = fast_output(x, geometry, **params)
        return windowed(x, geometry, **params)[0] if output is None else output

    def explain(x, geometry, **params):
        return Explanation(weights=weights_of(x, geometry, **params)[1])

    return Weighted(forward, explain, explained)


def pooled_sums_apply(geometry) -> bool:
    """Window sums can come from PyTorch's ``avg_pool2d``: sliding windows without dilation."""
    return geometry.sliding is not None and geometry.sliding["dilation"] == (1, 1)


def pooled_sum(values: torch.Tensor, geometry, mean: bool = False, squares: bool = False) -> torch.Tensor:
    """Sum of ``values`` (N, C, H, W), or of their squares, over each window (padding adds 0), or
    the mean over its real cells, by strided views or ``avg_pool2d``: much faster than gathering
    the windows. Needs :func:`pooled_sums_apply`."""
    if fast_path("sum", values, geometry):
        total = sliding_sum_of_squares(values, geometry) if squares else sliding_sum(values, geometry)
        return total.div_(window_counts(geometry, True, values.dtype)) if mean else total
    if squares:
        values = values * values
    sliding = {k: v for k, v in geometry.sliding.items() if k != "dilation"}
    if mean:
        return F.avg_pool2d(values, **sliding, count_include_pad=False)
    return F.avg_pool2d(values, **sliding, divisor_override=1)


def softmax_average(values: torch.Tensor, logits: torch.Tensor, geometry) -> torch.Tensor | None:
    """``sum_R a e^l / sum_R e^l`` over each window from two pooled sums, for :func:`weighted`'s
    ``fast``: each map's largest logit is subtracted first, so no ``exp`` overflows. ``None``
    without pooled sums, or where a window's exponentials underflowed below full precision (or
    are NaN): the per-window softmax answers there."""
    if not pooled_sums_apply(geometry):
        return None
    exponentials = (logits - logits.amax((-1, -2), keepdim=True)).exp_()
    denominator = pooled_sum(exponentials, geometry)
    if denominator.min() >= smallest_exact(values.dtype):  # False for NaN too
        return pooled_sum(values * exponentials, geometry) / denominator
    return None


def depthwise_convolution(padded: torch.Tensor, kernel, stride, dilation=1) -> torch.Tensor:
    """Every channel of ``padded`` (N, C, H, W) convolved with the same (kh, kw) ``kernel``, for
    :func:`weighted`'s ``fast`` of a fixed-kernel operator; the caller pads as its windows do."""
    channels = padded.shape[1]
    weight = torch.as_tensor(kernel, dtype=padded.dtype).expand(channels, 1, *kernel.shape)
    return F.conv2d(padded, weight, stride=stride, dilation=dilation, groups=channels)


def smallest_exact(dtype) -> float:
    """Below this, a sum may hold subnormal terms that lost their relative precision."""
    info = torch.finfo(dtype)
    return info.tiny / info.eps
