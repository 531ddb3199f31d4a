"""Min pooling: the smallest value of each window, as max pooling of the negated input.

``min_R a = -max_R (-a)``, so values, indices (the first minimum in reading order), NaN
propagation and the gradient (to that first minimum alone) are PyTorch's max pooling's; its
padding acts as ``+inf``, never chosen.
"""

from pooling_core.numbers import fmt
from pooling_core.operators.classic import CITATION_CLASSIC, max_call, max_explained, max_forward
from pooling_core.registry import Operator, register


def min_forward(x, geometry, **_):
    return -max_forward(-x, geometry)


def min_explained(x, geometry, **_):
    output, explanation = max_explained(-x, geometry)
    return -output, explanation


def min_call(window, params):
    return "-" + max_call(window, params).replace("(x,", "(-x,", 1)


def min_arithmetic(values, weights, output, **_):
    return f"min({', '.join(fmt(v) for v in values)}) = {fmt(output)}"


register(Operator(
    id="min", name="Min pooling",
    summary="Each output is the smallest value in its window; ties go to the first in reading order.",
    formula=r"y_{ij} = \min_{(u,v) \in R_{ij}} a_{uv} = -\max_{(u,v) \in R_{ij}} (-a_{uv})",
    citation=CITATION_CLASSIC,
    forward=min_forward, explained=min_explained, arithmetic=min_arithmetic, reduction="min", has_weights=True,
    torch_call=min_call,
))
