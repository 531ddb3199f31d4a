"""Operators whose output is a weighted sum of the window: ``y = sum_R w_i a_i``.

Such an operator is defined by its weights alone; :func:`weighted` turns a weight function into
``forward`` and ``explain``, so the output and the weights shown come from one computation.
"""

import torch

from pooling_core.registry import Explanation


def masked_softmax(logits: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Softmax over each window's (kh, kw) cells; padded and absent cells get weight 0.

    ``torch.softmax`` subtracts the maximum first, so no logit can overflow.
    """
    flat = torch.where(real, logits, torch.tensor(-torch.inf, dtype=logits.dtype)).flatten(-2)
    return torch.softmax(flat, dim=-1).reshape(logits.shape)


def weighted(weights_fn):
    """``weights_fn(windows, real, geometry, **params)`` -> (N, C, Ho, Wo, kh, kw) weights.

    ``windows`` holds the window values (0 on padding), ``real`` (Ho, Wo, kh, kw) marks input
    cells. Returns ``(forward, explain)`` for an :class:`~pooling_core.registry.Operator`.
    """

    def weights_of(x, geometry, **params):
        windows = geometry.gather(x, 0.0)
        real = torch.as_tensor(geometry.real_mask())
        return windows, weights_fn(windows, real, geometry, **params)

    def forward(x, geometry, **params):
        windows, weights = weights_of(x, geometry, **params)
        return (weights * windows).sum((-1, -2))

    def explain(x, geometry, **params):
        return Explanation(weights=weights_of(x, geometry, **params)[1])

    return forward, explain
