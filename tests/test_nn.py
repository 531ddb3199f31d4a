"""pooling_core.nn.Pool2d: the same values as pool2d, gradcheck, learned parameters that get
gradients, and train/eval behaviour of the operators that draw."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pooling_core import OPERATORS, PoolingError, pool2d
from pooling_core.nn import Pool2d, snippet

X = np.random.default_rng(0).uniform(-2, 2, size=(2, 3, 8, 8))
WINDOW = dict(kernel_size=3, stride=2, padding=1)
# Operators without sliding windows or with windows of their own take the settings they use.
SETTINGS = {"aps": dict(kernel_size=2, stride=2), "blur": dict(stride=2), "blur_max": dict(kernel_size=2, stride=2),
            "fractional_max": dict(kernel_size=2), "global_max": {}, "global_avg": {}, "adaptive_max": {},
            "adaptive_avg": {}}
PLAIN = [op for op in OPERATORS if op not in ("lip", "mixed", "gated", "dpp")]


def module(op, **params):
    return Pool2d(op, **SETTINGS.get(op, WINDOW), **({"channels": 3} if op == "lip" else {}), **params).double()


@pytest.mark.parametrize("op", PLAIN)
def test_eval_output_is_pool2ds(op):
    pool = module(op).eval()
    with torch.no_grad():
        output = pool(torch.from_numpy(X)).numpy()
    np.testing.assert_array_equal(output, pool2d(X, op, **SETTINGS.get(op, WINDOW)).output)


def test_learned_modules_equal_pool2d_with_the_learned_values():
    x = torch.from_numpy(X)
    lip = module("lip")
    torch.nn.init.normal_(lip.learned.conv.weight, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        logit = lip.learned.conv(x).numpy()
        np.testing.assert_allclose(lip(x).numpy(), pool2d(X, "lip", **WINDOW, logit=logit).output, rtol=1e-12)
        mixed = module("mixed", lam=0.3)
        assert float(torch.sigmoid(mixed.learned.theta)) == pytest.approx(0.3)
        mixed.learned.theta.fill_(1.5)
        lam = float(torch.sigmoid(torch.tensor(1.5, dtype=torch.float64)))
        np.testing.assert_allclose(mixed.train()(x).numpy(), pool2d(X, "mixed", **WINDOW, lam=lam).output, rtol=1e-12)
        gated = module("gated")
        np.testing.assert_array_equal(gated.learned.omega.numpy(), np.full((3, 3), 1 / 9))
        gated.learned.omega.copy_(torch.arange(9.0, dtype=torch.float64).reshape(3, 3) / 10)
        expected = pool2d(X, "gated", **WINDOW, gate=np.arange(9.0).reshape(3, 3) / 10).output
        np.testing.assert_allclose(gated(x).numpy(), expected, rtol=1e-12)
        dpp = module("dpp", alpha=0.5, lam=2.0)
        learned = {name: value.item() for name, value in dpp.learned(x).items()}
        assert learned == pytest.approx({"alpha": 0.5, "lam": 2.0}, rel=1e-6)  # the parameters start in float32
        np.testing.assert_allclose(dpp(x).numpy(), pool2d(X, "dpp", **WINDOW, **learned).output, rtol=1e-12)


def test_lip_starts_as_average_pooling_and_needs_the_channel_count():
    with torch.no_grad():
        output = module("lip")(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(output, pool2d(X, "lip", **WINDOW, logit="zero").output, rtol=1e-12)
    with pytest.raises(PoolingError, match="needs channels=C"):
        Pool2d("lip", 2)


@pytest.mark.parametrize("op", ["max", "avg", "lp", "softpool", "aps", "blur_max", "lip", "mixed", "gated", "dpp"])
def test_gradcheck_through_the_module(op):
    pool = module(op).eval()
    for parameter in pool.parameters():  # away from the starting values, where some gradients vanish
        with torch.no_grad():
            parameter.add_(0.1 * torch.randn(parameter.shape, generator=torch.Generator().manual_seed(2),
                                             dtype=parameter.dtype))
    x = torch.from_numpy(np.random.default_rng(3).permutation(2 * 3 * 64).reshape(2, 3, 8, 8) / 100 + 0.1)
    assert torch.autograd.gradcheck(pool, (x.requires_grad_(True),), eps=1e-6, atol=1e-6)


@pytest.mark.parametrize("op, names", [
    ("lip", ["learned.conv.weight", "learned.conv.bias"]), ("mixed", ["learned.theta"]),
    ("gated", ["learned.omega"]), ("dpp", ["learned.theta_alpha", "learned.theta_lam"]),
])
def test_learned_parameters_receive_gradients(op, names):
    pool = module(op).train()
    assert [name for name, _ in pool.named_parameters()] == names
    pool(torch.from_numpy(X)).square().sum().backward()
    for name, parameter in pool.named_parameters():
        assert parameter.grad is not None and torch.isfinite(parameter.grad).all(), name
        assert parameter.grad.abs().sum() > 0, name


def test_a_few_sgd_steps_move_the_mixed_share_towards_max_when_max_is_wanted():
    pool = module("mixed")
    target = torch.nn.functional.max_pool2d(torch.from_numpy(X), **WINDOW)
    optimiser = torch.optim.SGD(pool.parameters(), lr=1.0)
    for _ in range(20):
        optimiser.zero_grad()
        (pool(torch.from_numpy(X)) - target).square().mean().backward()
        optimiser.step()
    assert torch.sigmoid(pool.learned.theta).item() > 0.8


def test_stochastic_pooling_samples_in_train_and_takes_the_expectation_in_eval():
    x = torch.from_numpy(np.abs(X))
    pool = module("stochastic")
    torch.manual_seed(5)
    first, second = pool(x), pool(x)
    torch.manual_seed(5)
    again = pool(x)
    assert torch.equal(first, again) and not torch.equal(first, second)
    windows = pool.geometry((8, 8)).gather(x, torch.nan).flatten(-2)
    assert (windows == first[..., None]).any(-1).all()  # each output is one of its window's cells
    pool.eval()
    np.testing.assert_array_equal(pool(x).numpy(), pool2d(np.abs(X), "stochastic", **WINDOW).output)
    torch.manual_seed(6)
    draws = torch.stack([pool.train()(x) for _ in range(400)]).mean(0)
    np.testing.assert_allclose(draws.numpy(), pool.eval()(x).numpy(), atol=0.25)


def test_fractional_max_draws_new_windows_in_train_and_keeps_its_seed_in_eval():
    pool = module("fractional_max", output_size=5)
    x = torch.from_numpy(X)
    torch.manual_seed(0)
    outputs = {pool(x).numpy().tobytes() for _ in range(5)}
    assert len(outputs) > 1
    pool.eval()
    expected = pool2d(X, "fractional_max", kernel_size=2, output_size=5).output
    np.testing.assert_array_equal(pool(x).numpy(), expected)


def test_bad_parameters_are_refused_as_pool2d_refuses_them():
    with pytest.raises(PoolingError, match="temperature must be greater than 0"):
        Pool2d("softpool", temperature=0.0)
    with pytest.raises(PoolingError, match="unknown operator"):
        Pool2d("median")


@pytest.mark.parametrize("op", [op for op in PLAIN if not OPERATORS[op].random])
def test_the_code_snippet_computes_what_pool2d_computes(op):
    settings = dict(kernel_size=3, stride=2, padding=1) if op in ("max", "avg", "min") else SETTINGS.get(op, WINDOW)
    code = snippet(op, **settings)
    names = {"x": torch.from_numpy(X)}
    exec(code, names)  # the snippet is the whole program: its imports, its call
    expected = pool2d(X, op, **settings).output
    np.testing.assert_allclose(names["y"].detach().numpy(), expected, rtol=1e-12, atol=1e-12)
    uses_torch = OPERATORS[op].torch_call is not None
    assert code.startswith("import torch.nn.functional as F") == uses_torch


def test_snippets_write_only_the_settings_the_operator_uses():
    assert snippet("global_avg", 3) == "import torch.nn.functional as F\n\ny = F.adaptive_avg_pool2d(x, 1)"
    assert snippet("avg", 2, 1, 1, count_include_pad=False) == (
        "import torch.nn.functional as F\n\ny = F.avg_pool2d(x, kernel_size=2, stride=1, padding=1, ceil_mode=False, "
        "count_include_pad=False, divisor_override=None)")
    assert snippet("aps", 2, norm_p=3.0) == ('from pooling_core.nn import Pool2d\n\n'
                                             'pool = Pool2d("aps", kernel_size=2, stride=2, norm_p=3.0)\ny = pool(x)')
    assert "channels=x.shape[1])" in snippet("lip", 2)
