"""Helpers for AppTest: a fresh app per test, and the Plotly figures a run drew, decoded."""

from __future__ import annotations

import base64
import json
import re

import numpy as np
from streamlit.testing.v1 import AppTest

from tests.browser import ROOT

PAGE_SCRIPT = """
import runpy
from pages.ui import controls
controls.draw_shared()
runpy.run_path({path!r}, run_name="__main__")
"""


def run_app(page: str = "pages/explore.py", query: dict | None = None, **state) -> AppTest:
    """Run ``page`` in a fresh AppTest, opened from a link with ``query`` and session state preset.

    A page runs behind what ``app.py`` draws for every page (:func:`pages.ui.controls.draw_shared`).
    ``app.py`` itself runs only its first run right in AppTest: since the folder is called
    ``pages/``, AppTest runs the page script alone on later runs and after ``switch_page``.
    """
    if page == "app.py":
        at = AppTest.from_file(str(ROOT / page), default_timeout=60)
    else:
        at = AppTest.from_string(PAGE_SCRIPT.format(path=str(ROOT / page)), default_timeout=60)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def decode(value):
    if isinstance(value, dict) and "bdata" in value:
        array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        shape = value.get("shape")
        return array if shape is None else array.reshape([int(n) for n in str(shape).split(",")])
    return value


def figures(at: AppTest) -> list[dict]:
    """Every Plotly figure of the last run, as dicts."""
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


def figure(at: AppTest, title_start: str) -> dict:
    matches = [f for f in figures(at) if f["layout"].get("title", {}).get("text", "").startswith(title_start)]
    assert matches, f"no figure titled {title_start!r}: {[f['layout'].get('title') for f in figures(at)]}"
    return matches[0]


def heatmap_values(fig: dict) -> np.ndarray:
    trace = next(t for t in fig["data"] if t["type"] == "heatmap")
    return np.asarray(decode(trace["z"]), dtype=np.float64)


def shown(markdown: str) -> str:
    """What Streamlit's Markdown shows for ``markdown`` that escapes punctuation with backslashes."""
    return re.sub(r"\\(.)", r"\1", markdown)
