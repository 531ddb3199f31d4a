"""SoftPool: a softmax-weighted average of the window (Stergiou et al. 2021).

Unlike the official code this subtracts each window's maximum before ``exp`` (no overflow above
about 88 in float32), normalises per window and channel (the official CPU path sums over
channels), never clamps the output to be non-negative, and lets autograd give the exact gradient
``w_i (1 + a_i - y)`` where the official CUDA backward uses ``w_i``.

The output is ``sum_R a e^(a/T) / sum_R e^(a/T)``: with the map's maximum subtracted, both sums
come from pooled sums (fast); where a window's exponentials would underflow, the per-window
softmax below is used, the same one that gives the weights.
"""


from pooling_core.messages import Message
from pooling_core.operators.weighting import masked_softmax, softmax_average, weighted
from pooling_core.registry import Operator, Param, register


def softpool_weights(windows, real, geometry, temperature=1.0):
    return masked_softmax(windows / temperature, real)


def softpool_average(x, geometry, temperature=1.0):
    return softmax_average(x, x if temperature == 1.0 else x / temperature, geometry)


softpool = weighted(softpool_weights, softpool_average)


def gradient_note(temperature=1.0):
    return Message("softpool.gradient")


def gradient_table(values, weights, output, temperature=1.0):
    """One window's exact gradient for an upstream of 1 beside the official CUDA kernel's rule, as
    (heading, column) pairs."""
    exact = weights * (1 + (values - output) / temperature)
    return [("a_i", values), ("w_i", weights), (Message("softpool.column_exact"), exact),
            (Message("softpool.column_official"), weights)]


register(Operator(
    id="softpool", name="SoftPool",
    summary="A softmax-weighted average: large values weigh exponentially more. T→0 gives max, T→∞ the mean.",
    formula=r"y = \sum_{i \in R} w_i a_i,\quad w_i = \frac{e^{a_i/T}}{\sum_{j \in R} e^{a_j/T}}",
    citation="A. Stergiou, R. Poppe, G. Kalliatakis, Refining activation downsampling with SoftPool, ICCV 2021.",
    forward=softpool.forward, explain=softpool.explain, explained=softpool.explained,
    has_weights=True, gradient_note=gradient_note, gradient_table=gradient_table,
    params=(Param("temperature", "float", 1.0, "Softmax temperature T: high T gives the mean, low T the max.", low=0.0,
                  low_open=True, ui=(1e-3, 1e3), log_scale=True, morph=True, label="Temperature T"),),
))
