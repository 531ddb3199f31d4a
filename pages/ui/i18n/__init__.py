"""The interface in Chinese and English: catalogs as data (``en.toml``, ``zh.toml``), one
:func:`t`, and the language held per session (in its bound widget's state, never in a global:
sessions are threads of one process).

The library's own English stays the source of its texts: an operator's name, summary and
parameters fall back to the registry, and a library message (``PoolingError``) to
``pooling_core.messages``; the Chinese catalog translates them.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

import streamlit as st

from pooling_core.messages import MESSAGES

LANGUAGES = ("zh", "en")
LANG_KEY = "lang"
CATALOGS = Path(__file__).resolve().parent


def _flat(table: dict, prefix: str = "") -> dict[str, str]:
    flat = {}
    for key, value in table.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


@cache
def catalog(lang: str) -> dict[str, str]:
    """Every key of the language's catalog file, dotted (``[sidebar] source = ...`` is ``sidebar.source``)."""
    return _flat(tomllib.loads((CATALOGS / f"{lang}.toml").read_text(encoding="utf-8")))


def locale_language() -> str:
    """The browser's language: Chinese for a ``zh*`` locale, else English."""
    locale = st.context.locale or ""
    return "zh" if locale.lower().startswith("zh") else "en"


def language() -> str:
    """This session's language: its switch's, else the link's (before the switch is drawn), else the browser's."""
    linked = st.query_params.get(LANG_KEY)
    return st.session_state.get(LANG_KEY) or (linked if linked in LANGUAGES else locale_language())


def text_in(lang: str, key: str, default: str | None = None, **fields) -> str:
    """The catalog's text for ``key`` in ``lang`` with ``fields`` filled in; ``default`` (the
    library's English) where an English catalog does not repeat it."""
    template = catalog(lang).get(key, default if lang == "en" else None)
    if template is None:
        raise KeyError(f"{key!r} is missing from the {lang} catalog")
    return template.format(**fields) if fields else template


def t(key: str, default: str | None = None, **fields) -> str:
    """``key``'s text in this session's language."""
    return text_in(language(), key, default, **fields)


def section(lang: str, name: str) -> dict[str, str]:
    """Every text of one catalog table in ``lang``, by its key inside the table (``[inspector] play``
    is ``play``)."""
    prefix = f"{name}."
    return {key.removeprefix(prefix): text for key, text in catalog(lang).items() if key.startswith(prefix)}


def operator_name(op) -> str:
    return t(f"op.{op.id}.name", op.name)


def operator_summary(op) -> str:
    return t(f"op.{op.id}.summary", op.summary)


def param_label(op, p) -> str:
    return t(f"op.{op.id}.{p.name}.label", p.label)


def param_help(op, p) -> str:
    return t(f"op.{op.id}.{p.name}.help", p.help)


def preset_name(preset) -> str:
    return t(f"preset.{preset.id}.name", preset.name)


def preset_note(preset) -> str:
    return t(f"preset.{preset.id}.note", preset.note)


@cache
def _library_messages(lang: str) -> dict[str, str]:
    if lang == "en":
        return MESSAGES
    return tomllib.loads((CATALOGS / f"{lang}_messages.toml").read_text(encoding="utf-8"))


def library_text(message) -> str:
    """A library message (a ``PoolingError``, or a ``Message`` an operator returns) in this
    session's language, from its ``key`` and ``fields``; text without a key (arithmetic, a symbol)
    as it is."""
    key = getattr(message, "key", None)
    return str(message) if key is None else _library_messages(language())[key].format(**message.fields)
