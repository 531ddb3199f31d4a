"""Bad input through the app: a corpus of nasty uploads, fuzzed hyperparameters on every page, security."""

import ast
import io
import math
import struct
import tomllib
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_array_equal
from PIL import Image

from pages.ui import controls
from pooling_core import OPERATORS, PoolingError, pool2d
from pooling_core.inputs import MAX_UPLOAD_BYTES, load_image
from tests.apptest import component_data, inspector_output, run_app, shown
from tests.browser import ROOT

PAGES = ("pages/explore.py", "pages/stochastic.py", "pages/weights.py", "pages/gradients.py", "pages/unpooling.py",
         "pages/pyramid.py", "pages/shift.py", "pages/compare.py", "pages/theory.py", "pages/exercises.py",
         "pages/experiment.py")


# ---------------------------------------------------------------- the upload corpus


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_bomb(side: int = 20000) -> bytes:
    """A valid RGB PNG of side x side black pixels: about 1 MB on disk, 1.2 GB once decoded."""
    row = bytes(1 + 3 * side)  # filter byte, then the pixels
    packer = zlib.compressobj(9)
    data = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", data)
            + png_chunk(b"IEND", b""))


def gray(values) -> Image.Image:
    return Image.fromarray(np.asarray(values, dtype=np.uint8))


def previous_image() -> bytes:
    """6x6 black with one white pixel: the max-pooled output's top-left cell is 1."""
    pixels = np.zeros((6, 6), dtype=np.uint8)
    pixels[0, 0] = 255
    return encode(gray(pixels), "PNG")


def truncated_png() -> bytes:
    noise = np.random.default_rng(0).integers(0, 256, (64, 64), dtype=np.uint8)
    data = encode(gray(noise), "PNG")
    return data[:len(data) // 2]


def animated_gif() -> bytes:
    frames = [gray(np.full((4, 4), value)) for value in (255, 0, 128)]
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)


def sixteen_bit_png() -> bytes:
    return encode(Image.fromarray(np.full((4, 4), 32768, dtype=np.uint16)), "PNG")


def cmyk_jpeg() -> bytes:
    return encode(Image.new("CMYK", (4, 4), (0, 0, 0, 0)), "JPEG", quality=95)  # no ink: white


def transparent_palette_png() -> bytes:
    image = Image.new("P", (4, 4), 0)
    image.putpalette([0, 0, 0] * 256)
    return encode(image, "PNG", transparency=0)  # fully transparent: white on white


SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4"/></svg>'

# name, bytes (a function: some are large), what the top-left output cell shows when it loads
REFUSED = {
    "empty.png": lambda: b"",
    "truncated.png": truncated_png,
    "notes.png": lambda: b"These are my lecture notes, not a picture.\n",
    "bomb.png": png_bomb,
    "drawing.svg": lambda: SVG,
    "huge.png": lambda: previous_image() + bytes(MAX_UPLOAD_BYTES),
}
ACCEPTED = {
    "animated.gif": (animated_gif, 1.0),
    "sixteen_bit.png": (sixteen_bit_png, 32768 / 65535),
    "cmyk.jpg": (cmyk_jpeg, 1.0),
    "palette_transparent.png": (transparent_palette_png, 1.0),
}


def upload(at, name: str, data: bytes):
    return at.file_uploader(key="upload").set_value((name, data, "application/octet-stream")).run()


@pytest.mark.parametrize("page", PAGES)
def test_no_page_changes_the_uploaded_image_it_reads(page):
    # The decoded upload is kept for the session and pooled without a copy, on every rerun.
    pixels = np.random.default_rng(3).integers(0, 256, (200, 200, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    at = upload(run_app(page, source="upload", color_mode="rgb"), "photo.png", buffer.getvalue())
    assert not at.exception
    decoded = at.session_state[controls.UPLOAD_CACHE_KEY][1].pixels
    assert decoded.shape == (3, 200, 200)
    assert_array_equal(decoded, load_image(buffer.getvalue(), mode="RGB").pixels)


@pytest.fixture
def app_with_image():
    at = upload(run_app(source="upload"), "dot.png", previous_image())
    assert inspector_output(at)[0, 0] == 1.0
    return at


@pytest.mark.parametrize("name", list(REFUSED))
def test_refused_upload_is_a_message_and_keeps_the_previous_image(app_with_image, name):
    at = upload(app_with_image, name, REFUSED[name]())
    assert not at.exception
    assert [shown(e.value).split(":")[0] for e in at.error] == [name]
    assert "previous image is still shown" in shown(at.error[0].value)
    assert inspector_output(at)[0, 0] == 1.0


@pytest.mark.parametrize("name", list(ACCEPTED))
def test_unusual_but_valid_upload_is_pooled(app_with_image, name):
    make, top_left = ACCEPTED[name]
    at = upload(app_with_image, name, make())
    assert not at.exception
    assert not at.error
    assert inspector_output(at)[0, 0] == pytest.approx(top_left, abs=0.02)


def test_animated_gif_says_which_frame_is_pooled(app_with_image):
    at = upload(app_with_image, "animated.gif", animated_gif())
    assert [shown(info.value) for info in at.info] == ["The file holds 3 frames; the first is pooled."]


def test_an_upload_is_decoded_once_however_often_the_page_reruns(monkeypatch, app_with_image):
    """A rerun neither copies nor decodes the file again (nor a refused one): with a 20 MB upload that
    cost every other student on the server."""
    decoded = []
    monkeypatch.setattr(controls, "load_image", lambda data, mode: decoded.append(len(data)) or load_image(data, mode))
    at = upload(app_with_image, "checker.png", previous_image())
    for kernel in (3, 1, 2):
        at.slider(key="kernel").set_value(kernel).run()
    assert len(decoded) == 1 and inspector_output(at)[0, 0] == 1.0
    at = upload(at, "text.png", b"not an image")
    at.slider(key="kernel").set_value(3).run()
    assert len(decoded) == 2 and "previous image is still shown" in shown(at.error[0].value)


# ---------------------------------------------------------------- hyperparameter fuzzing


def param_values(op) -> dict:
    """Every app parameter of ``op`` with each value a user can reach: default and both bounds."""
    values = {}
    for p in op.params:
        if not p.in_app:
            continue
        if p.kind == "bool":
            values[p.name] = [False, True]
        elif p.kind == "choice":
            values[p.name] = list(p.choices)
        else:
            values[p.name] = [v for v in (p.default, *p.ui_range) if v is not None and not math.isinf(v)]
            if p.optional:
                values[p.name].append(None)
            if math.isinf(p.ui_range[1] or 0):
                values[p.name].append(math.inf)
    return values


def widget_state(op, params: dict) -> dict:
    """The session-state keys the sidebar reads for these parameter values."""
    state = {}
    for p in op.params:
        if p.name not in params:
            continue
        key, value = f"{op.id}.{p.name}", params[p.name]
        if p.optional:
            state[key + ".on"] = value is not None
        if p.kind == "float" and math.isinf(p.ui_range[1] or 0):
            state[key + ".inf"] = value == math.inf
        if value is not None and value != math.inf:
            state[key] = value
    return state


@st.composite
def user_settings(draw):
    op_id = draw(st.sampled_from(list(OPERATORS)))
    params = {name: draw(st.sampled_from(choices)) for name, choices in param_values(OPERATORS[op_id]).items()}
    rows, cols = draw(st.integers(1, 7)), draw(st.integers(1, 7))
    grid = draw(st.lists(st.integers(-9, 9), min_size=rows * cols, max_size=rows * cols))
    text = "\n".join(" ".join(str(v) for v in grid[r * cols:(r + 1) * cols]) for r in range(rows))
    window = {"kernel": draw(st.integers(1, 9)), "stride": draw(st.integers(1, 9)),
              "padding": draw(st.integers(0, 4)), "dilation": draw(st.integers(1, 4)),
              "ceil_mode": draw(st.booleans())}
    return op_id, params, text, window


APPS = {}


def app_for(page: str):
    """One AppTest per page, reused: a fuzzing run is one long session of a restless student."""
    if page not in APPS:
        APPS[page] = run_app(page, source="grid")
    return APPS[page]


def apply(at, op_id, params, text, window):
    at.session_state["op"] = op_id
    at.session_state["grid_text"] = text
    for key, value in {**window, **widget_state(OPERATORS[op_id], params)}.items():
        at.session_state[key] = value
    return at.run()


def answered(at) -> bool:
    """A message, a figure or the inspector: the page said something about these settings."""
    return bool(at.error or at.warning or at.info or at.get("plotly_chart") or at.get("bidi_component"))


@pytest.mark.parametrize("page", PAGES)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(choice=user_settings())
def test_fuzzed_settings_never_raise(page, choice):
    at = apply(app_for(page), *choice)
    assert not at.exception, at.exception[0].message
    assert answered(at)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(choice=user_settings())
def test_fuzzed_explore_output_matches_the_library(choice):
    op_id, params, text, window = choice
    at = apply(app_for("pages/explore.py"), *choice)
    assert not at.exception, at.exception[0].message
    x = np.array([[float(v) for v in line.split()] for line in text.splitlines()])
    dilation = window["dilation"] if OPERATORS[op_id].supports_dilation else 1
    try:
        expected = pool2d(x, op_id, kernel_size=window["kernel"], stride=window["stride"],
                          padding=window["padding"], dilation=dilation, ceil_mode=window["ceil_mode"],
                          **params).output
    except PoolingError as error:
        assert str(error) in [e.value for e in at.error]
        return
    output = component_data(at)["output"]
    assert (output["rows"], output["cols"]) == expected.shape
    if "picture" in output:  # more than 32x32 outputs are sent as a picture, without the numbers
        return
    shown = inspector_output(at)
    if not OPERATORS[op_id].random:
        # the inspector carries 6 significant digits, and no infinity (JSON has none)
        np.testing.assert_allclose(shown, np.where(np.isfinite(expected), expected, np.nan), rtol=1e-5, atol=1e-6)


EDGE_CASES = {
    "kernel larger than the input": ("1 2\n3 4", {"kernel": 5, "stride": 1, "padding": 0, "dilation": 1}),
    "stride larger than the input": ("1 2\n3 4", {"kernel": 2, "stride": 9, "padding": 0, "dilation": 1}),
    "padding at the limit": ("1 2 3\n4 5 6\n7 8 9", {"kernel": 9, "stride": 1, "padding": 4, "dilation": 1}),
    "dilation makes the kernel too large": ("1 2 3\n4 5 6", {"kernel": 3, "stride": 1, "padding": 0,
                                                              "dilation": 4}),
    "1x1 input": ("7", {"kernel": 1, "stride": 1, "padding": 0, "dilation": 1}),
}


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("case", list(EDGE_CASES))
def test_edge_cases_on_every_page_and_operator(page, case):
    text, window = EDGE_CASES[case]
    at = app_for(page)
    for op_id in OPERATORS:
        apply(at, op_id, {}, text, {**window, "ceil_mode": False})
        assert not at.exception, f"{op_id}: {at.exception[0].message}"
        assert answered(at), op_id


# ---------------------------------------------------------------- security


def test_config_limits_uploads_and_keeps_xsrf_protection():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] * 2**20 == MAX_UPLOAD_BYTES
    assert config["server"]["enableXsrfProtection"] is True


def project_sources():
    return [path for folder in ("pooling_core", "pages") for path in (ROOT / folder).rglob("*.py")] + [
        ROOT / "app.py"]


# The project's own components: registered from the repository's JS files (no HTML argument).
OWN_COMPONENTS = {("pages/ui/inspector/component.py", f"st.components.v2.component({name}, js=sources['{file}'])")
                  for name, file in (("CODE", "inspector.js"), ("NAME", "mount.js"))}
INSPECTOR_FILES = [ROOT / "pages" / "ui" / "inspector" / name for name in ("inspector.js", "inspector.css", "mount.js")]
# Ways for a script to write HTML, run text as code or reach the network.
DANGEROUS_JS = ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "Function(", "fetch(",
                "XMLHttpRequest", "WebSocket", "EventSource", "sendBeacon", "import(", "http://", "https://", "@import")


def dangerous_calls(tree) -> list[str]:
    """Calls that run text as code or unpickle data, ways to render text as HTML, and custom components."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            found += [m for m in modules if m.split(".")[0] in {"pickle", "marshal", "shelve", "dill"}]
            found += [m for m in modules if m.startswith("streamlit.components")]
        elif isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in {"eval", "exec", "html", "__import__"} or (name == "load" and "torch" in ast.unparse(node)):
                found.append(ast.unparse(node))
            elif "components." in ast.unparse(node.func):
                found.append(ast.unparse(node))
            found += [ast.unparse(node) for k in node.keywords
                      if k.arg in {"unsafe_allow_html", "allow_pickle"} and ast.unparse(k.value) != "False"]
    return found


def dangerous_js(text: str) -> list[str]:
    return [token for token in DANGEROUS_JS if token in text]


def test_no_code_execution_unpickling_or_raw_html_in_the_project():
    sources = project_sources()
    assert len(sources) > 20
    for path in sources:
        calls = dangerous_calls(ast.parse(path.read_text()))
        assert [c for c in calls if (path.relative_to(ROOT).as_posix(), c) not in OWN_COMPONENTS] == [], path


def test_the_project_s_component_is_its_own_files_and_writes_text_only():
    from pages.ui.inspector import component

    assert component._sources() == {path.name: path.read_text() for path in INSPECTOR_FILES}
    assert {path.parent for path in INSPECTOR_FILES} == {component.FOLDER}
    for path in INSPECTOR_FILES:
        assert dangerous_js(path.read_text()) == [], path
    assert "textContent" in INSPECTOR_FILES[0].read_text()


def test_the_security_scan_finds_what_it_looks_for():
    code = ("import pickle\nst.markdown(t, unsafe_allow_html=True)\neval(t)\nnp.load(f, allow_pickle=True)\n"
            "st.html(t)\ntorch.load(f)\nst.components.v1.html(t)\nst.components.v2.component('x', html=t)\n"
            "components.declare_component('x', url=u)\n")
    assert len(dangerous_calls(ast.parse(code))) == 9
    script = "node.innerHTML = t; fetch('https://example.com'); new WebSocket(u); document.write(t);"
    assert dangerous_js(script) == ["innerHTML", "document.write", "fetch(", "WebSocket", "https://"]
