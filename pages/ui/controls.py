"""The sidebar every page shares: where the input comes from and how it is pooled.

All choices live in one typed :class:`Settings`, read from widget state under stable keys, kept
when a page switch unmounts the widgets, and mirrored into the URL so a link reproduces a view.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import streamlit as st

from pooling_core import OPERATORS, PoolingError
from pooling_core.examples import EXAMPLES, load_example
from pooling_core.inputs import load_image, parse_grid
from pooling_core.registry import PRESETS, SLIDING_CONTROLS, Preset

SOURCES = ("Example", "Type a grid", "Upload an image", "Random grid")
CHANNELS = ("Red", "Green", "Blue", "All three")
COLOR_MODES = ("Grayscale", "RGB, per channel")
TEXTBOOK_GRID = "1 1 2 4\n5 6 7 8\n3 2 1 0\n1 2 3 4"
COLOR_EXAMPLES = ("Landscape photo",)
SLIDING_DEFAULTS = {"kernel": 2, "stride": 2, "padding": 0, "dilation": 1, "ceil_mode": False}
WIDGET_KEYS = dict(zip(SLIDING_CONTROLS, SLIDING_DEFAULTS))
DEFAULTS = {
    "source": "Example", "example": "Textbook 4x4", "grid_text": TEXTBOOK_GRID, "random_rows": 8,
    "random_cols": 8, "seed": 0, "color_mode": "Grayscale", "channel": "Red", "op": "max",
    **SLIDING_DEFAULTS,
}


def param_key(op_id: str, name: str) -> str:
    return f"{op_id}.{name}"


def _starting_value(p):
    """What a number widget shows before the user sets it: the default, else a value inside the range."""
    if p.default is not None:
        return p.default
    if p.kind == "float" and p.low is not None and p.high is not None and not math.isinf(p.high):
        return (p.low + p.high) / 2
    return p.low if p.low is not None else (1 if p.kind == "int" else 1.0)


def param_defaults() -> dict:
    defaults = {}
    for op in OPERATORS.values():
        for p in op.params:
            if not p.in_app:
                continue
            key = param_key(op.id, p.name)
            defaults[key] = _starting_value(p) if p.kind in ("int", "float") else p.default
            if p.optional:
                defaults[key + ".on"] = False
            if p.kind == "float" and p.high is not None and math.isinf(p.high):
                defaults[key + ".inf"] = False
    return defaults


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


@dataclass(frozen=True)
class Source:
    """The input array ((H, W) or (3, H, W)) or why there is none, and a notice to show."""

    array: np.ndarray | None
    error: str | None = None
    notice: str | None = None

    @property
    def is_rgb(self) -> bool:
        return self.array is not None and self.array.ndim == 3


def _restore_state() -> None:
    """Seed widget keys from the URL (first run) and from the last values (after a page switch)."""
    state = st.session_state
    if "_kept" not in state:
        defaults = {**DEFAULTS, **param_defaults()}
        state["_kept"] = dict(defaults)
        for key, text in st.query_params.items():
            if key in defaults:
                state["_kept"][key] = _decode(text, defaults[key])
    for key, value in state["_kept"].items():
        if key not in state:
            state[key] = value


def _decode(text: str, default):
    try:
        if isinstance(default, bool):
            return text == "1"
        if isinstance(default, int):
            return int(text)
        if isinstance(default, float):
            return float(text)
    except ValueError:
        return default
    return text


def _encode(value) -> str:
    return ("1" if value else "0") if isinstance(value, bool) else str(value)


def _keep_and_share(keys) -> None:
    """Remember the widgets' values for the next page and write the non-default ones to the URL."""
    state = st.session_state
    defaults = {**DEFAULTS, **param_defaults()}
    for key in keys:
        state["_kept"][key] = state[key]
    # A value the script set for a widget outlives the widget's unmounting in the browser and would
    # beat the kept one when the widget comes back, so drop it: the next run restores the kept value.
    for key in state["_kept"].keys() - set(keys):
        if key in state:
            del state[key]
    changed = {k: _encode(v) for k, v in state["_kept"].items() if v != defaults.get(k)}
    if dict(st.query_params) != changed:
        st.query_params.from_dict(changed)


@st.cache_resource(max_entries=8, show_spinner=False)
def _load_upload(data: bytes, mode: str):
    """Decoded once per file and mode, shared read-only by every rerun and session (no copy)."""
    image = load_image(data, mode=mode)
    image.pixels.flags.writeable = False
    return image


def _color_widgets(used: list) -> str:
    color_mode = st.radio("Colour", COLOR_MODES, key="color_mode", horizontal=True)
    used.append("color_mode")
    if color_mode != "Grayscale":
        st.radio("Channel shown", CHANNELS, key="channel", horizontal=True)
        used.append("channel")
    return color_mode


def _source_widgets() -> tuple[Source, list[str]]:
    state = st.session_state
    source = st.radio("Source", SOURCES, key="source")
    used = ["source"]
    color_mode = "Grayscale"
    if source == "Example":
        st.selectbox("Example", list(EXAMPLES), key="example")
        used.append("example")
        if state["example"] in COLOR_EXAMPLES:
            color_mode = _color_widgets(used)
        mode = "RGB" if color_mode != "Grayscale" else "L"
        return Source(load_example(state["example"], mode)), used
    if source == "Type a grid":
        text = st.text_area("Grid: one row per line", key="grid_text", height=150,
                            help="Separate numbers with spaces, commas or semicolons. Brackets are fine.")
        used.append("grid_text")
        try:
            return Source(parse_grid(text)), used
        except PoolingError as error:
            return Source(None, error=str(error)), used
    if source == "Random grid":
        st.number_input("Rows", 1, 64, key="random_rows")
        st.number_input("Columns", 1, 64, key="random_cols")
        st.number_input("Seed", 0, 2**31 - 1, key="seed")
        used += ["random_rows", "random_cols", "seed"]
        rng = np.random.default_rng(state["seed"])
        return Source(rng.integers(0, 10, (state["random_rows"], state["random_cols"])).astype(float)), used
    color_mode = _color_widgets(used)
    upload = st.file_uploader("Image (PNG, JPEG, WebP, BMP, GIF)", key="upload")
    if upload is None:
        kept = state.get("_last_upload")
        return (Source(kept) if kept is not None else Source(None, notice="Upload an image to start.")), used
    try:
        image = _load_upload(upload.getvalue(), "RGB" if color_mode != "Grayscale" else "L")
    except PoolingError as error:
        kept = state.get("_last_upload")
        note = " The previous image is still shown." if kept is not None else ""
        return Source(kept, error=f"{upload.name}: {error}{note}"), used
    state["_last_upload"] = image.pixels
    notes = []
    if image.frames > 1:
        notes.append(f"The file holds {image.frames} frames; the first is pooled.")
    if image.downscaled:
        height, width = image.pixels.shape[-2:]
        original_height, original_width = image.original_size
        notes.append(f"The image was {original_width} x {original_height} pixels; it is pooled at {width} x {height}.")
    return Source(image.pixels, notice=" ".join(notes) or None), used


def _apply_preset() -> None:
    """Choosing a preset sets its operator and window settings (widget callbacks run before the page)."""
    state = st.session_state
    preset = PRESETS.get(state["op"])
    if preset is not None:
        state["op"] = preset.op
        state.update({WIDGET_KEYS[name]: value for name, value in preset.settings.items()})


def matching_preset(settings) -> Preset | None:
    """The preset the current settings equal, if any (its note is then shown)."""
    kwargs = settings.pool_kwargs()
    for preset in PRESETS.values():
        if preset.op == settings.op and all(kwargs[k] == v for k, v in preset.settings.items()):
            return preset
    return None


def _operator_widgets() -> tuple[list[str], dict]:
    state = st.session_state
    st.selectbox("Operator", [*OPERATORS, *PRESETS], key="op", on_change=_apply_preset,
                 format_func=lambda i: OPERATORS[i].name if i in OPERATORS else f"Preset: {PRESETS[i].name}")
    op = OPERATORS[state["op"]]
    used = ["op"]
    shown = op.window_controls
    if "kernel_size" in shown:
        st.slider("Kernel", 1, 9, key="kernel")
    if "stride" in shown:
        st.slider("Stride", 1, 9, key="stride")
    if "padding" in shown:
        st.slider("Padding", 0, 4, key="padding", help="At most half the kernel, as in PyTorch.")
    if "dilation" in shown:
        st.slider("Dilation", 1, 4, key="dilation")
    if "ceil_mode" in shown:
        st.checkbox("Ceil mode", key="ceil_mode", help="Round the output size up: a partial last window counts.")
    used += [WIDGET_KEYS[control] for control in shown]
    params = {}
    for p in op.params:
        if not p.in_app:
            continue
        key = param_key(op.id, p.name)
        used.append(key)
        if p.kind == "bool":
            params[p.name] = st.checkbox(p.name, key=key, help=p.help)
            continue
        if p.kind == "choice":
            params[p.name] = st.selectbox(p.name, p.choices, key=key, help=p.help)
            continue
        if p.optional:
            used.append(key + ".on")
            if not st.checkbox(f"set {p.name}", key=key + ".on", help=p.help):
                params[p.name] = None
                continue
        if p.kind == "float" and p.high is not None and math.isinf(p.high):
            used.append(key + ".inf")
            if st.checkbox(f"{p.name} = ∞", key=key + ".inf"):
                params[p.name] = math.inf
                continue
        cast = int if p.kind == "int" else float
        low = None if p.low is None else cast(p.low)
        high = None if p.high is None or math.isinf(p.high) else cast(p.high)
        params[p.name] = cast(st.number_input(p.name, low, high, key=key, help=p.help))
    return used, params


def sidebar() -> tuple[Settings, Source]:
    """Draw the shared sidebar and return the user's settings and the input they chose."""
    _restore_state()
    with st.sidebar:
        st.header("Input")
        source, used = _source_widgets()
        st.header("Pooling")
        used_op, params = _operator_widgets()
    _keep_and_share(used + used_op)
    state = st.session_state
    settings = Settings(**{k: state["_kept"][k] for k in DEFAULTS}, params=params)
    return settings, source
