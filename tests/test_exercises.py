"""The pooling chapter's exercises: the library's computations against PyTorch, and the page's
checks, right and wrong, in both languages."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from pooling_core import exercises as ex
from tests.apptest import run_app
from tests.strategies import FLOATS_10, FLOATS_100, TEXTBOOK, TIGHT, examples, sliding_cases, t

PAGE = "pages/exercises.py"


def plane_case(case):
    x, kw = case
    return x[0, 0], dict(kernel_size=kw["kernel_size"], stride=kw["stride"], padding=kw["padding"])


@examples(60)
@given(sliding_cases(FLOATS_100, dilation=False, ceil=False))
def test_average_pooling_is_the_convolution_with_the_average_kernel(case):
    x, kw = plane_case(case)
    expected = F.avg_pool2d(t(x)[None, None], **kw, count_include_pad=True)[0, 0].numpy()
    np.testing.assert_allclose(ex.average_as_convolution(x, **kw), expected, **TIGHT)
    kh, kw_ = kw["kernel_size"]
    assert ex.average_kernel(kw["kernel_size"]).shape == (kh, kw_)
    assert ex.average_kernel(kw["kernel_size"]).sum() == pytest.approx(1)


@given(FLOATS_100, FLOATS_100)
def test_max_of_two_is_relu_of_the_difference_plus_b(a, b):
    expected = torch.maximum(torch.tensor(a, dtype=torch.float64), torch.tensor(b, dtype=torch.float64))
    assert ex.relu_max(a, b) == pytest.approx(float(expected), abs=1e-12)


@given(st.lists(FLOATS_100, min_size=1, max_size=12))
def test_a_windows_max_by_pairwise_relu(values):
    assert ex.max_by_relu(values) == pytest.approx(max(values), abs=1e-9)


@examples(40)
@given(sliding_cases(FLOATS_10, dilation=False, ceil=False))
def test_min_pooling_is_minus_max_of_minus_x_and_max_pooling_is_not_linear(case):
    x, kw = plane_case(case)
    expected = -F.max_pool2d(-t(x)[None, None], **kw)[0, 0].numpy()
    np.testing.assert_array_equal(ex.min_from_max(x, **kw), expected)
    summed, of_sum = ex.pooling_is_not_linear(x, **kw)
    maxima = F.max_pool2d(t(x)[None, None], **kw)[0, 0].numpy()
    np.testing.assert_allclose(summed, maxima - expected, **TIGHT)  # max(x) + max(-x) = max - min
    np.testing.assert_array_equal(of_sum, np.zeros_like(maxima))


def test_pooling_is_not_linear_on_the_textbook_grid():
    summed, of_sum = ex.pooling_is_not_linear(TEXTBOOK, kernel_size=2)
    np.testing.assert_array_equal(summed, [[5, 6], [2, 4]])  # window max minus window min
    np.testing.assert_array_equal(of_sum, [[0, 0], [0, 0]])


def test_softpools_temperature_moves_it_from_max_to_the_mean():
    outputs = ex.softpool_path(TEXTBOOK, [1e-3, 0.5, 1, 2, 10, 1e3], kernel_size=2)[:, 0, 0]
    assert outputs[0] == pytest.approx(6, abs=1e-9) and outputs[-1] == pytest.approx(3.25, abs=1e-2)
    assert np.all(np.diff(outputs) < 0) and np.all((3.25 <= outputs) & (outputs <= 6))
    window = np.array([1, 1, 5, 6.0])
    softmax = torch.softmax(torch.tensor(window), 0).numpy()
    assert outputs[2] == pytest.approx(float(softmax @ window), abs=1e-12)


@pytest.mark.parametrize(("args", "expected"), [
    ((3, 32, 32, 2, 2, 0), (16, 16, 768, 3072, 2304)),
    ((1, 4, 4, 3, 1, 1), (4, 4, 16, 144, 128)),
    ((64, 7, 7, 3, 2, 0), (3, 3, 576, 5184, 4608)),
])
def test_the_cost_of_pooling(args, expected):
    c, h, w, p, s, padding = args
    cost = ex.pooling_cost(c, h, w, p, s, padding)
    assert (cost.height, cost.width, cost.outputs, cost.reads, cost.comparisons) == expected
    out = F.max_pool2d(torch.zeros(1, c, h, w), p, s, padding)
    assert out.numel() == cost.outputs


# ---------------------------------------------------------------------------------------------- the page

def answer(at, number: int, value):
    at.number_input(key=f"exercise_{number}_answer").set_value(value)
    return at.button(key=f"exercise_{number}_check").click().run()


def test_the_page_shows_five_exercises_from_the_chapter():
    at = run_app(PAGE)
    assert not at.exception and not at.error
    assert [s.value for s in at.subheader] == [
        "1. Average pooling as a convolution", "2. Max pooling is not a convolution", "3. Min pooling from max pooling",
        "4. Between average and max: the softmax", "5. The cost of pooling"]


@pytest.mark.parametrize(("number", "right", "wrong", "value"), [
    (1, 0.25, 0.5, "0.25"),   # 2x2 kernel: 1/4
    (2, 5, 3, "5"),           # a = 3, b = 5
    (3, 1, 6, "1"),           # min of the window 1, 1, 5, 6
    (5, 2304, 3072, "2304"),  # 3 x 16 x 16 outputs, 3 comparisons each
])
def test_each_check_says_right_or_wrong_with_the_value(number, right, wrong, value):
    at = answer(run_app(PAGE), number, right)
    assert [s.value for s in at.success] == [f"Right: {value} (answers within ±0.01 count)."]
    at = answer(at, number, wrong)
    assert [e.value for e in at.error] == [f"Not quite: you said {wrong:g}, it is {value}."]


def test_a_check_without_an_answer_asks_for_one():
    at = run_app(PAGE).button(key="exercise_3_check").click().run()
    assert [w.value for w in at.warning] == ["Type a number first."]


def test_the_checks_follow_the_sidebar_and_the_students_numbers():
    at = run_app(PAGE, kernel=3, stride=1)
    assert answer(at, 1, 1 / 9).success  # a 3x3 kernel's weight
    at.number_input(key="exercise_2_a").set_value(-2.0)
    at.number_input(key="exercise_2_b").set_value(-7.0).run()
    assert "Right: -2 (answers within ±0.01 count)." in [s.value for s in answer(at, 2, -2).success]
    at.number_input(key="exercise_5_p").set_value(3)
    at = at.number_input(key="exercise_5_s").set_value(1).run()
    assert "**21600**" in " ".join(m.value for m in at.markdown)  # 3 x 30 x 30 outputs x 8 comparisons


def test_the_softpool_question():
    at = run_app(PAGE)
    at = at.radio(key="exercise_4_answer").set_value("max").run()
    assert [s.value for s in at.success] == ["Right: at T = 0.001 it gives 6, at T = 1000 3.255."]
    at = at.radio(key="exercise_4_answer").set_value("avg").run()
    assert at.error[0].value.startswith("Not quite: at T = 0.001 it gives 6")


def test_show_it_opens_the_page_with_the_operator():
    at = run_app("app.py")  # the page list comes from app.py's navigation
    at.switch_page(PAGE).run()
    at = at.button(key="exercise_1_go").click().run()
    assert not at.exception
    assert at.session_state["op"] == "avg" and at.title[0].value == "Explore pooling"


def test_the_exercises_in_chinese(monkeypatch):
    monkeypatch.setattr("pages.ui.i18n.language", lambda: "zh")
    at = answer(run_app(PAGE, query={"lang": "zh"}), 1, 0.5)
    assert at.subheader[0].value == "1. 把平均池化写成卷积"
    assert [e.value for e in at.error] == ["不对：你答的是 0.5，正确值是 0.25。"]
