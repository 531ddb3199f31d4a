"""The inspector component: registered once from this folder's JS and CSS, mounted with a key."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import streamlit as st

from pages.ui import views

NAME = "poolscope_inspector"
FOLDER = Path(__file__).resolve().parent


@cache
def _sources() -> tuple[str, str]:
    return (FOLDER / "inspector.css").read_text(encoding="utf-8"), (FOLDER / "inspector.js").read_text(encoding="utf-8")


def _renderer():
    # Registered on every run: the registry belongs to the running server (a test starts several),
    # and registering the same definition again is free and silent.
    css, js = _sources()
    return st.components.v2.component(NAME, css=css, js=js)


def _take_pin(key: str) -> None:
    """A cell clicked or stepped to in the browser becomes the pinned cell."""
    pin = st.session_state[key]["pin"]
    if pin is not None:
        st.session_state[views.CELL_KEY] = (int(pin[0]), int(pin[1]))


def inspector(data: dict, key: str) -> None:
    """Mount the inspector with ``data`` (from :func:`pages.ui.inspector.payload.payload`)."""
    _renderer()(data=data, key=key, on_pin_change=lambda: _take_pin(key))
