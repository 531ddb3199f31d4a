r"""Stochastic pooling (Zeiler & Fergus 2013): sample a cell with probability proportional to its value.

.. math::
    a = \mathrm{ReLU}(x), \qquad p_i = \frac{a_i}{\sum_{j \in R} a_j}, \qquad
    y_{\mathrm{train}} = a_l,\ l \sim \mathrm{Categorical}(p), \qquad
    y_{\mathrm{eval}} = \sum_{i \in R} p_i a_i = \frac{\sum_R a_i^2}{\sum_R a_i}

The method follows a ReLU, so it is defined for non-negative input; the ReLU is applied here
explicitly and :func:`stochastic_notice` says how many cells it changed. A window that is all 0
after the ReLU outputs 0 with weights 0 (``torch.multinomial`` would raise on it).

Train mode draws one ``u ~ U[0, 1)`` per window, ``torch.rand((N, C, Ho, Wo), dtype=float64,
generator=torch.Generator().manual_seed(seed))``, and picks the first cell (in reading order) whose
cumulative sum of ``a`` exceeds ``u · Σ_R a``; a cell with ``a = 0`` is never picked. The output is
that cell's value, so its gradient goes to that cell only. Eval mode outputs the expectation of
the train output over the draw, from two pooled sums where no window needs more precision than
they keep. :func:`draw_cells` draws many times from one window by the same rule.
"""

import math

import numpy as np
import torch
import torch.nn.functional as F

from pooling_core.errors import PoolingError
from pooling_core.messages import Message
from pooling_core.numbers import fmt
from pooling_core.operators.weighting import pooled_sum, pooled_sums_apply, smallest_exact, weighted
from pooling_core.registry import Operator, Param, register


def first_above(cumulative: torch.Tensor, uniform: torch.Tensor) -> torch.Tensor:
    """Index of the first cell whose running sum exceeds ``u * total``, per row of ``cumulative``.

    ``cumulative`` (..., K) holds running sums of non-negative values in float64, so cell ``i`` is
    drawn with probability ``a_i / total`` and a cell with ``a_i = 0`` never.
    """
    total = cumulative[..., -1:].contiguous()
    index = torch.searchsorted(cumulative, uniform * total, right=True)
    # u * total can round up to total itself: then take the last cell with a > 0.
    return torch.minimum(index, torch.searchsorted(cumulative, total))


def sampled_one_hot(activations: torch.Tensor, seed: int) -> torch.Tensor:
    """One-hot (N, C, Ho, Wo, kh, kw) of one cell per window drawn with probability ``a_i / sum_R a``."""
    flat = activations.detach().flatten(-2)
    generator = torch.Generator().manual_seed(seed)
    uniform = torch.rand(flat.shape[:-1], generator=generator, dtype=torch.float64)[..., None]
    index = first_above(flat.cumsum(-1).to(torch.float64), uniform)
    return F.one_hot(index[..., 0], flat.shape[-1]).reshape(activations.shape).to(activations.dtype)


def draw_cells(values, count: int, seed: int = 0) -> np.ndarray:
    """``count`` independent draws from one window: indices into ``values`` (ReLU applied first).

    Cell ``i`` is drawn with probability ``ReLU(a_i) / sum ReLU(a)``, by the same rule as train
    mode; the first draw is the cell ``pool2d(window, "stochastic", mode="train", seed=seed)``
    picks when the input is that single window. Raises :class:`PoolingError` when every value is
    0 after the ReLU (nothing can be drawn).
    """
    activations = np.maximum(np.asarray(values, dtype=np.float64).ravel(), 0.0)
    if not activations.sum() > 0:
        raise PoolingError("stochastic.all_zero")
    uniform = torch.rand(count, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return first_above(torch.from_numpy(activations).cumsum(0), uniform).numpy()


def stochastic_weights(windows, real, geometry, mode="eval", seed=0):
    # The weights vanish wherever the ReLU changes a value, so sum(w * x) = sum(w * ReLU(x)),
    # value and gradient alike: `weighted` may multiply them with the raw window.
    activations = windows.clamp(min=0)
    total = activations.sum((-1, -2), keepdim=True)
    positive = total > 0
    if mode == "train":
        return sampled_one_hot(activations, seed) * positive
    return torch.where(positive, activations / torch.where(positive, total, 1.0), 0.0)


def stochastic_notice(x, **_):
    negative = int((np.asarray(x) < 0).sum())
    if negative == 0:
        return None
    if negative == 1:
        return Message("stochastic.relu_applied_one")
    return Message("stochastic.relu_applied", count=negative)


def stochastic_arithmetic(values, weights, output, mode="eval", **_):
    activations = np.maximum(values, 0.0)
    total = activations.sum()
    if total == 0:
        return Message("stochastic.nothing_drawn", output=fmt(output))
    if mode == "eval":
        return " + ".join(f"{fmt(w)}*{fmt(a)}" for w, a in zip(weights, activations)) + f" = {fmt(output)}"
    picked = int(np.argmax(weights))
    chances = ", ".join(fmt(a / total) for a in activations)
    return Message("stochastic.drawn", chances=chances, cell=picked + 1, chance=fmt(activations[picked] / total),
                   output=fmt(output))


def stochastic_gradient_note(mode="eval", **_):
    if mode == "train":
        return Message("stochastic.gradient_train")
    return None


def stochastic_expectation(x, geometry, mode="eval", seed=0):
    """Eval mode's ``sum_R a^2 / sum_R a`` (0 where ``sum_R a = 0``) from pooled sums of
    ``a = ReLU(x)``; ``None`` in train mode, and where a sum of squares overflowed or, in a window
    with ``a > 0``, underflowed below full precision."""
    if mode == "train" or not pooled_sums_apply(geometry):
        return None
    activations = x.clamp(min=0)
    total = pooled_sum(activations, geometry)
    squares = pooled_sum(activations, geometry, squares=True)
    low, high = (float(bound) for bound in torch.aminmax(torch.where(total > 0, squares, 1.0).detach()))
    if not (low >= smallest_exact(x.dtype) and math.isfinite(high)):
        return None
    empty = total == 0
    # Dividing by 1 where nothing is drawn: 0 / 0 would send NaN into the gradient through `where`.
    return torch.where(empty, 0.0, squares / torch.where(empty, 1.0, total))


stochastic = weighted(stochastic_weights, stochastic_expectation)

register(Operator(
    id="stochastic", name="Stochastic pooling",
    summary="Training draws one cell per window with probability proportional to its (ReLU) value; "
            "evaluation outputs the expected draw, Σa²/Σa.",
    formula=r"p_i = \frac{a_i}{\sum_{j \in R} a_j},\quad y_{\mathrm{train}} = a_l,\ l \sim p,\quad "
            r"y_{\mathrm{eval}} = \sum_{i \in R} p_i a_i,\quad a = \mathrm{ReLU}(x)",
    citation="M. D. Zeiler, R. Fergus, Stochastic pooling for regularization of deep convolutional "
             "neural networks, ICLR 2013.",
    forward=stochastic.forward, explain=stochastic.explain, explained=stochastic.explained,
    arithmetic=stochastic_arithmetic, notice=stochastic_notice,
    has_weights=True, random=True, expectation={"mode": "eval"}, gradient_note=stochastic_gradient_note,
    params=(
        Param("mode", "choice", "eval", "train draws one cell per window; eval outputs the expected value.",
              choices=("eval", "train"), label="Mode",
              choice_labels=("eval (testing)", "train (training)")),
        Param("seed", "int", 0, "Seed of the draw in train mode: the same seed gives the same cells.",
              low=0, high=2**64 - 1, ui=(0, 2**31 - 1), label="Random seed"),
    ),
))
