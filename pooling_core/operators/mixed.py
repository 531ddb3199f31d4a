r"""Mixtures of max and average pooling: mixed (Yu et al. 2014), gated (Lee et al. 2016), avg + max (timm).

Each is ``y = s · max_R a + (1 - s) · mean_R a`` for a share ``s`` of the max, so its weights are

.. math::
    w_i = s \cdot [i = \operatorname{argmax}_R a] + (1 - s) \frac{1}{|R|}

where ``R`` is the window's real cells (padding never counts, in the max or the mean) and the
argmax is the first maximum in reading order, PyTorch's tie rule: that cell alone takes the max's
gradient. Without dilation the output is computed as that mixture of max pooling and the mean of
the real cells (by PyTorch's kernels or the strided paths), without gathering the windows.
"""

import numpy as np
import torch
import torch.nn.functional as F

from pooling_core.errors import PoolingError
from pooling_core.messages import Message
from pooling_core.numbers import fmt
from pooling_core.operators.classic import max_forward
from pooling_core.operators.strided import window_counts
from pooling_core.operators.weighting import pooled_sum, pooled_sums_apply, weighted
from pooling_core.registry import Operator, Param, register


def max_mean_weights(windows, real, share):
    """``s * onehot(first argmax) + (1 - s) * uniform`` over the real cells; ``share`` broadcasts to (N, C, Ho, Wo)."""
    flat = torch.where(real, windows, -torch.inf).flatten(-2)
    cells = real.to(windows.dtype)
    first_max = F.one_hot(flat.argmax(-1), flat.shape[-1]).reshape(windows.shape) * cells
    uniform = cells / cells.sum((-1, -2), keepdim=True).clamp(min=1)
    share = share[..., None, None]
    return share * first_max + (1 - share) * uniform


def max_mean(x, geometry, share, total=None):
    """``share * max_R a + (1 - share) * mean_R a`` from max pooling and the window sums (``total``,
    where the caller has them), for :func:`weighted`'s ``fast``; ``None`` with dilation, which the
    sums do not take."""
    if not pooled_sums_apply(geometry):
        return None
    total = pooled_sum(x, geometry) if total is None else total
    maximum, mean = max_forward(x, geometry), total / window_counts(geometry, True, x.dtype)
    # A share of 0 or 1 (every draw in train mode) leaves out the other term, which may be infinite.
    share = torch.as_tensor(share, dtype=x.dtype)
    return torch.where(share == 1, maximum, torch.where(share == 0, mean, share * maximum + (1 - share) * mean))


def mix_text(share, values, output):
    """``0.62*max(1, 3) + 0.38*mean(1, 3) = 2.24``."""
    listed = ", ".join(fmt(v) for v in values)
    if len(values) == 1:
        return f"max({listed}) = mean({listed}) = {fmt(output)}"
    return f"{fmt(share)}*max({listed}) + {fmt(1 - share)}*mean({listed}) = {fmt(output)}"


def share_of_max(values, weights) -> float:
    """Recover ``s`` from the weights: every cell but the argmax weighs ``(1 - s) / |R|`` (needs |R| > 1)."""
    return float(1 - len(values) * np.min(weights))


# --- mixed -------------------------------------------------------------------------------------

def mixed_share(x, geometry, lam=0.5, mode="eval", per="region", seed=0):
    """Eval: ``s = λ``. Train: ``s = [u < λ]`` with ``u ~ U[0, 1)`` drawn per output cell or per map.

    The draw is ``torch.rand(shape, dtype=float64, generator=torch.Generator().manual_seed(seed))``
    with ``shape`` (N, C, Ho, Wo) for ``per="region"`` and (N, C, 1, 1) for ``per="map"``.
    """
    if mode == "eval":
        return torch.as_tensor(lam, dtype=x.dtype)
    batch, channels = x.shape[:2]
    shape = (batch, channels, *geometry.out_size) if per == "region" else (batch, channels, 1, 1)
    uniform = torch.rand(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return (uniform < lam).to(x.dtype)


def mixed_weights(windows, real, geometry, **params):
    return max_mean_weights(windows, real, mixed_share(windows, geometry, **params))


def mixed_fast(x, geometry, **params):
    return max_mean(x, geometry, mixed_share(x, geometry, **params))


def mixed_arithmetic(values, weights, output, lam=0.5, mode="eval", **_):
    if mode == "eval" or len(values) < 2:
        return mix_text(lam, values, output)
    drawn = round(share_of_max(values, weights))
    kind = f"max({', '.join(fmt(v) for v in values)})" if drawn else f"mean({', '.join(fmt(v) for v in values)})"
    return Message("mixed.drawn", drawn=drawn, kind=kind, output=fmt(output))


def mixed_gradient_note(mode="eval", **_):
    if mode == "train":
        return Message("mixed.gradient_train")
    return None


mixed = weighted(mixed_weights, mixed_fast)

register(Operator(
    id="mixed", name="Mixed pooling",
    summary="Max pooling or average pooling, chosen at random in training (max with probability λ); "
            "evaluation mixes them, λ·max + (1-λ)·mean.",
    formula=r"y = \lambda \max_{i \in R} a_i + (1 - \lambda) \frac{1}{|R|} \sum_{i \in R} a_i,\quad "
            r"\lambda \sim \mathrm{Bernoulli}(\mathrm{lam}) \text{ in training, } \lambda = \mathrm{lam} "
            r"\text{ in evaluation}",
    citation="D. Yu, H. Wang, P. Chen, Z. Wei, Mixed pooling for convolutional neural networks, "
             "RSKT 2014 (LNCS 8818).",
    forward=mixed.forward, explain=mixed.explain, explained=mixed.explained,
    arithmetic=mixed_arithmetic, has_weights=True, random=True,
    expectation={"mode": "eval"}, gradient_note=mixed_gradient_note, params=(
        Param("lam", "float", 0.5, "λ: the max's share in eval mode, its probability in train mode.",
              low=0.0, high=1.0, label="λ"),
        Param("mode", "choice", "eval", "train draws λ ∈ {0, 1}; eval uses λ itself.", choices=("eval", "train"),
              label="Mode", choice_labels=("eval (testing)", "train (training)")),
        Param("per", "choice", "region", "In train mode, draw λ once per output cell (region) or per feature map.",
              choices=("region", "map"), label="Drawn per",
              choice_labels=("region (each output cell)", "map (each feature map)")),
        Param("seed", "int", 0, "Seed of the draw in train mode: the same seed gives the same choices.",
              low=0, high=2**64 - 1, ui=(0, 2**31 - 1), label="Random seed"),
    ),
))


# --- gated -------------------------------------------------------------------------------------

def gate_weights(geometry, gate, dtype) -> torch.Tensor:
    """``ω``: ``1 / (kh kw)`` (one number) unless given; a given array must be kh x kw."""
    shape = geometry.window_shape
    omega = torch.as_tensor(1.0 / (shape[0] * shape[1]) if gate is None else gate, dtype=dtype)
    if omega.ndim and tuple(omega.shape) != shape:
        raise PoolingError("gated.gate_shape", height=shape[0], width=shape[1], shape=str(tuple(omega.shape)))
    return omega


def gated_weights(windows, real, geometry, gate=None):
    """``s = g = σ(Σ_R ω ⊙ a)``, padding contributing 0; ``ω`` is ``1 / (kh kw)`` everywhere unless given."""
    score = (gate_weights(geometry, gate, windows.dtype) * windows).sum((-1, -2))
    return max_mean_weights(windows, real, torch.sigmoid(score))


def gated_fast(x, geometry, gate=None):
    """With one ``ω`` for every cell the gate's score is ``ω`` times the window sum."""
    omega = gate_weights(geometry, gate, x.dtype)
    if omega.ndim or not pooled_sums_apply(geometry):
        return None
    total = pooled_sum(x, geometry)
    return max_mean(x, geometry, torch.sigmoid(omega * total), total)


def gated_arithmetic(values, weights, output, **_):
    if len(values) < 2:
        return mix_text(1.0, values, output)
    share = share_of_max(values, weights)
    return f"g = σ(Σ ω·a) = {fmt(share)}: " + mix_text(share, values, output)


gated = weighted(gated_weights, gated_fast)

register(Operator(
    id="gated", name="Gated max-average pooling",
    summary="Max and mean mixed by a gate g = σ(Σ ω·a) computed from the window itself; "
            "the default ω = 1/(kh·kw) makes g the sigmoid of the window's mean (padding as 0).",
    formula=r"y = g \max_{i \in R} a_i + (1 - g) \frac{1}{|R|} \sum_{i \in R} a_i,\quad "
            r"g = \sigma\Big(\sum_{i \in R} \omega_i a_i\Big)",
    citation="C.-Y. Lee, P. W. Gallagher, Z. Tu, Generalizing pooling functions in convolutional neural "
             "networks: mixed, gated, and tree, AISTATS 2016.",
    forward=gated.forward, explain=gated.explain, explained=gated.explained,
    arithmetic=gated_arithmetic, has_weights=True,
    params=(
        Param("gate", "float", None, "Gate weights ω: by default 1/(kh·kw) in every cell, so g = σ(window mean); "
                                     "a number puts that ω in every cell, a kh x kw array sets each cell's.",
              optional=True, accepts_array=True, in_app=False),
    ),
))


# --- avg + max ---------------------------------------------------------------------------------

def avgmax_weights(windows, real, geometry, combine="sum"):
    """``(onehot + uniform) / 2``, doubled for ``combine="sum"``: the weights then sum to 2, not 1."""
    halves = max_mean_weights(windows, real, torch.tensor(0.5, dtype=windows.dtype))
    return 2 * halves if combine == "sum" else halves


def avgmax_fast(x, geometry, combine="sum"):
    halves = max_mean(x, geometry, 0.5)
    return halves if halves is None or combine == "mean" else 2 * halves


def avgmax_arithmetic(values, weights, output, combine="sum"):
    listed = ", ".join(fmt(v) for v in values)
    total = f"max({listed}) + mean({listed})"
    return f"{total} = {fmt(output)}" if combine == "sum" else f"({total}) / 2 = {fmt(output)}"


avgmax = weighted(avgmax_weights, avgmax_fast)

register(Operator(
    id="avgmax", name="Average + max pooling",
    summary="The max and the mean of each window added (sum; the weights then add up to 2) or averaged "
            "(mean; timm's avgmax pooling, used before classifiers).",
    formula=r"y = \max_{i \in R} a_i + \frac{1}{|R|} \sum_{i \in R} a_i \quad\text{or half of it}",
    citation="R. Wightman, PyTorch Image Models (timm), adaptive_avgmax_pool2d / select_adaptive_pool2d, 2019, "
             "https://github.com/huggingface/pytorch-image-models.",
    forward=avgmax.forward, explain=avgmax.explain, explained=avgmax.explained,
    arithmetic=avgmax_arithmetic, has_weights=True,
    params=(
        Param("combine", "choice", "sum", "sum: max + mean (weights add up to 2); mean: (max + mean) / 2, "
                                          "which is timm's adaptive_avgmax_pool2d (weights add up to 1).",
              choices=("sum", "mean"), label="Combination",
              choice_labels=("sum (max + mean)", "mean ((max + mean) / 2)")),
    ),
))
