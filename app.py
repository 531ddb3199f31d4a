"""PoolScope: see and understand pooling in convolutional networks."""

from pathlib import Path

import streamlit as st

from pages.ui import controls
from pages.ui.i18n import t

# A local icon: a Material one would be fetched from Google's servers, unreachable on a class's offline network.
st.set_page_config(page_title="PoolScope", page_icon=str(Path(__file__).parent / "assets" / "icon.png"), layout="wide")
pages = [
    st.Page("pages/explore.py", title=t("nav.explore"), icon=":material/grid_on:", default=True),
    st.Page("pages/stochastic.py", title=t("nav.stochastic"), icon=":material/casino:"),
    st.Page("pages/weights.py", title=t("nav.weights"), icon=":material/balance:"),
    st.Page("pages/gradients.py", title=t("nav.gradients"), icon=":material/undo:"),
    st.Page("pages/unpooling.py", title=t("nav.unpooling"), icon=":material/open_in_full:"),
    st.Page("pages/pyramid.py", title=t("nav.pyramid"), icon=":material/layers:"),
    st.Page("pages/shift.py", title=t("shift.nav"), icon=":material/swap_horiz:"),
    st.Page("pages/compare.py", title=t("compare.nav"), icon=":material/view_column:"),
    st.Page("pages/theory.py", title=t("theory.nav"), icon=":material/functions:"),
    st.Page("pages/exercises.py", title=t("exercises.nav"), icon=":material/school:"),
    st.Page("pages/experiment.py", title=t("experiment.nav"), icon=":material/science:"),
]
page = st.navigation(pages)
controls.draw_shared()
page.run()
