"""Lp (power-average) pooling on absolute values.

PyTorch's ``lp_pool2d`` raises the raw input to the power ``p``, so it is wrong on negative
input (``[-1, -2, -3, 1]`` gives -5 for p=1 and NaN for p=1.5); here the norm is taken of
``|a|``. Sliding windows without dilation take their sums of powers from
:func:`~pooling_core.operators.weighting.pooled_sum` (strided views, or ``avg_pool2d`` on small
inputs); where such a sum would overflow or underflow, each window is scaled by its own maximum.
"""

import math

import torch
import torch.nn.functional as F

from pooling_core.numbers import fmt
from pooling_core.operators.weighting import pooled_sum, pooled_sums_apply, smallest_exact
from pooling_core.registry import Operator, Param, register


def lp_forward(x, geometry, p=2.0, mean=False):
    if not math.isinf(p) and pooled_sums_apply(geometry):
        fast = _pooled_lp(x, geometry, p, mean)
        if fast is not None:
            return fast
    magnitudes = geometry.gather(x.abs(), 0.0)
    peak = magnitudes.amax((-1, -2))
    if math.isinf(p):
        return peak
    scale = torch.where(peak > 0, peak, torch.ones_like(peak))
    total = ((magnitudes / scale[..., None, None]) ** p).sum((-1, -2))
    if mean:
        total = total / torch.as_tensor(geometry.real_mask().sum((-1, -2)), dtype=x.dtype)
    return scale * _root(total, p)


def _pooled_lp(x, geometry, p, mean):
    """Lp from the window sums of ``|a|^p`` by ``avg_pool2d``, unscaled. ``None`` when a sum
    overflowed (or is NaN), or a window with a nonzero cell underflowed below full precision (each
    window is then scaled by its own maximum instead)."""
    if p == 2:
        total = pooled_sum(x, geometry, mean, squares=True)
    else:
        total = pooled_sum(x**p if p % 2 == 0 else x.abs() ** p, geometry, mean)
    # One pass for both bounds; the per-window checks run only when a bound is out of range.
    low, high = (float(bound) for bound in torch.aminmax(total.detach()))
    if not math.isfinite(high):
        return None
    floor = smallest_exact(x.dtype)
    if low < floor:
        suspicious = total < floor
        if (F.max_pool2d(x.abs(), **geometry.sliding)[suspicious] > 0).any():
            return None
    return _root(total, p, positive=low > 0)


def _root(total, p, positive=False):
    """``total^(1/p)``, in place; an all-zero window outputs 0 with gradient 0 (the root has an
    infinite slope at 0). NaN stays NaN. ``positive``: no total is 0, known to the caller."""
    if positive or int(torch.count_nonzero(total)) == total.numel():
        return _power_in_place(total, p)  # the usual case; the two masked_fill passes cost more than the root
    zero = total == 0
    # Not in place: sqrt's backward reads its own output.
    return _power_in_place(total.masked_fill(zero, 1.0), p).masked_fill(zero, 0.0)


def _power_in_place(total, p):
    # sqrt is exactly rounded, and on 3M float64 sums took a seventh of the time of ``** 0.5``.
    if p == 1:
        return total
    return total.sqrt_() if p == 2 else total.pow_(1.0 / p)


def lp_arithmetic(values, weights, output, p=2.0, mean=False):
    if math.isinf(p):
        return f"max({', '.join(f'|{fmt(v)}|' for v in values)}) = {fmt(output)}"
    powers = " + ".join(f"|{fmt(v)}|^{fmt(p)}" for v in values)
    body = f"({powers}) / {len(values)}" if mean else powers
    return f"({body})^(1/{fmt(p)}) = {fmt(output)}"


register(Operator(
    id="lp", name="Lp (power average) pooling",
    summary="The p-norm of the window's magnitudes: p=1 sums them, p=2 is the Euclidean norm, p=inf is max |a|.",
    formula=r"y_{ij} = \Big(\sum_{(u,v) \in R_{ij}} |a_{uv}|^p\Big)^{1/p}",
    citation="Y.-L. Boureau, J. Ponce, Y. LeCun, "
             "A theoretical analysis of feature pooling in visual recognition, ICML 2010.",
    forward=lp_forward, arithmetic=lp_arithmetic,
    params=(
        Param("p", "float", 2.0, "The power p (1 or more; inf gives max |a|).", low=1.0, high=math.inf,
              label="Power p"),
        Param("mean", "bool", False, "Average the powers over the window's real cells instead of summing.",
              label="Average instead of sum"),
    ),
))
