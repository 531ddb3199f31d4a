"""PoolScope: see and understand pooling in convolutional networks."""

from pathlib import Path

import streamlit as st

from pages.ui import controls

# A local icon: a Material one would be fetched from Google's servers, unreachable on a class's offline network.
st.set_page_config(page_title="PoolScope", page_icon=str(Path(__file__).parent / "assets" / "icon.png"), layout="wide")
pages = [
    st.Page("pages/explore.py", title="Explore", icon=":material/grid_on:", default=True),
    st.Page("pages/stochastic.py", title="Stochastic pooling", icon=":material/casino:"),
    st.Page("pages/weights.py", title="Pooling weights", icon=":material/balance:"),
    st.Page("pages/gradients.py", title="Gradient routing", icon=":material/undo:"),
    st.Page("pages/unpooling.py", title="Max unpooling", icon=":material/open_in_full:"),
    st.Page("pages/pyramid.py", title="Pyramids and neighbours", icon=":material/layers:"),
]
page = st.navigation(pages)
controls.draw_shared()
page.run()
