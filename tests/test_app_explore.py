"""The Explore page through Streamlit's AppTest: values, errors, every operator."""

import numpy as np
import pytest

from pooling_core import OPERATORS
from tests.apptest import component_data, inspector_output, run_app, trigger
from tests.strategies import TEXTBOOK_TEXT


def typed(text: str, **state):
    return run_app(source="grid", grid_text=text, **state)


def test_default_view_shows_textbook_max_pooling():
    at = run_app()
    assert not at.exception
    np.testing.assert_array_equal(inspector_output(at), [[6, 8], [3, 4]])
    assert at.code[0].value == "max(1, 1, 5, 6) = 6"


def test_changing_the_kernel_changes_the_output_shape():
    at = typed(TEXTBOOK_TEXT)
    at.slider(key="kernel").set_value(3).run()
    assert not at.exception
    assert inspector_output(at).shape == (1, 1)
    at.slider(key="stride").set_value(1).run()
    np.testing.assert_array_equal(inspector_output(at), [[7, 8], [7, 8]])


def test_typed_grid_gives_exact_average():
    at = typed(TEXTBOOK_TEXT, op="avg")
    assert not at.exception
    np.testing.assert_array_equal(inspector_output(at), [[3.25, 5.25], [2, 2]])
    assert at.code[0].value == "(1 + 1 + 5 + 6) / 4 = 3.25"


def test_bad_grid_shows_message_and_keeps_the_text():
    bad = "1 2 3\n4 5\n6 7 8"
    at = typed(bad)
    assert not at.exception
    assert "Line 2 has 2 values, line 1 has 3" in at.error[0].value
    assert at.text_area(key="grid_text").value == bad


def test_invalid_combination_shows_library_message_and_keeps_settings():
    at = typed(TEXTBOOK_TEXT, kernel=2, padding=2, stride=1)
    assert not at.exception
    assert "padding 2 is more than half the kernel 2" in at.error[0].value
    data = component_data(at)  # the input is still shown, alone
    assert data["input"]["values"][1] == [5, 6, 7, 8] and "output" not in data
    assert (at.slider(key="kernel").value, at.slider(key="stride").value, at.slider(key="padding").value) == (2, 1, 2)


def test_kernel_larger_than_input_is_a_message():
    at = typed("1 2\n3 4", kernel=5, stride=1)
    assert not at.exception
    assert "larger than the padded input" in at.error[0].value


def test_a_pin_from_the_browser_moves_the_inspected_window():
    at = trigger(typed(TEXTBOOK_TEXT), "pin", [0, 1])
    assert at.code[0].value == "max(2, 4, 7, 8) = 8"
    assert (at.number_input(key="cell_row").value, at.number_input(key="cell_column").value) == (0, 1)
    assert component_data(at)["pinned"] == [0, 1]
    at.run()  # a trigger lasts one run: the pin stays
    assert at.code[0].value == "max(2, 4, 7, 8) = 8"
    trigger(at, "pin", [1, 1])
    assert at.code[0].value == "max(1, 0, 3, 4) = 4"
    assert [c.value for c in at.caption][1] == "Pinned output cell (1, 1):"


@pytest.mark.parametrize("pin", ["1,0", [1], [1.5, 0], [True, 0], None, {"0": 1, "1": 0}])
def test_a_malformed_pin_is_ignored(pin):
    at = trigger(trigger(typed(TEXTBOOK_TEXT), "pin", [0, 1]), "pin", pin)
    assert not at.exception
    assert at.code[0].value == "max(2, 4, 7, 8) = 8"


def test_a_pin_outside_the_output_is_kept_inside():
    at = trigger(typed(TEXTBOOK_TEXT), "pin", [5, -3])
    assert component_data(at)["pinned"] == [1, 0] and at.code[0].value == "max(3, 2, 1, 2) = 3"


def test_typed_row_and_column_move_the_inspected_window():
    at = typed(TEXTBOOK_TEXT)
    assert (at.number_input(key="cell_row").max, at.number_input(key="cell_column").max) == (1, 1)
    at.number_input(key="cell_row").set_value(1).run()
    assert at.code[0].value == "max(3, 2, 1, 2) = 3"
    at.number_input(key="cell_column").set_value(1).run()
    assert at.code[0].value == "max(1, 0, 3, 4) = 4"
    assert component_data(at)["pinned"] == [1, 1]  # the inspector follows


def test_cell_inputs_follow_a_smaller_output():
    at = typed(TEXTBOOK_TEXT, kernel=2, stride=1)
    at.number_input(key="cell_row").set_value(2).run()
    at.number_input(key="cell_column").set_value(2).run()
    assert at.code[0].value == "max(1, 0, 3, 4) = 4"
    at.slider(key="stride").set_value(2).run()  # the output shrinks to 2x2: the last cell is kept
    assert not at.exception
    assert (at.number_input(key="cell_row").value, at.number_input(key="cell_row").max) == (1, 1)
    assert at.code[0].value == "max(1, 0, 3, 4) = 4"


def test_padding_is_drawn_and_the_padded_window_sent():
    data = component_data(typed(TEXTBOOK_TEXT, kernel=3, stride=1, padding=1))
    assert data["pad"] == 1 and data["output"]["rows"] == 4
    # output cell (0, 0) with padding 1 reads rows and columns -1..1: 4 real cells, 5 of padding
    cells = data["windows"][0]["cells"]
    assert sum(real for _, _, real in cells) == 4 and len(cells) == 9
    assert data["windows"][0]["text"] == "max(1, 1, 5, 6) = 6"


def test_a_photo_is_sent_as_pictures_with_the_pinned_window_only():
    at = run_app(example="Landscape photo", color_mode="rgb", kernel=4, stride=4)
    data = component_data(at)
    assert data["mode"] == "picture" and "windows" not in data
    assert (data["input"]["rows"], data["output"]["rows"]) == (256, 64)
    at.number_input(key="cell_row").set_value(30).run()  # rows 120..123
    data = component_data(at)
    assert data["pinned"] == [30, 0] and data["geometry"]["rows"][30] == [120, 121, 122, 123]
    [details] = data["details"]
    assert [r for r, _, _ in details["cells"]][::4] == [120, 121, 122, 123]
    assert details["text"] == at.code[0].value


@pytest.mark.parametrize("op", list(OPERATORS))
def test_every_operator_runs_without_exception(op):
    at = run_app(op=op)
    assert not at.exception
    assert not at.error
    assert at.main.code, "the window's arithmetic is shown"


def test_rgb_example_per_channel_and_all_three():
    at = run_app(example="Landscape photo", color_mode="rgb", kernel=4, stride=4)
    assert not at.exception
    assert component_data(at)["output"]["rows"] == 64
    at.radio(key="channel").set_value("all").run()
    assert not at.exception
    shown = [c.value for c in at.main.code if c.language != "python"]
    assert [text.split(":")[0] for text in shown] == ["Red", "Green", "Blue"]
    data = component_data(at)
    assert data["channels"] == ["Red", "Green", "Blue"]
    assert [f"{name}: {d['text']}" for name, d in zip(data["channels"], data["details"])] == shown


def test_alexnet_preset_sets_overlapping_max_and_shows_its_note():
    at = run_app()
    at.selectbox(key="preset").set_value("alexnet_overlapping").run()
    assert not at.exception
    assert (at.selectbox(key="op").value, at.slider(key="kernel").value, at.slider(key="stride").value) == ("max", 3, 2)
    assert "Krizhevsky" in at.info[0].value
    assert at.code[0].value == "max(1, 1, 2, 5, 6, 7, 3, 2, 1) = 7"


def test_the_preset_note_has_a_slot_so_the_charts_keep_their_place():
    """The browser rebuilds an element whose place changes; the note must not move the charts."""
    def layout(at):
        return [getattr(node, "type", None) for node in at.main.children.values()]

    plain, noted = layout(typed(TEXTBOOK_TEXT)), layout(typed(TEXTBOOK_TEXT, kernel=3))
    assert plain[0] == "empty"  # the slot of the link's notices
    assert plain[3] == "empty" and noted[3] == "info"
    assert plain[:3] + plain[4:] == noted[:3] + noted[4:]
    assert "flex_container" in plain


def test_explore_writes_the_settings_as_pytorch_code():
    at = run_app(kernel=3, stride=1, padding=1)
    assert at.main.code[-1].value == ("import torch.nn.functional as F\n\ny = F.max_pool2d(x, kernel_size=3, "
                                      "stride=1, padding=1, dilation=1, ceil_mode=False)")
    assert at.main.code[-1].language == "python"
    soft = run_app(op="softpool")
    assert soft.main.code[-1].value.startswith('from pooling_core.nn import Pool2d\n\npool = Pool2d("softpool"')
