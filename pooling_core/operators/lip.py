r"""LIP: local importance-based pooling (Gao et al. 2019), with the logit map given, not learned.

.. math::
    y = \sum_{i \in R} w_i a_i, \qquad w_i = \frac{e^{\beta \ell_i}}{\sum_{j \in R} e^{\beta \ell_j}}

The paper learns the logit map ``ℓ`` with a small sub-network and bounds it by ``12 σ(·)`` so
that ``exp`` cannot overflow. Here ``ℓ`` is the input itself (``logit="input"``: with ``β = 1``
this is SoftPool), zero (``"zero"``: average pooling that ignores padding), or an array shaped
like the input (one importance logit per input cell, gathered with the same windows); the
softmax subtracts each window's maximum instead of bounding the logit. Padding never counts: its
weight is 0. The gradient flows through the values ``a`` (and through ``ℓ = a`` for "input"); an
array logit is a constant.
"""

import numpy as np
import torch

from pooling_core.errors import PoolingError
from pooling_core.operators.weighting import masked_softmax, weighted
from pooling_core.registry import Operator, Param, register


def logit_map(logit: np.ndarray, batch_shape: tuple, dtype: torch.dtype) -> torch.Tensor:
    """An array logit as an (N, C, H, W) tensor; it must have the input's shape (leading 1s may be dropped)."""
    if (1,) * (4 - logit.ndim) + logit.shape != tuple(batch_shape):
        height, width = batch_shape[-2:]
        raise PoolingError("lip.logit_shape", height=height, width=width, shape=str(logit.shape))
    return torch.as_tensor(logit, dtype=dtype).reshape(batch_shape)


def lip_weights(windows, real, geometry, logit="input", beta=1.0):
    if isinstance(logit, torch.Tensor):  # a learned (N, C, H, W) logit map (pooling_core.nn), with its gradient
        logits = geometry.gather(logit, 0.0)
    elif isinstance(logit, np.ndarray):
        logits = geometry.gather(logit_map(logit, (*windows.shape[:2], *geometry.in_size), windows.dtype), 0.0)
    elif logit == "input":
        logits = windows
    else:
        logits = torch.zeros_like(windows)
    return masked_softmax(beta * logits, real)


lip = weighted(lip_weights)

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
