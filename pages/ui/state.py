"""The app's settings as one table: every field's key (its session-state key and URL parameter),
kind, allowed values and default, with each operator's parameters generated from its ``Param``s.

Widgets bind to the URL with Streamlit's ``bind="query-params"``. Streamlit drops a URL value it
cannot use without a word; :func:`check_link` reads the link first, when a session opens, and
turns every value it can into the nearest valid one, with a notice naming the parameter. It also
accepts the spellings of older links (operator ids, ``1``/``0`` for switches).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from pages.ui.i18n import LANG_KEY, LANGUAGES, t, text_in
from pooling_core import OPERATORS
from pooling_core.examples import EXAMPLES
from pooling_core.invariance import SHIFT_MODES, TRANSFORMS
from pooling_core.numbers import fmt

BOUND = {"bind": "query-params", "persist_state": "session"}
CELL_KEY = "cell"
PREDICT_KEY = "predict"
LOCK_KEY, HIDE_KEY = "lock", "hide"
PROJECTOR_KEY = "projector"
NOTICES_KEY = "_link_notices"
LINK_KEY = "_link_values"
TEXTBOOK_GRID = "1 1 2 4\n5 6 7 8\n3 2 1 0\n1 2 3 4"
MAX_SEED = 2**31 - 1
TRUE_WORDS, FALSE_WORDS = ("true", "1", "yes", "on"), ("false", "0", "no", "off")


@dataclass(frozen=True)
class Notice:
    """A link's value that was replaced: the catalog key of the reason, the parameter, what the
    link said and the value used instead."""

    reason: str
    field: Field
    text: str
    used: object

    def render(self) -> str:
        shown = self.text if len(self.text) <= 24 else self.text[:21] + "..."
        kind = self.field.kind
        if kind == "choice":
            used = self.field.label(self.used)
        elif kind == "bool":
            used = t("link.on" if self.used else "link.off")
        elif kind == "set":
            used = ",".join(self.used) or t("teacher.nothing")
        else:
            used = ",".join(map(str, self.used)) if kind == "cell" else fmt(self.used)
        return t(self.reason, name=self.field.key, text=shown, value=used)


@dataclass(frozen=True)
class Field:
    """One setting. ``kind`` is ``"int"``, ``"float"``, ``"bool"``, ``"choice"`` (one of
    ``choices``, shown by the catalog entry ``label_key(choice)`` gives as ``(key, English
    default)``), ``"text"`` or ``"cell"`` (an output cell ``row,col``); numbers lie in
    ``[low, high]``."""

    key: str
    kind: str
    default: object
    low: float | None = None
    high: float | None = None
    choices: tuple = ()
    label_key: Callable[[object], tuple[str, str | None]] | None = None

    def label(self, choice) -> str:
        """How a choice is shown, in this session's language."""
        return str(choice) if self.label_key is None else t(*self.label_key(choice))

    def _spellings(self, choice) -> set[str]:
        """A choice as a link may write it: its id, or its label in any language."""
        if self.label_key is None:
            return {str(choice)}
        return {str(choice), *(text_in(lang, *self.label_key(choice)) for lang in LANGUAGES)}

    def read(self, text: str) -> tuple[object, Notice | None]:
        """The value a link's ``text`` stands for, and a notice when it had to be replaced."""
        text = text.strip()
        if self.kind == "text":
            return text, None
        if self.kind == "bool":
            word = text.lower()
            if word in TRUE_WORDS or word in FALSE_WORDS:
                return word in TRUE_WORDS, None
            return self.default, Notice("link.not_a_switch", self, text, self.default)
        if self.kind == "choice":
            for choice in self.choices:
                if text in self._spellings(choice):
                    return choice, None
            return self.default, Notice("link.not_a_choice", self, text, self.default)
        if self.kind == "set":
            names = [name.strip() for name in text.split(",") if name.strip()]
            chosen = tuple(choice for choice in self.choices if choice in names)
            if len(chosen) == len(set(names)):
                return chosen, None
            return chosen, Notice("teacher.not_in_set", self, text, chosen)
        if self.kind == "cell":
            parts = text.split(",")
            if len(parts) == 2 and all(part.strip().isdigit() for part in parts):
                return tuple(int(part) for part in parts), None
            return self.default, Notice("link.not_a_cell", self, text, self.default)
        return self._number(text)

    def write(self, value) -> str:
        """``value`` as a link writes it, for :meth:`read`: ``write((1, 2))`` of a cell is ``1,2``."""
        if self.kind == "bool":
            return "true" if value else "false"
        if self.kind in ("cell", "set"):
            return ",".join(map(str, value))
        if self.kind == "float":
            return repr(float(value))
        return str(value)

    def _number(self, text: str):
        try:
            number = float(text)
        except ValueError:
            number = math.nan
        if math.isnan(number):
            return self.default, Notice("link.not_a_number", self, text, self.default)
        value = min(max(number, self.low), self.high)
        if self.kind == "int":
            value = round(value)
        if value == number:
            return value, None
        return value, Notice("link.not_available", self, text, value)


def param_key(op_id: str, name: str) -> str:
    return f"{op_id}.{name}"


def infinity_key(key: str) -> str:
    """The switch that sets a parameter to infinity (Lp's p = ∞)."""
    return key + ".inf"


def enabled_key(key: str) -> str:
    """The switch that gives an optional parameter a value (else it is ``None``)."""
    return key + ".on"


def starting_value(p):
    """What a number widget shows before the user sets it: the default, else a value in its range."""
    low, high = p.ui_range
    if p.default is not None:
        return p.default
    if p.kind == "float" and low is not None and high is not None and not math.isinf(high):
        return (low + high) / 2
    return low if low is not None else (1 if p.kind in ("int", "size") else 1.0)


def _param_fields(op) -> list[Field]:
    fields = []
    for p in op.params:
        if not p.in_app:
            continue
        key = param_key(op.id, p.name)
        if p.kind == "bool":
            fields.append(Field(key, "bool", p.default))
        elif p.kind == "choice":
            fields.append(Field(key, "choice", p.default, choices=p.choices,
                                label_key=lambda choice, key=key, p=p: (f"op.{key}.{choice}", p.choice_label(choice))))
        else:
            low, high = p.ui_range
            infinite = high is not None and math.isinf(high)
            kind = "float" if p.kind == "float" else "int"
            top = (1e308 if kind == "float" else 2**63) if high is None or infinite else high
            fields.append(Field(key, kind, starting_value(p), low=-top if low is None else low, high=top))
            if p.optional:
                fields.append(Field(enabled_key(key), "bool", False))
            if infinite:
                fields.append(Field(infinity_key(key), "bool", False))
    return fields


CHANNELS = ("red", "green", "blue", "all")
NO_OPERATOR = "none"  # an empty slot of Compare
COMPARE_KEYS = ("compare_1", "compare_2", "compare_3", "compare_4")
COMPARE_DEFAULTS = tuple(op for op in ("max", "avg", "softpool", "aps", "blur_max") if op in OPERATORS)[:4]


# What a link can lock: the sidebar's controls and the predict and projector switches by their keys, "params" for the
# operator's own parameters; and the sections it can hide (the sidebar's sources, menus and switches,
# Explore's formula and downloads).
LOCKABLE = ("lang", "source", "example", "grid_text", "random_rows", "random_cols", "seed", "color_mode", "channel",
            "op", "kernel", "stride", "padding", "dilation", "ceil_mode", "params", PREDICT_KEY, PROJECTOR_KEY)
HIDEABLE = ("upload", "grid", "random", "preset", "language", "formula", PREDICT_KEY, "exports")


def _operator_label(op_id: str):
    return f"op.{op_id}.name", OPERATORS[op_id].name


def _catalog_label(section: str):
    """Labels from one catalog section: choice ``c`` is shown as ``section.c``."""
    return lambda choice: (f"{section}.{choice}", None)


FIELDS: dict[str, Field] = {field.key: field for field in [
    Field(LANG_KEY, "choice", None, choices=tuple(LANGUAGES), label_key=_catalog_label("language")),
    Field("source", "choice", "example", choices=("example", "grid", "upload", "random"),
          label_key=_catalog_label("source")),
    Field("example", "choice", "Textbook 4x4", choices=tuple(EXAMPLES), label_key=_catalog_label("example")),
    Field("grid_text", "text", TEXTBOOK_GRID),
    Field("random_rows", "int", 8, low=1, high=64),
    Field("random_cols", "int", 8, low=1, high=64),
    Field("seed", "int", 0, low=0, high=MAX_SEED),
    Field("color_mode", "choice", "gray", choices=("gray", "rgb"), label_key=_catalog_label("color_mode")),
    Field("channel", "choice", "red", choices=CHANNELS, label_key=_catalog_label("channel")),
    Field("op", "choice", "max", choices=tuple(OPERATORS), label_key=_operator_label),
    Field("kernel", "int", 2, low=1, high=9),
    Field("stride", "int", 2, low=1, high=9),
    Field("padding", "int", 0, low=0, high=4),
    Field("dilation", "int", 1, low=1, high=4),
    Field("ceil_mode", "bool", False),
    Field(CELL_KEY, "cell", (0, 0)),
    # The classroom: predict mode, the projector view, and the controls a teacher's link locks and the
    # sections it hides.
    Field(PREDICT_KEY, "bool", False),
    Field(PROJECTOR_KEY, "bool", False),
    Field(LOCK_KEY, "set", (), choices=LOCKABLE),
    Field(HIDE_KEY, "set", (), choices=HIDEABLE),
    # The labs' own settings: the shift lab's transform, the operators Compare shows, the theory's classes.
    Field("shift_transform", "choice", "shift", choices=TRANSFORMS, label_key=_catalog_label("shift.transform")),
    Field("shift_dy", "int", 0, low=-8, high=8),
    Field("shift_dx", "int", 1, low=-8, high=8),
    Field("shift_mode", "choice", "circular", choices=SHIFT_MODES, label_key=_catalog_label("shift.mode")),
    Field("shift_fill", "float", 0.0, low=-1e6, high=1e6),
    *(Field(key, "choice", default, choices=(NO_OPERATOR, *OPERATORS),
            label_key=lambda op_id: ("compare.none", None) if op_id == NO_OPERATOR else _operator_label(op_id))
      for key, default in zip(COMPARE_KEYS, COMPARE_DEFAULTS)),
    Field("compare_ref", "choice", "max", choices=tuple(OPERATORS), label_key=_operator_label),
    Field("theory_alpha1", "float", 0.1, low=0.0, high=1.0),
    Field("theory_alpha2", "float", 0.005, low=0.0, high=1.0),
    Field("theory_pool", "int", 16, low=1, high=256),
    Field("theory_draws", "int", 2000, low=10, high=100_000),
    Field("theory_seed", "int", 0, low=0, high=MAX_SEED),
    *(field for op in OPERATORS.values() for field in _param_fields(op)),
]}
SLIDING_KEYS = {"kernel_size": "kernel", "stride": "stride", "padding": "padding", "dilation": "dilation",
                "ceil_mode": "ceil_mode"}


def check_link() -> None:
    """Read the link once per session, before any widget: put each value it holds into session
    state, the nearest valid one where it had to be replaced, and keep a notice for each of those
    (:func:`link_notices`).

    Streamlit drops from the URL a value its widget could not read (an old link's operator id, a
    kernel of 100), and writes a value set from code back into the URL only when it is set on a
    run after its widget exists. So the next run sets the link's values once more, those the user
    has not changed in the meantime, and the URL then reproduces the view.
    """
    state = st.session_state
    if LINK_KEY in state:
        for key, link_value in state.pop(LINK_KEY).items():
            if state.get(key) == link_value:
                state[key] = link_value
        return
    if NOTICES_KEY in state:
        return
    values, notices = {}, []
    for key, text in st.query_params.items():
        field = FIELDS.get(key)
        if field is None:
            continue
        values[key], notice = field.read(text)
        if values[key] is None:  # a language it does not know: the browser's
            del values[key]
        elif notice:
            notices.append(notice)
    state.update(values)
    state[LINK_KEY], state[NOTICES_KEY] = values, notices


def link_notices() -> list[str]:
    """The notices about the link, on the session's first run only."""
    return [notice.render() for notice in st.session_state[NOTICES_KEY]] if LINK_KEY in st.session_state else []


def value(key: str):
    """The current value of a field: its widget's, else the one a link gave, else the default."""
    return st.session_state.get(key, FIELDS[key].default)


def locked(key: str) -> bool:
    """A teacher's link locked this field's control (an operator parameter's through ``params``)."""
    lock = value(LOCK_KEY)
    return key in lock or ("params" in lock and key.split(".")[0] in OPERATORS)


def hidden(section: str) -> bool:
    """A teacher's link hid this section (one of ``HIDEABLE``)."""
    return section in value(HIDE_KEY)


def link_query() -> dict[str, str]:
    """The URL parameters of the current view: every field that differs from its default (of the
    operator's parameters only the current operator's), e.g. ``{"op": "avg", "kernel": "3"}``."""
    op = value("op")
    query = {}
    for key, field in FIELDS.items():
        owner = key.split(".")[0]
        if owner in OPERATORS and owner != op:
            continue
        current = value(key)
        if current is not None and current != field.default:
            query[key] = field.write(current)
    return query
