"""The labs through AppTest: the shift lab, Compare and Theory, values checked."""

import numpy as np
import pytest

from pooling_core import OPERATORS
from pooling_core.examples import load_example
from tests.apptest import decode, figure, figures, heatmap_values, run_app, shown

SHIFT = "pages/shift.py"


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def preset(at, preset_id: str):
    return at.selectbox(key="shift_preset").set_value(preset_id).run()


def test_figure_9_8_preset_reports_four_detector_values_and_two_pooled_values_changed():
    at = preset(run_app(SHIFT), "book_9_8")
    assert not at.exception
    assert at.text_area(key="grid_text").value == "0.1 1 0.2 0.1"
    assert (at.selectbox(key="op").value, at.slider(key="kernel").value, at.slider(key="stride").value,
            at.slider(key="padding").value) == ("max", 3, 1, 1)
    assert metrics(at) == {"Input cells changed": "4 of 4", "Output cells changed in place": "2 of 4",
                           "Unchanged up to a shift by (0, 1)": "3 of 3", "Largest change of a value": "0.8"}
    np.testing.assert_allclose(heatmap_values(figure(at, "Shifted input")), [[0.3, 0.1, 1, 0.2]])
    np.testing.assert_allclose(heatmap_values(figure(at, "Output of the input")), [[1, 1, 1, 0.2]])
    np.testing.assert_allclose(heatmap_values(figure(at, "Output of the shifted input")), [[0.3, 1, 1, 1]])
    np.testing.assert_array_equal(heatmap_values(figure(at, "Changed in place")), [[1, 0, 0, 1]])
    assert "Figure 9.8" in at.info[0].value and "padding 1" in at.info[0].value
    assert at.selectbox(key="shift_preset").value is None  # the menu returns to its placeholder


def test_figure_9_10_preset_keeps_the_short_window_in_ceil_mode():
    at = preset(run_app(SHIFT), "book_9_10")
    assert at.checkbox(key="ceil_mode").value is True
    np.testing.assert_allclose(heatmap_values(figure(at, "Output of the input")), [[1, 0.2, 0.1]])
    np.testing.assert_allclose(heatmap_values(figure(at, "Output of the shifted input")), [[1, 1, 0.1]])
    assert metrics(at)["Output cells changed in place"] == "1 of 3"


def side_by_side(at) -> dict[str, dict]:
    table = at.dataframe[0].value
    return {row["operator"]: row for _, row in table.iterrows()}


def test_max_pooling_stride_2_on_the_checkerboard_changes_half_the_cells_by_the_full_contrast():
    at = preset(run_app(SHIFT), "checkerboard")
    assert not at.exception
    assert metrics(at)["Output cells changed in place"] == "8 of 16"
    assert metrics(at)["Unchanged up to a shift by (0, 0)"] == "8 of 16"
    assert metrics(at)["Largest change of a value"] == "1"
    rows = side_by_side(at)
    assert rows["Max pooling"]["unchanged in place"] == "8 of 16 (50%)"
    assert rows["Max pooling"]["largest change"] == "1"
    assert rows["MaxBlurPool (max, then blur)"]["largest change"] == "0.25"  # Zhang's anti-aliasing: smaller changes
    blurred = heatmap_values(figure(at, "MaxBlurPool (max, then blur)"))
    assert (np.count_nonzero(blurred), blurred.max()) == (12, 0.25)
    np.testing.assert_array_equal(heatmap_values(figure(at, "Max pooling")),
                                  heatmap_values(figure(at, "Changed in place")))  # max's changes are all 1


@pytest.mark.skipif("aps" not in OPERATORS, reason="adaptive polyphase sampling is not registered")
@pytest.mark.parametrize("preset_id", ["checkerboard", "lines"])
def test_aps_is_unchanged_up_to_a_shift_under_circular_shifts(preset_id):
    at = preset(run_app(SHIFT), preset_id)
    row = side_by_side(at)[OPERATORS["aps"].name]
    assert row["unchanged up to a shift"].endswith("(100%)")


def test_thin_lines_change_every_cell_in_place_and_none_up_to_a_shift():
    at = preset(run_app(SHIFT), "lines")
    assert metrics(at)["Output cells changed in place"] == "8 of 8"
    assert metrics(at)["Unchanged up to a shift by (0, 1)"] == "8 of 8"
    np.testing.assert_array_equal(heatmap_values(figure(at, "Changed up to a shift")), np.zeros((2, 4)))


@pytest.mark.parametrize("kind, pooled", [("rot90", 5), ("flip_lr", 5), ("flip_ud", 7)])
def test_rotations_and_flips_on_a_map_whose_last_row_and_column_no_window_reads(kind, pooled):
    # 3x3 arange, max 2x2 stride 2: the one window reads the top-left 2x2 (max 4); transformed, other cells.
    at = run_app(SHIFT, source="grid", grid_text="0 1 2\n3 4 5\n6 7 8", shift_transform=kind)
    assert not at.exception
    assert heatmap_values(figure(at, "Output of the")).item() == 4
    assert heatmap_values(figures(at)[3]).item() == pooled  # input, transformed input, output, then this
    assert metrics(at)["Output cells that match"] == "0 of 1"


def test_global_pooling_is_invariant_to_rescaling_and_max_pooling_is_not():
    at = run_app(SHIFT, shift_transform="rescale2")
    # The textbook 4x4 rescaled and max-pooled gives itself back; only its maxima match 6 8 / 3 4 rescaled.
    assert metrics(at)["Output cells that match"] == "4 of 16"
    np.testing.assert_array_equal(heatmap_values(figure(at, "Output of the rescaled input")),
                                  [[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]])
    global_max = run_app(SHIFT, shift_transform="rescale2", op="global_max")
    assert metrics(global_max)["Output cells that match"] == "1 of 1"


def test_a_link_reproduces_the_lab_and_bad_values_are_replaced_with_a_notice():
    at = run_app(SHIFT, query={"shift_dx": "-2", "shift_dy": "1", "shift_mode": "fill", "shift_fill": "5"})
    assert not at.warning and at.slider(key="shift_dx").value == -2
    np.testing.assert_array_equal(heatmap_values(figure(at, "Shifted input"))[0], [5, 5, 5, 5])
    bad = run_app(SHIFT, query={"shift_dx": "99", "shift_mode": "wrap", "shift_transform": "rot45"})
    notices = shown(bad.warning[0].value)
    assert "shift_dx '99' is not available; using 8." in notices
    assert "shift_mode 'wrap' is not one of the choices; using Wrap around (circular)." in notices
    assert "shift_transform 'rot45' is not one of the choices; using Shift." in notices
    assert not bad.exception


def test_a_photo_is_shifted_and_its_maps_sent_as_pictures():
    at = run_app(SHIFT, example="Landscape photo")
    assert not at.exception
    x = load_example("Landscape photo")
    moved_away = np.count_nonzero(np.roll(x, 1, axis=1) != x)
    assert metrics(at)["Input cells changed"] == f"{moved_away} of {x.size}"
    assert all(trace["type"] == "image" for fig in figures(at) for trace in fig["data"])  # every map is a PNG


def test_settings_that_do_not_fit_show_the_library_s_message():
    at = run_app(SHIFT, kernel=2, padding=2)
    assert not at.exception
    assert "padding 2 is more than half the kernel 2" in at.error[0].value


COMPARE = "pages/compare.py"


def table_rows(at) -> dict[str, dict]:
    return {row["operator"]: row for _, row in at.dataframe[0].value.iterrows()}


def test_compare_summarises_each_output_against_max_pooling():
    at = run_app(COMPARE, compare_3="none", compare_4="none")
    assert not at.exception
    rows = table_rows(at)
    maximum, average = rows["Max pooling"], rows["Average pooling"]
    assert (maximum["output size"], maximum["mean"], maximum["maximum"]) == ("2x2", 5.25, 8.0)
    assert (average["mean"], average["maximum"]) == (3.125, 5.25)
    assert (maximum["cells equal to max pooling"], average["cells equal to max pooling"]) == ("100%", "0%")
    assert (average["mean |difference|"], average["largest |difference|"]) == (2.125, 2.75)
    np.testing.assert_allclose(heatmap_values(figures(at)[5]), [[-2.75, -2.75], [-1, -2]])  # avg minus max


def test_the_pinned_cell_selects_the_window_under_every_operator():
    at = run_app(COMPARE, cell=(1, 0), compare_3="none", compare_4="none")
    assert [c.value for c in at.main.code] == ["max(3, 2, 1, 2) = 3", "(3 + 2 + 1 + 2) / 4 = 2"]
    titles = [f["layout"]["title"]["text"] for f in figures(at)]
    assert "Window (1, 0) → 3" in titles and "Window (1, 0) → 2" in titles


def test_a_click_on_an_output_pins_its_cell():
    at = run_app(COMPARE, compare_3="none", compare_4="none")
    at.session_state["compare_output_1"] = {"selection": {"points": [{"customdata": {"0": 0, "1": 1}}]}}
    at.run()
    assert at.session_state["cell"] == (0, 1)
    assert at.code[0].value == "max(2, 4, 7, 8) = 8"


def test_an_output_of_another_size_gets_no_difference_map():
    at = run_app(COMPARE, compare_1="global_avg", compare_2="max", compare_3="none", compare_4="none")
    assert not at.exception
    assert any("another size" in c.value for c in at.caption)
    assert table_rows(at)["Global average pooling"]["cells equal to max pooling"] == "—"


def test_compare_from_a_link_and_with_nothing_chosen():
    at = run_app(COMPARE, query={"compare_1": "min", "compare_2": "nope", "compare_ref": "avg"})
    assert "compare_2 'nope' is not one of the choices; using Average pooling." in shown(at.warning[0].value)
    assert at.selectbox(key="compare_1").value == "min" and at.selectbox(key="compare_ref").value == "avg"
    assert table_rows(at)["Min pooling"]["largest |difference|"] == 3.25  # min 1 2 / 1 0 against 3.25 5.25 / 2 2
    empty = run_app(COMPARE, **{key: "none" for key in ("compare_1", "compare_2", "compare_3", "compare_4")})
    assert empty.info[0].value == "Choose at least one operator above."


THEORY = "pages/theory.py"


def test_theory_shows_the_exact_means_and_which_pooling_separates_better():
    at = run_app(THEORY)
    assert not at.exception
    values = metrics(at)
    assert values["Mean, average pooling, class 1"] == "0.1" and values["Mean, average pooling, class 2"] == "0.005"
    assert values["Mean, max pooling, class 1"] == f"{1 - 0.9**16:.4g}" == "0.8147"
    assert values["Mean, max pooling, class 2"] == f"{1 - 0.995**16:.4g}"
    psi_average = 0.095 * 4 / (0.3 + np.sqrt(0.005 * 0.995))
    assert values["ψ, average pooling"] == f"{psi_average:.4g}"
    assert at.success[0].value.startswith("With P = 16, max pooling separates the classes better")
    bars = [trace for trace in figure(at, "Max pooling")["data"] if trace["type"] == "bar"]
    np.testing.assert_allclose(decode(bars[0]["y"]), [0.9**16, 1 - 0.9**16])
    simulated = [trace for trace in figure(at, "Max pooling")["data"] if trace["type"] == "scatter"]
    assert abs(decode(simulated[0]["y"])[1] - (1 - 0.9**16)) < 5 * np.sqrt(0.15 / 2000)  # 2000 seeded pools


def test_a_larger_pool_makes_average_pooling_win_and_a_link_is_checked():
    at = run_app(THEORY, query={"theory_pool": "64"})
    assert at.info[0].value.startswith("With P = 64, average pooling separates the classes better")
    bad = run_app(THEORY, query={"theory_alpha1": "2", "theory_pool": "0"})
    notices = shown(bad.warning[0].value)
    assert "theory_alpha1 '2' is not available; using 1." in notices
    assert "theory_pool '0' is not available; using 1." in notices
    assert metrics(bad)["Mean, max pooling, class 1"] == "1" and not bad.exception
