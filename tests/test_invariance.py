"""Shifts, rotations, flips and rescaling of an input, and how its pooled output compares."""

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from pooling_core import PoolingError, parse_grid, pool2d
from pooling_core.invariance import (
    SHIFT_PRESETS,
    against_transformed,
    in_place,
    one_row_windows,
    output_offsets,
    same_values,
    shift,
    transform,
    up_to_shift,
)
from tests.strategies import SMALL_INTS, examples

GRIDS = hnp.arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 6)), elements=SMALL_INTS)


def shift_reference(x, dy, dx, mode, fill):
    """Cell by cell: output (i, j) reads input (i - dy, j - dx), wrapped or else ``fill``."""
    height, width = x.shape
    out = np.empty_like(x)
    for i in range(height):
        for j in range(width):
            r, c = i - dy, j - dx
            if mode == "circular":
                out[i, j] = x[r % height, c % width]
            else:
                out[i, j] = x[r, c] if 0 <= r < height and 0 <= c < width else fill
    return out


@examples(80)
@given(x=GRIDS, dy=st.integers(-7, 7), dx=st.integers(-7, 7), mode=st.sampled_from(["circular", "fill"]),
       fill=st.sampled_from([0.0, 0.3, -5.0]))
def test_shift_moves_every_cell_as_the_loop_does(x, dy, dx, mode, fill):
    np.testing.assert_array_equal(shift(x, dy, dx, mode, fill), shift_reference(x, dy, dx, mode, fill))


def test_shift_examples():
    np.testing.assert_array_equal(shift([[1, 2, 3]], 0, 1, "fill", 9), [[9, 1, 2]])
    np.testing.assert_array_equal(shift([[1, 2, 3]], 0, -1), [[2, 3, 1]])
    np.testing.assert_array_equal(shift([[1, 2], [3, 4]], 1, 0, "fill"), [[0, 0], [1, 2]])
    with pytest.raises(PoolingError, match="unknown shift mode 'wrap'"):
        shift([[1.0]], 0, 1, "wrap")


@examples(40)
@given(x=GRIDS)
def test_transforms_against_index_formulas(x):
    height, width = x.shape
    rot, lr, ud, big = (transform(x, kind) for kind in ("rot90", "flip_lr", "flip_ud", "rescale2"))
    assert rot.shape == (width, height) and big.shape == (2 * height, 2 * width)
    for i in range(height):
        for j in range(width):
            assert rot[width - 1 - j, i] == x[i, j]  # counter-clockwise: the right column becomes the top row
            assert lr[i, width - 1 - j] == x[i, j] and ud[height - 1 - i, j] == x[i, j]
            assert (big[2 * i:2 * i + 2, 2 * j:2 * j + 2] == x[i, j]).all()
    with pytest.raises(PoolingError, match="unknown transform 'rot45'"):
        transform(x, "rot45")


def test_same_values_forgives_rounding_only():
    assert same_values([1.0, 1e12, np.nan, 0.0], [1.0 + 1e-12, 1e12 + 1.0, np.nan, 1e-6]).tolist() == [
        True, True, True, False]


def test_in_place_counts_the_book_s_detector_values():
    match = in_place([[0.1, 1, 0.2, 0.1]], [[0.3, 0.1, 1, 0.2]])
    assert (match.matched, match.total, match.change) == (0, 4, pytest.approx(0.9))
    np.testing.assert_array_equal(match.changed_map, [[1, 1, 1, 1]])
    np.testing.assert_allclose(match.difference, [[0.2, 0.9, 0.8, 0.1]])


def test_output_offsets_are_the_nearest_whole_moves():
    assert output_offsets(1, 2) == (0, 1) and output_offsets(-1, 2) == (-1, 0)
    assert output_offsets(4, 2) == (2,) and output_offsets(0, 3) == (0,) and output_offsets(2, 1) == (2,)


def test_up_to_shift_finds_the_move_of_the_docstring_example():
    x = np.array([[0, 1, 0, 0, 0, 1, 0, 0]], float)
    kwargs = one_row_windows(dict(kernel_size=2, stride=2))
    before, after = pool2d(x, "max", **kwargs).output, pool2d(shift(x, 0, 1), "max", **kwargs).output
    np.testing.assert_array_equal([before[0], after[0]], [[1, 0, 1, 0], [0, 1, 0, 1]])
    assert in_place(before, after).matched == 0
    match = up_to_shift(before, after, 0, 1, (1, 2), "circular")
    assert (match.matched, match.total, match.offset) == (4, 4, (0, 1))


def test_up_to_shift_with_fill_compares_only_the_cells_that_landed():
    before, after = np.array([[1.0, 2, 3]]), np.array([[7.0, 1, 2]])
    match = up_to_shift(before, after, 0, 1, (1, 1), "fill")
    assert (match.matched, match.total, match.offset) == (2, 2, (0, 1))
    np.testing.assert_array_equal(match.changed_map, [[np.nan, 0, 0]])
    np.testing.assert_array_equal(match.difference, [[np.nan, 0, 0]])


@examples(40)
@given(data=st.data(), stride=st.integers(1, 3), op=st.sampled_from(["max", "avg"]))
def test_circular_shifts_by_whole_strides_move_the_output_exactly(data, stride, op):
    # Disjoint windows tiling the map: a shift by s * m cells moves every window by m.
    blocks = data.draw(st.tuples(st.integers(1, 3), st.integers(1, 3)))
    x = data.draw(hnp.arrays(np.float64, (blocks[0] * stride, blocks[1] * stride), elements=SMALL_INTS))
    dy, dx = stride * data.draw(st.integers(-3, 3)), stride * data.draw(st.integers(-3, 3))
    before = pool2d(x, op, kernel_size=stride).output
    after = pool2d(shift(x, dy, dx), op, kernel_size=stride).output
    match = up_to_shift(before, after, dy, dx, (stride, stride), "circular")
    assert match.fraction == 1.0 and match.offset == (dy // stride, dx // stride)


@examples(40)
@given(x=GRIDS, kind=st.sampled_from(["rot90", "flip_lr", "flip_ud", "rescale2"]),
       op=st.sampled_from(["global_max", "global_avg"]))
def test_global_pooling_is_invariant_to_every_transform(x, kind, op):
    assert against_transformed(pool2d(x, op).output, pool2d(transform(x, kind), op).output, kind).fraction == 1.0


@examples(40)
@given(data=st.data(), kind=st.sampled_from(["rot90", "flip_lr", "flip_ud"]))
def test_windows_tiling_the_map_commute_with_rotations_and_flips(data, kind):
    x = data.draw(hnp.arrays(np.float64, st.sampled_from([(2, 4), (4, 4), (6, 2)]), elements=SMALL_INTS))
    before = pool2d(x, "avg", kernel_size=2).output
    after = pool2d(transform(x, kind), "avg", kernel_size=2).output
    np.testing.assert_allclose(after, transform(before, kind))
    assert against_transformed(before, after, kind).fraction == 1.0


def test_windows_that_leave_a_row_out_do_not_commute_with_rotation():
    x = np.arange(9.0).reshape(3, 3)  # max 2x2 stride 2 reads only the top-left 2x2: rotation brings in the rest
    before, after = pool2d(x, "max").output, pool2d(transform(x, "rot90"), "max").output
    assert (before.item(), after.item()) == (4.0, 5.0)
    assert against_transformed(before, after, "rot90").matched == 0


def test_rescaling_compares_the_cells_both_maps_hold():
    x = np.array([[1.0, 2, 3], [4, 5, 6]])
    before = pool2d(x, "max").output  # [[5]]
    after = pool2d(transform(x, "rescale2"), "max").output  # the 4x6 map of 2x2 blocks gives x back
    np.testing.assert_array_equal(after, x)
    match = against_transformed(before, after, "rescale2")
    np.testing.assert_array_equal(match.compared, [[True, True, False], [True, True, False]])
    assert (match.matched, match.total) == (1, 4)


def test_one_row_windows_slide_along_the_row():
    assert one_row_windows(dict(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=True, p=2.0)) == dict(
        kernel_size=(1, 3), stride=(1, 2), padding=(0, 1), dilation=(1, 1), ceil_mode=True, p=2.0)


def book_preset(preset_id):
    preset = SHIFT_PRESETS[preset_id]
    x = parse_grid(preset.grid)
    moved = shift(x, *preset.shift)
    kwargs = one_row_windows(preset.settings)
    return x, moved, pool2d(x, preset.op, **kwargs).output, pool2d(moved, preset.op, **kwargs).output


def test_figure_9_8_every_detector_value_changes_half_the_pooled_ones_do():
    x, moved, before, after = book_preset("book_9_8")
    np.testing.assert_array_equal(moved, [[0.3, 0.1, 1, 0.2]])
    np.testing.assert_array_equal(before, [[1, 1, 1, 0.2]])
    np.testing.assert_array_equal(after, [[0.3, 1, 1, 1]])
    # The same numbers from PyTorch's 1-D max pooling with one cell of padding on each side.
    for row, pooled in ((x, before), (moved, after)):
        torch_pooled = F.max_pool1d(torch.tensor(row)[None], 3, 1, padding=1)[0].numpy()
        np.testing.assert_array_equal(torch_pooled, pooled)
    assert in_place(x, moved).matched == 0
    assert (in_place(before, after).total - in_place(before, after).matched) == 2


def test_figure_9_10_keeps_the_short_rightmost_window():
    x, _, before, _ = book_preset("book_9_10")
    np.testing.assert_array_equal(before, [[1, 0.2, 0.1]])
    torch_pooled = F.max_pool1d(torch.tensor(x)[None], 3, 2, ceil_mode=True)[0].numpy()
    np.testing.assert_array_equal(torch_pooled, before)


def test_the_checkerboard_preset_changes_half_the_max_pooled_cells_by_the_full_contrast():
    preset = SHIFT_PRESETS["checkerboard"]
    x = parse_grid(preset.grid)
    assert x.shape == (8, 8) and x[0, :4].tolist() == [1, 1, 0, 0]
    before, after = (pool2d(v, "max", **preset.settings).output for v in (x, shift(x, *preset.shift)))
    match = in_place(before, after)
    assert (match.matched, match.total, match.change) == (8, 16, 1.0)
    assert up_to_shift(before, after, 0, 1, (2, 2), "circular").matched == 8
