"""Compare: up to four operators on the same input and window, on one colour scale."""

import numpy as np
import streamlit as st

from pages.ui import controls, figures, views
from pages.ui.controls import choice_widget
from pages.ui.i18n import library_text, operator_name, t
from pages.ui.state import COMPARE_KEYS, NO_OPERATOR
from pooling_core import OPERATORS, PoolingError, pool2d
from pooling_core.explain import window_report
from pooling_core.invariance import same_values
from pooling_core.numbers import fmt

CHART_KEY = "compare_output_{index}"


def pooled(op_id: str):
    """``pool2d`` with the sidebar's window (and its parameters, for the sidebar's operator): the
    result, or ``None`` and the library's message."""
    kwargs = settings.window_kwargs()
    if not OPERATORS[op_id].supports_dilation:
        kwargs["dilation"] = 1
    if op_id == settings.op:
        kwargs.update(settings.params)
    try:
        return pool2d(x, op_id, **kwargs), None
    except PoolingError as error:
        return None, library_text(error)


def same_shape(result, output):
    """``result``'s output when it has the shape of ``output`` (so the two can be compared), else ``None``."""
    return result.output if result is not None and result.output.shape == output.shape else None


settings, source = controls.current()
st.title(t("compare.title"))
st.caption(t("compare.caption"))
views.require_input(source)
x, channel_note = views.shown_plane(source, settings)

menus = st.columns(5)
picked = []
for number, (column, key) in enumerate(zip(menus, COMPARE_KEYS), start=1):
    with column:
        picked.append(choice_widget(st.selectbox, t("compare.slot", number=number), key))
with menus[4]:
    reference_id = choice_widget(st.selectbox, t("compare.reference"), "compare_ref")
chosen = list(dict.fromkeys(op for op in picked if op != NO_OPERATOR))
if not chosen:
    st.info(t("compare.choose"))
    st.stop()

for index in range(len(chosen)):
    views.take_click(CHART_KEY.format(index=index))
results = {op_id: pooled(op_id) for op_id in dict.fromkeys([*chosen, reference_id, "max"])}
outputs = [results[op_id][0].output for op_id in chosen if results[op_id][0] is not None]
if not outputs:
    st.error(results[chosen[0]][1])
    st.stop()
low, high = views.color_range(*outputs)
first = next(results[op_id][0] for op_id in chosen if results[op_id][0] is not None)
cell = views.selected_cell(first.output.shape)
reference = results[reference_id][0]
st.caption(t("compare.pinned", row=cell[0], col=cell[1], reference=operator_name(OPERATORS[reference_id])))

for index, (column, op_id) in enumerate(zip(st.columns(len(chosen)), chosen)):
    result, problem = results[op_id]
    name = operator_name(OPERATORS[op_id])
    with column:
        if problem:
            st.markdown(f"**{views.literal(name)}**")
            st.error(problem)
            continue
        rows, cols = result.output.shape
        fig = views.heatmap(result.output, t("compare.output_title", name=name, rows=rows, cols=cols), low, high,
                            clickable=True, show_scale=False, height=300)
        own = (min(cell[0], rows - 1), min(cell[1], cols - 1))
        figures.outline_cells(fig, [own])
        views.chart(fig, CHART_KEY.format(index=index), on_select="rerun", selection_mode=("points",))
        report = window_report(result, x, *own)
        window_fig = views.heatmap(x, t("compare.window_title", row=own[0], col=own[1], value=fmt(report.output),
                                        channel=channel_note), *views.color_range(x), show_scale=False, height=300)
        views.chart(figures.outline_window(window_fig, report), f"compare_window_{index}")
        st.code(library_text(report.text), language=None)
        reference_output = same_shape(reference, result.output)
        if reference_output is not None:
            difference = result.output - reference_output
            views.chart(views.heatmap(difference, t("compare.difference_title", reference=operator_name(
                OPERATORS[reference_id])), *views.symmetric_range(difference), colorscale=figures.DIVERGING, zmid=0,
                show_scale=False, height=300), f"compare_difference_{index}")
        else:
            st.caption(t("compare.no_difference"))

rows = []
for op_id in chosen:
    result, problem = results[op_id]
    if problem:
        continue
    output = result.output
    max_output, reference_output = same_shape(results["max"][0], output), same_shape(reference, output)
    gap = None if reference_output is None else np.abs(output - reference_output)
    equal_max = None if max_output is None else f"{100 * same_values(output, max_output).mean():.0f}%"
    rows.append({
        t("compare.column_operator"): operator_name(OPERATORS[op_id]),
        t("compare.column_size"): "x".join(map(str, output.shape)),
        t("compare.column_mean"): float(np.mean(output)),
        t("compare.column_max"): float(np.max(output)),
        t("compare.column_equal_max"): equal_max or "—",
        t("compare.column_mean_gap"): None if gap is None else float(gap.mean()),
        t("compare.column_max_gap"): None if gap is None else float(gap.max()),
    })
st.dataframe(rows, hide_index=True)
