"""Min pooling against PyTorch (``-F.max_pool2d(-x)`` in values, indices and gradient), and on every page."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from pooling_core import input_gradient, pool2d
from pooling_core.explain import tied_windows, window_report
from tests.apptest import figure, heatmap_values, inspector_output, run_app
from tests.strategies import TEXTBOOK, sliding_cases, t

FLOATS = st.floats(-1e6, 1e6, allow_nan=False)


@settings(max_examples=150, deadline=None)
@given(case=sliding_cases(FLOATS))
def test_min_equals_negated_max_of_the_negated_input(case):
    x, kwargs = case
    result = pool2d(x, "min", **kwargs)
    expected, indices = F.max_pool2d(-t(x), **kwargs, return_indices=True)
    np.testing.assert_array_equal(result.output, -expected.numpy())
    np.testing.assert_array_equal(result.indices, indices.numpy())
    np.testing.assert_array_equal(result.weights.sum((-1, -2)), 1.0)


@settings(max_examples=100, deadline=None)
@given(case=sliding_cases(FLOATS), seed=st.integers(0, 2**32 - 1))
def test_min_gradient_goes_to_the_first_minimum_like_autograd(case, seed):
    x, kwargs = case
    source = -t(x).clone().requires_grad_(True)
    output = -F.max_pool2d(source, **kwargs)
    upstream = np.random.default_rng(seed).normal(size=tuple(output.shape))
    (expected,) = torch.autograd.grad(output, source, t(upstream))
    np.testing.assert_array_equal(input_gradient(x, "min", upstream, **kwargs), -expected.numpy())


def test_min_of_the_textbook_grid_with_its_arithmetic():
    result = pool2d(TEXTBOOK, "min")
    np.testing.assert_array_equal(result.output, [[1, 2], [1, 0]])
    assert window_report(result, TEXTBOOK, 0, 0).text == "min(1, 1, 5, 6) = 1"
    np.testing.assert_array_equal(input_gradient(TEXTBOOK, "min"),
                                  [[1, 0, 1, 0], [0, 0, 0, 0], [0, 0, 0, 1], [1, 0, 0, 0]])
    assert not np.signbit(input_gradient(TEXTBOOK, "min")).any()  # 0, never -0


def test_min_ties_and_nan_follow_pytorch():
    x = np.array([[2.0, 1.0, 1.0, np.nan], [1.0, 3.0, 4.0, 5.0]])
    result = pool2d(x, "min")
    np.testing.assert_array_equal(result.indices, [[1, 3]])  # first minimum in reading order; NaN wins
    assert np.isnan(result.output[0, 1])
    np.testing.assert_array_equal(tied_windows(result, x, "min"), [[True, False]])
    np.testing.assert_array_equal(tied_windows(result, x, "max"), [[False, False]])


# ---------------------------------------------------------------- min pooling on every page, with no page edit


def test_explore_shows_min_pooling_and_its_arithmetic():
    at = run_app(op="min")
    assert not at.exception and not at.error
    np.testing.assert_array_equal(inspector_output(at), [[1, 2], [1, 0]])
    assert at.code[0].value == "min(1, 1, 5, 6) = 1"


def test_the_gradient_page_speaks_of_the_minimum():
    tied = [m.value for m in run_app("pages/gradients.py", op="min").markdown]
    assert any("1 window has a tie for the minimum (the first is output (0, 0)): the whole gradient goes to the "
               "first minimum in reading order" in m for m in tied)
    distinct = run_app("pages/gradients.py", op="min", source="grid", grid_text="4 3\n2 1")
    notes = [m.value for m in distinct.markdown]
    assert any("Min pooling routes each window's gradient to its minimum only" in m for m in notes)
    assert not any("maximum" in m for m in notes)
    np.testing.assert_array_equal(heatmap_values(figure(distinct, "Input gradient")), [[0, 0], [0, 1]])


def test_the_weights_page_puts_the_minimum_weight_on_one_cell():
    at = run_app("pages/weights.py", op="min", cell=(1, 1))
    np.testing.assert_array_equal(heatmap_values(figure(at, "Window (1, 1) weights")), [[0, 1], [0, 0]])
    assert figure(at, "min: y = 0") is not None


@pytest.mark.parametrize("page", ["pages/stochastic.py", "pages/unpooling.py", "pages/pyramid.py"])
def test_pages_with_operators_of_their_own_run_with_min_chosen(page):
    at = run_app(page, op="min")
    assert not at.exception and not at.error
