"""Sliding max, min and window sums from strided views of the input, as exact as PyTorch's kernels.

A sliding window is a set of rows times a set of columns, so its max and its sum are separable:
a pass along each row (one strided view per window column, reduced element-wise into the
output) and then a pass along each column of that result costs ``kh + kw`` element-wise
operations per output instead of ``kh * kw``. Views are cut to the output positions whose
window cell is a real input cell, so padding is never materialised: max padding acts as
``-inf`` and sum padding as 0, as in PyTorch.

Ties and NaN follow PyTorch's CPU kernel (``val > maxval || isnan(val)``): the index is the
first maximum in reading order, or the last NaN. With indices the pass along each row runs
first, so "first in the row, then the first such row" is the first in reading order. The minimum
is that of ``-F.max_pool2d(-x)``, computed with ``torch.minimum`` instead of negating the input
and the output.

PyTorch's kernel stays where it is faster: :func:`fast_path` holds the sizes from which each
path won in ``bench/run.py --dispatch`` on this project's machine.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import NamedTuple

import torch
import torch.nn.functional as F

# Smallest N*C*H*W from which the strided path beat PyTorch's kernel in all three cases of
# ``bench/run.py --dispatch`` (1x3xNxN; kernel 2 stride 2, kernel 3 stride 2 padding 1, kernel 3
# stride 1 padding 1; 2 cores; see bench/README.md). Below, the per-view overhead of some
# microseconds dominates: an 8x8 grid stays with PyTorch, a photo takes the strided path.
MIN_ELEMENTS = {
    ("max", torch.float64): 3 * 128**2,
    ("max", torch.float32): 3 * 128**2,
    ("indices", torch.float64): 3 * 192**2,
    ("indices", torch.float32): 3 * 192**2,
    ("sum", torch.float64): 3 * 192**2,
    ("sum", torch.float32): 3 * 192**2,
}
# Window offsets are kept as uint8.
MAX_KERNEL = 256


# Outputs of more elements than this are computed a group of planes at a time.
CHUNK_ELEMENTS = 2**20


def _planewise(compute):
    """``compute(x, geometry)`` on groups of whole planes with at most :data:`CHUNK_ELEMENTS`
    outputs (one plane at least), each group's result copied into one array as it comes. The
    arrays in between then stay the size of one group, which the allocator hands out again from
    memory it keeps. Arrays the size of a photo's output (stride 1) are returned to the kernel
    when freed and come back as fresh pages, whose faults cost more than the pooling (see
    bench/README.md)."""
    @functools.wraps(compute)
    def planewise(x: torch.Tensor, geometry, *args):
        n, c, h, w = x.shape
        group = max(1, CHUNK_ELEMENTS // (geometry.out_size[0] * geometry.out_size[1]))
        if group >= n * c:
            return compute(x, geometry, *args)
        planes = x.reshape(n * c, 1, h, w)
        results = None
        for start in range(0, n * c, group):
            found = compute(planes[start:start + group], geometry, *args)
            if found is None:
                return None
            parts = found if isinstance(found, tuple) else (found,)
            if results is None:
                results = [torch.empty((n * c, 1, *part.shape[-2:]), dtype=part.dtype) for part in parts]
            for result, part in zip(results, parts):
                result[start:start + group].copy_(part)
        shaped = tuple(result.view(n, c, *result.shape[-2:]) for result in results)
        return shaped if isinstance(found, tuple) else shaped[0]

    return planewise


def fast_path(kind: str, x: torch.Tensor, geometry) -> bool:
    """Whether the strided ``kind`` ("max", "indices" or "sum") is used for ``x`` over ``geometry``."""
    if geometry.sliding is None or max(geometry.window_shape) > MAX_KERNEL:
        return False
    if kind == "sum" and torch.is_grad_enabled() and x.requires_grad:
        # Autograd through the views' slices took 3 to 5 times avg_pool2d's backward.
        return False
    limit = MIN_ELEMENTS.get((kind, x.dtype))
    return limit is not None and x.numel() >= limit


def _offsets(length: int, out: int, k: int, s: int, p: int, d: int):
    """Per window offset ``t`` along one axis: ``(t, lo, hi, part)``, the outputs ``[lo, hi)``
    whose cell ``t`` is a real input cell and the input slice they read."""
    offsets = []
    for t in range(k):
        # Output j reads input j*s - p + t*d; keep 0 <= that < length.
        lo = max(0, -(-(p - t * d) // s))
        hi = min(out, (length - 1 + p - t * d) // s + 1)
        if lo < hi:
            start = lo * s - p + t * d
            offsets.append((t, lo, hi, slice(start, start + (hi - lo - 1) * s + 1, s)))
    return offsets


def _runs(offsets, out: int, s: int, reached: bool = False):
    """Each offset split into the outputs no earlier offset reached (``first``) and the rest:
    ``(t, part, lo, hi, first)``. ``reached``: every output is reached already."""
    seen = [reached] * out
    runs = []
    for t, lo, hi, part in offsets:
        j = lo
        while j < hi:
            first = not seen[j]
            end = j
            while end < hi and seen[end] != first:
                seen[end] = True
                end += 1
            runs.append((t, _narrow(part, lo, j, end, s), j, end, first))
            j = end
    return runs


def _narrow(part: slice, lo: int, start: int, stop: int, s: int) -> slice:
    """The input slice of outputs ``[start, stop)`` within ``part``, which reads outputs from ``lo``."""
    first = part.start + (start - lo) * s
    return slice(first, first + (stop - start - 1) * s + 1, s)


def _axis(x: torch.Tensor, dim: int, part):
    return x[..., part] if dim == -1 else x[..., part, :]


def _axes(geometry):
    """Per axis (rows, then columns): ``(dim, offsets, out, stride)``."""
    sliding = geometry.sliding
    return [(dim, _offsets(length, out, k, s, p, d), out, s) for dim, length, out, k, s, p, d in zip(
        (-2, -1), geometry.in_size, geometry.out_size, sliding["kernel_size"], sliding["stride"],
        sliding["padding"], sliding["dilation"])]


def _is_whole(offset, out: int) -> bool:
    return offset[1] == 0 and offset[2] == out


def _empty(values: torch.Tensor, dim: int, out: int, dtype=None) -> torch.Tensor:
    shape = list(values.shape)
    shape[dim] = out
    return torch.empty(shape, dtype=dtype or values.dtype)


def _copy_into(target, view):
    target.copy_(view)


def _reduce(x: torch.Tensor, axis, combine, pair, begin=_copy_into) -> torch.Tensor:
    """Fold the views of every offset along ``axis`` into one tensor by ``combine(target, view)``
    in place, where ``begin(target, view)`` starts it. An offset that reaches every output and
    another one start the result by ``pair(a, b, out=...)`` instead. The fold must not depend on
    the order (a max, or a sum to rounding)."""
    dim, offsets, out, s = axis
    result = _empty(x, dim, out)
    base = next((o for o in offsets if _is_whole(o, out)), None)
    if base is None or len(offsets) < 2:
        rest, reached = offsets, False
    else:
        other = next(o for o in offsets if o is not base)
        _, lo, hi, part = other
        pair(_axis(x, dim, _narrow(base[3], 0, lo, hi, s)), _axis(x, dim, part), out=_axis(result, dim, slice(lo, hi)))
        for left, right in ((0, lo), (hi, out)):
            if left < right:
                begin(_axis(result, dim, slice(left, right)), _axis(x, dim, _narrow(base[3], 0, left, right, s)))
        rest, reached = [o for o in offsets if o is not base and o is not other], True
    for _, part, lo, hi, first in _runs(rest, out, s, reached):
        target = _axis(result, dim, slice(lo, hi))
        view = _axis(x, dim, part)
        if first:
            begin(target, view)
        else:
            combine(target, view)
    return result


class Extreme(NamedTuple):
    """Max or min: the element-wise pick (which propagates NaN) and the strict comparison by which
    a later cell beats the running pick, so that ties keep the first."""
    pick: Callable
    beats: Callable

    def into(self, target, view):
        self.pick(view, target, out=target)


MAX = Extreme(torch.maximum, torch.gt)
MIN = Extreme(torch.minimum, torch.lt)


@_planewise
def sliding_extreme(x: torch.Tensor, geometry, extreme: Extreme = MAX) -> torch.Tensor | None:
    """``F.max_pool2d(x, **geometry.sliding)`` (with ``MIN``: ``-F.max_pool2d(-x, ...)``), bit for
    bit (NaN where it has NaN); ``None`` where a zero's sign is in doubt. Values alone do not
    depend on the order of the passes, so the one that reads whole rows, contiguous, runs first on
    the larger array, as for sums: in float32 that took 0.8 of the time of the other order on a photo."""
    row_axis, col_axis = _axes(geometry)
    out = _reduce(_reduce(x, row_axis, extreme.into, extreme.pick), col_axis, extreme.into, extreme.pick)
    # torch.maximum returns either operand of a tie between -0.0 and 0.0 (it differs between its
    # vector loop and the loop's tail), and so does torch.minimum; PyTorch's kernel returns the
    # first in reading order.
    return None if _signed_zero_ties(x, out) else out


def _signed_zero_ties(x, out) -> bool:
    """Whether a window's maximum is a zero and ``x`` holds a -0.0, so its sign may be wrong."""
    # A positive minimum (most photos) rules zeros out at a fifth of the cost of counting them.
    # signbit & (x == 0) rather than x[x == 0]: after a ReLU most cells are 0, and gathering them
    # cost 30 times more.
    if out.amin() > 0 or int(torch.count_nonzero(out)) == out.numel():
        return False
    return bool((torch.signbit(x) & (x == 0)).any())


def _tracked(values, axis, extreme, carried=None):
    """Max (or min) of ``values`` along ``axis`` with the offset of its first one, and ``carried``
    (the previous pass's offsets) taken along from that cell. ``torch.where`` and
    ``masked_fill_`` cost several times a comparison here, so offsets are updated by uint8
    arithmetic. A NaN is not picked as PyTorch picks it; callers check for NaN in the output."""
    dim, offsets, out, s = axis
    running = _empty(values, dim, out)
    picked = _empty(values, dim, out, torch.uint8)
    taken = None if carried is None else _empty(values, dim, out, torch.uint8)
    rest, reached = offsets, False
    if len(offsets) >= 2 and (_is_whole(offsets[0], out) or _is_whole(offsets[1], out)):
        # The first two offsets without a copy: where both are real, the second wins if greater;
        # elsewhere only the whole one is.
        (t0, lo0, hi0, part0), (t1, lo1, hi1, part1) = offsets[:2]
        lo, hi = max(lo0, lo1), min(hi0, hi1)
        window = slice(lo, hi)
        both = _narrow(part0, lo0, lo, hi, s), _narrow(part1, lo1, lo, hi, s)
        first, second = _axis(values, dim, both[0]), _axis(values, dim, both[1])
        chosen = _axis(picked, dim, window)
        extreme.beats(second, first, out=_axis(picked.view(torch.bool), dim, window))
        extreme.pick(second, first, out=_axis(running, dim, window))
        if carried is not None:
            kept = _axis(carried, dim, both[0])
            torch.sub(_axis(carried, dim, both[1]), kept, out=_axis(taken, dim, window)).mul_(chosen).add_(kept)
        if (t0, t1) != (0, 1):
            chosen.mul_(t1 - t0).add_(t0)
        whole_t, whole_lo, whole_part = (t0, lo0, part0) if _is_whole(offsets[0], out) else (t1, lo1, part1)
        for start, stop in ((0, lo), (hi, out)):
            if start < stop:
                part = _narrow(whole_part, whole_lo, start, stop, s)
                _axis(running, dim, slice(start, stop)).copy_(_axis(values, dim, part))
                _axis(picked, dim, slice(start, stop)).fill_(whole_t)
                if carried is not None:
                    _axis(taken, dim, slice(start, stop)).copy_(_axis(carried, dim, part))
        rest, reached = offsets[2:], True
    runs = _runs(rest, out, s, reached)
    if any(not first for *_, first in runs):
        # One scratch array for every later offset's wins (and carried offsets): a new array
        # each time cost page faults on a photo.
        wins_all = _empty(values, dim, out, torch.uint8)
        change_all = None if carried is None else _empty(values, dim, out, torch.uint8)
    for t, part, lo, hi, first in runs:
        window = slice(lo, hi)
        target, view = _axis(running, dim, window), _axis(values, dim, part)
        if first:
            target.copy_(view)
            _axis(picked, dim, window).fill_(t)
            if carried is not None:
                _axis(taken, dim, window).copy_(_axis(carried, dim, part))
            continue
        wins = _axis(wins_all, dim, window)
        extreme.beats(view, target, out=wins.view(torch.bool))
        extreme.pick(view, target, out=target)
        if carried is not None:
            # kept + wins * (new - kept), exact in uint8's wrapping arithmetic.
            kept = _axis(taken, dim, window)
            kept.add_(torch.sub(_axis(carried, dim, part), kept, out=_axis(change_all, dim, window)).mul_(wins))
        # Offsets rise with t, so a later win always holds the larger offset.
        chosen = _axis(picked, dim, window)
        torch.maximum(chosen, wins.mul_(t), out=chosen)
    return running, picked, taken


@_planewise
def sliding_extreme_with_indices(x: torch.Tensor, geometry,
                                 extreme: Extreme = MAX) -> tuple[torch.Tensor, torch.Tensor] | None:
    """``F.max_pool2d(x, **geometry.sliding, return_indices=True)`` (with ``MIN``, that of ``-x``
    negated): the same values and indices (flat offsets into each ``H*W`` plane); ``None`` where
    an output is NaN or a zero's sign is in doubt."""
    row_axis, col_axis = _axes(geometry)
    sliding = geometry.sliding
    rows, col_picked, _ = _tracked(x, col_axis, extreme)
    out, row_picked, col_offsets = _tracked(rows, row_axis, extreme, col_picked)
    # One reduction instead of a NaN mask: +inf and -inf together also give NaN, and PyTorch then answers.
    if torch.isnan(out.sum()) or _signed_zero_ties(x, out):
        return None
    (sh, sw), (ph, pw), (dh, dw) = sliding["stride"], sliding["padding"], sliding["dilation"]
    width = geometry.in_size[1]
    first_row = torch.arange(geometry.out_size[0]) * sh - ph
    first_col = torch.arange(geometry.out_size[1]) * sw - pw
    start = first_row[:, None] * width + first_col
    # The row offsets are widened by a copy into the result: an int64 operation on a uint8
    # operand converts it into a new array first, as large as the result.
    indices = torch.empty(out.shape, dtype=torch.int64).copy_(row_picked).mul_(dh * width).add_(start)
    return out, indices.add_(col_offsets.long(), alpha=dw)


def _pytorch_pool(x: torch.Tensor, geometry, extreme: Extreme, return_indices: bool):
    """PyTorch's kernel: max pooling, or for the minimum that of ``-x``, negated."""
    if extreme is MAX:
        return F.max_pool2d(x, **geometry.sliding, return_indices=return_indices)
    found = F.max_pool2d(-x, **geometry.sliding, return_indices=return_indices)
    return (-found[0], found[1]) if return_indices else -found


class _ExtremePool(torch.autograd.Function):
    """Max or min pooling whose backward is PyTorch's max pooling's: each output's gradient goes
    to its index only (``torch.maximum``'s own backward would split it between tied values)."""

    @staticmethod
    def forward(ctx, x, geometry, extreme):
        found = sliding_extreme_with_indices(x, geometry, extreme)
        out, indices = _pytorch_pool(x, geometry, extreme, True) if found is None else found
        ctx.save_for_backward(x, indices)
        ctx.sliding = geometry.sliding
        ctx.mark_non_differentiable(indices)
        return out, indices

    @staticmethod
    def backward(ctx, grad, _):
        x, indices = ctx.saved_tensors
        s = ctx.sliding
        gradient = torch.ops.aten.max_pool2d_with_indices_backward(
            grad, x, s["kernel_size"], s["stride"], s["padding"], s["dilation"], s["ceil_mode"], indices)
        return gradient, None, None


def extreme_pool(x: torch.Tensor, geometry, return_indices: bool = False, extreme: Extreme = MAX):
    """Sliding max (or min) pooling, and its indices, by the fastest exact path; differentiable
    with PyTorch's routing."""
    if torch.is_grad_enabled() and x.requires_grad:
        if fast_path("indices", x, geometry):
            out, indices = _ExtremePool.apply(x, geometry, extreme)
            return (out, indices) if return_indices else out
    elif fast_path("indices" if return_indices else "max", x, geometry):
        found = (sliding_extreme_with_indices if return_indices else sliding_extreme)(x, geometry, extreme)
        if found is not None:
            return found
    return _pytorch_pool(x, geometry, extreme, return_indices)


def _add_into(target, view):
    target.add_(view)


@_planewise
def sliding_sum(x: torch.Tensor, geometry) -> torch.Tensor:
    """Each window's sum (padding adds 0), by a column pass then a row pass: the column pass
    reads whole rows, contiguous, and leaves the strided row pass the smaller array."""
    row_axis, col_axis = _axes(geometry)
    return _reduce(_reduce(x, row_axis, _add_into, torch.add), col_axis, _add_into, torch.add)


def _square_into(target, view):
    torch.mul(view, view, out=target)


def _add_square_into(target, view):
    target.addcmul_(view, view)


def _pair_squares(a, b, out):
    torch.mul(a, a, out=out).addcmul_(b, b)


@_planewise
def sliding_sum_of_squares(x: torch.Tensor, geometry) -> torch.Tensor:
    """Each window's sum of ``x**2``, squaring inside the first pass instead of in an array of its own."""
    row_axis, col_axis = _axes(geometry)
    columns = _reduce(x, row_axis, _add_square_into, _pair_squares, _square_into)
    return _reduce(columns, col_axis, _add_into, torch.add)


def window_counts(geometry, real: bool, dtype) -> torch.Tensor | int:
    """Cells per window, (Ho, Wo): the real input cells, or (``real=False``) the cells inside the
    padded input, which is PyTorch's ``count_include_pad`` divisor. One number where every window
    has the same count, since dividing by a scalar is the faster pass."""
    rows, cols = geometry._axis_masks() if real else (geometry.row_present, geometry.col_present)
    row_counts, col_counts = rows.sum(1), cols.sum(1)
    if row_counts.min() == row_counts.max() and col_counts.min() == col_counts.max():
        return int(row_counts[0] * col_counts[0])
    return torch.outer(torch.as_tensor(row_counts, dtype=dtype), torch.as_tensor(col_counts, dtype=dtype))
