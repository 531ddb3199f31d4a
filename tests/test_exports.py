"""Exports for slides: the PNG and GIF decoded with Pillow (size, frames, pixels, Chinese glyphs),
the CSV read back, and Explore's download buttons."""

import io

import numpy as np
import pytest
from PIL import Image

from pages.ui import exports
from pooling_core import pool2d
from pooling_core.examples import load_example
from tests.apptest import run_app

TEXTBOOK = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]], float)


def textbook_view(title="Max pooling", caption="Kernel 2 · Stride 2. Output (0, 0): max(1, 1, 5, 6) = 6", **kw):
    result = pool2d(TEXTBOOK, "max", **kw)
    return exports.View(TEXTBOOK, result.output, (0.0, 8.0), ("Input 4x4", "Output 2x2"), title, caption,
                        lambda i, j: result.geometry.window(i, j)[:3], pad=kw.get("padding", 0))


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def highlighted(image: Image.Image) -> np.ndarray:
    pixels = np.asarray(image.convert("RGB")).astype(int)
    return (np.abs(pixels - exports.HIGHLIGHT).sum(-1) < 30)


def test_the_png_shows_both_maps_the_window_and_the_text():
    image = decoded(exports.view_png(textbook_view(), (0, 1)))
    assert image.format == "PNG" and 500 < image.width < 1000 and 300 < image.height < 700
    pixels = np.asarray(image.convert("RGB"))
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50  # colours, values and text, not a blank page
    lit = highlighted(image)
    assert lit.sum() > 500
    rows, cols = np.nonzero(lit)
    # the window (0, 1) covers input columns 2-3 of the left panel; the output cell sits in the right panel
    output_left = exports.MARGIN + 4 * 64 + exports.GAP  # 64 px cells
    left, right = cols[cols < output_left], cols[cols >= output_left]
    assert left.min() > exports.MARGIN + 2 * 64 - 4 and left.max() < exports.MARGIN + 4 * 64 + 4
    assert right.min() >= output_left + 64 - 4 and right.max() < output_left + 2 * 64 + 4  # output cell (0, 1)


def caption_region(image: Image.Image, lines: int = 1) -> np.ndarray:
    pixels = np.asarray(image.convert("L")).astype(int)
    top = image.height - exports.MARGIN - lines * (exports.CAPTION_SIZE + 6)
    return pixels[top:image.height - exports.MARGIN + 4, :]


def test_chinese_text_is_drawn_with_real_glyphs():
    assert exports.font_path() and exports.font_path().endswith("NotoSansCJK-Regular.ttc")
    first = decoded(exports.view_png(textbook_view("最大池化", "核 2 · 步长 2。输出 (0, 0)：最大"), (0, 0)))
    second = decoded(exports.view_png(textbook_view("最大池化", "核 2 · 步长 2。输出 (0, 0)：平均"), (0, 0)))
    ink = caption_region(first) < 128
    assert ink.sum() > 300  # the caption is written, not left empty
    # Missing glyphs would be the same empty box for both words: the pictures differ where the words do.
    assert first.size == second.size and (caption_region(first) != caption_region(second)).sum() > 50


def test_without_the_font_the_picture_is_still_made(monkeypatch):
    monkeypatch.setattr(exports, "font_path", lambda: None)
    exports.font.cache_clear()
    try:
        image = decoded(exports.view_png(textbook_view(), (0, 0)))
        assert (caption_region(image) < 128).sum() > 100
    finally:
        exports.font.cache_clear()


def test_the_gif_scans_every_output_cell_and_fills_the_output_in():
    gif = decoded(exports.scan_gif(textbook_view(kernel_size=2, stride=1)))
    assert gif.format == "GIF" and gif.n_frames == 9 and gif.info["loop"] == 0
    assert gif.info["duration"] == exports.FRAME_MS
    frames = []
    for k in range(gif.n_frames):
        gif.seek(k)
        frames.append(np.asarray(gif.convert("RGB")).copy())
    assert all(highlighted(Image.fromarray(f)).sum() > 300 for f in frames)
    assert all((a != b).any() for a, b in zip(frames, frames[1:]))  # the window moves every frame
    assert len(np.unique(frames[0].reshape(-1, 3), axis=0)) > 30


def test_a_photo_gives_a_bounded_picture_and_at_most_64_frames():
    photo = load_example("Landscape photo", "L")
    result = pool2d(photo, "avg", kernel_size=4)
    view = exports.View(photo, result.output, (0.0, 1.0), ("Input", "Output"), "Average pooling", "Kernel 4",
                        lambda i, j: result.geometry.window(i, j)[:3])
    image = decoded(exports.view_png(view, (10, 20)))
    assert image.width <= 2 * exports.MARGIN + 2 * exports.PANEL_SIDE + exports.GAP and highlighted(image).sum() > 20
    assert len(exports.scan_cells(result.output.shape)) == exports.MAX_FRAMES
    assert decoded(exports.scan_gif(view, limit=8)).n_frames == 8


@pytest.mark.parametrize("source", ["textbook", "photo"])
def test_the_gif_frames_keep_the_slides_colours(source):
    """One palette for every frame: the slide's own colours exactly, every other pixel close to the PNG's."""
    if source == "textbook":
        view = textbook_view(kernel_size=2, stride=1)
    else:
        photo = load_example("Landscape photo", "L")
        result = pool2d(photo, "avg", kernel_size=4)
        view = exports.View(photo, result.output, (0.0, 1.0), ("Input", "Output"), "Average pooling", "Kernel 4",
                            lambda i, j: result.geometry.window(i, j)[:3])
    cells = exports.scan_cells(view.output.shape, 8)
    gif = decoded(exports.scan_gif(view, limit=8))
    flat = np.arange(view.output.size).reshape(view.output.shape)
    for k, cell in enumerate(cells):
        gif.seek(k)
        frame = np.asarray(gif.convert("RGB")).astype(int)
        reached = flat <= cell[0] * view.output.shape[1] + cell[1]
        exact = np.asarray(exports._frame(view, cell, shown=reached)).astype(int)
        for colour in (exports.BACKGROUND, exports.HIGHLIGHT, (exports.NOT_SHOWN,) * 3):
            where = (exact == colour).all(-1)
            assert (frame[where] == colour).all()
        assert np.abs(frame - exact).mean() < 1.5


def test_scan_cells_visits_all_or_evenly_spaced_cells():
    assert exports.scan_cells((2, 3)) == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]
    assert exports.scan_cells((100, 100), limit=5) == [(0, 0), (25, 0), (50, 0), (74, 99), (99, 99)]


@pytest.mark.parametrize("values", [TEXTBOOK, np.array([[0.1, -2.5e-7], [1e300, 3.25]])])
def test_the_csv_reads_back_exactly(values):
    text = exports.array_csv(values)
    np.testing.assert_array_equal(np.loadtxt(io.StringIO(text), delimiter=",", ndmin=2), values)
    assert exports.array_csv(TEXTBOOK[:1]) == "1,1,2,4\n"


def download_labels(at) -> list[str]:
    return [b.label for b in at.get("download_button")]


def test_explore_offers_the_downloads_in_both_languages_and_not_while_predicting():
    assert download_labels(run_app()) == ["Picture (PNG)", "Scan (GIF)", "Input (CSV)", "Output (CSV)"]
    chinese = ["图片（PNG）", "扫描动画（GIF）", "输入（CSV）", "输出（CSV）"]
    assert download_labels(run_app(query={"lang": "zh"})) == chinese
    assert download_labels(run_app(query={"predict": "true"})) == []
    assert download_labels(run_app(query={"hide": "exports"})) == []


def test_the_page_says_when_the_font_is_missing(monkeypatch):
    monkeypatch.setattr(exports, "font_path", lambda: None)
    at = run_app()
    assert any("apt-get install fonts-noto-cjk" in c.value for c in at.caption)
