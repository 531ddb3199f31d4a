"""Helpers for AppTest: a fresh app per test, the Plotly figures a run drew, decoded, and the inspector."""

from __future__ import annotations

import base64
import json
import re

import numpy as np
from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit.runtime.state.session_state import STREAMLIT_INTERNAL_KEY_PREFIX
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


def component(at: AppTest, key: str = "inspector"):
    """The components-v2 element mounted with ``key``: AppTest lists it as an unknown element of type
    ``bidi_component`` whose ``proto`` (BidiComponent) holds the component's name and its data as JSON."""
    matches = [el for el in at.get("bidi_component") if el.key == key]
    assert matches, f"no component with key {key!r}: {[el.key for el in at.get('bidi_component')]}"
    return matches[0]


def component_data(at: AppTest, key: str = "inspector") -> dict:
    """The data the component mounted with ``key`` was sent in the last run."""
    return json.loads(component(at, key).proto.json)


def inspector_output(at: AppTest) -> np.ndarray:
    """The output map Explore's inspector shows, as numbers (NaN where the payload has null)."""
    values = component_data(at)["output"]["values"]
    return np.array([[np.nan if v is None else v for v in row] for row in values], dtype=np.float64)


def trigger(at: AppTest, event: str, value, key: str = "inspector") -> AppTest:
    """Rerun as after the browser's ``setTriggerValue(event, value)`` in the component with ``key``:
    the trigger travels in the widget states, in the widget the component registers for its events."""
    states = at._tree.get_widget_states()
    events = f"{STREAMLIT_INTERNAL_KEY_PREFIX}_{component(at, key).proto.id}__events"
    states.widgets.append(WidgetState(id=events, json_trigger_value=json.dumps([{"event": event, "value": value}])))
    return at._run(states)


def shown(markdown: str) -> str:
    """What Streamlit's Markdown shows for ``markdown`` that escapes punctuation with backslashes."""
    return re.sub(r"\\(.)", r"\1", markdown)
