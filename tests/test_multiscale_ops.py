"""Blur pooling, fractional max pooling, spatial pyramids, LRN and bilinear pooling against their oracles."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from pooling_core import OPERATORS, PoolingError, input_gradient, pool2d
from pooling_core.explain import window_report
from pooling_core.neighbours import bilinear_pool, bilinear_pool_torch, local_response_norm, local_response_norm_torch
from pooling_core.pyramid import pyramid_levels, spatial_pyramid_pool

HYPOTHESIS = settings(max_examples=40, deadline=None)
BINOMIAL = {2: [1, 1], 3: [1, 2, 1], 4: [1, 3, 3, 1], 5: [1, 4, 6, 4, 1]}


def random_array(seed, shape):
    return np.random.default_rng(seed).standard_normal(shape)


def distinct_array(seed, shape):
    """No two values closer than 0.1: max pooling has no ties, so finite differences see one argmax."""
    values = np.random.default_rng(seed).permutation(math.prod(shape)) / 10.0
    return values.reshape(shape)


def filter_2d(filt_size):
    taps = np.array(BINOMIAL[filt_size], dtype=np.float64)
    return np.outer(taps, taps) / taps.sum() ** 2


def reflect_blur_oracle(x, filt_size, stride):
    """F.conv2d of the reflect-padded input with the normalised binomial filter, depthwise."""
    before, after = (filt_size - 1) // 2, math.ceil((filt_size - 1) / 2)
    t = F.pad(torch.from_numpy(x), (before, after, before, after), mode="reflect")
    kernel = torch.from_numpy(filter_2d(filt_size)).expand(x.shape[1], 1, filt_size, filt_size)
    return F.conv2d(t, kernel, stride=stride, groups=x.shape[1]).numpy()


def numpy_windows(x, geometry):
    """(N, C, Ho, Wo, kh, kw) window values gathered from the geometry with NumPy (0 where not real)."""
    rows = geometry.rows.clip(0, geometry.in_size[0] - 1)
    cols = geometry.cols.clip(0, geometry.in_size[1] - 1)
    values = x[:, :, rows[:, None, :, None], cols[None, :, None, :]]
    return np.where(geometry.real_mask(), values, 0.0)


def assert_weighted_sum(x, result):
    np.testing.assert_allclose((result.weights * numpy_windows(x, result.geometry)).sum((-1, -2)), result.output,
                               rtol=1e-12, atol=1e-12)


def gradcheck_operator(op, x, kernel_size=2, stride=None, **params):
    operator = OPERATORS[op]
    geometry = pool2d(x, op, kernel_size=kernel_size, stride=stride, **params).geometry
    resolved = operator.resolve(params)
    t = torch.from_numpy(x).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda v: operator.forward(v, geometry, **resolved), (t,))


# ---------------------------------------------------------------- blur


@HYPOTHESIS
@given(st.integers(2, 5), st.integers(1, 3), st.integers(1, 2), st.integers(1, 3), st.integers(0, 7),
       st.integers(0, 7), st.integers(0, 2**32 - 1))
def test_blur_matches_reflect_padded_conv(filt_size, stride, n, c, extra_h, extra_w, seed):
    x = random_array(seed, (n, c, filt_size // 2 + 1 + extra_h, filt_size // 2 + 1 + extra_w))
    result = pool2d(x, "blur", stride=stride, filt_size=filt_size)
    np.testing.assert_allclose(result.output, reflect_blur_oracle(x, filt_size, stride), rtol=1e-12, atol=1e-12)
    assert_weighted_sum(x, result)


@HYPOTHESIS
@given(st.integers(2, 5), st.integers(1, 3), st.integers(3, 8), st.integers(3, 8), st.integers(0, 2**32 - 1))
def test_blur_matches_numpy_loop(filt_size, stride, height, width, seed):
    x = random_array(seed, (height, width))
    before, after = (filt_size - 1) // 2, filt_size // 2
    padded = np.pad(x, ((before, after), (before, after)), mode="reflect")
    kernel = filter_2d(filt_size)
    expected = np.array([[(padded[i:i + filt_size, j:j + filt_size] * kernel).sum()
                          for j in range(0, width, stride)] for i in range(0, height, stride)])
    np.testing.assert_allclose(pool2d(x, "blur", stride=stride, filt_size=filt_size).output, expected, rtol=1e-12)


@HYPOTHESIS
@given(st.integers(1, 5), st.integers(1, 5), st.integers(0, 2**32 - 1))
def test_blur_size_two_stride_two_is_average_pooling(half_h, half_w, seed):
    x = random_array(seed, (1, 2, 2 * half_h, 2 * half_w))
    expected = F.avg_pool2d(torch.from_numpy(x), 2).numpy()
    np.testing.assert_allclose(pool2d(x, "blur", stride=2, filt_size=2).output, expected, rtol=1e-12)


def test_blur_geometry_holds_reflected_indices():
    geometry = pool2d(np.zeros((4, 5)), "blur", stride=2, filt_size=5).geometry
    assert geometry.rows.tolist() == [[2, 1, 0, 1, 2], [0, 1, 2, 3, 2]]
    assert geometry.extended_rows.tolist() == [[-2, -1, 0, 1, 2], [0, 1, 2, 3, 4]]
    assert geometry.cols.tolist()[-1] == [2, 3, 4, 3, 2]
    assert geometry.real_mask().all()
    assert pool2d(np.zeros((3, 3)), "blur", filt_size=3).weights[0, 0].sum() == pytest.approx(1.0)


def test_blur_defaults_to_stride_two():
    assert pool2d(np.zeros((7, 6)), "blur").output.shape == (4, 3)
    assert pool2d(np.zeros((7, 6)), "blur", stride=(1, 3)).output.shape == (7, 2)


@HYPOTHESIS
@given(st.integers(2, 5), st.integers(1, 3), st.integers(1, 3), st.integers(0, 6), st.integers(0, 6),
       st.integers(0, 2**32 - 1))
def test_blur_max_is_max_pool_then_reflect_blur(filt_size, kernel, stride, extra_h, extra_w, seed):
    shape = (2, 2, kernel + filt_size // 2 + extra_h, kernel + filt_size // 2 + extra_w)
    x = random_array(seed, shape)
    maxed = F.max_pool2d(torch.from_numpy(x), kernel, 1).numpy()
    result = pool2d(x, "blur_max", kernel_size=kernel, stride=stride, filt_size=filt_size)
    np.testing.assert_allclose(result.output, reflect_blur_oracle(maxed, filt_size, stride), rtol=1e-12, atol=1e-12)
    assert result.weights is None


@HYPOTHESIS
@given(st.integers(2, 5), st.integers(1, 3), st.integers(1, 3), st.integers(0, 2**32 - 1))
def test_blur_max_receptive_field_holds_every_input_the_output_depends_on(filt_size, kernel, stride, seed):
    size = (kernel + filt_size // 2 + 2, kernel + filt_size // 2 + 3)
    geometry = pool2d(np.zeros(size), "blur_max", kernel_size=kernel, stride=stride, filt_size=filt_size).geometry
    x = torch.from_numpy(distinct_array(seed, (1, 1, *size)))
    forward = OPERATORS["blur_max"].forward
    jacobian = torch.autograd.functional.jacobian(lambda v: forward(v, geometry, filt_size=filt_size), x)
    jacobian = jacobian[0, 0, :, :, 0, 0]  # (Ho, Wo, H, W)
    for i, j in np.ndindex(geometry.out_size):
        rows, cols = geometry.rows[i][geometry.row_present[i]], geometry.cols[j][geometry.col_present[j]]
        inside = np.zeros(size, bool)
        inside[np.ix_(rows, cols)] = True
        assert not jacobian[i, j].numpy()[~inside].any()
        assert (np.diff(rows) == 1).all() and (np.diff(cols) == 1).all()


def test_shift_demo_max_flips_by_one_blur_max_by_a_quarter():
    signal = np.tile([0.0, 0.0, 1.0, 1.0], 4)[None].repeat(4, 0)
    shifted = np.roll(signal, 1, axis=1)
    np.testing.assert_array_equal(pool2d(signal, "max").output, np.tile([0.0, 1.0], (2, 4)))
    np.testing.assert_array_equal(pool2d(shifted, "max").output, np.ones((2, 8)))
    blurred = [pool2d(s, "blur_max", kernel_size=2, stride=2).output for s in (signal, shifted)]
    np.testing.assert_allclose(np.abs(blurred[0] - blurred[1])[:, 1:-1], 0.25)  # inside the reflected borders


def test_blur_max_arithmetic_names_both_stages():
    x = np.arange(25.0).reshape(5, 5)
    result = pool2d(x, "blur_max", kernel_size=2, stride=2)
    report = window_report(result, x, 1, 1)
    assert "max of every kernel-sized patch" in report.text and "[1, 2, 1]/4" in report.text
    assert report.real.sum() == 16


def test_blur_refuses_inputs_too_small_to_reflect():
    with pytest.raises(PoolingError, match="at least 2 cells per side"):
        pool2d(np.zeros((1, 8)), "blur", filt_size=3)
    with pytest.raises(PoolingError, match="max-pooled map"):
        pool2d(np.zeros((3, 3)), "blur_max", kernel_size=3, stride=2)
    with pytest.raises(PoolingError):
        pool2d(np.zeros((8, 8)), "blur", filt_size=6)
    with pytest.raises(PoolingError):
        pool2d(np.zeros((8, 8)), "blur", stride=0)


# ---------------------------------------------------------------- fractional max


@HYPOTHESIS
@given(st.integers(1, 2), st.integers(1, 3), st.integers(2, 10), st.integers(2, 10), st.integers(1, 3),
       st.data(), st.integers(0, 2**32 - 1))
def test_fractional_torch_variant_matches_pytorch(n, c, height, width, kernel, data, seed):
    kernel = min(kernel, height, width)
    out = (data.draw(st.integers(1, height - kernel + 1)), data.draw(st.integers(1, width - kernel + 1)))
    if out[0] == out[1] and data.draw(st.booleans()):
        out = out[0]  # one number for both sides
    x = random_array(seed, (n, c, height, width))
    u = np.random.default_rng(seed + 1).random(2)
    samples = np.broadcast_to(u, (n, c, 2))
    result = pool2d(x, "fractional_max", kernel_size=kernel, output_size=out, samples=samples)
    expected, indices = F.fractional_max_pool2d(torch.from_numpy(x), kernel, output_size=out,
                                                _random_samples=torch.from_numpy(samples.copy()), return_indices=True)
    np.testing.assert_array_equal(result.output, expected.numpy())
    np.testing.assert_array_equal(result.indices, indices.numpy())
    assert_weighted_sum(x, result)
    assert np.array_equal(pool2d(x, "fractional_max", kernel_size=kernel, output_size=out, samples=u).output,
                          result.output)


def test_fractional_seed_draws_one_pair_and_is_reproducible():
    x = random_array(0, (2, 2, 15, 13))
    u = torch.rand(2, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    expected = F.fractional_max_pool2d(torch.from_numpy(x), 2, output_ratio=(0.6, 0.6),
                                       _random_samples=u.expand(2, 2, 2))
    first = pool2d(x, "fractional_max", output_ratio=0.6, seed=7).output
    np.testing.assert_array_equal(first, expected.numpy())
    np.testing.assert_array_equal(pool2d(x, "fractional_max", output_ratio=0.6, seed=7).output, first)
    for variant in ("torch", "graham_random", "graham_pseudo"):
        outputs = [pool2d(x, "fractional_max", output_ratio=0.6, seed=s, variant=variant).output for s in (1, 2)]
        assert not np.array_equal(*outputs), variant
    assert pool2d(x, "fractional_max").output.shape == (2, 2, 7, 6)


def numpy_boundaries_pseudo(length, out, u, overlapping):
    total = length - 1 if overlapping else length
    alpha = total / out
    return [math.ceil(alpha * (i + u)) - math.ceil(alpha * u) for i in range(out)] + [total]


def numpy_region_max(x, row_bounds, col_bounds, overlapping):
    extra = int(overlapping)
    return np.array([[x[row_bounds[i]:row_bounds[i + 1] + extra, col_bounds[j]:col_bounds[j + 1] + extra].max()
                      for j in range(len(col_bounds) - 1)] for i in range(len(row_bounds) - 1)])


@HYPOTHESIS
@given(st.sampled_from(["graham_random", "graham_pseudo"]), st.booleans(), st.integers(1, 7), st.data(),
       st.integers(0, 2**31 - 1))
def test_graham_variants_match_numpy_regions(variant, overlapping, out, data, seed):
    height, width = (data.draw(st.integers(out + overlapping, 2 * out + overlapping)) for _ in range(2))
    u = np.random.default_rng(seed).random(2)
    params = dict(variant=variant, overlapping=overlapping, output_size=out, seed=seed)
    if variant == "graham_pseudo":
        params["samples"] = u
    x = random_array(seed, (1, 1, height, width))
    result = pool2d(x, "fractional_max", **params)
    geometry = result.geometry
    assert result.output.shape == (1, 1, out, out)
    bounds = []
    for index, present, length, u_axis in [(geometry.rows, geometry.row_present, height, u[1]),
                                           (geometry.cols, geometry.col_present, width, u[0])]:
        starts, sizes = index[:, 0], present.sum(1)
        found = [*starts, starts[-1] + sizes[-1] - overlapping]
        steps = np.diff(found)
        assert set(steps) <= {1, 2} and found[0] == 0 and found[-1] == length - overlapping
        assert (steps == 2).sum() == length - overlapping - out
        if variant == "graham_pseudo":
            assert found == numpy_boundaries_pseudo(length, out, u_axis, overlapping)
        cover = np.zeros(length, int)
        for start, size in zip(starts, sizes):
            cover[start:start + size] += 1
        assert cover.min() >= 1 and (overlapping or (cover == 1).all())
        bounds.append(found)
    np.testing.assert_array_equal(result.output[0, 0], numpy_region_max(x[0, 0], *bounds, overlapping))
    assert_weighted_sum(x, result)


def test_fractional_ratio_gives_int_of_size_times_ratio():
    result = pool2d(np.zeros((10, 9)), "fractional_max", variant="graham_pseudo", output_ratio=0.7)
    assert result.output.shape == (7, 6)


@pytest.mark.parametrize("params, message", [
    (dict(output_size=3, output_ratio=0.5), "not both"),
    (dict(output_ratio=1.0), "strictly between"),
    (dict(samples=[[[0.1, 0.2]], [[0.3, 0.2]]]), "must be the same"),
    (dict(samples=[0.5, 1.0]), r"\[0, 1\)"),
    (dict(samples=[0.5, 0.2, 0.1]), "shape"),
    (dict(samples=0.5), "shape"),
    (dict(samples=np.full((3, 1, 2), 0.5)), "do not match"),
    (dict(output_size=8), "do not fit"),
    (dict(variant="graham_random", output_size=3), "4 to 8 outputs"),
    (dict(variant="graham_pseudo", overlapping=True, output_size=8), "4 to 7 outputs"),
    (dict(variant="graham_random", samples=[0.1, 0.2]), "draws its steps from seed"),
    (dict(variant="nope"), "variant"),
])
def test_fractional_errors(params, message):
    with pytest.raises(PoolingError, match=message):
        pool2d(np.zeros((2, 1, 8, 8)), "fractional_max", **params)


def test_fractional_notice_names_the_sequence():
    x = np.zeros((6, 6))
    assert "PyTorch's sequence" in pool2d(x, "fractional_max").notice
    assert "pseudo-random" in pool2d(x, "fractional_max", variant="graham_pseudo").notice
    assert "random sequence" in pool2d(x, "fractional_max", variant="graham_random", overlapping=True).notice


# ---------------------------------------------------------------- spatial pyramid pooling


@HYPOTHESIS
@given(st.lists(st.integers(1, 4), min_size=1, max_size=3), st.integers(1, 3), st.integers(0, 9), st.integers(0, 9),
       st.integers(0, 2**32 - 1))
def test_spp_equals_per_level_adaptive_max(levels, channels, extra_h, extra_w, seed):
    x = random_array(seed, (2, channels, max(levels) + extra_h, max(levels) + extra_w))
    expected = torch.cat([F.adaptive_max_pool2d(torch.from_numpy(x), n).flatten(1) for n in levels], 1).numpy()
    bins = sum(n * n for n in levels)
    assert expected.shape == (2, channels * bins)
    np.testing.assert_array_equal(spatial_pyramid_pool(x, levels), expected)
    np.testing.assert_array_equal(spatial_pyramid_pool(x[0], levels), expected[0])
    np.testing.assert_array_equal(spatial_pyramid_pool(x[0, 0], levels), spatial_pyramid_pool(x[:1, :1], levels)[0])
    assert spatial_pyramid_pool(x[0, 0], levels).shape == (bins,)
    for n, level in zip(levels, pyramid_levels(x.shape[-2:], levels)):
        assert level.bins == level.asked == (n, n) and level.message is None and level.geometry.out_size == level.bins


@pytest.mark.filterwarnings("ignore:With a:UserWarning")
@HYPOTHESIS
@given(st.integers(1, 4), st.integers(4, 12), st.integers(4, 12), st.integers(0, 2**32 - 1))
def test_spp_paper_recipe_is_ceil_window_floor_stride(n, height, width, seed):
    x = random_array(seed, (1, 2, height, width))
    windows, strides = (math.ceil(height / n), math.ceil(width / n)), (height // n, width // n)
    expected = F.max_pool2d(torch.from_numpy(x), windows, strides)
    (level,) = pyramid_levels((height, width), (n,), "paper")
    assert level.bins == tuple(expected.shape[-2:])
    assert (level.message is None) == (level.bins == (n, n))
    np.testing.assert_array_equal(spatial_pyramid_pool(x, (n,), "paper"), expected.flatten(1).numpy())
    if height % n == 0 and width % n == 0:
        np.testing.assert_array_equal(spatial_pyramid_pool(x, (n,), "paper"), spatial_pyramid_pool(x, (n,)))


def test_spp_paper_recipe_reports_five_pixels_three_bins():
    levels = pyramid_levels((5, 5), (3, 1), "paper")
    assert levels[0].bins == (4, 4)
    assert levels[0].message == "With a 5-pixel side, 3 bins use window 2 and stride 1, which gives 4 bins, not 3."
    assert levels[1].message is None
    with pytest.warns(UserWarning, match="gives 4 bins, not 3"):
        vector = spatial_pyramid_pool(np.ones((2, 5, 5)), (3, 1), "paper")
    assert vector.shape == (2 * (16 + 1),)
    assert pyramid_levels((5, 7), (3,), "paper")[0].message.startswith("With a 5-pixel height")


def test_spp_with_more_bins_than_cells_repeats_cells_like_torch():
    x = random_array(3, (1, 2, 3, 5))
    expected = torch.cat([F.adaptive_max_pool2d(torch.from_numpy(x), n).flatten(1) for n in (4, 2, 1)], 1).numpy()
    np.testing.assert_array_equal(spatial_pyramid_pool(x, (4, 2, 1)), expected)


@pytest.mark.parametrize("levels, recipe, shape", [
    ((), "adaptive", (5, 5)), ((0,), "adaptive", (5, 5)), ((2.5,), "adaptive", (5, 5)),
    ((6,), "paper", (5, 9)), ((True,), "adaptive", (5, 5)), ((2,), "other", (5, 5)),
    ((2,), "adaptive", (5,)),
])
def test_spp_errors(levels, recipe, shape):
    with pytest.raises(PoolingError):
        spatial_pyramid_pool(np.zeros(shape), levels, recipe)


# ---------------------------------------------------------------- LRN and bilinear pooling


@HYPOTHESIS
@given(st.integers(1, 9), st.integers(1, 8), st.booleans(), st.floats(0.0, 2.0), st.floats(0.0, 2.0),
       st.floats(0.1, 3.0), st.integers(0, 2**32 - 1))
def test_lrn_matches_pytorch(size, channels, batched, alpha, beta, k, seed):
    x = random_array(seed, (2, channels, 3, 4) if batched else (channels, 3, 4))
    t = torch.from_numpy(x if batched else x[None])
    expected = F.local_response_norm(t, size, alpha, beta, k).numpy().reshape(x.shape)
    np.testing.assert_allclose(local_response_norm(x, size, alpha, beta, k), expected, rtol=1e-12, atol=1e-14)


def test_lrn_alexnet_convention_needs_alpha_times_n():
    x = random_array(3, (6, 2, 2)) * 100  # large enough for alpha to matter
    n, alpha, beta, k = 5, 1e-4, 0.75, 2.0
    expected = np.empty_like(x)
    for c in range(6):
        window = x[max(0, c - n // 2): c + (n - 1) // 2 + 1]
        expected[c] = x[c] / (k + alpha * (window**2).sum(0)) ** beta  # AlexNet: alpha, not alpha / n
    np.testing.assert_allclose(local_response_norm(x, n, n * alpha, beta, k), expected, rtol=1e-12)


@pytest.mark.parametrize("args", [
    dict(x=np.zeros((4, 4))), dict(x=np.zeros((1, 1, 1, 2, 2))), dict(x=np.zeros((3, 2, 2)), size=0),
    dict(x=np.zeros((3, 2, 2)), size=2.0), dict(x=np.zeros((3, 2, 2)), k=0.0), dict(x=np.zeros((3, 2, 2)), alpha=-1.0),
    dict(x=np.zeros((3, 2, 2)), beta=math.nan),
])
def test_lrn_errors(args):
    with pytest.raises(PoolingError):
        local_response_norm(**args)


@HYPOTHESIS
@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4), st.integers(1, 4), st.booleans(), st.booleans(),
       st.integers(0, 2**32 - 1))
def test_bilinear_matches_einsum(ca, cb, height, width, batched, same, seed):
    a = random_array(seed, (2, ca, height, width))
    b = a if same else random_array(seed + 1, (2, cb, height, width))
    raw = (torch.einsum("nchw,ndhw->ncd", torch.from_numpy(a), torch.from_numpy(b)) / (height * width)).numpy()
    signed = np.sign(raw) * np.sqrt(np.abs(raw))
    normalised = signed / np.maximum(np.linalg.norm(signed.reshape(2, -1), axis=1), 1e-12)[:, None, None]
    pick = (lambda v: v) if batched else (lambda v: v[0])
    other = None if same else pick(b)
    np.testing.assert_allclose(bilinear_pool(pick(a), other, normalize=False), pick(raw), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(bilinear_pool(pick(a), other), pick(normalised), rtol=1e-12, atol=1e-14)


def test_bilinear_zero_input_gives_zeros():
    assert not bilinear_pool(np.zeros((3, 2, 2))).any()


@pytest.mark.parametrize("a, b", [
    (np.zeros((2, 2)), None), (np.zeros((2, 3, 3)), np.zeros((2, 3, 4))), (np.zeros((1, 2, 3, 3)), np.zeros((2, 3, 3))),
    (np.zeros((1, 2, 3, 3)), np.zeros((2, 2, 3, 3))),
])
def test_bilinear_errors(a, b):
    with pytest.raises(PoolingError):
        bilinear_pool(a, b)


# ---------------------------------------------------------------- gradients and extremes


@pytest.mark.parametrize("op, params", [
    ("blur", dict(stride=2, filt_size=3)), ("blur", dict(stride=1, filt_size=4)),
    ("blur_max", dict(kernel_size=2, stride=2, filt_size=3)), ("blur_max", dict(kernel_size=3, stride=1, filt_size=5)),
    ("fractional_max", dict(kernel_size=2, output_size=4, seed=3)),
    ("fractional_max", dict(output_size=4, variant="graham_random", overlapping=True)),
    ("fractional_max", dict(output_ratio=0.6, variant="graham_pseudo")),
])
def test_gradcheck_operators(op, params):
    gradcheck_operator(op, distinct_array(0, (2, 1, 7, 6)), **params)


@pytest.mark.parametrize("normalize", [True, False])
def test_gradcheck_lrn_and_bilinear(normalize):
    x = torch.from_numpy(random_array(1, (2, 4, 3, 2))).requires_grad_(True)
    y = torch.from_numpy(random_array(2, (2, 3, 3, 2))).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda v: local_response_norm_torch(v, 3, 0.5, 0.75, 1.0), (x,))
    assert torch.autograd.gradcheck(lambda u, v: bilinear_pool_torch(u, v, normalize), (x, y))


EXTREMES = {
    "large": lambda shape: np.where(random_array(4, shape) > 0, 1e4, -1e4),
    "equal": lambda shape: np.full(shape, 2.5),
    "zero": np.zeros,
    "negative": lambda shape: -np.abs(random_array(5, shape)) - 1,
}


@pytest.mark.parametrize("kind", EXTREMES)
@pytest.mark.parametrize("op, params", [
    ("blur", dict(stride=2)), ("blur_max", dict(kernel_size=2, stride=2)), ("fractional_max", dict(output_size=3)),
    ("fractional_max", dict(output_size=3, variant="graham_random")),
])
def test_extremes_have_finite_outputs_and_gradients(kind, op, params):
    x = EXTREMES[kind]((2, 6, 5))
    output = pool2d(x, op, **params).output
    assert np.isfinite(output).all()
    assert np.isfinite(input_gradient(x, op, **params)).all()
    if kind == "equal":
        assert np.allclose(output, 2.5)


@pytest.mark.parametrize("kind", EXTREMES)
def test_extremes_lrn_and_bilinear_finite(kind):
    x = torch.from_numpy(EXTREMES[kind]((2, 3, 4, 4))).requires_grad_(True)
    for output in (local_response_norm_torch(x), bilinear_pool_torch(x, x), bilinear_pool_torch(x, x, False)):
        (gradient,) = torch.autograd.grad(output.sum(), x)
        assert torch.isfinite(output).all() and torch.isfinite(gradient).all()
    assert np.isfinite(spatial_pyramid_pool(x.detach().numpy())).all()


def test_spp_level_may_be_a_pair_as_in_adaptive_max_pooling():
    x = random_array(3, (1, 2, 7, 9))
    expected = torch.cat([F.adaptive_max_pool2d(torch.from_numpy(x), size).flatten(1) for size in ((3, 2), 1)], 1)
    np.testing.assert_array_equal(spatial_pyramid_pool(x, ((3, 2), 1)), expected.numpy())
    assert [level.bins for level in pyramid_levels((7, 9), ((3, 2), 1), "paper")] == [(3, 2), (1, 1)]
