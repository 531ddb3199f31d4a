"""The strided-view paths of ``pooling_core.operators.strided`` against ``torch.nn.functional``.

Max values are compared bit for bit (NaN where PyTorch has NaN), indices exactly, gradients
exactly against autograd through ``F.max_pool2d``; window sums to rounding. The hypothesis
cases call the strided functions directly, so they are checked on the small inputs that the
dispatch leaves to PyTorch; each test asserts the strided path answered where it must.
"""

from __future__ import annotations

import math
from unittest import mock

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from pooling_core import input_gradient, pool2d
from pooling_core.geometry import regular_geometry
from pooling_core.operators import classic, strided
from tests.strategies import sliding_cases

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
SPECIAL = st.sampled_from([-math.inf, -2.0, -1.0, -0.0, 0.0, 1.0, 2.0, math.inf, math.nan])  # ties, NaN, ±inf, ±0
WIDE = st.floats(width=32, allow_nan=True, allow_infinity=True)  # exact in float32 too
FINITE = st.floats(-100, 100, width=32)
TIES = st.sampled_from([-2.0, -1.0, 0.0, 1.0, 2.0])
DTYPES = st.sampled_from([torch.float64, torch.float32])
EXTREMES = st.sampled_from([strided.MAX, strided.MIN])
ALWAYS = {key: 0 for key in strided.MIN_ELEMENTS}
NEVER = {key: math.inf for key in strided.MIN_ELEMENTS}


def cases(*element_sets, **kwargs):
    return st.one_of(*(sliding_cases(None, elements=elements, **kwargs) for elements in element_sets))


def prepare(case, dtype):
    x, kw = case
    return torch.from_numpy(x).to(dtype), kw, regular_geometry(x.shape[-2:], **kw)


def bits(tensor):
    return tensor.view(torch.int64 if tensor.dtype == torch.float64 else torch.int32)


def assert_same_bits(ours, theirs):
    """Equal bit patterns, except that any NaN matches any NaN."""
    nan = torch.isnan(theirs)
    assert torch.equal(torch.isnan(ours), nan)
    assert torch.equal(bits(ours)[~nan], bits(theirs)[~nan])


def pytorch(x, kw, extreme, return_indices=False):
    """The oracle: PyTorch's max pooling, and for the minimum ``-F.max_pool2d(-x)``."""
    if extreme is strided.MAX:
        return F.max_pool2d(x, **kw, return_indices=return_indices)
    found = F.max_pool2d(-x, **kw, return_indices=return_indices)
    return (-found[0], found[1]) if return_indices else -found


def zero_sign_in_doubt(x, out):
    return bool((out == 0).any()) and bool(torch.signbit(x[x == 0]).any())


@SETTINGS
@given(cases(WIDE, SPECIAL), DTYPES, EXTREMES)
def test_max_and_min_values_are_pytorchs_bit_for_bit(case, dtype, extreme):
    x, kw, geometry = prepare(case, dtype)
    expected = pytorch(x, kw, extreme)
    ours = strided.sliding_extreme(x, geometry, extreme)
    if ours is None:
        assert zero_sign_in_doubt(x, expected)  # the one case left to PyTorch
    else:
        assert_same_bits(ours, expected)


@SETTINGS
@given(cases(WIDE, SPECIAL), DTYPES, EXTREMES)
def test_max_and_min_indices_are_pytorchs(case, dtype, extreme):
    x, kw, geometry = prepare(case, dtype)
    expected, expected_indices = pytorch(x, kw, extreme, return_indices=True)
    found = strided.sliding_extreme_with_indices(x, geometry, extreme)
    if found is None:  # left to PyTorch: a NaN output (or +inf and -inf ones), or a doubtful zero
        assert torch.isnan(expected.sum()) or zero_sign_in_doubt(x, expected)
    else:
        assert_same_bits(found[0], expected)
        assert torch.equal(found[1], expected_indices)


@SETTINGS
@given(cases(WIDE, SPECIAL), DTYPES, st.integers(1, 40), EXTREMES)
def test_a_group_of_planes_at_a_time_gives_pytorchs_results(case, dtype, chunk, extreme):
    x, kw, geometry = prepare(case, dtype)
    expected, expected_indices = pytorch(x, kw, extreme, return_indices=True)
    with mock.patch.object(strided, "CHUNK_ELEMENTS", chunk):
        values = strided.sliding_extreme(x, geometry, extreme)
        found = strided.sliding_extreme_with_indices(x, geometry, extreme)
        sums = None if kw["dilation"] != (1, 1) else strided.sliding_sum(x, geometry)
        squares = None if sums is None else strided.sliding_sum_of_squares(x, geometry)
    for result in (values, None if found is None else found[0]):
        if result is None:
            assert torch.isnan(expected.sum()) or zero_sign_in_doubt(x, expected)
        else:
            assert_same_bits(result, expected)
    if found is not None:
        assert torch.equal(found[1], expected_indices)
    if sums is not None:
        pooled = {key: value for key, value in kw.items() if key != "dilation"}
        assert_window_sums_close(sums, x.double(), pooled, dtype)
        assert_window_sums_close(squares, x.double() ** 2, pooled, dtype)


def assert_window_sums_close(ours, values, kw, dtype):
    """Window sums against float64 ones, to rounding relative to the sum of the cells' magnitudes.
    Windows whose finite cells could overflow ``dtype`` on the way are left out: there float32
    gives inf or NaN by its own arithmetic, whatever the order of the additions."""
    def window_sum(cells):
        return F.avg_pool2d(cells, **kw, divisor_override=1)
    expected = window_sum(values)
    magnitude = window_sum(torch.where(values.isfinite(), values.abs(), 0.0))
    checked = magnitude <= torch.finfo(dtype).max
    ours, expected, magnitude = ours.double()[checked], expected[checked], magnitude[checked]
    assert torch.equal(ours.isnan(), expected.isnan())
    infinite, finite = expected.isinf(), expected.isfinite()
    assert torch.equal(ours[infinite], expected[infinite])
    error = (ours - expected)[finite].abs()
    assert bool((error <= 1e-5 * magnitude[finite] + torch.finfo(dtype).tiny).all())


@SETTINGS
@given(cases(WIDE, SPECIAL), DTYPES, st.integers(0, 2**32 - 1), EXTREMES)
def test_max_and_min_gradients_are_pytorchs_even_on_ties(case, dtype, seed, extreme):
    x, kw, geometry = prepare(case, dtype)
    upstream = torch.from_numpy(np.random.default_rng(seed).uniform(-1, 1, F.max_pool2d(x, **kw).shape)).to(dtype)
    theirs = x.clone().requires_grad_(True)
    (expected,) = torch.autograd.grad(pytorch(theirs, kw, extreme), theirs, upstream)
    ours = x.clone().requires_grad_(True)
    with mock.patch.dict(strided.MIN_ELEMENTS, ALWAYS):
        out, indices = strided.extreme_pool(ours, geometry, return_indices=True, extreme=extreme)
    assert out.grad_fn is not None and "ExtremePool" in type(out.grad_fn).__name__
    (gradient,) = torch.autograd.grad(out, ours, upstream)
    assert torch.equal(gradient, expected)
    assert torch.equal(indices, pytorch(x, kw, extreme, return_indices=True)[1])


@SETTINGS
@given(cases(FINITE, TIES, dilation=False), DTYPES)
def test_window_sums_match_avg_pool(case, dtype):
    x, kw, geometry = prepare(case, dtype)
    kw.pop("dilation")
    expected = F.avg_pool2d(x.double(), **kw, divisor_override=1)
    tolerance = 1e-12 if dtype == torch.float64 else 1e-5
    ours = strided.sliding_sum(x, geometry)
    assert ours.dtype == dtype
    assert_allclose(ours.double(), expected, rtol=tolerance, atol=tolerance * 100)
    squares = F.avg_pool2d(x.double() ** 2, **kw, divisor_override=1)
    assert_allclose(strided.sliding_sum_of_squares(x, geometry).double(), squares, rtol=tolerance,
                    atol=tolerance * 1e4)


@SETTINGS
@given(cases(FINITE, TIES, dilation=False), DTYPES, st.booleans(), st.one_of(st.none(), st.integers(1, 9)),
       st.integers(0, 2**32 - 1))
def test_avg_through_the_strided_path_matches_torch(case, dtype, count_include_pad, divisor_override, seed):
    x, kw, _ = prepare(case, dtype)
    kw.pop("dilation")
    params = dict(count_include_pad=count_include_pad, divisor_override=divisor_override)
    expected = F.avg_pool2d(x, **kw, **params)
    numpy_dtype = np.float64 if dtype == torch.float64 else np.float32
    tolerance = 1e-12 if dtype == torch.float64 else 1e-5
    upstream = np.random.default_rng(seed).uniform(-1, 1, expected.shape)
    theirs = x.clone().requires_grad_(True)
    (expected_gradient,) = torch.autograd.grad(F.avg_pool2d(theirs, **kw, **params), theirs,
                                               torch.from_numpy(upstream).to(dtype))
    with mock.patch.dict(strided.MIN_ELEMENTS, ALWAYS), mock.patch.object(
            classic, "sliding_sum", wraps=strided.sliding_sum) as spy:
        result = pool2d(x.numpy(), "avg", **kw, **params, dtype=numpy_dtype)
        gradient = input_gradient(x.numpy(), "avg", upstream, **kw, **params, dtype=numpy_dtype)
    assert spy.call_count == 1  # the gradient is avg_pool2d's: faster than autograd through views
    assert_allclose(result.output, expected.numpy(), rtol=tolerance, atol=tolerance * 100)
    assert_allclose(gradient, expected_gradient.numpy(), rtol=tolerance, atol=tolerance)


@SETTINGS
@given(cases(FINITE, TIES), DTYPES)
def test_max_through_pool2d_takes_the_strided_path(case, dtype):
    x, kw, _ = prepare(case, dtype)
    expected, expected_indices = F.max_pool2d(x, **kw, return_indices=True)
    numpy_dtype = np.float64 if dtype == torch.float64 else np.float32
    with mock.patch.dict(strided.MIN_ELEMENTS, ALWAYS):
        result = pool2d(x.numpy(), "max", **kw, dtype=numpy_dtype)
        indices = result.indices
    assert_array_equal(result.output, expected.numpy())
    assert_array_equal(indices, expected_indices.numpy())


@pytest.mark.parametrize("op, params", [("lp", {"p": 2.0}), ("lp", {"p": 3.0, "mean": True}),
                                        ("softpool", {}), ("softpool", {"temperature": 0.5}), ("lip", {"beta": 2.0}),
                                        ("stochastic", {}), ("mixed", {"lam": 0.3}), ("gated", {}), ("avgmax", {})])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(case=sliding_cases(None, dilation=False, elements=FINITE))
def test_weighted_sums_agree_on_both_paths(op, params, dtype, case):
    x, kw = case
    with mock.patch.dict(strided.MIN_ELEMENTS, ALWAYS):
        fast = pool2d(x, op, **kw, **params, dtype=dtype).output
    with mock.patch.dict(strided.MIN_ELEMENTS, NEVER):
        slow = pool2d(x, op, **kw, **params, dtype=dtype).output
    tolerance = 1e-10 if dtype == np.float64 else 1e-4
    assert_allclose(fast, slow, rtol=tolerance, atol=tolerance)


# ---------------------------------------------------------------------------------------------
# Dispatch
# ---------------------------------------------------------------------------------------------

def test_dispatch_follows_the_measured_sizes():
    for (kind, dtype), limit in strided.MIN_ELEMENTS.items():
        side = math.isqrt(limit) + 1
        assert strided.fast_path(kind, torch.zeros(1, 1, side, side, dtype=dtype), regular_geometry((side, side), 2))
        small = max(2, math.isqrt(limit - 1) - 1)
        assert not strided.fast_path(kind, torch.zeros(1, 1, small, small, dtype=dtype),
                                     regular_geometry((small, small), 2))


def test_dispatch_leaves_adaptive_windows_and_huge_kernels_to_pytorch():
    x = torch.zeros(1, 1, 600, 600)
    assert not strided.fast_path("max", x, pool2d(np.zeros((4, 4)), "adaptive_max", output_size=2).geometry)
    assert not strided.fast_path("max", x, regular_geometry((600, 600), strided.MAX_KERNEL + 1))


@pytest.mark.parametrize("op, extreme", [("max", strided.MAX), ("min", strided.MIN)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_photo_sized_input_is_pooled_by_strided_views(dtype, op, extreme):
    x = np.random.default_rng(0).integers(0, 8, (3, 512, 512)).astype(dtype)  # ties everywhere
    with mock.patch.object(strided, "sliding_extreme", wraps=strided.sliding_extreme) as values, mock.patch.object(
            strided, "sliding_extreme_with_indices", wraps=strided.sliding_extreme_with_indices) as with_indices, \
            mock.patch.object(strided, "_pytorch_pool", side_effect=AssertionError("PyTorch's kernel answered")):
        result = pool2d(x, op, 3, 2, 1)
        indices = result.indices
        gradient = input_gradient(x, op, None, 3, 2, 1)
    assert values.call_count == 1 and with_indices.call_count == 2
    assert all(call.args[2] is extreme for call in values.call_args_list + with_indices.call_args_list)
    kw = dict(kernel_size=3, stride=2, padding=1)
    expected, expected_indices = pytorch(torch.from_numpy(x)[None], kw, extreme, return_indices=True)
    assert_array_equal(result.output, expected[0].numpy())
    assert_array_equal(indices, expected_indices[0].numpy())
    source = torch.from_numpy(x).requires_grad_(True)
    pytorch(source[None], kw, extreme).sum().backward()
    assert_array_equal(gradient, source.grad.numpy())


# ---------------------------------------------------------------------------------------------
# Ties, NaN and signed zeros, written out
# ---------------------------------------------------------------------------------------------

def pooled(x, *args):
    x = torch.tensor(x, dtype=torch.float64)[None, None]
    geometry = regular_geometry(x.shape[-2:], *args)
    return x, geometry


def test_a_tie_goes_to_the_first_maximum_in_reading_order():
    # Column by column the first 3 would be (1, 0); in reading order it is (0, 1).
    x, geometry = pooled([[1.0, 3.0], [3.0, 1.0]], 2)
    out, indices = strided.sliding_extreme_with_indices(x, geometry)
    assert out.item() == 3.0 and indices.item() == 1


def test_a_tied_window_sends_its_whole_gradient_to_the_first_maximum():
    x, geometry = pooled([[3.0, 3.0, 1.0], [3.0, 3.0, 1.0]], 2, 1)  # overlapping windows, all tied
    x.requires_grad_(True)
    with mock.patch.dict(strided.MIN_ELEMENTS, ALWAYS):
        out = strided.extreme_pool(x, geometry)
    out.backward(torch.tensor([[[[1.0, 10.0]]]], dtype=torch.float64))
    assert_array_equal(x.grad[0, 0], [[1.0, 10.0, 0.0], [0.0, 0.0, 0.0]])
    # torch.maximum's own backward would have split each window's gradient between the ties.
    y = torch.tensor([3.0, 3.0], requires_grad=True)
    torch.maximum(y[0], y[1]).backward()
    assert_array_equal(y.grad, [0.5, 0.5])


def test_nan_propagates_and_its_index_is_the_last_nan_as_in_pytorch():
    x, geometry = pooled([[math.nan, 5.0, 1.0, 1.0], [math.nan, 2.0, 1.0, math.nan]], 2)
    assert_same_bits(strided.sliding_extreme(x, geometry), F.max_pool2d(x, 2))
    assert strided.sliding_extreme_with_indices(x, geometry) is None  # PyTorch's kernel answers
    with mock.patch.dict(strided.MIN_ELEMENTS, ALWAYS):
        out, indices = strided.extreme_pool(x, geometry, return_indices=True)
    assert torch.isnan(out).all()
    assert indices.tolist() == [[[[4, 7]]]]


def test_a_zero_maximum_keeps_the_sign_of_the_first_zero():
    x, geometry = pooled([[-0.0, 0.0, 0.0, -0.0, -1.0, -1.0]], (1, 2))
    with mock.patch.dict(strided.MIN_ELEMENTS, ALWAYS):
        out = strided.extreme_pool(x, geometry)
    assert out.tolist() == [[[[0.0, 0.0, -1.0]]]]
    assert torch.signbit(out[..., :2]).tolist() == [[[[True, False]]]]
    assert_same_bits(out, F.max_pool2d(x, (1, 2)))


def test_a_window_of_minus_infinity_and_padding_points_at_its_first_real_cell():
    x, geometry = pooled([[-math.inf, -math.inf, 1.0], [-math.inf, -math.inf, 1.0]], 3, 2, 1)
    out, indices = strided.sliding_extreme_with_indices(x, geometry)
    assert out.tolist() == [[[[-math.inf, 1.0]]]]
    assert indices.tolist() == [[[[0, 2]]]]


def test_ceil_mode_and_dilation_read_the_same_cells_as_pytorch():
    x = torch.arange(70, dtype=torch.float64).reshape(1, 1, 7, 10).flip(-1)
    kw = dict(kernel_size=(3, 2), stride=(2, 3), padding=(1, 1), dilation=(2, 3), ceil_mode=True)
    out, indices = strided.sliding_extreme_with_indices(x, regular_geometry((7, 10), **kw))
    expected, expected_indices = F.max_pool2d(x, **kw, return_indices=True)
    assert torch.equal(out, expected) and torch.equal(indices, expected_indices)

