"""The operator registry: what each pooling operator is, computes and takes.

The app builds its controls, formulas and citations from :data:`OPERATORS`, so a new operator is
one module that calls :func:`register`, with no page edits.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from pooling_core.errors import PoolingError
from pooling_core.geometry import WindowGeometry, adaptive_geometry, regular_geometry

SLIDING_CONTROLS = ("kernel_size", "stride", "padding", "dilation", "ceil_mode")


@dataclass(frozen=True)
class Param:
    """One hyperparameter of an operator.

    ``kind`` is ``"float"``, ``"int"``, ``"size"`` (a whole number or an ``(h, w)`` pair of them),
    ``"bool"`` or ``"choice"``. ``low``/``high`` bound what the mathematics accepts (inclusive;
    ``low_open`` excludes ``low`` itself, ``None`` is unbounded); the library checks that domain.
    ``ui`` is the narrower ``(low, high)`` a widget offers (the domain when ``None``), with
    ``log_scale`` for a parameter best moved by orders of magnitude. ``morph`` marks a parameter that
    moves its operator between average and max pooling. ``choices`` lists the options of a choice;
    ``optional`` allows ``None``; ``accepts_array`` lets callers of the library pass an array instead
    (the UI offers the choices); ``in_app=False`` marks a parameter only the library offers.
    ``label`` names it for a reader, as a widget's label, and ``choice_labels`` name its choices,
    in order (the app's catalogs translate both).
    """

    name: str
    kind: str
    default: object
    help: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    ui: tuple[float, float] | None = None
    log_scale: bool = False
    morph: bool = False
    choices: tuple = ()
    optional: bool = False
    accepts_array: bool = False
    in_app: bool = True
    label: str = ""
    choice_labels: tuple = ()

    def choice_label(self, choice) -> str:
        """How ``choice`` reads in English: its label, or the choice itself."""
        return dict(zip(self.choices, self.choice_labels)).get(choice, str(choice))

    @property
    def ui_range(self) -> tuple[float | None, float | None]:
        """What a widget offers: ``ui``, else the domain."""
        return self.ui if self.ui is not None else (self.low, self.high)

    def check(self, value, op_id: str):
        if value is None and self.optional:
            return None
        if self.accepts_array and isinstance(value, (np.ndarray, list, tuple)):
            array = np.asarray(value, dtype=np.float64)
            if not np.isfinite(array).all():
                raise PoolingError("param.not_finite_array", op=op_id, param=self.name)
            return array
        if self.kind == "choice":
            if value not in self.choices:
                options = ", ".join(repr(c) for c in self.choices)
                raise PoolingError("param.not_a_choice", op=op_id, param=self.name, options=options, value=repr(value))
            return value
        if self.kind == "bool":
            if not isinstance(value, (bool, np.bool_)):
                raise PoolingError("param.not_bool", op=op_id, param=self.name, value=repr(value))
            return bool(value)
        if self.kind == "size" and isinstance(value, (tuple, list)):
            if len(value) != 2:
                raise PoolingError("param.not_size_pair", op=op_id, param=self.name, value=repr(value))
            return tuple(self._checked_number(v, op_id) for v in value)
        return self._checked_number(value, op_id)

    def _checked_number(self, value, op_id: str):
        number = _number(value, integer=self.kind in ("int", "size"))
        if number is None:
            key = "param.not_a_number" if self.kind == "float" else "param.not_whole"
            raise PoolingError(key, op=op_id, param=self.name, value=repr(value))
        if not self.contains(number):
            key, bounds = self.domain_message()
            raise PoolingError(key, op=op_id, param=self.name, **bounds, value=f"{number:g}")
        return number

    def contains(self, number) -> bool:
        """``number`` lies in the domain; infinity only where ``high`` is infinite."""
        if math.isinf(number) and not (number > 0 and self.high is not None and math.isinf(self.high)):
            return False
        if self.low is not None and (number < self.low or (self.low_open and number == self.low)):
            return False
        return self.high is None or number <= self.high

    def domain_message(self) -> tuple[str, dict]:
        """The message key of a number outside the domain and the bounds it names, e.g.
        ``("param.not_between", {"low": "0", "high": "1"})`` ("must be between 0 and 1")."""
        low = None if self.low is None else f"{self.low:g}"
        if low is not None and self.high is not None and not math.isinf(self.high):
            key = "param.not_between_open" if self.low_open else "param.not_between"
            return key, {"low": low, "high": f"{self.high:g}"}
        if low is not None:
            return ("param.not_greater" if self.low_open else "param.not_at_least"), {"low": low}
        if self.high is not None:
            return "param.not_at_most", {"high": f"{self.high:g}"}
        return "param.not_finite", {}


def _number(value, integer: bool):
    if isinstance(value, (bool, np.bool_)):
        return None
    if integer:
        return int(value) if isinstance(value, (int, np.integer)) else None
    if isinstance(value, (int, float, np.integer, np.floating)) and not math.isnan(value):
        return float(value)
    return None


@dataclass(frozen=True)
class Explanation:
    """Per-window data of one call, as torch tensors over (N, C, Ho, Wo[, kh, kw]). A max-type
    operator gives only its ``indices``: its weights are their one-hot. ``component`` (N, 2) is the
    row and column offset of the polyphase component each image's output was sampled from, for an
    operator that picks one per image (APS); its arithmetic then receives it as ``component``.
    ``cells`` (N, kh, kw) bool marks the cells of every window that image's choice lets its output
    read (APS: the winning component's k x k inside the geometry's (k+s-1)-wide span); a window
    report shows only those."""

    weights: object = None
    indices: object = None
    component: object = None
    cells: object = None


@dataclass(frozen=True)
class Operator:
    """A pooling operator.

    ``forward(x, geometry, **params)`` maps an (N, C, H, W) float tensor to (N, C, Ho, Wo) in
    torch, so autograd gives its gradient. ``explain`` (same arguments) returns an
    :class:`Explanation` built from the same computation; it runs only when asked for. An
    operator whose output and explanation cost less together than apart (max pooling's values
    and indices in one pass, a weighted sum's weights) gives ``explained``: ``(output,
    Explanation)`` in one call, which also stands in for a missing ``explain``.
    ``windows`` says how the geometry is made: ``"sliding"`` (kernel, stride, padding, dilation,
    ceil_mode), ``"global"`` (one window over the whole map), ``"adaptive"`` (``output_size``), or a
    function ``(in_size, params, kernel_size, stride, padding, dilation, ceil_mode) -> WindowGeometry``
    for an operator with windows of its own. ``controls`` names the sliding-window arguments the
    operator uses (the app shows only those). ``notice(x, **params)`` returns a sentence the user
    must see about this input (e.g. that a ReLU was applied), or ``None``.

    What the app says about an operator comes from these fields, never from its id: ``reduction``
    (``"max"`` or ``"min"``) names the one window cell that gives the output and takes its whole
    gradient (ties go to the first in reading order; ``explain`` then returns indices);
    ``has_weights``: the output is a weighted sum of the window; ``random``: it draws in train mode;
    ``gradient_note(**params)`` says how its gradient is spread, where that needs saying;
    ``gradient_table(values, weights, output, **params)`` gives columns that compare one window's
    gradient with another rule (e.g. an official implementation's). ``expectation`` holds the
    parameters that make a random operator output its expected value over the draw (``{"mode": "eval"}``):
    a prediction is asked for that value. ``circular``: its windows wrap
    around the map, so a circular shift of the input circularly shifts the output (APS);
    ``torch_call(window, params)`` writes the ``torch.nn.functional`` expression of input ``x`` that
    computes the same for these window settings and parameters, where PyTorch has one.
    """

    id: str
    name: str
    summary: str
    formula: str
    citation: str
    forward: Callable
    explain: Callable | None = None
    explained: Callable | None = None
    arithmetic: Callable | None = None
    params: tuple[Param, ...] = ()
    windows: str | Callable = "sliding"
    controls: tuple[str, ...] | None = None
    notice: Callable | None = None
    reduction: str | None = None
    has_weights: bool = False
    random: bool = False
    supports_dilation: bool = True
    gradient_note: Callable | None = None
    gradient_table: Callable | None = None
    expectation: dict | None = None
    circular: bool = False
    torch_call: Callable | None = None

    def explanation(self, x, geometry, **params) -> Explanation:
        """The :class:`Explanation` of one call (an empty one for an operator without)."""
        if self.explain is not None:
            return self.explain(x, geometry, **params)
        return Explanation() if self.explained is None else self.explained(x, geometry, **params)[1]

    def output_and_explanation(self, x, geometry, **params) -> tuple:
        """``(output, explanation)`` of one call, in one computation where the operator has ``explained``."""
        if self.explained is not None:
            return self.explained(x, geometry, **params)
        return self.forward(x, geometry, **params), self.explanation(x, geometry, **params)

    @property
    def has_indices(self) -> bool:
        """The operator returns the flat input index of each window's chosen cell."""
        return self.reduction is not None

    def resolve(self, given: dict) -> dict:
        """Defaults filled in and every value checked; unknown names raise :class:`PoolingError`."""
        known = {p.name: p for p in self.params}
        unknown = sorted(set(given) - set(known))
        if unknown:
            if not known:
                raise PoolingError("operator.unknown_param_none", op=self.id, param=repr(unknown[0]))
            raise PoolingError("operator.unknown_param", op=self.id, param=repr(unknown[0]), params=", ".join(known))
        return {name: p.check(given.get(name, p.default), self.id) for name, p in known.items()}

    @property
    def window_controls(self) -> tuple[str, ...]:
        if self.controls is not None:
            return self.controls
        if self.windows == "sliding":
            return SLIDING_CONTROLS if self.supports_dilation else tuple(c for c in SLIDING_CONTROLS if c != "dilation")
        return ()

    def geometry(self, in_size, params: dict, kernel_size, stride, padding, dilation, ceil_mode) -> WindowGeometry:
        if callable(self.windows):
            return self.windows(in_size, params, kernel_size, stride, padding, dilation, ceil_mode)
        if self.windows == "global":
            return adaptive_geometry(in_size, 1)
        if self.windows == "adaptive":
            return adaptive_geometry(in_size, params["output_size"])
        if dilation not in (1, (1, 1), [1, 1]) and not self.supports_dilation:
            raise PoolingError("operator.no_dilation", name=self.name)
        return regular_geometry(in_size, kernel_size, stride, padding, dilation, ceil_mode)


@dataclass(frozen=True)
class Preset:
    """A named setting from the literature: an operator with fixed window settings and a note."""

    id: str
    name: str
    op: str
    settings: dict
    note: str


OPERATORS: dict[str, Operator] = {}
PRESETS: dict[str, Preset] = {}


def register(operator: Operator) -> Operator:
    if operator.id in OPERATORS:
        raise ValueError(f"operator {operator.id!r} is registered twice")
    OPERATORS[operator.id] = operator
    return operator


def register_preset(preset: Preset) -> Preset:
    PRESETS[preset.id] = preset
    return preset


def get_operator(op_id: str) -> Operator:
    try:
        return OPERATORS[op_id]
    except KeyError:
        raise PoolingError("operator.unknown", op=repr(op_id), operators=", ".join(OPERATORS)) from None
