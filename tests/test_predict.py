"""Predict, then reveal on Explore: the size question, right and wrong values, every operator, and
an inspector that carries nothing of the hidden output."""

import numpy as np
import pytest

from pages.ui.predict import TOLERANCE, grade
from pooling_core import OPERATORS, pool2d
from pooling_core.examples import load_example
from pooling_core.numbers import fmt
from tests.apptest import component_data, run_app, shown
from tests.strategies import TEXTBOOK_TEXT

TEXTBOOK = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]], float)


def key_starting(at, prefix: str) -> str:
    (key,) = [w.key for w in at.number_input if w.key.startswith(prefix)] or [
        w.key for w in at.text_area if w.key.startswith(prefix)]
    return key


def answer_shape(at, rows: int, cols: int):
    at.number_input(key=key_starting(at, "predict_rows")).set_value(rows)
    at.number_input(key=key_starting(at, "predict_cols")).set_value(cols)
    return at.button(key="predict_check_shape").click().run()


def predicting(**state):
    return run_app(predict=True, source="grid", grid_text=TEXTBOOK_TEXT, **state)


def test_the_size_comes_before_the_output_and_is_checked_against_the_formula():
    at = predicting(kernel=3, stride=1)
    assert not at.exception
    assert at.subheader[0].value == "What size is the output?"
    assert "output" not in component_data(at) and not at.main.code  # no output, no arithmetic, no formula yet
    assert not at.latex
    at = answer_shape(at, 2, 2)
    assert at.success[0].value == "Right: the output is 2x2."
    assert r"\left\lfloor\frac{4 + 2\cdot0 - 1\cdot(3-1) - 1}{1}\right\rfloor + 1 = 2" in at.latex[0].value
    assert "Your score this session: 1 of 1 right." in [c.value for c in at.caption]


def test_a_wrong_size_is_named_with_the_right_one():
    at = answer_shape(predicting(), 3, 3)
    assert at.error[0].value == "Not quite: you said 3x3, the output is 2x2."
    assert component_data(at)["output"]["rows"] == 2  # the output is drawn now, its values hidden


def test_a_size_needs_both_numbers():
    at = predicting()
    at.number_input(key=key_starting(at, "predict_rows")).set_value(2)
    at = at.button(key="predict_check_shape").click().run()
    assert at.warning[0].value == "Type both the rows and the columns first."
    assert "output" not in component_data(at)


def test_the_hidden_output_leaves_nothing_in_the_inspector_payload():
    at = answer_shape(predicting(op="max"), 2, 2)
    data = component_data(at)
    assert data["output"]["values"] == [[None, None], [None, None]]
    assert data["output"]["text"] == [["?", "?"], ["?", "?"]]
    assert all(set(w) == {"cells", "text"} for w in data["windows"])  # no winner, no weights
    assert {w["text"] for w in data["windows"]} == {"Predict this cell's value below, then reveal."}
    assert data["scale"]["max"] == 8  # the input's scale
    assert [c.language for c in at.main.code] == ["python"]  # the PyTorch code, no arithmetic
    assert "6" not in str(data["output"]) and "max(" not in str(data)


def reveal_cell(at, value: float):
    at.number_input(key=key_starting(at, "predict_cell")).set_value(value)
    return at.button(key="predict_reveal").click().run()


def test_a_right_answer_within_the_tolerance():
    at = reveal_cell(answer_shape(predicting(op="avg"), 2, 2), 3.255)
    assert at.success[-1].value == "1 of 1 right (within ±0.01)."
    table = at.table[0].value
    assert table.iloc[0].tolist() == ["(0, 0)", "3.255", "3.25", "✓ right", "(1 + 1 + 5 + 6) / 4 = 3.25"]
    assert "Your score this session: 2 of 2 right." in [c.value for c in at.caption]
    np.testing.assert_array_equal(component_data(at)["output"]["values"], [[3.25, 5.25], [2, 2]])  # revealed


def test_a_wrong_answer_shows_the_value_and_its_arithmetic():
    at = answer_shape(predicting(op="max", cell=(0, 1)), 2, 2)
    at = reveal_cell(at, 7)
    assert at.error[-1].value == "0 of 1 right (within ±0.01)."
    assert at.table[0].value.iloc[0].tolist() == ["(0, 1)", "7", "8", "✗ wrong", "max(2, 4, 7, 8) = 8"]
    assert "Your score this session: 1 of 2 right." in [c.value for c in at.caption]


def test_reveal_without_an_answer_asks_for_one():
    at = answer_shape(predicting(), 2, 2).button(key="predict_reveal").click().run()
    assert at.warning[0].value == "Type a value first." and component_data(at)["output"]["values"][0] == [None, None]


def test_predict_again_hides_the_values_once_more():
    at = reveal_cell(answer_shape(predicting(), 2, 2), 6)
    at = at.button(key="predict_again").click().run()
    assert component_data(at)["output"]["values"] == [[None, None], [None, None]] and not at.table


def whole(at, text: str):
    at.radio(key="predict_how").set_value("all").run()
    at.text_area(key=key_starting(at, "predict_grid")).input(text)
    return at.button(key="predict_reveal").click().run()


def test_the_whole_output_at_once_with_one_wrong_cell():
    at = whole(answer_shape(predicting(op="avg"), 2, 2), "3.25 5.25\n2 2.5")
    assert at.error[-1].value == "3 of 4 right (within ±0.01)."
    assert at.table[0].value["Verdict"].tolist() == ["✓ right", "✓ right", "✓ right", "✗ wrong"]
    assert at.table[0].value["Value"].tolist() == ["3.25", "5.25", "2", "2"]


def test_a_typed_output_of_the_wrong_size_is_a_message():
    at = answer_shape(predicting(), 2, 2)
    at.radio(key="predict_how").set_value("all").run()
    at = at.text_area(key=key_starting(at, "predict_grid")).input("6 8 1").run()
    assert shown(at.error[0].value) == "The output has 2 rows and 2 columns; you typed 1 by 3."
    at = at.button(key="predict_reveal").click().run()
    assert not at.table and not at.exception


def grid_text(output: np.ndarray) -> str:
    return "\n".join(" ".join(f"{v:.10g}" for v in row) for row in output)


@pytest.mark.parametrize("op_id", sorted(OPERATORS))
def test_every_operator_can_be_predicted_and_random_ones_ask_for_the_expectation(op_id):
    op = OPERATORS[op_id]
    mode = {"mode": "train"} if op.expectation else {}  # the sidebar says train; the question is the expectation
    at = predicting(op=op_id, **{f"{op_id}.{name}": v for name, v in mode.items()})
    assert not at.exception
    expected = pool2d(TEXTBOOK, op_id, **(op.expectation or {})).output
    at = answer_shape(at, *expected.shape)
    assert at.success[0].value == f"Right: the output is {expected.shape[0]}x{expected.shape[1]}."
    notes = [i.value for i in at.info]
    assert (any("expected value" in note for note in notes)) == bool(op.expectation)
    at = whole(at, grid_text(expected)) if expected.size > 1 else reveal_cell(at, float(expected[0, 0]))
    assert not at.exception
    assert at.success[-1].value == f"{expected.size} of {expected.size} right (within ±0.01)."


def test_grade_uses_the_windows_arithmetic_and_the_stated_tolerance():
    result = pool2d(TEXTBOOK, "avg")
    graded = grade(result, TEXTBOOK, {(0, 0): 3.25 + TOLERANCE, (1, 1): 2 + 1.5 * TOLERANCE})
    assert [(g.cell, g.value, g.right) for g in graded] == [((0, 0), 3.25, True), ((1, 1), 2.0, False)]
    assert graded[0].text == "(1 + 1 + 5 + 6) / 4 = 3.25"


def test_predict_mode_in_chinese(monkeypatch):
    # AppTest formats the radios' values outside a run, where the session's language is unknown.
    monkeypatch.setattr("pages.ui.i18n.language", lambda: "zh")
    at = answer_shape(run_app(query={"lang": "zh", "predict": "on"}), 2, 2)
    at = reveal_cell(at, 5)
    assert at.subheader[0].value == "输出是多大？"
    assert at.error[-1].value == "答对 0 个，共 1 个（误差 ±0.01 以内）。"
    assert at.table[0].value.iloc[0].tolist() == ["(0, 0)", "5", "6", "✗ 错", "max(1, 1, 5, 6) = 6"]


def test_a_colour_photo_is_predicted_one_cell_at_a_time_with_a_grey_picture():
    at = run_app(predict=True, example="Landscape photo", color_mode="rgb", channel="green", kernel=4, stride=4)
    at = answer_shape(at, 64, 64)
    data = component_data(at)
    assert data["mode"] == "picture" and "predict_how" not in [r.key for r in at.radio]  # too many cells to type
    assert [set(d) for d in data["details"]] == [{"cells", "text"}]
    assert data["details"][0]["text"] == "Predict this cell's value below, then reveal."
    expected = pool2d(load_example("Landscape photo", "RGB")[1], "max", kernel_size=4).output[0, 0]
    at = reveal_cell(at, float(expected))
    assert at.success[-1].value == "1 of 1 right (within ±0.01)."
    assert at.table[0].value["Value"].tolist() == [fmt(expected)]
