"""The teaching pages through AppTest, one fresh app per page, values checked."""

import numpy as np
import pytest

from tests.apptest import component_data, decode, figure, figures, heatmap_values, run_app, trigger
from tests.strategies import TEXTBOOK

GRADIENTS = "pages/gradients.py"
UNPOOLING = "pages/unpooling.py"


def metric_values(at) -> list[float]:
    return [float(m.value) for m in at.metric]


@pytest.mark.parametrize("op", ["max", "avg"])
@pytest.mark.parametrize("upstream", ["ones", "random"])
def test_gradient_sums_equal_upstream_sums(op, upstream):
    at = run_app(GRADIENTS, op=op, upstream=upstream)
    assert not at.exception
    upstream_sum, gradient_sum = metric_values(at)
    assert upstream_sum == pytest.approx(gradient_sum)
    assert upstream_sum == (16 / 4 if upstream == "ones" else upstream_sum)


def test_max_gradient_of_one_cell_lands_on_its_maximum():
    at = run_app(GRADIENTS, upstream="cell", cell=(0, 1))
    gradient = heatmap_values(figure(at, "Input gradient"))
    expected = np.zeros((4, 4))
    expected[1, 3] = 1
    np.testing.assert_array_equal(gradient, expected)


def test_overlap_uncovered_and_tie_effects_are_explained():
    overlap = run_app(GRADIENTS, source="random", random_rows=5, random_cols=5, kernel=3, stride=2)
    assert any("Windows overlap: 9 cells" in m.value for m in overlap.markdown)
    gaps = run_app(GRADIENTS, kernel=1, stride=2)
    assert any("12 cells lie in no window (stride 2 is larger than kernel 1)" in m.value for m in gaps.markdown)
    tie = run_app(GRADIENTS, source="grid", grid_text="5 5\n1 2")
    assert any("1 window has a tie" in m.value for m in tie.markdown)
    np.testing.assert_array_equal(heatmap_values(figure(tie, "Input gradient")), [[1, 0], [0, 0]])


def test_aps_notes_count_only_the_cells_of_its_polyphase_component():
    # An APS window is k + s - 1 cells wide; its output reads the chosen component's k x k only.
    grid = "10 1 2 3\n4 5 6 7\n8 9 10 11\n12 13 14 15"
    at = run_app(GRADIENTS, op="aps", source="grid", grid_text=grid, kernel=2, stride=2)
    assert not any("overlap" in m.value or "tie" in m.value for m in at.markdown)  # the other 10 lies outside
    assert any("(APS) routes each window's gradient to its maximum only" in m.value for m in at.markdown)
    gaps = run_app(GRADIENTS, op="aps", source="grid", grid_text=grid, kernel=1, stride=2)
    assert any("12 cells lie in no window (stride 2 is larger than kernel 1)" in m.value for m in gaps.markdown)
    for kernel, overlap in ((2, False), (3, True)):  # the weights page's note counts the same cells
        weights = run_app(WEIGHTS, op="aps", source="grid", grid_text=grid, kernel=kernel, stride=2)
        assert any("Windows overlap" in c.value for c in weights.caption) == overlap


def test_softpool_table_shows_exact_gradient_and_official_rule():
    at = run_app(GRADIENTS, op="softpool")
    table = at.dataframe[0].value
    values, weights = table["a_i"].to_numpy(), table["w_i"].to_numpy()
    y = float((weights * values).sum())
    np.testing.assert_allclose(table["exact w_i(1 + (a_i − y)/T)"], weights * (1 + values - y))
    np.testing.assert_allclose(table["official rule w_i"], weights)
    assert table["exact w_i(1 + (a_i − y)/T)"].sum() == pytest.approx(1.0)


def test_unpooling_reconstruction_values_and_metrics():
    at = run_app(UNPOOLING)
    assert not at.exception
    expected = np.zeros((4, 4))
    expected[1, 1], expected[1, 3], expected[2, 0], expected[3, 3] = 6, 8, 3, 4
    np.testing.assert_array_equal(heatmap_values(figure(at, "Unpooled")), expected)
    np.testing.assert_array_equal(heatmap_values(figure(at, "Error")), TEXTBOOK - expected)
    row = at.dataframe[0].value.iloc[0]
    assert (row["reconstruction"], row["MSE"], row["cells exact"]) == ("max unpooling", 7.1875, "31.2%")
    data = component_data(at, "unpooling_inspector")  # the pooled map, each value's winner where it lands
    assert data["output"]["values"] == [[6, 8], [3, 4]]
    assert data["words"]["output_title"].startswith("Max pooled {rows}x{cols}")
    assert [w["winner"] for w in data["windows"]] == [[1, 1], [1, 3], [2, 0], [3, 3]]


def test_unpooling_odd_size_and_overlapping_windows():
    at = run_app(UNPOOLING, source="random", random_rows=5, random_cols=7, seed=3, kernel=3, stride=2)
    assert not at.exception
    assert heatmap_values(figure(at, "Unpooled")).shape == (5, 7)
    assert any("The input is 5x7" in i.value for i in at.info)


def test_unpooling_bad_settings_show_message():
    at = run_app(UNPOOLING, kernel=2, padding=2)
    assert not at.exception
    assert "padding 2 is more than half the kernel 2" in at.error[0].value


PYRAMID = "pages/pyramid.py"


def bar_values(fig: dict) -> np.ndarray:
    return np.asarray(decode(fig["data"][0]["y"]), dtype=np.float64)


def test_pyramid_vector_has_c_times_sum_of_squares_numbers():
    gray = run_app(PYRAMID)
    assert not gray.exception
    np.testing.assert_array_equal(bar_values(figure(gray, "The pooled vector")),
                                  np.concatenate([np.ravel(TEXTBOOK), [6, 8, 3, 4], [8]]))
    color = run_app(PYRAMID, example="Landscape photo", color_mode="rgb")
    assert bar_values(figure(color, "The pooled vector")).size == 3 * (16 + 4 + 1)


def test_pyramid_paper_recipe_reports_wrong_bin_count_and_bad_levels_are_messages():
    at = run_app(PYRAMID, spp_recipe="paper", source="random", random_rows=5, random_cols=5, spp_levels="3")
    assert "3 bins use window 2 and stride 1, which gives 4 bins, not 3" in at.warning[0].value
    bad = run_app(PYRAMID, spp_levels="4, two")
    assert not bad.exception
    assert "whole numbers" in bad.error[0].value


def test_lrn_and_bilinear_are_shown_for_colour_channels():
    at = run_app(PYRAMID, example="Landscape photo", color_mode="rgb")
    assert heatmap_values(figure(at, "Mean outer product")).shape == (3, 3)
    assert figure(at, "After LRN: Red") is not None


STOCHASTIC = "pages/stochastic.py"
WEIGHTS = "pages/weights.py"


def test_stochastic_histogram_counts_n_draws_and_mean_converges():
    at = run_app(STOCHASTIC, draw_count=10_000)
    assert not at.exception
    histogram = figure(at, "Window (0, 0)")
    probabilities, shares = (np.asarray(decode(trace["y"]), dtype=float) for trace in histogram["data"])
    np.testing.assert_allclose(probabilities, [1 / 13, 1 / 13, 5 / 13, 6 / 13])
    counts = shares * 10_000
    np.testing.assert_allclose(counts, np.round(counts), atol=1e-6)
    assert round(counts.sum()) == 10_000
    np.testing.assert_allclose(shares, probabilities, atol=0.02)
    mean = float(at.markdown[-1].value.split("mean **")[1].split("**")[0])
    assert mean == pytest.approx(63 / 13, abs=0.05)


def test_stochastic_sample_once_and_new_seed_change_the_train_map():
    at = run_app(STOCHASTIC, source="random", random_rows=8, random_cols=8)
    first = heatmap_values(figure(at, "Train output, seed 0"))
    at.button(key="sample_once").click().run()
    assert not at.exception
    assert at.number_input(key="draw_count").value == 1
    second = heatmap_values(figure(at, "Train output, seed 1"))
    assert not np.array_equal(first, second)
    grid = np.random.default_rng(0).integers(0, 10, (8, 8)).astype(float)
    windows = grid.reshape(4, 2, 4, 2).transpose(0, 2, 1, 3).reshape(4, 4, 4)
    assert all(second[i, j] in windows[i, j] for i in range(4) for j in range(4))


def test_stochastic_negative_input_shows_relu_notice_and_map():
    at = run_app(STOCHASTIC, source="grid", grid_text="1 -2\n3 4")
    assert "ReLU was applied to 1 negative cell" in at.warning[0].value
    np.testing.assert_array_equal(heatmap_values(figure(at, "After ReLU")), [[1, 0], [3, 4]])


def test_stochastic_all_zero_window_says_nothing_can_be_drawn():
    at = run_app(STOCHASTIC, source="grid", grid_text="0 0\n0 0")
    assert not at.exception
    assert "nothing can be drawn" in at.info[0].value


def test_weights_of_max_and_average_for_the_selected_window():
    top = run_app(WEIGHTS, cell=(1, 1))
    np.testing.assert_array_equal(heatmap_values(figure(top, "Window (1, 1) weights")), [[0, 0], [0, 1]])
    mean = run_app(WEIGHTS, op="avg")
    np.testing.assert_array_equal(heatmap_values(figure(mean, "Weight of each input cell")), np.full((4, 4), 0.25))


def test_weights_page_compares_every_weighted_operator_and_morphs_softpool():
    at = run_app(WEIGHTS, **{"morph.softpool.temperature": -2.0})
    assert not at.exception
    titles = [f["layout"]["title"]["text"] for f in figures(at)]
    assert "softpool: y = 6" in titles
    assert "avg: y = 3.25" in titles
    warm = run_app(WEIGHTS, **{"morph.softpool.temperature": 2.0})
    softpool = figure(warm, "softpool: y = ")
    np.testing.assert_allclose(heatmap_values(softpool), 0.25, atol=0.01)


def test_weights_page_explains_an_operator_without_weights():
    at = run_app(WEIGHTS, op="lp")
    assert not at.exception
    assert "has no weights" in at.info[0].value


def test_the_gradient_inspector_says_where_each_output_s_gradient_goes():
    data = component_data(run_app(GRADIENTS, op="avg", cell=(1, 0)), "gradient_inspector")
    assert data["pinned"] == [1, 0]
    assert data["windows"][2]["gradient"] == [[2, 0, 0.25], [2, 1, 0.25], [3, 0, 0.25], [3, 1, 0.25]]
    assert data["windows"][2]["text"] == "(3 + 2 + 1 + 2) / 4 = 2"


def test_the_stochastic_inspector_carries_each_window_s_probabilities_and_the_eval_output():
    data = component_data(run_app(STOCHASTIC, cell=(0, 1)), "stochastic_inspector")
    assert data["pinned"] == [0, 1] and data["words"]["output_title"].startswith("Eval output Σpa")
    np.testing.assert_allclose(data["output"]["values"][0][0], 63 / 13, rtol=1e-5)  # (1 + 1 + 25 + 36) / 13
    np.testing.assert_allclose(data["windows"][0]["weights"], [1 / 13, 1 / 13, 5 / 13, 6 / 13], rtol=1e-5)


def test_the_weights_inspector_follows_the_pinned_cell_and_python_s_window_with_it():
    at = trigger(run_app(WEIGHTS, op="avg"), "pin", [1, 1], key="weights_inspector")
    assert component_data(at, "weights_inspector")["pinned"] == [1, 1]
    assert component_data(at, "weights_inspector")["windows"][3]["weights"] == [0.25] * 4
    assert figure(at, "Window (1, 1) weights") is not None and at.code[0].value == "(1 + 0 + 3 + 4) / 4 = 2"
