r"""LIP: local importance-based pooling (Gao et al. 2019), with the logit map given, not learned.

.. math::
    y = \sum_{i \in R} w_i a_i, \qquad w_i = \frac{e^{\beta \ell_i}}{\sum_{j \in R} e^{\beta \ell_j}}

The paper learns the logit map ``ℓ`` with a small sub-network and bounds it by ``12 σ(·)`` so
that ``exp`` cannot overflow. Here ``ℓ`` is the input itself (``logit="input"``: with ``β = 1``
this is SoftPool), zero (``"zero"``: average pooling that ignores padding), or an array shaped
like the input (one importance logit per input cell, gathered with the same windows); the
softmax subtracts each window's maximum instead of bounding the logit. Padding never counts: its
weight is 0. The gradient flows through the values ``a`` (and through ``ℓ = a`` for "input"); an
array logit is a constant. Without dilation the output comes from two pooled sums of the
whole map, as SoftPool's does, instead of each window's softmax.
"""

import numpy as np
import torch

from pooling_core.errors import PoolingError
from pooling_core.operators.weighting import masked_softmax, softmax_average, weighted
from pooling_core.registry import Operator, Param, register


def logit_map(logit: np.ndarray, batch_shape: tuple, dtype: torch.dtype) -> torch.Tensor:
    """An array logit as an (N, C, H, W) tensor; it must have the input's shape (leading 1s may be dropped)."""
    if (1,) * (4 - logit.ndim) + logit.shape != tuple(batch_shape):
        height, width = batch_shape[-2:]
        raise PoolingError("lip.logit_shape", height=height, width=width, shape=str(logit.shape))
    return torch.as_tensor(logit, dtype=dtype).reshape(batch_shape)


def logits_of(values, logit, map_shape) -> torch.Tensor:
    """The logits for ``values``, which are the input (N, C, H, W) or its windows: the values
    themselves or zeros of their shape for ``"input"`` and ``"zero"``; else the (N, C, H, W) map
    of a given array or of a learned tensor (:mod:`pooling_core.nn`, with its gradient)."""
    if isinstance(logit, str):
        return values if logit == "input" else torch.zeros_like(values)
    return logit if isinstance(logit, torch.Tensor) else logit_map(logit, map_shape, values.dtype)


def lip_weights(windows, real, geometry, logit="input", beta=1.0):
    logits = logits_of(windows, logit, (*windows.shape[:2], *geometry.in_size))
    if not isinstance(logit, str):  # a map: its windows
        logits = geometry.gather(logits, 0.0)
    return masked_softmax(beta * logits, real)


def lip_average(x, geometry, logit="input", beta=1.0):
    return softmax_average(x, beta * logits_of(x, logit, x.shape), geometry)


lip = weighted(lip_weights, lip_average)

register(Operator(
    id="lip", name="LIP (local importance pooling)",
    summary="A softmax-weighted average whose weights come from an importance logit per cell: "
            "the input itself (β=1 is SoftPool), zero (the plain mean) or a map you give.",
    formula=r"y = \sum_{i \in R} w_i a_i,\quad w_i = \frac{e^{\beta \ell_i}}{\sum_{j \in R} e^{\beta \ell_j}},"
            r"\quad \ell = a \text{ or } 0",
    citation="Z. Gao, L. Wang, G. Wu, LIP: Local importance-based pooling, ICCV 2019.",
    forward=lip.forward, explain=lip.explain, explained=lip.explained, has_weights=True,
    params=(
        Param("logit", "choice", "input",
              "The importance logit ℓ of each cell: the input value, zero (every cell counts the same), "
              "or (library only) an array shaped like the input.",
              choices=("input", "zero"), accepts_array=True, label="Importance logit",
              choice_labels=("the input values", "zero")),
        Param("beta", "float", 1.0, "Sharpness β: large β puts the weight on the largest logit, 0 gives "
                                    "the mean, negative β favours small logits.", ui=(-10.0, 10.0), morph=True,
              label="Sharpness β"),
    ),
))
