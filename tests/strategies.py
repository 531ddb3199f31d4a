"""Hypothesis strategies, references and helpers shared by the library tests.

The references never call ``pooling_core`` beyond reading a result's geometry: they are loops over
explicit coordinates or ``torch.nn.functional`` calls.
"""

from __future__ import annotations

import math

import hypothesis.extra.numpy as hnp
import numpy as np
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, assume, settings
from hypothesis import strategies as st

from pooling_core import output_size

# The textbook's 4x4 example: max 2x2 gives [[6, 8], [3, 4]], average [[3.25, 5.25], [2, 2]].
TEXTBOOK = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]], dtype=np.float64)
# The same grid as it is typed into the app: one row per line, values separated by spaces.
TEXTBOOK_TEXT = "\n".join(" ".join(f"{value:g}" for value in row) for row in TEXTBOOK)

SMALL_INTS = st.sampled_from([-2.0, -1.0, 0.0, 1.0, 2.0])  # integer-valued: ties are common
FLOATS_100 = st.floats(-100, 100, allow_nan=False, allow_infinity=False)
FLOATS_10 = st.floats(-10, 10, allow_nan=False, allow_infinity=False)  # exp(x / T) stays finite for T >= 0.25

# Tolerances: exact to rounding against PyTorch's own operator, and against references that sum
# exponentials or powers in another order.
TIGHT = dict(rtol=1e-12, atol=1e-12)
CLOSE = dict(rtol=1e-10, atol=1e-10)


def examples(n):
    """Hypothesis settings with ``n`` examples, no deadline, and no health check for slow or heavily
    filtered generation (:func:`sliding_cases` rejects geometries whose windows read only padding)."""
    return settings(max_examples=n, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def t(x):
    return torch.from_numpy(np.ascontiguousarray(x))


# ---------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------

@st.composite
def arrays_of(draw, shape, floats):
    """Float64 arrays of values from ``floats`` or, to force ties, from a small set of integers."""
    return draw(hnp.arrays(np.float64, shape, elements=draw(st.sampled_from([floats, SMALL_INTS]))))


def every_window_reads_input(length, k, s, p, d, ceil_mode):
    """Each window along the axis holds at least one input cell (PoolScope refuses the rest)."""
    out = output_size(length, k, s, p, d, ceil_mode)
    return all(any(0 <= i * s - p + j * d < length for j in range(k)) for i in range(out))


@st.composite
def sliding_cases(draw, floats, padding=True, dilation=True, ceil=True, elements=None):
    """(x of shape (N, C, H, W), keyword arguments of a sliding pool): a geometry PyTorch accepts
    in which every window reads the input. Values come from ``elements`` if given, else from
    ``floats`` or, to force ties, from a small set of integers."""
    kernel = (draw(st.integers(1, 5)), draw(st.integers(1, 5)))
    stride = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    pad = tuple(draw(st.integers(0, k // 2)) if padding else 0 for k in kernel)
    dil = (draw(st.integers(1, 3)), draw(st.integers(1, 3))) if dilation else (1, 1)
    ceil_mode = draw(st.booleans()) if ceil else False
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 12)), draw(st.integers(1, 12)))
    for length, k, s, p, d in zip(shape[-2:], kernel, stride, pad, dil):
        assume(output_size(length, k, s, p, d, ceil_mode) >= 1)
        assume(every_window_reads_input(length, k, s, p, d, ceil_mode))
    x = draw(arrays_of(shape, floats) if elements is None else hnp.arrays(np.float64, shape, elements=elements))
    return x, dict(kernel_size=kernel, stride=stride, padding=pad, dilation=dil, ceil_mode=ceil_mode)


@st.composite
def distinct_cases(draw, scale=1.0, **options):
    """Like :func:`sliding_cases` with all values distinct, ``scale`` apart (tie-free max, clear limits)."""
    x, kw = draw(sliding_cases(FLOATS_10, elements=st.just(0.0), **options))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return scale * rng.permutation(x.size).reshape(x.shape).astype(np.float64), kw


def no_dilation(kwargs):
    return {k: v for k, v in kwargs.items() if k != "dilation"}


def random_upstream(seed, shape):
    return np.random.default_rng(seed).uniform(-1, 1, shape)


def random_array(seed, shape):
    return np.random.default_rng(seed).standard_normal(shape)


def distinct_array(seed, shape):
    """No two values closer than 0.1: max pooling has no ties, so finite differences see one argmax."""
    values = np.random.default_rng(seed).permutation(math.prod(shape)) / 10.0
    return values.reshape(shape)


EXTREMES = {
    "large": lambda shape: np.where(random_array(4, shape) > 0, 1e4, -1e4),
    "equal": lambda shape: np.full(shape, 2.5),
    "zero": np.zeros,
    "negative": lambda shape: -np.abs(random_array(5, shape)) - 1,
}


def draws(seed, shape):
    """The documented uniform draws of the random operators."""
    return torch.rand(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64).numpy()


# ---------------------------------------------------------------------------------------------
# Windows and references
# ---------------------------------------------------------------------------------------------

def window_values(x, geometry):
    """(..., Ho, Wo, kh, kw) window values of ``x`` (0 off the input) and the realness mask, by NumPy."""
    height, width = geometry.in_size
    real = geometry.real_mask()
    rows = np.clip(geometry.rows, 0, height - 1)
    cols = np.clip(geometry.cols, 0, width - 1)
    values = x[..., rows[:, None, :, None], cols[None, :, None, :]]
    return np.where(real, values, 0.0), real


def assert_weighted_sum(x, result):
    np.testing.assert_allclose((result.weights * window_values(x, result.geometry)[0]).sum((-1, -2)), result.output,
                               rtol=1e-12, atol=1e-12)


def torch_out_size(shape, kw) -> tuple[int, int]:
    return tuple(F.max_pool2d(torch.zeros(1, 1, *shape[-2:]), **kw).shape[-2:])


def window_cells(shape, kw):
    """For each output cell (i, j): the input rows and columns its window reads, by the sliding rule."""
    height, width = shape[-2:]
    out_h, out_w = torch_out_size(shape, kw)

    def positions(i, length, axis):
        k, s, p, d = (kw[name][axis] for name in ("kernel_size", "stride", "padding", "dilation"))
        return [i * s - p + a * d for a in range(k) if 0 <= i * s - p + a * d < length]

    for i in range(out_h):
        for j in range(out_w):
            yield i, j, positions(i, height, 0), positions(j, width, 1)


def loop_reference(x, kw, reduce, *maps):
    """``reduce(values, *map_values)`` per window, each (N, C, cells) in reading order; -> (N, C, Ho, Wo)."""
    out = np.zeros((*x.shape[:2], *torch_out_size(x.shape, kw)))
    for i, j, rows, cols in window_cells(x.shape, kw):
        windows = [m[:, :, rows][:, :, :, cols].reshape(*x.shape[:2], -1) for m in (x, *maps)]
        out[:, :, i, j] = reduce(*windows)
    return out


def softmax_average(values, logits):
    weights = np.exp(logits - logits.max(-1, keepdims=True))
    return (weights * values).sum(-1) / weights.sum(-1)


def conv_oracle(x, kernel, kw):
    """``sum_uv K_uv x[s i - p + d u, s j - p + d v]`` with zeros off the input, by ``F.conv2d``."""
    batch, channels, height, width = x.shape
    out_h, out_w = torch_out_size(x.shape, kw)
    (kh, kwid), (sh, sw), (ph, pw), (dh, dw) = (kw[n] for n in ("kernel_size", "stride", "padding", "dilation"))
    # Zero-pad p on the left/top and enough on the right/bottom for the ceil-mode overhang.
    bottom = max(0, (out_h - 1) * sh + dh * (kh - 1) + 1 - ph - height)
    right = max(0, (out_w - 1) * sw + dw * (kwid - 1) + 1 - pw - width)
    padded = F.pad(t(x).reshape(batch * channels, 1, height, width), (pw, right, ph, bottom))
    out = F.conv2d(padded, t(np.asarray(kernel, dtype=np.float64))[None, None], stride=(sh, sw), dilation=(dh, dw))
    return out[..., :out_h, :out_w].reshape(batch, channels, out_h, out_w).numpy()


def mean_oracle(x, kw):
    """Mean over the real cells of each window (padding ignored), dilation allowed: two convolutions."""
    ones = np.ones(kw["kernel_size"])
    return conv_oracle(x, ones, kw) / conv_oracle(np.ones_like(x), ones, kw)


def max_oracle(x, kw):
    return F.max_pool2d(t(x), **kw).numpy()


def binomial_variance(size):
    """Variance of the binomial filter with ``size`` taps C(size - 1, i), by a direct sum."""
    taps = [math.comb(size - 1, i) for i in range(size)]
    centre = (size - 1) / 2
    return sum(tap * (i - centre) ** 2 for i, tap in enumerate(taps)) / sum(taps)


def gaussian_kernel_reference(shape):
    """weighted_avg's documented Gaussian kernel, scaled to sum 1: cell by cell, exp of
    -(dy^2 / 2 var_h + dx^2 / 2 var_w) at the cell's offsets (dy, dx) from the kernel centre, where
    var is the variance of the binomial filter of that side (a side of one cell has offset 0)."""
    kh, kw = shape
    variances = binomial_variance(kh), binomial_variance(kw)
    kernel = np.zeros(shape)
    for row in range(kh):
        for col in range(kw):
            offsets = (row - (kh - 1) / 2, col - (kw - 1) / 2)
            kernel[row, col] = math.exp(-sum(d * d / (2 * v) for d, v in zip(offsets, variances) if d))
    return kernel / kernel.sum()


def torch_grad(fn, x, upstream):
    xt = t(x).clone().requires_grad_(True)
    out = fn(xt)
    (grad,) = torch.autograd.grad(out, xt, t(upstream).reshape(out.shape))
    return grad.numpy()
