"""Model."""

import streamlit as st

from ui.widgets import not_built_yet

st.title("Model")
not_built_yet("The model panel", "The Lab's own world and language model")
