"""Max and average pooling: sliding, global and adaptive.

The outputs are PyTorch's, from its own kernels or, for large sliding inputs, from the faster
strided views of :mod:`pooling_core.operators.strided` (equal to them); the explanation is read
off the same calls: max weights are the one-hot of the indices PyTorch returns, average
weights are PyTorch's own divisor, measured by pooling a plane of ones.
"""

import torch
import torch.nn.functional as F

from pooling_core.numbers import fmt
from pooling_core.operators.strided import extreme_pool, fast_path, sliding_sum, window_counts
from pooling_core.registry import Explanation, Operator, Param, Preset, register, register_preset

CITATION_CLASSIC = "Y. LeCun et al., Gradient-based learning applied to document recognition, Proc. IEEE 1998."
CITATION_ADAPTIVE = "K. He et al., Spatial pyramid pooling in deep convolutional networks, ECCV 2014."
CITATION_GLOBAL = "M. Lin, Q. Chen, S. Yan, Network in network, ICLR 2014."


def max_forward(x, geometry, return_indices=False, **_):
    if geometry.sliding is None:
        return F.adaptive_max_pool2d(x, geometry.out_size, return_indices=return_indices)
    return extreme_pool(x, geometry, return_indices)


def max_explained(x, geometry, **_):
    output, indices = max_forward(x, geometry, return_indices=True)
    return output, Explanation(indices=indices)


def avg_forward(x, geometry, count_include_pad=True, divisor_override=None, **_):
    if geometry.sliding is None:
        return F.adaptive_avg_pool2d(x, geometry.out_size)
    if fast_path("sum", x, geometry):
        divisor = divisor_override or window_counts(geometry, not count_include_pad, x.dtype)
        return sliding_sum(x, geometry).div_(divisor)
    sliding = {k: v for k, v in geometry.sliding.items() if k != "dilation"}
    return F.avg_pool2d(x, **sliding, count_include_pad=count_include_pad, divisor_override=divisor_override)


def avg_explain(x, geometry, **params):
    # Pooling ones gives (real cells) / divisor per window, so each real cell weighs that over its count.
    ones = torch.ones((1, 1, *geometry.in_size), dtype=x.dtype)
    share = avg_forward(ones, geometry, **params)[0, 0]
    real = torch.as_tensor(geometry.real_mask())
    counts = real.sum((-1, -2))
    per_cell = share / counts.clamp(min=1)
    weights = real.to(x.dtype) * per_cell[..., None, None]
    return Explanation(weights=weights.expand(*x.shape[:2], *weights.shape))


def max_arithmetic(values, weights, output, **_):
    return f"max({', '.join(fmt(v) for v in values)}) = {fmt(output)}"


def avg_arithmetic(values, weights, output, **_):
    divisor = 1.0 / weights[0] if weights[0] > 0 else len(values)
    return f"({' + '.join(fmt(v) for v in values)}) / {fmt(round(divisor, 9))} = {fmt(output)}"


def _arguments(values: dict) -> str:
    return ", ".join(f"{name}={value!r}" for name, value in values.items())


def max_call(window, params):
    return f"F.max_pool2d(x, {_arguments(window)})"


def avg_call(window, params):
    sliding = {name: value for name, value in window.items() if name != "dilation"}
    return f"F.avg_pool2d(x, {_arguments({**sliding, **params})})"


def adaptive_call(function: str, size_param: bool):
    """``F.adaptive_<function>_pool2d(x, output_size)``: 1 for the global operators."""
    return lambda window, params: f"F.adaptive_{function}_pool2d(x, {params['output_size'] if size_param else 1!r})"


MAX_FORMULA = r"y_{ij} = \max_{(u,v) \in R_{ij}} a_{uv}"
AVG_FORMULA = r"y_{ij} = \frac{1}{D_{ij}} \sum_{(u,v) \in R_{ij}} a_{uv}"
OUTPUT_SIZE = Param("output_size", "size", 2, "Output height and width: one number, or (h, w) in the library.", low=1,
                    ui=(1, 64), label="Output size")

register(Operator(
    id="max", name="Max pooling",
    summary="Each output is the largest value in its window; ties go to the first in reading order.",
    formula=MAX_FORMULA, citation=CITATION_CLASSIC,
    forward=max_forward, explained=max_explained, arithmetic=max_arithmetic, has_weights=True, reduction="max",
    torch_call=max_call,
))
register(Operator(
    id="avg", name="Average pooling",
    summary="Each output is the mean of its window; the divisor D follows PyTorch's padding rules.",
    formula=AVG_FORMULA, citation=CITATION_CLASSIC,
    forward=avg_forward, explain=avg_explain, arithmetic=avg_arithmetic, has_weights=True, supports_dilation=False,
    torch_call=avg_call,
    params=(
        Param("count_include_pad", "bool", True, "Count zero padding in the divisor.",
              label="Count padding in the divisor (count_include_pad)"),
        Param("divisor_override", "int", None, "Divide by this number instead.", low=1, ui=(1, 4096),
              optional=True, label="Fixed divisor (divisor_override)"),
    ),
))
register(Operator(
    id="global_max", name="Global max pooling",
    summary="One output per channel: the largest value of the whole map.",
    formula=r"y = \max_{u,v} a_{uv}", citation=CITATION_GLOBAL,
    forward=max_forward, explained=max_explained, arithmetic=max_arithmetic, windows="global",
    has_weights=True, reduction="max", torch_call=adaptive_call("max", False),
))
register(Operator(
    id="global_avg", name="Global average pooling",
    summary="One output per channel: the mean of the whole map, as in Network in Network and ResNet.",
    formula=r"y = \frac{1}{HW} \sum_{u,v} a_{uv}", citation=CITATION_GLOBAL,
    forward=avg_forward, explain=avg_explain, arithmetic=avg_arithmetic, windows="global", has_weights=True,
    torch_call=adaptive_call("avg", False),
))
register(Operator(
    id="adaptive_max", name="Adaptive max pooling",
    summary="Windows sized to give a fixed output size; they may overlap and differ in size.",
    formula=MAX_FORMULA + r",\quad R_i = [\lfloor iH/o \rfloor, \lceil (i+1)H/o \rceil)",
    citation=CITATION_ADAPTIVE, forward=max_forward, explained=max_explained, arithmetic=max_arithmetic,
    windows="adaptive", has_weights=True, reduction="max", params=(OUTPUT_SIZE,), torch_call=adaptive_call("max", True),
))
register(Operator(
    id="adaptive_avg", name="Adaptive average pooling",
    summary="Windows sized to give a fixed output size; each output is its window's mean.",
    formula=AVG_FORMULA + r",\quad R_i = [\lfloor iH/o \rfloor, \lceil (i+1)H/o \rceil)",
    citation=CITATION_ADAPTIVE, forward=avg_forward, explain=avg_explain, arithmetic=avg_arithmetic, windows="adaptive",
    has_weights=True, params=(OUTPUT_SIZE,), torch_call=adaptive_call("avg", True),
))
register_preset(Preset(
    id="alexnet_overlapping", name="Overlapping max pooling (AlexNet: 3x3, stride 2)", op="max",
    settings={"kernel_size": 3, "stride": 2, "padding": 0},
    note="Krizhevsky, Sutskever and Hinton (ImageNet classification with deep convolutional neural networks, "
         "NeurIPS 2012) pooled 3x3 windows with stride 2, so neighbouring windows overlap by one cell: 55 -> 27 -> 13 "
         "-> 6. Against 2x2 windows with stride 2 this cut their top-1 and top-5 error by 0.4 and 0.3 points, and "
         "they found overlapping pooling slightly harder to overfit.",
))
