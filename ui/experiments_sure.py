"""The Experiments page's "How sure?" tab: the probability each system gives the right value."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.errors import LabError
from ui.session_resources import make_answerer, pick_adapter
from ui.progress import progress_bar

ss = st.session_state


def how_sure_tab(base, retriever, qa, docs, adapters) -> None:
    from core.llm.confidence import value_probabilities
    from ui.insight_views import accuracy_probability_figure

    st.markdown("For each question, the probability each system gives the **right value** (teacher-forced on the "
                "reference answer: one forward pass, no generation). Closed book, the base model spreads its "
                "probability over many plausible values; the retrieved chunk moves it onto the right one.")
    sure_info = pick_adapter(adapters, "LoRA adapter (optional)", "exp_sure_adapter")
    n_sure = st.slider("Questions", 1, len(qa), min(len(qa), 12), key="exp_sure_n")
    if st.button("Measure the probabilities", key="exp_sure_run"):
        answerer = make_answerer(base, retriever, sure_info, qa, documents=docs)
        systems = answerer.available()
        try:
            with progress_bar("value probability", "Scoring", n_sure * len(systems)) as tick:
                ss["exp_sure_rows"] = value_probabilities(answerer, qa[:n_sure], systems, progress=tick)
        except LabError as exc:
            st.error(str(exc))
    sure_rows = ss.get("exp_sure_rows")
    if sure_rows:
        st.plotly_chart(accuracy_probability_figure(sure_rows), key="exp_sure_chart")
        table = pd.DataFrame(sure_rows).groupby("system", sort=False)["prob"].agg(["median", "mean"]).reset_index()
        st.dataframe(table.round(3), hide_index=True, key="exp_sure_table")
