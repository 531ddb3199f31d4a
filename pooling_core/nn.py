"""PoolScope's operators as ``torch.nn`` modules, running the very forward :func:`pooling_core.pool2d` runs.

>>> import torch
>>> from pooling_core.nn import Pool2d
>>> pool = Pool2d("softpool", kernel_size=2)               # any id in pooling_core.OPERATORS
>>> pool(torch.ones(8, 16, 32, 32)).shape
torch.Size([8, 16, 16, 16])

Where the method learns, the module holds the parameters: LIP's importance logits come from a
depthwise 3 x 3 convolution of the input (``channels`` needed; its weights start at 0, so LIP
starts as average pooling), the mixed share ``λ = σ(θ)`` (Lee et al.'s learned mixed max-average
pooling, starting at ``lam``), the gated gate ``ω`` (kh x kw, starting at ``1 / (kh kw)``), and
DPP's ``α`` and ``λ`` (kept positive as ``softplus(θ)``, starting at the given values). Operators
that draw (stochastic and fractional max pooling) draw afresh from torch's global generator at
every call in ``train()`` mode, so ``torch.manual_seed`` makes a run repeatable; ``eval()`` gives
the expectation (stochastic) or the windows of ``seed`` (fractional).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from pooling_core.errors import PoolingError
from pooling_core.geometry import pair
from pooling_core.registry import get_operator


def _softplus_inverse(value: float) -> float:
    """``θ`` with ``softplus(θ) = value``; 0 maps to a θ whose softplus is below 1e-8."""
    return math.log(math.expm1(value)) if value > 0 else -20.0


class _LipLogit(nn.Module):
    """LIP's logit map: a depthwise 3 x 3 convolution of the input (Gao et al. use a small conv)."""

    needs_channels = True

    def __init__(self, params, kernel_size, channels, padding_mode):
        super().__init__()
        if channels is None:
            raise PoolingError("nn.channels_needed", op="lip")
        self.conv = nn.Conv2d(channels, channels, 3, padding=1, groups=channels, padding_mode=padding_mode)
        nn.init.zeros_(self.conv.weight)
        nn.init.zeros_(self.conv.bias)

    def forward(self, x):
        return {"logit": self.conv(x.to(self.conv.weight.dtype)).to(x.dtype)}


class _MixedShare(nn.Module):
    def __init__(self, params, kernel_size, channels, padding_mode):
        super().__init__()
        lam = min(max(params["lam"], 1e-6), 1 - 1e-6)
        self.theta = nn.Parameter(torch.tensor(math.log(lam / (1 - lam))))

    def forward(self, x):
        return {"lam": torch.sigmoid(self.theta), "mode": "eval"}


class _Gate(nn.Module):
    def __init__(self, params, kernel_size, channels, padding_mode):
        super().__init__()
        kh, kw = pair(kernel_size, "geometry.kernel_size_not_whole")
        start = np.full((kh, kw), 1.0 / (kh * kw)) if params["gate"] is None else np.broadcast_to(params["gate"],
                                                                                                 (kh, kw))
        self.omega = nn.Parameter(torch.tensor(start))

    def forward(self, x):
        return {"gate": self.omega}


class _DppExponents(nn.Module):
    def __init__(self, params, kernel_size, channels, padding_mode):
        super().__init__()
        self.theta_alpha = nn.Parameter(torch.tensor(_softplus_inverse(params["alpha"])))
        self.theta_lam = nn.Parameter(torch.tensor(_softplus_inverse(params["lam"])))

    def forward(self, x):
        softplus = nn.functional.softplus
        return {"alpha": softplus(self.theta_alpha), "lam": softplus(self.theta_lam)}


LEARNED = {"lip": _LipLogit, "mixed": _MixedShare, "gated": _Gate, "dpp": _DppExponents}


class Pool2d(nn.Module):
    """``pool2d(x, op, kernel_size, stride, padding, dilation, ceil_mode, **params)`` as a module.

    Input (N, C, H, W), output (N, C, Ho, Wo); ``params`` are the operator's own (checked as
    :func:`pooling_core.pool2d` checks them); ``channels`` is C, needed by LIP's logit convolution,
    which pads as ``padding_mode`` says (``nn.Conv2d``'s: "zeros", "circular", ...).
    The learned parameters of LIP, mixed, gated and DPP replace the corresponding ``params``.
    """

    def __init__(self, op: str, kernel_size=2, stride=None, padding=0, dilation=1, ceil_mode=False, *,
                 channels: int | None = None, padding_mode: str = "zeros", **params):
        super().__init__()
        self.operator = get_operator(op)
        self.params = self.operator.resolve(params)
        self.window = dict(kernel_size=kernel_size, stride=stride, padding=padding, dilation=dilation,
                           ceil_mode=ceil_mode)
        learner = LEARNED.get(op)
        self.learned = None if learner is None else learner(self.params, kernel_size, channels, padding_mode)
        self._geometries = {}

    def geometry(self, in_size: tuple[int, int]):
        """The windows over an ``in_size`` map, made once per size."""
        if in_size not in self._geometries:
            self._geometries[in_size] = self.operator.geometry(in_size, self.params, **self.window)
        return self._geometries[in_size]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        params, in_size = dict(self.params), tuple(x.shape[-2:])
        drawing = self.operator.random and self.training
        if drawing:
            if "mode" in params:
                params["mode"] = "train"
            if "seed" in params:
                params["seed"] = int(torch.randint(0, 2**62, ()))
        # A fresh seed may move the windows (fractional max pooling), so they are made anew.
        geometry = self.operator.geometry(in_size, params, **self.window) if drawing else self.geometry(in_size)
        if self.learned is not None:
            params.update(self.learned(x))
        return self.operator.forward(x, geometry, **params)

    def extra_repr(self) -> str:
        settings = ", ".join(f"{k}={v}" for k, v in {**self.window, **self.params}.items())
        return f"{self.operator.id!r}, {settings}"


def snippet(op: str, kernel_size=2, stride=None, padding=0, dilation=1, ceil_mode=False, **params) -> str:
    """PyTorch code for these settings: ``torch.nn.functional`` where PyTorch has the operator,
    else :class:`Pool2d`. Only the window settings the operator uses are written, and the
    parameters a caller can type (not arrays). Example: ``snippet("max", 2)`` ends with
    ``y = F.max_pool2d(x, kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)``.
    """
    operator = get_operator(op)
    resolved = operator.resolve(params)
    given = dict(kernel_size=kernel_size, stride=kernel_size if stride is None else stride, padding=padding,
                 dilation=dilation, ceil_mode=ceil_mode)
    window = {name: given[name] for name in operator.window_controls}
    shown = {p.name: resolved[p.name] for p in operator.params if not isinstance(resolved[p.name], np.ndarray)}
    if operator.torch_call is not None:
        return f"import torch.nn.functional as F\n\ny = {operator.torch_call(window, shown)}"
    settings = {**window, **shown}
    if getattr(LEARNED.get(op), "needs_channels", False):
        settings["channels"] = "x.shape[1]"
    arguments = "".join(f", {name}={value if name == 'channels' else repr(value)}" for name, value in settings.items())
    return f'from pooling_core.nn import Pool2d\n\npool = Pool2d("{op}"{arguments})\ny = pool(x)'
