"""Prompt assembly."""

import streamlit as st

from ui.widgets import not_built_yet

st.title("Prompt assembly")
not_built_yet("The prompt inspector", "The fine-tuning half")
