r"""Detail-preserving pooling, DPP (Saeedan et al. 2018), in the paper's form with the lite guide.

.. math::
    y = \sum_{i \in R} w_i a_i, \qquad
    w_i = \frac{\alpha + \rho(a_i - \bar a)}{\sum_{j \in R} \big(\alpha + \rho(a_j - \bar a)\big)}, \qquad
    \bar a = \frac{1}{|R|} \sum_{j \in R} a_j

    \rho_{\mathrm{sym}}(t) = (t^2 + \varepsilon^2)^{\lambda/2}, \qquad
    \rho_{\mathrm{asym}}(t) = (\max(t, 0)^2 + \varepsilon^2)^{\lambda/2}

``R`` is the window's real cells (padding never counts) and the guide ``ā`` is their mean (the
paper's "lite" box-filter guide). Cells that stand out from the mean weigh more: ``"sym"`` in
either direction, ``"asym"`` only above it. ``λ = 0`` gives the mean. Large ``λ`` gives the most
deviating cell (for ``"asym"`` on distinct values: the maximum) only where that deviation
exceeds 1 or ``α = 0``: for ``|t| < 1``, ``ρ → 0`` and the weights tend to ``α``, i.e. the mean.
The paper's form is not scale-invariant (input in [0, 1] behaves unlike input in [0, 255]). The
Torch7 code divides ``(a - ā)^2 + ε`` by its window mean before the power; the paper does not,
and neither does this.

The weights are computed in log space, ``log w_i = logaddexp(log α, λ/2 · log(t_i^2 + ε^2))``,
then normalised by a softmax that subtracts the window maximum, so inputs of ±1e4 with λ = 50
stay finite; ``α = 0`` is allowed (``log α = -inf``).
"""

import torch

from pooling_core.operators.weighting import masked_softmax, weighted
from pooling_core.registry import Operator, Param, register


def dpp_weights(windows, real, geometry, alpha=1.0, lam=1.0, variant="sym", eps=1e-3):
    mean = windows.sum((-1, -2), keepdim=True) / real.sum((-1, -2), keepdim=True).clamp(min=1)
    deviation = windows - mean
    if variant == "asym":
        deviation = deviation.clamp(min=0)
    log_rho = lam / 2 * torch.log(deviation * deviation + eps * eps)
    log_alpha = torch.log(torch.as_tensor(alpha, dtype=windows.dtype))  # -inf for α = 0
    return masked_softmax(torch.logaddexp(log_alpha, log_rho), real)


dpp = weighted(dpp_weights)

register(Operator(
    id="dpp", name="Detail-preserving pooling (DPP)",
    summary="Paper form with the window mean as guide (not the Torch7 code's normalised variant): cells that "
            "differ from the mean weigh more, in both directions (sym) or only above it (asym).",
    formula=r"y = \sum_{i \in R} w_i a_i,\quad w_i \propto \alpha + \rho(a_i - \bar a),\quad "
            r"\rho_{\mathrm{sym}}(t) = (t^2 + \varepsilon^2)^{\lambda/2},\quad "
            r"\rho_{\mathrm{asym}}(t) = (\max(t,0)^2 + \varepsilon^2)^{\lambda/2}",
    citation="F. Saeedan, N. Weber, M. Goesele, S. Roth, Detail-preserving pooling in deep networks, CVPR 2018.",
    forward=dpp.forward, explain=dpp.explain, explained=dpp.explained, has_weights=True,
    params=(
        Param("alpha", "float", 1.0, "Base weight α every cell gets; large α pulls the result to the mean.",
              low=0.0, ui=(0.0, 10.0), morph=True, label="Base weight α"),
        Param("lam", "float", 1.0, "Detail exponent λ: 0 gives the mean; large λ the most deviating cell if it "
                                   "deviates by more than 1 (or α = 0), else the mean.", low=0.0, ui=(0.0, 50.0),
              morph=True, label="Detail exponent λ"),
        Param("variant", "choice", "sym", "sym rewards cells above and below the window mean; asym only above.",
              choices=("sym", "asym"), label="Variant",
              choice_labels=("sym (above and below the mean)", "asym (above the mean only)")),
        Param("eps", "float", 1e-3, "ε keeps ρ smooth where a cell equals the mean.", low=0.0, low_open=True,
              ui=(1e-6, 1.0), label="ε"),
    ),
))
