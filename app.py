"""PoolScope: see and understand pooling in convolutional networks."""

import streamlit as st

st.set_page_config(page_title="PoolScope", page_icon="🔍", layout="wide")
pages = [
    st.Page("pages/explore.py", title="Explore", icon="🔎", default=True),
]
st.navigation(pages).run()
