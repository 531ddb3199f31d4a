"""The inspector: components v2 made from this folder's JS and CSS files, mounted with a key."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import streamlit as st

from pages.ui import views
from pages.ui.i18n import language, library_text, section, t, text_in
from pages.ui.inspector.payload import payload
from pages.ui.state import BOUND, CHANNELS, PROJECTOR_KEY, locked, value

NAME, CODE = "poolscope_inspector", "poolscope_inspector_code"
FOLDER = Path(__file__).resolve().parent


@cache
def _sources() -> dict[str, str]:
    return {name: (FOLDER / name).read_text(encoding="utf-8") for name in ("inspector.js", "inspector.css", "mount.js")}


def words(lang: str) -> dict:
    """The component's texts in ``lang``, for :func:`pages.ui.inspector.payload.payload`."""
    return {**section(lang, "inspector"), "channels": [text_in(lang, f"channel.{name}") for name in CHANNELS[:3]]}


def projector_switch() -> bool:
    """The projector view's switch (a bound field): whether the inspector draws its large sizes."""
    st.toggle(t("projector.toggle"), False, key=PROJECTOR_KEY, help=t("projector.help"),
              disabled=locked(PROJECTOR_KEY), **BOUND)
    return value(PROJECTOR_KEY)


def _take_pin(key: str) -> None:
    """A cell clicked or stepped to in the browser becomes the pinned cell (kept inside the output
    by ``views.selected_cell``); anything but two whole numbers is ignored."""
    pin = st.session_state[key]["pin"]
    if isinstance(pin, list) and len(pin) == 2 and all(type(v) is int for v in pin):
        st.session_state[views.CELL_KEY] = (pin[0], pin[1])


def inspector(data: dict, key: str) -> None:
    """Mount the inspector with ``data`` (from :func:`pages.ui.inspector.payload.payload`).

    Two components: the code (inspector.js, with the CSS as its data), whose message is the same on
    every rerun, so Streamlit sends it once per page and then a reference to it; and a small one
    (mount.js) that carries the data. One component would send the 20 kB of code with every change.
    Both are registered on every run: the registry belongs to the running server (a test starts
    several), and registering the same definition again is free and silent.
    """
    sources = _sources()
    code = st.components.v2.component(CODE, js=sources["inspector.js"])
    code(data={"css": sources["inspector.css"]}, key=f"{key}_code", height=0)
    mounted = st.components.v2.component(NAME, js=sources["mount.js"])
    mounted(data=data, key=key, on_pin_change=lambda: _take_pin(key))


def inspect(x, result, pinned, scale, key: str, *, titles: dict | None = None, **options) -> None:
    """Mount the inspector on ``x`` and its pooling ``result`` in this session's language.

    ``titles`` replace the panels' own (``input_title``, ``output_title``, with ``{rows}`` and
    ``{cols}`` left for the browser); ``options`` go to :func:`payload` (``pad``, ``channel``...).
    """
    shown_words = {**words(language()), **(titles or {})}
    inspector(payload(x, result, pinned, scale, words=shown_words, translate=library_text, **options), key)
