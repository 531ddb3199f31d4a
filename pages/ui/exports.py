"""Pictures and tables for slides: the input/output view as a PNG, the window scanning the input as
an animated GIF, and the arrays as CSV. Plain code (Pillow and NumPy, no Streamlit).

Text is drawn with Debian's Noto Sans CJK (package ``fonts-noto-cjk``, SIL Open Font License 1.1),
found at run time, so that Chinese renders; without it Pillow's own font is used, which has no
Chinese glyphs (:func:`font_path` is then ``None`` and the page says so).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from pages.ui import figures
from pooling_core.numbers import fmt

FONT_FILE = "NotoSansCJK-Regular.ttc"
FONT_DIRS = ("/usr/share/fonts/opentype/noto", "/usr/share/fonts/truetype/noto", "/usr/share/fonts")
FONT_INDEX = 2  # Noto Sans CJK SC: the simplified Chinese forms
PANEL_SIDE = 360  # the larger side of a map's panel, in pixels (at most 64 per cell)
VALUES_MIN_CELL = 24  # values are written in cells at least this large
MARGIN, GAP = 24, 48
TITLE_SIZE, LABEL_SIZE, CAPTION_SIZE = 26, 18, 16
BACKGROUND, INK, HIGHLIGHT, PADDING_GREY = (255, 255, 255), (30, 30, 40), (255, 45, 85), (200, 200, 200)
NOT_SHOWN, NOT_FINITE = 235, 128  # grey levels of output cells not reached yet, and of ±inf and NaN
MAX_FRAMES = 64
FRAME_MS = 600


@cache
def font_path() -> str | None:
    """Noto Sans CJK's file, where ``fonts-noto-cjk`` installed it, else ``None``."""
    for folder in FONT_DIRS:
        found = sorted(Path(folder).rglob(FONT_FILE)) if Path(folder).is_dir() else []
        if found:
            return str(found[0])
    return None


@cache
def font(size: int) -> ImageFont.FreeTypeFont:
    path = font_path()
    return ImageFont.load_default(size) if path is None else ImageFont.truetype(path, size, index=FONT_INDEX)


@dataclass(frozen=True)
class View:
    """What a slide shows: the ``input`` (H, W) and ``output`` (Ho, Wo) maps on one colour ``scale``,
    panel ``labels`` (input, output), a ``title`` and a ``caption`` (the settings, the arithmetic),
    ``pad`` rings of padding drawn around the input, and ``window(i, j)`` giving output ``(i, j)``'s
    input cells ``(rows, cols, real)`` as :meth:`pooling_core.geometry.WindowGeometry.window` does."""

    input: np.ndarray
    output: np.ndarray
    scale: tuple[float, float]
    labels: tuple[str, str]
    title: str
    caption: str
    window: object
    pad: int = 0

    @cached_property
    def colours(self) -> tuple[np.ndarray, np.ndarray]:
        """Both maps' (H, W, 3) colours, as the figures colour them (infinities grey), made once for
        every frame of a scan."""
        return tuple(_colours(values, self.scale) for values in (self.input, self.output))


def _colours(values: np.ndarray, scale: tuple[float, float]) -> np.ndarray:
    colours = figures.colored_pixels(values, *scale, figures.SEQUENTIAL)  # the figures' colours
    colours[np.isinf(values)] = NOT_FINITE
    return colours


def _wrap(draw: ImageDraw.ImageDraw, text: str, size: int, width: int) -> list[str]:
    """``text`` broken into lines no wider than ``width`` pixels (by character: Chinese has no spaces)."""
    lines = []
    for paragraph in text.split("\n"):
        line = ""
        for char in paragraph:
            if line and draw.textlength(line + char, font=font(size)) > width:
                cut = line.rfind(" ")
                if cut > 0 and char != " ":
                    lines.append(line[:cut])
                    line = line[cut + 1:]
                else:
                    lines.append(line)
                    line = ""
            line += char
        lines.append(line.strip())
    return lines


def _cell_size(rows: int, cols: int) -> float:
    return min(64.0, PANEL_SIDE / max(rows, cols))


def _panel(canvas, draw, values, colours, top_left, size, shown=None, lines=True, pad=0):
    """Draw one map with its ``colours`` at ``top_left`` (its padding ring outside it); the box of cell
    (r, c) is returned by the function this gives back."""
    x0, y0 = top_left[0] + pad * size, top_left[1] + pad * size
    pixels = colours
    if shown is not None:
        pixels = colours.copy()
        pixels[~shown] = NOT_SHOWN
    rows, cols = values.shape
    picture = Image.fromarray(pixels).resize((max(1, round(cols * size)), max(1, round(rows * size))),
                                             Image.Resampling.NEAREST)
    canvas.paste(picture, (round(x0), round(y0)))

    def box(r: int, c: int) -> tuple[float, float, float, float]:
        return x0 + c * size, y0 + r * size, x0 + (c + 1) * size, y0 + (r + 1) * size

    if pad:  # dotted-looking grey ring: the padding a window may cover
        for r in range(-pad, rows + pad):
            for c in range(-pad, cols + pad):
                if not (0 <= r < rows and 0 <= c < cols):
                    draw.rectangle(box(r, c), outline=PADDING_GREY, width=1)
    if lines and size >= 8:
        for r in range(rows):
            for c in range(cols):
                draw.rectangle(box(r, c), outline=BACKGROUND, width=1)
    if size >= VALUES_MIN_CELL and values.size <= figures.ANNOTATE_MAX_CELLS:
        text_size = max(11, min(20, round(size * 0.32)))
        for r in range(rows):
            for c in range(cols):
                if shown is not None and not shown[r, c]:
                    continue
                red, green, blue = (int(v) for v in colours[r, c])
                ink = INK if 0.299 * red + 0.587 * green + 0.114 * blue > 150 else BACKGROUND
                left, top, right, bottom = box(r, c)
                draw.text(((left + right) / 2, (top + bottom) / 2), fmt(values[r, c]), fill=ink,
                          font=font(text_size), anchor="mm")
    return box


def _frame(view: View, cell: tuple[int, int] | None, shown: np.ndarray | None = None) -> Image.Image:
    """The slide with output ``cell``'s window highlighted (none when ``cell`` is ``None``)."""
    (in_rows, in_cols), (out_rows, out_cols) = view.input.shape, view.output.shape
    size_in = _cell_size(in_rows + 2 * view.pad, in_cols + 2 * view.pad)
    size_out = min(size_in, _cell_size(out_rows, out_cols))
    panel_in = ((in_cols + 2 * view.pad) * size_in, (in_rows + 2 * view.pad) * size_in)
    panel_out = (out_cols * size_out, out_rows * size_out)
    width = round(2 * MARGIN + panel_in[0] + GAP + max(panel_out[0], 200))
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    title_lines = _wrap(measure, view.title, TITLE_SIZE, width - 2 * MARGIN)
    caption_lines = _wrap(measure, view.caption, CAPTION_SIZE, width - 2 * MARGIN)
    panels_top = MARGIN + len(title_lines) * (TITLE_SIZE + 8) + 8 + LABEL_SIZE + 10
    caption_top = panels_top + max(panel_in[1], panel_out[1]) + 20
    height = round(caption_top + len(caption_lines) * (CAPTION_SIZE + 6) + MARGIN)
    canvas = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    for k, line in enumerate(title_lines):
        draw.text((MARGIN, MARGIN + k * (TITLE_SIZE + 8)), line, fill=INK, font=font(TITLE_SIZE))
    out_left = MARGIN + panel_in[0] + GAP
    for left, label in zip((MARGIN, out_left), view.labels):
        draw.text((left, panels_top - LABEL_SIZE - 8), label, fill=INK, font=font(LABEL_SIZE))
    in_colours, out_colours = view.colours
    in_box = _panel(canvas, draw, view.input, in_colours, (MARGIN, panels_top), size_in, pad=view.pad)
    out_box = _panel(canvas, draw, view.output, out_colours, (out_left, panels_top), size_out, shown=shown)
    if cell is not None:
        rows, cols, real = view.window(*cell)
        real_cells = [(r, c) for a, r in enumerate(rows) for b, c in enumerate(cols) if real[a, b]]
        if size_in >= 8:
            for r, c in real_cells:
                draw.rectangle(in_box(int(r), int(c)), outline=HIGHLIGHT, width=3)
        elif real_cells:  # cells too small to outline one by one: the window's extent
            top_rows, left_cols = min(r for r, _ in real_cells), min(c for _, c in real_cells)
            bottom, right = in_box(max(r for r, _ in real_cells), max(c for _, c in real_cells))[2:]
            draw.rectangle((*in_box(top_rows, left_cols)[:2], bottom, right), outline=HIGHLIGHT, width=3)
        draw.rectangle(out_box(*cell), outline=HIGHLIGHT, width=4)
    for k, line in enumerate(caption_lines):
        draw.text((MARGIN, caption_top + k * (CAPTION_SIZE + 6)), line, fill=INK, font=font(CAPTION_SIZE))
    return canvas


def view_png(view: View, cell: tuple[int, int] | None) -> bytes:
    """The slide as PNG bytes, output ``cell``'s window highlighted."""
    buffer = io.BytesIO()
    _frame(view, cell).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def scan_cells(out_shape: tuple[int, int], limit: int = MAX_FRAMES) -> list[tuple[int, int]]:
    """The output cells a scan visits in reading order: all of them, or ``limit`` evenly spaced."""
    rows, cols = out_shape
    flat = np.unique(np.linspace(0, rows * cols - 1, min(limit, rows * cols)).round().astype(int))
    return [(int(k // cols), int(k % cols)) for k in flat]


@cache
def _scan_palette() -> Image.Image:
    """The scan's one palette: the slide's own colours exactly (background, ink, highlight, the
    greys), a ramp from ink to background for the edges of the text, and every second colour of
    the maps' scale (one step of the 256 at most from a cell's own colour)."""
    fixed = [BACKGROUND, INK, HIGHLIGHT, PADDING_GREY, (NOT_SHOWN,) * 3, (NOT_FINITE,) * 3]
    # Pillow matches a colour to the palette at 5 bits a channel: a ramp colour that falls in the
    # same bin as one of the slide's own would take its pixels.
    bins = {tuple(v >> 3 for v in colour) for colour in fixed}
    ramp = [colour for colour in (tuple(round(i + (b - i) * k / 31) for i, b in zip(INK, BACKGROUND))
                                  for k in range(32)) if tuple(v >> 3 for v in colour) not in bins]
    scale = [tuple(int(v) for v in colour) for colour in figures.palette(figures.SEQUENTIAL)[::2]]
    colours = fixed + ramp + scale
    colours += [BACKGROUND] * (256 - len(colours))
    image = Image.new("P", (1, 1))
    image.putpalette([value for colour in colours for value in colour])
    return image


def scan_gif(view: View, limit: int = MAX_FRAMES) -> bytes:
    """An animated GIF of the window scanning the input: one frame per visited output cell, the
    output filled in as the scan reaches it, looping. Every frame takes :func:`_scan_palette`: an
    adaptive palette per frame took a third of the time on a photo."""
    flat = np.arange(view.output.size).reshape(view.output.shape)
    frames = [_frame(view, cell, shown=flat <= cell[0] * view.output.shape[1] + cell[1]).quantize(
        palette=_scan_palette(), dither=Image.Dither.NONE) for cell in scan_cells(view.output.shape, limit)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:], duration=FRAME_MS, loop=0)
    return buffer.getvalue()


def _exact(value: float) -> str:
    text = repr(float(value))
    return text.removesuffix(".0")


def array_csv(values: np.ndarray) -> str:
    """A map as CSV, one row per line, every digit kept: ``[[1, 2.5], [0.1, -3]]`` is ``1,2.5\n0.1,-3\n``."""
    return "".join(",".join(_exact(v) for v in row) + "\n" for row in np.asarray(values, dtype=np.float64))
