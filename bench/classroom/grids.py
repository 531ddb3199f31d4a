"""What each session types and what the page must show for it: grids that carry the session's
marker, and the arithmetic text of every state a session reaches, computed by the library."""

from __future__ import annotations

import re

OPERATOR_CYCLE = ("max", "avg", "lp", "softpool")  # all have the kernel slider first
KERNEL_CYCLE = (2, 3, 4, 3)  # the slider moves one step per iteration, up then down
MARKER_BASE = 90000
MARKER_RE = re.compile(r"(?<![\d.])90\d{3}(?![\d.])")
GRID_VARIANTS = 10
STRIDE = 2  # the app's default stride, never changed here


def marker(session: int) -> int:
    return MARKER_BASE + session


def markers_in(shown: str) -> set[int]:
    """The session markers in the text of a page."""
    return {int(m) for m in MARKER_RE.findall(shown)}


def grid_rows(session: int, variant: int) -> list[list[int]]:
    """A 6x6 grid; the first row encodes the session (its marker, then its digits), ``variant``
    changes the second cell so that consecutive iterations type different grids."""
    first = [marker(session), variant, session % 10, session // 10 % 10, 7, 3]
    return [first] + [[(3 * r + 5 * c + session + variant) % 10 for c in range(6)] for r in range(1, 6)]


def grid_text(session: int, variant: int) -> str:
    return "\n".join(" ".join(str(v) for v in row) for row in grid_rows(session, variant))


def state_input(session: int, name):
    """The input of a state: ``"example"``, ``"default"`` (the typed grid before any typing) or a
    grid variant's number."""
    import numpy as np

    from pages.ui.state import TEXTBOOK_GRID
    from pooling_core.examples import load_example
    from pooling_core.inputs import parse_grid

    if name == "example":
        return load_example("Textbook 4x4", "L")
    if name == "default":
        return parse_grid(TEXTBOOK_GRID)
    return np.array(grid_rows(session, name), dtype=float)


def expected_text(session: int, name, op: str, kernel: int) -> str:
    """The arithmetic of output cell (0, 0) in one state (:func:`state_input`), from the library."""
    from pooling_core import pool2d
    from pooling_core.explain import window_report

    x = state_input(session, name)
    return window_report(pool2d(x, op, kernel_size=kernel, stride=STRIDE), x, 0, 0).text


def expected_texts(session: int) -> dict:
    """The arithmetic of output cell (0, 0) for every state a session reaches, from the library."""
    names = ["example", "default", *range(GRID_VARIANTS)]
    return {(name, op, k): expected_text(session, name, op, k)
            for name in names for op in OPERATOR_CYCLE for k in set(KERNEL_CYCLE)}


def operator_names() -> dict[str, str]:
    """The name the Operator selectbox shows for each operator of the cycle."""
    from pooling_core import OPERATORS

    return {op: OPERATORS[op].name for op in OPERATOR_CYCLE}
