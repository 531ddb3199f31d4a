"""Min pooling: the smallest value of each window, that of max pooling of the negated input.

``min_R a = -max_R (-a)``, so values, indices (the first minimum in reading order), NaN
propagation and the gradient (to that first minimum alone) are PyTorch's max pooling's; its
padding acts as ``+inf``, never chosen. Large inputs take the strided path with ``torch.minimum``,
which gives the same without negating the input and the output.
"""

from pooling_core.numbers import fmt
from pooling_core.operators.classic import CITATION_CLASSIC, max_call
from pooling_core.operators.strided import MIN, extreme_pool
from pooling_core.registry import Explanation, Operator, register


def min_forward(x, geometry, return_indices=False, **_):
    return extreme_pool(x, geometry, return_indices, MIN)


def min_explained(x, geometry, **_):
    output, indices = min_forward(x, geometry, return_indices=True)
    return output, Explanation(indices=indices)


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
