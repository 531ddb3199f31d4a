"""The library's entry points: pool, explain, differentiate, unpool."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import torch

from pooling_core.errors import PoolingError
from pooling_core.geometry import WindowGeometry, pair
from pooling_core.registry import Explanation, Operator, get_operator


def as_batch(x, dtype) -> tuple[torch.Tensor, tuple[int, ...]]:
    """(H, W), (C, H, W) or (N, C, H, W) array -> (N, C, H, W) tensor and the leading shape."""
    array = np.asarray(x, dtype=dtype)
    if not 2 <= array.ndim <= 4:
        raise PoolingError("input.bad_ndim", ndim=array.ndim)
    if 0 in array.shape:
        raise PoolingError("input.empty", shape=str(array.shape))
    shape = (-1, 1, *array.shape) if array.ndim == 2 else (-1, *array.shape[-3:])
    # torch shares the array's memory and may not be handed a read-only one (e.g. a cached image).
    array = np.ascontiguousarray(array) if array.flags.writeable else array.copy()
    return torch.from_numpy(array).reshape(shape), array.shape[:-2]


@dataclass(frozen=True, eq=False)
class PoolResult:
    """What :func:`pool2d` returns.

    ``output`` has shape (*lead, Ho, Wo) for input (*lead, H, W). ``geometry`` places every
    window on the input. ``weights`` (*lead, Ho, Wo, kh, kw) is each window cell's share of its
    output (padding weighs 0) for operators whose output is a weighted sum of the window, else
    ``None``; ``indices`` (*lead, Ho, Wo) are flat int64 offsets into each unpadded ``H*W``
    plane for max-type operators, else ``None`` (their weights are the one-hot of the index). Both
    are computed on first access, unless :func:`pool2d` was asked to ``explain`` at once.
    """

    output: np.ndarray
    geometry: WindowGeometry
    operator: Operator
    params: dict
    _input: torch.Tensor = field(repr=False)
    _lead: tuple = field(repr=False)
    _explained: Explanation | None = field(default=None, repr=False)

    @cached_property
    def _explanation(self) -> Explanation:
        if self._explained is not None:
            return self._explained
        with torch.no_grad():
            return self.operator.explanation(self._input, self.geometry, **self.params)

    def _reshaped(self, tensor):
        return None if tensor is None else tensor.numpy().reshape(*self._lead, *tensor.shape[2:])

    @cached_property
    def notice(self) -> str | None:
        """A sentence the user must see about this input (e.g. a ReLU was applied), else ``None``."""
        if self.operator.notice is None:
            return None
        return self.operator.notice(self._input.numpy(), **self.params)

    @cached_property
    def weights(self) -> np.ndarray | None:
        explanation = self._explanation
        if explanation.weights is None and explanation.indices is not None:
            geometry = self.geometry
            flat = geometry.rows[:, None, :, None] * geometry.in_size[1] + geometry.cols[None, :, None, :]
            return _one_hot(self.indices[..., None, None], flat, geometry.real_mask(), self.output.dtype)
        return self._reshaped(explanation.weights)

    @cached_property
    def indices(self) -> np.ndarray | None:
        return self._reshaped(self._explanation.indices)

    def _image(self, lead: tuple) -> int:
        return lead[0] if len(self._lead) == 2 else 0

    def component(self, lead: tuple = ()) -> tuple[int, int] | None:
        """The (row, column) offset of the polyphase component the map ``lead`` was sampled from,
        for an operator that picks one per image (APS), else ``None``."""
        component = self._explanation.component
        return None if component is None else tuple(int(v) for v in component[self._image(lead)])

    def window_cells(self, lead: tuple = ()) -> np.ndarray | None:
        """(kh, kw) bool: the cells of each window of the map ``lead`` its output can read, where
        the operator narrows its windows per image (APS), else ``None`` (every cell)."""
        cells = self._explanation.cells
        return None if cells is None else cells[self._image(lead)].numpy()

    def window_weights(self, i: int, j: int, lead: tuple = ()) -> np.ndarray | None:
        """(kh, kw) weights of output ``(i, j)`` of the map ``lead``; a max-type operator's are read
        off its one index, without building every window's weights."""
        if self._explanation.weights is None and self.indices is not None:
            rows, cols, real, _ = self.geometry.window(i, j)
            flat = rows[:, None] * self.geometry.in_size[1] + cols[None, :]
            return _one_hot(self.indices[lead][i, j], flat, real, self.output.dtype)
        return None if self.weights is None else self.weights[lead][i, j]


def _one_hot(index, flat_positions, real, dtype) -> np.ndarray:
    """Max-type weights: 1 on the real window cell whose flat input position is the index."""
    return ((flat_positions == index) & real).astype(dtype)


def _prepare(x, op, kernel_size, stride, padding, dilation, ceil_mode, params, dtype):
    operator = get_operator(op)
    resolved = operator.resolve(params)
    batch, lead = as_batch(x, dtype)
    geometry = operator.geometry(tuple(batch.shape[-2:]), resolved, kernel_size, stride, padding, dilation, ceil_mode)
    return operator, resolved, batch, lead, geometry


def pool2d(x, op: str, kernel_size=2, stride=None, padding=0, dilation=1, ceil_mode=False,
           dtype=np.float64, explain=False, **params) -> PoolResult:
    """Pool ``x`` with the operator ``op`` (an id in :data:`pooling_core.OPERATORS`).

    Args:
        x: array of shape (H, W), (C, H, W) or (N, C, H, W); channels are pooled independently.
        op: operator id, e.g. ``"max"``, ``"avg"``, ``"lp"``.
        kernel_size, stride, padding, dilation: int or (h, w) pair; ``stride=None`` means the
            kernel size. Ignored by global and adaptive operators.
        ceil_mode: round the output size up, as in PyTorch.
        dtype: computation dtype (float64 by default).
        explain: compute the explanation (``weights``, ``indices``) now, with the output, as
            ``F.max_pool2d(..., return_indices=True)`` does: for max-type operators one pass
            gives both, and the windowed weighted ones compute their weights once, which is
            faster than the output and then the explanation.
        **params: the operator's own parameters (see its registry entry).

    Returns:
        :class:`PoolResult`; its output has shape (*lead, Ho, Wo) with
        ``Ho = floor((H + 2p - d(k-1) - 1) / s) + 1`` for sliding windows.

    Raises:
        PoolingError: for an unknown operator, parameter or a geometry that does not fit.
    """
    operator, resolved, batch, lead, geometry = _prepare(x, op, kernel_size, stride, padding, dilation,
                                                         ceil_mode, params, dtype)
    with torch.no_grad():
        if explain:
            output, explanation = operator.output_and_explanation(batch, geometry, **resolved)
        else:
            output, explanation = operator.forward(batch, geometry, **resolved), None
    return PoolResult(output.numpy().reshape(*lead, *output.shape[2:]), geometry, operator, resolved, batch, lead,
                      explanation)


def _traced(x, op, kernel_size, stride, padding, dilation, ceil_mode, params, dtype):
    """The input as a tensor that records its gradient, the operator's output on it, and the leading shape."""
    operator, resolved, batch, lead, geometry = _prepare(x, op, kernel_size, stride, padding, dilation,
                                                         ceil_mode, params, dtype)
    # No copy: like pool2d, the operators never write to their input.
    batch = batch.requires_grad_(True)
    return batch, operator.forward(batch, geometry, **resolved), lead


def _gradient(output, batch, seed, retain_graph=False) -> torch.Tensor:
    (gradient,) = torch.autograd.grad(output, batch, seed, allow_unused=True, retain_graph=retain_graph)
    if gradient is None:
        return torch.zeros_like(batch)
    # + 0.0 turns a -0.0 (the gradient through a negation, as in -max(-x)) into the 0 a student
    # expects; in place (a new array of a photo's size costs more than the addition) unless the
    # gradient shares memory with another tensor, as autograd's views of the seed do.
    if gradient._base is None and gradient.data_ptr() != seed.data_ptr():
        return gradient.add_(0.0)
    return gradient + 0.0


def input_gradient(x, op: str, upstream=None, kernel_size=2, stride=None, padding=0, dilation=1,
                   ceil_mode=False, dtype=np.float64, **params) -> np.ndarray:
    """``d sum(upstream * pool2d(x).output) / dx`` through torch autograd, shaped like ``x``.

    ``upstream`` has the output's shape and defaults to ones.
    """
    batch, output, lead = _traced(x, op, kernel_size, stride, padding, dilation, ceil_mode, params, dtype)
    if upstream is None:
        seed = torch.ones_like(output)
    else:
        upstream = np.asarray(upstream, dtype=dtype)
        if upstream.shape != (*lead, *output.shape[2:]):
            expected = (*lead, *output.shape[2:])
            raise PoolingError("gradient.upstream_shape", shape=str(upstream.shape), expected=str(expected))
        seed = torch.from_numpy(np.ascontiguousarray(upstream)).reshape(output.shape)
    return _gradient(output, batch, seed).numpy().reshape(np.shape(x))


def gradient_routes(x, op: str, kernel_size=2, stride=None, padding=0, dilation=1, ceil_mode=False,
                    dtype=np.float64, **params) -> np.ndarray:
    """Where each output cell's gradient goes: ``routes[i, j, r, c] = d y[i, j] / d x[r, c]``.

    ``x`` is one map (H, W); the result has shape (Ho, Wo, H, W). Slice ``(i, j)`` is
    :func:`input_gradient` with an upstream of 1 at ``(i, j)`` and 0 elsewhere, and
    ``sum(upstream[i, j] * routes[i, j])`` over all cells is ``input_gradient(x, op, upstream)``.
    One forward pass and one backward pass per output cell: meant for small maps.

    Example: average pooling 2x2 of a 4x4 map sends 0.25 to each of a window's four cells.
    """
    if np.ndim(x) != 2:
        raise PoolingError("gradient.routes_one_map", shape=str(np.shape(x)))
    batch, output, _ = _traced(x, op, kernel_size, stride, padding, dilation, ceil_mode, params, dtype)
    rows, cols = output.shape[-2:]
    routes = torch.empty((rows * cols, *batch.shape[-2:]), dtype=batch.dtype)
    seed = torch.zeros_like(output)
    for k in range(rows * cols):
        seed.view(-1)[k] = 1.0
        routes[k] = _gradient(output, batch, seed, retain_graph=True)[0, 0]
        seed.view(-1)[k] = 0.0
    return routes.numpy().reshape(rows, cols, *batch.shape[-2:])


def max_unpool2d(y, indices, kernel_size, stride=None, padding=0, output_size=None) -> np.ndarray:
    """Put each pooled value back at its argmax index; every other cell is 0.

    ``y`` and ``indices`` have shape (*lead, Ho, Wo), as from ``pool2d(x, "max")``. The result is
    (*lead, H, W) with ``H = (Ho - 1) * s - 2p + k`` unless ``output_size`` (H, W) is given; pass
    the original size after pooling an odd-sized input; PyTorch's range for it, ``H - s < size <
    H + s``, is enforced. Not an inverse: non-maxima are lost.
    """
    values = np.asarray(y, dtype=np.float64)
    flat_indices = np.asarray(indices)
    if values.shape != flat_indices.shape or values.ndim < 2:
        raise PoolingError("unpool.shape_mismatch", values=str(values.shape), indices=str(flat_indices.shape))
    kernel = pair(kernel_size, "geometry.kernel_size_not_whole")
    strides = kernel if stride is None else pair(stride, "geometry.stride_not_whole")
    pads = pair(padding, "geometry.padding_not_whole")
    default = tuple((n - 1) * s - 2 * p + k for n, k, s, p in zip(values.shape[-2:], kernel, strides, pads))
    size = default if output_size is None else pair(tuple(output_size)[-2:], "geometry.output_size_not_whole")
    for length, usual, n, k, s, p in zip(size, default, values.shape[-2:], kernel, strides, pads):
        # Sizes that pool back to n outputs: PyTorch accepts usual - s < length < usual + s.
        if not usual - s < length < usual + s:
            raise PoolingError("unpool.output_size_out_of_range", size=length, kernel=k, stride=s, padding=p,
                               outputs=n, low=usual - s + 1, high=usual + s - 1)
    plane = size[0] * size[1]
    if flat_indices.size and (flat_indices.min() < 0 or flat_indices.max() >= plane):
        raise PoolingError("unpool.index_out_of_range", index=int(flat_indices.max()), height=size[0],
                           width=size[1])
    lead = values.shape[:-2]
    source = torch.from_numpy(values.reshape(-1, values.shape[-2] * values.shape[-1]))
    target = torch.zeros(source.shape[0], plane, dtype=source.dtype)
    target.scatter_(1, torch.from_numpy(flat_indices.reshape(source.shape).astype(np.int64)), source)
    return target.numpy().reshape(*lead, *size)
