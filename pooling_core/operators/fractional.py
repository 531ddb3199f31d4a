"""Fractional max pooling: shrink by a non-integer factor with pseudo-random or random windows.

Three window sequences, all max-pooled the same way (first maximum in reading order wins):

- ``"torch"``: PyTorch's ``fractional_max_pool2d``. Fixed k x k windows; along an axis of length
  ``L`` with ``o`` outputs, ``alpha = (L - k) / (o - 1)``, window ``i`` starts at
  ``int((i + u) alpha) - int(u alpha)`` and the last at ``L - k``; ``u = samples[..., 0]`` drives
  the width, ``samples[..., 1]`` the height.
- ``"graham_pseudo"``: Graham's pseudo-random boundaries ``a_i = ceil(alpha (i + u)) - ceil(alpha u)``
  with ``alpha = T / o`` (steps of 1 or 2 cells), ending at ``a_o = T``.
- ``"graham_random"``: Graham's random boundaries: the steps are a random permutation of
  ``T - o`` twos and ``2o - T`` ones, drawn from ``seed``.

Graham's regions are ``[a_{i-1}, a_i - 1]`` (disjoint, ``T = L``: they partition the axis) or
``[a_{i-1}, a_i]`` (overlapping, ``T = L - 1``: neighbours share their border cell, the regions
cover the axis). The paper numbers cells ``1..N_in`` and ends every sequence at ``N_in``, which
leaves the last cell out of the disjoint regions; ending disjoint sequences at ``L`` (as
TensorFlow's ``FractionalMaxPool`` does) uses every cell.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from pooling_core.errors import PoolingError
from pooling_core.geometry import WindowGeometry, pair
from pooling_core.messages import Message
from pooling_core.numbers import fmt
from pooling_core.operators.classic import max_arithmetic
from pooling_core.registry import Explanation, Operator, Param, register

VARIANTS = ("torch", "graham_random", "graham_pseudo")


def output_lengths(in_size, output_size, output_ratio) -> tuple[int, int]:
    """``output_size`` as an ``(h, w)`` pair, else ``int(L * output_ratio)`` per axis (ratio 0.5 if neither is set)."""
    if output_size is not None and output_ratio is not None:
        raise PoolingError("fractional.size_and_ratio")
    if output_size is not None:
        return pair(output_size, "geometry.output_size_not_whole")
    ratio = 0.5 if output_ratio is None else output_ratio
    if not 0 < ratio < 1:
        raise PoolingError("fractional.ratio_out_of_range", ratio=fmt(ratio))
    lengths = tuple(int(length * ratio) for length in in_size)
    if min(lengths) < 1:
        raise PoolingError("fractional.empty_output", ratio=fmt(ratio), height=in_size[0], width=in_size[1])
    return lengths


def offsets(samples, seed: int) -> tuple[float, float]:
    """The offsets ``(u_width, u_height)``: from ``samples`` if given, else drawn from ``seed``.

    ``samples`` has shape (2,), (1, 1, 2) or (N, C, 2) as PyTorch's ``_random_samples``; since one
    geometry describes every map of a call, all its rows must be equal.
    """
    if samples is None:
        generator = torch.Generator().manual_seed(seed)
        u_width, u_height = torch.rand(2, generator=generator, dtype=torch.float64).tolist()
        return u_width, u_height
    array = np.asarray(samples, dtype=np.float64)
    if array.ndim not in (1, 3) or array.shape[-1] != 2 or array.size == 0:
        raise PoolingError("fractional.samples_shape", shape=str(array.shape))
    pairs = array.reshape(-1, 2)
    if (pairs != pairs[0]).any():
        raise PoolingError("fractional.samples_differ")
    if ((pairs < 0) | (pairs >= 1)).any():
        raise PoolingError("fractional.samples_range")
    return float(pairs[0, 0]), float(pairs[0, 1])


def torch_starts(length: int, out: int, kernel: int, u: float) -> np.ndarray:
    """Window starts of ``F.fractional_max_pool2d`` along one axis (its ``generate_intervals``)."""
    if kernel < 1 or out + kernel - 1 > length:
        raise PoolingError("fractional.windows_do_not_fit", outputs=out, kernel=kernel, length=length)
    if out == 1:
        return np.array([length - kernel])
    alpha = (length - kernel) / (out - 1)
    return np.array([int((i + u) * alpha) - int(u * alpha) for i in range(out - 1)] + [length - kernel])


def graham_boundaries(length: int, out: int, overlapping: bool, u: float | None = None,
                      generator: torch.Generator | None = None) -> np.ndarray:
    """Graham's ``a_0 = 0 < a_1 < ... < a_o = T`` with steps of 1 or 2; ``T = L - 1`` if overlapping else ``L``.

    Pseudo-random (``u`` given): ``a_i = ceil(alpha (i + u)) - ceil(alpha u)``, ``alpha = T / o``.
    Random (``generator`` given): the steps are a random permutation of ``T - o`` twos and ``2o - T`` ones.
    """
    total = length - int(overlapping)
    if not out <= total <= 2 * out:
        if total < 1:  # only overlapping regions on a 1-cell side
            raise PoolingError("fractional.graham_overlapping_none", length=length, outputs=out)
        key = "fractional.graham_overlapping" if overlapping else "fractional.graham_disjoint"
        raise PoolingError(key, length=length, low=math.ceil(total / 2), high=total, outputs=out)
    if generator is not None:
        steps = torch.ones(out, dtype=torch.int64)
        steps[: total - out] = 2
        steps = steps[torch.randperm(out, generator=generator)].numpy()
        return np.concatenate([[0], np.cumsum(steps)])
    alpha = total / out
    return np.array([math.ceil(alpha * (i + u)) - math.ceil(alpha * u) for i in range(out)] + [total])


def region_axis(boundaries: np.ndarray, overlapping: bool) -> tuple[np.ndarray, np.ndarray]:
    """Regions ``[a_{i-1}, a_i - 1]`` (or ``[a_{i-1}, a_i]``) as (index, present) of width max region size."""
    starts, sizes = boundaries[:-1], np.diff(boundaries) + overlapping
    cells = np.arange(sizes.max())[None, :]
    return starts[:, None] + cells, cells < sizes[:, None]


def fractional_windows(in_size, params, kernel_size, stride, padding, dilation, ceil_mode) -> WindowGeometry:
    """The windows of one call: ``kernel_size`` sizes the torch variant's windows, Graham's ignore it."""
    variant, overlapping = params["variant"], params["overlapping"]
    outs = output_lengths(in_size, params["output_size"], params["output_ratio"])
    if variant == "graham_random":
        if params["samples"] is not None:
            raise PoolingError("fractional.samples_with_random")
        generator = torch.Generator().manual_seed(params["seed"])
        axes = [region_axis(graham_boundaries(length, out, overlapping, generator=generator), overlapping)
                for length, out in zip(in_size, outs)]
    else:
        u_width, u_height = offsets(params["samples"], params["seed"])
        if variant == "torch":
            kernel = pair(kernel_size, "geometry.kernel_size_not_whole")
            axes = []
            for length, out, k, u in zip(in_size, outs, kernel, (u_height, u_width)):
                index = torch_starts(length, out, k, u)[:, None] + np.arange(k)[None, :]
                axes.append((index, np.ones(index.shape, bool)))
        else:
            axes = [region_axis(graham_boundaries(length, out, overlapping, u=u), overlapping)
                    for length, out, u in zip(in_size, outs, (u_height, u_width))]
    (rows, row_present), (cols, col_present) = axes
    return WindowGeometry(tuple(in_size), rows, cols, row_present, col_present)


def fractional_forward(x, geometry, return_indices=False, samples=None, **_):
    """Max over each window (absent cells are -inf); ``indices`` are flat offsets into each H*W plane."""
    if samples is not None and np.ndim(samples) == 3 and np.shape(samples)[:2] not in ((1, 1), tuple(x.shape[:2])):
        raise PoolingError("fractional.samples_batch", shape=str(np.shape(samples)), n=x.shape[0], c=x.shape[1])
    output, position = geometry.gather(x, -torch.inf).flatten(-2).max(-1)
    if not return_indices:
        return output
    flat = torch.as_tensor(geometry.rows[:, None, :, None] * geometry.in_size[1] + geometry.cols[None, :, None, :])
    out_rows, out_cols = (torch.arange(n) for n in geometry.out_size)
    return output, flat.flatten(-2)[out_rows[:, None], out_cols[None, :], position]


def fractional_explained(x, geometry, **params):
    output, indices = fractional_forward(x, geometry, return_indices=True, **params)
    return output, Explanation(indices=indices)


def fractional_notice(x, variant="torch", samples=None, seed=0, overlapping=False, **_):
    if variant == "graham_random":
        key = "fractional.sequence_random_overlapping" if overlapping else "fractional.sequence_random_disjoint"
        return Message(key, seed=seed)
    u_width, u_height = offsets(samples, seed)
    u = dict(u_rows=fmt(u_height), u_cols=fmt(u_width))
    if variant == "torch":
        return Message("fractional.sequence_torch", **u)
    key = "fractional.sequence_pseudo_overlapping" if overlapping else "fractional.sequence_pseudo_disjoint"
    return Message(key, **u)


register(Operator(
    id="fractional_max", name="Fractional max pooling",
    summary="Max pooling that shrinks by a non-integer factor. Variant 'torch' uses PyTorch's sequence (k x k windows "
            "at pseudo-random starts); 'graham_pseudo' and 'graham_random' use Graham's region boundaries with steps "
            "of 1 or 2 cells (pseudo-random a_i = ceil(α(i+u)), or a random order of steps).",
    formula=r"y_{ij} = \max_{(u,v) \in R_{ij}} a_{uv},\quad R_{ij} = \begin{cases}"
            r"[p_i, p_i + k) \times [q_j, q_j + k),\ p_i = \lfloor (i+u)\alpha \rfloor - \lfloor u\alpha \rfloor"
            r" & \text{torch} \\ [a_{i-1}, a_i - 1] \times [b_{j-1}, b_j - 1] & \text{Graham, disjoint} \\"
            r" [a_{i-1}, a_i] \times [b_{j-1}, b_j] & \text{Graham, overlapping} \end{cases}",
    citation="B. Graham, Fractional max-pooling, arXiv:1412.6071, 2014.",
    forward=fractional_forward, explained=fractional_explained, arithmetic=max_arithmetic, notice=fractional_notice,
    windows=fractional_windows, controls=("kernel_size",), has_weights=True, reduction="max", random=True,
    params=(
        Param("output_size", "size", None, "Output height and width: one number, or (h, w) in the library.", low=1,
              ui=(1, 1024), optional=True, label="Output size"),
        Param("output_ratio", "float", None, "Output size as a fraction of the input (0.5 if no size is set).",
              low=0.0, high=1.0, low_open=True, ui=(0.05, 0.95), optional=True, label="Output ratio"),
        Param("samples", "float", None, "Offsets u in [0, 1): shape (2,) or (N, C, 2) with equal rows; "
              "[..., 0] for the width, [..., 1] for the height.", optional=True, accepts_array=True,
              in_app=False),
        Param("seed", "int", 0, "Seed that draws u (or Graham's random steps) when no samples are given.",
              low=0, high=2**64 - 1, ui=(0, 2**31 - 1), label="Random seed"),
        Param("variant", "choice", "torch", "Window sequence: PyTorch's, or Graham's random or pseudo-random one.",
              choices=VARIANTS, label="Variant",
              choice_labels=("torch (PyTorch's)", "graham_random (Graham, random)",
                             "graham_pseudo (Graham, pseudo-random)")),
        Param("overlapping", "bool", False, "Graham variants: regions share their border cell.",
              label="Overlapping regions"),
    ),
))
