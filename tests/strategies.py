"""Hypothesis strategies and helpers shared by the operator tests."""

from __future__ import annotations

import hypothesis.extra.numpy as hnp
import numpy as np
import torch
from hypothesis import assume
from hypothesis import strategies as st

from pooling_core import output_size

# The textbook's 4x4 example: max 2x2 gives [[6, 8], [3, 4]], average [[3.25, 5.25], [2, 2]].
TEXTBOOK = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]], dtype=np.float64)
SMALL_INTS = st.sampled_from([-2.0, -1.0, 0.0, 1.0, 2.0])  # integer-valued: ties are common


def t(x):
    return torch.from_numpy(np.ascontiguousarray(x))


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
