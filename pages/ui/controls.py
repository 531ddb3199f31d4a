"""The sidebar every page shares, drawn once per run by ``app.py``: where the input comes from and
how it is pooled. Its widgets are the fields of :mod:`pages.ui.state`, bound to the URL."""

from __future__ import annotations

import math
from dataclasses import dataclass
from urllib.parse import urlencode

import numpy as np
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from pages.ui import views
from pages.ui.i18n import (
    LANG_KEY,
    library_text,
    locale_language,
    param_help,
    param_label,
    preset_name,
    t,
)
from pages.ui.state import (
    BOUND,
    FIELDS,
    HIDEABLE,
    LOCKABLE,
    SLIDING_KEYS,
    check_link,
    enabled_key,
    hidden,
    infinity_key,
    link_notices,
    link_query,
    locked,
    param_key,
    value,
)
from pooling_core import OPERATORS, PoolingError
from pooling_core.examples import load_example
from pooling_core.inputs import load_image, parse_grid
from pooling_core.registry import PRESETS, Preset

COLOR_EXAMPLES = ("Landscape photo",)
CURRENT_KEY = "_current"
UPLOAD_CACHE_KEY = "_upload_decoded"
PRESET_KEY = "preset"


@dataclass(frozen=True)
class Settings:
    """Everything the user chose, as plain values."""

    source: str
    example: str
    grid_text: str
    random_rows: int
    random_cols: int
    seed: int
    color_mode: str
    channel: str
    op: str
    kernel: int
    stride: int
    padding: int
    dilation: int
    ceil_mode: bool
    params: dict

    @property
    def operator(self):
        return OPERATORS[self.op]

    def pool_kwargs(self) -> dict:
        """Keyword arguments for :func:`pooling_core.pool2d` after the input and the operator id."""
        dilation = self.dilation if self.operator.supports_dilation else 1
        return dict(kernel_size=self.kernel, stride=self.stride, padding=self.padding, dilation=dilation,
                    ceil_mode=self.ceil_mode, **self.params)

    @property
    def padding_ring(self) -> int:
        """The padding drawn around the input: the sidebar's, where the operator takes padding."""
        return self.padding if "padding" in self.operator.window_controls else 0

    def window_kwargs(self) -> dict:
        """Only the sliding-window arguments, for pages that pool with an operator of their own."""
        return dict(kernel_size=self.kernel, stride=self.stride, padding=self.padding, dilation=self.dilation,
                    ceil_mode=self.ceil_mode)


@dataclass(frozen=True)
class Source:
    """The input array ((H, W) or (3, H, W)) or why there is none, and a notice to show."""

    array: np.ndarray | None
    error: str | None = None
    notice: str | None = None

    @property
    def is_rgb(self) -> bool:
        return self.array is not None and self.array.ndim == 3


def _load_upload(upload, mode: str):
    """The uploaded file decoded (a ``LoadedImage``), or the ``PoolingError`` that refused it, once per
    file and mode for this session. Keyed by Streamlit's id for the file: with the bytes as the key
    every rerun copied and hashed them (20 MB), and a refused file was tried again on each."""
    key = (upload.file_id, mode)
    cached = st.session_state.get(UPLOAD_CACHE_KEY)
    if cached is None or cached[0] != key:
        try:
            # Kept writeable, so that pool2d shares it instead of copying it (38 ms a rerun on a photo): no
            # page changes it (tests/test_robustness.py).
            outcome = load_image(upload.getvalue(), mode=mode)
        except PoolingError as error:
            outcome = error
        cached = st.session_state[UPLOAD_CACHE_KEY] = (key, outcome)
    return cached[1]


def choice_widget(widget, label: str, key: str, default=None, offered=None, **options):
    """A radio or selectbox over a choice field (or the ``offered`` part of it): ids as values,
    labels shown; disabled where a link locked it."""
    field = FIELDS[key]
    choices = field.choices if offered is None else offered
    index = choices.index(field.default if default is None else default)
    return widget(label, choices, index=index, key=key, format_func=field.label, disabled=locked(key), **BOUND,
                  **options)


def integer_widget(widget, label: str, key: str, **options):
    """A slider or number input over an int field's range; disabled where a link locked it."""
    field = FIELDS[key]
    return widget(label, int(field.low), int(field.high), int(field.default), key=key, disabled=locked(key),
                  **BOUND, **options)


def _color_widgets() -> str:
    color_mode = choice_widget(st.radio, t("sidebar.colour"), "color_mode", horizontal=True)
    if color_mode != "gray":
        choice_widget(st.radio, t("sidebar.channel"), "channel", horizontal=True)
    return color_mode


def _source_widgets() -> Source:
    offered = tuple(choice for choice in FIELDS["source"].choices if not hidden(choice))
    if value("source") not in offered:  # a source the link hides: the first one offered
        st.session_state["source"] = offered[0]
    source = choice_widget(st.radio, t("sidebar.source"), "source", offered=offered)
    if source == "example":
        example = choice_widget(st.selectbox, t("sidebar.example"), "example")
        color_mode = _color_widgets() if example in COLOR_EXAMPLES else "gray"
        return Source(load_example(example, "RGB" if color_mode != "gray" else "L"))
    if source == "grid":
        text = st.text_area(t("sidebar.grid"), FIELDS["grid_text"].default, key="grid_text", height=150,
                            help=t("sidebar.grid_help"), disabled=locked("grid_text"), **BOUND)
        try:
            return Source(parse_grid(text))
        except PoolingError as error:
            return Source(None, error=library_text(error))
    if source == "random":
        rows = integer_widget(st.number_input, t("sidebar.rows"), "random_rows")
        cols = integer_widget(st.number_input, t("sidebar.columns"), "random_cols")
        seed = integer_widget(st.number_input, t("sidebar.seed"), "seed")
        return Source(np.random.default_rng(seed).integers(0, 10, (rows, cols)).astype(float))
    return _upload_widgets(_color_widgets())


def _upload_widgets(color_mode: str) -> Source:
    state = st.session_state
    upload = st.file_uploader(t("sidebar.upload"), key="upload")
    if upload is None:
        kept = state.get("_last_upload")
        return Source(kept) if kept is not None else Source(None, notice=t("sidebar.upload_to_start"))
    image = _load_upload(upload, "RGB" if color_mode != "gray" else "L")
    if isinstance(image, PoolingError):
        kept = state.get("_last_upload")
        key = "sidebar.upload_refused_kept" if kept is not None else "sidebar.upload_refused"
        return Source(kept, error=t(key, name=upload.name, problem=library_text(image)))
    state["_last_upload"] = image.pixels
    notes = []
    if image.frames > 1:
        notes.append(t("sidebar.frames", frames=image.frames))
    if image.downscaled:
        height, width = image.pixels.shape[-2:]
        original_height, original_width = image.original_size
        notes.append(t("sidebar.downscaled", height=original_height, width=original_width, pooled_height=height,
                       pooled_width=width))
    return Source(image.pixels, notice=" ".join(notes) or None)


def _apply_preset() -> None:
    """Choosing a preset sets its operator and window settings (widget callbacks run before the
    widgets), and the menu returns to its placeholder: the settings are what stays."""
    state = st.session_state
    preset = PRESETS[state[PRESET_KEY]]
    state["op"] = preset.op
    state.update({SLIDING_KEYS[name]: setting for name, setting in preset.settings.items()})
    state[PRESET_KEY] = None


def matching_preset(settings) -> Preset | None:
    """The preset the current settings equal, if any (its note is then shown)."""
    kwargs = settings.pool_kwargs()
    for preset in PRESETS.values():
        if preset.op == settings.op and all(kwargs[k] == v for k, v in preset.settings.items()):
            return preset
    return None


WINDOW_WIDGETS = {
    "kernel_size": lambda: integer_widget(st.slider, t("sidebar.kernel"), "kernel"),
    "stride": lambda: integer_widget(st.slider, t("sidebar.stride"), "stride"),
    "padding": lambda: integer_widget(st.slider, t("sidebar.padding"), "padding", help=t("sidebar.padding_help")),
    "dilation": lambda: integer_widget(st.slider, t("sidebar.dilation"), "dilation"),
    "ceil_mode": lambda: st.checkbox(t("sidebar.ceil_mode"), False, key="ceil_mode", **BOUND,
                                     help=t("sidebar.ceil_mode_help"), disabled=locked("ceil_mode")),
}


def _param_widget(op, p):
    """One parameter's widget; its value as :func:`pooling_core.pool2d` takes it."""
    key = param_key(op.id, p.name)
    label, help_text = param_label(op, p), param_help(op, p)
    fixed = locked(key)
    if p.kind == "bool":
        return st.checkbox(label, p.default, key=key, help=help_text, disabled=fixed, **BOUND)
    if p.kind == "choice":
        return choice_widget(st.selectbox, label, key, help=help_text)
    if p.optional and not st.checkbox(t("sidebar.set_param", name=label), False, key=enabled_key(key), help=help_text,
                                      disabled=fixed, **BOUND):
        return None
    field = FIELDS[key]
    if infinity_key(key) in FIELDS:  # the table gives a parameter that may be infinite its switch
        if st.checkbox(t("sidebar.infinite_param", name=label), False, key=infinity_key(key), disabled=fixed,
                       **BOUND):
            return math.inf
    cast = float if field.kind == "float" else int
    low, high = p.ui_range
    # %g: Streamlit's default %0.2f showed DPP's ε = 0.001 as 0.00.
    number = st.number_input(label, None if low is None else cast(low),
                             None if high is None or math.isinf(high) else cast(high), cast(field.default),
                             format="%g" if cast is float else None, key=key, help=help_text, disabled=fixed,
                             **BOUND)
    return cast(number)


def _operator_widgets() -> dict:
    if not hidden("preset"):  # a preset sets the operator and its window: locked when one of them is
        st.selectbox(t("sidebar.preset"), list(PRESETS), index=None, key=PRESET_KEY,
                     format_func=lambda preset_id: preset_name(PRESETS[preset_id]),
                     placeholder=t("sidebar.preset_placeholder"), on_change=_apply_preset,
                     disabled=any(locked(key) for key in ("op", *SLIDING_KEYS.values())))
    op_id = choice_widget(st.selectbox, t("sidebar.operator"), "op")
    op = OPERATORS[op_id]
    for control in op.window_controls:
        WINDOW_WIDGETS[control]()
    return {p.name: _param_widget(op, p) for p in op.params if p.in_app}


def draw_shared() -> None:
    """What every page shares, drawn once per run by ``app.py`` before the page: the link's notices
    and the sidebar; what the sidebar chose is kept for the page (:func:`current`)."""
    check_link()
    with st.sidebar:
        if not hidden("language"):
            choice_widget(st.radio, t("sidebar.language"), LANG_KEY, default=locale_language(), horizontal=True)
    views.show_link_notices(link_notices())
    with st.sidebar:
        st.header(t("sidebar.input"))
        source = _source_widgets()
        st.header(t("sidebar.pooling"))
        params = _operator_widgets()
        _view_link()
    settings = Settings(**{name: value(name) for name in Settings.__dataclass_fields__ if name != "params"},
                        params=params)
    st.session_state[CURRENT_KEY] = settings, source


def _view_link() -> None:
    """This view's link, in a code box whose button copies it (Streamlit has no clipboard call)."""
    with st.expander(t("teacher.link_title")):
        st.code(f"{st.context.url or ''}?{urlencode(link_query(), safe=',')}", language=None, wrap_lines=True)
        st.caption(t("teacher.link_help"))
        st.code(f"lock={','.join(LOCKABLE)}\nhide={','.join(HIDEABLE)}", language=None, wrap_lines=True)


def current() -> tuple[Settings, Source]:
    """The settings and input the sidebar chose in this run (drawn by :func:`draw_shared`)."""
    if CURRENT_KEY not in st.session_state:
        # Until an entry point has called st.navigation, a fresh server takes the folder pages/ for the old
        # multipage layout and runs a deep link's page (/weights) on its own. Say it is not, and start the
        # run again through app.py, which opens the same page.
        PagesManager.uses_pages_directory = False
        st.rerun()
    return st.session_state[CURRENT_KEY]
