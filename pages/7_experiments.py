"""Experiments."""

import streamlit as st

from ui.widgets import not_built_yet

st.title("Experiments")
not_built_yet("The knowledge-update and batch-evaluation experiments", "Side-by-side answers, experiments and the decision guide")
