"""Explore: pool an input, then inspect any output cell's window and arithmetic."""

import streamlit as st

from pages.ui import controls, views
from pages.ui.inspector.component import inspector
from pages.ui.inspector.payload import payload
from pooling_core.explain import window_report

INSPECTOR_KEY = "inspector"
ROW_KEY, COLUMN_KEY = "cell_row", "cell_column"

settings, source = controls.sidebar()
operator = settings.operator
st.title("Explore pooling")
st.caption(f"**{operator.name}**: {operator.summary}")
preset = controls.matching_preset(settings)
preset_note = st.empty()  # a slot of its own, for the reason given in views.require_input
if preset is not None:
    preset_note.info(f"**{preset.name}.** {preset.note}")
views.require_input(source)

x = source.array
result, problem = views.pool(x, settings)
planes = x if source.is_rgb else x[None]
all_channels = source.is_rgb and settings.channel == "All three"
channel_index = controls.CHANNELS.index(settings.channel) if source.is_rgb and not all_channels else 0


def go_to_typed_cell():
    st.session_state[views.CELL_KEY] = (st.session_state[ROW_KEY], st.session_state[COLUMN_KEY])


zmin, zmax = views.color_range(planes) if result is None else views.color_range(planes, result.output)
pad = settings.padding if "padding" in operator.window_controls else 0
channel = None if all_channels or not source.is_rgb else channel_index
if result is None:
    st.error(problem)
    inspector(payload(x, None, (0, 0), (zmin, zmax), channel=channel, pad=pad), INSPECTOR_KEY)
else:
    rows, cols = result.output.shape[-2:]
    cell = views.selected_cell((rows, cols))
    st.session_state[ROW_KEY], st.session_state[COLUMN_KEY] = cell  # a pin from the browser moves the inputs too
    inspector(payload(x, result, cell, (zmin, zmax), channel=channel, pad=pad), INSPECTOR_KEY)
    typed = st.columns(4, vertical_alignment="bottom")
    typed[0].number_input("Output row", 0, rows - 1, key=ROW_KEY, on_change=go_to_typed_cell)
    typed[1].number_input("Output column", 0, cols - 1, key=COLUMN_KEY, on_change=go_to_typed_cell)
    st.caption(f"Pinned output cell ({cell[0]}, {cell[1]}):")
    shown = range(3) if all_channels else [channel_index]
    for c in shown:
        report = window_report(result, x, *cell, lead=(c,) if source.is_rgb else ())
        prefix = f"{controls.CHANNELS[c]}: " if all_channels else ""
        st.code(prefix + report.text, language=None)

with st.expander("Formula, output size and citation", expanded=True):
    st.latex(operator.formula)
    if operator.windows == "sliding":
        st.latex(views.output_size_latex(planes.shape[-2:], settings))
    st.caption(operator.citation)
