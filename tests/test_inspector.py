"""The inspector's payload: grids, windows with padding, weights, winners, arithmetic, pictures."""

import base64
import io
import json

import numpy as np
import pytest
from PIL import Image

from pages.ui import figures
from pages.ui.inspector.component import words
from pages.ui.inspector.payload import payload
from pooling_core import gradient_routes, pool2d
from tests.strategies import TEXTBOOK


def shown(*args, **options):
    """The payload as an English page sends it."""
    return payload(*args, words=words("en"), **options)


def picture_pixels(uri: str) -> np.ndarray:
    assert uri.startswith("data:image/png;base64,")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))))


def test_textbook_max_carries_values_windows_winners_and_arithmetic():
    data = shown(TEXTBOOK, pool2d(TEXTBOOK, "max"), (0, 1), (0, 8))
    assert data["mode"] == "grid" and data["pinned"] == [0, 1]
    assert data["input"]["values"] == TEXTBOOK.tolist()
    assert data["output"]["values"] == [[6, 8], [3, 4]] and data["output"]["text"] == [["6", "8"], ["3", "4"]]
    assert [w["text"] for w in data["windows"]] == ["max(1, 1, 5, 6) = 6", "max(2, 4, 7, 8) = 8",
                                                    "max(3, 2, 1, 2) = 3", "max(1, 0, 3, 4) = 4"]
    second = data["windows"][1]  # output (0, 1) reads rows 0..1, columns 2..3
    assert second["cells"] == [[0, 2, 1], [0, 3, 1], [1, 2, 1], [1, 3, 1]]
    assert second["winner"] == [1, 3] and "weights" not in second  # a winner stands for its one-hot weights
    assert [w["winner"] for w in data["windows"]] == [[1, 1], [1, 3], [2, 0], [3, 3]]
    json.dumps(data, allow_nan=False)  # the browser's JSON.parse takes no NaN


def test_weights_travel_with_their_cells():
    x = np.array([[0.0, 1.0], [2.0, 3.0]])
    [window] = shown(x, pool2d(x, "softpool"), (0, 0), (0, 3))["windows"]
    shares = np.exp(x.ravel()) / np.exp(x).sum()
    np.testing.assert_allclose(window["weights"], shares, rtol=1e-5)
    assert [c[:2] for c in window["cells"]] == [[0, 0], [0, 1], [1, 0], [1, 1]] and "winner" not in window


def test_padding_cells_are_marked_and_weigh_nothing():
    result = pool2d(TEXTBOOK, "avg", kernel_size=3, stride=1, padding=1)
    data = shown(TEXTBOOK, result, (0, 0), (0, 8), pad=1)
    assert data["pad"] == 1 and data["output"]["rows"] == 4
    first = data["windows"][0]  # rows and columns -1..1: 4 real cells, 5 of padding
    assert [(r, c) for r, c, real in first["cells"] if real] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert [(r, c) for r, c, real in first["cells"] if not real] == [(-1, -1), (-1, 0), (-1, 1), (0, -1), (1, -1)]
    weights = dict(zip([(r, c) for r, c, _ in first["cells"]], first["weights"]))
    assert weights[(-1, -1)] == 0 and weights[(0, 0)] == pytest.approx(1 / 9, rel=1e-5)
    assert first["text"] == "(1 + 1 + 5 + 6) / 9 = 1.444"
    assert "winner" not in first  # an average has no winning cell


def test_an_operator_without_weights_sends_none():
    window = shown(TEXTBOOK, pool2d(TEXTBOOK, "lp", p=2), (0, 0), (0, 8))["windows"][0]
    assert "weights" not in window and "winner" not in window
    assert window["text"] == "(|1|^2 + |1|^2 + |5|^2 + |6|^2)^(1/2) = 7.937" and len(window["cells"]) == 4


def test_nan_and_infinity_travel_as_null_and_the_text_says_what_they_are():
    x = np.array([[np.nan, 1.0], [np.inf, -2.0]])
    data = shown(x, pool2d(x, "avg", kernel_size=1), (0, 0), (-2, 1))
    assert data["input"]["values"] == [[None, 1.0], [None, -2.0]]
    assert data["input"]["text"] == [["nan", "1"], ["inf", "-2"]]
    json.dumps(data, allow_nan=False)


def test_the_pin_alone_does_not_change_the_digest():
    result = pool2d(TEXTBOOK, "max")
    assert shown(TEXTBOOK, result, (0, 0), (0, 8))["digest"] == shown(TEXTBOOK, result, (1, 1), (0, 8))["digest"]
    assert shown(TEXTBOOK, result, (0, 0), (0, 8))["digest"] != shown(TEXTBOOK, result, (0, 0), (0, 9))["digest"]


def test_a_large_output_is_sent_as_pictures_with_the_pinned_cell_only():
    x = np.arange(128 * 128, dtype=float).reshape(128, 128)
    result = pool2d(x, "max")  # 64x64 outputs: more than 32x32
    data = shown(x, result, (3, 5), (0, x.max()))
    assert data["mode"] == "picture" and "windows" not in data
    assert (data["output"]["rows"], data["output"]["cols"]) == (64, 64)
    pixels = picture_pixels(data["output"]["picture"])
    assert pixels.shape == (64, 64, 3)
    top = figures.palette(figures.SEQUENTIAL)[255]
    np.testing.assert_array_equal(pixels[-1, -1], top)  # the largest value gets the scale's top colour
    [details] = data["details"]
    assert details["cells"] == [[6, 10, 1], [6, 11, 1], [7, 10, 1], [7, 11, 1]]
    assert details["winner"] == [7, 11] and details["text"] == f"max(778, 779, 906, 907) = {7 * 128 + 11}"
    assert data["geometry"]["rows"][3] == [6, 7] and data["geometry"]["colPresent"][5] == [1, 1]


def test_a_photo_is_downsampled_like_the_figures():
    x = np.random.default_rng(0).random((1024, 1024))
    data = shown(x, pool2d(x, "avg", kernel_size=4), (0, 0), (0, 1))
    assert picture_pixels(data["input"]["picture"]).shape == (256, 256, 3)  # every 4th pixel
    assert (data["input"]["rows"], data["output"]["rows"]) == (1024, 256)
    assert data["details"][0]["text"].startswith("(")


def test_all_three_channels_send_colour_pictures_and_each_channel_s_arithmetic():
    x = np.zeros((3, 4, 4))
    x[0, 0, 0], x[1, 1, 1], x[2, 0, 1] = 0.25, 0.5, 1.0
    data = shown(x, pool2d(x, "max"), (0, 0), (0, 1), channel=None)
    assert data["mode"] == "picture" and data["channels"] == ["Red", "Green", "Blue"]
    pixels = picture_pixels(data["input"]["picture"])
    assert pixels.shape == (4, 4, 3) and tuple(pixels[0, 1]) == (0, 0, 255)
    assert [d["text"] for d in data["details"]] == ["max(0.25, 0, 0, 0) = 0.25", "max(0, 0, 0, 0.5) = 0.5",
                                                    "max(0, 1, 0, 0) = 1"]


def test_one_channel_of_a_colour_input_is_a_grid_of_that_channel():
    x = np.stack([TEXTBOOK, TEXTBOOK * 2, TEXTBOOK * 3]) / 24
    data = shown(x, pool2d(x, "max"), (0, 1), (0, 1), channel=2)
    assert data["mode"] == "grid" and data["channels"] == []
    assert data["output"]["values"] == [[0.75, 1], [0.375, 0.5]]
    assert data["windows"][1]["text"] == "max(0.25, 0.5, 0.875, 1) = 1"


def test_without_a_result_the_input_is_sent_alone():
    data = shown(TEXTBOOK, None, (0, 0), (0, 8), pad=2)
    assert "output" not in data and "windows" not in data and data["input"]["rows"] == 4


def test_gradient_routes_travel_as_each_window_s_non_zero_shares():
    max_data = shown(TEXTBOOK, pool2d(TEXTBOOK, "max"), (0, 0), (0, 8), routes=lambda: gradient_routes(TEXTBOOK, "max"))
    assert [w["gradient"] for w in max_data["windows"]] == [[[1, 1, 1]], [[1, 3, 1]], [[2, 0, 1]], [[3, 3, 1]]]
    avg_data = shown(TEXTBOOK, pool2d(TEXTBOOK, "avg"), (0, 0), (0, 8), routes=lambda: gradient_routes(TEXTBOOK, "avg"))
    assert avg_data["windows"][1]["gradient"] == [[0, 2, 0.25], [0, 3, 0.25], [1, 2, 0.25], [1, 3, 0.25]]
    assert "gradient" not in shown(TEXTBOOK, pool2d(TEXTBOOK, "avg"), (0, 0), (0, 8))["windows"][0]


def test_gradient_routes_are_not_computed_for_a_large_output():
    x = np.random.default_rng(0).normal(size=(40, 40))
    asked = []
    data = shown(x, pool2d(x, "max"), (0, 0), (x.min(), x.max()), routes=lambda: asked.append(1))
    assert data["mode"] == "grid" and not asked and "gradient" not in data["windows"][0]  # 400 outputs > 256
