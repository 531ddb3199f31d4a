"""The registry's parameters: the library accepts each parameter's whole mathematical domain, which
is wider than the range the app's widgets offer; the limits inside it are the operators' own."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from pooling_core import OPERATORS, PoolingError, pool2d
from tests.strategies import TEXTBOOK, t

X = np.random.default_rng(7).normal(size=(1, 2, 7, 9)) * 3


def test_every_widget_range_lies_inside_the_domain():
    for op in OPERATORS.values():
        for p in op.params:
            low, high = p.ui_range
            for end in (low, high):
                if end is not None and not (math.isinf(end) and p.kind == "float"):
                    assert p.contains(end), (op.id, p.name, end)


def test_every_parameter_the_app_shows_and_its_choices_have_labels_of_words():
    labelled = [(op.id, p.name, p.label) for op in OPERATORS.values() for p in op.params if p.in_app]
    assert len(labelled) == 29
    for op_id, name, label in labelled:
        # Words a reader knows (the widget's label), not the library's identifier alone.
        assert label and label != name and "_" not in label.split(" (")[0], (op_id, name, label)
    for op in OPERATORS.values():
        for p in op.params:
            if p.in_app and p.kind == "choice":
                assert len(p.choice_labels) == len(p.choices) and all(p.choice_labels), (op.id, p.name)


@pytest.mark.parametrize("temperature", [1e-4, 1e-12])
def test_softpool_far_below_the_widget_range_is_max_pooling(temperature):
    result = pool2d(X, "softpool", kernel_size=3, stride=2, padding=1, temperature=temperature)
    np.testing.assert_allclose(result.output, F.max_pool2d(t(X), 3, 2, 1).numpy(), rtol=0, atol=1e-12)


def test_softpool_far_above_the_widget_range_is_average_pooling():
    result = pool2d(X, "softpool", kernel_size=3, stride=2, padding=1, temperature=1e8)
    expected = F.avg_pool2d(t(X), 3, 2, 1, count_include_pad=False).numpy()
    np.testing.assert_allclose(result.output, expected, atol=1e-6)


def test_dpp_takes_a_large_lambda():
    window = np.array([[0.0, 10.0], [0.0, 0.0]])  # the 10 deviates by 7.5 from the mean
    assert pool2d(window, "dpp", lam=60.0, alpha=1.0).output[0, 0] == pytest.approx(10.0)


@pytest.mark.parametrize("op, oracle", [("adaptive_avg", F.adaptive_avg_pool2d),
                                        ("adaptive_max", F.adaptive_max_pool2d)])
def test_adaptive_pooling_takes_an_output_height_and_width(op, oracle):
    result = pool2d(X, op, output_size=(2, 3))
    np.testing.assert_array_equal(result.output, oracle(t(X), (2, 3)).numpy())
    assert result.geometry.out_size == (2, 3)


def test_fractional_max_takes_an_output_height_and_width():
    samples = np.array([0.3, 0.8])
    result = pool2d(X, "fractional_max", kernel_size=2, output_size=(4, 5), samples=samples)
    samples_torch = torch.tensor([[[0.3, 0.8]] * 2], dtype=torch.float64)
    expected = F.fractional_max_pool2d(t(X), 2, output_size=(4, 5), _random_samples=samples_torch)
    np.testing.assert_array_equal(result.output, expected.numpy())


def test_lp_takes_every_power_from_one_to_infinity():
    magnitudes = np.abs(TEXTBOOK)
    assert pool2d(TEXTBOOK, "lp", p=1.0).output[0, 0] == 13
    assert pool2d(TEXTBOOK, "lp", p=500.0).output[0, 0] == pytest.approx(6.0, rel=1e-2)
    assert pool2d(-TEXTBOOK, "lp", p=math.inf).output[0, 0] == magnitudes[:2, :2].max()


@pytest.mark.parametrize("params, message", [
    (dict(op="softpool", temperature=-1.0), "temperature must be greater than 0, not -1"),
    (dict(op="softpool", temperature=math.inf), "temperature must be greater than 0, not inf"),
    (dict(op="lip", beta=-math.inf), "beta must be a finite number"),
    (dict(op="adaptive_avg", output_size=(2, 1.5)), "output_size must be a whole number"),
    (dict(op="fractional_max", output_size=(0, 2)), "output_size must be at least 1"),
    (dict(op="fractional_max", output_ratio=0.0), "output_ratio must be between 0 and 1 .not 0 itself."),
])
def test_values_outside_the_domain_are_refused_with_a_sentence(params, message):
    with pytest.raises(PoolingError, match=message):
        pool2d(X, **params)


# ---------------------------------------------------------------- entries and parameter errors

X45 = np.arange(20.0).reshape(4, 5)

NEW_OPS = ("lip", "dpp", "stochastic", "mixed", "gated", "avgmax", "weighted_avg")


EXPECTED_PARAMS = {
    "lip": ["logit", "beta"], "dpp": ["alpha", "lam", "variant", "eps"], "stochastic": ["mode", "seed"],
    "mixed": ["lam", "mode", "per", "seed"], "gated": ["gate"], "avgmax": ["combine"],
    "weighted_avg": ["kernel_weights"],
}


DEFAULTS = {
    "lip": {"logit": "input", "beta": 1.0}, "dpp": {"alpha": 1.0, "lam": 1.0, "variant": "sym", "eps": 1e-3},
    "stochastic": {"mode": "eval", "seed": 0}, "mixed": {"lam": 0.5, "mode": "eval", "per": "region", "seed": 0},
    "gated": {"gate": None}, "avgmax": {"combine": "sum"}, "weighted_avg": {"kernel_weights": "gaussian"},
}


@pytest.mark.parametrize("op", NEW_OPS)
def test_registry_entry(op):
    operator = OPERATORS[op]
    assert [p.name for p in operator.params] == EXPECTED_PARAMS[op]
    assert operator.has_weights and operator.explain is not None
    assert operator.random == (op in ("stochastic", "mixed"))
    assert operator.name and operator.summary and operator.formula and operator.citation
    assert all(p.help for p in operator.params)
    assert operator.resolve({}) == DEFAULTS[op]


ERRORS = [
    (dict(op="gated", gate=np.ones((3, 3))), "gate must have the kernel's shape 2 x 2"),
    (dict(op="gated", gate=[[1.0, np.nan], [0.0, 1.0]]), "finite"),
    (dict(op="gated", gate="mean"), "gate must be a number"),
    (dict(op="lip", logit=np.ones((4, 4))), "logit array must have the input's shape"),
    (dict(op="lip", logit=np.ones((2, 4, 5))), "logit array must have the input's shape"),
    (dict(op="lip", logit="ones"), "logit must be one of 'input', 'zero'"),
    (dict(op="lip", beta=np.inf), "beta must be a finite number"),
    (dict(op="weighted_avg", kernel_weights=np.ones((2, 3))), "kernel weights must have the kernel's shape 2 x 2"),
    (dict(op="weighted_avg", kernel_weights=[[1.0, -1.0], [1.0, 1.0]]), "non-negative"),
    (dict(op="weighted_avg", kernel_weights=np.zeros((2, 2))), "positive sum"),
    (dict(op="weighted_avg", kernel_weights="box"), "kernel_weights must be one of"),
    (dict(op="dpp", variant="both"), "variant must be one of 'sym', 'asym'"),
    (dict(op="dpp", lam=-1.0), "lam must be at least 0"),
    (dict(op="dpp", alpha=-0.5), "alpha must be at least 0"),
    (dict(op="dpp", eps=0.0), "eps must be greater than 0"),
    (dict(op="softpool", temperature=0.0), "temperature must be greater than 0"),
    (dict(op="stochastic", mode="test"), "mode must be one of 'eval', 'train'"),
    (dict(op="stochastic", seed=-1), "seed must be between"),
    (dict(op="stochastic", seed=1.5), "seed must be a whole number"),
    (dict(op="mixed", lam=1.5), "lam must be between"),
    (dict(op="mixed", per="pixel"), "per must be one of 'region', 'map'"),
    (dict(op="avgmax", combine="max"), "combine must be one of 'sum', 'mean'"),
]


@pytest.mark.parametrize("call, match", ERRORS, ids=[f"{c['op']}-{m[:20]}" for c, m in ERRORS])
def test_parameter_errors(call, match):
    with pytest.raises(PoolingError, match=match):
        pool2d(X45, kernel_size=2, **call)
