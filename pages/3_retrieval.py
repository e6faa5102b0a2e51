"""Retrieval hits."""

import streamlit as st

from ui.widgets import not_built_yet

st.title("Retrieval hits")
not_built_yet("The retrieval comparison", "The RAG half, visible")
