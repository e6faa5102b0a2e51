"""Side-by-side answers."""

import streamlit as st

from ui.widgets import not_built_yet

st.title("Side-by-side answers")
not_built_yet("Four-system answers", "Side-by-side answers, experiments and the decision guide")
