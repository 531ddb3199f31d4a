"""Adaptive polyphase sampling against a NumPy loop, its exact equivariance to circular shifts,
gradcheck, its explanation (the winning component and its window) and the shift demo."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from pooling_core import OPERATORS, PoolingError, input_gradient, pool2d
from pooling_core.explain import window_report


def aps_oracle(x, kernel, stride, p):
    """Loops: circular max with stride 1, every component's Lp norm over all channels, the first
    largest in reading order kept. Returns the output, flat indices, each image's (a, b) and
    whether every image's largest norm is unique."""
    n, c, height, width = x.shape
    (kh, kw), (sh, sw) = kernel, stride
    m = np.empty_like(x)
    where = np.empty(x.shape, dtype=np.int64)
    for b_, c_, u, v in np.ndindex(x.shape):
        best, at = -math.inf, -1
        for d in range(kh):
            for e in range(kw):
                r, q = (u + d) % height, (v + e) % width
                if x[b_, c_, r, q] > best:
                    best, at = x[b_, c_, r, q], r * width + q
        m[b_, c_, u, v], where[b_, c_, u, v] = best, at
    out = np.empty((n, c, height // sh, width // sw))
    indices = np.empty(out.shape, dtype=np.int64)
    chosen, unique = [], True
    for b_ in range(n):
        norms = {}
        for a in range(sh):
            for b in range(sw):
                part = np.abs(m[b_, :, a::sh, b::sw])
                norms[a, b] = part.max() if math.isinf(p) else (part**p).sum() ** (1 / p)
        best = max(norms, key=norms.get)  # the first of equal largest norms, in reading order
        unique &= sorted(norms.values())[-2:] != [norms[best]] * 2
        a, b = best
        out[b_], indices[b_] = m[b_, :, a::sh, b::sw], where[b_, :, a::sh, b::sw]
        chosen.append(best)
    return out, indices, chosen, unique


@st.composite
def aps_cases(draw):
    """(x (N, C, H, W) of random floats, kernel, stride, norm p): sides multiples of the stride."""
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    side = [s * draw(st.integers(max(1, -(-(k + s - 1) // s)), 5)) for k, s in zip(kernel, stride)]
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), *side)
    # Random floats: tied norms (which would break the equivariance) have probability 0.
    x = np.random.default_rng(draw(st.integers(0, 2**32 - 1))).normal(size=shape)
    return x, kernel, stride, draw(st.sampled_from([2.0, 1.0, 3.5, math.inf]))


@settings(max_examples=60, deadline=None)
@given(case=aps_cases())
def test_aps_matches_the_numpy_loop(case):
    x, kernel, stride, p = case
    result = pool2d(x, "aps", kernel_size=kernel, stride=stride, norm_p=p)
    output, indices, chosen, _ = aps_oracle(x, kernel, stride, p)
    np.testing.assert_array_equal(result.output, output)
    np.testing.assert_array_equal(result.indices, indices)
    assert [result.component((n, 0)) for n in range(x.shape[0])] == chosen
    np.testing.assert_array_equal(result.weights.sum((-1, -2)), 1.0)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(case=aps_cases(), dy=st.integers(-7, 7), dx=st.integers(-7, 7))
def test_a_circular_shift_of_the_input_circularly_shifts_the_output_exactly(case, dy, dx):
    x, kernel, stride, p = case
    (sh, sw) = stride
    # Random floats do not make every norm distinct: the circular max repeats a window's maximum in
    # its neighbours, so on small maps two components can hold the same values (4 rows, kernel 2,
    # stride 2: [m0, m2] and [m1, m3] with m1 = m2, m3 = m0 when the maxima are x2 and x0).
    assume(aps_oracle(x, kernel, stride, p)[3])
    original = pool2d(x, "aps", kernel_size=kernel, stride=stride, norm_p=p)
    shifted = pool2d(np.roll(x, (dy, dx), axis=(-2, -1)), "aps", kernel_size=kernel, stride=stride, norm_p=p)
    for n in range(x.shape[0]):
        a, b = original.component((n, 0))
        # Input row u moves to u + dy, so the winner's phase becomes (a + dy) mod s and the output
        # moves by floor((a + dy) / s) rows.
        assert shifted.component((n, 0)) == ((a + dy) % sh, (b + dx) % sw)
        expected = np.roll(original.output[n], ((a + dy) // sh, (b + dx) // sw), axis=(-2, -1))
        np.testing.assert_array_equal(shifted.output[n], expected)


def test_max_pooling_with_stride_two_is_not_shift_equivariant_where_aps_is():
    x = np.random.default_rng(0).normal(size=(1, 3, 8, 8))
    moved = np.roll(x, 1, axis=-1)
    max_before, max_after = pool2d(x, "max").output, pool2d(moved, "max").output
    assert not any(np.array_equal(max_after, np.roll(max_before, (r, c), axis=(-2, -1)))
                   for r in range(4) for c in range(4))
    aps_before, aps_after = pool2d(x, "aps").output, pool2d(moved, "aps").output
    assert sum(np.array_equal(aps_after, np.roll(aps_before, (r, c), axis=(-2, -1)))
               for r in range(4) for c in range(4)) == 1


def test_the_shift_demo_of_a_repeated_step():
    """[0, 0, 1, 1] repeated: max pooling 2/2 gives [0, 1, 0, 1] and, one cell later, [1, 1, 1, 1];
    APS gives [1, 1, 1, 1] both times (the component of odd offsets wins, then the even one)."""
    signal = np.tile([0.0, 0.0, 1.0, 1.0], 2)[None, :]
    shifted = np.roll(signal, -1, axis=-1)
    one_by_two = dict(kernel_size=(1, 2))
    np.testing.assert_array_equal(pool2d(signal, "max", **one_by_two).output, [[0, 1, 0, 1]])
    np.testing.assert_array_equal(pool2d(shifted, "max", **one_by_two).output, [[1, 1, 1, 1]])
    before, after = pool2d(signal, "aps", **one_by_two), pool2d(shifted, "aps", **one_by_two)
    np.testing.assert_array_equal(before.output, [[1, 1, 1, 1]])
    np.testing.assert_array_equal(after.output, [[1, 1, 1, 1]])
    assert (before.component(), after.component()) == ((0, 1), (0, 0))
    np.testing.assert_array_equal(before.indices, [[2, 3, 6, 7]])  # the first 1 of each window (1, 1)


def test_ties_between_norms_go_to_the_first_component_in_reading_order():
    x = np.zeros((4, 4))
    x[0, 1] = x[1, 0] = 5.0  # components (0, 1) and (1, 0) both have norm 5, the others 0
    assert pool2d(x, "aps", kernel_size=1, stride=2).component() == (0, 1)
    assert pool2d(np.ones((4, 4)), "aps", kernel_size=1, stride=2).component() == (0, 0)


def test_window_report_shows_the_winning_components_window_and_says_which_won():
    x = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]], dtype=np.float64)
    result = pool2d(x, "aps")
    # The circular 2x2 max is [[6, 7, 8, 8], [6, 7, 8, 8], [3, 3, 4, 4], [2, 3, 4, 4]]; the squared
    # norms of components (0, 0), (0, 1), (1, 0), (1, 1) are 125, 138, 120, 138: the tie goes to (0, 1).
    assert result.component() == (0, 1)
    np.testing.assert_array_equal(result.output, [[7, 8], [3, 4]])
    report = window_report(result, x, 1, 1)
    np.testing.assert_array_equal(report.rows, [2, 3, 0])
    np.testing.assert_array_equal(report.cols, [2, 3, 0])
    np.testing.assert_array_equal(report.real, [[False, True, True], [False, True, True], [False] * 3])
    assert report.text == ("max(0, 3, 4, 1) = 4, from polyphase component (0, 1): the one with the largest L2 norm "
                           "over all channels")


@pytest.mark.parametrize("kernel, stride, p", [(2, 2, 2.0), (3, 2, 1.0), ((2, 3), (2, 1), math.inf)])
def test_gradcheck(kernel, stride, p):
    rng = np.random.default_rng(1)
    x = rng.permutation(2 * 2 * 4 * 6).reshape(2, 2, 4, 6) / 10.0 - 4.0  # distinct: no ties within eps
    geometry = pool2d(x, "aps", kernel_size=kernel, stride=stride).geometry
    forward = OPERATORS["aps"].forward
    xt = torch.from_numpy(x).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda v: forward(v, geometry, norm_p=p), (xt,), eps=1e-6, atol=1e-6)


def test_the_gradient_goes_to_the_winners_like_max_pooling():
    x = np.random.default_rng(2).normal(size=(2, 3, 6, 4))
    result = pool2d(x, "aps", kernel_size=3, stride=2)
    upstream = np.random.default_rng(3).normal(size=result.output.shape)
    expected = np.zeros(x.shape).reshape(2, 3, -1)
    for n, c in np.ndindex(2, 3):
        np.add.at(expected[n, c], result.indices[n, c].ravel(), upstream[n, c].ravel())
    gradient = input_gradient(x, "aps", upstream, kernel_size=3, stride=2)
    np.testing.assert_allclose(gradient, expected.reshape(x.shape), rtol=0, atol=1e-15)


@pytest.mark.parametrize("shape, kw, message", [
    ((5, 4), {}, "a side of 5 cells is not a multiple of the stride 2"),
    ((2, 4), {}, "with kernel 2 and stride 2 an output can read 3 cells along a side, more than the 2"),
    ((4, 4), {"norm_p": 0.0}, "norm_p must be greater than 0"),
])
def test_bad_settings_are_refused_with_a_sentence(shape, kw, message):
    with pytest.raises(PoolingError, match=message):
        pool2d(np.ones(shape), "aps", **kw)
