"""Embedding space."""

import streamlit as st

from ui.widgets import not_built_yet

st.title("Embedding space")
not_built_yet("The embedding map", "The RAG half, visible")
