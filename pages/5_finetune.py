"""LoRA fine-tuning."""

import streamlit as st

from ui.widgets import not_built_yet

st.title("LoRA fine-tuning")
not_built_yet("Live LoRA training", "The fine-tuning half")
