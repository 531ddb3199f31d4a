"""Explore: pool an input, then inspect any output cell's window and arithmetic."""

import streamlit as st

from pages.ui import controls, predict, slides, views
from pages.ui.i18n import library_text, operator_name, operator_summary, preset_name, preset_note, t
from pages.ui.inspector.component import inspect, projector_switch
from pages.ui.state import CHANNELS, hidden
from pooling_core.explain import window_report

INSPECTOR_KEY = "inspector"
ROW_KEY, COLUMN_KEY = "cell_row", "cell_column"
PREVIOUS_KEY, NEXT_KEY = "P", "N"  # outside the inspector, which takes the arrows and the space bar

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
predicting = predict.toggle()
projector = projector_switch()
if predicting:
    settings = predict.asked_settings(settings)
result, problem = views.pool(x, settings)
planes = x if source.is_rgb else x[None]
all_channels = source.is_rgb and settings.channel == "all"
channel_index = CHANNELS.index(settings.channel) if source.is_rgb and not all_channels else 0


def go_to_typed_cell():
    st.session_state[views.CELL_KEY] = (st.session_state[ROW_KEY], st.session_state[COLUMN_KEY])


def step_cell(delta: int, rows: int, cols: int):
    """Pin the output cell ``delta`` cells on in reading order, wrapping around."""
    i, j = st.session_state.get(views.CELL_KEY, (0, 0))
    flat = (min(i, rows - 1) * cols + min(j, cols - 1) + delta) % (rows * cols)
    st.session_state[views.CELL_KEY] = divmod(flat, cols)


pad = settings.padding_ring
channel = None if all_channels or not source.is_rgb else channel_index
shown_as = dict(channel=channel, pad=pad, projector=projector)
if result is None:
    st.error(problem)
    inspect(x, None, (0, 0), views.color_range(planes), INSPECTOR_KEY, **shown_as)
else:
    rows, cols = result.output.shape[-2:]
    cell = views.selected_cell((rows, cols))
    lead = (channel_index,) if source.is_rgb else ()
    question = predict.Question(x, settings, result, lead, cell) if predicting else None
    if question is not None and not question.shape_answered():  # nothing of the output before its size
        inspect(x, None, (0, 0), views.color_range(planes), INSPECTOR_KEY, **shown_as)
        st.stop()
    predicted = question is not None and question.hidden  # its values are still to be predicted
    scale = views.color_range(planes) if predicted else views.color_range(planes, result.output)
    st.session_state[ROW_KEY], st.session_state[COLUMN_KEY] = cell  # a pin from the browser moves the inputs too
    inspect(x, result, cell, scale, INSPECTOR_KEY, hidden=t("predict.hidden") if predicted else None, **shown_as)
    typed = st.columns(4, vertical_alignment="bottom")
    typed[0].number_input(t("explore.row"), 0, rows - 1, key=ROW_KEY, on_change=go_to_typed_cell)
    typed[1].number_input(t("explore.column"), 0, cols - 1, key=COLUMN_KEY, on_change=go_to_typed_cell)
    typed[2].button(t("keys.previous"), key="step_previous", shortcut=PREVIOUS_KEY, on_click=step_cell,
                    args=(-1, rows, cols))
    typed[3].button(t("keys.next"), key="step_next", shortcut=NEXT_KEY, on_click=step_cell, args=(1, rows, cols))
    st.caption(t("explore.pinned", row=cell[0], col=cell[1]))
    shown = [] if predicted else range(3) if all_channels else [channel_index]
    for c in shown:
        report = window_report(result, x, *cell, lead=(c,) if source.is_rgb else ())
        prefix = t("explore.channel_prefix", channel=t(f"channel.{CHANNELS[c]}")) if all_channels else ""
        st.code(prefix + library_text(report.text), language=None)
    st.caption(t("keys.explore", previous=PREVIOUS_KEY, next=NEXT_KEY))
    if question is not None:
        question.ask_values()
    if not predicted:  # a picture would give the answers away
        slides.downloads(result, x, lead, cell, settings, pad)

if not hidden("formula"):
    with st.expander(t("explore.formula"), expanded=True):
        st.latex(operator.formula)
        if operator.windows == "sliding":
            st.latex(views.output_size_latex(planes.shape[-2:], settings))
        st.caption(operator.citation)
    with st.expander(t("code.title")):
        views.torch_code(settings)
