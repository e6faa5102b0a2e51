"""Decision guide."""

import streamlit as st

from ui.widgets import not_built_yet

st.title("Decision guide")
not_built_yet("The decision guide", "Side-by-side answers, experiments and the decision guide")
