"""Where each pooling window lies on the input.

Every window PoolScope draws is separable: a set of input rows times a set of input columns.
A :class:`WindowGeometry` stores, for each output row ``i``, the input rows its window covers
(``rows[i]``) and likewise for columns. Indices outside ``[0, H)`` are padding; positions that
lie past the padded border (the ceil-mode overhang, or the unused tail of a shorter adaptive
window) are marked absent. Regular, global and adaptive pooling all share this one description,
so the same code draws any window and gathers any window's values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pooling_core.errors import PoolingError


def pair(value, error_key: str) -> tuple[int, int]:
    """``3`` -> ``(3, 3)``; ``(2, 3)`` stays. Anything that is not whole numbers raises the message
    ``error_key`` (e.g. ``"geometry.stride_not_whole"``) with the value as its field."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(values) != 2 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values):
        raise PoolingError(error_key, value=repr(value))
    return int(values[0]), int(values[1])


def output_size(length: int, kernel_size: int, stride: int | None = None, padding: int = 0,
                dilation: int = 1, ceil_mode: bool = False) -> int:
    """Output length of max/avg pooling along one axis, by PyTorch's rule.

    ``out = floor((L + 2p - d(k-1) - 1 [+ s-1 if ceil_mode]) / s) + 1``, and in ceil mode the last
    window is dropped when it would start past the input and the left padding. May return 0 or
    less; :func:`regular_geometry` turns that into a message.
    """
    stride = kernel_size if stride is None else stride
    numerator = length + 2 * padding - dilation * (kernel_size - 1) - 1 + (stride - 1 if ceil_mode else 0)
    out = numerator // stride + 1
    if ceil_mode and (out - 1) * stride >= length + padding:
        out -= 1
    return out


@dataclass(frozen=True, eq=False)
class WindowGeometry:
    """The windows of one pooling call over an ``H x W`` plane.

    ``rows`` (Ho, kh) and ``cols`` (Wo, kw) hold input indices; ``row_present`` and
    ``col_present`` are False where a position is absent (not even padding). A window cell
    ``(i, j, a, b)`` reads input ``(rows[i, a], cols[j, b])``. ``sliding`` keeps the arguments of
    a sliding window as PyTorch's pooling functions take them (``None`` for adaptive windows).
    """

    in_size: tuple[int, int]
    rows: np.ndarray
    cols: np.ndarray
    row_present: np.ndarray
    col_present: np.ndarray
    sliding: dict | None = None

    @property
    def out_size(self) -> tuple[int, int]:
        return self.rows.shape[0], self.cols.shape[0]

    @property
    def window_shape(self) -> tuple[int, int]:
        return self.rows.shape[1], self.cols.shape[1]

    def _axis_masks(self):
        height, width = self.in_size
        row_real = self.row_present & (self.rows >= 0) & (self.rows < height)
        col_real = self.col_present & (self.cols >= 0) & (self.cols < width)
        return row_real, col_real

    def real_mask(self) -> np.ndarray:
        """(Ho, Wo, kh, kw) bool: the window cell is a real input cell."""
        row_real, col_real = self._axis_masks()
        # All true but where a row or column position is padding or absent, which few windows have:
        # broadcasting the two masks took 8 to 30 ms on a photo, in numpy's loops of kw cells.
        mask = np.ones((*self.out_size, *self.window_shape), dtype=bool)
        for i, a in zip(*np.nonzero(~row_real)):
            mask[i, :, a, :] = False
        for j, b in zip(*np.nonzero(~col_real)):
            mask[:, j, :, b] = False
        return mask

    def present_mask(self) -> np.ndarray:
        """(Ho, Wo, kh, kw) bool: the window cell is input or padding (not an absent position)."""
        return self.row_present[:, None, :, None] & self.col_present[None, :, None, :]

    def window(self, i: int, j: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Output cell ``(i, j)``'s window: rows (kh,), columns (kw,), and (kh, kw) masks of the
        real input cells and of the present cells (input or padding)."""
        row_real, col_real = self._axis_masks()  # not real_mask(): every window's, 8 ms on a photo
        real = row_real[i][:, None] & col_real[j][None, :]
        present = self.row_present[i][:, None] & self.col_present[j][None, :]
        return self.rows[i], self.cols[j], real, present

    def gather(self, x, fill: float):
        """Window values of ``x`` (N, C, H, W) as (N, C, Ho, Wo, kh, kw); non-real cells get ``fill``.

        Works on torch tensors and keeps autograd, so operators defined on windows differentiate.
        """
        import torch

        height, width = self.in_size
        rows = torch.as_tensor(self.rows.clip(0, height - 1))
        cols = torch.as_tensor(self.cols.clip(0, width - 1))
        values = x[:, :, rows[:, None, :, None], cols[None, :, None, :]]
        real = torch.as_tensor(self.real_mask())
        return torch.where(real, values, torch.as_tensor(fill, dtype=x.dtype))


def regular_geometry(in_size, kernel_size, stride=None, padding=0, dilation=1,
                     ceil_mode=False) -> WindowGeometry:
    """Windows of sliding pooling with PyTorch's semantics; bad settings raise :class:`PoolingError`."""
    kernel = pair(kernel_size, "geometry.kernel_size_not_whole")
    strides = kernel if stride is None else pair(stride, "geometry.stride_not_whole")
    pads = pair(padding, "geometry.padding_not_whole")
    dilations = pair(dilation, "geometry.dilation_not_whole")
    axes = []
    for length, k, s, p, d in zip(in_size, kernel, strides, pads, dilations):
        if k < 1:
            raise PoolingError("geometry.kernel_below_one", kernel=k)
        if s < 1:
            raise PoolingError("geometry.stride_below_one", stride=s)
        if d < 1:
            raise PoolingError("geometry.dilation_below_one", dilation=d)
        if p < 0:
            raise PoolingError("geometry.padding_negative", padding=p)
        if p > k // 2:
            raise PoolingError("geometry.padding_too_large", padding=p, kernel=k, limit=k // 2)
        span = d * (k - 1) + 1
        out = output_size(length, k, s, p, d, ceil_mode)
        if out < 1:
            if d == 1:
                raise PoolingError("geometry.kernel_too_large", kernel=k, padded=length + 2 * p)
            raise PoolingError("geometry.dilated_kernel_too_large", kernel=k, dilation=d, span=span,
                               padded=length + 2 * p)
        index = np.arange(out)[:, None] * s - p + np.arange(k)[None, :] * d
        # Without dilation every window holds an input cell: it starts before the input's end and,
        # padding being at most half the kernel, ends after its start.
        if d > 1:
            reads_input = ((index >= 0) & (index < length)).any(axis=1)
            if not reads_input.all():
                # PyTorch would return -inf with an index outside the window, and route gradient there.
                raise PoolingError("geometry.window_reads_only_padding", dilation=d, padding=p,
                                   window=int(np.argmin(reads_input)), length=length)
        axes.append((index, index < length + p))
    (rows, row_present), (cols, col_present) = axes
    sliding = dict(kernel_size=kernel, stride=strides, padding=pads, dilation=dilations, ceil_mode=bool(ceil_mode))
    return WindowGeometry(tuple(in_size), rows, cols, row_present, col_present, sliding)


def adaptive_geometry(in_size, out_size) -> WindowGeometry:
    """Adaptive windows: output cell ``i`` of ``o`` covers ``[floor(i*n/o), ceil((i+1)*n/o))``."""
    targets = pair(out_size, "geometry.output_size_not_whole")
    axes = []
    for length, out in zip(in_size, targets):
        if out < 1:
            raise PoolingError("geometry.adaptive_output_below_one", size=out)
        starts = [i * length // out for i in range(out)]
        ends = [math.ceil((i + 1) * length / out) for i in range(out)]
        width = max(e - s for s, e in zip(starts, ends))
        index = np.array(starts)[:, None] + np.arange(width)[None, :]
        axes.append((index, index < np.array(ends)[:, None]))
    (rows, row_present), (cols, col_present) = axes
    return WindowGeometry(tuple(in_size), rows, cols, row_present, col_present)
