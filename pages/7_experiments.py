"""Experiments: knowledge update, batch evaluation (Ovadia et al. 2023, Table 2) and a forgetting check."""

from __future__ import annotations

import streamlit as st

from core.answering import Decoding
from ui.answer_views import model_tier_notice
from ui.session_resources import base_generator, corpus_choice, corpus_qa, documents_and_retriever, saved_adapters
from ui.experiments_eval import batch_evaluation_tab
from ui.experiments_forgetting import forgetting_tab
from ui.experiments_sure import how_sure_tab
from ui.experiments_update import knowledge_update_tab
from ui.question_sections import question_bank_section
from ui.state import current_corpus
from ui.entry import through_app

through_app()  # a restarted server's first runs may skip app.py (ui/entry.py)

st.title("Experiments")
st.markdown("Four experiments, all computed live: what happens when a fact **changes** (in the documents, and "
            "written straight into the weights), how the systems **score** over a whole Q&A set, how **sure** each "
            "system is of the right value, and whether fine-tuning makes the model **forget** what it knew.")
docs, retriever = documents_and_retriever()
qa = corpus_qa() or []
corpus = current_corpus()
base = base_generator()
model_tier_notice(base, corpus_choice())
adapters = saved_adapters(base)  # only adapters trained on this base model
decoding = Decoding()
if not qa:
    st.info("These experiments need a Q&A set: make one from these documents below, or pick a sample corpus "
            "(🧪 world corpora work with the built-in model).")
    question_bank_section(docs, retriever.chunks, prefix="exp")
    st.stop()

# Tracked (key): the open tab stays open when a background job starts or ends and the page reruns.
tab_update, tab_eval, tab_sure, tab_forget = st.tabs(["Knowledge update", "Batch evaluation", "How sure?",
                                                     "Forgetting check"], key="exp_tab", on_change="rerun")

with tab_update:
    knowledge_update_tab(docs, retriever, qa, base, adapters, decoding)
with tab_eval:
    batch_evaluation_tab(docs, retriever, qa, base, corpus, adapters, decoding)
with tab_sure:
    how_sure_tab(base, retriever, qa, docs, adapters)
with tab_forget:
    forgetting_tab(base, adapters, decoding)
