"""pool2d, input_gradient and max_unpool2d: leading dimensions, errors, laziness, and the properties
every operator shares (output = weights x window, gradcheck, extreme inputs, seeds)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from numpy.testing import assert_allclose, assert_array_equal

from pooling_core import OPERATORS, PoolingError, gradient_routes, input_gradient, max_unpool2d, pool2d
from tests.strategies import (
    CLOSE,
    EXTREMES,
    FLOATS_10,
    TEXTBOOK,
    TIGHT,
    distinct_array,
    examples,
    gaussian_kernel_reference,
    sliding_cases,
    t,
    window_values,
)

# ---------------------------------------------------------------------------------------------
# Every operator: leading dimensions and gradcheck of the classic and Lp operators
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("op, params, window", [
    ("max", {}, (3, 2)), ("avg", {}, (3, 2)), ("lp", {"p": 3.0}, (3, 2)),
    ("global_avg", {}, (5, 7)), ("global_max", {}, (5, 7)),
    ("adaptive_avg", {"output_size": 3}, None), ("adaptive_max", {"output_size": 3}, None),
])
def test_leading_dims_are_kept(op, params, window):
    x4 = np.random.default_rng(1).normal(size=(2, 3, 5, 7))
    kw = dict(kernel_size=(3, 2), stride=(2, 2), padding=(1, 0), ceil_mode=True)
    full = pool2d(x4, op, **kw, **params)
    ho, wo = full.output.shape[-2:]
    for x, lead, part in ((x4, (2, 3), ()), (x4[1], (3,), (1,)), (x4[1, 2], (), (1, 2))):
        result = pool2d(x, op, **kw, **params)
        assert result.output.shape == (*lead, ho, wo)
        assert_allclose(result.output, full.output[part], **TIGHT)
        if OPERATORS[op].has_weights:
            kh, kw_ = result.geometry.window_shape
            if window is not None:
                assert (kh, kw_) == window
            assert result.weights.shape == (*lead, ho, wo, kh, kw_)
        else:
            assert result.weights is None
        if OPERATORS[op].has_indices:
            assert result.indices.shape == (*lead, ho, wo)
        else:
            assert result.indices is None
        grad = input_gradient(x, op, **kw, **params)
        assert grad.shape == x.shape


GRADCHECK_CASES = [
    ("max", {}, dict(kernel_size=2)),
    ("max", {}, dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("max", {}, dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 1), dilation=(2, 1), ceil_mode=True)),
    ("avg", {}, dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("avg", {"count_include_pad": False}, dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 1), ceil_mode=True)),
    ("avg", {"divisor_override": 5}, dict(kernel_size=2, stride=1, padding=1)),
    ("lp", {"p": 1.0}, dict(kernel_size=2)),
    ("lp", {"p": 2.5}, dict(kernel_size=3, stride=2, padding=1, dilation=2, ceil_mode=True)),
    ("lp", {"p": 4.0, "mean": True}, dict(kernel_size=(3, 2), stride=(2, 3), padding=(1, 1), ceil_mode=True)),
    ("lp", {"p": math.inf}, dict(kernel_size=3, stride=2, padding=1)),
    ("global_avg", {}, {}),
    ("global_max", {}, {}),
    ("adaptive_avg", {"output_size": 3}, {}),
    ("adaptive_max", {"output_size": 4}, {}),
]


@pytest.mark.parametrize("op, params, kw", GRADCHECK_CASES)
def test_gradcheck_classic_and_lp_forward(op, params, kw):
    rng = np.random.default_rng(3)
    shape = (2, 2, 6, 7)
    # Distinct values at least 0.01 apart, with |x| >= 0.1: no ties and no kink of |x| within eps.
    magnitudes = 0.1 + 0.01 * rng.permutation(int(np.prod(shape))).reshape(shape)
    x = magnitudes * rng.choice([-1.0, 1.0], size=shape)
    operator = OPERATORS[op]
    geometry = pool2d(x, op, **kw, **params).geometry
    resolved = operator.resolve(params)
    xt = t(x).clone().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda v: operator.forward(v, geometry, **resolved), (xt,), eps=1e-6, atol=1e-6)


# ---------------------------------------------------------------------------------------------
# Max unpooling
# ---------------------------------------------------------------------------------------------

UNPOOL_CASES = [
    ((1, 1, 4, 4), 2, None, 0),
    ((1, 1, 5, 7), 2, 2, 0),
    ((2, 3, 5, 7), 3, 2, 0),  # overlapping windows: several outputs share one index
    ((2, 3, 7, 7), 3, 2, 1),
    ((3, 5, 7), (3, 2), (2, 1), (1, 0)),
    ((5, 7), 2, 1, 1),
]


@pytest.mark.parametrize("shape, k, s, p", UNPOOL_CASES)
def test_max_unpool_matches_torch(shape, k, s, p):
    x = np.random.default_rng(4).integers(-3, 4, size=shape).astype(np.float64)  # ties included
    pooled = pool2d(x, "max", k, s, p)
    batch = t(x).reshape(-1, *shape[-3:]) if len(shape) > 2 else t(x)[None, None]
    y, idx = F.max_pool2d(batch, k, s, p, return_indices=True)
    expected = F.max_unpool2d(y, idx, k, s, p, output_size=batch.shape).numpy().reshape(shape)
    assert_array_equal(max_unpool2d(pooled.output, pooled.indices, k, s, p, output_size=x.shape), expected)


@pytest.mark.parametrize("shape, k, s, p", UNPOOL_CASES)
def test_max_pool_of_unpool_is_max_pool(shape, k, s, p):
    # Non-negative input: unpooling fills non-maxima with 0, which a negative maximum would lose to.
    x = np.random.default_rng(5).uniform(0, 10, size=shape)
    pooled = pool2d(x, "max", k, s, p)
    restored = max_unpool2d(pooled.output, pooled.indices, k, s, p, output_size=x.shape)
    assert restored.shape == x.shape
    assert_array_equal(pool2d(restored, "max", k, s, p).output, pooled.output)
    kept = restored != 0
    assert_array_equal(restored[kept], x[kept])


@pytest.mark.parametrize("shape, k, s, p", [
    ((2, 6, 8), 2, None, 0), ((1, 5, 5), 3, 2, 1), ((3, 7, 9), (3, 4), (2, 3), (1, 2)),
])
def test_max_unpool_default_size(shape, k, s, p):
    """Without output_size the size is (Ho - 1) * s - 2p + k, as in PyTorch."""
    x = np.random.default_rng(6).normal(size=shape)
    pooled = pool2d(x, "max", k, s, p)
    restored = max_unpool2d(pooled.output, pooled.indices, k, s, p)
    expected = F.max_unpool2d(*F.max_pool2d(t(x), k, s, p, return_indices=True), k, s, p).numpy()
    assert restored.shape == expected.shape
    assert_array_equal(restored, expected)


def test_max_unpool_odd_input_without_output_size_is_refused():
    x = np.random.default_rng(7).normal(size=(1, 1, 5, 7))
    y, idx = F.max_pool2d(t(x), 2, return_indices=True)
    with pytest.raises(RuntimeError, match="Found an invalid max index"):
        F.max_unpool2d(y, idx, 2)
    pooled = pool2d(x, "max", 2)
    with pytest.raises(PoolingError, match="output_size"):
        max_unpool2d(pooled.output, pooled.indices, 2)


def test_max_unpool_shape_mismatch_is_refused():
    with pytest.raises(PoolingError, match="must have one shape"):
        max_unpool2d(np.zeros((2, 2)), np.zeros((2, 3), dtype=np.int64), 2)


# ---------------------------------------------------------------------------------------------
# Errors and laziness
# ---------------------------------------------------------------------------------------------

X44 = np.zeros((4, 4))


@pytest.mark.parametrize("call, match", [
    (lambda: pool2d(np.zeros((3, 3)), "max", 5), "larger than the padded input"),
    (lambda: pool2d(np.zeros((3, 3)), "max", 3, 1, 0, 2), "larger than the padded input"),
    (lambda: pool2d(X44, "max", 2, 0), "stride must be at least 1"),
    (lambda: pool2d(X44, "max", 0), "kernel size must be at least 1"),
    (lambda: pool2d(X44, "max", 2, 2, 2), "more than half the kernel"),
    (lambda: pool2d(X44, "avg", 3, 1, 2), "more than half the kernel"),
    (lambda: pool2d(X44, "max", 2, 2, 0, 0), "dilation must be at least 1"),
    (lambda: pool2d(X44, "max", 2, 2, -1), "padding cannot be negative"),
    (lambda: pool2d(X44, "max", 2.5), "whole number"),
    (lambda: pool2d(X44, "nope"), "unknown operator"),
    (lambda: pool2d(X44, "max", foo=1), "has no parameter 'foo'"),
    (lambda: pool2d(X44, "avg", count_include_pad="yes"), "True or False"),
    (lambda: pool2d(X44, "avg", divisor_override=0), "divisor_override must be at least 1"),
    (lambda: pool2d(X44, "lp", p=0.5), "p must be at least 1"),
    (lambda: pool2d(X44, "lp", p=-math.inf), "p must be at least 1"),
    (lambda: pool2d(X44, "lp", p=float("nan")), "must be a number"),
    (lambda: pool2d(X44, "avg", 2, dilation=2), "has no dilation"),
    (lambda: pool2d(X44, "adaptive_max", output_size=0), "output_size must be at least 1"),
    (lambda: pool2d(X44, "adaptive_max", output_size=(2, 0)), "output_size must be at least 1"),
    (lambda: pool2d(X44, "adaptive_avg", output_size=(2, 2, 2)), r"an \(h, w\) pair"),
    (lambda: pool2d(X44, "adaptive_avg", output_size=0), "output_size must be at least 1"),
    (lambda: pool2d(np.zeros(4), "max"), "2, 3 or 4 dimensions"),
    (lambda: pool2d(np.zeros((1, 1, 1, 4, 4)), "max"), "2, 3 or 4 dimensions"),
    (lambda: pool2d(np.zeros((0, 4)), "max"), "empty"),
    (lambda: pool2d(np.zeros((2, 0, 4, 4)), "avg"), "empty"),
    (lambda: input_gradient(X44, "max", np.ones((3, 3))), "upstream gradient has shape"),
    (lambda: input_gradient(X44, "max", kernel_size=2, stride=0), "stride must be at least 1"),
])
def test_errors(call, match):
    with pytest.raises(PoolingError, match=match):
        call()


def test_pooling_error_is_a_value_error():
    assert issubclass(PoolingError, ValueError)


def _counting(calls, name, function):
    def counted(*args, **kwargs):
        calls.append(name)
        return function(*args, **kwargs)

    return counted


def test_weights_and_indices_are_computed_on_first_access(monkeypatch):
    calls = []
    operator = OPERATORS["max"]
    monkeypatch.setitem(OPERATORS, "max", dataclasses.replace(
        operator, explained=_counting(calls, "explained", operator.explained)))
    result = pool2d(TEXTBOOK, "max", 2)
    assert "weights" not in result.__dict__ and "indices" not in result.__dict__
    assert calls == []
    weights = result.weights
    assert "weights" in result.__dict__
    assert calls == ["explained"]
    assert result.weights is weights
    assert_array_equal(result.indices, [[5, 7], [8, 15]])
    assert calls == ["explained"]  # indices come from the same explanation


def test_explaining_at_once_takes_max_pooling_s_values_and_indices_from_one_pass(monkeypatch):
    calls = []
    operator = OPERATORS["max"]
    monkeypatch.setitem(OPERATORS, "max", dataclasses.replace(
        operator, forward=_counting(calls, "forward", operator.forward),
        explained=_counting(calls, "explained", operator.explained)))
    result = pool2d(TEXTBOOK, "max", 2, explain=True)
    assert calls == ["explained"]
    assert_array_equal(result.output, [[6, 8], [3, 4]])
    assert_array_equal(result.indices, [[5, 7], [8, 15]])
    assert calls == ["explained"]


@pytest.mark.parametrize("op", sorted(OPERATORS))
def test_explaining_at_once_gives_what_explaining_later_gives(op):
    x = np.random.default_rng(6).normal(size=(2, 8, 8))
    x[0, :2, :2] = 1.5  # a tied window
    later, now = pool2d(x, op, kernel_size=2), pool2d(x, op, kernel_size=2, explain=True)
    assert_array_equal(now.output, later.output)
    for name in ("weights", "indices"):
        if getattr(later, name) is None:
            assert getattr(now, name) is None
        else:
            assert_array_equal(getattr(now, name), getattr(later, name))
    assert now.component((0,)) == later.component((0,))
    cells_now, cells_later = now.window_cells((1,)), later.window_cells((1,))
    assert (cells_now is None) == (cells_later is None)
    if cells_later is not None:
        assert_array_equal(cells_now, cells_later)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("window", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
                                    dict(kernel_size=3, stride=1, padding=1)])
def test_explaining_a_photo_sized_input_at_once_gives_pytorch_s_values_and_indices(window, dtype):
    # Large enough for the strided path of max with indices; integers give many ties.
    x = np.random.default_rng(7).integers(0, 4, size=(3, 200, 200)).astype(dtype)
    values, indices = F.max_pool2d(torch.from_numpy(x), **window, return_indices=True)
    result = pool2d(x, "max", **window, dtype=dtype, explain=True)
    assert_array_equal(result.output, values.numpy())
    assert_array_equal(result.indices, indices.numpy())


# ---------------------------------------------------------------------------------------------
# The weighted-average family: output = weights x window, gradcheck, extremes, seeds
# ---------------------------------------------------------------------------------------------

# Every configuration of the weighted operators. A callable value is built from (x shape, kernel).
CONFIGS = [
    ("softpool", {}),
    ("softpool", {"temperature": 0.3}),
    ("lip", {}),
    ("lip", {"logit": "zero"}),
    ("lip", {"beta": -2.0}),
    ("lip", {"logit": lambda shape, k: np.random.default_rng(1).normal(size=shape), "beta": 1.5}),
    ("dpp", {}),
    ("dpp", {"variant": "asym", "lam": 3.0, "alpha": 0.0}),
    ("dpp", {"variant": "sym", "lam": 0.5, "alpha": 2.0, "eps": 0.1}),
    ("stochastic", {}),
    ("stochastic", {"mode": "train", "seed": 5}),
    ("mixed", {}),
    ("mixed", {"lam": 0.2, "mode": "train", "seed": 1}),
    ("mixed", {"lam": 0.7, "mode": "train", "per": "map", "seed": 2}),
    ("gated", {}),
    ("gated", {"gate": lambda shape, k: np.random.default_rng(2).normal(size=k)}),
    ("avgmax", {}),
    ("avgmax", {"combine": "mean"}),
    ("weighted_avg", {}),
    ("weighted_avg", {"kernel_weights": "uniform"}),
    ("weighted_avg", {"kernel_weights": lambda shape, k: np.random.default_rng(3).uniform(0, 1, size=k)}),
]


def config_id(op, params):
    return "-".join([op] + [f"{k}={'array' if callable(v) else v}" for k, v in params.items()])


CONFIG_IDS = [config_id(op, params) for op, params in CONFIGS]


def built(params, shape, kernel):
    return {k: (v(shape, kernel) if callable(v) else v) for k, v in params.items()}


def expected_kernel(kernel_weights, kernel):
    """weighted_avg's kernel, normalised to sum 1: the array scaled, the mean, or the Gaussian reference."""
    if isinstance(kernel_weights, np.ndarray):
        return kernel_weights / kernel_weights.sum()
    if kernel_weights == "uniform":
        return np.full(kernel, 1.0 / (kernel[0] * kernel[1]))
    return gaussian_kernel_reference(kernel)


def weight_total(op, params):
    """What the weights of every window sum to (not used for stochastic and weighted_avg, checked apart)."""
    return 2.0 if op == "avgmax" and params.get("combine", "sum") == "sum" else 1.0


@pytest.mark.parametrize("op, params", CONFIGS, ids=CONFIG_IDS)
@examples(40)
@given(sliding_cases(FLOATS_10))
def test_output_is_weighted_sum_of_window(op, params, case):
    x, kw = case
    params = built(params, x.shape, kw["kernel_size"])
    result = pool2d(x, op, **kw, **params)
    values, real = window_values(x, result.geometry)
    weights = result.weights
    assert weights.shape == values.shape
    assert (weights[..., ~real] == 0).all()  # padding and overhang weigh 0
    assert_allclose(result.output, (weights * values).sum((-1, -2)), **CLOSE)
    totals = weights.sum((-1, -2))
    if op == "stochastic":
        positive = (np.maximum(values, 0) * real).sum((-1, -2)) > 0
        assert_allclose(totals, positive.astype(float), **CLOSE)  # an all-zero window weighs 0
    elif op == "weighted_avg":
        kernel = expected_kernel(params.get("kernel_weights", "gaussian"), kw["kernel_size"])
        assert_allclose(weights, np.broadcast_to(kernel * real, weights.shape), **CLOSE)
    else:
        assert_allclose(totals, weight_total(op, params), **CLOSE)


GRADCHECK_KW = dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 1), dilation=(1, 2), ceil_mode=True)


@pytest.mark.parametrize("op, params", CONFIGS, ids=CONFIG_IDS)
def test_gradcheck_weighted_forward(op, params):
    rng = np.random.default_rng(3)
    shape = (1, 2, 5, 6)
    # Distinct values with |x| >= 0.1: no ties in the max and no ReLU kink within reach of eps.
    x = (0.1 + rng.permutation(60).reshape(shape) / 60) * rng.choice([-1.0, 1.0], size=shape)
    params = built(params, shape, GRADCHECK_KW["kernel_size"])
    operator = OPERATORS[op]
    geometry = pool2d(x, op, **GRADCHECK_KW, **params).geometry
    resolved = operator.resolve(params)
    xt = t(x).clone().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda v: operator.forward(v, geometry, **resolved), (xt,), eps=1e-6, atol=1e-5)


def extreme_inputs():
    rng = np.random.default_rng(5)
    shape = (2, 2, 6, 7)
    return {
        "scaled_1e4": rng.uniform(-1, 1, shape) * 1e4,
        "all_equal": np.full(shape, 3.0),
        "all_zero": np.zeros(shape),
        "all_negative": -rng.uniform(1, 10, shape),
    }


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", list(extreme_inputs()))
@pytest.mark.parametrize("op, params", CONFIGS, ids=CONFIG_IDS)
def test_extreme_inputs_stay_finite(op, params, name, dtype):
    x = extreme_inputs()[name].astype(dtype)
    kw = dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)
    params = built(params, x.shape, (3, 3))
    result = pool2d(x, op, **kw, dtype=dtype, **params)
    assert result.output.dtype == dtype
    assert np.isfinite(result.output).all() and np.isfinite(result.weights).all()
    assert np.isfinite(input_gradient(x, op, None, **kw, dtype=dtype, **params)).all()
    values, real = window_values(x.astype(np.float64), result.geometry)
    low = np.where(real, values, np.inf).min((-1, -2))
    high = np.where(real, values, -np.inf).max((-1, -2))
    scale = 2.0 if op == "avgmax" and params.get("combine", "sum") == "sum" else 1.0
    slack = 1e-4 * np.abs(x).max() + 1e-9
    if op == "stochastic":
        low, high = np.maximum(low, 0.0), np.maximum(high, 0.0)  # ReLU
    elif op == "weighted_avg":
        low, high = np.minimum(low, 0.0), np.maximum(high, 0.0)  # padding reads 0
    assert (result.output >= scale * low - slack).all() and (result.output <= scale * high + slack).all()
    if name == "all_equal" and op != "weighted_avg":
        assert_allclose(result.output, scale * 3.0, rtol=1e-6)


RANDOM_CONFIGS = [
    ("stochastic", {"mode": "train"}),
    ("mixed", {"mode": "train", "per": "region"}),
    ("mixed", {"mode": "train", "per": "map"}),
]


@pytest.mark.parametrize("op, params", RANDOM_CONFIGS)
def test_random_operators_same_seed_same_output_different_seed_differs(op, params):
    x = np.random.default_rng(0).uniform(0.1, 5, size=(4, 8, 6, 6))  # 32 maps, 288 windows
    first = pool2d(x, op, 2, **params, seed=123)
    again = pool2d(x, op, 2, **params, seed=123)
    other = pool2d(x, op, 2, **params, seed=124)
    assert_array_equal(first.output, again.output)
    assert_array_equal(first.weights, again.weights)
    assert not np.array_equal(first.output, other.output)
    assert_array_equal(first.output, (first.weights * window_values(x, first.geometry)[0]).sum((-1, -2)))


@pytest.mark.parametrize("op, params", [("stochastic", {}), ("mixed", {"lam": 0.3})])
def test_eval_mode_ignores_the_seed(op, params):
    x = np.random.default_rng(0).uniform(0.1, 5, size=(2, 3, 6, 6))
    assert_array_equal(pool2d(x, op, 2, seed=1, **params).output, pool2d(x, op, 2, seed=2, **params).output)


# ---------------------------------------------------------------------------------------------
# Blur and fractional max pooling: gradcheck and extremes
# ---------------------------------------------------------------------------------------------

def gradcheck_operator(op, x, kernel_size=2, stride=None, **params):
    operator = OPERATORS[op]
    geometry = pool2d(x, op, kernel_size=kernel_size, stride=stride, **params).geometry
    resolved = operator.resolve(params)
    t = torch.from_numpy(x).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda v: operator.forward(v, geometry, **resolved), (t,))


@pytest.mark.parametrize("op, params", [
    ("blur", dict(stride=2, filt_size=3)), ("blur", dict(stride=1, filt_size=4)),
    ("blur_max", dict(kernel_size=2, stride=2, filt_size=3)), ("blur_max", dict(kernel_size=3, stride=1, filt_size=5)),
    ("fractional_max", dict(kernel_size=2, output_size=4, seed=3)),
    ("fractional_max", dict(output_size=4, variant="graham_random", overlapping=True)),
    ("fractional_max", dict(output_ratio=0.6, variant="graham_pseudo")),
])
def test_gradcheck_blur_and_fractional(op, params):
    gradcheck_operator(op, distinct_array(0, (2, 1, 7, 6)), **params)


@pytest.mark.parametrize("kind", EXTREMES)
@pytest.mark.parametrize("op, params", [
    ("blur", dict(stride=2)), ("blur_max", dict(kernel_size=2, stride=2)), ("fractional_max", dict(output_size=3)),
    ("fractional_max", dict(output_size=3, variant="graham_random")),
])
def test_blur_and_fractional_extremes_have_finite_outputs_and_gradients(kind, op, params):
    x = EXTREMES[kind]((2, 6, 5))
    output = pool2d(x, op, **params).output
    assert np.isfinite(output).all()
    assert np.isfinite(input_gradient(x, op, **params)).all()
    if kind == "equal":
        assert np.allclose(output, 2.5)


# gradient_routes: each output cell's row of the Jacobian, checked against torch's own jacobian of
# torch.nn.functional's pooling, which shares no code with PoolScope's operators.
@examples(40)
@given(sliding_cases(FLOATS_10, dilation=False))
def test_gradient_routes_are_torch_s_jacobian_of_max_and_average(case):
    x, kw = case
    plane = x[0, 0]
    options = {key: kw[key] for key in ("kernel_size", "stride", "padding", "ceil_mode")}
    for op, reference in (("max", F.max_pool2d), ("avg", F.avg_pool2d)):
        jacobian = torch.autograd.functional.jacobian(
            lambda a, reference=reference: reference(a[None, None], **options)[0, 0], t(plane))
        np.testing.assert_array_equal(gradient_routes(plane, op, **options), jacobian.numpy())


@pytest.mark.parametrize("op", ["softpool", "lp", "lip", "blur_max", "stochastic"])
def test_gradient_routes_weighted_by_an_upstream_give_the_input_gradient(op):
    x = np.random.default_rng(3).normal(size=(7, 6))
    routes = gradient_routes(x, op, kernel_size=3, stride=2, padding=1)
    upstream = np.random.default_rng(4).normal(size=routes.shape[:2])
    np.testing.assert_allclose(np.einsum("ij,ijrc->rc", upstream, routes),
                               input_gradient(x, op, upstream, kernel_size=3, stride=2, padding=1), atol=1e-12)


def test_gradient_routes_of_average_pooling_share_the_gradient_evenly():
    routes = gradient_routes(TEXTBOOK, "avg")
    assert routes.shape == (2, 2, 4, 4)
    np.testing.assert_array_equal(routes[0, 1][:2, 2:], np.full((2, 2), 0.25))
    assert routes[0, 1].sum() == 1.0 and np.count_nonzero(routes[0, 1]) == 4


def test_gradient_routes_refuse_more_than_one_map():
    with pytest.raises(PoolingError, match=r"one map \(H, W\), not an array of shape \(2, 4, 4\)"):
        gradient_routes(np.stack([TEXTBOOK, TEXTBOOK]), "max")


@pytest.mark.parametrize("op", sorted(OPERATORS))
def test_input_gradient_leaves_the_input_and_upstream_as_they_were(op):
    # The gradient is made +0.0 in place where it owns its memory: never in x or the upstream.
    x = np.random.default_rng(5).normal(size=(2, 6, 6))
    x[0, 0, 0] = -0.0
    upstream_shape = pool2d(x, op, kernel_size=2).output.shape
    upstream = np.where(np.arange(np.prod(upstream_shape)).reshape(upstream_shape) % 3 == 0, -0.0, 1.0)
    x_before, upstream_before = x.copy(), upstream.copy()
    for seed in (None, upstream):
        gradient = input_gradient(x, op, seed, kernel_size=2)
        assert not np.signbit(gradient[gradient == 0]).any()
        assert not np.shares_memory(gradient, x) and not np.shares_memory(gradient, upstream)
    assert_array_equal(np.signbit(x), np.signbit(x_before))
    assert_array_equal(x, x_before)
    assert_array_equal(np.signbit(upstream), np.signbit(upstream_before))


def test_the_gradient_of_an_output_that_is_a_view_of_its_input_leaves_the_seed_alone():
    # Autograd hands back a view of the seed here; the +0.0 must not be written into it.
    from pooling_core.api import _gradient

    batch = torch.zeros((1, 1, 2, 2), dtype=torch.float64, requires_grad=True)
    seed = torch.tensor([-0.0, 1.0, -0.0, 2.0], dtype=torch.float64)
    gradient = _gradient(batch.reshape(4), batch, seed)
    assert not torch.signbit(gradient[gradient == 0]).any()
    assert torch.signbit(seed[0]) and torch.signbit(seed[2])
