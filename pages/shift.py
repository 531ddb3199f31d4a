"""Shift lab: is pooling invariant to shifts, rotations, flips and scale? Transform the input, pool
both, and count the output cells that match."""

import numpy as np
import streamlit as st

from pages.ui import controls, figures, views
from pages.ui.controls import choice_widget, integer_widget
from pages.ui.i18n import library_text, operator_name, t
from pages.ui.state import BOUND, FIELDS, LINK_KEY, SLIDING_KEYS, value
from pooling_core import OPERATORS, PoolingError, pool2d
from pooling_core.invariance import (
    SHIFT_PRESETS,
    SIDE_BY_SIDE,
    against_transformed,
    in_place,
    one_row_windows,
    shift,
    transform,
    up_to_shift,
)
from pooling_core.numbers import fmt

PRESET_KEY = "shift_preset"
GRID_HEIGHT, ROW_HEIGHT = 360, 150  # a 1-row input's figures need no more than a strip
APPLIED_KEY = "_shift_preset_applied"
SHIFT_KEYS = ("shift_dy", "shift_dx", "shift_mode", "shift_fill")


def preset_state(preset) -> dict:
    """The session-state values a preset sets: a typed grid, the operator, its window and the shift."""
    return {"source": "grid", "grid_text": preset.grid, "op": preset.op, "shift_transform": "shift",
            **{SLIDING_KEYS[name]: setting for name, setting in preset.settings.items()},
            **dict(zip(SHIFT_KEYS, preset.shift))}


def apply_preset() -> None:
    """Set the experiment's values (callbacks run before the widgets); the menu returns to its placeholder."""
    values = preset_state(SHIFT_PRESETS[st.session_state[PRESET_KEY]])
    st.session_state.update(values)
    st.session_state[APPLIED_KEY] = values
    st.session_state[PRESET_KEY] = None


def pooled_pair(op_id: str, x, moved, kwargs):
    """The outputs of the input and of the transformed input, or the library's message."""
    try:
        return pool2d(x, op_id, **kwargs).output, pool2d(moved, op_id, **kwargs).output, None
    except PoolingError as error:
        return None, None, library_text(error)


def count(match) -> str:
    return t("shift.count", matched=match.matched, total=match.total, percent=f"{100 * match.fraction:.0f}")


settings, source = controls.current()
st.title(t("shift.title"))
st.caption(t("shift.caption"))
st.selectbox(t("shift.experiment"), list(SHIFT_PRESETS), index=None, key=PRESET_KEY,
             format_func=lambda preset_id: t(f"shift.preset.{preset_id}.name"),
             placeholder=t("shift.experiment_placeholder"), on_change=apply_preset)
for preset in SHIFT_PRESETS.values():
    if all(value(key) == setting for key, setting in preset_state(preset).items()):
        st.info(t(f"shift.preset.{preset.id}.note"))
views.require_input(source)
x, channel_note = views.shown_plane(source, settings)

kind = choice_widget(st.radio, t("shift.transform_label"), "shift_transform", horizontal=True)
if kind == "shift":
    columns = st.columns(4)
    with columns[0]:
        dy = integer_widget(st.slider, t("shift.dy"), "shift_dy")
    with columns[1]:
        dx = integer_widget(st.slider, t("shift.dx"), "shift_dx")
    with columns[2]:
        mode = choice_widget(st.radio, t("shift.mode_label"), "shift_mode")
    with columns[3]:  # drawn in both modes, so that a value an experiment sets reaches the URL at once
        field = FIELDS["shift_fill"]
        fill = st.number_input(t("shift.fill"), field.low, field.high, field.default, key="shift_fill",
                               format="%g", disabled=mode != "fill", **BOUND)
    moved = shift(x, dy, dx, mode, fill)
    st.caption(t("shift.compare_shift"))
else:
    moved = transform(x, kind)
    st.caption(t(f"shift.compare_{kind}"))

kwargs = settings.pool_kwargs()
window = settings.window_kwargs()
if x.shape[0] == 1:
    kwargs, window = one_row_windows(kwargs), one_row_windows(window)
    st.caption(t("shift.one_row"))
height = ROW_HEIGHT if x.shape[0] == 1 else GRID_HEIGHT
stride = kwargs["stride"] if isinstance(kwargs["stride"], tuple) else (kwargs["stride"],) * 2


def compare(before, after):
    """The comparisons this transform calls for: ``(first, up_to_a_shift or None)``."""
    if kind == "shift":
        return in_place(before, after), up_to_shift(before, after, dy, dx, stride, mode)
    return against_transformed(before, after, kind), None


low, high = views.color_range(x, moved)
top = st.columns(3)
with top[0]:
    views.chart(views.heatmap(x, t("shift.input_title", channel=channel_note), low, high, show_scale=False,
                              height=height))
with top[1]:
    views.chart(views.heatmap(moved, t(f"shift.moved_title.{kind}"), low, high, show_scale=False, height=height))
if kind == "shift":
    input_match = in_place(x, moved)
    with top[2]:
        views.chart(views.heatmap(input_match.changed_map, t("shift.input_changed_title"), 0, 1,
                                  colorscale=figures.CHANGED, show_scale=False, height=height))

operator = settings.operator
st.subheader(operator_name(operator))
before, after, problem = pooled_pair(settings.op, x, moved, kwargs)
if problem:
    st.error(problem)
    st.stop()
first, shifted = compare(before, after)
out_low, out_high = views.color_range(before, after)
panels = [(before, t("shift.output_title"), out_low, out_high, figures.SEQUENTIAL),
          (after, t(f"shift.moved_output_title.{kind}"), out_low, out_high, figures.SEQUENTIAL),
          (first.changed_map, t(f"shift.changed_title.{kind}"), 0, 1, figures.CHANGED)]
if shifted is not None:
    panels.append((shifted.changed_map, t("shift.changed_up_to_shift_title", dy=shifted.offset[0],
                                          dx=shifted.offset[1]), 0, 1, figures.CHANGED))
for column, (values, title, zmin, zmax, scale) in zip(st.columns(4), panels):
    with column:
        views.chart(views.heatmap(values, title, zmin, zmax, colorscale=scale, show_scale=False, height=height))

metrics = st.columns(4)
if kind == "shift":
    metrics[0].metric(t("shift.input_changed"), t("shift.of", count=input_match.total - input_match.matched,
                                                  total=input_match.total))
    metrics[1].metric(t("shift.output_changed"), t("shift.of", count=first.total - first.matched, total=first.total))
    metrics[2].metric(t("shift.unchanged_up_to_shift", dy=shifted.offset[0], dx=shifted.offset[1]),
                      t("shift.of", count=shifted.matched, total=shifted.total))
else:
    metrics[0].metric(t("shift.matching"), t("shift.of", count=first.matched, total=first.total))
metrics[3].metric(t("shift.largest_change"), fmt(first.change))

st.subheader(t("shift.side_by_side"))
st.caption(t(f"shift.side_by_side_caption.{kind}"))
rows, maps, problems = [], [], []
for op_id in (op for op in SIDE_BY_SIDE if op in OPERATORS):
    op = OPERATORS[op_id]
    if op_id == settings.op:  # with the sidebar's parameters, as above
        op_kwargs = kwargs
    else:
        op_kwargs = window if op.supports_dilation else {**window, "dilation": 1}
    before, after, problem = pooled_pair(op_id, x, moved, op_kwargs)
    if problem:
        problems.append(t("shift.not_pooled", name=operator_name(op), problem=problem))
        continue
    first, shifted = compare(before, after)
    row = {t("shift.column_operator"): operator_name(op), t(f"shift.column_first.{kind}"): count(first)}
    if shifted is not None:
        row[t("shift.column_up_to_shift")] = count(shifted)
    row[t("shift.column_change")] = fmt(first.change)
    rows.append(row)
    maps.append((op_id, operator_name(op), first.difference))
st.dataframe(rows, hide_index=True)
for line in problems:
    st.caption(views.literal(line))
largest = max([1e-12, *(float(np.nanmax(d)) for _, _, d in maps if not np.isnan(d).all())])  # one scale
for column, (op_id, name, difference) in zip(st.columns(max(len(maps), 1)), maps):
    with column:
        views.chart(views.heatmap(difference, name, 0, largest,
                                  colorscale=figures.CHANGED, show_scale=False, height=min(height, 220)),
                    f"shift_changed_{op_id}")
if APPLIED_KEY in st.session_state:
    # A bound widget first drawn in this run (the typed grid) puts a value set from code into the URL only when
    # it is set again on a later run started by the browser: the next run's check_link does it, as for a link.
    st.session_state[LINK_KEY] = st.session_state.pop(APPLIED_KEY)
