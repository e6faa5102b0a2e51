"""Documents & chunking."""

import streamlit as st

from ui.widgets import not_built_yet

st.title("Documents & chunking")
not_built_yet("The chunking page", "The RAG half, visible")
