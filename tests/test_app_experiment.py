"""The which-pooling page with the shipped reference (no training here): its numbers, charts,
confusion matrix, published figures, PyTorch code, both languages, and the page list."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pages.ui.figures import label_positions
from pooling_core import OPERATORS
from tests.apptest import figure, heatmap_values, run_app
from tests.browser import ROOT

PAGE = "pages/experiment.py"
REFERENCE = json.loads((ROOT / "assets" / "which_pooling_reference.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def english():
    return run_app(PAGE, query={"lang": "en"})


def test_the_shipped_reference_is_shown_and_says_where_it_comes_from(english):
    assert not english.exception and not english.error
    assert "python -m pooling_core.experiments.which_pooling --seed 0" in english.info[0].value
    assert "shipped reference" in english.info[0].value


def test_the_reference_was_made_by_the_command_with_the_full_budget():
    assert REFERENCE["seed"] == 0 and not REFERENCE["cancelled"]
    assert REFERENCE["budget"] | {"quick": False, "epochs": 15} == REFERENCE["budget"]
    assert set(REFERENCE["operators"]) >= {"max", "avg", "lp", "softpool", "lip", "stochastic", "mixed", "blur_max",
                                           "aps"}
    assert REFERENCE["operators"]["aps"]["consistency"] == 1.0


def test_the_scatter_has_one_point_per_operator_at_its_accuracy_and_consistency(english):
    [trace] = figure(english, "Accuracy against shift consistency")["data"]
    assert trace["text"] == list(REFERENCE["operators"])
    assert trace["hovertext"] == [OPERATORS[op].name for op in REFERENCE["operators"]]
    np.testing.assert_allclose(trace["x"], [r["accuracy"] for r in REFERENCE["operators"].values()])
    np.testing.assert_allclose(trace["y"], [r["consistency"] for r in REFERENCE["operators"].values()])
    assert trace["y"][trace["text"].index("aps")] == 1.0
    # max and LIP share an accuracy, their consistencies 0.01 apart: one label below, one above.
    positions = dict(zip(trace["text"], trace["textposition"]))
    assert (positions["max"], positions["lip"]) == ("bottom center", "top center")
    assert positions["avg"] == "top center"


def test_labels_of_coinciding_or_side_by_side_points_go_to_opposite_sides():
    assert label_positions([0.5, 0.5], [0.8, 0.8]) == ["top center", "bottom center"]
    assert label_positions([0.0, 0.01, 1.0], [0.5, 0.5, 0.0]) == ["middle left", "middle right", "top center"]
    assert label_positions([1.0], [2.0]) == ["top center"]


def test_the_table_and_curves_hold_every_operator(english):
    table = english.dataframe[0].value
    assert list(table["Operator"]) == [OPERATORS[op].name for op in REFERENCE["operators"]]
    assert list(table["Parameters"]) == [r["parameters"] for r in REFERENCE["operators"].values()]
    curves = figure(english, "Test accuracy per epoch")["data"]
    assert [c["name"] for c in curves] == list(table["Operator"])
    assert all(len(c["y"]) == REFERENCE["budget"]["epochs"] for c in curves)


def test_the_confusion_matrix_follows_the_pinned_operator():
    at = run_app(PAGE, query={"lang": "en"})
    first = next(iter(REFERENCE["operators"]))
    shown = heatmap_values(figure(at, OPERATORS[first].name + ": true class"))
    np.testing.assert_array_equal(shown, REFERENCE["operators"][first]["confusion"])
    at.selectbox(key="experiment_pinned").set_value("aps").run()
    shown = heatmap_values(figure(at, OPERATORS["aps"].name + ": true class"))
    np.testing.assert_array_equal(shown, REFERENCE["operators"]["aps"]["confusion"])
    assert shown.sum() == 360  # the test split


def test_published_figures_are_given_with_their_sources(english):
    published = next(m.value for m in english.markdown if "89.2%" in m.value)
    for number in ("91.3%", "76.4%", "78.2%", "70.89%", "70.56%", "71.19%", "71.23%"):
        assert number in published
    assert "Zhang" in published and "Gao" in published and "Stergiou" in published
    assert any("tiny digits" in m.value and "CPU" in m.value for m in english.markdown)


def test_the_code_block_is_the_sidebars_operator_in_pytorch():
    at = run_app(PAGE, query={"lang": "en"}, kernel=3, stride=2)
    assert at.code[0].value == ("import torch.nn.functional as F\n\n"
                                "y = F.max_pool2d(x, kernel_size=3, stride=2, padding=0, dilation=1, ceil_mode=False)")
    at = run_app(PAGE, query={"lang": "en"}, op="softpool")
    assert 'Pool2d("softpool", kernel_size=2, stride=2' in at.code[0].value


def test_the_page_speaks_chinese():
    # Its texts are checked for English words, as every page's, in tests/test_i18n.py.
    at = run_app(PAGE, query={"lang": "zh"})
    assert not at.exception
    assert at.title[0].value == "我该用哪种池化？"


def test_the_app_lists_the_page():
    source = (ROOT / "app.py").read_text(encoding="utf-8")
    assert 'st.Page("pages/experiment.py", title=t("experiment.nav")' in source
