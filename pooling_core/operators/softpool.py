"""SoftPool: a softmax-weighted average of the window (Stergiou et al. 2021).

Unlike the official code this subtracts each window's maximum before ``exp`` (no overflow above
about 88 in float32), normalises per window and channel (the official CPU path sums over
channels), never clamps the output to be non-negative, and lets autograd give the exact gradient
``w_i (1 + a_i - y)`` where the official CUDA backward uses ``w_i``.
"""

from pooling_core.operators.weighting import masked_softmax, weighted
from pooling_core.registry import Operator, Param, register


def softpool_weights(windows, real, geometry, temperature=1.0):
    return masked_softmax(windows / temperature, real)


forward, explain = weighted(softpool_weights)

register(Operator(
    id="softpool", name="SoftPool",
    summary="A softmax-weighted average: large values weigh exponentially more. T→0 gives max, T→∞ the mean.",
    formula=r"y = \sum_{i \in R} w_i a_i,\quad w_i = \frac{e^{a_i/T}}{\sum_{j \in R} e^{a_j/T}}",
    citation="A. Stergiou, R. Poppe, G. Kalliatakis, Refining activation downsampling with SoftPool, ICCV 2021.",
    forward=forward, explain=explain, has_weights=True,
    params=(Param("temperature", "float", 1.0, "Softmax temperature T.", low=1e-3, high=1e3),),
))
