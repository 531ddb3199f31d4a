"""Turn what a student types or uploads into float64 NumPy arrays."""

from __future__ import annotations

import io
import math
import re
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps

from pooling_core.errors import PoolingError

MAX_GRID_SIDE = 64
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000

_DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2212\ufe63\uff0d", "-"))
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_ROW_PREFIX = re.compile(r"^[\s,;\[]+")
_ROW_SUFFIX = re.compile(r"[\s,;]+$")
_SEPARATORS = re.compile(r"[\s,;]+")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_NON_FINITE = re.compile(r"[+-]?(?:nan|inf|infinity)", re.ASCII | re.IGNORECASE)

_FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "GIF")
_SIXTEEN_BIT_MODES = ("I", "I;16", "I;16L", "I;16B", "I;16N")
_ALPHA_MODES = ("RGBA", "RGBa", "LA", "La", "PA")
_ORIENTATION_TAG = 0x0112
_SWAPPING_ORIENTATIONS = (5, 6, 7, 8)


# The message of a row whose length differs from the first row's, by (this row is one of several
# on its line, the first row is, this row has a single value).
_RAGGED_KEYS = {
    (False, False, False): "grid.ragged.line_vs_line",
    (False, True, False): "grid.ragged.line_vs_row",
    (True, False, False): "grid.ragged.row_vs_line",
    (True, True, False): "grid.ragged.row_vs_row",
    (False, False, True): "grid.ragged.one_value.line_vs_line",
    (False, True, True): "grid.ragged.one_value.line_vs_row",
    (True, False, True): "grid.ragged.one_value.row_vs_line",
    (True, True, True): "grid.ragged.one_value.row_vs_row",
}


@dataclass(frozen=True)
class _Row:
    """One row of a typed grid: its ``text``, the ``line`` it is on and, when that line holds
    several bracketed rows, its place ``row`` among them (else ``None``)."""

    text: str
    line: int
    row: int | None


def _shown(token: str) -> str:
    """A typed token for a message: cut after 20 characters, control characters escaped."""
    if len(token) > 20:
        token = token[:20] + "..."
    if not token.isprintable():
        token = token.encode("unicode_escape").decode("ascii")
    return token


def _rows(text: str) -> list[_Row]:
    rows = []
    for line_number, line in enumerate(_LINE_BREAK.split(text), start=1):
        pieces = [_ROW_SUFFIX.sub("", _ROW_PREFIX.sub("", piece)) for piece in line.split("]")]
        pieces = [piece for piece in pieces if piece]
        for index, piece in enumerate(pieces, start=1):
            rows.append(_Row(piece, line_number, None if len(pieces) == 1 else index))
    return rows


def _row_error(keys: tuple[str, str], row: _Row, **fields) -> PoolingError:
    """The message ``keys[0]`` about a row that is a whole line, ``keys[1]`` about one of several on a line."""
    if row.row is None:
        return PoolingError(keys[0], **fields, line=row.line)
    return PoolingError(keys[1], **fields, row=row.row, line=row.line)


def _parse_token(token: str, row: _Row) -> float:
    if _NON_FINITE.fullmatch(token):
        raise _row_error(("grid.not_finite", "grid.not_finite_in_row"), row, token=_shown(token))
    if _NUMBER.fullmatch(token) is None:
        raise _row_error(("grid.not_a_number", "grid.not_a_number_in_row"), row, token=_shown(token))
    value = float(token)
    if not math.isfinite(value):
        raise _row_error(("grid.too_large", "grid.too_large_in_row"), row, token=_shown(token))
    return value


def _ragged_error(row: _Row, values: int, first: _Row, first_values: int) -> PoolingError:
    key = _RAGGED_KEYS[row.row is not None, first.row is not None, values == 1]
    fields = {"line": row.line, "values": values, "first_line": first.line, "first_values": first_values}
    if row.row is not None:
        fields["row"] = row.row
    if first.row is not None:
        fields["first_row"] = first.row
    return PoolingError(key, **fields)


def parse_grid(text: str) -> np.ndarray:
    r"""Parse a typed grid of numbers into a 2-D array.

    Format: one row per line; cells separated by commas, spaces, tabs or
    semicolons in any mix (repeated separators count as one). Rows may be
    wrapped in brackets, one per line (``[1 2]``) or as a nested list on one
    or several lines (``[[1, 2], [3, 4]]``); a ``]`` ends a row. Blank lines
    are ignored. Numbers use Python syntax without underscores (``1e3``,
    ``.5``, ``-2.``, ``+3``); the Unicode minus sign and dashes U+2010-U+2013,
    U+FE63 and U+FF0D count as ``-``.

    Args:
        text: the grid as typed by the user.

    Returns:
        ``np.ndarray`` of dtype float64 and shape :math:`(R, C)` with
        :math:`1 \le R, C \le` ``MAX_GRID_SIDE``.

    Raises:
        PoolingError: if the text holds no numbers, a token is not a number,
            a number is nan or infinite (including overflow such as ``1e999``),
            rows have different lengths, or the grid has more than
            ``MAX_GRID_SIDE`` rows or columns. The message names the line and
            the offending token.
    """
    if not isinstance(text, str):
        raise PoolingError("grid.not_text", type=type(text).__name__)
    rows = _rows(text.translate(_DASHES))
    if not rows:
        raise PoolingError("grid.empty")
    if len(rows) > MAX_GRID_SIDE:
        raise PoolingError("grid.too_many_rows", rows=len(rows), limit=MAX_GRID_SIDE)

    values: list[list[float]] = []
    for row in rows:
        tokens = _SEPARATORS.split(row.text)
        if len(tokens) > MAX_GRID_SIDE:
            raise _row_error(("grid.too_many_columns", "grid.too_many_columns_in_row"), row,
                             columns=len(tokens), limit=MAX_GRID_SIDE)
        values.append([_parse_token(token, row) for token in tokens])
        if len(tokens) != len(values[0]):
            raise _ragged_error(row, len(tokens), rows[0], len(values[0]))
    return np.array(values, dtype=np.float64)


@dataclass(frozen=True)
class LoadedImage:
    """An uploaded image as floats in [0, 1].

    Attributes:
        pixels: float64 array, shape :math:`(H, W)` for mode ``"L"`` or
            :math:`(3, H, W)` (channel first) for mode ``"RGB"``.
        original_size: :math:`(H, W)` after EXIF orientation, before downscaling.
        frames: how many frames the file holds (an animated GIF or WebP); the first is decoded.
    """

    pixels: np.ndarray
    original_size: tuple[int, int]
    frames: int = 1

    @property
    def downscaled(self) -> bool:
        """Whether the pixels are smaller than the uploaded image."""
        return tuple(self.pixels.shape[-2:]) != self.original_size


def _check_upload(data: bytes, mode: str, max_side: int) -> None:
    if mode not in ("L", "RGB"):
        raise PoolingError("image.unknown_mode", mode=repr(mode))
    if isinstance(max_side, bool) or not isinstance(max_side, int) or max_side < 1:
        raise PoolingError("image.bad_max_side", value=repr(max_side))
    if len(data) == 0:
        raise PoolingError("image.empty_file")
    if len(data) > MAX_UPLOAD_BYTES:
        size_mb = math.ceil(len(data) / 2**20 * 10) / 10
        raise PoolingError("image.file_too_large", size=f"{size_mb:.1f}", limit=MAX_UPLOAD_BYTES // 2**20)


def _open(data: bytes) -> Image.Image:
    try:
        img = Image.open(io.BytesIO(data), formats=_FORMATS)
    except Image.DecompressionBombError as exc:
        raise PoolingError("image.decompression_bomb", megapixels=2 * Image.MAX_IMAGE_PIXELS // 1_000_000,
                           limit=MAX_IMAGE_PIXELS // 1_000_000) from exc
    except Exception as exc:
        raise PoolingError("image.unreadable") from exc
    width, height = img.size
    if width * height > MAX_IMAGE_PIXELS:
        raise PoolingError("image.too_many_pixels", width=width, height=height, limit=MAX_IMAGE_PIXELS // 1_000_000)
    if width * height == 0:
        raise PoolingError("image.no_pixels")
    return img


def _target_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    scale = min(1.0, max_side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _flatten(img: Image.Image, mode: str) -> Image.Image:
    if img.mode in _SIXTEEN_BIT_MODES:
        return img.convert("I")
    if img.mode in _ALPHA_MODES or "transparency" in img.info:
        rgba = img.convert("RGBA")
        img = Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba)
    if img.mode not in ("1", "L", "RGB"):
        img = img.convert("RGB")
    return img.convert(mode)


def _to_array(img: Image.Image, mode: str) -> np.ndarray:
    if img.mode == "I":
        gray = np.clip(np.asarray(img, dtype=np.float64) / 65535.0, 0.0, 1.0)
        return gray if mode == "L" else np.repeat(gray[np.newaxis], 3, axis=0)
    pixels = np.asarray(img, dtype=np.float64) / 255.0
    return pixels if mode == "L" else np.ascontiguousarray(pixels.transpose(2, 0, 1))


def load_image(data: bytes, mode: str = "L", max_side: int = 1024) -> LoadedImage:
    r"""Decode an uploaded image into floats in [0, 1].

    Reads PNG (8- and 16-bit), JPEG (including CMYK), WebP, BMP and GIF (first
    frame). The EXIF orientation is applied, transparent areas are composited
    on white, 16-bit images are scaled so 65535 becomes 1.0, and an image whose
    longer side exceeds ``max_side`` is shrunk (aspect ratio kept, Lanczos
    filter) so that its longer side is ``max_side``.

    Args:
        data: the file's bytes, at most ``MAX_UPLOAD_BYTES``.
        mode: ``"L"`` for grayscale (ITU-R 601 luma) or ``"RGB"``.
        max_side: longest side in pixels after downscaling, at least 1.

    Returns:
        :class:`LoadedImage` whose ``pixels`` are float64 with shape
        :math:`(H, W)` for ``"L"`` or :math:`(3, H, W)` for ``"RGB"``.

    Raises:
        PoolingError: if ``mode`` or ``max_side`` is invalid, the file is empty
            or larger than ``MAX_UPLOAD_BYTES``, is not an image in one of the
            formats above, has more than ``MAX_IMAGE_PIXELS`` pixels (checked
            before decoding), or is truncated or damaged.
    """
    _check_upload(data, mode, max_side)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        img = _open(data)
        frames = getattr(img, "n_frames", 1)
        width, height = img.size
        target = _target_size(width, height, max_side)
        try:
            img.draft(None, target)
            img.load()
            if img.getexif().get(_ORIENTATION_TAG) in _SWAPPING_ORIENTATIONS:
                width, height, target = height, width, target[::-1]
            img = _flatten(ImageOps.exif_transpose(img), mode)
            if img.size != target:
                img = img.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)
        except Exception as exc:
            raise PoolingError("image.damaged") from exc
    return LoadedImage(pixels=_to_array(img, mode), original_size=(height, width), frames=frames)
