"""Class quiz: predict which systems will answer each question right, then reveal (predict-then-reveal)."""

from __future__ import annotations

import streamlit as st

from ui.answer_views import model_tier_notice, no_adapter_prompt
from ui.session_resources import (base_generator, corpus_choice, corpus_qa, documents_and_retriever, make_answerer,
                                  pick_adapter, saved_adapters)
from ui.entry import through_app
from ui.question_sections import question_bank_section
from ui.quiz_sections import quiz_section, saved_rounds, total_score

through_app()  # a restarted server's first runs may skip app.py (ui/entry.py)

st.title("Class quiz")
st.markdown("Before you see any answer, **predict** which systems will get each question right: the base model "
            "with no documents, RAG, and (once you have trained an adapter) LoRA and LoRA + RAG. Then reveal. "
            "Questions asked in a **held-out wording** come first: a fine-tuned model saw the fact, never this "
            "sentence. Your score goes into the session report.")
docs, retriever = documents_and_retriever()
qa = corpus_qa() or []
if not qa:
    st.info("The quiz needs questions about these documents: make them here.")
    question_bank_section(docs, retriever.chunks, prefix="quiz")
    st.stop()
base = base_generator()
model_tier_notice(base, corpus_choice())
info = pick_adapter(saved_adapters(), "LoRA adapter (from this session's fine-tuning runs)", "quiz_adapter")
if info is None:
    no_adapter_prompt()
answerer = make_answerer(base, retriever, info, qa, documents=docs)
systems = ["base", "rag"] + (["lora", "lora+rag"] if answerer.adapter is not None else [])
quiz_section(qa, answerer, systems)
if score := total_score(saved_rounds()):
    st.caption(f"This session so far: {score['right']} of {score['total']} predictions right over "
               f"{score['rounds']} round(s) ({score['share']:.0%}).")
