import io
import re
import struct
import time
import warnings
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageFile

from pooling_core.errors import PoolingError
from pooling_core.examples import EXAMPLES, load_example
from pooling_core.inputs import MAX_GRID_SIDE, MAX_UPLOAD_BYTES, LoadedImage, load_image, parse_grid
from tests.strategies import TEXTBOOK

TWO_BY_TWO = np.array([[1.0, 2.0], [3.0, 4.0]])


def _encode(img, fmt, **params):
    buffer = io.BytesIO()
    img.save(buffer, fmt, **params)
    return buffer.getvalue()


def _error(call):
    with pytest.raises(PoolingError) as info:
        call()
    return str(info.value)


# ---------------------------------------------------------------- parse_grid


@pytest.mark.parametrize(
    "text",
    [
        "1 2\n3 4",
        "1,2\n3,4",
        "1, 2\n3, 4",
        "1\t2\n3\t4",
        "1;2\n3;4",
        "1 ,; \t 2\n3,,4",
        "  1 2  \n\n   \n3 4\n\n",
        "1 2\r\n3 4\r\n",
        "[1 2]\n[3 4]",
        "[1, 2],\n[3, 4]",
        "[[1, 2],\n [3, 4]]",
        "[[1,2],[3,4]]",
        "[[1, 2], [3, 4]]",
        "[1 2] [3 4]",
    ],
)
def test_parse_grid_separators_and_brackets(text):
    grid = parse_grid(text)
    assert grid.dtype == np.float64
    np.testing.assert_array_equal(grid, TWO_BY_TWO)


def test_parse_grid_single_number_is_one_by_one():
    np.testing.assert_array_equal(parse_grid("7"), np.array([[7.0]]))


def test_parse_grid_single_row_and_column():
    np.testing.assert_array_equal(parse_grid("1 2 3"), np.array([[1.0, 2.0, 3.0]]))
    np.testing.assert_array_equal(parse_grid("1\n2\n3"), np.array([[1.0], [2.0], [3.0]]))


@pytest.mark.parametrize("minus", ["-", "\u2212", "\u2013", "\u2012", "\ufe63", "\uff0d"])
def test_parse_grid_minus_signs(minus):
    np.testing.assert_array_equal(parse_grid(f"{minus}1 2\n3 {minus}4.5"), [[-1.0, 2.0], [3.0, -4.5]])


def test_parse_grid_number_syntax():
    grid = parse_grid("1e3 .5 -2. +3\n1E-2 -1.5e+2 0 -0")
    np.testing.assert_array_equal(grid, [[1000.0, 0.5, -2.0, 3.0], [0.01, -150.0, 0.0, 0.0]])


def test_parse_grid_ragged_names_both_lines_and_counts():
    with pytest.raises(PoolingError, match=r"^Line 3 has 4 values, line 1 has 5;"):
        parse_grid("1 2 3 4 5\n1 2 3 4 5\n1 2 3 4")


def test_parse_grid_ragged_single_value_is_singular():
    with pytest.raises(PoolingError, match=r"^Line 2 has 1 value, line 1 has 2;"):
        parse_grid("1 2\n3")


def test_parse_grid_ragged_counts_blank_lines_in_line_numbers():
    with pytest.raises(PoolingError, match=r"^Line 4 has 3 values, line 1 has 2;"):
        parse_grid("1 2\n\n\n3 4 5")


def test_parse_grid_ragged_one_line_form_names_rows():
    with pytest.raises(PoolingError, match=r"^Row 2 of line 1 has 1 value, row 1 of line 1 has 2;"):
        parse_grid("[[1, 2], [3]]")


def test_parse_grid_bad_token_named_with_line():
    with pytest.raises(PoolingError, match=r"^'x1' on line 2 is not a number\.$"):
        parse_grid("1 2\n3 x1")


@pytest.mark.parametrize("token", ["1_000", "1..2", "--3", "1e", "e3", "0x1F", "\u0661", "1,5e"])
def test_parse_grid_rejects_non_ascii_numbers_and_python_extras(token):
    with pytest.raises(PoolingError, match="on line 1 is not a number"):
        parse_grid(f"1 {token}")


def test_parse_grid_control_character_is_shown_escaped():
    with pytest.raises(PoolingError, match=r"^'\\x00' on line 1 is not a number\.$"):
        parse_grid("1 \x00")


def test_parse_grid_long_token_is_shortened_in_message():
    message = _error(lambda: parse_grid("z" * 1000))
    assert "'zzzzzzzzzzzzzzzzzzzz...' on line 1" in message
    assert len(message) < 100


@pytest.mark.parametrize("token", ["nan", "NaN", "-nan", "inf", "-inf", "+Inf", "infinity", "-Infinity"])
def test_parse_grid_refuses_nan_and_infinity(token):
    with pytest.raises(
        PoolingError, match=rf"^'{re.escape(token)}' on line 2 is not a finite number; .*nan or infinity"
    ):
        parse_grid(f"1 2\n3 {token}")


def test_parse_grid_refuses_overflow():
    with pytest.raises(PoolingError, match=r"^'1e999' on line 1 is not a finite number; it is too large"):
        parse_grid("1e999 1")


def test_parse_grid_tiny_number_underflows_to_zero():
    np.testing.assert_array_equal(parse_grid("1e-999"), [[0.0]])


@pytest.mark.parametrize("text", ["", "   ", "\n\n \t\n", "[[]]", "[]\n[]", ",;,", "]]]"])
def test_parse_grid_empty(text):
    with pytest.raises(PoolingError, match=r"^The grid is empty: type at least one number\.$"):
        parse_grid(text)


def test_parse_grid_too_many_rows():
    with pytest.raises(PoolingError, match=r"^The grid has 65 rows; at most 64 are allowed\.$"):
        parse_grid("\n".join(["1 2 3"] * 65))


def test_parse_grid_too_many_rows_in_one_line_form():
    with pytest.raises(PoolingError, match=r"^The grid has 70 rows; at most 64 are allowed\.$"):
        parse_grid("[" + ",".join(["[1, 2]"] * 70) + "]")


def test_parse_grid_too_many_columns():
    with pytest.raises(PoolingError, match=r"^The grid has 65 columns on line 1; at most 64 are allowed\.$"):
        parse_grid("\n".join([" ".join(["1"] * 65)] * 3))


def test_parse_grid_too_many_columns_names_the_long_line():
    with pytest.raises(PoolingError, match=r"^The grid has 70 columns on line 2; at most 64 are allowed\.$"):
        parse_grid("1 2 3\n" + ",".join(["4"] * 70))


def test_parse_grid_largest_allowed_grid():
    expected = np.arange(MAX_GRID_SIDE**2, dtype=np.float64).reshape(MAX_GRID_SIDE, MAX_GRID_SIDE)
    text = "\n".join(" ".join(str(int(v)) for v in row) for row in expected)
    np.testing.assert_array_equal(parse_grid(text), expected)


def test_parse_grid_huge_input_fails_fast():
    start = time.perf_counter()
    with pytest.raises(PoolingError, match="rows; at most 64"):
        parse_grid("1 2\n" * 200_000)
    with pytest.raises(PoolingError, match="columns on line 1; at most 64"):
        parse_grid("1 " * 1_000_000)
    assert time.perf_counter() - start < 5


def test_parse_grid_non_string():
    with pytest.raises(PoolingError, match="must be text"):
        parse_grid(b"1 2")


def _check_grid_or_error(text):
    try:
        grid = parse_grid(text)
    except PoolingError as exc:
        assert str(exc).strip()
        return
    assert isinstance(grid, np.ndarray)
    assert grid.dtype == np.float64
    assert grid.ndim == 2
    assert 1 <= grid.shape[0] <= MAX_GRID_SIDE and 1 <= grid.shape[1] <= MAX_GRID_SIDE
    assert np.isfinite(grid).all()


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_parse_grid_any_text(text):
    _check_grid_or_error(text)


GRID_ALPHABET = "0123456789 ,;\t\n\r[].eE+-\u2212\u2013naifINF\x00x"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=GRID_ALPHABET, max_size=200))
def test_parse_grid_grid_like_text(text):
    _check_grid_or_error(text)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=3, max_size=3),
        min_size=1,
        max_size=5,
    ),
    st.sampled_from([" ", ",", ", ", ";", "\t"]),
)
def test_parse_grid_round_trips_repr(rows, separator):
    text = "\n".join(separator.join(repr(v) for v in row) for row in rows)
    np.testing.assert_array_equal(parse_grid(text), np.array(rows, dtype=np.float64))


# ---------------------------------------------------------------- load_image


def test_gray_png_exact_values():
    values = np.array([[0, 255, 128], [1, 254, 64]], dtype=np.uint8)
    loaded = load_image(_encode(Image.fromarray(values), "PNG"))
    assert isinstance(loaded, LoadedImage)
    assert loaded.pixels.dtype == np.float64
    np.testing.assert_array_equal(loaded.pixels, values / 255.0)
    assert loaded.pixels[0, 0] == 0.0 and loaded.pixels[0, 1] == 1.0
    assert loaded.original_size == (2, 3)
    assert not loaded.downscaled and loaded.frames == 1


def test_rgb_png_shapes_for_both_modes():
    values = np.zeros((2, 3, 3), dtype=np.uint8)
    values[..., 0] = 255
    values[1, 2] = (10, 20, 30)
    data = _encode(Image.fromarray(values), "PNG")
    rgb = load_image(data, mode="RGB").pixels
    assert rgb.shape == (3, 2, 3)
    np.testing.assert_array_equal(rgb, values.transpose(2, 0, 1) / 255.0)
    gray = load_image(data, mode="L").pixels
    assert gray.shape == (2, 3)
    assert gray[0, 0] == pytest.approx(76 / 255)
    assert gray[1, 2] == pytest.approx(18 / 255)


def test_gray_image_in_rgb_mode_repeats_channel():
    pixels = load_image(_encode(Image.new("L", (2, 2), 51), "PNG"), mode="RGB").pixels
    np.testing.assert_array_equal(pixels, np.full((3, 2, 2), 0.2))


def test_jpeg():
    pixels = load_image(_encode(Image.new("RGB", (16, 8), (200, 40, 90)), "JPEG", quality=95), mode="RGB").pixels
    assert pixels.shape == (3, 8, 16)
    np.testing.assert_allclose(pixels[:, 4, 8], np.array([200, 40, 90]) / 255, atol=0.02)


def test_webp_lossless():
    pixels = load_image(_encode(Image.new("RGB", (5, 4), (10, 20, 30)), "WEBP", lossless=True), mode="RGB").pixels
    assert pixels.shape == (3, 4, 5)
    np.testing.assert_array_equal(pixels[:, 0, 0], np.array([10, 20, 30]) / 255)


def test_bmp():
    values = np.array([[0, 100], [200, 255]], dtype=np.uint8)
    np.testing.assert_array_equal(load_image(_encode(Image.fromarray(values), "BMP")).pixels, values / 255.0)


def test_gif_uses_first_frame():
    frames = [Image.new("L", (4, 4), 50), Image.new("L", (4, 4), 200)]
    data = _encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    loaded = load_image(data)
    assert loaded.frames == 2
    np.testing.assert_array_equal(loaded.pixels, np.full((4, 4), 50 / 255))


def test_sixteen_bit_png_scaled_by_bit_depth():
    values = np.array([[65535, 32768], [0, 1000]], dtype=np.uint16)
    data = _encode(Image.fromarray(values), "PNG")
    assert Image.open(io.BytesIO(data)).mode.startswith("I")
    pixels = load_image(data).pixels
    assert pixels[0, 0] == 1.0
    assert pixels[0, 1] == pytest.approx(0.5, abs=1e-4)
    assert pixels[1, 0] == 0.0
    assert pixels[1, 1] == pytest.approx(1000 / 65535)
    rgb = load_image(data, mode="RGB").pixels
    assert rgb.shape == (3, 2, 2)
    np.testing.assert_array_equal(rgb[2], pixels)


def test_palette_png_with_transparency_composited_on_white():
    img = Image.new("P", (2, 1))
    img.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    img.putpixel((1, 0), 1)
    data = _encode(img, "PNG", transparency=0)
    rgb = load_image(data, mode="RGB").pixels
    np.testing.assert_array_equal(rgb[:, 0, 0], [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(rgb[:, 0, 1], [0.0, 0.0, 1.0])
    gray = load_image(data).pixels
    assert gray[0, 0] == 1.0
    assert gray[0, 1] == pytest.approx(29 / 255)


@pytest.mark.parametrize(
    ("img", "expected"),
    [
        (Image.new("RGBA", (2, 2), (0, 0, 0, 0)), 1.0),
        (Image.new("RGBA", (2, 2), (0, 0, 0, 255)), 0.0),
        (Image.new("RGBA", (2, 2), (0, 0, 0, 128)), 127 / 255),
        (Image.new("LA", (2, 2), (0, 0)), 1.0),
        (Image.new("LA", (2, 2), (51, 255)), 0.2),
    ],
)
def test_alpha_composited_on_white(img, expected):
    assert load_image(_encode(img, "PNG")).pixels == pytest.approx(np.full((2, 2), expected), abs=1 / 255)


def test_cmyk_jpeg():
    data = _encode(Image.new("CMYK", (8, 8), (0, 255, 255, 0)), "JPEG", quality=95)
    assert Image.open(io.BytesIO(data)).mode == "CMYK"
    pixels = load_image(data, mode="RGB").pixels
    np.testing.assert_allclose(pixels[:, 4, 4], [1.0, 0.0, 0.0], atol=0.02)
    assert load_image(data).pixels.shape == (8, 8)


def _with_orientation(img, orientation):
    exif = img.getexif()
    exif[0x0112] = orientation
    return _encode(img, "JPEG", exif=exif.tobytes(), quality=95)


def test_exif_orientation_transposes_shape():
    loaded = load_image(_with_orientation(Image.new("L", (3, 2)), 6))
    assert loaded.pixels.shape == (3, 2)
    assert loaded.original_size == (3, 2)
    assert not loaded.downscaled


def test_exif_orientation_six_rotates_clockwise():
    stored = np.zeros((16, 32), dtype=np.uint8)
    stored[:, 16:] = 255
    pixels = load_image(_with_orientation(Image.fromarray(stored), 6)).pixels
    assert pixels.shape == (32, 16)
    assert pixels[:16].mean() < 0.05
    assert pixels[16:].mean() > 0.95


def test_downscale_keeps_aspect():
    loaded = load_image(_encode(Image.new("L", (2000, 1000), 77), "PNG"), max_side=1024)
    assert loaded.pixels.shape == (512, 1024)
    assert loaded.original_size == (1000, 2000)
    assert loaded.downscaled
    np.testing.assert_allclose(loaded.pixels, 77 / 255, atol=1e-12)


def test_downscale_large_rotated_jpeg_uses_upright_size():
    data = _with_orientation(Image.new("RGB", (4000, 2000), (10, 200, 30)), 6)
    loaded = load_image(data, mode="RGB", max_side=1024)
    assert loaded.pixels.shape == (3, 1024, 512)
    assert loaded.original_size == (4000, 2000)
    assert loaded.downscaled
    np.testing.assert_allclose(loaded.pixels[:, 500, 250], np.array([10, 200, 30]) / 255, atol=0.02)


def test_image_exactly_max_side_is_not_downscaled():
    loaded = load_image(_encode(Image.new("L", (64, 32)), "PNG"), max_side=64)
    assert loaded.pixels.shape == (32, 64)
    assert not loaded.downscaled


def test_empty_bytes():
    assert _error(lambda: load_image(b"")) == "The file is empty."


@pytest.mark.parametrize(
    "data",
    [
        b"just some text\n",
        b'<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8"/></svg>',
        b"\x89PNG\r\n\x1a\n",
    ],
)
def test_not_an_image(data):
    message = _error(lambda: load_image(data))
    assert message.startswith("The file is not an image PoolScope can read")
    assert "PNG, JPEG" in message


def test_tiff_is_not_accepted():
    assert "not an image" in _error(lambda: load_image(_encode(Image.new("L", (2, 2)), "TIFF")))


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_file(fmt):
    noise = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    data = _encode(Image.fromarray(noise), fmt)
    message = _error(lambda: load_image(data[: len(data) // 2]))
    assert "truncated or damaged" in message


def _png_claiming_size(width, height):
    data = bytearray(_encode(Image.new("L", (1, 1)), "PNG"))
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def test_decompression_bomb_refused_before_decoding(monkeypatch):
    def decode(_image):
        raise AssertionError("the 400 megapixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", decode)
    message = _error(lambda: load_image(_png_claiming_size(20000, 20000)))
    assert "megapixels" in message
    assert "at most 40 megapixels" in message


@pytest.mark.parametrize(("width", "height"), [(7000, 7000), (10000, 10000), (40_000_001, 1)])
def test_too_many_pixels_refused_before_decoding(width, height):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        message = _error(lambda: load_image(_png_claiming_size(width, height)))
    assert message == (f"The image is {height} x {width} pixels (height x width); PoolScope accepts at most 40 "
                       "megapixels.")


def test_upload_too_large():
    message = _error(lambda: load_image(b"\0" * (MAX_UPLOAD_BYTES + 1)))
    assert message == "The file is 20.1 MB; at most 20 MB can be uploaded."


def test_unknown_mode():
    data = _encode(Image.new("L", (2, 2)), "PNG")
    assert "Unknown image mode 'CMYK'" in _error(lambda: load_image(data, mode="CMYK"))


@pytest.mark.parametrize("max_side", [0, -5, 2.5, True])
def test_bad_max_side(max_side):
    data = _encode(Image.new("L", (2, 2)), "PNG")
    assert "max_side" in _error(lambda: load_image(data, max_side=max_side))


def test_loaded_image_is_frozen():
    loaded = load_image(_encode(Image.new("L", (2, 2)), "PNG"))
    with pytest.raises(AttributeError):
        loaded.original_size = (1, 1)


# ---------------------------------------------------------------- examples


def test_example_files_exist():
    assert set(EXAMPLES) == {"Textbook 4x4", "Random 8x8", "Checkerboard", "Edges", "Landscape photo"}
    for path in EXAMPLES.values():
        assert path.is_file(), path


def test_textbook_example_exact():
    np.testing.assert_array_equal(load_example("Textbook 4x4"), TEXTBOOK)


def test_random_example_is_seed_seven():
    expected = np.random.default_rng(7).integers(0, 10, size=(8, 8)).astype(np.float64)
    np.testing.assert_array_equal(load_example("Random 8x8"), expected)
    assert load_example("Random 8x8", mode="RGB").shape == (8, 8)


def test_checkerboard_example():
    board = load_example("Checkerboard")
    assert board.shape == (64, 64)
    assert board[0, 0] == 1.0 and board[0, 8] == 0.0 and board[8, 8] == 1.0
    assert set(np.unique(board)) == {0.0, 1.0}


def test_edges_example_is_crisp():
    edges = load_example("Edges")
    assert edges.shape == (64, 64)
    assert len(np.unique(edges)) == 3
    assert edges[20, 20] == 1.0


def test_landscape_example_shapes():
    gray = load_example("Landscape photo")
    rgb = load_example("Landscape photo", mode="RGB")
    assert gray.shape == (256, 256)
    assert rgb.shape == (3, 256, 256)
    assert 0.0 <= rgb.min() and rgb.max() <= 1.0
    assert rgb[2, 10].mean() > rgb[0, 10].mean()
    assert EXAMPLES["Landscape photo"].stat().st_size < 200_000


def test_unknown_example():
    assert "no example called 'Mona Lisa'" in _error(lambda: load_example("Mona Lisa"))
