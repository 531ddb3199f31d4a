"""Explore: pool an input, then inspect any output cell's window and arithmetic."""

import streamlit as st

from pages.ui import controls, figures, views
from pages.ui.i18n import library_text, operator_name, operator_summary, preset_name, preset_note, t
from pages.ui.state import CHANNELS
from pooling_core.explain import window_report

OUTPUT_CHART = "output_chart"
PLAY_KEY = "play"
ROW_KEY, COLUMN_KEY = "cell_row", "cell_column"

settings, source = controls.current()
operator = settings.operator
st.title(t("explore.title"))
st.caption(t("explore.caption", name=operator_name(operator), summary=operator_summary(operator)))
preset = controls.matching_preset(settings)
preset_slot = st.empty()  # a slot of its own, for the reason given in views.require_input
if preset is not None:
    preset_slot.info(t("explore.preset", name=preset_name(preset), note=preset_note(preset)))
views.require_input(source)

x = source.array
result, problem = views.pool(x, settings)
planes = x if source.is_rgb else x[None]
all_channels = source.is_rgb and settings.channel == "all"
channel_index = CHANNELS.index(settings.channel) if source.is_rgb and not all_channels else 0


def draw_input(report):
    plane = planes[channel_index]
    pad = settings.padding if "padding" in operator.window_controls else 0
    if all_channels:
        fig = figures.rgb_image(planes, t("explore.input_rgb"))
    else:
        fig = views.heatmap(plane, t("explore.input_title", rows=plane.shape[0], cols=plane.shape[1]), zmin, zmax,
                            pad=pad, show_scale=False)
    if pad:
        figures.outline_block(fig, (-pad, plane.shape[0] - 1 + pad), (-pad, plane.shape[1] - 1 + pad))
    if report is not None:
        figures.outline_window(fig, report)
    views.chart(fig, "input_chart")


def draw_output(out, cell):
    if all_channels:
        fig = figures.rgb_image(out, t("explore.output_rgb", rows=out.shape[1], cols=out.shape[2]))
        figures.outline_cells(fig, [cell])
        views.chart(fig, "output_rgb")
        return
    plane = out[channel_index]
    fig = views.heatmap(plane, t("explore.output_title", rows=plane.shape[0], cols=plane.shape[1]), zmin, zmax,
                        clickable=True)
    figures.outline_cells(fig, [cell])
    views.chart(fig, OUTPUT_CHART, on_select="rerun", selection_mode=("points",))


def go_to_typed_cell():
    st.session_state[views.CELL_KEY] = (st.session_state[ROW_KEY], st.session_state[COLUMN_KEY])


@st.fragment(run_every=1.0 if st.session_state.get(PLAY_KEY) else None)
def inspect():
    if result is None:
        left, right = st.columns(2)
        with left:
            draw_input(None)
        with right:
            st.error(problem)
        return
    out = result.output if source.is_rgb else result.output[None]
    shape = rows, cols = out.shape[-2:]
    views.take_click(OUTPUT_CHART)
    if st.session_state.get(PLAY_KEY):
        views.step_cell(shape, +1)
    cell = views.selected_cell(shape)
    st.session_state[ROW_KEY], st.session_state[COLUMN_KEY] = cell  # a click or a step moves the inputs too
    shown = range(3) if all_channels else [channel_index]
    lead = (lambda c: (c,)) if source.is_rgb else (lambda c: ())
    reports = {c: window_report(result, x, *cell, lead=lead(c)) for c in shown}
    left, right = st.columns(2)
    with left:
        draw_input(reports[shown[0]])
    with right:
        draw_output(out, cell)

    step = st.columns(5, vertical_alignment="bottom")
    step[0].button(t("explore.previous"), key="previous", on_click=views.step_cell, args=(shape, -1),
                   use_container_width=True)
    step[1].button(t("explore.next"), key="next", on_click=views.step_cell, args=(shape, +1),
                   use_container_width=True)
    step[2].toggle(t("explore.play"), key=PLAY_KEY, help=t("explore.play_help"))
    step[3].number_input(t("explore.row"), 0, rows - 1, key=ROW_KEY, on_change=go_to_typed_cell)
    step[4].number_input(t("explore.column"), 0, cols - 1, key=COLUMN_KEY, on_change=go_to_typed_cell)
    for c, report in reports.items():
        prefix = t("explore.channel_prefix", channel=t(f"channel.{CHANNELS[c]}")) if all_channels else ""
        st.code(prefix + library_text(report.text), language=None)


zmin, zmax = views.color_range(planes) if result is None else views.color_range(planes, result.output)
inspect()

with st.expander(t("explore.formula"), expanded=True):
    st.latex(operator.formula)
    if operator.windows == "sliding":
        st.latex(views.output_size_latex(planes.shape[-2:], settings))
    st.caption(operator.citation)
