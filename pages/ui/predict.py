"""Predict, then reveal: Explore asks for the output's size before drawing it, then for its values
(one cell or the whole output), and checks them against the pooling the page computed, each cell
with its window's arithmetic (:func:`pooling_core.explain.window_report`)."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, replace

import numpy as np
import streamlit as st

from pages.ui import views
from pages.ui.i18n import library_text, t
from pages.ui.state import BOUND, PREDICT_KEY, hidden, locked, value
from pooling_core import PoolingError
from pooling_core.explain import window_report
from pooling_core.inputs import parse_grid
from pooling_core.numbers import fmt

TOLERANCE = 0.01
WHOLE_MAX_CELLS = 64  # a larger output is predicted one cell at a time
STATE_KEY = "_predict"
HOW_KEY = "predict_how"


def toggle() -> bool:
    """The switch of predict mode (a bound field, so that a link can start in it, lock or hide it);
    whether it is on."""
    if not hidden(PREDICT_KEY):
        st.toggle(t("predict.toggle"), False, key=PREDICT_KEY, help=t("predict.toggle_help"),
                  disabled=locked(PREDICT_KEY), **BOUND)
    return value(PREDICT_KEY)


def asked_settings(settings):
    """The settings a prediction is asked for: a random operator's expected value (its registry's
    ``expectation`` parameters), said in a note when they differ from the sidebar's."""
    expectation = settings.operator.expectation
    if not expectation or all(settings.params.get(k) == v for k, v in expectation.items()):
        return settings
    st.info(t("predict.expectation"))
    return replace(settings, params={**settings.params, **expectation})


@dataclass(frozen=True)
class Graded:
    """One predicted output cell: the answer, the value, whether it lies within ``TOLERANCE``, and
    the window's arithmetic."""

    cell: tuple[int, int]
    answer: float
    value: float
    right: bool
    text: str


def grade(result, x: np.ndarray, answers: dict, lead: tuple = (), translate=str) -> list[Graded]:
    """Check ``answers`` (``{(i, j): number}``) against ``result``'s output, e.g. ``{(0, 0): 6.004}``
    on the textbook's max pooling is right (6, within 0.01) with ``max(1, 1, 5, 6) = 6``."""
    graded = []
    for cell, answer in sorted(answers.items()):
        report = window_report(result, x, *cell, lead=lead)
        if math.isfinite(report.output):
            right = abs(answer - report.output) <= TOLERANCE + 1e-12  # 1e-12: 3.25 + 0.01 still counts
        else:
            right = answer == report.output
        graded.append(Graded(cell, answer, report.output, right, translate(report.text)))
    return graded


def _state() -> dict:
    return st.session_state.setdefault(STATE_KEY, {"shapes": {}, "answers": {}, "scored": set(), "right": 0,
                                                   "asked": 0})


def _score(right: int, asked: int) -> None:
    state = _state()
    state["right"] += right
    state["asked"] += asked


def _digest(*parts) -> str:
    hashed = hashlib.sha1()
    for part in parts:
        hashed.update(part.tobytes() if isinstance(part, np.ndarray) else repr(part).encode())
    return hashed.hexdigest()[:12]


class Question:
    """The questions about one pooling: its output size, then its values (``lead`` picks the map of
    a colour input); ``cell`` is the pinned output cell."""

    def __init__(self, x: np.ndarray, settings, result, lead: tuple, cell: tuple[int, int]):
        self.x, self.settings, self.result, self.lead, self.cell = x, settings, result, lead, cell
        self.out = result.output[lead] if lead else result.output
        self.shape_key = _digest(x.shape, settings)
        self.whole = self.out.size <= WHOLE_MAX_CELLS and st.session_state.get(HOW_KEY, "cell") == "all"
        self.key = _digest(x, settings, lead, "all" if self.whole else cell)

    # ---------------------------------------------------------------- the size

    def shape_answered(self) -> bool:
        """Ask for the output's size, or say whether the answer was right with the output-size
        formula and this call's numbers; ``False`` while it is unanswered."""
        answered = _state()["shapes"].get(self.shape_key)
        st.subheader(t("predict.shape_title"))
        if answered is None:
            boxes = st.columns(3, vertical_alignment="bottom")
            boxes[0].number_input(t("predict.rows"), 1, None, None, key=f"predict_rows_{self.shape_key}")
            boxes[1].number_input(t("predict.cols"), 1, None, None, key=f"predict_cols_{self.shape_key}")
            boxes[2].button(t("predict.check_shape"), key="predict_check_shape", on_click=self._check_shape)
            if _state().get("unanswered") == self.shape_key:
                st.warning(t("predict.shape_missing"))
            return False
        rows, cols = self.out.shape
        if answered == (rows, cols):
            st.success(t("predict.shape_right", rows=rows, cols=cols))
        else:
            st.error(t("predict.shape_wrong", answer_rows=answered[0], answer_cols=answered[1], rows=rows, cols=cols))
        if self.settings.operator.windows == "sliding":
            st.latex(views.output_size_latex(self.x.shape[-2:], self.settings))
        return True

    def _check_shape(self) -> None:
        state = _state()
        answer = tuple(st.session_state.get(f"predict_{axis}_{self.shape_key}") for axis in ("rows", "cols"))
        if None in answer:
            state["unanswered"] = self.shape_key
            return
        state.pop("unanswered", None)
        state["shapes"][self.shape_key] = tuple(int(n) for n in answer)
        _score(int(state["shapes"][self.shape_key] == self.out.shape), 1)

    # ---------------------------------------------------------------- the values

    @property
    def hidden(self) -> bool:
        """The output's values are still to be predicted."""
        return self.key not in _state()["answers"]

    def _cell_key(self) -> str:
        return f"predict_cell_{self.key}"

    def _grid_key(self) -> str:
        return f"predict_grid_{self.key}"

    def _typed(self) -> tuple[dict, str | None]:
        """The answers typed so far, ``{(i, j): number}``, and what is wrong with them."""
        if not self.whole:
            answer = st.session_state.get(self._cell_key())
            return ({} if answer is None else {self.cell: float(answer)}), None
        text = st.session_state.get(self._grid_key()) or ""
        if not text.strip():
            return {}, None
        try:
            grid = parse_grid(text)
        except PoolingError as error:
            return {}, library_text(error)
        if grid.shape != self.out.shape:
            return {}, t("predict.grid_shape", rows=self.out.shape[0], cols=self.out.shape[1],
                         typed_rows=grid.shape[0], typed_cols=grid.shape[1])
        return {(i, j): float(grid[i, j]) for i in range(grid.shape[0]) for j in range(grid.shape[1])}, None

    def _reveal(self) -> None:
        answers, _ = self._typed()
        state = _state()
        if answers:
            state.pop("unanswered", None)
            state["answers"][self.key] = answers
        else:
            state["unanswered"] = self.key

    def _again(self) -> None:
        state = _state()
        state["answers"].pop(self.key, None)
        state["scored"].discard(self.key)
        st.session_state.pop(self._cell_key(), None)
        st.session_state.pop(self._grid_key(), None)

    def ask_values(self) -> None:
        """The answer boxes and the Reveal button, or after revealing each cell right or wrong with
        its arithmetic; then the session's score."""
        st.subheader(t("predict.values_title"))
        state = _state()
        answers = state["answers"].get(self.key)
        if answers is None:
            self._ask()
        else:
            graded = grade(self.result, self.x, answers, self.lead, library_text)
            if self.key not in state["scored"]:
                state["scored"].add(self.key)
                _score(sum(g.right for g in graded), len(graded))
            self._show(graded)
        st.caption(t("predict.score", right=state["right"], asked=state["asked"]))

    def _ask(self) -> None:
        if self.out.size <= WHOLE_MAX_CELLS:
            st.radio(t("predict.how"), ("cell", "all"), key=HOW_KEY, horizontal=True,
                     format_func=lambda how: t(f"predict.how_{how}"))
        rows, cols = self.out.shape
        if self.whole:
            st.text_area(t("predict.grid", rows=rows, cols=cols), key=self._grid_key(), height=110,
                         placeholder=t("predict.grid_placeholder"))
        else:
            st.number_input(t("predict.cell", row=self.cell[0], col=self.cell[1]), value=None, format="%g",
                            key=self._cell_key())
        _, problem = self._typed()
        if problem:
            st.error(views.literal(problem))
        elif _state().get("unanswered") == self.key:
            st.warning(t("predict.values_missing"))
        st.button(t("predict.reveal"), key="predict_reveal", type="primary", on_click=self._reveal)
        st.caption(t("predict.tolerance", tolerance=fmt(TOLERANCE)))

    def _show(self, graded: list[Graded]) -> None:
        right = sum(g.right for g in graded)
        message = t("predict.result", right=right, asked=len(graded), tolerance=fmt(TOLERANCE))
        (st.success if right == len(graded) else st.error)(message)
        st.table({t("predict.column_cell"): [f"({i}, {j})" for i, j in (g.cell for g in graded)],
                  t("predict.column_answer"): [fmt(g.answer) for g in graded],
                  t("predict.column_value"): [fmt(g.value) for g in graded],
                  t("predict.column_verdict"): [t("predict.right" if g.right else "predict.wrong") for g in graded],
                  t("predict.column_arithmetic"): [g.text for g in graded]})
        st.button(t("predict.again"), key="predict_again", on_click=self._again)
