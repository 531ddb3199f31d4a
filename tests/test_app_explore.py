"""The Explore page through Streamlit's AppTest: values, errors, every operator."""

import numpy as np
import pytest

from pooling_core import OPERATORS
from tests.apptest import figure, heatmap_values, run_app
from tests.strategies import TEXTBOOK_TEXT


def typed(text: str, **state):
    return run_app(source="grid", grid_text=text, **state)


def test_default_view_shows_textbook_max_pooling():
    at = run_app()
    assert not at.exception
    np.testing.assert_array_equal(heatmap_values(figure(at, "Output")), [[6, 8], [3, 4]])
    assert at.code[0].value == "max(1, 1, 5, 6) = 6"


def test_changing_the_kernel_changes_the_output_shape():
    at = typed(TEXTBOOK_TEXT)
    at.slider(key="kernel").set_value(3).run()
    assert not at.exception
    assert heatmap_values(figure(at, "Output")).shape == (1, 1)
    at.slider(key="stride").set_value(1).run()
    np.testing.assert_array_equal(heatmap_values(figure(at, "Output")), [[7, 8], [7, 8]])


def test_typed_grid_gives_exact_average():
    at = typed(TEXTBOOK_TEXT, op="avg")
    assert not at.exception
    np.testing.assert_array_equal(heatmap_values(figure(at, "Output")), [[3.25, 5.25], [2, 2]])
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
    assert figure(at, "Input") is not None
    assert (at.slider(key="kernel").value, at.slider(key="stride").value, at.slider(key="padding").value) == (2, 1, 2)


def test_kernel_larger_than_input_is_a_message():
    at = typed("1 2\n3 4", kernel=5, stride=1)
    assert not at.exception
    assert "larger than the padded input" in at.error[0].value


def test_next_button_moves_the_inspected_window():
    at = typed(TEXTBOOK_TEXT)
    at.button(key="next").click().run()
    assert at.code[0].value == "max(2, 4, 7, 8) = 8"
    assert (at.number_input(key="cell_row").value, at.number_input(key="cell_column").value) == (0, 1)
    at.button(key="previous").click().run().button(key="previous").click().run()
    assert at.code[0].value == "max(1, 0, 3, 4) = 4"
    assert (at.number_input(key="cell_row").value, at.number_input(key="cell_column").value) == (1, 1)


def test_typed_row_and_column_move_the_inspected_window():
    at = typed(TEXTBOOK_TEXT)
    assert (at.number_input(key="cell_row").max, at.number_input(key="cell_column").max) == (1, 1)
    at.number_input(key="cell_row").set_value(1).run()
    assert at.code[0].value == "max(3, 2, 1, 2) = 3"
    at.number_input(key="cell_column").set_value(1).run()
    assert at.code[0].value == "max(1, 0, 3, 4) = 4"
    at.button(key="next").click().run()  # wraps around to the first cell
    assert at.code[0].value == "max(1, 1, 5, 6) = 6"
    assert (at.number_input(key="cell_row").value, at.number_input(key="cell_column").value) == (0, 0)


def test_cell_inputs_follow_a_smaller_output():
    at = typed(TEXTBOOK_TEXT, kernel=2, stride=1)
    at.number_input(key="cell_row").set_value(2).run()
    at.number_input(key="cell_column").set_value(2).run()
    assert at.code[0].value == "max(1, 0, 3, 4) = 4"
    at.slider(key="stride").set_value(2).run()  # the output shrinks to 2x2: the last cell is kept
    assert not at.exception
    assert (at.number_input(key="cell_row").value, at.number_input(key="cell_row").max) == (1, 1)
    assert at.code[0].value == "max(1, 0, 3, 4) = 4"


def test_click_selection_moves_the_inspected_window():
    at = typed(TEXTBOOK_TEXT)
    at.session_state["output_chart"] = {"selection": {"points": [{"customdata": {"0": 1, "1": 0}}],
                                                      "point_indices": [2], "box": [], "lasso": []}}
    at.run()
    assert at.code[0].value == "max(3, 2, 1, 2) = 3"


def test_window_outline_is_one_path_per_style_and_margins_are_fixed():
    at = typed(TEXTBOOK_TEXT, kernel=3, stride=1, padding=1)
    inputs = figure(at, "Input")
    outlines = [s for s in inputs["layout"]["shapes"] if s["type"] == "path"]
    # output cell (0, 0) with padding 1 reads rows and columns -1..1: 4 real cells, 5 of padding
    solid = next(s for s in outlines if s["line"]["dash"] == "solid")
    dotted = next(s for s in outlines if s["line"]["dash"] == "dot")
    assert solid["path"].count("Z") == 4 and dotted["path"].count("Z") == 5
    assert solid["path"].startswith("M-0.5,-0.5H0.5V0.5H-0.5Z")
    # Plotly redraws a figure whose margins it may grow; every heatmap has room for its labels
    assert inputs["layout"]["margin"]["autoexpand"] is False
    assert figure(at, "Output")["layout"]["margin"]["r"] > inputs["layout"]["margin"]["r"]  # its colour bar


def test_a_window_too_small_to_find_gets_a_finder_square_and_a_small_grid_none():
    def finder(fig):
        rect = fig["layout"]["shapes"][-1]
        assert rect["type"] == "rect"
        return rect["x0"], rect["x1"], rect["y0"], rect["y1"]

    at = run_app(example="Landscape photo", color_mode="rgb", kernel=4, stride=4)
    side = 256 / 12  # of the 256x256 photo
    # window (0, 0), rows and columns 0..3: the square centred on it would stick out, so it starts at the edge
    assert finder(figure(at, "Input")) == pytest.approx((-0.5, side - 0.5, -0.5, side - 0.5))
    at.number_input(key="cell_row").set_value(30).run()  # rows 120..123: centred on row 121.5
    assert finder(figure(at, "Input")) == pytest.approx((-0.5, side - 0.5, 121.5 - side / 2, 121.5 + side / 2))
    assert finder(figure(at, "Output")) == pytest.approx((-0.5, 64 / 12 - 0.5, 30 - 32 / 12, 30 + 32 / 12))
    assert [s["type"] for s in figure(typed(TEXTBOOK_TEXT), "Input")["layout"]["shapes"]] == ["path"]


@pytest.mark.parametrize("op", list(OPERATORS))
def test_every_operator_runs_without_exception(op):
    at = run_app(op=op)
    assert not at.exception
    assert not at.error
    assert at.code, "the window's arithmetic is shown"


def test_rgb_example_per_channel_and_all_three():
    at = run_app(example="Landscape photo", color_mode="rgb", kernel=4, stride=4)
    assert not at.exception
    assert heatmap_values(figure(at, "Output")).shape[0] == 64
    at.radio(key="channel").set_value("all").run()
    assert not at.exception
    assert [c.value.split(":")[0] for c in at.code] == ["Red", "Green", "Blue"]


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


def test_play_advances_the_inspected_cell_on_every_run():
    at = typed(TEXTBOOK_TEXT)
    at.toggle(key="play").set_value(True).run()
    assert at.code[0].value == "max(2, 4, 7, 8) = 8"
    at.run()
    assert at.code[0].value == "max(3, 2, 1, 2) = 3"
    at.toggle(key="play").set_value(False).run()
    assert at.code[0].value == "max(3, 2, 1, 2) = 3"
